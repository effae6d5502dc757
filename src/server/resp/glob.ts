/**
 * Redis's glob patterns (util.c `stringmatchlen`) for KEYS and SCAN MATCH,
 * and CONFIG GET: `*`, `?`, `[abc]`, `[^a-z]`, `\` escapes, compared byte by
 * byte, with Redis's guard against exponential backtracking.
 *
 * @example
 * ```ts
 * globMatch(Buffer.from('user:*'), Buffer.from('user:42')); // true
 * ```
 * @module
 */

/** Redis 7.2's bound on `*` recursion: past it the pattern does not match (no stack overflow). */
const MAX_NESTING = 1000;

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

/** A C `char`'s value as x86 reads it (signed), for `[a-z]` ranges exactly as Redis compares them. */
function signed(byte: number | undefined): number {
  return byte === undefined ? 0 : (byte << 24) >> 24;
}

/** One level of stringmatchlen_impl; `state.skipLonger` stops retrying a `*` that cannot match (Redis's CVE-2022-36021 fix). */
function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, state: { skipLonger: boolean }, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  let pl = p.length - pi;
  let sl = s.length - si;
  while (pl > 0 && sl > 0) {
    const c = p[pi] as number;
    if (c === STAR) {
      while (pl > 1 && p[pi + 1] === STAR) {
        pi++;
        pl--;
      }
      if (pl === 1) return true;
      while (sl > 0) {
        if (match(p, pi + 1, s, si, state, nesting + 1)) return true;
        if (state.skipLonger) return false;
        si++;
        sl--;
      }
      state.skipLonger = true;
      return false;
    } else if (c === QUESTION) {
      si++;
      sl--;
    } else if (c === OPEN) {
      pi++;
      pl--;
      const not = p[pi] === CARET;
      if (not) {
        pi++;
        pl--;
      }
      let matched = false;
      for (;;) {
        if (pl >= 2 && p[pi] === BACKSLASH) {
          pi++;
          pl--;
          if (p[pi] === s[si]) matched = true;
        } else if (pl > 0 && p[pi] === CLOSE) {
          break;
        } else if (pl <= 0) {
          // An unclosed class: Redis steps back so the outer loop ends.
          pi--;
          pl++;
          break;
        } else if (pl >= 3 && p[pi + 1] === DASH) {
          let start = signed(p[pi]);
          let end = signed(p[pi + 2]);
          if (start > end) [start, end] = [end, start];
          const ch = signed(s[si]);
          pi += 2;
          pl -= 2;
          if (ch >= start && ch <= end) matched = true;
        } else if (p[pi] === s[si]) {
          matched = true;
        }
        pi++;
        pl--;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
      sl--;
    } else {
      if (c === BACKSLASH && pl >= 2) {
        pi++;
        pl--;
      }
      if (p[pi] !== s[si]) return false;
      si++;
      sl--;
    }
    pi++;
    pl--;
    if (sl === 0) {
      while (pl > 0 && p[pi] === STAR) {
        pi++;
        pl--;
      }
      break;
    }
  }
  return pl === 0 && sl === 0;
}

/**
 * True when `subject` matches the Redis glob `pattern`.
 *
 * @example
 * ```ts
 * globMatch(Buffer.from('h[ae]llo'), Buffer.from('hallo')); // true
 * globMatch(Buffer.from('h\\*'), Buffer.from('hx')); // false: the star is escaped
 * ```
 */
export function globMatch(pattern: Uint8Array, subject: Uint8Array): boolean {
  return match(pattern, 0, subject, 0, { skipLonger: false }, 0);
}

/**
 * The literal bytes `pattern` begins with, before its first `*`, `?`, `[`
 * or `\`: every match starts with them, so the store can look only at keys
 * with that prefix. `exact` is true when the pattern has no glob character
 * at all (it matches only itself).
 *
 * @example
 * ```ts
 * literalPrefix(Buffer.from('user:*')); // { prefix: <'user:'>, exact: false }
 * ```
 */
export function literalPrefix(pattern: Uint8Array): { prefix: Uint8Array; exact: boolean } {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === STAR || c === QUESTION || c === OPEN || c === BACKSLASH) return { prefix: pattern.subarray(0, i), exact: false };
  }
  return { prefix: pattern, exact: true };
}
