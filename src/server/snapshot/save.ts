import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ItemExport, Store } from '../../store/store.js';
import {
  crc32cOf,
  encodeHeader,
  encodeSectionHeader,
  encodeTrailer,
  HEADER_SIZE,
  SALT_SIZE,
  SEAL_TAG_SIZE,
  SECTION_HEADER_SIZE,
  SECTION_MAGIC,
  SECTION_PLAINTEXT_LIMIT,
  TRAILER_SIZE,
  type SnapshotHeader,
} from './format.js';
import { SnapshotSeal, SNAPSHOT_KEY_SIZE } from './seal.js';
import { Slices } from './slices.js';
import { SnapshotError } from './snapshot-error.js';

/**
 * Saving a snapshot (docs/SNAPSHOT.md §Saving): the store's items, oldest
 * first, in sections of up to 4 MiB of records, to `FILE.tmp-<pid>`, then
 * fsync, rename over FILE and fsync of the directory, so that after a crash
 * at any point FILE is the previous snapshot or the new one.
 *
 * It runs beside the traffic: every stretch of synchronous work (collecting
 * handles, copying records, checksumming, sealing) is bounded by `sliceMs`
 * and then yields the event loop, and the writes are async
 * (`FileHandle.write`), the next section filled while the kernel copies the
 * last. Two section buffers are reused for the whole save; only a record
 * larger than 4 MiB (its own section) needs a buffer of its size.
 *
 * @example
 * ```ts
 * const saved = await saveSnapshot(store, '/var/lib/conduit/cache.snap');
 * log.info(`snapshot saved: ${saved.items} items, ${saved.bytes} bytes in ${saved.durationMs} ms`);
 * ```
 * @module
 */

/** What a save did. */
export interface SaveResult {
  file: string;
  /** Wall-clock ms when the save began (the file's creation time). */
  time: number;
  durationMs: number;
  /** Bytes of the file. */
  bytes: number;
  /** Records written. */
  items: number;
  sections: number;
  /** The longest stretch of synchronous work, ms. */
  longestSliceMs: number;
  /** Of `durationMs`, the final fsyncs of the file and its directory. */
  syncMs: number;
}

/** Options of {@link saveSnapshot}. */
export interface SaveOptions {
  /** The 32-byte `--snapshot-key`: every section sealed (docs/SNAPSHOT.md §Sealing). */
  key?: Uint8Array;
  /** The most ms one slice of synchronous work may take before it yields (default 4; the shutdown save: Infinity). */
  sliceMs?: number;
}

/** Default {@link SaveOptions.sliceMs}. */
export const DEFAULT_SLICE_MS = 4;
/**
 * Engine slots one `collect` call visits between two looks at the clock: 16,384 took 2–13 ms of
 * CPU on a loaded machine (the outside review of issue 22), past the few ms a slice may take.
 */
const COLLECT_SLOTS = 2_048;
/** Collected items one `order` step looks at between two looks at the clock (about 0.3 ms). */
const ORDER_STEP = 32_768;
/** Bytes of records one `fill` call writes between two looks at the clock. */
const FILL_STEP = 256 * 1024;
/** A section buffer: header, up to 4 MiB of records, the tag. */
const SECTION_BUFFER_SIZE = SECTION_HEADER_SIZE + SECTION_PLAINTEXT_LIMIT + SEAL_TAG_SIZE;

function checkOptions(options: SaveOptions): { key: Uint8Array | undefined; sliceMs: number } {
  const { key, sliceMs = DEFAULT_SLICE_MS } = options;
  if (typeof sliceMs !== 'number' || !(sliceMs > 0)) throw new TypeError(`sliceMs must be a positive number of ms (Infinity: never yield), got ${String(sliceMs)}`);
  if (key !== undefined && (!(key instanceof Uint8Array) || key.length !== SNAPSHOT_KEY_SIZE)) {
    throw new TypeError(`key must be ${SNAPSHOT_KEY_SIZE} bytes, got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`);
  }
  return { key, sliceMs };
}

/**
 * Writes `buffer[0, length)` at `position`, all of it (a write may be
 * short); resolves to undefined or the error, never rejects, so a write in
 * flight while the next section is filled cannot become an unhandled
 * rejection.
 */
async function writeAll(handle: FileHandle, buffer: Uint8Array, length: number, position: number): Promise<unknown> {
  try {
    for (let done = 0; done < length; ) {
      const { bytesWritten } = await handle.write(buffer, done, length - done, position + done);
      done += bytesWritten;
    }
    return undefined;
  } catch (err) {
    return err ?? new Error('write failed');
  }
}

/** The message of a failure: Node's errno messages start with the code (`ENOSPC: no space left on device, write`). */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** fsync of a directory, so a rename in it is on disk. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Saves `store` to `file` (docs/SNAPSHOT.md): `FILE.tmp-<pid>` (mode 0600:
 * it holds the cache's values), fsync, rename over `file`, fsync of the
 * directory. Resolves to what was written; rejects with a
 * {@link SnapshotError} (`SNAPSHOT_FAILED`, the file and the errno in its
 * message) after removing the temporary file, leaving `file` as it was.
 * Throws a `TypeError` for a bad option.
 *
 * @example
 * ```ts
 * await saveSnapshot(store, 'cache.snap', { key, sliceMs: 4 });            // periodic: beside the traffic
 * await saveSnapshot(store, 'cache.snap', { key, sliceMs: Infinity });     // at shutdown, after the drain
 * ```
 */
export async function saveSnapshot(store: Store, file: string, options: SaveOptions = {}): Promise<SaveResult> {
  const { key, sliceMs } = checkOptions(options);
  const time = Date.now();
  const started = performance.now();
  const tmp = `${file}.tmp-${process.pid}`;
  const slices = new Slices(sliceMs);
  let handle: FileHandle | undefined;
  try {
    handle = await slices.wait(open(tmp, 'w', 0o600));
    const writer = new SectionWriter(handle, slices, time, key, () => store.lastVersion);
    await writer.start();
    const items = store.beginExport();
    while (!items.collect(COLLECT_SLOTS)) if (slices.due()) await slices.yield();
    while (!items.order(ORDER_STEP)) if (slices.due()) await slices.yield();
    await writer.writeSections(items);
    const bytes = await writer.finish();
    const synced = performance.now();
    await slices.wait(handle.sync());
    const toClose = handle;
    handle = undefined;
    await slices.wait(toClose.close());
    await slices.wait(rename(tmp, file));
    await slices.wait(syncDirectory(dirname(file)));
    slices.end();
    const ended = performance.now();
    return {
      file,
      time,
      durationMs: ended - started,
      bytes,
      items: writer.items,
      sections: writer.sections,
      longestSliceMs: slices.longest,
      syncMs: ended - synced,
    };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new SnapshotError(`snapshot save to ${file} failed: ${reason(err)}`);
  }
}

/**
 * The file being written: the header (twice), the sections, the trailer,
 * with at most one write in flight while the next section is filled.
 */
class SectionWriter {
  readonly #handle: FileHandle;
  readonly #slices: Slices;
  readonly #header: SnapshotHeader;
  readonly #seal: SnapshotSeal | undefined;
  readonly #headerBytes = new Uint8Array(HEADER_SIZE);
  /** The two regular section buffers, made on first use (an empty store needs neither). */
  readonly #buffers: Uint8Array[] = [];
  #turn = 0;
  /** A buffer for a record larger than 4 MiB, kept for the next such record. */
  #large: Uint8Array | undefined;
  /** The write in flight and the buffer it reads from. */
  #inflight: Promise<unknown> | undefined;
  #inflightBuffer: Uint8Array | undefined;
  /** Where the next section goes. */
  #position = HEADER_SIZE;
  #items = 0;
  #sections = 0;
  #payloadBytes = 0;
  /** Records in the section being filled. */
  #sectionRecords = 0;
  /** The store's version counter, read for the header's version mark when the save ends. */
  readonly #lastVersion: () => number;

  constructor(handle: FileHandle, slices: Slices, time: number, key: Uint8Array | undefined, lastVersion: () => number) {
    this.#handle = handle;
    this.#lastVersion = lastVersion;
    this.#slices = slices;
    const sealed = key !== undefined;
    const zero = new Uint8Array(SALT_SIZE);
    this.#header = { sealed, createdAt: time, items: 0, sections: 0, payloadBytes: 0, salt: sealed ? randomBytes(SALT_SIZE) : zero, keyCheck: zero, versionMark: 0 };
    if (key !== undefined) {
      // The seal reads header bytes 0–15 and the salt, which the counts do not change.
      encodeHeader(this.#header, this.#headerBytes, 0);
      this.#seal = new SnapshotSeal(key, this.#headerBytes, 0);
      this.#header.keyCheck = this.#seal.keyCheck();
    }
  }

  /** Records written so far. */
  get items(): number {
    return this.#items;
  }

  /** Sections written so far. */
  get sections(): number {
    return this.#sections;
  }

  /** The header with zero counts at offset 0: a file cut short never looks complete. */
  async start(): Promise<void> {
    encodeHeader(this.#header, this.#headerBytes, 0);
    await this.#write(this.#headerBytes, HEADER_SIZE, 0);
    await this.#flush();
  }

  async #write(buffer: Uint8Array, length: number, position: number): Promise<void> {
    await this.#flush();
    this.#inflight = writeAll(this.#handle, buffer, length, position);
    this.#inflightBuffer = buffer;
  }

  /** Waits for the write in flight; throws its error. */
  async #flush(): Promise<void> {
    const inflight = this.#inflight;
    if (inflight === undefined) return;
    this.#inflight = undefined;
    this.#inflightBuffer = undefined;
    const err = await this.#slices.wait(inflight);
    if (err !== undefined) throw err;
  }

  #regular(): Uint8Array {
    const turn = this.#turn;
    return (this.#buffers[turn] ??= new Uint8Array(SECTION_BUFFER_SIZE));
  }

  #largeOf(recordSize: number): Uint8Array {
    const size = SECTION_HEADER_SIZE + recordSize + SEAL_TAG_SIZE;
    if (this.#large === undefined || this.#large.length < size) this.#large = new Uint8Array(size);
    return this.#large;
  }

  /** Every record `items` still has, in sections. */
  async writeSections(items: ItemExport): Promise<void> {
    for (;;) {
      const size = items.nextRecordSize();
      if (size === 0) break;
      const buffer = size > SECTION_PLAINTEXT_LIMIT ? this.#largeOf(size) : this.#regular();
      if (buffer === this.#inflightBuffer) {
        await this.#flush(); // the store may have changed meanwhile: look at the next record again
        continue;
      }
      const plaintext = size > SECTION_PLAINTEXT_LIMIT ? this.#fillOne(items, buffer, size) : await this.#fillSection(items, buffer);
      if (this.#sectionRecords === 0) continue;
      await this.#writeSection(buffer, plaintext, this.#sectionRecords);
      if (buffer !== this.#large) this.#turn ^= 1;
      if (this.#slices.due()) await this.#slices.yield();
    }
    await this.#flush();
  }

  /** The one record larger than 4 MiB, alone in its section. */
  #fillOne(items: ItemExport, buffer: Uint8Array, size: number): number {
    const written = items.fill(buffer, SECTION_HEADER_SIZE, SECTION_HEADER_SIZE + size);
    this.#sectionRecords = items.filled;
    return written;
  }

  /** Up to 4 MiB of whole records into `buffer`, in steps that look at the clock between them. */
  async #fillSection(items: ItemExport, buffer: Uint8Array): Promise<number> {
    const limit = SECTION_HEADER_SIZE + SECTION_PLAINTEXT_LIMIT;
    let at = SECTION_HEADER_SIZE;
    let records = 0;
    for (;;) {
      let written = items.fill(buffer, at, Math.min(at + FILL_STEP, limit));
      records += items.filled;
      if (written === 0) {
        // The next record does not fit the step: write it alone if it fits the section.
        const next = items.nextRecordSize();
        if (next === 0 || next > SECTION_PLAINTEXT_LIMIT || at + next > limit) break;
        written = items.fill(buffer, at, at + next);
        records += items.filled;
        if (written === 0) break;
      }
      at += written;
      if (this.#slices.due()) await this.#slices.yield();
    }
    this.#sectionRecords = records;
    return at - SECTION_HEADER_SIZE;
  }

  /** Checksums (and seals) the section in `buffer` and starts its write. */
  async #writeSection(buffer: Uint8Array, plaintext: number, records: number): Promise<void> {
    const index = this.#sections;
    // Magic, index and records first: with a key they are the section's associated data.
    buffer.set(SECTION_MAGIC, 0);
    const view = new DataView(buffer.buffer, buffer.byteOffset, SECTION_HEADER_SIZE);
    view.setUint32(4, index, true);
    view.setUint32(8, records, true);
    let length = plaintext;
    if (this.#seal !== undefined) {
      this.#seal.sealSection(index, buffer, 0, buffer, SECTION_HEADER_SIZE, plaintext);
      length += SEAL_TAG_SIZE;
    }
    const payloadCrc = crc32cOf(buffer, SECTION_HEADER_SIZE, SECTION_HEADER_SIZE + length);
    encodeSectionHeader({ index, records, length, payloadCrc }, buffer, 0);
    await this.#write(buffer, SECTION_HEADER_SIZE + length, this.#position);
    this.#position += SECTION_HEADER_SIZE + length;
    this.#sections += 1;
    this.#items += records;
    this.#payloadBytes += length;
  }

  /** The trailer, then the header again with the counts; resolves to the file's size. */
  async finish(): Promise<number> {
    await this.#flush();
    const counts = { items: this.#items, sections: this.#sections, payloadBytes: this.#payloadBytes };
    const trailer = new Uint8Array(TRAILER_SIZE);
    encodeTrailer({ ...counts, tag: new Uint8Array(SEAL_TAG_SIZE) }, trailer, 0);
    if (this.#seal !== undefined) encodeTrailer({ ...counts, tag: this.#seal.trailerTag(trailer, 0) }, trailer, 0);
    await this.#write(trailer, TRAILER_SIZE, this.#position);
    // Read after the last record was filled: every record's version is at most it (a fuzzy save's too).
    Object.assign(this.#header, counts, { versionMark: this.#lastVersion() });
    encodeHeader(this.#header, this.#headerBytes, 0);
    await this.#write(this.#headerBytes, HEADER_SIZE, 0);
    await this.#flush();
    return this.#position + TRAILER_SIZE;
  }
}
