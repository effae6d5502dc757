import { Allocator } from './allocator.js';
import { ClassLists } from './class-lists.js';
import { Chunks } from './chunks.js';
import { copyBytes } from './copy-bytes.js';
import {
  LONG_CHAIN,
  MIGRATE_PER_WRITE,
  NO_MEMORY,
  TOO_LARGE,
  type SlabClassStats,
  type SlabEngineOptions,
  type SlabEviction,
  type SlabStats,
} from './engine-types.js';
import { bucketBitsFor, HashIndex, type KeyIndex } from './hash-index.js';
import {
  checkKeyLength,
  HEADER_SIZE,
  LIVE,
  MAX_KEY_LENGTH,
  MAX_PAGES,
  NONE,
  OFF_BUCKET,
  OFF_EXPIRES,
  OFF_FLAGS,
  OFF_KEY_LENGTH,
  OFF_TAG,
  OFF_VERSION,
  PAGE_SIZE,
  SLOT_BITS,
  SLOT_MASK,
  UNQUEUED,
} from './layout.js';
import { BOOKKEEPING_BYTES_PER_PAGE, PagePool, isPageSize, MIN_PAGE_SIZE } from './page-pool.js';
import { chunkSizes, classFor } from './size-classes.js';

/**
 * The off-heap slab engine (issue 17): items live in pages (1 MiB unless the budget is small) carved into
 * size classes, memcached-style, each item's header, key and value in one
 * chunk; the engine keeps no JS object per item. An item is named by its
 * handle (`page << 14 | slot`, a small integer). The design, the layout and
 * the measurements that chose them are in docs/STORAGE.md.
 *
 * - **Index:** a chained hash table in an `Int32Array` of bucket heads, the
 *   chain link and hash in each chunk's header, keys compared in the chunk.
 *   The seed is secret and random ({@link KeyHash}); a chain longer than
 *   {@link LONG_CHAIN} re-seeds it, and keys move to the new seed's buckets
 *   {@link MIGRATE_PER_WRITE} buckets a write (and in the store's idle
 *   slices), never in one turn.
 * - **LRU:** one intrusive doubly linked list per class (prev/next in the
 *   header), head = most recent. A free chunk reuses the same two links for
 *   its class's free list, so a page can be emptied in O(its slots).
 * - **Eviction:** a class with no free chunk and no free page either evicts
 *   its own LRU tail or, when another class's tail is {@link MOVE_AGE_RATIO}
 *   times older (or it has no items), empties the page holding that older
 *   tail and takes the page (no slab calcification). One write evicts at
 *   most one item or one page (a large object: one per page it needs).
 * - **Copy, never alias:** any write may reuse any free chunk, so a caller
 *   copies a value out ({@link copyValue}) before its next write; a view
 *   ({@link valueView}) is only for code that copies before then.
 *
 * Its parts, one job each: {@link Chunks} (where an item is and its header),
 * {@link HashIndex} (the index), {@link ClassLists} (per-class LRU and free
 * lists); this file allocates, evicts and moves pages. About 500 lines,
 * past the ~450 guide since items carry a version (spec §3.11), LIST and
 * SCAN walk the index and a re-seed migrates it in steps (issue 19), and
 * snapshots read access stamps and set versions (issue 22): the
 * public accessors of an item's fields are one line each with their JSDoc
 * here.
 *
 * The engine knows no clock: it stores each item's expiry time and leaves
 * lazy and active expiry to its caller (the store's `ExpirySweep`).
 *
 * @example
 * ```ts
 * const engine = new SlabEngine({ maxMemory: 64 * 1024 * 1024 });
 * const key = Buffer.from('greeting');
 * engine.store(key, 0, key.length, Buffer.from('hello'), 0, 5, 0);
 * const h = engine.find(key, 0, key.length);
 * const out = Buffer.alloc(engine.valueLength(h));
 * engine.copyValue(h, out, 0); // out is 'hello'
 * ```
 */
export class SlabEngine {
  readonly #limit: number;
  readonly #eviction: SlabEviction;
  readonly #pool: PagePool;
  readonly #chunks: Chunks;
  readonly #index: HashIndex;
  readonly #lists: ClassLists;
  /** Class id of large objects (one past the last slab class). */
  readonly #large: number;
  readonly #alloc: Allocator;
  readonly #indexBytes: number;
  #reseeds = 0;
  /** The last version assigned (spec §3.11): every write takes the next, so no two writes share one. */
  #version = 0;

  constructor(options: SlabEngineOptions) {
    const { maxMemory, eviction = 'lru', onEvict, seedSource, hashMix, pageSize = PAGE_SIZE } = options;
    if (!isPageSize(pageSize)) {
      throw new RangeError(`pageSize option must be a power of two from ${MIN_PAGE_SIZE} to ${PAGE_SIZE}, got ${pageSize}`);
    }
    if (!Number.isSafeInteger(maxMemory) || maxMemory < 2 * pageSize) {
      throw new RangeError(`maxMemory option must be an integer of at least ${2 * pageSize} bytes (two pages), got ${maxMemory}`);
    }
    if (maxMemory > MAX_PAGES * pageSize) {
      throw new RangeError(
        `maxMemory option must be at most ${MAX_PAGES * pageSize} bytes (${(MAX_PAGES * pageSize) / 2 ** 30} GiB: ${MAX_PAGES} pages of ${pageSize} bytes), got ${maxMemory}`,
      );
    }
    if (eviction !== 'lru' && eviction !== 'none') {
      throw new TypeError(`eviction option must be 'lru' or 'none', got ${String(eviction)}`);
    }
    if (onEvict !== undefined && typeof onEvict !== 'function') throw new TypeError('onEvict option must be a function');
    this.#limit = maxMemory;
    this.#eviction = eviction;
    const sizes = chunkSizes(pageSize);
    const classes = sizes.length + 1;
    this.#large = sizes.length;
    // The bucket array and the per-class arrays are charged to the budget from the start.
    const bits = bucketBitsFor(maxMemory);
    const fixedBytes = 4 * 2 ** bits + 8 * 4 * classes;
    const pages = Math.min(MAX_PAGES, Math.floor((maxMemory - fixedBytes) / (pageSize + BOOKKEEPING_BYTES_PER_PAGE)));
    if (pages < 1) throw new RangeError(`maxMemory option ${maxMemory} holds no page of ${pageSize} bytes after the index`);
    this.#pool = new PagePool(pages, pageSize);
    this.#chunks = new Chunks(this.#pool, sizes, pageSize);
    this.#index = new HashIndex(this.#chunks, bits, seedSource, hashMix);
    this.#lists = new ClassLists(this.#chunks, classes);
    this.#alloc = new Allocator({ pool: this.#pool, chunks: this.#chunks, index: this.#index, lists: this.#lists, eviction, onEvict });
    this.#indexBytes = this.#index.byteLength + this.#pool.bookkeepingBytes + this.#alloc.byteLength + 8 * 4 * classes;
  }

  // ---- reading an item (its fields live in the chunk: chunks.ts) --------

  /** True when `handle` names a live item; any integer is safe to ask about, stale handles included. */
  isLive(handle: number): boolean {
    return this.#chunks.isLive(handle);
  }

  /**
   * The handle of the live item stored under `length` bytes of `key` from
   * `start`, or {@link NONE}. Does not touch its recency (see {@link touch})
   * and knows no clock: the caller checks {@link expiresAt}.
   */
  find(key: Uint8Array, start: number, length: number): number {
    if (length < 1 || length > MAX_KEY_LENGTH) return NONE;
    return this.#index.lookup(this.#index.hashOf(key, start, length), key, start, length);
  }

  /**
   * The index hash of `length` bytes of `key` from `start` (1 to 250 bytes),
   * for {@link findHashed} and {@link replace}: a write that looks its key up
   * first hashes and probes it once. Valid until the next write (an insert
   * may re-seed the index).
   */
  hashOf(key: Uint8Array, start: number, length: number): number {
    checkKeyLength(length);
    return this.#index.hashOf(key, start, length);
  }

  /** {@link find} with the key's {@link hashOf}. */
  findHashed(hash: number, key: Uint8Array, start: number, length: number): number {
    return this.#index.lookup(hash, key, start, length);
  }

  /** Bytes of the item's value. */
  valueLength(handle: number): number {
    return this.#chunks.valueLength(handle);
  }

  /** Bytes of the item's key. */
  keyLength(handle: number): number {
    return this.#chunks.keyLength(handle);
  }

  /** Clock time at which the item expires; 0 = never. */
  expiresAt(handle: number): number {
    return this.#chunks.expiresAt(handle);
  }

  /** Sets the item's expiry time (0 = never); its recency is unchanged. */
  setExpiresAt(handle: number, time: number): void {
    this.#chunks.setExpiresAt(handle, time);
  }

  /** The expiry-queue bucket of the item's own pair, or {@link UNQUEUED} (a new chunk starts unqueued). */
  queueBucket(handle: number): number {
    return this.#chunks.i32(handle, OFF_BUCKET);
  }

  /** Records the expiry-queue bucket of the item's own pair. */
  setQueueBucket(handle: number, bucket: number): void {
    this.#chunks.setI32(handle, OFF_BUCKET, bucket);
  }

  /** The tag the item was stored with (the store keeps the item's counter shard there). */
  tag(handle: number): number {
    return this.#chunks.i32(handle, OFF_TAG);
  }

  /**
   * The item's version (spec §3.11): the number the engine gave the write that
   * stored its current value, from 1 up, never reused (2^53 writes would take
   * centuries), so a delete and a re-create never bring an old version back.
   */
  version(handle: number): number {
    return this.#pool.f64[handle >>> SLOT_BITS]![(this.#chunks.offset(handle) + OFF_VERSION) >> 3] as number;
  }

  /**
   * Gives the item `version` (a snapshot's record, docs/SNAPSHOT.md), raising
   * the engine's counter to it when above, so the next write's version is
   * above every version loaded (spec §3.11: a version is never reused).
   */
  setVersion(handle: number, version: number): void {
    this.#pool.f64[handle >>> SLOT_BITS]![(this.#chunks.offset(handle) + OFF_VERSION) >> 3] = version;
    this.raiseVersion(version);
  }

  /** The last version given (0 before the first write): a snapshot's version mark (docs/SNAPSHOT.md §Header). */
  get lastVersion(): number {
    return this.#version;
  }

  /**
   * Raises the counter to `version` when below it, so the next write's version is above it: after
   * a load, above every version the saving process could have given (spec §3.11).
   */
  raiseVersion(version: number): void {
    if (version > this.#version) this.#version = version;
  }

  /** The engine's access counter at the item's last write or touch: its age mark, what a snapshot orders items by. */
  access(handle: number): number {
    return this.#chunks.access(handle);
  }

  /** Copies the item's value into `target` at `offset` and returns its length: the one safe way to keep a value past the next write. */
  copyValue(handle: number, target: Uint8Array, offset: number): number {
    return this.#chunks.copyValue(handle, target, offset);
  }

  /**
   * A view of the item's value in its chunk, valid only until the next
   * write to the engine (which may reuse the chunk): for code that copies it
   * before then. A large object's value is not contiguous, so it comes back
   * as a fresh copy.
   */
  valueView(handle: number): Buffer {
    return this.#chunks.valueView(handle);
  }

  /** Copies the item's key into `target` at `offset` and returns its length. */
  copyKey(handle: number, target: Uint8Array, offset: number): number {
    return this.#chunks.copyKey(handle, target, offset);
  }

  /** Copies the item's key, then its value, into `target` at `offset` (a snapshot record's body) and returns the bytes copied. */
  copyKeyAndValue(handle: number, target: Uint8Array, offset: number): number {
    return this.#chunks.copyKeyAndValue(handle, target, offset);
  }

  /** True when the item's key starts with `prefix` (LIST, spec §3.5). */
  keyStartsWith(handle: number, prefix: Uint8Array): boolean {
    return this.#chunks.keyStartsWith(handle, prefix);
  }

  /** Bytes the live item occupies: its chunk, or whole pages for a large object (what `itemBytes` counts). */
  chunkBytes(handle: number): number {
    return this.#chunks.chunkBytes(handle);
  }

  /** Bytes of each page (the `pageSize` option). */
  get pageSize(): number {
    return this.#chunks.pageSize;
  }

  // ---- writing ---------------------------------------------------------

  /**
   * Stores `valueLength` bytes of `value` from `valueStart` under
   * `keyLength` bytes of `key` from `keyStart`, expiring at `expiresAt` (0 =
   * never), tagged `tag` (an i32 the caller reads back with {@link tag}), as
   * the most recently used item of its class. Replaces the key's current
   * item: in place when the new item fits the chunk it has (the same class,
   * or as many pages for a large object: the handle and its expiry-queue
   * bucket stay, nothing is freed or allocated), else in a new chunk (a new
   * handle, unqueued). Returns the handle, or {@link NO_MEMORY} /
   * {@link TOO_LARGE}; a refused write leaves the old item as it was (with
   * eviction `'none'`) or removed (with `'lru'`, which frees it first so the
   * write can reuse its memory).
   *
   * `value` must not be a view of this engine's memory (copy it out first):
   * the write may evict, free or reuse the chunk it points into.
   */
  store(
    key: Uint8Array,
    keyStart: number,
    keyLength: number,
    value: Uint8Array,
    valueStart: number,
    valueLength: number,
    expiresAt: number,
    tag = 0,
  ): number {
    const hash = this.hashOf(key, keyStart, keyLength);
    const old = this.#index.lookup(hash, key, keyStart, keyLength);
    return this.replace(old, hash, key, keyStart, keyLength, value, valueStart, valueLength, expiresAt, tag);
  }

  /**
   * {@link store} for a caller that has just looked the key up: `old` is what
   * {@link findHashed} returned for `hash` and this key, with nothing
   * written to the engine since (the item may have been removed: pass
   * {@link NONE} then). Saves the write a second hash and probe of the index
   * (a SET looks its key up first for NX / XX / KEEPTTL and lazy expiry).
   */
  replace(
    old: number,
    hash: number,
    key: Uint8Array,
    keyStart: number,
    keyLength: number,
    value: Uint8Array,
    valueStart: number,
    valueLength: number,
    expiresAt: number,
    tag: number,
  ): number {
    checkKeyLength(keyLength);
    if (!Number.isInteger(valueLength) || valueLength < 0 || valueStart + valueLength > value.length) {
      throw new RangeError(`value range ${valueStart}+${valueLength} is outside its ${value.length}-byte buffer`);
    }
    if (old !== NONE && this.fits(old, keyLength, valueLength)) {
      // Fits the chunk (or the pages) it has: overwrite in place, no free and no alloc.
      this.#chunks.writeValue(old, keyLength, value, valueStart, valueLength);
      this.#chunks.setExpiresAt(old, expiresAt);
      this.#chunks.setI32(old, OFF_TAG, tag);
      this.#pool.f64[old >>> SLOT_BITS]![(this.#chunks.offset(old) + OFF_VERSION) >> 3] = ++this.#version;
      this.touch(old);
      return old;
    }
    const chain = this.#index.chain; // walked by the caller's probe: the re-seed guard below
    const total = HEADER_SIZE + keyLength + valueLength;
    const cls = classFor(this.#chunks.sizes, total);
    const pageSize = this.#chunks.pageSize;
    const pagesNeeded = cls === this.#large ? Math.ceil(total / pageSize) : 1;
    if (pagesNeeded > this.#pool.maxPages) return TOO_LARGE;
    // With eviction on, the old item goes first, so the write can reuse its memory.
    if (old !== NONE && this.#eviction === 'lru') {
      this.#alloc.free(old);
      old = NONE;
    }
    const handle = cls === this.#large ? this.#alloc.allocLarge(pagesNeeded) : this.#alloc.allocChunk(cls);
    if (handle < 0) return handle;
    if (old !== NONE) this.#alloc.free(old);

    const page = handle >>> SLOT_BITS;
    const off = this.#chunks.offset(handle);
    const bytes = this.#pool.u8[page]!;
    const i32 = this.#pool.i32[page]!;
    this.#pool.f64[page]![(off + OFF_EXPIRES) >> 3] = expiresAt;
    this.#pool.f64[page]![(off + OFF_VERSION) >> 3] = ++this.#version;
    i32[(off + OFF_BUCKET) >> 2] = UNQUEUED;
    i32[(off + OFF_TAG) >> 2] = tag;
    bytes[off + OFF_KEY_LENGTH] = keyLength;
    bytes[off + OFF_FLAGS] = LIVE;
    copyBytes(key, keyStart, bytes, off + HEADER_SIZE, keyLength);
    this.#chunks.writeValue(handle, keyLength, value, valueStart, valueLength);
    this.#index.link(handle, hash);
    this.#lists.lruPush(handle, cls);
    this.#lists.items[cls] = (this.#lists.items[cls] as number) + 1;
    this.#alloc.count += 1;
    this.#alloc.bytes += cls === this.#large ? pagesNeeded * pageSize : (this.#chunks.chunk[cls] as number);
    if (cls !== this.#large) this.#pool.pageLive[page] = (this.#pool.pageLive[page] as number) + 1;
    if (this.#index.migrating) {
      this.#index.migrate(MIGRATE_PER_WRITE);
    } else if (chain >= LONG_CHAIN) {
      // A new seed; keys move to it a few buckets per write (HashIndex.migrate), never in one turn.
      this.#reseeds += 1;
      this.#index.reseed();
    }
    return handle;
  }

  /**
   * True when an item of `keyLength` and `valueLength` bytes would
   * overwrite the live item `handle` in place ({@link replace}): it needs
   * the same class (its chunk, and no smaller one, holds it), or as many
   * pages for a large object.
   */
  fits(handle: number, keyLength: number, valueLength: number): boolean {
    const total = HEADER_SIZE + keyLength + valueLength;
    const cls = this.#chunks.classOf(handle);
    const chunk = this.#chunks.chunk;
    const below = cls === 0 ? 0 : (chunk[cls - 1] as number);
    if (cls !== this.#large) return total <= (chunk[cls] as number) && total > below;
    const pageSize = this.#chunks.pageSize;
    return total > below && Math.ceil(total / pageSize) * pageSize === this.#chunks.chunkBytes(handle);
  }

  /** Marks the item most recently used in its class (a GET's hit). */
  touch(handle: number): void {
    const cls = this.#chunks.classOf(handle);
    this.#lists.lruUnlink(handle, cls);
    this.#lists.lruPush(handle, cls);
  }

  /** Removes a live item (DELETE, expiry); its chunk goes back to its class's free list. */
  remove(handle: number): void {
    if (!this.isLive(handle)) throw new RangeError(`handle ${handle} names no live item`);
    this.#alloc.free(handle);
  }

  // ---- whole-engine operations ------------------------------------------

  /**
   * Removes every item (FLUSH): O(pages) plus a memset of the bucket array,
   * never a walk over the items. Pages stay allocated, free, for reuse.
   * Handles from before are stale (their pages are free until reused).
   */
  clear(): void {
    this.#pool.clear();
    this.#index.clear();
    this.#lists.lruHead.fill(NONE);
    this.#lists.lruTail.fill(NONE);
    this.#lists.freeHead.fill(NONE);
    this.#lists.freeCount.fill(0);
    this.#lists.items.fill(0);
    this.#lists.classPages.fill(0);
    this.#alloc.clear();
  }

  /**
   * Visits live items in page and slot order from `cursor` (0 to start),
   * examining at most `maxSlots` slots, and returns the cursor to resume
   * from, or {@link NONE} when the walk is done (LIST, spec §3.5). An item
   * neither written nor evicted during a walk is visited exactly once; one
   * stored or moved meanwhile may be visited or not. `visit` must not write.
   */
  scan(cursor: number, maxSlots: number, visit: (handle: number) => void): number {
    let examined = 0;
    let page = cursor >>> SLOT_BITS;
    let slot = cursor & SLOT_MASK;
    for (; page < this.#pool.allocated; page += 1, slot = 0) {
      const cls = this.#pool.pageClass[page] as number;
      if (cls < 0) {
        examined += 1;
      } else {
        const bytes = this.#pool.u8[page]!;
        const size = this.#chunks.chunk[cls] as number;
        const slots = this.#chunks.slots[cls] as number;
        for (; slot < slots; slot += 1) {
          if (examined >= maxSlots) return (page << SLOT_BITS) | slot;
          examined += 1;
          if (bytes[slot * size + OFF_FLAGS] === LIVE) visit((page << SLOT_BITS) | slot);
        }
      }
      if (examined >= maxSlots && page + 1 < this.#pool.allocated) return (page + 1) << SLOT_BITS;
    }
    return NONE;
  }

  /**
   * The index as SCAN walks it (spec §3.10): buckets in order, each chain
   * whole. Read-only; `reseeds` tells a cursor whether keys changed bucket.
   */
  get keyIndex(): KeyIndex {
    return this.#index;
  }

  /** Times the index drew a new seed: SCAN's cursor epoch (spec §3.10). */
  get reseeds(): number {
    return this.#reseeds;
  }

  /** True while a re-seed moves keys to their new buckets ({@link migrate}); SCAN waits for it. */
  get migrating(): boolean {
    return this.#index.migrating;
  }

  /**
   * Moves up to `buckets` index buckets to the new seed while a re-seed
   * migrates (writes move a few each; the store's sweep timer and SCAN call
   * this for the rest); returns the buckets left, 0 when none runs.
   */
  migrate(buckets: number): number {
    return this.#index.migrating ? this.#index.migrate(buckets) : 0;
  }

  /**
   * `'import'` while a snapshot loads: a full engine evicts its oldest items
   * even under eviction `'none'` (docs/SNAPSHOT.md "Loading"); `'serve'`
   * otherwise.
   */
  get mode(): 'serve' | 'import' {
    return this.#alloc.mode;
  }

  set mode(mode: 'serve' | 'import') {
    this.#alloc.mode = mode;
  }

  /** Live items. */
  get size(): number {
    return this.#alloc.count;
  }

  /** Bytes held (pages allocated + index + bookkeeping), never above the budget: what the budget is charged. */
  get heldBytes(): number {
    return this.#pool.allocated * this.#chunks.pageSize + this.#indexBytes;
  }

  /** The length of the longest hash chain: O(items), for tests and diagnostics. */
  longestChain(): number {
    return this.#index.longestChain();
  }

  /**
   * What the engine holds, in total and per class (STATS, spec §5.2).
   *
   * @example
   * ```ts
   * const { heldBytes, limit } = engine.stats(); // heldBytes <= limit
   * ```
   */
  stats(): SlabStats {
    const classes: SlabClassStats[] = [];
    for (let c = 0; c < this.#chunks.chunk.length; c += 1) {
      classes.push({
        chunkSize: c === this.#large ? 0 : (this.#chunks.chunk[c] as number),
        pages: this.#lists.classPages[c] as number,
        items: this.#lists.items[c] as number,
        freeChunks: this.#lists.freeCount[c] as number,
      });
    }
    return {
      items: this.#alloc.count,
      itemBytes: this.#alloc.bytes,
      heldBytes: this.heldBytes,
      limit: this.#limit,
      pages: this.#pool.allocated,
      pageLimit: this.#pool.maxPages,
      indexBytes: this.#indexBytes,
      reseeds: this.#reseeds,
      classes,
    };
  }
}
