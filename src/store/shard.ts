/**
 * One shard of the store's counters. Items all live in one slab engine
 * (issue 17), which no longer splits the budget; a shard is the partition
 * of the counters for the keys whose FNV-1a hash picks it (spec §5.2), so
 * per-shard STATS still tell where hits, misses and items are.
 *
 * @example
 * ```ts
 * const shards = Array.from({ length: 16 }, newShard);
 * ```
 * @module
 */

/** A shard's counters (they survive FLUSH, spec §3.7, except its items and their bytes). */
export interface Shard {
  /** Live items whose key hashes to this shard. */
  items: number;
  /** Chunk bytes of those items ({@link chargeOf} each). */
  itemBytes: number;
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
 * A shard with zeroed counters.
 *
 * @example
 * ```ts
 * const shard = newShard();
 * ```
 */
export function newShard(): Shard {
  return {
    items: 0,
    itemBytes: 0,
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
}
