import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameCipher, MAX_BODY_SIZE, TAG_SIZE } from '../../src/index.js';

/** A 12-byte header with LENGTH = body + tag and the given identifier. */
function header(version: number, opcode: number, plaintextLength: number, id: bigint): Buffer {
  const h = Buffer.alloc(12);
  h[0] = version;
  h[1] = opcode;
  h.writeUInt16BE(plaintextLength + TAG_SIZE, 2);
  h.writeBigUInt64BE(id, 4);
  return h;
}

describe('FrameCipher (spec §6.4)', () => {
  it('is byte for byte noble’s xchacha20poly1305 with nonce = prefix ‖ identifier and AD = header', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.constant(0).map(() => new Uint8Array(randomBytes(MAX_BODY_SIZE - TAG_SIZE))),
          fc.integer({ min: 0, max: MAX_BODY_SIZE - TAG_SIZE }).map((n) => new Uint8Array(randomBytes(n))),
        ),
        (key, prefix, id, opcode, plaintext) => {
          const h = header(0x01, opcode, plaintext.length, id);
          const nonce = Buffer.concat([Buffer.from(prefix), h.subarray(4)]);
          const reference = xchacha20poly1305(key, nonce, h).encrypt(plaintext);
          const cipher = new FrameCipher(key, prefix);
          const sealed = cipher.seal(h, plaintext);
          expect(sealed.equals(Buffer.from(reference))).toBe(true);
          // The server's form: the same bytes as ciphertext and tag (the nonce repeats here only to compare).
          const [ciphertext, tag] = cipher.sealDetached(h, plaintext);
          expect(ciphertext.length).toBe(plaintext.length);
          expect(Buffer.concat([ciphertext, tag]).equals(sealed)).toBe(true);
          expect(cipher.open(h, sealed)?.equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a frame whose header, ciphertext or tag changed', () => {
    const cipher = new FrameCipher(randomBytes(32), randomBytes(16));
    const h = header(0x01, 0x01, 5, 7n);
    const sealed = cipher.seal(h, Buffer.from('hello'));
    for (let bit = 0; bit < (12 + sealed.length) * 8; bit += 1) {
      const hh = Buffer.from(h);
      const ss = Buffer.from(sealed);
      if (bit < 96) hh[bit >> 3] = (hh[bit >> 3] as number) ^ (1 << (bit & 7));
      else ss[(bit - 96) >> 3] = (ss[(bit - 96) >> 3] as number) ^ (1 << (bit & 7));
      expect(cipher.open(hh, ss), `bit ${bit}`).toBeUndefined();
    }
    expect(cipher.open(h, sealed.subarray(0, 15))).toBeUndefined();
  });
});
