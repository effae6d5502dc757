import { randomBytes } from 'node:crypto';
import { readTomlFile } from '../config/toml.js';
import { parseAccessRule, type AccessRule } from '../protocol/access.js';
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
 * Reads a key file's pre-shared keys: TOML with `[[keys]]` tables of `id` and base64 `key`
 * (and, for a server, the optional `prefixes` and `allow` of {@link readKeyFile}, which
 * each key carries as its `rule`). A client uses the first; a file without keys is refused.
 *
 * @example
 * ```ts
 * // keys.toml:  [[keys]]\n id = "app"\n key = "…base64…"
 * loadKeyFile('keys.toml');
 * ```
 */
export function loadKeyFile(path: string): PreSharedKey[] {
  const file = readKeyFile(path);
  if (file.keys.length === 0) throw new TypeError(`${path}: expected [[keys]] entries with id and key`);
  return [...file.keys];
}

/**
 * An HTTP bearer token and RESP user (`[[tokens]]` in a key file): its `id` (the RESP
 * user name, and the `key_id` of its counters) and its secret `token`, with its rights.
 *
 * @example
 * ```ts
 * const t: AccessToken = { id: 'dashboard', token: 's3cret-at-least-16', rule: ALL_RIGHTS };
 * ```
 */
export interface AccessToken {
  readonly id: string;
  readonly token: string;
  readonly rule: AccessRule;
}

/**
 * The rights of a TLS client certificate (`[[certificates]]` in a key file): the
 * certificate whose subject's common name (CN) is `subject` gets `rule`, counted under `id`.
 *
 * @example
 * ```ts
 * const c: CertificateRule = { id: 'batch', subject: 'batch.internal', rule: ALL_RIGHTS };
 * ```
 */
export interface CertificateRule {
  readonly id: string;
  readonly subject: string;
  readonly rule: AccessRule;
}

/**
 * Everything a server's key file holds (issue 25): pre-shared keys (each with its
 * `rule`), HTTP/RESP tokens and certificate rules. Any of the three may be empty, not all.
 *
 * @example
 * ```ts
 * const { keys, tokens, certificates } = readKeyFile('keys.toml');
 * ```
 */
export interface KeyFile {
  readonly keys: readonly PreSharedKey[];
  readonly tokens: readonly AccessToken[];
  readonly certificates: readonly CertificateRule[];
}

/** Refuses two entries of `name` with the same secret (`what`): each id needs its own. */
function refuseShared(path: string, name: string, secrets: readonly string[], what: string): void {
  const first = new Map<string, number>();
  secrets.forEach((secret, i) => {
    const earlier = first.get(secret);
    if (earlier !== undefined) throw new TypeError(`${path}: ${name}[${i}] has the same ${what} as ${name}[${earlier}]: each id needs its own ${what}`);
    first.set(secret, i);
  });
}

/**
 * Ids a key file (and CONDUIT_KEY) may not use: the RESP `--resp-password` user, the
 * `--http-token` bearer, and the id a client certificate no rule names is counted under.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['default', 'http-token', 'unmatched-certificate']);

/** Fewest bytes a `[[tokens]]` token may have. */
export const MIN_TOKEN_SIZE = 16;

/** The entries of `table[name]`: an array of tables, or none when absent. */
function entriesOf(path: string, table: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const entries = table[name];
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) throw new TypeError(`${path}: ${name} must be [[${name}]] tables`);
  return entries.map((entry: unknown, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new TypeError(`${path}: ${name}[${i}] must be a table`);
    return entry as Record<string, unknown>;
  });
}

/** Fields an entry of `name` may have; any other is refused (a misspelt `prefix` must not grant every key). */
const FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  keys: new Set(['id', 'key', 'prefixes', 'allow']),
  tokens: new Set(['id', 'token', 'prefixes', 'allow']),
  certificates: new Set(['id', 'subject', 'prefixes', 'allow']),
};

/**
 * Reads a server's key file (issue 25): `[[keys]]` (`id`, base64 `key`), `[[tokens]]`
 * (`id`, `token` of at least 16 bytes) and `[[certificates]]` (`id`, `subject`: a client
 * certificate's CN), each with optional `prefixes` and `allow` ({@link parseAccessRule}).
 * Ids are unique across the file, and `default` and `http-token` are reserved. Throws a
 * `TypeError` naming the file, the entry and the field.
 *
 * @example
 * ```ts
 * // [[keys]]\n id = "app1"\n key = "…"\n prefixes = ["app1:"]\n allow = ["read", "write"]
 * readKeyFile('keys.toml').keys[0].rule.allow.has('admin'); // false
 * ```
 */
export function readKeyFile(path: string): KeyFile {
  const table = readTomlFile(path, 'key file');
  for (const name of Object.keys(table)) {
    if (FIELDS[name] === undefined) throw new TypeError(`${path}: unknown table '${name}'; a key file has [[keys]], [[tokens]] and [[certificates]]`);
  }
  const seen = new Set<string>();
  const common = (entry: Record<string, unknown>, name: string, i: number): { id: string; where: string; rule: AccessRule } => {
    const where = `${path}: ${name}[${i}]`;
    const allowed = FIELDS[name] as ReadonlySet<string>;
    for (const field of Object.keys(entry)) {
      if (!allowed.has(field)) throw new TypeError(`${where}: unknown field '${field}' (a ${name} entry has ${[...allowed].join(', ')})`);
    }
    const { id } = entry;
    if (typeof id !== 'string') throw new TypeError(`${where}: needs a string id`);
    checkId(id, where);
    if (RESERVED_IDS.has(id)) throw new TypeError(`${where}: id '${id}' is reserved`);
    if (seen.has(id)) throw new TypeError(`${where}: id '${id}' appears twice in the file`);
    seen.add(id);
    return { id, where, rule: parseAccessRule(entry, where) };
  };
  const keys = entriesOf(path, table, 'keys').map((entry, i): PreSharedKey => {
    const { id, where, rule } = common(entry, 'keys', i);
    if (typeof entry.key !== 'string') throw new TypeError(`${where}: needs a string id and a string key`);
    return { id, secret: secretOf(id, entry.key, where), rule };
  });
  const tokens = entriesOf(path, table, 'tokens').map((entry, i): AccessToken => {
    const { id, where, rule } = common(entry, 'tokens', i);
    const { token } = entry;
    if (typeof token !== 'string') throw new TypeError(`${where}: needs a string token`);
    if (Buffer.byteLength(token, 'utf8') < MIN_TOKEN_SIZE) throw new TypeError(`${where}: token must be at least ${MIN_TOKEN_SIZE} bytes (conduit-cli keygen makes one)`);
    return { id, token, rule };
  });
  const certificates = entriesOf(path, table, 'certificates').map((entry, i): CertificateRule => {
    const { id, where, rule } = common(entry, 'certificates', i);
    const { subject } = entry;
    if (typeof subject !== 'string' || subject.length === 0) throw new TypeError(`${where}: needs a non-empty string subject (the certificate's CN)`);
    return { id, subject, rule };
  });
  // One secret, one id: a limited id whose key or token also opens an unlimited one would
  // give whoever holds it the wider rights (an outside review found both accepted).
  refuseShared(path, 'keys', keys.map((k) => k.secret.toString('base64')), 'key');
  refuseShared(path, 'tokens', tokens.map((t) => t.token), 'token');
  if (keys.length + tokens.length + certificates.length === 0) {
    throw new TypeError(`${path}: expected [[keys]] entries with id and key (or [[tokens]], [[certificates]])`);
  }
  return { keys, tokens, certificates };
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
