/**
 * The store's per-shard counting of items (issue 17): which shard a key or
 * an item belongs to, and the items, chunk bytes and expiry-queue owners
 * each write, removal and eviction adds or takes away. The slab engine holds
 * the items; this keeps the counters of spec §5.2 true to it.
 *
 * @example
 * ```ts
 * const counts = new ItemCounts(16, () => engine);
 * counts.count(counts.of(key), handle);
 * ```
 * @module
 */
import { fnv1aBytes } from './keys.js';
import { newShard, type Shard } from './shard.js';
import { UNQUEUED } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * The shards (partitions of the counters by the key's FNV-1a hash) and the
 * count of items that own an expiry-queue pair.
 *
 * @example
 * ```ts
 * const counts = new ItemCounts(16, () => engine);
 * counts.shards.length; // 16
 * ```
 */
export class ItemCounts {
  readonly shards: Shard[];
  readonly #mask: number;
  /** The engine, once built (it calls back into these counts on eviction, so it comes second). */
  readonly #engine: () => SlabEngine;
  /** Items that own a pair in the expiry queue (their queue bucket is set); the rest of the queue is stale. */
  queued = 0;

  constructor(shards: number, engine: () => SlabEngine) {
    this.shards = Array.from({ length: shards }, newShard);
    this.#mask = shards - 1;
    this.#engine = engine;
  }

  /** The number of the shard of the key that is `length` bytes of `key` from `start`: the tag the store gives its item in the engine. */
  indexOf(key: Uint8Array, start = 0, length = key.length): number {
    return fnv1aBytes(key, start, length) & this.#mask;
  }

  /** The shard of `key`. */
  of(key: Uint8Array, start = 0, length = key.length): Shard {
    return this.shards[this.indexOf(key, start, length)] as Shard;
  }

  /**
   * The shard of the live item `handle`, from the tag it was stored with:
   * eviction and the sweep know only the handle, and reading the key back
   * to hash it cost the sweep of 1M expired items a tenth of its time.
   */
  ofHandle(handle: number): Shard {
    return this.shards[this.#engine().tag(handle)] as Shard;
  }

  /** Counts `handle` into `shard` (a new item, or an item that moved chunks). */
  count(shard: Shard, handle: number): void {
    const engine = this.#engine();
    shard.items += 1;
    shard.itemBytes += engine.chunkBytes(handle);
    if (engine.queueBucket(handle) !== UNQUEUED) this.queued += 1;
  }

  /** Counts `handle` out of `shard` (removed, evicted, expired, or about to move). */
  uncount(shard: Shard, handle: number): void {
    const engine = this.#engine();
    shard.items -= 1;
    shard.itemBytes -= engine.chunkBytes(handle);
    if (engine.queueBucket(handle) !== UNQUEUED) this.queued -= 1;
  }

  /** Every item is gone (FLUSH); the other counters stay (spec §3.7). */
  clearItems(): void {
    this.queued = 0;
    for (const shard of this.shards) {
      shard.items = 0;
      shard.itemBytes = 0;
    }
  }
}
