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
import type { AccessCounters, IdentityCounters } from '../access/access-counters.js';
import type { ReloadOutcome } from '../access/access-control.js';
import type { Rights } from '../access/rights.js';
import type { ServerOptions } from '../options.js';
import type { ServerCounters } from '../counters.js';

/**
 * One RESP connection's own state: what HELLO, AUTH, CLIENT and SELECT change.
 *
 * @example
 * ```ts
 * const session: RespSession = { protocol: 2, id: 7, name: undefined, libName: undefined, libVersion: undefined, authenticated: true, remote: '127.0.0.1:50123', ...NO_IDENTITY };
 * ```
 */
export interface RespSession extends RespIdentity {
  /** 2, or 3 after `HELLO 3`; the connection's writer follows it. */
  protocol: RespVersion;
  /** CLIENT ID: unique within the process, from 1. */
  readonly id: number;
  /** CLIENT SETNAME / HELLO SETNAME. */
  name: string | undefined;
  /** CLIENT SETINFO LIB-NAME / LIB-VER. */
  libName: string | undefined;
  libVersion: string | undefined;
  /** False while AUTH is required (--resp-password or any `[[tokens]]`) and AUTH (or HELLO AUTH) has not given it. */
  authenticated: boolean;
  /** The peer, for logs and INFO: `ip:port` or `unix socket`. */
  readonly remote: string;
}

/**
 * Who a RESP session is (issue 25, docs/RESP.md "Users and permissions"): the
 * rights it authenticated with (AUTH, HELLO AUTH, or a TLS client certificate
 * at accept), the credential digest a reload checks
 * (AccessTable#credentialOf), and the identity's counters. All `undefined`:
 * a connection that needed no AUTH and showed no certificate, with every
 * right, neither checked nor counted.
 *
 * @example
 * ```ts
 * const identity: RespIdentity = { rights, credential: table.credentialOf(rights), counters: access.counters.of(rights.id) };
 * ```
 */
export interface RespIdentity {
  rights: Rights | undefined;
  credential: string | undefined;
  counters: IdentityCounters | undefined;
}

/**
 * The identity fields of a session that has none (every right, unchecked).
 *
 * @example
 * ```ts
 * Object.assign(session, NO_IDENTITY); // after a test logs out
 * ```
 */
export const NO_IDENTITY: Readonly<RespIdentity> = Object.freeze({ rights: undefined, credential: undefined, counters: undefined });

/**
 * The server as RESP commands see it: INFO's facts, CONFIG GET's values, and
 * its access table (AUTH, the counters per identity, ACL LOAD). `ConduitServer`
 * provides it (resp-front.ts).
 *
 * @example
 * ```ts
 * const identity = ctx.server.login(user, password);
 * if (identity === undefined) out.error('WRONGPASS invalid username-password pair or user is disabled.');
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
  /** True when a new connection must AUTH first: `--resp-password` or any `[[tokens]]` in the current access table. */
  readonly authRequired: boolean;
  /**
   * AUTH / HELLO AUTH (Redis 6): `user` `undefined` (one-argument AUTH) or `default` checks
   * `--resp-password` (every right, id `default`); another user is a `[[tokens]]` id with
   * its token. The identity to keep on the session, or `undefined` (WRONGPASS).
   * Compared as SHA-256 digests: the time taken does not say which bytes matched.
   */
  login(user: Uint8Array | undefined, password: Uint8Array): RespIdentity | undefined;
  /** The server's counters per identity: NOPERM refusals are counted here (`conduit_forbidden_total`). */
  readonly accessCounters: AccessCounters;
  /** ACL LOAD: re-reads the key file (AccessControl#reload). */
  reloadAccess(): ReloadOutcome;
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
