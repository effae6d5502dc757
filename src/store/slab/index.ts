/**
 * The off-heap slab engine (issue 17): items in 1 MiB pages carved into
 * memcached-style size classes, named by small-integer handles, with an
 * index in typed arrays, per-class LRU and page moves between classes.
 * `Store` keeps every item in it; docs/STORAGE.md has the design and its
 * measurements.
 *
 * @example
 * ```ts
 * import { SlabEngine, NONE } from './slab/index.js';
 * const engine = new SlabEngine({ maxMemory: 64 * 1024 * 1024 });
 * ```
 * @module
 */
export { KeyHash, randomSeed, type KeyHashMix, type SeedSource } from './key-hash.js';
export { HEADER_SIZE, MAX_PAGES, NONE, PAGE_SIZE, UNQUEUED, handleOf, pageOf, slotOf } from './layout.js';
export { CONTINUATION_PAGE, FREE_PAGE, MIN_PAGE_SIZE, PagePool, isPageSize } from './page-pool.js';
export { GROWTH_FACTOR, SMALLEST_CHUNK, chunkSizes, classFor } from './size-classes.js';
export { SlabEngine } from './slab-engine.js';
export {
  DRAIN_BATCH,
  LONG_CHAIN,
  MIGRATE_PER_WRITE,
  MOVE_AGE_RATIO,
  NO_MEMORY,
  TOO_LARGE,
  pageSizeFor,
  type SlabClassStats,
  type SlabEngineOptions,
  type SlabEviction,
  type SlabStats,
} from './engine-types.js';
