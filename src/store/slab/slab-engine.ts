import { KeyHash, type SeedSource } from './key-hash.js';
import {
  FREE,
  HEADER_SIZE,
  LIVE,
  MAX_KEY_LENGTH,
  MAX_PAGES,
  NONE,
  OFF_ACCESS,
  OFF_BUCKET,
  OFF_EXPIRES,
  OFF_FLAGS,
  OFF_HASH,
  OFF_HASH_NEXT,
  OFF_KEY_LENGTH,
  OFF_NEXT,
  OFF_PREV,
  OFF_VALUE_LENGTH,
  PAGE_SIZE,
  SLOT_BITS,
  SLOT_MASK,
  UNQUEUED,
} from './layout.js';
import { BOOKKEEPING_BYTES_PER_PAGE, CONTINUATION_PAGE, PagePool, isPageSize, MIN_PAGE_SIZE } from './page-pool.js';
import { chunkSizes, classFor } from './size-classes.js';

/** {@link SlabEngine.store} refused: no memory could be freed for the item (eviction `'none'`, or nothing left to evict). */
export const NO_MEMORY = -2;
/** {@link SlabEngine.store} refused: the item needs more pages than the whole budget holds. */
export const TOO_LARGE = -3;

/**
 * A chain longer than this met on insert makes the engine draw a new hash
 * seed and rebuild the index. With a secret seed the average chain is at
 * most 8 (2,048–4,096 buckets per page, at most 16,384 chunks), and a chain
 * of 48 is out of reach by chance (Poisson(8) ≥ 48 is below 10^-19); only a
 * broken seed gets there.
 */
export const LONG_CHAIN = 48;

/**
 * A page moves from class D to class C (eager `slab_reassign`) only when D's
 * least recently used item is this many times older than C's (ages counted in
 * writes and touches since). Between classes whose tails are about as old,
 * C evicts its own tail instead: moving a page evicts every item in it,
 * younger ones too, so pages should not bounce between classes on noise.
 */
export const MOVE_AGE_RATIO = 2;

/**
 * Slots of a moving page examined per write (their live items evicted): a
 * page of 64-byte chunks moves over 128 writes instead of stalling one write
 * for 16,384 evictions.
 */
export const DRAIN_BATCH = 128;

/** Eviction policy: `'lru'` frees memory by evicting; `'none'` refuses writes that do not fit. */
export type SlabEviction = 'lru' | 'none';

/** Options of a {@link SlabEngine}. */
export interface SlabEngineOptions {
  /**
   * The budget in bytes: pages, index and bookkeeping together never pass it.
   * At least 2 MiB (one page after the index), at most 64 GiB (65,536 pages).
   */
  maxMemory: number;
  /** What a write does when no memory is free. Default `'lru'`. */
  eviction?: SlabEviction;
  /**
   * Called for every item evicted to make room, before it is freed: the
   * handle still reads back (key, value, expiry). The callback must not write
   * to the engine.
   */
  onEvict?: (handle: number) => void;
  /** Source of hash seeds; default the OS CSPRNG. Tests pass a broken one to exercise the re-seed guard. */
  seedSource?: SeedSource;
  /**
   * Bytes per page, a power of two from 256 to 1 MiB. Default 1 MiB; a small
   * budget takes smaller pages ({@link pageSizeFor}) so that it holds more than
   * a couple of them.
   */
  pageSize?: number;
}

/**
 * The page size for a budget of `maxMemory` bytes: 1 MiB from 32 MiB up
 * (memcached's page), below that the largest power of two that gives the
 * budget 32 pages, at least 256 B. With fewer pages than classes in use, one
 * page per class would be most of a small budget and page moves would evict
 * most of the store.
 *
 * @example
 * ```ts
 * pageSizeFor(64 * 1024 * 1024); // 1048576
 * pageSizeFor(1024 * 1024);      // 32768
 * ```
 */
export function pageSizeFor(maxMemory: number): number {
  let size = PAGE_SIZE;
  while (size > MIN_PAGE_SIZE && size * 32 > maxMemory) size /= 2;
  return size;
}

/** One size class in {@link SlabStats}. */
export interface SlabClassStats {
  /** Bytes of each chunk (a large object: 0, its items take whole pages). */
  chunkSize: number;
  /** Pages carved for this class (a large object: all its pages). */
  pages: number;
  /** Live items. */
  items: number;
  /** Chunks on the free list. */
  freeChunks: number;
}

/** What a {@link SlabEngine} holds (memcached `stats slabs` in short). */
export interface SlabStats {
  /** Live items. */
  items: number;
  /** Sum of the live items' chunk sizes (whole pages for a large object): what the items occupy. */
  itemBytes: number;
  /** Bytes held: pages allocated × page size + index + bookkeeping. Never above {@link limit}. */
  heldBytes: number;
  /** The budget (`maxMemory`). */
  limit: number;
  /** Pages allocated so far. */
  pages: number;
  /** Most pages the budget allows. */
  pageLimit: number;
  /** Bytes of the hash index and the page bookkeeping (fixed at construction). */
  indexBytes: number;
  /** Times the index drew a new seed because a chain grew past {@link LONG_CHAIN}. */
  reseeds: number;
  /** Per size class, ascending, then the large-object class. */
  classes: SlabClassStats[];
}

/**
 * Copies `length` bytes without allocating where it can: a plain loop for
 * short runs, `set` of the whole source (a value Buffer from the decoder
 * usually is exactly the value), and a `subarray` view only for a long run
 * out of the middle of a buffer.
 */
function copyBytes(source: Uint8Array, from: number, target: Uint8Array, to: number, length: number): void {
  if (length <= 32) {
    for (let i = 0; i < length; i += 1) target[to + i] = source[from + i] as number;
  } else if (from === 0 && length === source.length) {
    target.set(source, to);
  } else {
    target.set(source.subarray(from, from + length), to);
  }
}

/**
 * The off-heap slab engine (issue 17): items live in 1 MiB pages carved into
 * size classes, memcached-style, each item's header, key and value in one
 * chunk; the engine keeps no JS object per item. An item is named by its
 * handle (`page << 14 | slot`, a small integer). The design, the layout and
 * the measurements that chose them are in docs/STORAGE.md.
 *
 * - **Index:** a chained hash table in an `Int32Array` of bucket heads, the
 *   chain link and hash in each chunk's header, keys compared in the chunk.
 *   The seed is secret and random ({@link KeyHash}); a chain longer than
 *   {@link LONG_CHAIN} re-seeds it.
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
 * The engine knows no clock: it stores each item's expiry time and leaves
 * lazy and active expiry to its caller ({@link HandleExpiryQueue}).
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
  readonly #pageSize: number;
  readonly #eviction: SlabEviction;
  readonly #onEvict: ((handle: number) => void) | undefined;
  readonly #pool: PagePool;
  /** Chunk size per class; the last entry (the large-object class) is a page. */
  readonly #chunk: Int32Array;
  /** Chunks per page per class; 1 for the large-object class. */
  readonly #slots: Int32Array;
  readonly #sizes: number[];
  /** Class id of large objects (one past the last slab class). */
  readonly #large: number;
  readonly #lruHead: Int32Array;
  readonly #lruTail: Int32Array;
  readonly #freeHead: Int32Array;
  readonly #freeCount: Int32Array;
  readonly #items: Int32Array;
  readonly #classPages: Int32Array;
  /** Pages whose live count reached 0 while carved for a class: candidates to give back to the pool. */
  readonly #emptyStack: Int32Array;
  readonly #emptyMark: Uint8Array;
  #emptyCount = 0;
  readonly #hash: KeyHash;
  /** Bucket heads: handle + 1, 0 = empty (so untouched parts of the zero-filled array stay unwritten). */
  readonly #buckets: Int32Array;
  readonly #shift: number;
  readonly #indexBytes: number;
  #itemCount = 0;
  #itemBytes = 0;
  #reseeds = 0;
  /** The page being moved out of its class ({@link #drainStep}), or NONE; its class; the next slot to drain. */
  #drainPage = NONE;
  #drainClass = NONE;
  #drainSlot = 0;
  /** Entries the last {@link #lookup} walked. */
  #chain = 0;
  /** Access counter: +1 per write or touch, stored in the header as the item's age mark. */
  #tick = 0;

  constructor(options: SlabEngineOptions) {
    const { maxMemory, eviction = 'lru', onEvict, seedSource, pageSize = PAGE_SIZE } = options;
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
    this.#onEvict = onEvict;
    this.#pageSize = pageSize;
    this.#sizes = chunkSizes(pageSize);
    const classes = this.#sizes.length + 1;
    this.#large = this.#sizes.length;
    this.#chunk = Int32Array.from([...this.#sizes, pageSize]);
    this.#slots = Int32Array.from([...this.#sizes, pageSize], (size, c) => (c === this.#large ? 1 : Math.floor(pageSize / size)));
    this.#lruHead = new Int32Array(classes).fill(NONE);
    this.#lruTail = new Int32Array(classes).fill(NONE);
    this.#freeHead = new Int32Array(classes).fill(NONE);
    this.#freeCount = new Int32Array(classes);
    this.#items = new Int32Array(classes);
    this.#classPages = new Int32Array(classes);

    // One bucket per 256–512 B of budget (a power of two, 2,048–4,096 per
    // page): average chains of 1.5–3 at 100-byte values, at most 8 when every
    // chunk is 64 bytes. The bucket array costs 0.8–1.6% of the budget and is
    // charged to it.
    const wanted = maxMemory >= PAGE_SIZE ? Math.floor(maxMemory / PAGE_SIZE) * 4096 : Math.floor(maxMemory / 256);
    let bits = 2;
    while (bits < 25 && 2 ** (bits + 1) <= wanted) bits += 1;
    const bucketBytes = 4 * 2 ** bits;
    const fixedBytes = bucketBytes + 8 * 4 * classes;
    const pages = Math.min(MAX_PAGES, Math.floor((maxMemory - fixedBytes) / (pageSize + BOOKKEEPING_BYTES_PER_PAGE)));
    if (pages < 1) throw new RangeError(`maxMemory option ${maxMemory} holds no page of ${pageSize} bytes after the index`);
    this.#pool = new PagePool(pages, pageSize);
    this.#buckets = new Int32Array(2 ** bits);
    this.#shift = 32 - bits;
    this.#emptyStack = new Int32Array(pages);
    this.#emptyMark = new Uint8Array(pages);
    this.#hash = new KeyHash(seedSource);
    this.#indexBytes =
      this.#buckets.byteLength +
      this.#pool.bookkeepingBytes +
      this.#emptyStack.byteLength +
      this.#emptyMark.byteLength +
      8 * 4 * classes;
  }

  // ---- reading an item -------------------------------------------------

  /** Byte offset of a handle's chunk in its page. */
  #offset(handle: number): number {
    return (handle & SLOT_MASK) * (this.#chunk[this.#pool.pageClass[handle >>> SLOT_BITS] as number] as number);
  }

  #i32(handle: number, field: number): number {
    return this.#pool.i32[handle >>> SLOT_BITS]![(this.#offset(handle) + field) >> 2] as number;
  }

  #setI32(handle: number, field: number, value: number): void {
    this.#pool.i32[handle >>> SLOT_BITS]![(this.#offset(handle) + field) >> 2] = value;
  }

  #classOf(handle: number): number {
    return this.#pool.pageClass[handle >>> SLOT_BITS] as number;
  }

  /**
   * True when `handle` names a live item: a slot of an allocated page carved
   * for a class, inside that class's slot range, holding an item. Any
   * integer is safe to ask about, stale handles included.
   */
  isLive(handle: number): boolean {
    if (!Number.isInteger(handle) || handle < 0 || handle >= MAX_PAGES << SLOT_BITS) return false;
    const page = handle >>> SLOT_BITS;
    if (page >= this.#pool.allocated) return false;
    const cls = this.#pool.pageClass[page] as number;
    if (cls < 0 || (handle & SLOT_MASK) >= (this.#slots[cls] as number)) return false;
    return this.#pool.u8[page]![this.#offset(handle) + OFF_FLAGS] === LIVE;
  }

  /**
   * The handle of the live item stored under `length` bytes of `key` from
   * `start`, or {@link NONE}. Does not touch its recency (see {@link touch})
   * and knows no clock: the caller checks {@link expiresAt}.
   */
  find(key: Uint8Array, start: number, length: number): number {
    if (length < 1 || length > MAX_KEY_LENGTH) return NONE;
    const h = this.#hash.of(key, start, length);
    return this.#lookup(h | 0, key, start, length, (this.#buckets[h >>> this.#shift] as number) - 1);
  }

  /**
   * Walks a hash chain from `e` for the key; the fields are read inline (this
   * is the hot path of every request). Sets {@link #chain} to the number of
   * entries walked, for the re-seed guard.
   */
  #lookup(hash: number, key: Uint8Array, start: number, length: number, e: number): number {
    const pool = this.#pool;
    const chunk = this.#chunk;
    let walked = 0;
    while (e !== NONE) {
      walked += 1;
      const page = e >>> SLOT_BITS;
      const off = (e & SLOT_MASK) * (chunk[pool.pageClass[page] as number] as number);
      const i32 = pool.i32[page]!;
      if (i32[(off + OFF_HASH) >> 2] === hash) {
        const bytes = pool.u8[page]!;
        if (bytes[off + OFF_KEY_LENGTH] === length) {
          const at = off + HEADER_SIZE;
          let i = 0;
          while (i < length && bytes[at + i] === key[start + i]) i += 1;
          if (i === length) {
            this.#chain = walked;
            return e;
          }
        }
      }
      e = i32[(off + OFF_HASH_NEXT) >> 2] as number;
    }
    this.#chain = walked;
    return NONE;
  }

  /** Bytes of the item's value. */
  valueLength(handle: number): number {
    return this.#i32(handle, OFF_VALUE_LENGTH) >>> 0;
  }

  /** Bytes of the item's key. */
  keyLength(handle: number): number {
    return this.#pool.u8[handle >>> SLOT_BITS]![this.#offset(handle) + OFF_KEY_LENGTH] as number;
  }

  /** Clock time at which the item expires; 0 = never. */
  expiresAt(handle: number): number {
    return this.#pool.f64[handle >>> SLOT_BITS]![(this.#offset(handle) + OFF_EXPIRES) >> 3] as number;
  }

  /** Sets the item's expiry time (0 = never); its recency is unchanged. */
  setExpiresAt(handle: number, time: number): void {
    this.#pool.f64[handle >>> SLOT_BITS]![(this.#offset(handle) + OFF_EXPIRES) >> 3] = time;
  }

  /** The expiry-queue bucket of the item's own pair, or {@link UNQUEUED} (a new chunk starts unqueued). */
  queueBucket(handle: number): number {
    return this.#i32(handle, OFF_BUCKET);
  }

  /** Records the expiry-queue bucket of the item's own pair. */
  setQueueBucket(handle: number, bucket: number): void {
    this.#setI32(handle, OFF_BUCKET, bucket);
  }

  /**
   * Copies the item's value into `target` at `offset` and returns its length.
   * The one safe way to keep a value past the next write.
   */
  copyValue(handle: number, target: Uint8Array, offset: number): number {
    const page = handle >>> SLOT_BITS;
    const off = this.#offset(handle);
    const bytes = this.#pool.u8[page]!;
    const length = this.valueLength(handle);
    const at = off + HEADER_SIZE + (bytes[off + OFF_KEY_LENGTH] as number);
    if (this.#classOf(handle) !== this.#large) {
      copyBytes(bytes, at, target, offset, length);
      return length;
    }
    // A large object: the value runs on through the chained pages.
    let copied = Math.min(length, this.#pageSize - at);
    copyBytes(bytes, at, target, offset, copied);
    for (let p = this.#pool.pageNext[page] as number; copied < length; p = this.#pool.pageNext[p] as number) {
      const n = Math.min(length - copied, this.#pageSize);
      copyBytes(this.#pool.u8[p]!, 0, target, offset + copied, n);
      copied += n;
    }
    return length;
  }

  /**
   * A view of the item's value in its chunk, valid only until the next
   * write to the engine (which may reuse the chunk): for code that copies it
   * before then. A large object's value is not contiguous, so it comes back
   * as a fresh copy.
   */
  valueView(handle: number): Buffer {
    if (this.#classOf(handle) === this.#large) {
      const copy = Buffer.allocUnsafe(this.valueLength(handle));
      this.copyValue(handle, copy, 0);
      return copy;
    }
    const off = this.#offset(handle);
    const bytes = this.#pool.u8[handle >>> SLOT_BITS]!;
    const at = off + HEADER_SIZE + (bytes[off + OFF_KEY_LENGTH] as number);
    return bytes.subarray(at, at + this.valueLength(handle));
  }

  /** Copies the item's key into `target` at `offset` and returns its length. */
  copyKey(handle: number, target: Uint8Array, offset: number): number {
    const off = this.#offset(handle);
    const bytes = this.#pool.u8[handle >>> SLOT_BITS]!;
    const length = bytes[off + OFF_KEY_LENGTH] as number;
    copyBytes(bytes, off + HEADER_SIZE, target, offset, length);
    return length;
  }

  /** True when the item's key starts with `prefix` (LIST, spec §3.5). */
  keyStartsWith(handle: number, prefix: Uint8Array): boolean {
    const off = this.#offset(handle);
    const bytes = this.#pool.u8[handle >>> SLOT_BITS]!;
    if ((bytes[off + OFF_KEY_LENGTH] as number) < prefix.length) return false;
    const at = off + HEADER_SIZE;
    for (let i = 0; i < prefix.length; i += 1) if (bytes[at + i] !== prefix[i]) return false;
    return true;
  }

  // ---- writing ---------------------------------------------------------

  /**
   * Stores `valueLength` bytes of `value` from `valueStart` under
   * `keyLength` bytes of `key` from `keyStart`, expiring at `expiresAt` (0 =
   * never), as the most recently used item of its class. Replaces the key's
   * current item: in place when the new size fits the same class (the
   * handle and its expiry-queue bucket stay), else in a new chunk (a new
   * handle, unqueued). Returns the handle, or {@link NO_MEMORY} /
   * {@link TOO_LARGE}; a refused write leaves the old item as it was.
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
  ): number {
    if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
      throw new RangeError(`key must be 1 to ${MAX_KEY_LENGTH} bytes, got ${keyLength}`);
    }
    if (!Number.isInteger(valueLength) || valueLength < 0 || valueStart + valueLength > value.length) {
      throw new RangeError(`value range ${valueStart}+${valueLength} is outside its ${value.length}-byte buffer`);
    }
    const total = HEADER_SIZE + keyLength + valueLength;
    const cls = classFor(this.#sizes, total);
    const pagesNeeded = cls === this.#large ? Math.ceil(total / this.#pageSize) : 1;
    if (pagesNeeded > this.#pool.maxPages) return TOO_LARGE;
    const hash = this.#hash.of(key, keyStart, keyLength);
    let old = this.#lookup(hash | 0, key, keyStart, keyLength, (this.#buckets[hash >>> this.#shift] as number) - 1);
    const chain = this.#chain;
    if (old !== NONE && cls !== this.#large && this.#classOf(old) === cls) {
      // Fits the chunk it has: overwrite in place, no free and no alloc.
      this.#writeValue(old, keyLength, value, valueStart, valueLength);
      this.setExpiresAt(old, expiresAt);
      this.touch(old);
      return old;
    }
    // With eviction on, the old item goes first, so the write can reuse its memory.
    if (old !== NONE && this.#eviction === 'lru') {
      this.#remove(old);
      old = NONE;
    }
    const handle = cls === this.#large ? this.#allocLarge(pagesNeeded) : this.#allocChunk(cls);
    if (handle < 0) return handle;
    if (old !== NONE) this.#remove(old);

    const page = handle >>> SLOT_BITS;
    const off = this.#offset(handle);
    const bytes = this.#pool.u8[page]!;
    const i32 = this.#pool.i32[page]!;
    this.#pool.f64[page]![(off + OFF_EXPIRES) >> 3] = expiresAt;
    i32[(off + OFF_HASH) >> 2] = hash | 0;
    i32[(off + OFF_BUCKET) >> 2] = UNQUEUED;
    bytes[off + OFF_KEY_LENGTH] = keyLength;
    bytes[off + OFF_FLAGS] = LIVE;
    copyBytes(key, keyStart, bytes, off + HEADER_SIZE, keyLength);
    this.#writeValue(handle, keyLength, value, valueStart, valueLength);
    const b = hash >>> this.#shift;
    i32[(off + OFF_HASH_NEXT) >> 2] = (this.#buckets[b] as number) - 1;
    this.#buckets[b] = handle + 1;
    this.#lruPush(handle, cls);
    this.#items[cls] = (this.#items[cls] as number) + 1;
    this.#itemCount += 1;
    this.#itemBytes += cls === this.#large ? pagesNeeded * this.#pageSize : (this.#chunk[cls] as number);
    if (cls !== this.#large) this.#pool.pageLive[page] = (this.#pool.pageLive[page] as number) + 1;
    if (chain >= LONG_CHAIN) this.#reseed();
    return handle;
  }

  /** Writes the value bytes and length of the item at `handle` (its key is `keyLength` bytes). */
  #writeValue(handle: number, keyLength: number, value: Uint8Array, start: number, length: number): void {
    const page = handle >>> SLOT_BITS;
    const off = this.#offset(handle);
    this.#pool.i32[page]![(off + OFF_VALUE_LENGTH) >> 2] = length;
    const at = off + HEADER_SIZE + keyLength;
    if (this.#classOf(handle) !== this.#large) {
      copyBytes(value, start, this.#pool.u8[page]!, at, length);
      return;
    }
    let written = Math.min(length, this.#pageSize - at);
    copyBytes(value, start, this.#pool.u8[page]!, at, written);
    for (let p = this.#pool.pageNext[page] as number; written < length; p = this.#pool.pageNext[p] as number) {
      const n = Math.min(length - written, this.#pageSize);
      copyBytes(value, start + written, this.#pool.u8[p]!, 0, n);
      written += n;
    }
  }

  /** Bytes the live item at `handle` occupies: its chunk, or whole pages for a large object (what `itemBytes` counts). */
  chunkBytes(handle: number): number {
    const cls = this.#classOf(handle);
    if (cls !== this.#large) return this.#chunk[cls] as number;
    return Math.ceil((HEADER_SIZE + this.keyLength(handle) + this.valueLength(handle)) / this.#pageSize) * this.#pageSize;
  }

  /** Bytes of each page (the `pageSize` option). */
  get pageSize(): number {
    return this.#pageSize;
  }

  /** Marks the item most recently used in its class (a GET's hit). */
  touch(handle: number): void {
    const cls = this.#classOf(handle);
    this.#lruUnlink(handle, cls);
    this.#lruPush(handle, cls);
  }

  /** Removes a live item (DELETE, expiry); its chunk goes back to its class's free list. */
  remove(handle: number): void {
    if (!this.isLive(handle)) throw new RangeError(`handle ${handle} names no live item`);
    this.#remove(handle);
  }

  /** Takes `handle` out of its hash chain: a walk from the bucket head to its predecessor. */
  #hashUnlink(handle: number): void {
    const h = this.#i32(handle, OFF_HASH) >>> 0;
    const b = h >>> this.#shift;
    const next = this.#i32(handle, OFF_HASH_NEXT);
    let e = (this.#buckets[b] as number) - 1;
    if (e === handle) {
      this.#buckets[b] = next + 1;
    } else {
      while (e !== NONE) {
        const after = this.#i32(e, OFF_HASH_NEXT);
        if (after === handle) {
          this.#setI32(e, OFF_HASH_NEXT, next);
          break;
        }
        e = after;
      }
    }
  }

  #remove(handle: number): void {
    const cls = this.#classOf(handle);
    const page = handle >>> SLOT_BITS;
    this.#hashUnlink(handle);
    this.#lruUnlink(handle, cls);
    this.#pool.u8[page]![this.#offset(handle) + OFF_FLAGS] = FREE;
    this.#items[cls] = (this.#items[cls] as number) - 1;
    this.#itemCount -= 1;
    if (cls === this.#large) {
      let pages = 0;
      for (let p = page; p !== NONE; ) {
        const following = this.#pool.pageNext[p] as number;
        this.#pool.release(p);
        pages += 1;
        p = following;
      }
      this.#classPages[cls] = (this.#classPages[cls] as number) - pages;
      this.#itemBytes -= pages * this.#pageSize;
      return;
    }
    this.#itemBytes -= this.#chunk[cls] as number;
    if (page === this.#drainPage) return; // leaving with its page: off the free list for good
    this.#freePush(handle, cls);
    const live = (this.#pool.pageLive[page] as number) - 1;
    this.#pool.pageLive[page] = live;
    if (live === 0 && this.#emptyMark[page] === 0) {
      this.#emptyMark[page] = 1;
      this.#emptyStack[this.#emptyCount] = page;
      this.#emptyCount += 1;
    }
  }

  // ---- lists (LRU and free lists share the prev/next fields) ------------

  #lruPush(handle: number, cls: number): void {
    const page = handle >>> SLOT_BITS;
    const off = this.#offset(handle);
    this.#tick += 1;
    this.#pool.f64[page]![(off + OFF_ACCESS) >> 3] = this.#tick;
    const i32 = this.#pool.i32[page]!;
    const head = this.#lruHead[cls] as number;
    i32[(off + OFF_PREV) >> 2] = NONE;
    i32[(off + OFF_NEXT) >> 2] = head;
    if (head !== NONE) this.#setI32(head, OFF_PREV, handle);
    else this.#lruTail[cls] = handle;
    this.#lruHead[cls] = handle;
  }

  #lruUnlink(handle: number, cls: number): void {
    const off = this.#offset(handle);
    const i32 = this.#pool.i32[handle >>> SLOT_BITS]!;
    const prev = i32[(off + OFF_PREV) >> 2] as number;
    const next = i32[(off + OFF_NEXT) >> 2] as number;
    if (prev !== NONE) this.#setI32(prev, OFF_NEXT, next);
    else this.#lruHead[cls] = next;
    if (next !== NONE) this.#setI32(next, OFF_PREV, prev);
    else this.#lruTail[cls] = prev;
  }

  #freePush(handle: number, cls: number): void {
    const head = this.#freeHead[cls] as number;
    this.#setI32(handle, OFF_PREV, NONE);
    this.#setI32(handle, OFF_NEXT, head);
    if (head !== NONE) this.#setI32(head, OFF_PREV, handle);
    this.#freeHead[cls] = handle;
    this.#freeCount[cls] = (this.#freeCount[cls] as number) + 1;
  }

  #freeUnlink(handle: number, cls: number): void {
    const prev = this.#i32(handle, OFF_PREV);
    const next = this.#i32(handle, OFF_NEXT);
    if (prev !== NONE) this.#setI32(prev, OFF_NEXT, next);
    else this.#freeHead[cls] = next;
    if (next !== NONE) this.#setI32(next, OFF_PREV, prev);
    this.#freeCount[cls] = (this.#freeCount[cls] as number) - 1;
  }

  // ---- allocation and eviction ----------------------------------------

  /** A free chunk of class `cls`, taken off its free list, or {@link NO_MEMORY}. */
  #allocChunk(cls: number): number {
    for (;;) {
      const free = this.#freeHead[cls] as number;
      if (free !== NONE) {
        this.#freeUnlink(free, cls);
        return free;
      }
      const page = this.#takePage();
      if (page !== NONE) {
        this.#carve(page, cls);
        continue;
      }
      // Each step below frees a chunk of `cls` or a whole page, so the next turn succeeds.
      if (this.#eviction === 'none' || !this.#evictFor(cls)) return NO_MEMORY;
    }
  }

  /** `pages` chained pages for one large object, or {@link NO_MEMORY}; the handle is slot 0 of the first. */
  #allocLarge(pages: number): number {
    while (this.#pool.available < pages) {
      if (this.#reclaimEmptyPage()) continue;
      if (this.#eviction === 'none' || !this.#evictFor(this.#large)) return NO_MEMORY;
    }
    const first = this.#pool.take();
    this.#pool.pageClass[first] = this.#large;
    let last = first;
    for (let i = 1; i < pages; i += 1) {
      const page = this.#pool.take();
      this.#pool.pageClass[page] = CONTINUATION_PAGE;
      this.#pool.pageNext[last] = page;
      last = page;
    }
    this.#pool.pageNext[last] = NONE;
    this.#classPages[this.#large] = (this.#classPages[this.#large] as number) + pages;
    return first << SLOT_BITS;
  }

  /** A page holding nothing: from the pool, or an emptied page taken back from its class; {@link NONE} if none. */
  #takePage(): number {
    const page = this.#pool.take();
    if (page !== NONE) return page;
    return this.#reclaimEmptyPage() ? this.#pool.take() : NONE;
  }

  /** Gives one page whose items are all gone back to the pool; false when there is none. */
  #reclaimEmptyPage(): boolean {
    while (this.#emptyCount > 0) {
      this.#emptyCount -= 1;
      const page = this.#emptyStack[this.#emptyCount] as number;
      this.#emptyMark[page] = 0;
      const cls = this.#pool.pageClass[page] as number;
      if (cls >= 0 && cls !== this.#large && page !== this.#drainPage && this.#pool.pageLive[page] === 0) {
        this.#uncarve(page, cls);
        return true;
      }
    }
    return false;
  }

  /** Carves `page` into chunks of class `cls`, all free; slot 0 ends up at the head of the free list. */
  #carve(page: number, cls: number): void {
    this.#pool.pageClass[page] = cls;
    this.#pool.pageLive[page] = 0;
    this.#classPages[cls] = (this.#classPages[cls] as number) + 1;
    const bytes = this.#pool.u8[page]!;
    const size = this.#chunk[cls] as number;
    for (let slot = (this.#slots[cls] as number) - 1; slot >= 0; slot -= 1) {
      bytes[slot * size + OFF_FLAGS] = FREE;
      this.#freePush((page << SLOT_BITS) | slot, cls);
    }
  }

  /** Takes every (free) chunk of `page` off its class's free list and gives the page back to the pool. */
  #uncarve(page: number, cls: number): void {
    for (let slot = 0; slot < (this.#slots[cls] as number); slot += 1) this.#freeUnlink((page << SLOT_BITS) | slot, cls);
    this.#classPages[cls] = (this.#classPages[cls] as number) - 1;
    this.#pool.release(page);
  }

  /**
   * Frees memory for class `cls` (which has no free chunk, and the pool no
   * page): evicts `cls`'s LRU tail, or empties the page of another class's
   * much older tail and gives it to the pool (docs/STORAGE.md "Eviction").
   * False when there is nothing to evict.
   */
  #evictFor(cls: number): boolean {
    const own = this.#lruTail[cls] as number;
    let other = NONE;
    let otherClass = NONE;
    let otherAccess = Infinity;
    for (let c = 0; c < this.#lruTail.length; c += 1) {
      const tail = this.#lruTail[c] as number;
      if (c === cls || tail === NONE) continue;
      const access = this.#access(tail);
      if (access < otherAccess) {
        other = tail;
        otherClass = c;
        otherAccess = access;
      }
    }
    if (this.#drainPage !== NONE) {
      // A page move is under way: advance it, and serve this write from the own tail meanwhile.
      if (this.#drainStep()) return true;
      if (own !== NONE) {
        this.#evict(own);
        return true;
      }
      while (!this.#drainStep());
      return true;
    }
    if (own === NONE && other === NONE) return false;
    const ownAge = own === NONE ? 0 : this.#tick - this.#access(own);
    const otherAge = other === NONE ? 0 : this.#tick - otherAccess;
    // A large object needs whole pages, which only a page move gives (unless its own tail is the victim).
    if (own !== NONE && (other === NONE || otherAge <= MOVE_AGE_RATIO * ownAge)) {
      this.#evict(own);
      return true;
    }
    if (otherClass === this.#large) {
      this.#evict(other);
      return true;
    }
    // Move the page holding the older tail: drain it a batch per write, and
    // meanwhile serve this write from `cls`'s own tail when it has one.
    this.#startDrain(other >>> SLOT_BITS, otherClass);
    if (this.#drainStep()) return true;
    if (own !== NONE) {
      this.#evict(own);
      return true;
    }
    while (!this.#drainStep()); // `cls` has nothing to give: finish the move now
    return true;
  }

  /**
   * Starts moving `page` out of class `cls`: its free chunks leave the free
   * list at once (so no new item lands in it), its live items are evicted
   * {@link DRAIN_BATCH} slots per {@link #drainStep}.
   */
  #startDrain(page: number, cls: number): void {
    this.#drainPage = page;
    this.#drainClass = cls;
    this.#drainSlot = 0;
    const size = this.#chunk[cls] as number;
    const bytes = this.#pool.u8[page]!;
    for (let slot = 0; slot < (this.#slots[cls] as number); slot += 1) {
      if (bytes[slot * size + OFF_FLAGS] !== LIVE) this.#freeUnlink((page << SLOT_BITS) | slot, cls);
    }
  }

  /** Evicts the live items of the next {@link DRAIN_BATCH} slots of the draining page; true when the page went to the pool. */
  #drainStep(): boolean {
    const page = this.#drainPage;
    const cls = this.#drainClass;
    const slots = this.#slots[cls] as number;
    const size = this.#chunk[cls] as number;
    const bytes = this.#pool.u8[page]!;
    const end = Math.min(slots, this.#drainSlot + DRAIN_BATCH);
    let evicted = 0;
    for (let slot = this.#drainSlot; slot < end; slot += 1) {
      if (bytes[slot * size + OFF_FLAGS] !== LIVE) continue; // freed meanwhile: #remove kept it off the free list
      const handle = (page << SLOT_BITS) | slot;
      this.#onEvict?.(handle);
      this.#hashUnlink(handle);
      this.#lruUnlink(handle, cls);
      bytes[slot * size + OFF_FLAGS] = FREE;
      evicted += 1;
    }
    this.#drainSlot = end;
    this.#items[cls] = (this.#items[cls] as number) - evicted;
    this.#itemCount -= evicted;
    this.#itemBytes -= evicted * size;
    if (end < slots) return false;
    this.#classPages[cls] = (this.#classPages[cls] as number) - 1;
    this.#pool.release(page);
    this.#drainPage = NONE;
    return true;
  }

  #access(handle: number): number {
    return this.#pool.f64[handle >>> SLOT_BITS]![(this.#offset(handle) + OFF_ACCESS) >> 3] as number;
  }

  #evict(handle: number): void {
    this.#onEvict?.(handle);
    this.#remove(handle);
  }

  /** Draws a new seed and re-hashes every live item: O(items), only when a chain grew past {@link LONG_CHAIN}. */
  #reseed(): void {
    this.#reseeds += 1;
    this.#hash.reseed();
    this.#buckets.fill(0);
    for (let page = 0; page < this.#pool.allocated; page += 1) {
      const cls = this.#pool.pageClass[page] as number;
      if (cls < 0) continue;
      const bytes = this.#pool.u8[page]!;
      const i32 = this.#pool.i32[page]!;
      const size = this.#chunk[cls] as number;
      for (let slot = 0; slot < (this.#slots[cls] as number); slot += 1) {
        const off = slot * size;
        if (bytes[off + OFF_FLAGS] !== LIVE) continue;
        const h = this.#hash.of(bytes, off + HEADER_SIZE, bytes[off + OFF_KEY_LENGTH] as number);
        const b = h >>> this.#shift;
        i32[(off + OFF_HASH) >> 2] = h | 0;
        i32[(off + OFF_HASH_NEXT) >> 2] = (this.#buckets[b] as number) - 1;
        this.#buckets[b] = ((page << SLOT_BITS) | slot) + 1;
      }
    }
  }

  // ---- whole-engine operations ------------------------------------------

  /**
   * Removes every item (FLUSH): O(pages) plus a memset of the bucket array,
   * never a walk over the items. Pages stay allocated, free, for reuse.
   * Handles from before are stale (their pages are free until reused).
   */
  clear(): void {
    this.#pool.clear();
    this.#buckets.fill(0);
    this.#lruHead.fill(NONE);
    this.#lruTail.fill(NONE);
    this.#freeHead.fill(NONE);
    this.#freeCount.fill(0);
    this.#items.fill(0);
    this.#classPages.fill(0);
    this.#emptyMark.fill(0);
    this.#emptyCount = 0;
    this.#drainPage = NONE;
    this.#itemCount = 0;
    this.#itemBytes = 0;
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
        const size = this.#chunk[cls] as number;
        const slots = this.#slots[cls] as number;
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

  /** Live items. */
  get size(): number {
    return this.#itemCount;
  }

  /** Bytes held (pages allocated + index + bookkeeping), never above the budget: what the budget is charged. */
  get heldBytes(): number {
    return this.#pool.allocated * this.#pageSize + this.#indexBytes;
  }

  /** The length of the longest hash chain: O(items), for tests and diagnostics. */
  longestChain(): number {
    let longest = 0;
    for (let b = 0; b < this.#buckets.length; b += 1) {
      let n = 0;
      for (let e = (this.#buckets[b] as number) - 1; e !== NONE; e = this.#i32(e, OFF_HASH_NEXT)) n += 1;
      if (n > longest) longest = n;
    }
    return longest;
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
    for (let c = 0; c < this.#chunk.length; c += 1) {
      classes.push({
        chunkSize: c === this.#large ? 0 : (this.#chunk[c] as number),
        pages: this.#classPages[c] as number,
        items: this.#items[c] as number,
        freeChunks: this.#freeCount[c] as number,
      });
    }
    return {
      items: this.#itemCount,
      itemBytes: this.#itemBytes,
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
