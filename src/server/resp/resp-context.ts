/**
 * What a RESP command runs against (docs/RESP.md): the store, the
 * connection's session, and a read-only view of its server. Apart from the
 * commands so the connection and the server can name these without importing
 * the command table.
 *
 * @module
 */
import type { Store } from '../../store/store.js';
import type { RespVersion } from '../../protocol/resp-writer.js';
import type { ServerOptions } from '../options.js';
import type { ServerCounters } from '../counters.js';

/**
 * One RESP connection's own state: what HELLO, AUTH, CLIENT and SELECT change.
 *
 * @example
 * ```ts
 * const session: RespSession = { protocol: 2, id: 7, name: undefined, libName: undefined, libVersion: undefined, authenticated: true, remote: '127.0.0.1:50123' };
 * ```
 */
export interface RespSession {
  /** 2, or 3 after `HELLO 3`; the connection's writer follows it. */
  protocol: RespVersion;
  /** CLIENT ID: unique within the process, from 1. */
  readonly id: number;
  /** CLIENT SETNAME / HELLO SETNAME. */
  name: string | undefined;
  /** CLIENT SETINFO LIB-NAME / LIB-VER. */
  libName: string | undefined;
  libVersion: string | undefined;
  /** False while a password is required and AUTH (or HELLO AUTH) has not given it. */
  authenticated: boolean;
  /** The peer, for logs and INFO: `ip:port` or `unix socket`. */
  readonly remote: string;
}

/**
 * The server as RESP commands see it: INFO's facts, CONFIG GET's values, and the
 * password check. `ConduitServer` provides it.
 *
 * @example
 * ```ts
 * if (!ctx.server.checkPassword(args[1])) out.error('WRONGPASS invalid username-password pair or user is disabled.');
 * ```
 */
export interface RespServerView {
  readonly options: ServerOptions;
  readonly counters: Readonly<ServerCounters>;
  /** `Date.now()` when the server started listening (INFO uptime). */
  readonly startedAt: number;
  /** Where the RESP listener is (INFO `tcp_port`). */
  readonly respAddress: { readonly port: number | undefined; readonly host: string; readonly socket: string | undefined };
  /** RESP connections open now (part of `counters.connected_clients`). */
  readonly respClients: number;
  /** True once graceful shutdown began. */
  readonly draining: boolean;
  /** Output held by all connections now and at its peak (INFO memory). */
  readonly outputMemory: { readonly now: number; readonly peak: number };
  /** True when a password is configured (`--resp-password`): AUTH is required. */
  readonly passwordRequired: boolean;
  /** Compares `candidate` with the configured password in constant time; false when none is configured. */
  checkPassword(candidate: Uint8Array): boolean;
}

/**
 * Everything one command runs with.
 *
 * @example
 * ```ts
 * const after = runCommand(command.args, { store, session, server }, writer);
 * ```
 */
export interface RespContext {
  readonly store: Store;
  readonly session: RespSession;
  readonly server: RespServerView;
}

/**
 * What the connection does once a command's reply is queued: go on
 * (`undefined`), flush and close (`'close'`, QUIT), or close at once without
 * a reply (`'drop'`: a `Host:` or `POST` line, cross-protocol scripting, as Redis does).
 */
export type RespAfter = undefined | 'close' | 'drop';
