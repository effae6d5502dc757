/**
 * The store's counters (spec §5.2), per shard and in total, named after
 * Redis INFO and memcached stats so that dashboards built for those read
 * them without a mapping.
 *
 * @example
 * ```ts
 * const stats = statsOf(shards, engine.stats(), 'lru', queue.size);
 * stats.keyspace_hits; // summed over the shards
 * ```
 * @module
 */
import type { EvictionPolicy } from './options.js';
import type { Shard } from './shard.js';
import type { SlabStats } from './slab/engine-types.js';

/** Counters of one shard or of the whole store; names follow Redis INFO and memcached stats (spec §5.2). */
export interface StoreCounters {
  /** Live entries (memcached `curr_items`). */
  curr_items: number;
  /**
   * In total: bytes the store holds, pages allocated + index + bookkeeping
   * (the slab engine's `heldBytes`), never above `limit_maxbytes` (spec §5.2).
   * Per shard: the chunk bytes of its items (`chargeOf` each).
   */
  bytes: number;
  /** In total: the budget, `--max-memory` (memcached `limit_maxbytes`). Per shard: its even share, for scale only (no shard has a budget of its own). */
  limit_maxbytes: number;
  /** Reads that found a live key (Redis `keyspace_hits`). */
  keyspace_hits: number;
  /** Reads that found nothing (Redis `keyspace_misses`). */
  keyspace_misses: number;
  /** Writes stored by SET and INCR (memcached `cmd_set` counts attempts; this counts stores). */
  total_sets: number;
  /** DELETEs that removed a key (memcached `delete_hits`). */
  delete_hits: number;
  /** DELETEs of an absent key (memcached `delete_misses`). */
  delete_misses: number;
  /** Entries evicted to make room (Redis `evicted_keys`, memcached `evictions`). */
  evictions: number;
  /** Expired entries reclaimed, both ways (Redis `expired_keys`). */
  expired_keys: number;
  /** … of which by the active sweep. */
  expired_swept: number;
  /** … of which on access. */
  expired_lazy: number;
  /** Writes refused with TOO_LARGE. */
  refused_too_large: number;
  /** Writes refused with OUT_OF_MEMORY. */
  refused_out_of_memory: number;
}

/** {@link StoreCounters} in total plus one per shard. */
export interface StoreStats extends StoreCounters {
  /** Chunk bytes of the live items (memcached `bytes`): what they occupy of `bytes`, internal fragmentation included. */
  item_bytes: number;
  /** Bytes of each slab page (1 MiB from a 32 MiB budget up). */
  page_size: number;
  /** Number of shards. */
  shard_count: number;
  /** Eviction policy. */
  eviction: EvictionPolicy;
  /** Pairs waiting in the expiry queue, stale ones included (bounded at about twice the keys with a TTL). */
  expiry_queue: number;
  /** Per-shard counters, in shard order. */
  shards: StoreCounters[];
}

/** The counters of `s` (its share `shareBytes` of the budget), or all zero for `undefined`: the start of a sum. */
function countersOf(s: Shard | undefined, shareBytes: number): StoreCounters {
  return {
    curr_items: s?.items ?? 0,
    bytes: s?.itemBytes ?? 0,
    limit_maxbytes: s === undefined ? 0 : shareBytes,
    keyspace_hits: s?.hits ?? 0,
    keyspace_misses: s?.misses ?? 0,
    total_sets: s?.sets ?? 0,
    delete_hits: s?.deleteHits ?? 0,
    delete_misses: s?.deleteMisses ?? 0,
    evictions: s?.evictions ?? 0,
    expired_keys: (s?.expiredSwept ?? 0) + (s?.expiredLazy ?? 0),
    expired_swept: s?.expiredSwept ?? 0,
    expired_lazy: s?.expiredLazy ?? 0,
    refused_too_large: s?.refusedTooLarge ?? 0,
    refused_out_of_memory: s?.refusedOutOfMemory ?? 0,
  };
}

/**
 * The counters of every shard and their total (spec §5.2); the total's
 * `bytes` and `limit_maxbytes` are the engine's held bytes and budget.
 *
 * @example
 * ```ts
 * statsOf(shards, engine.stats(), 1 << 20, 'lru', 0).shard_count; // shards.length
 * ```
 */
export function statsOf(shards: readonly Shard[], slab: SlabStats, pageSize: number, eviction: EvictionPolicy, expiryQueue: number): StoreStats {
  const share = Math.floor(slab.limit / shards.length);
  const each = shards.map((s) => countersOf(s, share));
  const total = each.reduce((sum, s) => {
    for (const name of Object.keys(sum) as (keyof StoreCounters)[]) sum[name] += s[name];
    return sum;
  }, countersOf(undefined, share));
  total.bytes = slab.heldBytes;
  total.limit_maxbytes = slab.limit;
  return { ...total, item_bytes: slab.itemBytes, page_size: pageSize, shard_count: each.length, eviction, expiry_queue: expiryQueue, shards: each };
}
