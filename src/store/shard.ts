/**
 * One shard of the store: an `LRUCache` of entries bounded by its share of
 * the memory budget (each entry charged `chargeOf` bytes), and the
 * counters of what happened in it. The store picks a shard by the key's
 * `fnv1a` hash and does all the work; these are its data.
 *
 * @example
 * ```ts
 * const shard = newShard((s) => new LRUCache<string, Entry>({ maxSize: budget, dispose: … }));
 * ```
 * @module
 */
import type { LRUCache } from 'lru-cache';

/** One stored item. */
export interface Entry {
  value: Buffer;
  /** Clock time at which the entry expires; 0 = never. */
  expiresAt: number;
  /**
   * The expiry-queue bucket of this entry's own pair, or {@link UNQUEUED}.
   * Invariant: an entry with an expiry has a pair in a bucket no later than
   * its expiry's, so the sweep meets it in time (see `Store.sweep`).
   */
  queued: number;
}

/**
 * {@link Entry.queued} of an entry without a pair in the expiry queue.
 *
 * @example
 * ```ts
 * if (entry.queued !== UNQUEUED) queuedEntries -= 1;
 * ```
 */
export const UNQUEUED = Number.MIN_SAFE_INTEGER;

/** A shard's cache and counters (the counters survive FLUSH, spec §3.7). */
export interface Shard {
  /** Replaced by an empty one on FLUSH. */
  cache: LRUCache<string, Entry>;
  hits: number;
  misses: number;
  sets: number;
  deleteHits: number;
  deleteMisses: number;
  evictions: number;
  expiredSwept: number;
  expiredLazy: number;
  refusedTooLarge: number;
  refusedOutOfMemory: number;
}

/**
 * A shard with zeroed counters and the cache `newCache` makes for it (the
 * cache's dispose counts evictions on the shard, so it needs the shard).
 *
 * @example
 * ```ts
 * const shards = Array.from({ length: 16 }, () => newShard(makeCache));
 * ```
 */
export function newShard(newCache: (shard: Shard) => LRUCache<string, Entry>): Shard {
  const shard: Shard = {
    cache: undefined as unknown as LRUCache<string, Entry>, // set just below
    hits: 0,
    misses: 0,
    sets: 0,
    deleteHits: 0,
    deleteMisses: 0,
    evictions: 0,
    expiredSwept: 0,
    expiredLazy: 0,
    refusedTooLarge: 0,
    refusedOutOfMemory: 0,
  };
  shard.cache = newCache(shard);
  return shard;
}
