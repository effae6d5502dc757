import type { ClassLists } from './class-lists.js';
import type { Chunks } from './chunks.js';
import { DRAIN_BATCH, MOVE_AGE_RATIO, NO_MEMORY, type SlabEviction } from './engine-types.js';
import type { HashIndex } from './hash-index.js';
import { FREE, LIVE, NONE, OFF_FLAGS, SLOT_BITS } from './layout.js';
import { CONTINUATION_PAGE, type PagePool } from './page-pool.js';

/**
 * What an {@link Allocator} works on: the engine's parts and policy.
 *
 * @example
 * ```ts
 * const parts: AllocatorParts = { pool, chunks, index, lists, eviction: 'lru', onEvict: undefined };
 * ```
 */
export interface AllocatorParts {
  pool: PagePool;
  chunks: Chunks;
  index: HashIndex;
  lists: ClassLists;
  eviction: SlabEviction;
  onEvict: ((handle: number) => void) | undefined;
}

/**
 * Memory for items, and its return (docs/STORAGE.md "LRU and eviction"):
 * chunks from a class's free list, pages from the pool or taken back from a
 * class whose page emptied, and when nothing is free, eviction: the class's
 * own LRU tail, or a page moved from a class whose tail is
 * {@link MOVE_AGE_RATIO} times older, drained {@link DRAIN_BATCH} slots per
 * write (memcached's `slab_reassign`; no slab calcification). Counts the
 * live items and the bytes they occupy.
 *
 * @example
 * ```ts
 * const alloc = new Allocator({ pool, chunks, index, lists, eviction: 'lru', onEvict: undefined });
 * const handle = alloc.allocChunk(cls); // or NO_MEMORY
 * ```
 */
export class Allocator {
  readonly #pool: PagePool;
  readonly #chunks: Chunks;
  readonly #index: HashIndex;
  readonly #lists: ClassLists;
  readonly #eviction: SlabEviction;
  readonly #onEvict: ((handle: number) => void) | undefined;
  /** Class id of large objects (one past the last slab class). */
  readonly #large: number;
  /** Pages whose live count reached 0 while carved for a class: candidates to give back to the pool. */
  readonly #emptyStack: Int32Array;
  readonly #emptyMark: Uint8Array;
  #emptyCount = 0;
  /** The page being moved out of its class ({@link #drainStep}), or NONE; its class; the next slot to drain. */
  #drainPage = NONE;
  #drainClass = NONE;
  #drainSlot = 0;
  /**
   * `'import'` while a snapshot loads (docs/SNAPSHOT.md "Loading"): the
   * oldest items are evicted to make room even under eviction `'none'`, so a
   * file larger than the budget keeps its most recently used items.
   */
  mode: 'serve' | 'import' = 'serve';
  /** Live items. */
  count = 0;
  /** Sum of the live items' chunk sizes (whole pages for a large object). */
  bytes = 0;

  constructor(parts: AllocatorParts) {
    this.#pool = parts.pool;
    this.#chunks = parts.chunks;
    this.#index = parts.index;
    this.#lists = parts.lists;
    this.#eviction = parts.eviction;
    this.#onEvict = parts.onEvict;
    this.#large = parts.chunks.large;
    this.#emptyStack = new Int32Array(parts.pool.maxPages);
    this.#emptyMark = new Uint8Array(parts.pool.maxPages);
  }

  /** Bytes of the allocator's own per-page arrays (charged to the budget). */
  get byteLength(): number {
    return this.#emptyStack.byteLength + this.#emptyMark.byteLength;
  }

  /** Forgets every item (FLUSH, after the pool and lists are cleared). */
  clear(): void {
    this.#emptyMark.fill(0);
    this.#emptyCount = 0;
    this.#drainPage = NONE;
    this.count = 0;
    this.bytes = 0;
  }

  /** Frees the live item `handle` (removed or evicted): its chunk back to its class's free list, a large object's pages to the pool. */
  free(handle: number): void {
    // Freeing a chunk twice would put it on its free list twice and hand it to two keys:
    // refuse (a bug; the write that asked fails INTERNAL and the store stays whole).
    if (!this.#chunks.isLive(handle)) throw new RangeError(`chunk ${handle} holds no item: not freed again`);
    const cls = this.#chunks.classOf(handle);
    const page = handle >>> SLOT_BITS;
    this.#index.unlink(handle);
    this.#lists.lruUnlink(handle, cls);
    this.#pool.u8[page]![this.#chunks.offset(handle) + OFF_FLAGS] = FREE;
    this.#lists.items[cls] = (this.#lists.items[cls] as number) - 1;
    this.count -= 1;
    if (cls === this.#large) {
      let pages = 0;
      for (let p = page; p !== NONE; ) {
        const following = this.#pool.pageNext[p] as number;
        this.#pool.release(p);
        pages += 1;
        p = following;
      }
      this.#lists.classPages[cls] = (this.#lists.classPages[cls] as number) - pages;
      this.bytes -= pages * this.#chunks.pageSize;
      return;
    }
    this.bytes -= this.#chunks.chunk[cls] as number;
    if (page === this.#drainPage) return; // leaving with its page: off the free list for good
    this.#lists.freePush(handle, cls);
    const live = (this.#pool.pageLive[page] as number) - 1;
    this.#pool.pageLive[page] = live;
    if (live === 0 && this.#emptyMark[page] === 0) {
      this.#emptyMark[page] = 1;
      this.#emptyStack[this.#emptyCount] = page;
      this.#emptyCount += 1;
    }
  }

  /** A free chunk of class `cls`, taken off its free list, or {@link NO_MEMORY}. */
  allocChunk(cls: number): number {
    for (;;) {
      const free = this.#lists.freeHead[cls] as number;
      if (free !== NONE) {
        this.#lists.freeUnlink(free, cls);
        return free;
      }
      const page = this.#takePage();
      if (page !== NONE) {
        this.#carve(page, cls);
        continue;
      }
      // Each step below frees a chunk of `cls` or a whole page, so the next turn succeeds.
      if (!this.#evicts || !this.#evictFor(cls)) return NO_MEMORY;
    }
  }

  /** `pages` chained pages for one large object, or {@link NO_MEMORY}; the handle is slot 0 of the first. */
  allocLarge(pages: number): number {
    while (this.#pool.available < pages) {
      if (this.#reclaimEmptyPage()) continue;
      if (!this.#evicts || !this.#evictFor(this.#large)) return NO_MEMORY;
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
    this.#lists.classPages[this.#large] = (this.#lists.classPages[this.#large] as number) + pages;
    return first << SLOT_BITS;
  }

  /** True when a full engine evicts to make room: eviction `'lru'`, or any policy while a snapshot loads. */
  get #evicts(): boolean {
    return this.#eviction === 'lru' || this.mode === 'import';
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
    this.#lists.classPages[cls] = (this.#lists.classPages[cls] as number) + 1;
    const bytes = this.#pool.u8[page]!;
    const size = this.#chunks.chunk[cls] as number;
    for (let slot = (this.#chunks.slots[cls] as number) - 1; slot >= 0; slot -= 1) {
      bytes[slot * size + OFF_FLAGS] = FREE;
      this.#lists.freePush((page << SLOT_BITS) | slot, cls);
    }
  }

  /** Takes every (free) chunk of `page` off its class's free list and gives the page back to the pool. */
  #uncarve(page: number, cls: number): void {
    for (let slot = 0; slot < (this.#chunks.slots[cls] as number); slot += 1) this.#lists.freeUnlink((page << SLOT_BITS) | slot, cls);
    this.#lists.classPages[cls] = (this.#lists.classPages[cls] as number) - 1;
    this.#pool.release(page);
  }

  /**
   * Frees memory for class `cls` (which has no free chunk, and the pool no
   * page): evicts `cls`'s LRU tail, or empties the page of another class's
   * much older tail and gives it to the pool (docs/STORAGE.md "Eviction").
   * False when there is nothing to evict.
   */
  #evictFor(cls: number): boolean {
    const own = this.#lists.lruTail[cls] as number;
    let other = NONE;
    let otherClass = NONE;
    let otherAccess = Infinity;
    for (let c = 0; c < this.#lists.lruTail.length; c += 1) {
      const tail = this.#lists.lruTail[c] as number;
      if (c === cls || tail === NONE) continue;
      const access = this.#chunks.access(tail);
      if (access < otherAccess) {
        other = tail;
        otherClass = c;
        otherAccess = access;
      }
    }
    if (this.#drainPage !== NONE) {
      // A page move is under way: advance it, and serve this write from the own tail meanwhile.
      // The tail is read again after the step: the step may just have evicted it (the page
      // being moved can be this class's own), and evicting it twice counted it twice and
      // unlinked a free chunk (found by an outside attack: curr_items went negative).
      if (this.#drainStep()) return true;
      const tail = this.#lists.lruTail[cls] as number;
      if (tail !== NONE) {
        this.#evict(tail);
        return true;
      }
      while (!this.#drainStep());
      return true;
    }
    if (own === NONE && other === NONE) return false;
    const ownAge = own === NONE ? 0 : this.#lists.tick - this.#chunks.access(own);
    const otherAge = other === NONE ? 0 : this.#lists.tick - otherAccess;
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
    const tail = this.#lists.lruTail[cls] as number; // read again, as above
    if (tail !== NONE) {
      this.#evict(tail);
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
    const size = this.#chunks.chunk[cls] as number;
    const bytes = this.#pool.u8[page]!;
    for (let slot = 0; slot < (this.#chunks.slots[cls] as number); slot += 1) {
      if (bytes[slot * size + OFF_FLAGS] !== LIVE) this.#lists.freeUnlink((page << SLOT_BITS) | slot, cls);
    }
  }

  /** Evicts the live items of the next {@link DRAIN_BATCH} slots of the draining page; true when the page went to the pool. */
  #drainStep(): boolean {
    const page = this.#drainPage;
    const cls = this.#drainClass;
    const slots = this.#chunks.slots[cls] as number;
    const size = this.#chunks.chunk[cls] as number;
    const bytes = this.#pool.u8[page]!;
    const end = Math.min(slots, this.#drainSlot + DRAIN_BATCH);
    let evicted = 0;
    for (let slot = this.#drainSlot; slot < end; slot += 1) {
      if (bytes[slot * size + OFF_FLAGS] !== LIVE) continue; // freed meanwhile: #remove kept it off the free list
      const handle = (page << SLOT_BITS) | slot;
      this.#onEvict?.(handle);
      this.#index.unlink(handle);
      this.#lists.lruUnlink(handle, cls);
      bytes[slot * size + OFF_FLAGS] = FREE;
      evicted += 1;
    }
    this.#drainSlot = end;
    this.#lists.items[cls] = (this.#lists.items[cls] as number) - evicted;
    this.count -= evicted;
    this.bytes -= evicted * size;
    if (end < slots) return false;
    this.#lists.classPages[cls] = (this.#lists.classPages[cls] as number) - 1;
    this.#pool.release(page);
    this.#drainPage = NONE;
    return true;
  }

  #evict(handle: number): void {
    // Checked before the callback too, so a bug cannot count an eviction it then refuses.
    if (!this.#chunks.isLive(handle)) throw new RangeError(`chunk ${handle} holds no item: not evicted again`);
    this.#onEvict?.(handle);
    this.free(handle);
  }
}
