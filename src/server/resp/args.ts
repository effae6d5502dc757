/**
 * What every RESP command checks in its arguments (docs/RESP.md): key
 * lengths, Redis's strict integers, case-blind option names, and Redis 7.0's
 * error texts, in one place so each text is spelled once.
 *
 * @example
 * ```ts
 * const n = parseInteger(args[2]);
 * if (n === undefined) return out.error(ERR_NOT_INTEGER);
 * ```
 * @module
 */
import { MAX_KEY_SIZE, MAX_TTL_MS } from '../../protocol/constants.js';
import type { RespWriter } from '../../protocol/resp-writer.js';
import type { Store, WriteOutcome } from '../../store/store.js';

/** Redis's `shared.syntaxerr`. */
export const ERR_SYNTAX = 'ERR syntax error';
/** Redis's text for any integer argument that is not one (string2ll). */
export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
/** docs/RESP.md: Conduit keys are 1 to 250 bytes; Redis takes any length. */
export const ERR_KEY_LENGTH = `ERR invalid key length: Conduit keys are 1 to ${MAX_KEY_SIZE} bytes`;
/** docs/RESP.md: the store holds expiries up to MAX_TTL_MS; Redis takes any i64. */
export const ERR_TTL_LIMIT = `ERR expire time exceeds Conduit's limit of ${MAX_TTL_MS} ms`;
/** The store's `too_large`: the item needs more than the whole budget. */
export const ERR_TOO_LARGE = 'ERR value too large for --max-memory';
/** The store's `out_of_memory` (eviction none): Redis's own text. */
export const ERR_OOM = "OOM command not allowed when used memory > 'maxmemory'.";
/** Redis's `shared.noautherr`. */
export const ERR_NOAUTH = 'NOAUTH Authentication required.';
/** Redis's `addAuthErrReply` text. */
export const ERR_WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/**
 * Redis's `addReplyErrorExpireTime`, naming the command.
 *
 * @example
 * ```ts
 * invalidExpireTime('set'); // "ERR invalid expire time in 'set' command"
 * ```
 */
export function invalidExpireTime(command: string): string {
  return `ERR invalid expire time in '${command}' command`;
}

/**
 * Redis's `addReplyErrorArity`, naming the command by its full name.
 *
 * @example
 * ```ts
 * wrongArity('client|setname'); // "ERR wrong number of arguments for 'client|setname' command"
 * ```
 */
export function wrongArity(command: string): string {
  return `ERR wrong number of arguments for '${command}' command`;
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/**
 * `bytes` as Redis's string2ll reads an i64: optional `-`, digits without
 * leading zeros (`0` alone), at most 20 characters, in range; anything else
 * (spaces, `+`, `-0`, `1.0`) is `undefined`.
 *
 * @example
 * ```ts
 * parseInteger(Buffer.from('-42')); // -42n
 * parseInteger(Buffer.from('042')); // undefined
 * ```
 */
export function parseInteger(bytes: Uint8Array): bigint | undefined {
  const length = bytes.length;
  if (length === 0 || length > 20) return undefined;
  let i = 0;
  const negative = bytes[0] === 0x2d;
  if (negative) i = 1;
  if (i === length) return undefined;
  const first = bytes[i] as number;
  if (first === 0x30) {
    // '0' alone only: Redis refuses '-0' and leading zeros.
    return length === 1 ? 0n : undefined;
  }
  if (first < 0x31 || first > 0x39) return undefined;
  for (let j = i + 1; j < length; j++) {
    const c = bytes[j] as number;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const value = BigInt(Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1'));
  return value < I64_MIN || value > I64_MAX ? undefined : value;
}

/** C's LLONG_MIN, for overflow checks made as Redis makes them (`n === LLONG_MIN`). */
export const LLONG_MIN = I64_MIN;
/** C's LLONG_MAX (`when > LLONG_MAX - now` is Redis's overflow test). */
export const LLONG_MAX = I64_MAX;

/**
 * True when `bytes` spells `word` (lower case ASCII) in any case, as Redis's
 * `strcasecmp` compares option names.
 *
 * @example
 * ```ts
 * isWord(Buffer.from('Ex'), 'ex'); // true
 * ```
 */
export function isWord(bytes: Uint8Array | undefined, word: string): boolean {
  if (bytes === undefined || bytes.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let c = bytes[i] as number;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when `key` is a Conduit key (1–250 bytes); otherwise queues
 * {@link ERR_KEY_LENGTH} and returns false.
 *
 * @example
 * ```ts
 * if (!checkKey(args[1], out)) return;
 * ```
 */
export function checkKey(key: Uint8Array, out: RespWriter): boolean {
  if (key.length >= 1 && key.length <= MAX_KEY_SIZE) return true;
  out.error(ERR_KEY_LENGTH);
  return false;
}

/**
 * {@link checkKey} of every argument from `from` on, stepping by `step`: all
 * are checked before anything runs, so a bad key changes nothing.
 *
 * @example
 * ```ts
 * if (!checkKeys(args, 1, 2, out)) return; // MSET's keys: args[1], args[3], …
 * ```
 */
export function checkKeys(args: readonly Uint8Array[], from: number, step: number, out: RespWriter): boolean {
  for (let i = from; i < args.length; i += step) {
    if (!checkKey(args[i] as Uint8Array, out)) return false;
  }
  return true;
}

/**
 * Queues the error for a refused store write and returns true, or returns
 * false for `'stored'` / `'not_stored'` (the caller answers those).
 *
 * @example
 * ```ts
 * const outcome = store.set(key, value);
 * if (!refused(outcome, out)) out.simple('OK');
 * ```
 */
export function refused(outcome: WriteOutcome | 'too_large' | 'out_of_memory', out: RespWriter): boolean {
  if (outcome === 'too_large') out.error(ERR_TOO_LARGE);
  else if (outcome === 'out_of_memory') out.error(ERR_OOM);
  else return false;
  return true;
}

/**
 * True when `key` holds a live value, without counting a keyspace hit or
 * miss or touching its recency (EXISTS, TYPE, NX checks).
 *
 * @example
 * ```ts
 * if (isLive(ctx.store, key)) return out.integer(0);
 * ```
 */
export function isLive(store: Store, key: Uint8Array): boolean {
  return store.ttl(key) !== undefined;
}
