/**
 * The cache store: an off-heap slab engine bounded by the memory budget,
 * LRU eviction, TTLs and active expiry.
 *
 * @example
 * ```ts
 * import { Store } from 'conduit-cache';
 * const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 16 });
 * ```
 * @module
 */
export { Store, type IncrRefusal, type WriteOutcome } from './store.js';
export type { ScanResult } from './key-cursor.js';
export { chargeOf } from './charge.js';
export type { EvictionPolicy, SetOptions, StoreOptions } from './options.js';
export type { ChangeCause, ChangeHook, StoreChange } from './change.js';
export type { StoreCounters, StoreStats } from './stats.js';
export { ORDER_BUCKETS, RECORD_HEADER_SIZE, type ItemExport } from './item-export.js';
export type { ImportCounts, ItemImport, RecordProblem } from './item-import.js';
