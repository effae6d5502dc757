import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { MAX_KEY_ID_SIZE, PSK_SIZE, type PreSharedKey } from './handshake.js';

function checkId(id: string, where: string): void {
  const size = Buffer.byteLength(id, 'utf8');
  if (size < 1 || size > MAX_KEY_ID_SIZE) throw new TypeError(`${where}: key id must be 1 to ${MAX_KEY_ID_SIZE} bytes, got ${size}`);
}

function secretOf(base64: string, where: string): Buffer {
  const secret = Buffer.from(base64, 'base64');
  if (secret.length !== PSK_SIZE || secret.toString('base64') !== base64.replace(/\s/g, '')) {
    throw new TypeError(`${where}: key must be ${PSK_SIZE} bytes in base64 (conduit-cli keygen makes one)`);
  }
  return secret;
}

/**
 * Parses `id:base64` (the `CONDUIT_KEY` form); throws a `TypeError` saying what is wrong.
 *
 * @example
 * ```ts
 * parseKeySpec('app:' + generateKey()).id; // 'app'
 * ```
 */
export function parseKeySpec(spec: string, where = 'CONDUIT_KEY'): PreSharedKey {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0) throw new TypeError(`${where}: expected id:base64-key`);
  const id = spec.slice(0, colon);
  checkId(id, where);
  return { id, secret: secretOf(spec.slice(colon + 1), where) };
}

/**
 * Reads a key file: TOML with `[[keys]]` tables of `id` and base64 `key`.
 *
 * @example
 * ```ts
 * // keys.toml:  [[keys]]\n id = "app"\n key = "…base64…"
 * loadKeyFile('keys.toml');
 * ```
 */
export function loadKeyFile(path: string): PreSharedKey[] {
  let table: Record<string, unknown>;
  try {
    table = parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new TypeError(`cannot read key file ${path}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const entries = table.keys;
  if (!Array.isArray(entries) || entries.length === 0) throw new TypeError(`${path}: expected [[keys]] entries with id and key`);
  const seen = new Set<string>();
  return entries.map((entry: unknown, i) => {
    const where = `${path}: keys[${i}]`;
    const { id, key } = (entry ?? {}) as { id?: unknown; key?: unknown };
    if (typeof id !== 'string' || typeof key !== 'string') throw new TypeError(`${where}: needs a string id and a string key`);
    checkId(id, where);
    if (seen.has(id)) throw new TypeError(`${where}: key id '${id}' appears twice`);
    seen.add(id);
    return { id, secret: secretOf(key, where) };
  });
}

/**
 * A fresh random 32-byte key in base64 (`conduit-cli keygen`).
 *
 * @example
 * ```ts
 * const key = generateKey(); // e.g. 'q3Xh…=' (44 characters)
 * ```
 */
export function generateKey(): string {
  return randomBytes(PSK_SIZE).toString('base64');
}
