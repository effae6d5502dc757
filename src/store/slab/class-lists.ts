import type { Chunks } from './chunks.js';
import { NONE, OFF_ACCESS, OFF_NEXT, OFF_PREV, SLOT_BITS } from './layout.js';

/**
 * Per size class: the intrusive LRU list of its live items (head = most
 * recently used, as memcached's `items.c`) and the free list of its free
 * chunks, both through the same prev/next header fields (a chunk is on one
 * or the other), so a page's free chunks can be unlinked one by one when it
 * moves; with the counts of items, free chunks and pages per class. The
 * access counter (+1 per push) marks each item's age for eviction.
 *
 * @example
 * ```ts
 * const lists = new ClassLists(chunks, classes);
 * lists.lruPush(handle, cls);
 * lists.lruTail[cls]; // the least recently used item of the class
 * ```
 */
export class ClassLists {
  readonly #chunks: Chunks;
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly freeHead: Int32Array;
  readonly freeCount: Int32Array;
  /** Live items per class. */
  readonly items: Int32Array;
  /** Pages carved per class (a large object: all its pages). */
  readonly classPages: Int32Array;
  #tick = 0;

  constructor(chunks: Chunks, classes: number) {
    this.#chunks = chunks;
    this.lruHead = new Int32Array(classes).fill(NONE);
    this.lruTail = new Int32Array(classes).fill(NONE);
    this.freeHead = new Int32Array(classes).fill(NONE);
    this.freeCount = new Int32Array(classes);
    this.items = new Int32Array(classes);
    this.classPages = new Int32Array(classes);
  }

  /** The access counter: +1 per write or touch. */
  get tick(): number {
    return this.#tick;
  }

  /** Puts the item at the head of its class's LRU list and marks its access. */
  lruPush(handle: number, cls: number): void {
    const chunks = this.#chunks;
    const page = handle >>> SLOT_BITS;
    const off = chunks.offset(handle);
    this.#tick += 1;
    chunks.pool.f64[page]![(off + OFF_ACCESS) >> 3] = this.#tick;
    const i32 = chunks.pool.i32[page]!;
    const head = this.lruHead[cls] as number;
    i32[(off + OFF_PREV) >> 2] = NONE;
    i32[(off + OFF_NEXT) >> 2] = head;
    if (head !== NONE) chunks.setI32(head, OFF_PREV, handle);
    else this.lruTail[cls] = handle;
    this.lruHead[cls] = handle;
  }

  /** Takes the item out of its class's LRU list. */
  lruUnlink(handle: number, cls: number): void {
    const chunks = this.#chunks;
    const off = chunks.offset(handle);
    const i32 = chunks.pool.i32[handle >>> SLOT_BITS]!;
    const prev = i32[(off + OFF_PREV) >> 2] as number;
    const next = i32[(off + OFF_NEXT) >> 2] as number;
    if (prev !== NONE) chunks.setI32(prev, OFF_NEXT, next);
    else this.lruHead[cls] = next;
    if (next !== NONE) chunks.setI32(next, OFF_PREV, prev);
    else this.lruTail[cls] = prev;
  }

  /** Puts a free chunk at the head of its class's free list (the next one handed out). */
  freePush(handle: number, cls: number): void {
    const chunks = this.#chunks;
    const head = this.freeHead[cls] as number;
    chunks.setI32(handle, OFF_PREV, NONE);
    chunks.setI32(handle, OFF_NEXT, head);
    if (head !== NONE) chunks.setI32(head, OFF_PREV, handle);
    this.freeHead[cls] = handle;
    this.freeCount[cls] = (this.freeCount[cls] as number) + 1;
  }

  /** Takes a free chunk off its class's free list. */
  freeUnlink(handle: number, cls: number): void {
    const chunks = this.#chunks;
    const prev = chunks.i32(handle, OFF_PREV);
    const next = chunks.i32(handle, OFF_NEXT);
    if (prev !== NONE) chunks.setI32(prev, OFF_NEXT, next);
    else this.freeHead[cls] = next;
    if (next !== NONE) chunks.setI32(next, OFF_PREV, prev);
    this.freeCount[cls] = (this.freeCount[cls] as number) - 1;
  }

  /** Empties every list and count (FLUSH); the access counter goes on. */
  clear(): void {
    this.lruHead.fill(NONE);
    this.lruTail.fill(NONE);
    this.freeHead.fill(NONE);
    this.freeCount.fill(0);
    this.items.fill(0);
    this.classPages.fill(0);
  }
}
