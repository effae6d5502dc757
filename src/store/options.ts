/**
 * The options of a {@link Store} and of its writes, and their validation:
 * one typed interface, defaults spread once, a message naming the option and
 * its accepted range.
 *
 * @example
 * ```ts
 * const options = resolveStoreOptions({ shards: 4 }); // maxMemory 64 MiB, eviction 'lru', …
 * ```
 * @module
 */

import type { ChangeHook } from './change.js';

/** Eviction policy: `'lru'` evicts the shard's least recently used entries; `'none'` refuses writes that do not fit. */
export type EvictionPolicy = 'lru' | 'none';

/** Options of a {@link Store}. */
export interface StoreOptions {
  /** Memory budget in bytes, split evenly across shards. Default 64 MiB. */
  maxMemory?: number;
  /** Number of shards, a power of two from 1 to 1024. Default 16. */
  shards?: number;
  /** What a full shard does with a write. Default `'lru'`. */
  eviction?: EvictionPolicy;
  /** Monotonic clock in milliseconds. Default `performance.now`, which a wall-clock jump does not move. */
  clock?: () => number;
  /** Run the active expiry sweep on a timer. Default true; tests with a fake clock call {@link Store.sweep}. */
  activeExpiry?: boolean;
  /**
   * Called synchronously with every change of a key, before the item is
   * removed or overwritten (issue 21: tracking and leases; see `StoreChange`).
   * Default none: a store without a hook pays nothing for it.
   */
  onChange?: ChangeHook;
}

/** Options of {@link Store.set} (spec §3.3). */
export interface SetOptions {
  /** Expire after this many ms; 0 = no expiry. */
  ttlMs?: number;
  /** Store only when absent. */
  nx?: boolean;
  /** Store only when present. */
  xx?: boolean;
  /** Keep the current expiry. */
  keepTtl?: boolean;
  /**
   * Compare-and-set (spec §3.11): store only when the key's current version
   * is this one; 0 or absent = unconditional.
   */
  version?: number;
}

/**
 * `options` with every default applied, or a `TypeError` naming the first
 * option out of range.
 *
 * @example
 * ```ts
 * resolveStoreOptions({ shards: 3 }); // throws TypeError: shards option must be a power of two …
 * ```
 */
export function resolveStoreOptions(options: StoreOptions): Required<Omit<StoreOptions, 'onChange'>> & Pick<StoreOptions, 'onChange'> {
  const {
    maxMemory = 64 * 1024 * 1024,
    shards = 16,
    eviction = 'lru',
    clock = () => performance.now(),
    activeExpiry = true,
    onChange,
  } = options;
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024 || (shards & (shards - 1)) !== 0) {
    throw new TypeError(`shards option must be a power of two from 1 to 1024, got ${shards}`);
  }
  if (!Number.isSafeInteger(maxMemory) || maxMemory < shards * 1024) {
    throw new TypeError(`maxMemory option must be an integer of at least ${shards * 1024} bytes (1 KiB per shard), got ${maxMemory}`);
  }
  if (eviction !== 'lru' && eviction !== 'none') {
    throw new TypeError(`eviction option must be 'lru' or 'none', got ${String(eviction)}`);
  }
  if (typeof clock !== 'function') throw new TypeError('clock option must be a function returning milliseconds');
  if (onChange !== undefined && typeof onChange !== 'function') throw new TypeError('onChange option must be a function');
  return { maxMemory, shards, eviction, clock, activeExpiry, ...(onChange === undefined ? {} : { onChange }) };
}
