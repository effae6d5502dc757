/**
 * conduit-cache: the Conduit protocol codec, store, server and client.
 *
 * @example
 * ```ts
 * import { FrameDecoder, ConduitError } from 'conduit-cache';
 * ```
 * @module
 */
export * from './protocol/index.js';
export * from './config/index.js';
export * from './store/index.js';
export * from './server/index.js';
export * from './client/index.js';
export * from './crypto/index.js';
