/**
 * Expiry arguments as Redis 7.0 reads them (t_string.c
 * `getExpireMillisecondsOrReply`, expire.c `expireGenericCommand`), turned
 * into what the store takes: milliseconds from now on its monotonic clock.
 * An absolute time (EXAT, PXAT, EXPIREAT) is read against `Date.now()`.
 *
 * @example
 * ```ts
 * const ttl = setExpiry(Buffer.from('10'), 'seconds', false, 'set', Date.now()); // 10_000
 * ```
 * @module
 */
import { MAX_TTL_MS } from '../../protocol/constants.js';
import { ERR_NOT_INTEGER, ERR_TTL_LIMIT, invalidExpireTime, LLONG_MAX, LLONG_MIN, parseInteger } from './args.js';

/** The unit an expiry argument is given in. */
export type ExpireUnit = 'seconds' | 'ms';

/**
 * What an expiry argument asks for: a TTL in ms from now (≥ 1, within
 * MAX_TTL_MS), {@link EXPIRED} (a time already past: the key goes, as in
 * Redis), or an error reply's text.
 */
export type Expiry = number | { readonly error: string };

/** An absolute time that is already past: the command deletes the key. (Not 0, which the store reads as "no expiry".) */
export const EXPIRED = -1;

/**
 * SET / SETEX / PSETEX / GETEX's expiry: a positive integer (Redis's
 * `invalid expire time in '<command>' command` for ≤ 0 or an i64 overflow),
 * relative to now or an absolute Unix time.
 *
 * @example
 * ```ts
 * setExpiry(Buffer.from('0'), 'seconds', false, 'set', Date.now()); // { error: "ERR invalid expire time in 'set' command" }
 * ```
 */
export function setExpiry(raw: Uint8Array, unit: ExpireUnit, absolute: boolean, command: string, now: number): Expiry {
  const given = parseInteger(raw);
  if (given === undefined) return { error: ERR_NOT_INTEGER };
  if (given <= 0n || (unit === 'seconds' && given > LLONG_MAX / 1000n)) return { error: invalidExpireTime(command) };
  const ms = unit === 'seconds' ? given * 1000n : given;
  // Redis adds mstime() to a relative time and calls a wrapped sum invalid.
  if (!absolute && ms > LLONG_MAX - BigInt(now)) return { error: invalidExpireTime(command) };
  return remaining(absolute ? ms - BigInt(now) : ms);
}

/**
 * EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT's time: any i64 (a time not in
 * the future deletes the key), `invalid expire time in '<command>' command`
 * only when the unit conversion or the addition of now overflows. Returns
 * the absolute Unix time in ms as well, for NX / XX / GT / LT.
 *
 * @example
 * ```ts
 * expireAt(Buffer.from('-1'), 'seconds', false, 'expire', Date.now()); // { ttl: EXPIRED, at: now - 1000 }
 * ```
 */
export function expireAt(
  raw: Uint8Array,
  unit: ExpireUnit,
  absolute: boolean,
  command: string,
  now: number,
): { readonly ttl: number; readonly at: bigint } | { readonly error: string } {
  const given = parseInteger(raw);
  if (given === undefined) return { error: ERR_NOT_INTEGER };
  let when = given;
  if (unit === 'seconds') {
    // C's LLONG_MIN / 1000 truncates toward zero, as BigInt division does.
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) return { error: invalidExpireTime(command) };
    when *= 1000n;
  }
  const base = absolute ? 0n : BigInt(now);
  if (when > LLONG_MAX - base) return { error: invalidExpireTime(command) };
  when += base;
  const ttl = remaining(when - BigInt(now));
  return typeof ttl === 'number' ? { ttl, at: when } : ttl;
}

/** A remaining time in ms as an {@link Expiry}: past, within the store's limit, or over it. */
function remaining(ms: bigint): Expiry {
  if (ms <= 0n) return EXPIRED;
  if (ms > BigInt(MAX_TTL_MS)) return { error: ERR_TTL_LIMIT };
  return Number(ms);
}
