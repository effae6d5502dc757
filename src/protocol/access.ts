/**
 * Access classes (spec §3.17, protocol 1.4): what each operation needs of the
 * identity that sends it, so a key id (secure mode), an HTTP token, a RESP
 * user or a TLS client certificate may be limited to some operations and
 * some key prefixes. The classes are the protocol's; who holds which rights
 * is the server's configuration (docs: README "Sharing one cache between apps").
 *
 * @module
 */
import type { RequestOp } from './request-reader.js';

/**
 * The three classes of operation (spec §3.17): `read` (values, expiries and
 * key names), `write` (changes to keys), `admin` (the whole server: FLUSH,
 * SHUTDOWN, RELOAD, server-wide STATS).
 */
export type AccessClass = 'read' | 'write' | 'admin';

/** Every class, in the order messages and STATS list them. */
export const ACCESS_CLASSES: readonly AccessClass[] = ['read', 'write', 'admin'];

/**
 * Why a request was refused FORBIDDEN (spec §3.17): a class its identity
 * lacks, or `prefix`, a key (or TRACKING prefix) outside its prefixes. The
 * label of `conduit_forbidden_total{key_id, reason}`.
 */
export type ForbiddenReason = AccessClass | 'prefix';

/** Every reason, in the order STATS lists them. */
export const FORBIDDEN_REASONS: readonly ForbiddenReason[] = ['read', 'write', 'admin', 'prefix'];

/**
 * One identity's rights as configured: `prefixes`, the key prefixes it may
 * touch (as bytes; `undefined`: every key; an empty list: none), and
 * `allow`, its classes.
 *
 * @example
 * ```ts
 * const rule: AccessRule = { prefixes: [Buffer.from('app1:')], allow: new Set(['read', 'write']) };
 * ```
 */
export interface AccessRule {
  readonly prefixes: readonly Buffer[] | undefined;
  readonly allow: ReadonlySet<AccessClass>;
}

/** The rule of an identity with every right: every class, every key (plaintext mode's, and a key file entry without `prefixes` or `allow`). */
export const ALL_RIGHTS: AccessRule = Object.freeze({ prefixes: undefined, allow: new Set<AccessClass>(ACCESS_CLASSES) });

/**
 * How an operation meets the prefixes (spec §3.17): `key`, its one key must
 * be inside them; `filter`, its answer (LIST, SCAN) holds only keys inside
 * them; `prefixes`, every prefix it names (TRACKING in PREFIXES mode) must
 * lie inside one of them; `none`, it names no key.
 */
export type KeyScope = 'key' | 'filter' | 'prefixes' | 'none';

/**
 * What one operation needs (spec §3.17): every class in `classes` (none for
 * the connection-level operations), and how its keys meet the prefixes.
 */
export interface AccessNeed {
  readonly classes: readonly AccessClass[];
  readonly keys: KeyScope;
  /** `admin` alone also suffices (STATS: an operator's identity gets the server-wide object, read or not). */
  readonly orAdmin: boolean;
}

const need = (classes: readonly AccessClass[], keys: KeyScope, orAdmin = false): AccessNeed => Object.freeze({ classes: Object.freeze(classes), keys, orAdmin });

/**
 * The table of spec §3.17: every operation's classes and key scope. A quiet
 * write (§2.5) needs what its operation needs; a SET with CAS or a lease
 * token (§3.11, §3.16) is a write. GAT and LEASE read a value and change the
 * key (its expiry; a lease that holds off other writers), so they need both.
 * INCR answers the new value but is a write, as in Redis. STATS needs read
 * or admin: admin answers the server's STATS, read alone the identity's own counters.
 */
export const ACCESS_NEEDS: Readonly<Record<RequestOp | 'RELOAD', AccessNeed>> = Object.freeze({
  GET: need(['read'], 'key'),
  GETS: need(['read'], 'key'),
  TTL: need(['read'], 'key'),
  LIST: need(['read'], 'filter'),
  SCAN: need(['read'], 'filter'),
  TRACKING: need(['read'], 'prefixes'),
  STATS: need(['read'], 'none', true),
  SET: need(['write'], 'key'),
  DELETE: need(['write'], 'key'),
  INCR: need(['write'], 'key'),
  RENEW: need(['write'], 'key'),
  GAT: need(['read', 'write'], 'key'),
  LEASE: need(['read', 'write'], 'key'),
  FLUSH: need(['admin'], 'none'),
  SHUTDOWN: need(['admin'], 'none'),
  RELOAD: need(['admin'], 'none'),
  HEALTH: need([], 'none'),
  CAPS: need([], 'none'),
  TOPOLOGY: need([], 'none'),
  HELLO: need([], 'none'),
});

/**
 * Parses a key file entry's `allow` (TOML: an array of class names) and
 * `prefixes` (an array of strings, each 0–250 bytes of UTF-8; "" is every
 * key) into an {@link AccessRule}; a missing field means all. Throws a
 * `TypeError` naming `where` and the field.
 *
 * @example
 * ```ts
 * parseAccessRule({ prefixes: ['app1:'], allow: ['read'] }, 'keys.toml: keys[0]').allow.has('write'); // false
 * ```
 */
export function parseAccessRule(entry: { readonly prefixes?: unknown; readonly allow?: unknown }, where: string): AccessRule {
  const { prefixes, allow } = entry;
  let allowed: Set<AccessClass> = new Set(ACCESS_CLASSES);
  if (allow !== undefined) {
    if (!Array.isArray(allow)) throw new TypeError(`${where}: allow must be an array of "read", "write", "admin"`);
    allowed = new Set();
    for (const item of allow as unknown[]) {
      if (item !== 'read' && item !== 'write' && item !== 'admin') {
        throw new TypeError(`${where}: allow has ${JSON.stringify(item)}; the classes are "read", "write" and "admin"`);
      }
      allowed.add(item);
    }
  }
  let bytes: Buffer[] | undefined;
  if (prefixes !== undefined) {
    if (!Array.isArray(prefixes)) throw new TypeError(`${where}: prefixes must be an array of strings`);
    if (prefixes.length > MAX_PREFIXES) throw new TypeError(`${where}: prefixes has ${prefixes.length} entries, at most ${MAX_PREFIXES}`);
    bytes = (prefixes as unknown[]).map((p, i) => {
      if (typeof p !== 'string') throw new TypeError(`${where}: prefixes[${i}] must be a string`);
      const b = Buffer.from(p, 'utf8');
      if (b.length > MAX_PREFIX_SIZE) throw new TypeError(`${where}: prefixes[${i}] is ${b.length} bytes, at most ${MAX_PREFIX_SIZE} (the longest key)`);
      return b;
    });
  }
  return Object.freeze({ prefixes: bytes, allow: allowed });
}

/** Most prefixes one rule may list (each request checks them in turn). */
export const MAX_PREFIXES = 64;

/** Longest prefix: a key's longest length (spec §3.1). */
export const MAX_PREFIX_SIZE = 250;
