/**
 * The Conduit server: listener, per-connection pipeline, options.
 *
 * @example
 * ```ts
 * import { ConduitServer } from 'conduit-cache';
 * const server = new ConduitServer({ port: 0 });
 * await server.listen();
 * ```
 * @module
 */
export { ConduitServer, type ServerCounters } from './server.js';
export type { DisconnectCause } from './metrics.js';
export {
  isLoopback,
  resolveServerOptions,
  serverDefaults,
  type ServerGroup,
  type ServerOptions,
  type ServerSnapshotOptions,
  type ServerTlsOptions,
} from './options.js';
export {
  loadSnapshot,
  saveSnapshot,
  SnapshotError,
  type LoadOptions,
  type LoadOutcome,
  type LoadResult,
  type SaveOptions,
  type SaveResult,
} from './snapshot/index.js';
