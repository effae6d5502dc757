/**
 * The checks of program input that the request encoder, the store and the
 * HTTP gateway share, written once so that the same check fails the same
 * way everywhere: a {@link ConduitError} with code `BAD_REQUEST` and one
 * message. (Wire input is checked by `parseRequest`, which returns errors
 * instead of throwing and keeps its own messages: they are bytes on the wire.)
 *
 * Internal: not exported from the package root.
 *
 * @example
 * ```ts
 * checkKey(key);     // throws ConduitError BAD_REQUEST unless 1–250 bytes
 * checkTtl(ttlMs);   // throws unless an integer from 0 to MAX_TTL_MS
 * ```
 * @module
 */
import { ConduitError } from './errors.js';
import { MAX_KEY_SIZE, MAX_TTL_MS } from './constants.js';

/**
 * spec §3.8: the smallest i64, the range of INCR's delta and stored counters.
 *
 * @example
 * ```ts
 * delta >= I64_MIN && delta <= I64_MAX;
 * ```
 */
export const I64_MIN = -(1n << 63n);
/**
 * spec §3.8: the largest i64.
 *
 * @example
 * ```ts
 * I64_MAX.toString(); // '9223372036854775807'
 * ```
 */
export const I64_MAX = (1n << 63n) - 1n;

/**
 * The error for a key (or a key-like field, `what`) of `length` bytes, or
 * `undefined` when it is 1–250 bytes (spec §3.1).
 *
 * @example
 * ```ts
 * keyLengthError(0)?.message; // 'key must be 1 to 250 bytes, got 0'
 * ```
 */
export function keyLengthError(length: number, what = 'key'): ConduitError | undefined {
  if (length !== 0 && length <= MAX_KEY_SIZE) return undefined;
  return new ConduitError('BAD_REQUEST', `${what} must be 1 to ${MAX_KEY_SIZE} bytes, got ${length}`);
}

/**
 * Throws `BAD_REQUEST` unless `key` is 1–250 bytes (spec §3.1). The test is
 * inline and the error built only on failure: the store runs this on every
 * operation.
 *
 * @example
 * ```ts
 * checkKey(Buffer.alloc(251)); // throws ConduitError BAD_REQUEST
 * ```
 */
export function checkKey(key: Uint8Array, what = 'key'): void {
  if (key.length === 0 || key.length > MAX_KEY_SIZE) throw keyLengthError(key.length, what) as ConduitError;
}

/**
 * Throws `BAD_REQUEST` unless `length` bytes of `source` from `start` are a
 * valid key (1–250 bytes, spec §3.1) lying inside `source`: {@link checkKey}
 * for a key given by its position (the store's `getAt`, `setAt`).
 *
 * @example
 * ```ts
 * checkRange(body, 6, 251); // throws ConduitError BAD_REQUEST
 * ```
 */
export function checkRange(source: Uint8Array, start: number, length: number, what = 'key'): void {
  if (length === 0 || length > MAX_KEY_SIZE) throw keyLengthError(length, what) as ConduitError;
  if (!(start >= 0 && start + length <= source.length)) {
    throw new ConduitError('BAD_REQUEST', `${what} of ${length} bytes from ${start} is not inside its ${source.length}-byte source`);
  }
}

/**
 * Throws `BAD_REQUEST` unless `ttlMs` is an integer from 0 to
 * {@link MAX_TTL_MS}, what a `ttl_ms u32` carries (spec §3.3, §3.6, §3.8).
 *
 * @example
 * ```ts
 * checkTtl(-1); // throws ConduitError BAD_REQUEST
 * ```
 */
export function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_TTL_MS) {
    throw new ConduitError('BAD_REQUEST', `ttlMs must be an integer from 0 to ${MAX_TTL_MS}, got ${ttlMs}`);
  }
}
