// The gateway's If-Match parsing and matching (RFC 9110 §13.1.1 over spec §3.11 versions).
import { describe, expect, it } from 'vitest';
import { ifMatchHolds, IfMatchSyntaxError, parseIfMatch } from '../../src/http/if-match.js';

describe('parseIfMatch', () => {
  it('reads *, one tag, lists (with empty elements and joined headers), and keeps only strong version tags', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch(' * ')).toEqual({ kind: 'any' });
    expect(parseIfMatch('"7"')).toEqual({ kind: 'tags', versions: [7n] });
    expect(parseIfMatch('"1", W/"2" ,, "3",')).toEqual({ kind: 'tags', versions: [1n, 3n] });
    expect(parseIfMatch(['"4"', '"5"'])).toEqual({ kind: 'tags', versions: [4n, 5n] });
    expect(parseIfMatch('"a,b", "0", "18446744073709551616", "18446744073709551615"')).toEqual({
      kind: 'tags',
      versions: [18446744073709551615n],
    });
  });

  it('refuses what is not * or a list of entity-tags, naming the header', () => {
    for (const bad of ['', ' ', '7', '"7', 'W/7', '"7" "8"', '*, "7"', '"a"b"']) {
      expect(() => parseIfMatch(bad), bad).toThrow(IfMatchSyntaxError);
    }
    expect(() => parseIfMatch('x')).toThrow(/If-Match must be/);
  });
});

describe('ifMatchHolds', () => {
  it('never holds for an absent key; * holds for any version; a list when it names the current one', () => {
    expect(ifMatchHolds({ kind: 'any' }, undefined)).toBe(false);
    expect(ifMatchHolds({ kind: 'any' }, 3n)).toBe(true);
    expect(ifMatchHolds({ kind: 'tags', versions: [2n, 3n] }, 3n)).toBe(true);
    expect(ifMatchHolds({ kind: 'tags', versions: [2n] }, 3n)).toBe(false);
    expect(ifMatchHolds({ kind: 'tags', versions: [] }, 3n)).toBe(false);
  });
});
