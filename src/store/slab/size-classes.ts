import { PAGE_SIZE } from './layout.js';

/** Smallest chunk: 64 bytes, so a page holds at most 16,384 chunks (the 14 slot bits of a handle). */
export const SMALLEST_CHUNK = 64;
/** Growth factor between neighbouring classes, as memcached's default `-f 1.25`. */
export const GROWTH_FACTOR = 1.25;

/**
 * The chunk sizes of the slab classes, ascending: 64 bytes, then ×1.25
 * rounded up to 8 bytes, while at most half a page (of `pageSize` bytes), then a whole page
 * (memcached `slabs_init`: its last class is the page itself). 8-byte
 * alignment keeps each header's `f64` fields aligned for the page's
 * `Float64Array` view.
 *
 * @example
 * ```ts
 * const sizes = chunkSizes(); // [64, 80, 104, 136, 176, 224, …, 1048576]
 * ```
 */
export function chunkSizes(pageSize = PAGE_SIZE): number[] {
  const sizes: number[] = [];
  let size = SMALLEST_CHUNK;
  while (size <= pageSize / 2) {
    sizes.push(size);
    size = Math.ceil((size * GROWTH_FACTOR) / 8) * 8;
  }
  sizes.push(pageSize);
  return sizes;
}

/**
 * The class whose chunks are the smallest that hold `bytes` (binary search),
 * or `sizes.length` when `bytes` needs more than a page (a large object).
 *
 * @example
 * ```ts
 * classFor(chunkSizes(), 172); // the class of 176-byte chunks
 * ```
 */
export function classFor(sizes: readonly number[], bytes: number): number {
  let lo = 0;
  let hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sizes[mid] as number) < bytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
