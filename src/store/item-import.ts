/**
 * Snapshot records into the slab engine (issue 22, docs/SNAPSHOT.md
 * "Records" and "Loading"): the store side of a load. The file side checks
 * a section's CRCs (and opens it, sealed) and hands its plaintext to
 * {@link ItemImport.add}, which checks every record of the section before
 * it stores any (a reader never serves half-checked data), then stores them
 * in file order, oldest first, so the store's LRU order comes back:
 *
 * - expiry: a record's wall-clock expiry becomes the remaining time on the
 *   store's monotonic clock (one `Date.now() − clock()` offset taken at
 *   `beginImport`); a record already expired is not stored (`expired`);
 * - version: kept (at most the file's version mark), and at the end the
 *   engine's counter goes to `max(mark, highest loaded) + gap` (spec §3.11:
 *   a compare-and-set with a version read before the restart still matches
 *   an unchanged item, and no version given before it is given again);
 * - memory: the store evicts its oldest items to make room, even under
 *   eviction `'none'` (the engine's `'import'` mode), counted in `evicted`
 *   and not in STATS `evictions`; a value over `maxValueLength`, or an item
 *   larger than the whole budget, is `skipped`;
 * - no change hook (nobody is connected yet) and no `total_sets`: the items
 *   count in their shards' `curr_items` as a SET's would, but a load is not
 *   traffic.
 *
 * A key that appears twice (a fuzzy save: docs/SNAPSHOT.md "Order") keeps
 * its later record. Then `records = loaded + expired + evicted + skipped +
 * replaced`, `loaded` being the items the load left in the store.
 *
 * @example
 * ```ts
 * const items = store.beginImport({ maxValueLength: 1024 * 1024 });
 * const problem = items.add(plaintext, 0, plaintext.length, sectionRecords);
 * if (problem !== undefined) items.abort(); // corrupt: the store is empty again
 * else items.finish().loaded;
 * ```
 * @module
 */
import type { ExpirySweep } from './expiry-sweep.js';
import type { ItemCounts } from './item-counts.js';
import type { Shard } from './shard.js';
import { RECORD_HEADER_SIZE } from './item-export.js';
import { MAX_KEY_LENGTH, NONE } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * What a load did with its records, so far or in the end. `records` counts
 * every record of the sections added; `loaded` the items the load left in
 * the store (fewer than it stored when later ones evicted earlier ones);
 * `expired` the records whose expiry had passed; `evicted` the items evicted
 * to make room for newer ones; `skipped` the records too large to store.
 *
 * @example
 * ```ts
 * const { loaded, expired, evicted, skipped } = items.finish();
 * ```
 */
export interface ImportCounts {
  records: number;
  loaded: number;
  expired: number;
  evicted: number;
  skipped: number;
}

/**
 * Why a section's plaintext is not valid records: `offset` bytes from the
 * section's start, and a message for the log line, e.g.
 * `record 12 runs past the end of its section`.
 *
 * @example
 * ```ts
 * const problem = items.add(plaintext, 0, plaintext.length, records);
 * if (problem !== undefined) log(`section 3, byte ${problem.offset}: ${problem.message}`);
 * ```
 */
export interface RecordProblem {
  offset: number;
  message: string;
}

/**
 * What an {@link ItemImport} writes to: the store's parts, and the two
 * things only the store can do, empty itself without telling the change
 * hook and leave import mode. The store keeps {@link ImportCounts} `evicted`
 * itself (its eviction callback sees them).
 *
 * @example
 * ```ts
 * new ItemImport({ engine, counts, expiry, clock, clear: () => flushQuietly(), end: () => leaveImportMode() }, maxValueLength, importCounts);
 * ```
 */
export interface ImportTarget {
  readonly engine: SlabEngine;
  readonly counts: ItemCounts;
  readonly expiry: ExpirySweep;
  readonly clock: () => number;
  /** Removes every item, as FLUSH does but without change notifications. */
  clear(): void;
  /** Leaves import mode: eviction follows the store's policy again, evictions count in STATS. */
  end(): void;
}

/**
 * Largest version a record, or a file's version mark, may hold (docs/SNAPSHOT.md "Records"):
 * 2^52, far above what writes reach (2^52 at a million writes a second is 142 years), and low
 * enough that the counter after a load (mark + gap ≤ 2^52 + 2^51) still counts up by one at
 * a time in a double. A record above it (a forged 2^53 − 1 froze the counter) is refused.
 */
export const MAX_VERSION = 2 ** 52;
/** Largest gap a load leaves above the version mark (docs/SNAPSHOT.md "Versions are kept"). */
export const MAX_VERSION_GAP = 2 ** 51;

/**
 * The version mark and gap of a load: every record's version is at most `mark` (the saving
 * engine's counter when its save ended), and the engine's counter ends at
 * `max(mark, highest loaded) + gap`, above any version the saving process could have given
 * after its save (spec §3.11: a version is never given twice).
 */
export interface ImportVersions {
  /** Undefined: no mark (records up to {@link MAX_VERSION}, the counter above the highest loaded). */
  mark: number | undefined;
  gap: number;
}

/**
 * One load into an empty store; made by `Store.beginImport()`. See the
 * module comment for what it does with each record.
 *
 * @example
 * ```ts
 * const items = store.beginImport({ maxValueLength: 1024 * 1024 });
 * for (const section of sections) {
 *   const problem = items.add(section.plaintext, 0, section.plaintext.length, section.records);
 *   if (problem !== undefined) return items.abort();
 * }
 * const { loaded, evicted } = items.finish();
 * ```
 */
export class ItemImport {
  readonly #target: ImportTarget;
  readonly #maxValueLength: number;
  /** Wall-clock ms minus clock ms, taken once at the start: a record's expiry less this is its clock time. */
  readonly #wallOffset: number;
  readonly #counts: ImportCounts;
  #state: 'importing' | 'finished' | 'aborted' = 'importing';

  readonly #versions: ImportVersions;

  constructor(target: ImportTarget, maxValueLength: number, counts: ImportCounts, versions: ImportVersions = { mark: undefined, gap: 0 }) {
    this.#target = target;
    this.#versions = versions;
    this.#maxValueLength = maxValueLength;
    this.#counts = counts;
    this.#wallOffset = Date.now() - target.clock();
  }

  /** The counts so far (the same object {@link finish} returns). */
  get counts(): ImportCounts {
    return this.#counts;
  }

  /**
   * Checks the records of one section's plaintext, `plaintext[start, end)`,
   * which must be exactly `expectedRecords` records, then stores them in
   * order. Returns the first problem instead, having stored none of the
   * section: never throws on bad bytes.
   *
   * @example
   * ```ts
   * const problem = items.add(plaintext, 0, plaintext.length, 1200);
   * if (problem !== undefined) log(`section 3 is corrupt: ${problem.message}`);
   * ```
   */
  add(plaintext: Uint8Array, start: number, end: number, expectedRecords: number): RecordProblem | undefined {
    if (this.#state !== 'importing') throw new Error(`add() after the import was ${this.#state}`);
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= plaintext.length)) {
      throw new RangeError(`section range [${start}, ${end}) is not inside the ${plaintext.length}-byte plaintext`);
    }
    const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
    const problem = checkRecords(plaintext, view, start, end, expectedRecords, this.#versions.mark ?? MAX_VERSION);
    if (problem !== undefined) return problem;
    const counts = this.#counts;
    const now = this.#target.clock();
    for (let at = start; at < end; ) {
      const keyLength = plaintext[at] as number;
      const valueLength = view.getUint32(at + 1, true);
      const expiry = view.getFloat64(at + 5, true);
      const version = view.getFloat64(at + 13, true);
      const keyStart = at + RECORD_HEADER_SIZE;
      at = keyStart + keyLength + valueLength;
      counts.records += 1;
      if (valueLength > this.#maxValueLength) {
        counts.skipped += 1;
        continue;
      }
      // The remaining time on the store's clock (docs/SNAPSHOT.md: a wall clock moved between save and load moves it too).
      const expiresAt = expiry === 0 ? 0 : expiry - this.#wallOffset;
      if (expiresAt !== 0 && expiresAt <= now) {
        counts.expired += 1;
        continue;
      }
      if (!this.#store(plaintext, keyStart, keyLength, valueLength, expiresAt, version)) counts.skipped += 1;
    }
    counts.loaded = this.#target.engine.size;
    return undefined;
  }

  /** Stores one checked record; false when the item does not fit the whole budget. */
  #store(source: Uint8Array, keyStart: number, keyLength: number, valueLength: number, expiresAt: number, version: number): boolean {
    const { engine, counts, expiry } = this.#target;
    let hash = engine.hashOf(source, keyStart, keyLength);
    const existing = engine.findHashed(hash, source, keyStart, keyLength);
    if (existing !== NONE) {
      // The key appeared earlier in the file: the later record wins. The
      // old item goes first, so the eviction the write may need never
      // picks it while the engine still means to free it.
      counts.uncount(counts.ofHandle(existing), existing);
      engine.remove(existing);
      hash = engine.hashOf(source, keyStart, keyLength);
    }
    const tag = counts.indexOf(source, keyStart, keyLength);
    const handle = engine.replace(NONE, hash, source, keyStart, keyLength, source, keyStart + keyLength, valueLength, expiresAt, tag);
    if (handle < 0) return false; // TOO_LARGE, or NO_MEMORY with nothing left to evict: larger than the budget
    engine.setVersion(handle, version);
    counts.count(counts.shards[tag] as Shard, handle);
    if (expiresAt !== 0) expiry.enqueue(handle, expiresAt);
    return true;
  }

  /**
   * Ends the load: the store leaves import mode (eviction follows its
   * policy again) and serves. Returns the final counts.
   *
   * @example
   * ```ts
   * const { loaded } = items.finish();
   * ```
   */
  finish(): ImportCounts {
    if (this.#state === 'importing') {
      const engine = this.#target.engine;
      engine.raiseVersion(Math.max(this.#versions.mark ?? 0, engine.lastVersion) + this.#versions.gap);
      this.#counts.loaded = engine.size;
      this.#target.end();
      this.#state = 'finished';
    }
    return this.#counts;
  }

  /**
   * Gives the load up (a corrupt or unreadable file): empties the store,
   * without change notifications, and leaves import mode.
   *
   * @example
   * ```ts
   * if (problem !== undefined) items.abort();
   * ```
   */
  abort(): void {
    if (this.#state !== 'importing') return;
    this.#target.clear();
    this.#target.end();
    this.#counts.loaded = 0;
    this.#state = 'aborted';
  }
}

/**
 * The first problem of the records in `bytes[start, end)`, which must be
 * exactly `expected` records filling the range (docs/SNAPSHOT.md
 * "Records"), or undefined when they are all valid.
 *
 * @example
 * ```ts
 * checkRecords(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length, 3);
 * ```
 */
export function checkRecords(bytes: Uint8Array, view: DataView, start: number, end: number, expected: number, mark = MAX_VERSION): RecordProblem | undefined {
  let record = 0;
  let at = start;
  const problem = (message: string): RecordProblem => ({ offset: at - start, message });
  for (; at < end; record += 1) {
    if (record >= expected) return problem(`the section holds more than the ${expected} records its header says`);
    if (at + RECORD_HEADER_SIZE > end) return problem(`record ${record} runs past the end of its section (its header)`);
    const keyLength = bytes[at] as number;
    if (keyLength < 1 || keyLength > MAX_KEY_LENGTH) return problem(`record ${record} has a key length of ${keyLength} (1 to ${MAX_KEY_LENGTH})`);
    const valueLength = view.getUint32(at + 1, true);
    if (at + RECORD_HEADER_SIZE + keyLength + valueLength > end) return problem(`record ${record} runs past the end of its section`);
    const expiry = view.getFloat64(at + 5, true);
    if (!(Number.isInteger(expiry) && expiry >= 0 && expiry <= Number.MAX_SAFE_INTEGER)) {
      return problem(`record ${record} has an expiry of ${expiry} (an integer of ms, 0 = never)`);
    }
    const version = view.getFloat64(at + 13, true);
    if (!(Number.isInteger(version) && version >= 1 && version <= MAX_VERSION)) {
      return problem(`record ${record} has a version of ${version} (an integer from 1 to 2^52)`);
    }
    if (version > mark) return problem(`record ${record} has a version of ${version}, above the file's version mark ${mark}`);
    at += RECORD_HEADER_SIZE + keyLength + valueLength;
  }
  if (record !== expected) return problem(`the section holds ${record} records, its header says ${expected}`);
  return undefined;
}
