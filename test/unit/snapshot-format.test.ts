import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { libsodiumAvailable } from '../../src/crypto/aead-choice.js';
import type { AeadName } from '../../src/crypto/frame-aead.js';
import {
  crc32cOf,
  decodeHeader,
  decodeSectionHeader,
  decodeTrailer,
  encodeHeader,
  encodeSectionHeader,
  encodeTrailer,
  FormatProblem,
  HEADER_SIZE,
  MAX_STORED_SECTION,
  SECTION_HEADER_SIZE,
  startsLikeSnapshot,
  TRAILER_SIZE,
  type SnapshotHeader,
} from '../../src/server/snapshot/format.js';
import { SnapshotSeal } from '../../src/server/snapshot/seal.js';

// docs/SNAPSHOT.md, format version 1: every field of the header, the section
// header and the trailer, written and read back, and every refusal a reader makes.

const header = (over: Partial<SnapshotHeader> = {}): SnapshotHeader => ({
  sealed: false,
  createdAt: 1_764_633_600_123,
  items: 12_345,
  sections: 3,
  payloadBytes: 9_000_000,
  salt: new Uint8Array(16),
  keyCheck: new Uint8Array(16),
  versionMark: 0,
  ...over,
});

const sealedHeader = (): SnapshotHeader => header({ sealed: true, salt: Uint8Array.from({ length: 16 }, (_, i) => i + 1), keyCheck: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i) });

function encoded(h: SnapshotHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  encodeHeader(h, bytes, 0);
  return bytes;
}

/** `bytes` changed by `edit`, with the CRC at `crcAt` over `[0, crcAt)` recomputed: the field's own check, not the CRC's. */
function edited(bytes: Uint8Array, crcAt: number, edit: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const view = new DataView(copy.buffer);
  edit(view, copy);
  view.setUint32(crcAt, crc32cOf(copy, 0, crcAt), true);
  return copy;
}

function problem(value: unknown): FormatProblem {
  expect(value).toBeInstanceOf(FormatProblem);
  return value as FormatProblem;
}

describe('CRC32C', () => {
  it('is the Castagnoli polynomial: the check value of "123456789" is 0xE3069283', () => {
    expect(crc32cOf(Buffer.from('123456789'), 0, 9)).toBe(0xe3069283);
    expect(crc32cOf(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xe3069283);
    expect(crc32cOf(Buffer.from('123456789'), 4, 9, crc32cOf(Buffer.from('1234'), 0, 4))).toBe(0xe3069283);
  });
});

describe('header', () => {
  it('is 96 bytes laid out as the table says, and reads back', () => {
    const bytes = encoded(header());
    expect(bytes.length).toBe(96);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('CONDSNAP');
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(8, true)).toBe(1);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint32(12, true)).toBe(96);
    expect(view.getFloat64(16, true)).toBe(1_764_633_600_123);
    expect(view.getUint32(24, true)).toBe(12_345);
    expect(view.getUint32(32, true)).toBe(3);
    expect(view.getUint32(40, true)).toBe(9_000_000);
    expect(bytes.subarray(48, 92).every((b) => b === 0)).toBe(true); // a version mark of 0 too
    expect(view.getUint32(92, true)).toBe(crc32cOf(bytes, 0, 92));
    expect(decodeHeader(bytes, 0)).toEqual(header());
  });

  it('carries flags, salt and key check when sealed, and u64 counts up to 2^53 - 1', () => {
    const h = { ...sealedHeader(), items: Number.MAX_SAFE_INTEGER, payloadBytes: 2 ** 40 + 7 };
    const bytes = encoded(h);
    expect(new DataView(bytes.buffer).getUint16(10, true)).toBe(1);
    expect(Array.from(bytes.subarray(48, 64))).toEqual(Array.from(h.salt));
    expect(Array.from(bytes.subarray(64, 80))).toEqual(Array.from(h.keyCheck));
    expect(decodeHeader(bytes, 0)).toEqual(h);
  });

  it('carries the version mark at bytes 80-87 (u64), up to 2^52', () => {
    for (const versionMark of [1, 2 ** 32 + 5, 2 ** 52]) {
      const bytes = encoded(header({ versionMark }));
      const view = new DataView(bytes.buffer);
      expect(view.getUint32(80, true) + view.getUint32(84, true) * 2 ** 32).toBe(versionMark);
      expect((decodeHeader(bytes, 0) as SnapshotHeader).versionMark).toBe(versionMark);
    }
  });

  it('reads at an offset', () => {
    const bytes = new Uint8Array(HEADER_SIZE + 10);
    encodeHeader(header(), bytes, 10);
    expect(decodeHeader(bytes, 10)).toEqual(header());
  });

  it('refuses too few bytes', () => {
    expect(problem(decodeHeader(encoded(header()).subarray(0, 95), 0))).toMatchObject({ kind: 'corrupt', message: 'file ends inside the header (95 of 96 bytes)' });
  });

  it('refuses another magic as foreign, quoting it in hex', () => {
    const elf = Uint8Array.from(encoded(header()));
    elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
    expect(problem(decodeHeader(elf, 0))).toEqual(new FormatProblem('foreign', 'not a Conduit snapshot (magic 7f454c4602010100…)'));
    expect(startsLikeSnapshot(Buffer.from('\x7fELF', 'latin1'))).toEqual(new FormatProblem('foreign', 'not a Conduit snapshot (magic 7f454c46)'));
    expect(startsLikeSnapshot(Buffer.from('CONDSN'))).toBeUndefined();
    expect(startsLikeSnapshot(Buffer.from('CONDSNAX and more'))?.message).toBe('not a Conduit snapshot (magic 434f4e44534e4158…)');
  });

  it('refuses a newer version as newer_version, before the checksum (a newer format may checksum elsewhere)', () => {
    const bytes = Uint8Array.from(encoded(header()));
    new DataView(bytes.buffer).setUint16(8, 2, true);
    expect(problem(decodeHeader(bytes, 0))).toEqual(new FormatProblem('newer_version', 'format version 2 is newer than this server reads (1)'));
  });

  it('refuses version 0 as corrupt', () => {
    const bytes = edited(encoded(header()), 92, (v) => v.setUint16(8, 0, true));
    expect(problem(decodeHeader(bytes, 0))).toMatchObject({ kind: 'corrupt', message: expect.stringContaining('version 0') });
  });

  it('finds every single-bit flip of bytes 10-95 by its checksum (bits 8-9 are the version)', () => {
    const good = encoded(sealedHeader());
    for (let bit = 10 * 8; bit < HEADER_SIZE * 8; bit += 1) {
      const bytes = Uint8Array.from(good);
      bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
      const p = problem(decodeHeader(bytes, 0));
      expect(p.kind).toBe('corrupt');
      expect(p.message).toBe('header checksum mismatch');
    }
  });

  const refusals: [string, (view: DataView, bytes: Uint8Array) => void, RegExp][] = [
    ['an unknown flag bit', (v) => v.setUint16(10, 0b10, true), /flags 0x2 set unknown bits/],
    ['another header length', (v) => v.setUint32(12, 128, true), /header length 128 is not 96/],
    ['a NaN creation time', (v) => v.setFloat64(16, Number.NaN, true), /creation time NaN/],
    ['an infinite creation time', (v) => v.setFloat64(16, Infinity, true), /creation time Infinity/],
    ['a negative creation time', (v) => v.setFloat64(16, -1, true), /creation time -1/],
    ['items above 2^53 - 1', (v) => v.setUint32(28, 0x20_0000, true), /header items count is above 2\^53 - 1/],
    ['sections above 2^53 - 1', (v) => v.setUint32(36, 0xffff_ffff, true), /header sections count is above/],
    ['payload bytes above 2^53 - 1', (v) => v.setUint32(44, 0x20_0000, true), /header payload bytes count is above/],
    ['a salt in an unsealed file', (_, b) => (b[50] = 1), /unsealed file has a salt or key check/],
    ['a key check in an unsealed file', (_, b) => (b[79] = 1), /unsealed file has a salt or key check/],
    ['a non-zero reserved byte', (_, b) => (b[89] = 1), /reserved bytes 88-91 are not zero/],
    ['a version mark of 2^52 + 1', (v) => (v.setUint32(80, 1, true), v.setUint32(84, 2 ** 20, true)), /version mark 4503599627370497 is above 2\^52/],
    ['a version mark of 2^53 - 1', (v) => (v.setUint32(80, 0xffff_ffff, true), v.setUint32(84, 0x1f_ffff, true)), /version mark 9007199254740991 is above 2\^52/],
    ['a version mark above 2^53 - 1', (v) => v.setUint32(84, 0xffff_ffff, true), /version mark is above 2\^52/],
  ];
  for (const [what, edit, message] of refusals) {
    it(`refuses ${what} (CRC recomputed) as corrupt`, () => {
      const p = problem(decodeHeader(edited(encoded(header()), 92, edit), 0));
      expect(p.kind).toBe('corrupt');
      expect(p.message).toMatch(message);
    });
  }
});

describe('section header', () => {
  const section = { index: 7, records: 3, length: 500, payloadCrc: 0xdeadbeef };
  const encodedSection = (s = section): Uint8Array => {
    const bytes = new Uint8Array(SECTION_HEADER_SIZE);
    encodeSectionHeader(s, bytes, 0);
    return bytes;
  };

  it('is 24 bytes as the table says, and reads back', () => {
    const bytes = encodedSection();
    const view = new DataView(bytes.buffer);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('SECT');
    expect([view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true), view.getUint32(16, true)]).toEqual([7, 3, 500, 0xdeadbeef]);
    expect(view.getUint32(20, true)).toBe(crc32cOf(bytes, 0, 20));
    expect(decodeSectionHeader(bytes, 0, { index: 7, sealed: false })).toEqual(section);
    expect(decodeSectionHeader(bytes, 0, { index: 7, sealed: true })).toEqual(section);
  });

  it('refuses too few bytes, another magic, the trailer in its place', () => {
    expect(problem(decodeSectionHeader(encodedSection().subarray(0, 23), 0, { index: 7, sealed: false })).message).toBe('file ends inside the header of section 7');
    const other = Uint8Array.from(encodedSection());
    other.set([1, 2, 3, 4], 0);
    expect(problem(decodeSectionHeader(other, 0, { index: 7, sealed: false })).message).toBe('section 7 expected, found magic 01020304');
    const trailer = new Uint8Array(TRAILER_SIZE);
    encodeTrailer({ items: 1, sections: 1, payloadBytes: 1, tag: new Uint8Array(16) }, trailer, 0);
    expect(problem(decodeSectionHeader(trailer, 0, { index: 7, sealed: false })).message).toBe('section 7 expected, found the trailer');
  });

  it('finds every single-bit flip of bytes 4-23 by its checksum', () => {
    const good = encodedSection();
    for (let bit = 32; bit < SECTION_HEADER_SIZE * 8; bit += 1) {
      const bytes = Uint8Array.from(good);
      bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(problem(decodeSectionHeader(bytes, 0, { index: 7, sealed: false }))).toEqual(new FormatProblem('corrupt', 'section 7 header checksum mismatch'));
    }
  });

  it('refuses another index, no records, a length above 64 MiB + 1 KiB or too short for its records', () => {
    const at = (s: typeof section, sealed = false): string => problem(decodeSectionHeader(encodedSection(s), 0, { index: 7, sealed })).message;
    expect(at({ ...section, index: 8 })).toBe('section 7 is numbered 8');
    expect(at({ ...section, records: 0 })).toBe('section 7 holds no records');
    expect(at({ ...section, length: MAX_STORED_SECTION + 1 })).toMatch(/section 7 length 67109889 is above the largest a section can be/);
    expect(at({ ...section, length: 0xffff_ffff })).toMatch(/above the largest/);
    expect(at({ ...section, length: 3 * 22 - 1 })).toBe('section 7 length 65 cannot hold 3 records');
    expect(at({ ...section, length: 3 * 22 }, true)).toBe('section 7 length 66 cannot hold 3 records');
    expect(decodeSectionHeader(encodedSection({ ...section, length: MAX_STORED_SECTION }), 0, { index: 7, sealed: true })).not.toBeInstanceOf(FormatProblem);
    expect(decodeSectionHeader(encodedSection({ ...section, length: 3 * 22 + 16 }), 0, { index: 7, sealed: true })).not.toBeInstanceOf(FormatProblem);
  });
});

describe('trailer', () => {
  const trailer = { items: 2 ** 40, sections: 300, payloadBytes: Number.MAX_SAFE_INTEGER, tag: new Uint8Array(16) };
  const encodedTrailer = (t = trailer): Uint8Array => {
    const bytes = new Uint8Array(TRAILER_SIZE);
    encodeTrailer(t, bytes, 0);
    return bytes;
  };

  it('is 56 bytes as the table says, and reads back', () => {
    const bytes = encodedTrailer();
    const view = new DataView(bytes.buffer);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('SNAPEND!');
    expect(view.getUint32(12, true)).toBe(256);
    expect(view.getUint32(16, true)).toBe(300);
    expect(view.getUint32(48, true)).toBe(crc32cOf(bytes, 0, 48));
    expect(bytes.subarray(52).every((b) => b === 0)).toBe(true);
    expect(decodeTrailer(bytes, 0, false)).toEqual(trailer);
    const tag = Uint8Array.from({ length: 16 }, (_, i) => i + 9);
    expect(decodeTrailer(encodedTrailer({ ...trailer, tag }), 0, true)).toEqual({ ...trailer, tag });
  });

  it('refuses too few bytes, another magic, a section in its place', () => {
    expect(problem(decodeTrailer(encodedTrailer().subarray(0, 55), 0, false)).message).toBe('file ends inside the trailer');
    const section = new Uint8Array(TRAILER_SIZE);
    encodeSectionHeader({ index: 0, records: 1, length: 22, payloadCrc: 0 }, section, 0);
    expect(problem(decodeTrailer(section, 0, false)).message).toBe('trailer expected, found a section');
    const other = Uint8Array.from(encodedTrailer());
    other[7] = 0x3f;
    expect(problem(decodeTrailer(other, 0, false)).message).toBe('trailer expected, found magic 534e4150454e443f');
  });

  it('finds every single-bit flip of bytes 8-51 by its checksum', () => {
    const good = encodedTrailer();
    for (let bit = 64; bit < 52 * 8; bit += 1) {
      const bytes = Uint8Array.from(good);
      bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(problem(decodeTrailer(bytes, 0, true)).message).toBe('trailer checksum mismatch');
    }
  });

  const refusals: [string, (view: DataView, bytes: Uint8Array) => void, RegExp][] = [
    ['items above 2^53 - 1', (v) => v.setUint32(12, 0x20_0000, true), /trailer items count is above/],
    ['sections above 2^53 - 1', (v) => v.setUint32(20, 0x20_0000, true), /trailer sections count is above/],
    ['payload bytes above 2^53 - 1', (v) => v.setUint32(28, 0x20_0000, true), /trailer payload bytes count is above/],
    ['a tag in an unsealed file', (_, b) => (b[40] = 1), /unsealed file has a tag/],
  ];
  for (const [what, edit, message] of refusals) {
    it(`refuses ${what} (CRC recomputed)`, () => {
      const p = problem(decodeTrailer(edited(encodedTrailer(), 48, edit), 0, false));
      expect(p).toMatchObject({ kind: 'corrupt', message: expect.stringMatching(message) });
    });
  }

  it('refuses non-zero bytes 52-55 (outside the CRC)', () => {
    const bytes = Uint8Array.from(encodedTrailer());
    bytes[54] = 1;
    expect(problem(decodeTrailer(bytes, 0, false)).message).toBe('trailer reserved bytes 52-55 are not zero');
  });
});

describe('sealing (XChaCha20-Poly1305, docs/SNAPSHOT.md §Sealing)', () => {
  const implementations: AeadName[] = libsodiumAvailable() ? ['libsodium', 'node', 'noble'] : ['node', 'noble'];
  const key = randomBytes(32);
  const head = encoded(sealedHeader());
  const salt = head.subarray(48, 64);
  /** The 24-byte nonce salt ‖ u64 LE `word`. */
  const nonce = (word: bigint): Uint8Array => {
    const n = new Uint8Array(24);
    n.set(salt, 0);
    new DataView(n.buffer).setBigUint64(16, word, true);
    return n;
  };
  const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

  for (const implementation of implementations) {
    describe(implementation, () => {
      it('seals a section as noble xchacha20poly1305 with nonce salt ‖ index and AD header 0-15 ‖ salt ‖ section header 0-11, in place', () => {
        const plaintext = randomBytes(1000);
        const buffer = new Uint8Array(24 + 1000 + 16);
        encodeSectionHeader({ index: 5, records: 9, length: 1016, payloadCrc: 0 }, buffer, 0);
        buffer.set(plaintext, 24);
        new SnapshotSeal(key, head, 0, implementation).sealSection(5, buffer, 0, buffer, 24, 1000);
        const ad = concat(head.subarray(0, 16), salt, buffer.subarray(0, 12));
        const oracle = xchacha20poly1305(key, nonce(5n), ad).encrypt(plaintext);
        expect(Buffer.from(buffer.subarray(24))).toEqual(Buffer.from(oracle));
      });

      it('opens what it sealed in place, and refuses a flipped bit, another index, another header, another key', () => {
        const plaintext = randomBytes(300);
        const sealAndCopy = (): Uint8Array => {
          const buffer = new Uint8Array(24 + 300 + 16);
          encodeSectionHeader({ index: 2, records: 4, length: 316, payloadCrc: 0 }, buffer, 0);
          buffer.set(plaintext, 24);
          new SnapshotSeal(key, head, 0, implementation).sealSection(2, buffer, 0, buffer, 24, 300);
          return buffer;
        };
        const opener = new SnapshotSeal(key, head, 0, implementation);
        const good = sealAndCopy();
        expect(opener.openSection(2, good, 0, good, 24, 316)).toBe(true);
        expect(Buffer.from(good.subarray(24, 324))).toEqual(plaintext);
        for (const bit of [24 * 8, 100 * 8 + 3, 323 * 8 + 7, 330 * 8]) {
          const bad = sealAndCopy();
          bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
          expect(opener.openSection(2, bad, 0, bad, 24, 316)).toBe(false);
        }
        expect(opener.openSection(3, sealAndCopy(), 0, sealAndCopy(), 24, 316)).toBe(false);
        const otherRecords = sealAndCopy();
        otherRecords[8] = 5; // records: associated data
        expect(opener.openSection(2, otherRecords, 0, otherRecords, 24, 316)).toBe(false);
        const otherHead = Uint8Array.from(head);
        otherHead[60] = (otherHead[60] as number) ^ 1; // another salt
        const g = sealAndCopy();
        expect(new SnapshotSeal(key, otherHead, 0, implementation).openSection(2, g, 0, g, 24, 316)).toBe(false);
        const h = sealAndCopy();
        expect(new SnapshotSeal(randomBytes(32), head, 0, implementation).openSection(2, h, 0, h, 24, 316)).toBe(false);
        expect(opener.openSection(2, h, 0, h, 24, 15)).toBe(false);
      });

      it('makes the key check and the trailer tag as the doc says, and checks them', () => {
        const seal = new SnapshotSeal(key, head, 0, implementation);
        const check = xchacha20poly1305(key, nonce(2n ** 64n - 2n), concat(head.subarray(0, 16), salt)).encrypt(new Uint8Array(0));
        expect(Buffer.from(seal.keyCheck())).toEqual(Buffer.from(check));
        expect(seal.checkKey(check)).toBe(true);
        expect(new SnapshotSeal(randomBytes(32), head, 0, implementation).checkKey(check)).toBe(false);
        const trailer = new Uint8Array(TRAILER_SIZE);
        encodeTrailer({ items: 5, sections: 1, payloadBytes: 200, tag: new Uint8Array(16) }, trailer, 0);
        const tag = xchacha20poly1305(key, nonce(2n ** 64n - 1n), trailer.subarray(0, 32)).encrypt(new Uint8Array(0));
        expect(Buffer.from(seal.trailerTag(trailer, 0))).toEqual(Buffer.from(tag));
        expect(seal.checkTrailer(trailer, 0, tag)).toBe(true);
        trailer[8] = 6;
        expect(seal.checkTrailer(trailer, 0, tag)).toBe(false);
      });
    });
  }

  it('refuses a key that is not 32 bytes, naming it', () => {
    expect(() => new SnapshotSeal(new Uint8Array(31), head)).toThrow(new TypeError('snapshot key must be 32 bytes, got 31'));
  });
});
