/**
 * The slab engine's constants, options and statistics (issue 17): what
 * `SlabEngine` callers pass and read, apart from its code.
 *
 * @example
 * ```ts
 * import { NO_MEMORY, pageSizeFor } from './engine-types.js';
 * ```
 * @module
 */
import { PAGE_SIZE } from './layout.js';
import { MIN_PAGE_SIZE } from './page-pool.js';
import type { KeyHashMix, SeedSource } from './key-hash.js';

/** `SlabEngine.store` refused: no memory could be freed for the item (eviction `'none'`, or nothing left to evict). */
export const NO_MEMORY = -2;
/** `SlabEngine.store` refused: the item needs more pages than the whole budget holds. */
export const TOO_LARGE = -3;

/**
 * A chain longer than this met on insert makes the engine draw a new hash
 * seed and migrate the index to it in steps ({@link MIGRATE_PER_WRITE}).
 * With a secret seed the average chain is at most 8 (2,048–4,096 buckets
 * per page, at most 16,384 chunks), and a chain of 48 is out of reach by
 * chance (Poisson(8) ≥ 48 is below 10^-19); only a broken seed, or keys
 * found to collide on all 32 bits of the hash (docs/STORAGE.md), get there.
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

/**
 * Index buckets a write moves to the new seed while a re-seed migrates
 * (`HashIndex.migrate`): a few µs a write (1–3 entries a bucket, each
 * re-hashed and linked). The store's sweep timer moves the rest in slices
 * when the server is idle, and a SCAN call moves a slice before it walks.
 *
 * @example
 * ```ts
 * index.migrate(MIGRATE_PER_WRITE); // after a write, while a re-seed migrates
 * ```
 */
export const MIGRATE_PER_WRITE = 16;

/** Eviction policy: `'lru'` frees memory by evicting; `'none'` refuses writes that do not fit. */
export type SlabEviction = 'lru' | 'none';

/** Options of a `SlabEngine`. */
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
   * The index hash's finalizer (`KeyHash`): `'fmix32'`, the default. Test
   * only: `'linear'` is the bucket function issue 19's outside attack broke,
   * for the regression test that shows the attack still works on it.
   */
  hashMix?: KeyHashMix;
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

/** What a `SlabEngine` holds (memcached `stats slabs` in short). */
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

