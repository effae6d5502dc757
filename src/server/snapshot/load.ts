import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { ItemImport, Store } from '../../store/store.js';
import {
  crc32cOf,
  decodeHeader,
  decodeSectionHeader,
  decodeTrailer,
  FormatProblem,
  HEADER_SIZE,
  MAX_VERSION_MARK,
  SEAL_TAG_SIZE,
  SECTION_HEADER_SIZE,
  startsLikeSnapshot,
  TRAILER_SIZE,
  type SnapshotHeader,
} from './format.js';
import { SnapshotSeal, SNAPSHOT_KEY_SIZE } from './seal.js';

/**
 * Loading a snapshot (docs/SNAPSHOT.md §Loading, §Bad files): read the
 * file in large chunks, check the header, then each section's two CRCs
 * (and, sealed, its tag) before a single record of it reaches the store,
 * then the trailer, the counts and the end of the file. Anything wrong
 * anywhere empties the store again (`ItemImport.abort`) and comes back as
 * the result with a one-line reason; nothing here throws for a bad,
 * missing or unreadable file, and nothing is renamed (the policy,
 * ./snapshots.ts, does that).
 *
 * The reads are synchronous, in chunks of 8 MiB: nothing else runs while
 * the server loads (it does not listen yet), and a small file costs four
 * system calls rather than four trips through the thread pool.
 *
 * No length read from the file is trusted before it is checked: the header
 * is checksummed first, and a section's length is bounded by what is left
 * of the file and by 64 MiB + 1 KiB before anything is allocated or read
 * for it.
 *
 * @example
 * ```ts
 * const loaded = await loadSnapshot(store, 'cache.snap', { maxValueLength: 1 << 20 });
 * if (loaded.result !== 'loaded' && loaded.result !== 'missing') log.warn(`snapshot ${loaded.file}: ${loaded.message}`);
 * ```
 * @module
 */

/** What a load found; the store is empty unless `result` is `'loaded'`. */
export type LoadOutcome = 'loaded' | 'missing' | 'corrupt' | 'unreadable' | 'wrong_key' | 'unsealed' | 'sealed' | 'newer_version';

/** What a load did. */
export interface LoadResult {
  result: LoadOutcome;
  file: string;
  /** Wall-clock ms when the load began. */
  time: number;
  durationMs: number;
  /** Bytes of the file (0 when missing or unreadable). */
  bytes: number;
  records: number;
  loaded: number;
  expired: number;
  evicted: number;
  skipped: number;
  /** The one log line's reason, for every result but 'loaded' and 'missing'. */
  message?: string;
  /** The snapshot's creation time (wall-clock ms), when the header was read. */
  created?: number;
}

/** Options of {@link loadSnapshot}. */
export interface LoadOptions {
  /** The 32-byte `--snapshot-key`: the file must be sealed with it. */
  key?: Uint8Array;
  /** Values longer than this are skipped (`--max-value-size`). */
  maxValueLength: number;
}

/**
 * How far above the file's version mark the counter goes after a load (docs/SNAPSHOT.md
 * "Versions are kept"): the versions the saving process could have given after its save
 * began and before it died (a crash after a periodic save), at up to ~1M writes a second
 * (1,024 a ms), at least 2^32, at most 2^51. A wall clock set back gives the minimum.
 *
 * @example
 * ```ts
 * versionGapOf(Date.now() - 60_000, Date.now()); // 2^32 (a minute is 61M versions, below it)
 * ```
 */
export function versionGapOf(createdAt: number, now: number): number {
  const elapsed = Math.max(0, Math.ceil(now - createdAt));
  return Math.min(2 ** 51, Math.max(2 ** 32, elapsed * 1024));
}

/** Versions kept free above a load's counter for the writes before the next save (docs/SNAPSHOT.md "Versions are kept"). */
const VERSION_ROOM = 2 ** 50;

/** Bytes one read asks for: several sections at a time. */
const READ_CHUNK = 8 * 1024 * 1024;

const thousands = (n: number): string => n.toLocaleString('en-US');

/** A load that stops: its outcome and reason. */
class Stop {
  readonly result: Exclude<LoadOutcome, 'loaded' | 'missing'>;
  readonly message: string;
  constructor(result: Exclude<LoadOutcome, 'loaded' | 'missing'>, message: string) {
    this.result = result;
    this.message = message;
  }
}

const corrupt = (message: string): Stop => new Stop('corrupt', message);

function fromProblem(problem: FormatProblem): Stop {
  return new Stop(problem.kind === 'newer_version' ? 'newer_version' : 'corrupt', problem.message);
}

/** An errno failure of the file system (as opposed to a bug, which is rethrown). */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

/**
 * Sequential reads of the file into one reusable buffer, handing out views
 * of `n` contiguous bytes. Callers ask only for lengths already checked
 * against the file's size and the largest section (64 MiB + 1 KiB).
 */
class ChunkReader {
  readonly #fd: number;
  readonly #size: number;
  #buffer = new Uint8Array(0);
  /** Unconsumed bytes are `#buffer[#start, #end)`; `#filePosition` is the file offset of `#end`. */
  #start = 0;
  #end = 0;
  #filePosition = 0;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.#size = size;
  }

  get buffer(): Uint8Array {
    return this.#buffer;
  }

  /** The file offset of the next unconsumed byte. */
  get position(): number {
    return this.#filePosition - (this.#end - this.#start);
  }

  /** Bytes of the file not consumed yet. */
  get remaining(): number {
    return this.#size - this.position;
  }

  /** Makes `n` bytes available at `buffer[return value]`; false when the file ended first (it shrank). */
  need(n: number): number | false {
    if (this.#end - this.#start >= n) return this.#start;
    const held = this.#end - this.#start;
    const wanted = Math.min(Math.max(n, READ_CHUNK), this.#size - this.position);
    if (this.#buffer.length < wanted) {
      const grown = new Uint8Array(wanted);
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = grown;
    } else {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = held;
    while (this.#end < n) {
      const room = Math.min(this.#buffer.length - this.#end, this.#size - this.#filePosition);
      if (room <= 0) return false;
      const bytesRead = readSync(this.#fd, this.#buffer, this.#end, room, this.#filePosition);
      if (bytesRead === 0) return false;
      this.#end += bytesRead;
      this.#filePosition += bytesRead;
    }
    return this.#start;
  }

  consume(n: number): void {
    this.#start += n;
  }
}

/**
 * Loads `file` into `store`, which must be empty (`beginImport` throws
 * otherwise: a bug, not a bad file). Resolves to the result; never rejects
 * for a missing, unreadable or bad file, and leaves the store empty unless
 * the result is `'loaded'`. Throws a `TypeError` for a bad option.
 *
 * @example
 * ```ts
 * const r = await loadSnapshot(store, 'cache.snap', { key, maxValueLength: 1 << 20 });
 * // r.result: 'loaded', or e.g. 'corrupt' with r.message 'section 3 payload checksum mismatch'
 * ```
 */
export async function loadSnapshot(store: Store, file: string, options: LoadOptions): Promise<LoadResult> {
  const { key, maxValueLength } = options;
  if (key !== undefined && (!(key instanceof Uint8Array) || key.length !== SNAPSHOT_KEY_SIZE)) {
    throw new TypeError(`key must be ${SNAPSHOT_KEY_SIZE} bytes, got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`);
  }
  if (!Number.isSafeInteger(maxValueLength) || maxValueLength < 0) throw new TypeError(`maxValueLength must be a non-negative integer, got ${maxValueLength}`);
  const time = Date.now();
  const started = performance.now();
  const result: LoadResult = { result: 'loaded', file, time, durationMs: 0, bytes: 0, records: 0, loaded: 0, expired: 0, evicted: 0, skipped: 0 };
  const done = (): LoadResult => ({ ...result, durationMs: performance.now() - started });
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put where the file should be must not hang the start (fstat then refuses it);
    // a regular file's reads ignore the flag.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isSystemError(err) && err.code === 'ENOENT') return { ...done(), result: 'missing' };
    if (!isSystemError(err)) throw err;
    return { ...done(), result: 'unreadable', message: `cannot open: ${err.message}` };
  }
  const load = new Load(store, fd, key, maxValueLength);
  try {
    const stop = load.run(result);
    if (stop !== undefined) return { ...done(), result: stop.result, message: stop.message };
    return done();
  } catch (err) {
    load.abort();
    if (!isSystemError(err)) throw err;
    return { ...done(), result: 'unreadable', message: `read failed: ${err.message}` };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // a read-only descriptor: nothing was written that a failed close could lose
    }
  }
}

/** One load's state: the file, the import once begun, the seal when keyed. */
class Load {
  readonly #store: Store;
  readonly #fd: number;
  readonly #key: Uint8Array | undefined;
  readonly #maxValueLength: number;
  #import: ItemImport | undefined;

  constructor(store: Store, fd: number, key: Uint8Array | undefined, maxValueLength: number) {
    this.#store = store;
    this.#fd = fd;
    this.#key = key;
    this.#maxValueLength = maxValueLength;
  }

  /** Empties the store again if the import began. */
  abort(): void {
    this.#import?.abort();
    this.#import = undefined;
  }

  /** Reads the whole file into the store, filling `result`'s counts; the reason to stop, with the store emptied, or undefined when loaded. */
  run(result: LoadResult): Stop | undefined {
    const stat = fstatSync(this.#fd);
    if (stat.isDirectory()) return new Stop('unreadable', 'is a directory');
    if (!stat.isFile()) return new Stop('unreadable', 'is not a regular file');
    const size = stat.size;
    result.bytes = size;
    const stop = this.#read(size, result);
    if (stop !== undefined) this.abort();
    return stop;
  }

  #read(size: number, result: LoadResult): Stop | undefined {
    if (size === 0) return corrupt('the file is empty');
    const reader = new ChunkReader(this.#fd, size);
    const first = Math.min(size, HEADER_SIZE);
    const at = reader.need(first);
    if (at === false) return corrupt(`file ends inside the header (it shrank while read)`);
    const foreign = startsLikeSnapshot(reader.buffer, at, first);
    if (foreign !== undefined) return fromProblem(foreign);
    if (size < HEADER_SIZE) return corrupt(`file ends inside the header (${thousands(size)} of ${HEADER_SIZE} bytes)`);
    const header = decodeHeader(reader.buffer, at);
    if (header instanceof FormatProblem) return fromProblem(header);
    result.created = header.createdAt;
    const seal = this.#sealFor(header, reader.buffer, at);
    if (seal instanceof Stop) return seal;
    reader.consume(HEADER_SIZE);
    const versionGap = versionGapOf(header.createdAt, Date.now());
    // The versions this load hands out must stay below what the next save's reader accepts, with
    // room for the writes in between: a forged mark near 2^52 would otherwise have this server
    // write a file its own reader refuses (issue 22's outside review). Real marks are near 2^36.
    if (header.versionMark + versionGap > MAX_VERSION_MARK - VERSION_ROOM) {
      return corrupt(`header version mark ${header.versionMark} leaves no room for new versions (with the gap of ${versionGap}, above 2^52 - 2^50)`);
    }
    const items = (this.#import = this.#store.beginImport({ maxValueLength: this.#maxValueLength, versionMark: header.versionMark, versionGap }));
    const sections = this.#sections(reader, header, seal, items);
    if (sections instanceof Stop) return sections;
    const trailer = this.#trailer(reader, header, seal, sections);
    if (trailer !== undefined) return trailer;
    this.#import = undefined;
    Object.assign(result, items.finish());
    return undefined;
  }

  /** The seal a sealed file opens with, undefined for an unsealed one, or why the key and the file do not go together. */
  #sealFor(header: SnapshotHeader, bytes: Uint8Array, at: number): SnapshotSeal | undefined | Stop {
    const key = this.#key;
    if (!header.sealed) return key === undefined ? undefined : new Stop('unsealed', 'not sealed, but --snapshot-key is set');
    if (key === undefined) return new Stop('sealed', 'sealed, but no --snapshot-key was given');
    const seal = new SnapshotSeal(key, bytes, at);
    return seal.checkKey(header.keyCheck) ? seal : new Stop('wrong_key', 'sealed with another --snapshot-key');
  }

  /** Every section, checked then imported; the totals seen, or why it stopped. */
  #sections(reader: ChunkReader, header: SnapshotHeader, seal: SnapshotSeal | undefined, items: ItemImport): { items: number; payloadBytes: number } | Stop {
    const sectionHeader = new Uint8Array(SECTION_HEADER_SIZE);
    const seen = { items: 0, payloadBytes: 0 };
    for (let i = 0; i < header.sections; i += 1) {
      const start = reader.position;
      if (reader.remaining < SECTION_HEADER_SIZE) return corrupt(`file ends inside section ${i} (at byte ${thousands(start + reader.remaining)} of ${thousands(start + SECTION_HEADER_SIZE)} expected)`);
      let at = reader.need(SECTION_HEADER_SIZE);
      if (at === false) return corrupt(`file ends inside section ${i} (it shrank while read)`);
      const section = decodeSectionHeader(reader.buffer, at, { index: i, sealed: header.sealed });
      if (section instanceof FormatProblem) return fromProblem(section);
      // Kept aside: the next read may move the buffer's bytes, and sealed sections need bytes 0–11.
      sectionHeader.set(reader.buffer.subarray(at, at + SECTION_HEADER_SIZE));
      reader.consume(SECTION_HEADER_SIZE);
      const length = section.length;
      const end = start + SECTION_HEADER_SIZE + length;
      if (length > reader.remaining) return corrupt(`file ends inside section ${i} (at byte ${thousands(start + SECTION_HEADER_SIZE + reader.remaining)} of ${thousands(end)} expected)`);
      seen.items += section.records;
      seen.payloadBytes += length;
      if (seen.items > header.items) return corrupt(`section ${i} brings the records to ${thousands(seen.items)}, more than the header's ${thousands(header.items)}`);
      if (seen.payloadBytes > header.payloadBytes) return corrupt(`section ${i} brings the payload to ${thousands(seen.payloadBytes)} bytes, more than the header's ${thousands(header.payloadBytes)}`);
      // length ≤ 64 MiB + 1 KiB (decodeSectionHeader) and ≤ what the file holds: safe to read into memory.
      at = reader.need(length);
      if (at === false) return corrupt(`file ends inside section ${i} (it shrank while read)`);
      const bytes = reader.buffer;
      if (crc32cOf(bytes, at, at + length) !== section.payloadCrc) return corrupt(`section ${i} payload checksum mismatch`);
      let plaintext = length;
      if (seal !== undefined) {
        if (!seal.openSection(i, sectionHeader, 0, bytes, at, length)) return corrupt(`section ${i} does not authenticate (sealed payload altered)`);
        plaintext -= SEAL_TAG_SIZE;
      }
      const problem = items.add(bytes, at, at + plaintext, section.records);
      if (problem !== undefined) return corrupt(`section ${i} at byte ${thousands(start + SECTION_HEADER_SIZE + problem.offset)}: ${problem.message}`);
      reader.consume(length);
    }
    return seen;
  }

  /** The trailer: its counts against the header's and the sections', its tag, then the end of the file. */
  #trailer(reader: ChunkReader, header: SnapshotHeader, seal: SnapshotSeal | undefined, seen: { items: number; payloadBytes: number }): Stop | undefined {
    const start = reader.position;
    if (reader.remaining < TRAILER_SIZE) {
      const what = reader.remaining === 0 ? 'before its trailer' : 'inside the trailer';
      return corrupt(`file ends ${what} (at byte ${thousands(start + reader.remaining)} of ${thousands(start + TRAILER_SIZE)} expected)`);
    }
    const at = reader.need(TRAILER_SIZE);
    if (at === false) return corrupt('file ends inside the trailer (it shrank while read)');
    const trailer = decodeTrailer(reader.buffer, at, header.sealed);
    if (trailer instanceof FormatProblem) return fromProblem(trailer);
    if (trailer.items !== header.items || trailer.sections !== header.sections || trailer.payloadBytes !== header.payloadBytes) {
      const counts = (c: { items: number; sections: number; payloadBytes: number }): string => `${c.items} items, ${c.sections} sections, ${c.payloadBytes} payload bytes`;
      return corrupt(`trailer counts (${counts(trailer)}) disagree with the header (${counts(header)})`);
    }
    if (seen.items !== header.items || seen.payloadBytes !== header.payloadBytes) {
      return corrupt(`the sections hold ${thousands(seen.items)} records in ${thousands(seen.payloadBytes)} payload bytes, the header says ${thousands(header.items)} in ${thousands(header.payloadBytes)}`);
    }
    if (seal !== undefined && !seal.checkTrailer(reader.buffer, at, trailer.tag)) return corrupt('trailer does not authenticate (file cut or altered)');
    reader.consume(TRAILER_SIZE);
    if (reader.remaining > 0) return corrupt(`${thousands(reader.remaining)} bytes after the trailer`);
    return undefined;
  }
}
