/**
 * The cache store: sharded, byte-bounded LRU with TTLs and active expiry.
 *
 * @example
 * ```ts
 * import { Store } from 'conduit-cache';
 * const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 16 });
 * ```
 * @module
 */
export * from './store.js';
