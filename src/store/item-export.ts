/**
 * Items out of the slab engine as snapshot records (issue 22,
 * docs/SNAPSHOT.md "Records" and "Order and what is saved"): the store side
 * of a save. Three steps, each a bounded slice the saver interleaves with
 * the traffic:
 *
 * ```
 * collect(slots) … collect(slots) → true   visit the pages' slots in order: handle + access stamp of each live item
 * order()                                  bucket sort by access (65,536 buckets, O(items)): oldest first
 * fill(target, offset, end) …              copy header, key and value of the next items straight from the pages
 * ```
 *
 * Nothing is allocated per item: the handles and stamps go into growable
 * typed arrays, and a record is written from the item's chunk into the
 * caller's buffer (`copyKeyAndValue`: one copy, key and value being
 * contiguous in a chunk), with no intermediate copy.
 *
 * Fuzzy, as the doc says: between slices the traffic goes on, so `fill`
 * looks at each handle again when it writes it. A handle whose item is gone
 * (deleted, evicted, moved by an overwrite into another class) or expired
 * is skipped; a handle whose slot now holds another item writes that item.
 * An item that lives unchanged through the whole save keeps its slot, so it
 * is written exactly once, with its value; an item written meanwhile may be
 * written with its old or new value, twice, or not at all (the later record
 * wins at load). Each record is copied within one synchronous `fill` call,
 * so no record is torn.
 *
 * @example
 * ```ts
 * const items = store.beginExport();
 * while (!items.collect(65_536)) await yieldToEventLoop();
 * items.order();
 * const section = new Uint8Array(4 * 1024 * 1024);
 * const length = items.fill(section, 0, section.length); // items.filled records
 * ```
 * @module
 */
import { NONE } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Bytes of a record's header (docs/SNAPSHOT.md "Records"): key length u8, value length u32, expiry f64, version f64.
 *
 * @example
 * ```ts
 * const recordBytes = RECORD_HEADER_SIZE + key.length + value.length;
 * ```
 */
export const RECORD_HEADER_SIZE = 21;

/**
 * Buckets of the access-stamp range {@link ItemExport.order} sorts into
 * (docs/SNAPSHOT.md "Order"): items whose stamps fall in one bucket keep
 * their slot order. With the range spread over 65,536 buckets, an item is
 * out of place by at most 1/65,536 of the range of stamps.
 *
 * @example
 * ```ts
 * const tolerance = Math.ceil((newestStamp - oldestStamp + 1) / ORDER_BUCKETS); // stamps two items may swap by
 * ```
 */
export const ORDER_BUCKETS = 65_536;

/** Handles collected before the first growth of the arrays. */
const INITIAL_CAPACITY = 1024;

/**
 * What an {@link ItemExport} reads: the store's engine and its monotonic clock.
 *
 * @example
 * ```ts
 * new ItemExport({ engine, clock: () => performance.now() });
 * ```
 */
export interface ExportSource {
  readonly engine: SlabEngine;
  readonly clock: () => number;
}

/**
 * One save's walk over the store's items; made by `Store.beginExport()`.
 * See the module comment for the steps and the fuzzy contract.
 *
 * @example
 * ```ts
 * const items = store.beginExport();
 * while (!items.collect(1 << 16));
 * items.order();
 * while (items.nextRecordSize() > 0) items.fill(buffer, 0, buffer.length);
 * ```
 */
export class ItemExport {
  readonly #engine: SlabEngine;
  readonly #clock: () => number;
  /** Wall-clock ms minus clock ms, taken once at the start: a record's expiry is its clock time plus this, rounded. */
  readonly #wallOffset: number;
  #state: 'collecting' | 'collected' | 'ordered' = 'collecting';
  /** The engine's scan cursor; {@link NONE} once every page was visited. */
  #cursor = 0;
  #handles: Int32Array;
  #access: Float64Array;
  #count = 0;
  /** Clock time of the running {@link collect} slice (what "expired" means in it). */
  #now = 0;
  /** The handles oldest first, once {@link order} ran. */
  #ordered = new Int32Array(0);
  /** The next position in {@link #ordered} to write. */
  #next = 0;
  #filled = 0;
  /** A view of the last {@link fill} target, for its unaligned header fields. */
  #view: DataView | undefined;

  constructor(source: ExportSource) {
    this.#engine = source.engine;
    this.#clock = source.clock;
    this.#wallOffset = Date.now() - source.clock();
    // Room for the items there are now and a sixteenth more, so a save rarely grows (copies) its arrays:
    // 12 bytes an item while collecting, then 4 (the ordered handles).
    const capacity = Math.max(INITIAL_CAPACITY, source.engine.size + (source.engine.size >> 4));
    this.#handles = new Int32Array(capacity);
    this.#access = new Float64Array(capacity);
  }

  /** Items collected (live and unexpired when their slot was visited). */
  get collected(): number {
    return this.#count;
  }

  /** Records written by the last {@link fill}. */
  get filled(): number {
    return this.#filled;
  }

  /**
   * Visits up to `slots` chunk slots of the engine, in page and slot order
   * from where the last call stopped, keeping the handle and access stamp of
   * every live, unexpired item; true once every page was visited.
   *
   * @example
   * ```ts
   * while (!items.collect(65_536)) await setImmediatePromise();
   * ```
   */
  collect(slots: number): boolean {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
    if (this.#state !== 'collecting') return true;
    this.#now = this.#clock();
    this.#cursor = this.#engine.scan(this.#cursor, slots, this.#visit);
    if (this.#cursor !== NONE) return false;
    this.#state = 'collected';
    return true;
  }

  /** {@link collect}'s visit of one live item. */
  readonly #visit = (handle: number): void => {
    const expiresAt = this.#engine.expiresAt(handle);
    if (expiresAt !== 0 && expiresAt <= this.#now) return;
    if (this.#count === this.#handles.length) this.#grow();
    this.#handles[this.#count] = handle;
    this.#access[this.#count] = this.#engine.access(handle);
    this.#count += 1;
  };

  #grow(): void {
    const handles = new Int32Array(this.#handles.length * 2);
    handles.set(this.#handles);
    this.#handles = handles;
    const access = new Float64Array(this.#access.length * 2);
    access.set(this.#access);
    this.#access = access;
  }

  /**
   * Puts the collected items oldest first by access stamp: a counting sort
   * into {@link ORDER_BUCKETS} buckets of the stamps' [min, max] range,
   * O(items). Once, after {@link collect} returned true.
   *
   * @example
   * ```ts
   * items.order();
   * ```
   */
  order(): void {
    if (this.#state !== 'collected') {
      throw new Error(this.#state === 'ordered' ? 'order() runs once' : 'order() runs after collect() returned true');
    }
    const n = this.#count;
    const access = this.#access;
    const handles = this.#handles;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i += 1) {
      const a = access[i] as number;
      if (a < min) min = a;
      if (a > max) max = a;
    }
    // Bucket b holds stamps in [min + b·span/B, min + (b+1)·span/B): the
    // scale keeps max in the last bucket, never past it.
    const scale = n === 0 ? 0 : ORDER_BUCKETS / (max - min + 1);
    const starts = new Int32Array(ORDER_BUCKETS + 1);
    for (let i = 0; i < n; i += 1) {
      const bucket = Math.floor(((access[i] as number) - min) * scale);
      starts[bucket + 1] = (starts[bucket + 1] as number) + 1;
    }
    for (let b = 1; b <= ORDER_BUCKETS; b += 1) starts[b] = (starts[b] as number) + (starts[b - 1] as number);
    const ordered = new Int32Array(n);
    for (let i = 0; i < n; i += 1) {
      const bucket = Math.floor(((access[i] as number) - min) * scale);
      const at = starts[bucket] as number;
      ordered[at] = handles[i] as number;
      starts[bucket] = at + 1;
    }
    this.#ordered = ordered;
    // The stamps and the slot-ordered handles are not needed any more.
    this.#handles = new Int32Array(0);
    this.#access = new Float64Array(0);
    this.#state = 'ordered';
  }

  /**
   * Bytes of the next record still to write ({@link RECORD_HEADER_SIZE} +
   * key + value), passing over items gone or expired since they were
   * collected; 0 when none is left. Valid until the store is next written.
   *
   * @example
   * ```ts
   * const size = items.nextRecordSize(); // a section larger than 4 MiB holds just this record
   * ```
   */
  nextRecordSize(): number {
    const handle = this.#skip(this.#clock());
    if (handle === NONE) return 0;
    return RECORD_HEADER_SIZE + this.#engine.keyLength(handle) + this.#engine.valueLength(handle);
  }

  /**
   * Writes the next whole records into `target[offset, end)`, each copied
   * from its chunk as it is now; returns the bytes written (0 when the next
   * record does not fit, or none is left) and sets {@link filled}.
   *
   * @example
   * ```ts
   * const length = items.fill(section, 0, section.length);
   * ```
   */
  fill(target: Uint8Array, offset: number, end: number): number {
    if (this.#state !== 'ordered') throw new Error('fill() runs after order()');
    if (!(Number.isInteger(offset) && Number.isInteger(end) && offset >= 0 && offset <= end && end <= target.length)) {
      throw new RangeError(`fill range [${offset}, ${end}) is not inside the ${target.length}-byte target`);
    }
    const engine = this.#engine;
    const view = this.#viewOf(target);
    const now = this.#clock();
    const wallOffset = this.#wallOffset;
    let at = offset;
    let filled = 0;
    for (;;) {
      const handle = this.#skip(now);
      if (handle === NONE) break;
      const keyLength = engine.keyLength(handle);
      const valueLength = engine.valueLength(handle);
      if (at + RECORD_HEADER_SIZE + keyLength + valueLength > end) break;
      const expiresAt = engine.expiresAt(handle);
      target[at] = keyLength;
      view.setUint32(at + 1, valueLength, true);
      // An integer number of wall-clock ms, never 0 (0 is "never expires").
      view.setFloat64(at + 5, expiresAt === 0 ? 0 : Math.max(1, Math.round(expiresAt + wallOffset)), true);
      view.setFloat64(at + 13, engine.version(handle), true);
      engine.copyKeyAndValue(handle, target, at + RECORD_HEADER_SIZE);
      at += RECORD_HEADER_SIZE + keyLength + valueLength;
      filled += 1;
      this.#next += 1;
    }
    this.#filled = filled;
    return at - offset;
  }

  /** The handle at {@link #next} after passing over dead and expired ones, or {@link NONE} when none is left. */
  #skip(now: number): number {
    const engine = this.#engine;
    const ordered = this.#ordered;
    for (; this.#next < ordered.length; this.#next += 1) {
      const handle = ordered[this.#next] as number;
      if (!engine.isLive(handle)) continue;
      const expiresAt = engine.expiresAt(handle);
      if (expiresAt !== 0 && expiresAt <= now) continue;
      return handle;
    }
    return NONE;
  }

  #viewOf(target: Uint8Array): DataView {
    const view = this.#view;
    if (view !== undefined && view.buffer === target.buffer && view.byteOffset === target.byteOffset && view.byteLength === target.byteLength) {
      return view;
    }
    this.#view = new DataView(target.buffer, target.byteOffset, target.byteLength);
    return this.#view;
  }
}
