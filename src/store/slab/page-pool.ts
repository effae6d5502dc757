import { MAX_PAGES, NONE, PAGE_SIZE } from './layout.js';

/** {@link PagePool.pageClass} of a page that holds nothing (on the free stack, or never allocated). */
export const FREE_PAGE = -1;
/** {@link PagePool.pageClass} of the second and later pages of a large object. */
export const CONTINUATION_PAGE = -2;

/**
 * Bytes of bookkeeping kept per page the engine may hold, charged to the
 * budget: the pool's class (2), chain link (4), live count (2) and free-stack
 * entry (4), and the engine's empty-page stack entry (4) and mark (1).
 */
export const BOOKKEEPING_BYTES_PER_PAGE = 2 + 4 + 2 + 4 + 4 + 1;

/**
 * The smallest page: 4 chunks of the smallest class. Pages smaller than
 * {@link PAGE_SIZE} exist for small budgets only (a `--max-memory` of a few
 * KiB, as tests and tiny sidecars use): a budget must hold a few pages, or one
 * page per busy class would be most of it.
 *
 * @example
 * ```ts
 * pageSizeFor(4 * 1024) === MIN_PAGE_SIZE; // true
 * ```
 */
export const MIN_PAGE_SIZE = 256;

/**
 * True when `size` is a page size the engine accepts: a power of two from
 * {@link MIN_PAGE_SIZE} to {@link PAGE_SIZE}.
 *
 * @example
 * ```ts
 * isPageSize(64 * 1024); // true
 * ```
 */
export function isPageSize(size: number): boolean {
  return Number.isInteger(size) && size >= MIN_PAGE_SIZE && size <= PAGE_SIZE && (size & (size - 1)) === 0;
}

/**
 * The pages of one slab engine: up to `maxPages` buffers of
 * `pageSize` bytes ({@link PAGE_SIZE} unless a small budget asks for less) from `Buffer.allocUnsafeSlow` (one `ArrayBuffer`
 * each, outside the V8 heap), allocated on first need and then kept for
 * reuse, each with `Float64Array`, `Int32Array` and `Uint32Array` views so
 * header fields are read without `Buffer` calls. The pool holds the per-page
 * facts in typed arrays indexed by page number: the class the page is carved
 * for, the next page of a large object's chain, and how many live items it
 * holds.
 *
 * ```
 * pages:  0 … allocated-1 exist; allocated … maxPages-1 are not allocated yet
 * free:   #free[0 … #freeCount-1] are allocated pages holding nothing
 * ```
 *
 * @example
 * ```ts
 * const pool = new PagePool(64);
 * const page = pool.take(); // 0
 * pool.u8[page];            // a 1 MiB Buffer
 * pool.release(page);
 * ```
 */
export class PagePool {
  /** Most pages the pool will allocate. */
  readonly maxPages: number;
  /** Bytes of each page: a power of two from {@link MIN_PAGE_SIZE} to {@link PAGE_SIZE}. */
  readonly pageSize: number;
  /** Byte view of each allocated page. */
  readonly u8: Buffer[] = [];
  /** `Float64Array` view of each allocated page. */
  readonly f64: Float64Array[] = [];
  /** `Int32Array` view of each allocated page. */
  readonly i32: Int32Array[] = [];
  /** `Uint32Array` view of each allocated page. */
  readonly u32: Uint32Array[] = [];
  /** Per page: its size class, {@link FREE_PAGE} or {@link CONTINUATION_PAGE}. */
  readonly pageClass: Int16Array;
  /** Per page of a large object: the next page of its chain, or {@link NONE}. */
  readonly pageNext: Int32Array;
  /** Per page: live items in it (at most 16,384). */
  readonly pageLive: Uint16Array;
  readonly #free: Int32Array;
  #freeCount = 0;

  constructor(maxPages: number, pageSize = PAGE_SIZE) {
    if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > MAX_PAGES) {
      throw new RangeError(`maxPages must be an integer from 1 to ${MAX_PAGES}, got ${maxPages}`);
    }
    if (!isPageSize(pageSize)) {
      throw new RangeError(`pageSize must be a power of two from ${MIN_PAGE_SIZE} to ${PAGE_SIZE}, got ${pageSize}`);
    }
    this.pageSize = pageSize;
    this.maxPages = maxPages;
    this.pageClass = new Int16Array(maxPages).fill(FREE_PAGE);
    this.pageNext = new Int32Array(maxPages).fill(NONE);
    this.pageLive = new Uint16Array(maxPages);
    this.#free = new Int32Array(maxPages);
  }

  /** Pages allocated so far (held, in use or free). */
  get allocated(): number {
    return this.u8.length;
  }

  /** Pages that {@link take} can hand out without anything being freed. */
  get available(): number {
    return this.#freeCount + this.maxPages - this.u8.length;
  }

  /** Bytes of the pool's own typed arrays (the bookkeeping, not the pages). */
  get bookkeepingBytes(): number {
    return this.pageClass.byteLength + this.pageNext.byteLength + this.pageLive.byteLength + this.#free.byteLength;
  }

  /** A page holding nothing, or {@link NONE} when all `maxPages` are in use. Its bytes are not cleared. */
  take(): number {
    if (this.#freeCount > 0) {
      this.#freeCount -= 1;
      return this.#free[this.#freeCount] as number;
    }
    const page = this.u8.length;
    if (page === this.maxPages) return NONE;
    const size = this.pageSize;
    const bytes = Buffer.allocUnsafeSlow(size);
    this.u8.push(bytes);
    this.f64.push(new Float64Array(bytes.buffer, bytes.byteOffset, size / 8));
    this.i32.push(new Int32Array(bytes.buffer, bytes.byteOffset, size / 4));
    this.u32.push(new Uint32Array(bytes.buffer, bytes.byteOffset, size / 4));
    return page;
  }

  /** Gives `page` back: it holds nothing from now on. */
  release(page: number): void {
    this.pageClass[page] = FREE_PAGE;
    this.pageNext[page] = NONE;
    this.pageLive[page] = 0;
    this.#free[this.#freeCount] = page;
    this.#freeCount += 1;
  }

  /** Every allocated page holds nothing again: O(pages), the pages stay allocated for reuse. */
  clear(): void {
    const n = this.u8.length;
    this.pageClass.fill(FREE_PAGE, 0, n);
    this.pageNext.fill(NONE, 0, n);
    this.pageLive.fill(0, 0, n);
    // Highest first, so take() hands out page 0 first again.
    for (let i = 0; i < n; i += 1) this.#free[i] = n - 1 - i;
    this.#freeCount = n;
  }
}
