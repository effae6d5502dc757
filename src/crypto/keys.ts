import { randomBytes } from 'node:crypto';
import { readTomlFile } from '../config/toml.js';
import { MAX_KEY_ID_SIZE, PSK_SIZE, type PreSharedKey } from './handshake.js';

function checkId(id: string, where: string): void {
  const size = Buffer.byteLength(id, 'utf8');
  if (size < 1 || size > MAX_KEY_ID_SIZE) throw new TypeError(`${where}: key id must be 1 to ${MAX_KEY_ID_SIZE} bytes, got ${size}`);
}

/** Fewest distinct byte values a 32-byte key may hold (see {@link checkKeyStrength}). */
export const MIN_DISTINCT_KEY_BYTES = 8;

/**
 * Refuses a pre-shared key that is obviously not random: fewer than 8
 * distinct byte values among its 32 (all zero, all one value, a short
 * pattern repeated, a typed word padded out). 32 random bytes have about 28
 * distinct values, and fewer than 8 happens by chance with probability
 * below 10^-20, so no key from `conduit-cli keygen` is ever refused. Throws
 * a `TypeError` naming the key id and `where` it came from.
 *
 * @example
 * ```ts
 * checkKeyStrength('app', Buffer.alloc(32), 'CONDUIT_KEY'); // throws: all 32 bytes are 0x00
 * ```
 */
export function checkKeyStrength(id: string, secret: Uint8Array, where: string): void {
  const distinct = new Set(secret).size;
  if (distinct < MIN_DISTINCT_KEY_BYTES) {
    const what = distinct === 1 ? `all ${secret.length} bytes are 0x${(secret[0] ?? 0).toString(16).padStart(2, '0')}` : `it has only ${distinct} distinct byte values`;
    throw new TypeError(
      `${where}: key '${id}' is too weak: ${what} (a key needs at least ${MIN_DISTINCT_KEY_BYTES} distinct byte values in ${PSK_SIZE}); ` +
        'make a random one with conduit-cli keygen',
    );
  }
}

function secretOf(id: string, base64: string, where: string): Buffer {
  const secret = Buffer.from(base64, 'base64');
  if (secret.length !== PSK_SIZE || secret.toString('base64') !== base64.replace(/\s/g, '')) {
    throw new TypeError(`${where}: key must be ${PSK_SIZE} bytes in base64 (conduit-cli keygen makes one)`);
  }
  checkKeyStrength(id, secret, where);
  return secret;
}

/**
 * Parses `id:base64` (the `CONDUIT_KEY` form); throws a `TypeError` saying what is wrong,
 * a weak key included ({@link checkKeyStrength}).
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
  return { id, secret: secretOf(id, spec.slice(colon + 1), where) };
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
  const table = readTomlFile(path, 'key file');
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
    return { id, secret: secretOf(id, key, where) };
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
