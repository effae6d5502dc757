/**
 * Redis glob patterns (src/server/resp/glob.ts) against Redis 7.0.15's own
 * KEYS answers: each pattern below was run on Debian's redis-server over
 * these keys (Latin-1 strings: one character, one byte), and the expected
 * lists are its replies, sorted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GLOB_MAX_STEPS, globMatch, globTest, literalPrefix } from '../../src/server/resp/glob.js';
import { makeHarness, type Harness } from '../support/resp-harness.js';

const KEYS = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo", "h\\llo", "a", "ab", "abc", "b", "-", "]", "[", "^", "a-b", "zz", "\u00e9t\u00e9", "A", "Z", "aZ"];

/** [pattern, the keys Redis 7.0.15's KEYS answered]. */
const CASES: [string, string[]][] = [
  ["*", ["-", "A", "Z", "[", "]", "^", "a", "a-b", "aZ", "ab", "abc", "b", "h*llo", "h?llo", "h[a]llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "zz", "\u00e9t\u00e9"]],
  ["h?llo", ["h*llo", "h?llo", "h\\llo", "hallo", "hello", "hxllo"]],
  ["h*llo", ["h*llo", "h?llo", "h[a]llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["h[ae]llo", ["hallo", "hello"]],
  ["h[^e]llo", ["h*llo", "h?llo", "h\\llo", "hallo", "hxllo"]],
  ["h[a-b]llo", ["hallo"]],
  ["h\\*llo", ["h*llo"]],
  ["h\\?llo", ["h?llo"]],
  ["h[\\]]llo", []],
  ["[", []],
  ["[a", ["a"]],
  ["a[", []],
  ["[]", []],
  ["[^]", ["-", "A", "Z", "[", "]", "^", "a", "b"]],
  ["[a-]", ["]", "^", "a"]],
  ["[-a]", ["-", "a"]],
  ["[z-a]", ["a", "b"]],
  ["a*", ["a", "a-b", "aZ", "ab", "abc"]],
  ["*b*", ["a-b", "ab", "abc", "b"]],
  ["*c", ["abc"]],
  ["?", ["-", "A", "Z", "[", "]", "^", "a", "b"]],
  ["??", ["aZ", "ab", "zz"]],
  ["???", ["a-b", "abc", "\u00e9t\u00e9"]],
  ["\\", []],
  ["h\\\\llo", ["h\\llo"]],
  ["[\\\\]", []],
  ["h[*]llo", ["h*llo"]],
  ["*llo", ["h*llo", "h?llo", "h[a]llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["h**o", ["h*llo", "h?llo", "h[a]llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]],
  ["**", ["-", "A", "Z", "[", "]", "^", "a", "a-b", "aZ", "ab", "abc", "b", "h*llo", "h?llo", "h[a]llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "zz", "\u00e9t\u00e9"]],
  ["[^a]", ["-", "A", "Z", "[", "]", "^", "b"]],
  ["[!a]", ["a"]],
  ["[A-Z]", ["A", "Z"]],
  ["[a-Z]", ["Z", "[", "]", "^", "a"]],
  ["[\u00e0-\u00ff]t?", ["\u00e9t\u00e9"]],
  ["\u00e9*", ["\u00e9t\u00e9"]],
  ["a\\", []],
  ["[]]", []],
  ["[^]a]", []],
  ["x*", []],
];

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

describe('globMatch', () => {
  it.each(CASES)('%j matches what Redis matched', (pattern, expected) => {
    expect(KEYS.filter((k) => globMatch(latin1(pattern), latin1(k))).sort()).toEqual([...expected].sort());
  });

  it('KEYS through runCommand (the store walk narrowed by the literal prefix) answers the same', { timeout: 10_000 }, () => {
    const h = makeHarness();
    harnesses.push(h);
    for (const k of KEYS) h.run('SET', k, '1');
    for (const [pattern, expected] of CASES) {
      const reply = h.run('KEYS', pattern).split('\r\n');
      const found = reply.filter((_, i) => i > 0 && i % 2 === 0).sort();
      expect(found, pattern).toEqual([...expected].sort());
    }
  });

  it('stops a pathological pattern instead of backtracking exponentially or overflowing the stack', { timeout: 5000 }, () => {
    const subject = latin1('a'.repeat(5000));
    expect(globMatch(latin1('a*'.repeat(2000) + 'b'), subject)).toBe(false);
    expect(globMatch(latin1('*'.repeat(100_000)), subject)).toBe(true);
  });

  it('globTest refuses a pattern too costly to test (a Conduit bound), and passes any pattern of 256 bytes', { timeout: 10_000 }, () => {
    const key = Buffer.alloc(250, 'a');
    const costly = latin1(`*[${'b'.repeat(1000)}]`);
    expect(globMatch(costly, key)).toBe(false);
    expect(globTest(costly, key)).toBe('too_complex');
    for (const pattern of ['*a*' + '?'.repeat(252) + 'b', '*a'.repeat(127) + 'b', '*' + '[abc]'.repeat(50) + 'b', '?*'.repeat(128)]) {
      expect(pattern.length).toBeLessThanOrEqual(256);
      expect(globTest(latin1(pattern), key), pattern).toBe(globMatch(latin1(pattern), key));
    }
    expect(GLOB_MAX_STEPS).toBe(65_536);
    const h = makeHarness();
    harnesses.push(h);
    h.run('SET', 'a'.repeat(250), '1');
    const refusal = `-ERR pattern too complex: more than ${GLOB_MAX_STEPS} steps to test one key\r\n`;
    expect(h.run('KEYS', costly.toString('latin1'))).toBe(refusal);
    let reply = '';
    for (let cursor = '0', calls = 0; calls < 1000 && reply !== refusal; calls++) {
      reply = h.run('SCAN', cursor, 'MATCH', costly.toString('latin1'));
      cursor = reply.split('\r\n')[2] ?? '0';
    }
    expect(reply).toBe(refusal);
    // Against short names it takes a longer class to pass the bound.
    const huge = `*[${'b'.repeat(100_000)}]`;
    expect(h.run('CONFIG', 'GET', huge)).toBe(refusal);
    expect(h.run('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', huge)).toBe(refusal);
  });

  it('literalPrefix stops at the first glob character', () => {
    expect(literalPrefix(latin1('user:*'))).toEqual({ prefix: latin1('user:'), exact: false });
    expect(literalPrefix(latin1('a\\*'))).toEqual({ prefix: latin1('a'), exact: false });
    expect(literalPrefix(latin1('h[a]'))).toEqual({ prefix: latin1('h'), exact: false });
    expect(literalPrefix(latin1('plain'))).toEqual({ prefix: latin1('plain'), exact: true });
  });
});
