import { LocalBackend } from '../http/backend.js';
import { HttpGateway } from '../http/gateway.js';
import { ConduitServer } from '../server/server.js';
import type { ServerOptions } from '../server/options.js';

/**
 * Where a {@link ComposedServer} listens: the binary protocol's TCP address and socket, and the gateway's port.
 *
 * @example
 * ```ts
 * const { port, httpPort }: ComposedAddress = await composed.listen(); // e.g. 7171, 7172
 * ```
 */
export interface ComposedAddress {
  port: number;
  host: string;
  socket: string | undefined;
  /** The HTTP gateway's port (port 0 picks one); `undefined` when `httpPort` was not set. */
  httpPort: number | undefined;
  /** The RESP listener's TCP port (issue 23); `undefined` when `respPort` was not set. */
  respPort: number | undefined;
}

/**
 * A {@link ConduitServer} and, when `httpPort` is set, the {@link HttpGateway} in front
 * of its store, metrics and drain state: what `conduit-server` runs. It lives here, at
 * the top, so that the server never imports the gateway (imports point one way:
 * server → http → cli). The server itself reads the `http*` options only to turn its
 * metrics on and to count the gateway's share of file descriptors (fd-limit.ts).
 *
 * Order matters at both ends: the gateway listens after the binary listeners are up,
 * and closes only after the server's drain has finished, so `/readyz` answers 503
 * through the whole drain (spec §5.3) instead of refusing connections.
 *
 * @example
 * ```ts
 * const composed = new ComposedServer({ port: 0, httpPort: 0 });
 * const { port, httpPort } = await composed.listen();
 * // … composed.server.store, composed.server.counters …
 * await composed.close();
 * ```
 */
export class ComposedServer {
  readonly server: ConduitServer;
  readonly gateway: HttpGateway | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: Partial<ServerOptions> = {}) {
    this.server = new ConduitServer(options);
    const o = this.server.options;
    const metrics = this.server.metrics;
    this.gateway =
      o.httpPort === undefined || metrics === undefined
        ? undefined
        : new HttpGateway(new LocalBackend(this.server), metrics, {
            host: o.httpHost,
            port: o.httpPort,
            // Issue 25: bearer tokens and their rights come from the server's access control, whose
            // table holds --http-token (every right) and the key file's [[tokens]], and is reloaded with it.
            token: undefined,
            access: this.server.access,
            secure: o.keys.length > 0,
            bodyTimeoutMs: o.frameTimeoutMs,
            allowedHosts: o.httpAllowedHosts,
            maxValueSize: o.maxValueSize,
          });
  }

  /**
   * Starts the server's listeners, then the gateway's; rejects with the first listen
   * error (e.g. EADDRINUSE on either port).
   *
   * @example
   * ```ts
   * const { port, httpPort } = await composed.listen();
   * ```
   */
  async listen(): Promise<ComposedAddress> {
    const address = await this.server.listen();
    const httpPort = this.gateway === undefined ? undefined : (await this.gateway.listen()).port;
    return { ...address, httpPort };
  }

  /**
   * Graceful shutdown: the server's drain (spec §5.3), then the gateway, last.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => composed.close().then(() => process.exit(0)));
   * ```
   */
  close(): Promise<void> {
    // A failed save at shutdown (--snapshot) rejects the server's close(): the gateway still closes.
    this.#closing ??= this.server.close().then(
      () => this.gateway?.close(),
      async (err: unknown) => {
        await this.gateway?.close();
        throw err;
      },
    );
    return this.#closing;
  }
}
