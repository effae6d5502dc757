import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { respLimits } from '../../protocol/resp-parser.js';
import type { Store } from '../../store/store.js';
import type { ReloadOutcome } from '../access/access-control.js';
import { AccessCounters } from '../access/access-counters.js';
import { AccessTable } from '../access/access-table.js';
import type { ConnectionHost, ServedConnection } from '../connection-host.js';
import { peerCommonName } from '../access/peer-certificate.js';
import type { ServerOptions } from '../options.js';
import type { ServerCounters } from '../counters.js';
import { NO_IDENTITY, type RespIdentity, type RespServerView } from './resp-context.js';
import { RespConnection, SHUTTING_DOWN_ERROR } from './resp-connection.js';

/**
 * The RESP side of a ConduitServer (issue 23, docs/RESP.md): what its commands see of the
 * server ({@link RespServerView}), AUTH against the server's access table (issue 25), and a
 * {@link RespConnection} for each socket its listener accepts. The server owns the
 * listeners and the connection table.
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

/** What ACL LOAD answers on a server whose host has no access control (test hosts). */
const NOTHING_TO_RELOAD: ReloadOutcome = Object.freeze({ ok: false, error: 'nothing to reload: the server was started without --key-file' });

/**
 * AUTH `user` `password` against `table` (RespServerView#login): the identity with its
 * credential digest and its counters in `counters`, or `undefined` (WRONGPASS). A user
 * name that is not UTF-8 names no user.
 *
 * @example
 * ```ts
 * respLogin(access.table, access.counters, Buffer.from('app1'), Buffer.from(token))?.rights.id; // 'app1'
 * ```
 */
export function respLogin(table: AccessTable, counters: AccessCounters, user: Uint8Array | undefined, password: Uint8Array): RespIdentity | undefined {
  let name: string | undefined;
  if (user !== undefined) {
    name = Buffer.from(user.buffer, user.byteOffset, user.length).toString('utf8');
    if (!Buffer.from(name).equals(user)) return undefined;
  }
  const rights = table.forUser(name, password);
  return rights === undefined ? undefined : { rights, credential: table.credentialOf(rights), counters: counters.of(rights.id) };
}

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
  /** The table a host without access control (test hosts) authenticates against: its options' --resp-password and tokens. */
  readonly #ownTable: AccessTable | undefined;
  readonly #accessCounters: AccessCounters;
  #clients = 0;
  #commands = 0;
  #startedAt = Date.now();
  #port: number | undefined;
  #bound: string;

  constructor(server: RespFrontServer, host: ConnectionHost<ServedConnection>) {
    this.#server = server;
    this.#host = host;
    const o = server.options;
    this.#ownTable = host.access === undefined ? new AccessTable({ keys: [], tokens: o.tokens, certificates: o.certificates }, { respPassword: o.respPassword }) : undefined;
    this.#accessCounters = host.access?.counters ?? new AccessCounters();
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

  /** The current access table: the server's (a reload swaps it), or this front's own on a host without one. */
  get #table(): AccessTable {
    return this.#host.access?.table ?? (this.#ownTable as AccessTable);
  }

  get authRequired(): boolean {
    return this.#table.respAuthRequired;
  }

  get accessCounters(): AccessCounters {
    return this.#accessCounters;
  }

  login(user: Uint8Array | undefined, password: Uint8Array): RespIdentity | undefined {
    return respLogin(this.#table, this.#accessCounters, user, password);
  }

  reloadAccess(): ReloadOutcome {
    return this.#host.access?.reload() ?? NOTHING_TO_RELOAD;
  }


  /**
   * The identity of a connection that needs no AUTH but showed a verified TLS client
   * certificate (--tls-client-auth; issue 25): its subject's `[[certificates]]` rule, every
   * right when the key file has none, no right when none names it. Otherwise none: every
   * right, unchecked, as before issue 25; where AUTH is required, AUTH decides.
   */
  #acceptedIdentity(socket: Socket): RespIdentity {
    const table = this.#table;
    if (this.#server.options.tls?.clientAuth !== true || table.respAuthRequired || typeof (socket as Partial<TLSSocket>).getPeerCertificate !== 'function') {
      return NO_IDENTITY;
    }
    const rights = table.forCertificate(peerCommonName(socket));
    return { rights, credential: table.credentialOf(rights), counters: this.#accessCounters.of(rights.id) };
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
      identity: this.#acceptedIdentity(socket),
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
