import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { AEAD_NAMES } from '../../src/crypto/frame-aead.js';
import { observeNonces } from '../../src/crypto/nonce-audit.js';

const key = randomBytes(32);
const prefix = randomBytes(16);

/** A 12-byte header with LENGTH = plaintext + tag and identifier `id`. */
function header(plaintextLength: number, id: bigint): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x81;
  h.writeUInt16BE(plaintextLength + TAG_SIZE, 2);
  h.writeBigUInt64BE(id, 4);
  return h;
}

describe.each(AEAD_NAMES)('FrameCipher in place, %s (issue 18)', (implementation) => {
  const cipher = new FrameCipher(key, prefix, implementation);
  const plaintext = Buffer.from('the quick brown fox');
  const h = header(plaintext.length, 9n);
  const sealed = new FrameCipher(key, prefix, 'noble').seal(h, plaintext);

  it('sealInto writes ciphertext then tag at the offset and nothing else', () => {
    const target = Buffer.alloc(7 + sealed.length + 5, 0xaa);
    cipher.sealInto(h, plaintext, target, 7);
    expect(target.subarray(7, 7 + sealed.length).equals(sealed)).toBe(true);
    expect(target.subarray(0, 7).equals(Buffer.alloc(7, 0xaa))).toBe(true);
    expect(target.subarray(7 + sealed.length).equals(Buffer.alloc(5, 0xaa))).toBe(true);
  });

  it('sealInto seals in place when the plaintext is the output range', () => {
    const target = Buffer.alloc(3 + sealed.length);
    plaintext.copy(target, 3);
    cipher.sealInto(h, target.subarray(3, 3 + plaintext.length), target, 3);
    expect(target.subarray(3).equals(sealed)).toBe(true);
  });

  it('openInto opens elsewhere and in place', () => {
    const elsewhere = Buffer.alloc(plaintext.length + 2);
    expect(cipher.openInto(h, sealed, elsewhere, 2)).toBe(true);
    expect(elsewhere.subarray(2).equals(plaintext)).toBe(true);
    const bytes = Buffer.from(sealed);
    expect(cipher.openInto(h, bytes, bytes, 0)).toBe(true);
    expect(bytes.subarray(0, plaintext.length).equals(plaintext)).toBe(true);
  });

  it('refuses ranges that overlap without being in place, and targets too small', () => {
    const target = Buffer.alloc(100);
    plaintext.copy(target, 1);
    expect(() => cipher.sealInto(h, target.subarray(1, 1 + plaintext.length), target, 4)).toThrow(RangeError);
    const bytes = Buffer.alloc(100);
    sealed.copy(bytes, 10);
    expect(() => cipher.openInto(h, bytes.subarray(10, 10 + sealed.length), bytes, 12)).toThrow(RangeError);
    expect(() => cipher.sealInto(h, plaintext, Buffer.alloc(sealed.length - 1), 0)).toThrow(RangeError);
    expect(() => cipher.openInto(h, sealed, Buffer.alloc(plaintext.length), 1)).toThrow(RangeError);
    expect(() => cipher.sealInto(h.subarray(1), plaintext, Buffer.alloc(sealed.length), 0)).toThrow(RangeError);
  });

  it('sealInPlace checks LENGTH against the plaintext; openInPlace fails a short or forged frame', () => {
    const frame = Buffer.concat([h, plaintext, Buffer.alloc(TAG_SIZE)]);
    expect(() => cipher.sealInPlace(frame, 0, plaintext.length - 1)).toThrow(/LENGTH/);
    cipher.sealInPlace(frame, 0, plaintext.length);
    const forged = Buffer.from(frame);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(cipher.openInPlace(forged, 0)).toBe(false);
    expect(forged.subarray(12, 12 + plaintext.length).every((b) => b === 0)).toBe(true);
    const short = Buffer.from(frame);
    short.writeUInt16BE(TAG_SIZE - 1, 2);
    expect(cipher.openInPlace(short, 0)).toBe(false);
    expect(cipher.openInPlace(frame, 0)).toBe(true);
  });

  it('opens an empty body (LENGTH = 16, tag only)', () => {
    const empty = header(0, 3n);
    const frame = Buffer.concat([empty, cipher.seal(empty, Buffer.alloc(0))]);
    expect(cipher.openInPlace(frame, 0)).toBe(true);
    expect(cipher.open(empty, frame.subarray(12))?.length).toBe(0);
  });

  it('shows every seal, whatever the entry point, to the nonce audit', () => {
    const ids: bigint[] = [];
    const stop = observeNonces((_fingerprint, nonce) => {
      expect(nonce.subarray(0, 16).equals(prefix)).toBe(true);
      ids.push(nonce.readBigUInt64BE(16));
    });
    try {
      cipher.seal(header(1, 1n), Buffer.from('a'));
      cipher.sealDetached(header(1, 2n), Buffer.from('b'));
      cipher.sealInto(header(1, 3n), Buffer.from('c'), Buffer.alloc(17), 0);
      cipher.sealInPlace(Buffer.concat([header(1, 4n), Buffer.from('d'), Buffer.alloc(TAG_SIZE)]), 0, 1);
    } finally {
      stop();
    }
    expect(ids).toEqual([1n, 2n, 3n, 4n]);
  });
});
