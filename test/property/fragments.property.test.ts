// Fragments (spec §2.4): the properties of fragments.properties.ts, and the nonce rule (§6.4).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameCipher, MORE, Opcode, TAG_SIZE, VERSION_REQUEST } from '../../src/index.js';
import { encodeHeader } from '../../src/protocol/header.js';
import { fragmentProperties } from './fragments.properties.js';

const key = randomBytes(32);
const prefix = randomBytes(16);

describe('fragments (spec §2.4, §6.4)', () => {
  for (const [name, property] of Object.entries(fragmentProperties)) {
    it(name, () => fc.assert(property, { numRuns: name.includes('malformed') ? 500 : 150 }));
  }

  it('a fragment opened with another fragment number fails authentication (reordered or dropped fragments are caught)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 2000 }), (i, delta) => {
        const header = encodeHeader(VERSION_REQUEST, Opcode.SET | MORE, 10 + TAG_SIZE, 7n);
        const sealed = new FrameCipher(key, prefix).seal(header, Buffer.alloc(10, 1), i);
        expect(new FrameCipher(key, prefix).open(header, sealed, i + delta)).toBeUndefined();
        expect(new FrameCipher(key, prefix).open(header, sealed, i)).toEqual(Buffer.alloc(10, 1));
      }),
      { numRuns: 60 },
    );
  });
});
