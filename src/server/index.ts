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
export { Connection } from './connection.js';
export type { DisconnectCause } from './metrics.js';
export { execute, type Reply, type ExecutionContext } from './execute.js';
export {
  isLoopback,
  resolveServerOptions,
  serverDefaults,
  type ServerOptions,
  type ServerTlsOptions,
} from './options.js';
