import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AEAD_NAMES } from '../../src/crypto/frame-aead.js';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';

// Issue 18: libsodium (sodium-native), node:crypto (OpenSSL) and
// @noble/ciphers are three independent implementations of the frame AEAD
// (spec §6.4); each is the others' oracle, and noble's whole
// XChaCha20-Poly1305 (no precomputed subkey) checks them all.
// Bodies up to 65,524 bytes, the largest LENGTH of a frame (spec §2.1).
const MAX_BODY = 65_524;

const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.integer({ min: 0, max: MAX_BODY }).map((n) => new Uint8Array(randomBytes(n))),
  fc.constant(MAX_BODY).map((n) => new Uint8Array(randomBytes(n))),
);
const frame = fc.record({
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  prefix: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  header: fc.uint8Array({ minLength: 12, maxLength: 12 }), // identifier = bytes 4–12
  plaintext: body,
});

const flip = (bytes: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
  return copy;
};

/** Every ordered pair of different implementations: who seals, who opens. */
const PAIRS = AEAD_NAMES.flatMap((sealer) => AEAD_NAMES.filter((opener) => opener !== sealer).map((opener) => [sealer, opener] as const));

describe('frame AEAD: libsodium, node:crypto and noble (spec §6.4)', () => {
  it('give identical ciphertext and tag, the XChaCha20-Poly1305 of nonce = prefix ‖ identifier and AD = header', () => {
    fc.assert(
      fc.property(frame, ({ key, prefix, header, plaintext }) => {
        const nonce = Buffer.concat([prefix, header.subarray(4)]);
        const expected = Buffer.from(xchacha20poly1305(key, nonce, header).encrypt(plaintext));
        expect(expected.length).toBe(plaintext.length + TAG_SIZE);
        for (const implementation of AEAD_NAMES) {
          expect(new FrameCipher(key, prefix, implementation).seal(header, plaintext).equals(expected), implementation).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('each opens the others’ frames', () => {
    fc.assert(
      fc.property(frame, ({ key, prefix, header, plaintext }) => {
        for (const [sealer, opener] of PAIRS) {
          const sealed = new FrameCipher(key, prefix, sealer).seal(header, plaintext);
          expect(new FrameCipher(key, prefix, opener).open(header, sealed)?.equals(plaintext), `${sealer} → ${opener}`).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('a single flipped bit of header, ciphertext or tag fails to open on all three', () => {
    fc.assert(
      fc.property(frame, fc.nat(), fc.constantFrom('header', 'ciphertext', 'tag'), ({ key, prefix, header, plaintext }, at, where) => {
        const sealed = new FrameCipher(key, prefix, 'libsodium').seal(header, plaintext);
        let h: Buffer = Buffer.from(header);
        let s: Buffer = sealed;
        if (where === 'header') h = flip(header, at % 96);
        else if (where === 'tag') s = flip(sealed, plaintext.length * 8 + (at % (TAG_SIZE * 8)));
        else if (plaintext.length > 0) s = flip(sealed, at % (plaintext.length * 8));
        else s = flip(sealed, at % (TAG_SIZE * 8)); // no ciphertext bytes: the tag is all there is
        for (const implementation of AEAD_NAMES) {
          const cipher = new FrameCipher(key, prefix, implementation);
          expect(cipher.open(h, s), implementation).toBeUndefined();
          const target = Buffer.alloc(plaintext.length, 0xee);
          expect(cipher.openInto(h, s, target, 0), implementation).toBe(false);
          expect(target.every((b) => b === 0), `${implementation}: the range is zeroed`).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('in place (sealInPlace, openInPlace) gives the same bytes as seal and open, with all three', () => {
    fc.assert(
      fc.property(frame, fc.nat({ max: 40 }), ({ key, prefix, header, plaintext }, at) => {
        const n = Math.min(plaintext.length, 65_508); // LENGTH (u16) must count plaintext and tag
        const h = Buffer.from(header);
        h.writeUInt16BE(n + TAG_SIZE, 2);
        const expected = new FrameCipher(key, prefix, 'noble').seal(h, plaintext.subarray(0, n));
        for (const [sealer, opener] of PAIRS) {
          const bytes = Buffer.alloc(at + 12 + n + TAG_SIZE + 3, 0x55);
          h.copy(bytes, at);
          bytes.set(plaintext.subarray(0, n), at + 12);
          new FrameCipher(key, prefix, sealer).sealInPlace(bytes, at, n);
          expect(bytes.subarray(at, at + 12).equals(h)).toBe(true);
          expect(bytes.subarray(at + 12, at + 12 + n + TAG_SIZE).equals(expected), sealer).toBe(true);
          expect(new FrameCipher(key, prefix, opener).openInPlace(bytes, at), opener).toBe(true);
          expect(bytes.subarray(at + 12, at + 12 + n).equals(plaintext.subarray(0, n)), opener).toBe(true);
          expect(bytes.subarray(bytes.length - 3).equals(Buffer.alloc(3, 0x55))).toBe(true); // nothing written past the frame
        }
      }),
      { numRuns: 60 },
    );
  });
});
