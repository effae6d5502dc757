import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { respLimits } from '../../protocol/resp-parser.js';
import type { Store } from '../../store/store.js';
import type { ConnectionHost, ServedConnection } from '../connection-host.js';
import type { ServerOptions } from '../options.js';
import type { ServerCounters } from '../counters.js';
import type { RespServerView } from './resp-context.js';
import { RespConnection, SHUTTING_DOWN_ERROR } from './resp-connection.js';

/**
 * The RESP side of a ConduitServer (issue 23, docs/RESP.md): what its commands see of the
 * server ({@link RespServerView}), the password check, and a {@link RespConnection} for each
 * socket its listener accepts. The server owns the listeners and the connection table.
 *
 * @module
 */

/** What a connection over --max-connections is told before the close (Redis's own text). */
const FULL = Buffer.from('-ERR max number of clients reached\r\n');
/** What a connection accepted during a graceful shutdown is told before the close. */
const CLOSING = Buffer.from(`-${SHUTTING_DOWN_ERROR}\r\n`);

/** What {@link RespFront} reads from its server as it changes. */
export interface RespFrontServer {
  readonly options: ServerOptions;
  readonly store: Store;
  readonly counters: Readonly<ServerCounters>;
  readonly draining: boolean;
  readonly outputMemory: { readonly now: number; readonly peak: number };
}

/** SHA-256 of a password: both sides of the comparison are 32 bytes, so it is constant-time whatever the lengths. */
const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

/**
 * The RESP front door of one server.
 *
 * @example
 * ```ts
 * const front = new RespFront(server, host);
 * front.listening(respListener.address());
 * respListener.on('connection', (socket) => connections.add(front.connect(socket)));
 * ```
 */
export class RespFront implements RespServerView {
  readonly #server: RespFrontServer;
  readonly #host: ConnectionHost<ServedConnection>;
  readonly #password: Buffer | undefined;
  #clients = 0;
  #commands = 0;
  #startedAt = Date.now();
  #port: number | undefined;
  #bound: string;

  constructor(server: RespFrontServer, host: ConnectionHost<ServedConnection>) {
    this.#server = server;
    this.#host = host;
    const o = server.options;
    this.#password = o.respPassword === undefined ? undefined : digest(Buffer.from(o.respPassword));
    this.#bound = o.respHost ?? o.host;
  }

  get options(): ServerOptions {
    return this.#server.options;
  }

  get counters(): Readonly<ServerCounters> {
    return this.#server.counters;
  }

  get startedAt(): number {
    return this.#startedAt;
  }

  get respAddress(): { port: number | undefined; host: string; socket: string | undefined } {
    return { port: this.#port, host: this.#bound, socket: this.#server.options.respSocket };
  }

  get respClients(): number {
    return this.#clients;
  }

  get draining(): boolean {
    return this.#server.draining;
  }

  get outputMemory(): { now: number; peak: number } {
    return this.#server.outputMemory;
  }

  /** Commands executed over RESP since start (/metrics `conduit_resp_commands_total`). */
  get commandsProcessed(): number {
    return this.#commands;
  }

  get passwordRequired(): boolean {
    return this.#password !== undefined;
  }

  /** Compares `candidate` with --resp-password in constant time (SHA-256 of both, then timingSafeEqual). */
  checkPassword(candidate: Uint8Array): boolean {
    if (this.#password === undefined) return false;
    return timingSafeEqual(digest(candidate), this.#password);
  }

  /** The server started listening; `address`: the RESP TCP listener's, if it has one. */
  listening(address: AddressInfo | undefined): void {
    this.#startedAt = Date.now();
    if (address !== undefined) {
      this.#port = address.port;
      this.#bound = address.address;
    }
  }

  /** Serves `socket` as a RESP connection, counted in {@link respClients} until it closes. */
  connect(socket: Socket): RespConnection {
    const host = this.#host;
    const o = this.#server.options;
    this.#clients += 1;
    return new RespConnection(socket, {
      store: this.#server.store,
      view: this,
      limits: respLimits(o.maxValueSize),
      maxOutputBuffer: o.maxOutputBuffer,
      logger: o.logger,
      countRequest: () => {
        this.#commands += 1;
        host.countRequest('sent');
      },
      countDisconnect: (cause) => host.countDisconnect(cause),
      outputHeld: (delta) => host.outputHeld(delta),
      assembling: (delta) => host.assembling?.(delta) ?? true,
      released: (connection) => {
        this.#clients -= 1;
        host.released(connection);
      },
    });
  }

  /** The line a connection refused over --max-connections (or during shutdown) gets before its close. */
  static refusal(draining: boolean): Buffer {
    return draining ? CLOSING : FULL;
  }
}
