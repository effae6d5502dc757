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

/**
 * Steps one KEYS or SCAN MATCH test may take against one key before the
 * pattern is refused as too complex (a Conduit bound, docs/RESP.md). With
 * Redis's skipLongerMatches a test takes about pattern length × key length
 * steps, and keys are at most 250 bytes: a pattern of 256 bytes always fits.
 * A longer one can cost far more (`*[` + a megabyte + `]` reads the whole
 * class at every position), which would hold the event loop for a whole
 * SCAN page of 2,048 keys; 65,536 steps is about 50 µs.
 */
export const GLOB_MAX_STEPS = 65_536;

/** The reply to a pattern {@link globTest} finds too complex (KEYS, SCAN MATCH, CONFIG GET, COMMAND LIST). */
export const ERR_PATTERN_TOO_COMPLEX = `ERR pattern too complex: more than ${GLOB_MAX_STEPS} steps to test one key`;

/** One test's state: Redis's skipLongerMatches, and the steps left. */
interface MatchState {
  skipLonger: boolean;
  steps: number;
}

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

/**
 * One level of stringmatchlen_impl; `state.skipLonger` stops retrying a `*`
 * that cannot match (Redis's CVE-2022-36021 fix); `state.steps` below 0 ends
 * the test (the caller reads it).
 */
function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, state: MatchState, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  let pl = p.length - pi;
  let sl = s.length - si;
  while (pl > 0 && sl > 0) {
    if (--state.steps < 0) return false;
    const c = p[pi] as number;
    if (c === STAR) {
      while (pl > 1 && p[pi + 1] === STAR) {
        pi++;
        pl--;
      }
      if (pl === 1) return true;
      while (sl > 0) {
        if (match(p, pi + 1, s, si, state, nesting + 1)) return true;
        if (state.skipLonger || state.steps < 0) return false;
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
        if (--state.steps < 0) return false;
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
  return match(pattern, 0, subject, 0, { skipLonger: false, steps: Number.POSITIVE_INFINITY }, 0);
}

/**
 * {@link globMatch} within {@link GLOB_MAX_STEPS}: `'too_complex'` when the
 * test would take more (KEYS and SCAN then refuse the pattern rather than
 * answer without the keys it could not test).
 *
 * @example
 * ```ts
 * globTest(Buffer.from('user:*'), Buffer.from('user:1')); // true
 * globTest(Buffer.from(`*[${'b'.repeat(1000)}]`), Buffer.alloc(250, 'a')); // 'too_complex'
 * ```
 */
export function globTest(pattern: Uint8Array, subject: Uint8Array): boolean | 'too_complex' {
  const state: MatchState = { skipLonger: false, steps: GLOB_MAX_STEPS };
  const matched = match(pattern, 0, subject, 0, state, 0);
  return state.steps < 0 ? 'too_complex' : matched;
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
