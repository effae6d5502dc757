import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type { Logger } from '../config/logger.js';
import type { ServerTlsOptions } from './options.js';

/**
 * A listening socket of the server, plain or TLS: the Conduit port's, and the RESP port's
 * (issue 23), made the same way so both get the same TLS, accept-error and slowloris rules.
 *
 * @module
 */

/**
 * node:tls, loaded when a TLS listener is made: about 2 MiB of RSS a plaintext
 * sidecar would carry for nothing (docs/STORAGE.md, "Process RSS").
 */
function tlsModule(): typeof import('node:tls') {
  return createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
}

/** What {@link openListener} does with what it accepts. */
export interface ListenerHooks {
  readonly tls: ServerTlsOptions | undefined;
  /** A TLS handshake is a frame that has started: it must end within this. */
  readonly frameTimeoutMs: number;
  readonly logger: Logger;
  /** A connection, after its TLS handshake if any. */
  accept(socket: Socket): void;
  /** Any TCP connection accepted, before TLS (the drain counts them, ConduitServer #acceptBacklog). */
  accepted(): void;
  /** TLS only: the raw socket, so ones still in their handshake can be closed at shutdown. */
  rawSocket(raw: Socket): void;
  /** Accepting failed for lack of file descriptors (EMFILE/ENFILE). */
  acceptFailed(code: string): void;
}

/**
 * Listens on `where` (TCP host and port, or a Unix socket path); resolves with the
 * listener and its address once it listens, or rejects with the listen error.
 *
 * @example
 * ```ts
 * const { listener, address } = await openListener({ host: '127.0.0.1', port: 0 }, hooks);
 * ```
 */
export function openListener(
  where: { host: string; port: number } | { path: string },
  hooks: ListenerHooks,
): Promise<{ listener: Server; address: AddressInfo | string | null }> {
  const tls = hooks.tls;
  const accept = (socket: Socket): void => hooks.accept(socket);
  const listener: Server = (
    tls === undefined
      ? createServer({ allowHalfOpen: true, noDelay: true }, accept)
      : tlsModule().createServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            requestCert: tls.clientAuth === true,
            rejectUnauthorized: tls.clientAuth === true,
            allowHalfOpen: true,
            noDelay: true,
            // A handshake is a frame that has started: the same slowloris bound applies.
            handshakeTimeout: hooks.frameTimeoutMs,
          },
          accept,
        )
          .on('connection', (raw: Socket) => hooks.rawSocket(raw))
          .on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
            // With a listener Node leaves the socket open; a failed handshake must not hold the listener open.
            socket.destroy();
            hooks.logger.warn({ remote: `${socket.remoteAddress ?? 'unix'}`, cause: 'tls', reason: err.message }, 'TLS handshake failed');
          })
  ).on('connection', () => hooks.accepted());
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(where, () => {
      listener.off('error', reject);
      listener.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EMFILE' || err.code === 'ENFILE') hooks.acceptFailed(err.code);
        else hooks.logger.error({ err }, 'listener error');
      });
      resolve({ listener, address: listener.address() });
    });
  });
}
