/**
 * The store's memory rule (issue 17): an item is charged the chunk it
 * occupies in the slab engine — the chunk of the smallest size class that
 * holds its 56-byte header, key and value, or whole pages for an item larger
 * than a page. The budget (`--max-memory`) bounds what the engine holds:
 * pages allocated plus the index and per-page bookkeeping (`heldBytes`),
 * docs/STORAGE.md "What is charged". This replaces the RSS calibration of
 * the old object graph (`ENTRY_OVERHEAD`): items no longer have heap objects
 * to account for.
 *
 * @example
 * ```ts
 * chargeOf(16, 100); // 176: the 176-byte chunk of a 172-byte item
 * ```
 * @module
 */
import { HEADER_SIZE, PAGE_SIZE } from './slab/layout.js';
import { chunkSizes, classFor } from './slab/size-classes.js';

const classesByPage = new Map<number, number[]>();

/**
 * Bytes an item of a `keyLength`-byte key and a `valueLength`-byte value
 * occupies in pages of `pageSize` bytes (1 MiB from a 32 MiB budget up, see
 * `pageSizeFor`): its chunk, or whole pages for a large object. STATS
 * `item_bytes` is the sum of these over the live items.
 *
 * @example
 * ```ts
 * chargeOf(16, 10);     // 80
 * chargeOf(16, 100);    // 176
 * chargeOf(16, 65_535); // 77,000: the class above 65,599 bytes
 * ```
 */
export function chargeOf(keyLength: number, valueLength: number, pageSize = PAGE_SIZE): number {
  let sizes = classesByPage.get(pageSize);
  if (sizes === undefined) {
    sizes = chunkSizes(pageSize);
    classesByPage.set(pageSize, sizes);
  }
  const total = HEADER_SIZE + keyLength + valueLength;
  const cls = classFor(sizes, total);
  return cls < sizes.length ? (sizes[cls] as number) : Math.ceil(total / pageSize) * pageSize;
}
