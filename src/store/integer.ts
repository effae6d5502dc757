/**
 * The counters INCR keeps (spec §3.8): ASCII decimal, like Redis, read back
 * only in their canonical form.
 *
 * @example
 * ```ts
 * counterValue(Buffer.from('-42')); // -42n
 * counterValue(Buffer.from('042')); // undefined: not canonical
 * ```
 * @module
 */
import { I64_MAX, I64_MIN } from '../protocol/validate.js';

/** spec §3.8: the canonical decimal form of an i64 (no sign on zero, no leading zeros). */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;

/**
 * The i64 a stored value holds, or `undefined` when it is not the canonical
 * decimal form of one (spec §3.8: INCR answers NOT_INTEGER then).
 *
 * @example
 * ```ts
 * counterValue(Buffer.from('9223372036854775808')); // undefined: past the i64 range
 * ```
 */
export function counterValue(value: Buffer): bigint | undefined {
  const text = value.toString('latin1');
  if (!CANONICAL_INTEGER.test(text)) return undefined;
  const n = BigInt(text);
  return n < I64_MIN || n > I64_MAX ? undefined : n;
}
