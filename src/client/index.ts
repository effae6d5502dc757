/**
 * The bundled client.
 *
 * @example
 * ```ts
 * import { ConduitClient } from 'conduit-cache';
 * const client = new ConduitClient({ port: 7171 });
 * ```
 * @module
 */
export { ConduitClient, type SetOptions as ClientSetOptions, type WriteOptions as ClientWriteOptions } from './client.js';
export type { SetManyEntry, SetManyResult } from './set-many.js';
export type { Bytes, ListReply, ReloadResult, ScanOptions, ScanReply } from './commands.js';
export type { VersionedValue } from './versioned.js';
export type { NearCacheOptions, NearCacheStats } from './near-cache.js';
export type { GetOrSetOptions } from './get-or-set.js';
export {
  resolveClientOptions,
  type ClientKey,
  type ClientOptions,
  type ClientTlsOptions,
  type ReconnectOptions,
  type ResolvedClientOptions,
} from './options.js';
