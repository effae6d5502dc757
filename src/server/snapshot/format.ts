import { crc32c } from '@node-rs/crc32';

/**
 * The snapshot file's fixed parts (docs/SNAPSHOT.md, format version 1): the
 * 96-byte header, the 24-byte section header and the 56-byte trailer, each
 * encoded into a caller's buffer and decoded from one. The decoders never
 * throw: bytes that are not a valid part come back as a {@link FormatProblem}
 * naming the field, the way the wire decoder returns a typed error rather
 * than raising one (STYLE.md §2). Records are the store's business
 * (src/store/item-import.ts); sealing is ./seal.ts.
 *
 * ```
 * | header (96 B) | SECT 0 (24 B + L0) | … | SECT n−1 (24 B + Ln−1) | SNAPEND! (56 B) |
 * ```
 *
 * All integers little-endian; a `u64` above 2^53 − 1 is refused (a JS number
 * holds it exactly below that).
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(HEADER_SIZE);
 * encodeHeader(header, bytes, 0);
 * const back = decodeHeader(bytes, 0); // a SnapshotHeader, or a FormatProblem
 * ```
 * @module
 */

/** Header magic, `CONDSNAP`. */
export const MAGIC = Uint8Array.from(Buffer.from('CONDSNAP', 'latin1'));
/** Section header magic, `SECT`. */
export const SECTION_MAGIC = Uint8Array.from(Buffer.from('SECT', 'latin1'));
/** Trailer magic, `SNAPEND!`. */
export const TRAILER_MAGIC = Uint8Array.from(Buffer.from('SNAPEND!', 'latin1'));
/** The format version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
/** Header flag bit 0: every section payload is sealed (docs/SNAPSHOT.md §Sealing). */
export const FLAG_SEALED = 1;
export const HEADER_SIZE = 96;
export const SECTION_HEADER_SIZE = 24;
export const TRAILER_SIZE = 56;
/** Salt and key check: 16 bytes each. */
export const SALT_SIZE = 16;
/** Poly1305 tag after a sealed payload, and the header's key check and the trailer's tag. */
export const SEAL_TAG_SIZE = 16;
/** A section holds at most this many bytes of records, unless it holds one larger record. */
export const SECTION_PLAINTEXT_LIMIT = 4 * 1024 * 1024;
/** The smallest record: 21-byte record header and a 1-byte key. */
export const MIN_RECORD_SIZE = 22;
/**
 * The largest stored section a reader accepts: one record of a 64 MiB value
 * (`--max-value-size`'s ceiling) and a 250-byte key, its 21-byte header and
 * a tag fit under 64 MiB + 1 KiB. A length above it is corruption, refused
 * before anything is allocated for it.
 */
export const MAX_STORED_SECTION = 64 * 1024 * 1024 + 1024;

/** What kind of wrong: not our file at all, a newer format, or damaged. */
export type FormatProblemKind = 'foreign' | 'newer_version' | 'corrupt';

/**
 * Why bytes are not a valid part of a snapshot. Returned, never thrown.
 *
 * @example
 * ```ts
 * const header = decodeHeader(bytes, 0);
 * if (header instanceof FormatProblem) console.log(header.kind, header.message); // 'corrupt' 'header checksum mismatch'
 * ```
 */
export class FormatProblem {
  readonly kind: FormatProblemKind;
  readonly message: string;
  constructor(kind: FormatProblemKind, message: string) {
    this.kind = kind;
    this.message = message;
  }
}

/**
 * The header's fields (docs/SNAPSHOT.md §Header). The version, the header
 * length and the reserved bytes are fixed and not carried here.
 *
 * @example
 * ```ts
 * const header: SnapshotHeader = { sealed: false, createdAt: Date.now(), items: 0, sections: 0, payloadBytes: 0, salt: new Uint8Array(16), keyCheck: new Uint8Array(16), versionMark: 0 };
 * ```
 */
export interface SnapshotHeader {
  sealed: boolean;
  /** Wall-clock ms since the epoch when the save began. */
  createdAt: number;
  items: number;
  sections: number;
  /** The sum of the sections' stored lengths. */
  payloadBytes: number;
  /** 16 random bytes when sealed, zero otherwise. */
  salt: Uint8Array;
  /** The key check tag when sealed, zero otherwise. */
  keyCheck: Uint8Array;
  /**
   * The saving engine's version counter when the save ended (0 in the first, incomplete
   * header): every record's version is at most this, and a load continues above it
   * (docs/SNAPSHOT.md "Versions are kept"). At most {@link MAX_VERSION_MARK}.
   */
  versionMark: number;
}

/**
 * A section header's fields (docs/SNAPSHOT.md §Section).
 *
 * @example
 * ```ts
 * const section: SectionHeader = { index: 0, records: 3, length: 120, payloadCrc: crc32c(payload) };
 * ```
 */
export interface SectionHeader {
  index: number;
  records: number;
  /** Stored length L of the payload (plaintext + 16 when sealed). */
  length: number;
  /** CRC32C of the L stored bytes. */
  payloadCrc: number;
}

/**
 * The trailer's fields (docs/SNAPSHOT.md §Trailer).
 *
 * @example
 * ```ts
 * const trailer: SnapshotTrailer = { items: 3, sections: 1, payloadBytes: 120, tag: new Uint8Array(16) };
 * ```
 */
export interface SnapshotTrailer {
  items: number;
  sections: number;
  payloadBytes: number;
  /** The trailer tag when sealed, zero otherwise. */
  tag: Uint8Array;
}

/**
 * CRC32C of `bytes[start, end)`, the file's one checksum (native, from
 * `@node-rs/crc32`); `previous` continues a checksum over a longer run.
 *
 * @example
 * ```ts
 * crc32cOf(Buffer.from('123456789'), 0, 9); // 0xe3069283
 * ```
 */
export function crc32cOf(bytes: Uint8Array, start: number, end: number, previous = 0): number {
  return crc32c(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), previous) >>> 0;
}

/** The largest version mark (and record version) a reader accepts: 2^52 (src/store/item-import.ts). */
export const MAX_VERSION_MARK = 2 ** 52;

/** The largest u64 a reader accepts: 2^53 − 1. */
const U64_LIMIT_HIGH = 0x1f_ffff;

function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
}

/** The u64 at `at`, or −1 when it is above 2^53 − 1. */
function readU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  if (high > U64_LIMIT_HIGH) return -1;
  return high * 2 ** 32 + view.getUint32(at, true);
}

function dataView(bytes: Uint8Array, offset: number, length: number): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, length);
}

function equalAt(bytes: Uint8Array, offset: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i += 1) if (bytes[offset + i] !== expected[i]) return false;
  return true;
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) if (bytes[i] !== 0) return false;
  return true;
}

function hex(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('hex');
}

/** Where a magic that is not ours gets quoted: its first bytes as hex, `…` when cut. */
function quoteMagic(bytes: Uint8Array, offset: number, available: number, size: number): string {
  return `${hex(bytes, offset, Math.min(available, size))}${available > size ? '…' : ''}`;
}

/**
 * Checks that a file's first bytes begin with `CONDSNAP` (as far as there
 * are bytes): a reader tells "not a snapshot at all" from "a snapshot cut
 * short" with it before it knows the file holds a whole header.
 *
 * @example
 * ```ts
 * startsLikeSnapshot(Buffer.from('\x7fELF')); // FormatProblem('foreign', 'not a Conduit snapshot (magic 7f454c46)')
 * ```
 */
export function startsLikeSnapshot(bytes: Uint8Array, offset = 0, length = bytes.length - offset): FormatProblem | undefined {
  const n = Math.min(length, MAGIC.length);
  for (let i = 0; i < n; i += 1) {
    if (bytes[offset + i] !== MAGIC[i]) return new FormatProblem('foreign', `not a Conduit snapshot (magic ${quoteMagic(bytes, offset, length, 8)})`);
  }
  return undefined;
}

/**
 * Writes the 96-byte header at `target[offset]`, its CRC included.
 *
 * @example
 * ```ts
 * encodeHeader({ ...header, items: 10, sections: 1, payloadBytes: 400 }, buffer, 0);
 * ```
 */
export function encodeHeader(header: SnapshotHeader, target: Uint8Array, offset: number): void {
  target.fill(0, offset, offset + HEADER_SIZE);
  target.set(MAGIC, offset);
  const view = dataView(target, offset, HEADER_SIZE);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, header.sealed ? FLAG_SEALED : 0, true);
  view.setUint32(12, HEADER_SIZE, true);
  view.setFloat64(16, header.createdAt, true);
  writeU64(view, 24, header.items);
  writeU64(view, 32, header.sections);
  writeU64(view, 40, header.payloadBytes);
  writeU64(view, 80, header.versionMark);
  if (header.sealed) {
    target.set(header.salt.subarray(0, SALT_SIZE), offset + 48);
    target.set(header.keyCheck.subarray(0, SEAL_TAG_SIZE), offset + 64);
  }
  view.setUint32(92, crc32cOf(target, offset, offset + 92), true);
}

/**
 * Reads the header at `bytes[offset]` (96 bytes must be there). Checks, in
 * this order: the magic (`foreign`), the version (`newer_version` above 1,
 * before the CRC: a newer format may checksum differently), the CRC, then
 * every field; anything wrong after the magic and version is `corrupt`.
 *
 * @example
 * ```ts
 * const header = decodeHeader(file, 0);
 * if (!(header instanceof FormatProblem) && header.sealed) checkKey(header);
 * ```
 */
export function decodeHeader(bytes: Uint8Array, offset: number): SnapshotHeader | FormatProblem {
  if (bytes.length - offset < HEADER_SIZE) return new FormatProblem('corrupt', `file ends inside the header (${Math.max(0, bytes.length - offset)} of ${HEADER_SIZE} bytes)`);
  const foreign = startsLikeSnapshot(bytes, offset, HEADER_SIZE);
  if (foreign !== undefined) return foreign;
  const view = dataView(bytes, offset, HEADER_SIZE);
  const version = view.getUint16(8, true);
  if (version > FORMAT_VERSION) return new FormatProblem('newer_version', `format version ${version} is newer than this server reads (${FORMAT_VERSION})`);
  if (view.getUint32(92, true) !== crc32cOf(bytes, offset, offset + 92)) return new FormatProblem('corrupt', 'header checksum mismatch');
  if (version !== FORMAT_VERSION) return new FormatProblem('corrupt', `header format version ${version} is not a version (${FORMAT_VERSION} is the first)`);
  const flags = view.getUint16(10, true);
  if ((flags & ~FLAG_SEALED) !== 0) return new FormatProblem('corrupt', `header flags 0x${flags.toString(16)} set unknown bits`);
  const headerLength = view.getUint32(12, true);
  if (headerLength !== HEADER_SIZE) return new FormatProblem('corrupt', `header length ${headerLength} is not ${HEADER_SIZE}`);
  const createdAt = view.getFloat64(16, true);
  if (!Number.isFinite(createdAt) || createdAt < 0) return new FormatProblem('corrupt', `header creation time ${createdAt} is not a time`);
  const items = readU64(view, 24);
  const sections = readU64(view, 32);
  const payloadBytes = readU64(view, 40);
  for (const [name, value] of [['items', items], ['sections', sections], ['payload bytes', payloadBytes]] as const) {
    if (value < 0) return new FormatProblem('corrupt', `header ${name} count is above 2^53 - 1`);
  }
  const sealed = (flags & FLAG_SEALED) !== 0;
  if (!sealed && !allZero(bytes, offset + 48, offset + 80)) return new FormatProblem('corrupt', 'header of an unsealed file has a salt or key check');
  const versionMark = readU64(view, 80);
  if (versionMark < 0 || versionMark > MAX_VERSION_MARK) return new FormatProblem('corrupt', `header version mark ${versionMark < 0 ? '' : `${versionMark} `}is above 2^52`);
  if (!allZero(bytes, offset + 88, offset + 92)) return new FormatProblem('corrupt', 'header reserved bytes 88-91 are not zero');
  return {
    sealed,
    createdAt,
    items,
    sections,
    payloadBytes,
    salt: bytes.slice(offset + 48, offset + 64),
    keyCheck: bytes.slice(offset + 64, offset + 80),
    versionMark,
  };
}

/**
 * Writes a 24-byte section header at `target[offset]`, its own CRC included.
 *
 * @example
 * ```ts
 * encodeSectionHeader({ index: 0, records, length, payloadCrc }, buffer, 0);
 * ```
 */
export function encodeSectionHeader(section: SectionHeader, target: Uint8Array, offset: number): void {
  target.set(SECTION_MAGIC, offset);
  const view = dataView(target, offset, SECTION_HEADER_SIZE);
  view.setUint32(4, section.index, true);
  view.setUint32(8, section.records, true);
  view.setUint32(12, section.length, true);
  view.setUint32(16, section.payloadCrc, true);
  view.setUint32(20, crc32cOf(target, offset, offset + 20), true);
}

/**
 * What a section header must agree with: its place in the file and whether
 * the file is sealed (a sealed payload carries a 16-byte tag).
 */
export interface SectionExpectation {
  index: number;
  sealed: boolean;
}

/**
 * Reads the section header at `bytes[offset]` (24 bytes must be there):
 * magic, CRC, index, a record count of at least 1, and a stored length
 * that can hold that many records and is at most {@link MAX_STORED_SECTION}.
 * Whether the file holds L more bytes is the reader's check (it knows the
 * file's size).
 *
 * @example
 * ```ts
 * const section = decodeSectionHeader(bytes, at, { index: 3, sealed: false });
 * if (section instanceof FormatProblem) return section.message; // e.g. 'section 3 header checksum mismatch'
 * ```
 */
export function decodeSectionHeader(bytes: Uint8Array, offset: number, expect: SectionExpectation): SectionHeader | FormatProblem {
  const i = expect.index;
  if (bytes.length - offset < SECTION_HEADER_SIZE) return new FormatProblem('corrupt', `file ends inside the header of section ${i}`);
  if (!equalAt(bytes, offset, SECTION_MAGIC)) {
    const what = equalAt(bytes, offset, TRAILER_MAGIC.subarray(0, 4)) ? 'the trailer' : `magic ${quoteMagic(bytes, offset, 4, 4)}`;
    return new FormatProblem('corrupt', `section ${i} expected, found ${what}`);
  }
  const view = dataView(bytes, offset, SECTION_HEADER_SIZE);
  if (view.getUint32(20, true) !== crc32cOf(bytes, offset, offset + 20)) return new FormatProblem('corrupt', `section ${i} header checksum mismatch`);
  const index = view.getUint32(4, true);
  if (index !== i) return new FormatProblem('corrupt', `section ${i} is numbered ${index}`);
  const records = view.getUint32(8, true);
  const length = view.getUint32(12, true);
  if (records < 1) return new FormatProblem('corrupt', `section ${i} holds no records`);
  const overhead = expect.sealed ? SEAL_TAG_SIZE : 0;
  if (length > MAX_STORED_SECTION) return new FormatProblem('corrupt', `section ${i} length ${length} is above the largest a section can be (${MAX_STORED_SECTION})`);
  if (length < overhead + records * MIN_RECORD_SIZE) return new FormatProblem('corrupt', `section ${i} length ${length} cannot hold ${records} records`);
  return { index, records, length, payloadCrc: view.getUint32(16, true) };
}

/**
 * Writes the 56-byte trailer at `target[offset]` with the tag given (zero
 * when unsealed) and its CRC. A sealed trailer's tag covers bytes 0–31, so
 * the writer encodes it once to compute the tag, then again with it.
 *
 * @example
 * ```ts
 * encodeTrailer({ items, sections, payloadBytes, tag }, buffer, 0);
 * ```
 */
export function encodeTrailer(trailer: SnapshotTrailer, target: Uint8Array, offset: number): void {
  target.fill(0, offset, offset + TRAILER_SIZE);
  target.set(TRAILER_MAGIC, offset);
  const view = dataView(target, offset, TRAILER_SIZE);
  writeU64(view, 8, trailer.items);
  writeU64(view, 16, trailer.sections);
  writeU64(view, 24, trailer.payloadBytes);
  target.set(trailer.tag.subarray(0, SEAL_TAG_SIZE), offset + 32);
  view.setUint32(48, crc32cOf(target, offset, offset + 48), true);
}

/**
 * Reads the trailer at `bytes[offset]` (56 bytes must be there): magic,
 * CRC, counts, a zero tag when unsealed, zero reserved bytes. Whether the
 * counts agree with the header and the sections, and the sealed tag, are
 * the reader's checks.
 *
 * @example
 * ```ts
 * const trailer = decodeTrailer(bytes, at, header.sealed);
 * ```
 */
export function decodeTrailer(bytes: Uint8Array, offset: number, sealed: boolean): SnapshotTrailer | FormatProblem {
  if (bytes.length - offset < TRAILER_SIZE) return new FormatProblem('corrupt', `file ends inside the trailer`);
  if (!equalAt(bytes, offset, TRAILER_MAGIC)) {
    const what = equalAt(bytes, offset, SECTION_MAGIC) ? 'a section' : `magic ${quoteMagic(bytes, offset, 8, 8)}`;
    return new FormatProblem('corrupt', `trailer expected, found ${what}`);
  }
  const view = dataView(bytes, offset, TRAILER_SIZE);
  if (view.getUint32(48, true) !== crc32cOf(bytes, offset, offset + 48)) return new FormatProblem('corrupt', 'trailer checksum mismatch');
  const items = readU64(view, 8);
  const sections = readU64(view, 16);
  const payloadBytes = readU64(view, 24);
  for (const [name, value] of [['items', items], ['sections', sections], ['payload bytes', payloadBytes]] as const) {
    if (value < 0) return new FormatProblem('corrupt', `trailer ${name} count is above 2^53 - 1`);
  }
  if (!sealed && !allZero(bytes, offset + 32, offset + 48)) return new FormatProblem('corrupt', 'trailer of an unsealed file has a tag');
  if (!allZero(bytes, offset + 52, offset + 56)) return new FormatProblem('corrupt', 'trailer reserved bytes 52-55 are not zero');
  return { items, sections, payloadBytes, tag: bytes.slice(offset + 32, offset + 48) };
}
