import type { AccessControl } from './access/access-control.js';
import type { Rights } from './access/rights.js';
import type { ExecutionContext } from './execute.js';
import type { Logger } from '../config/logger.js';
import type { DisconnectCause, Metrics } from './metrics.js';
import type { TrackingTable } from './tracking.js';

export type { DisconnectCause } from './metrics.js';

/**
 * What a `Connection` and its server say to each other: the host the
 * server provides and the deadlines it holds connections to. Apart from
 * connection.ts so the server can name these without importing the
 * connection itself; why it closes one (`DisconnectCause`) lives with the
 * metrics that count it.
 *
 * @module
 */

/**
 * What a connection needs from its server; `C` is the connection type, handed back by `released`.
 *
 * @example
 * ```ts
 * const host: ConnectionHost<Connection> = { ...limits, countRequest: () => (requests += 1), released: (c) => connections.delete(c) };
 * ```
 */
export interface ConnectionHost<C = unknown> extends ExecutionContext {
  readonly maxInflight: number;
  readonly maxOutputBuffer: number;
  readonly maxBodySize: number;
  readonly logger: Logger;
  /** Pre-shared keys by id, of the current access table (a reload changes them); set means secure mode (spec §6). */
  readonly keys: ReadonlyMap<string, Buffer> | undefined;
  /** Issue 25: the server's access control: `access.table` gives a session its rights; `access.counters` counts them. Absent (test hosts): every right. */
  readonly access?: AccessControl | undefined;
  /** Prometheus metrics, when the HTTP gateway serves them. */
  readonly metrics: Metrics | undefined;
  /**
   * Counts one executed request; `'suppressed'`: a quiet write whose OK was
   * not sent (spec §2.5, STATS `quiet_suppressed`).
   */
  countRequest(answer: 'sent' | 'suppressed'): void;
  /** Counts a connection the server closed, and why. */
  countDisconnect(cause: DisconnectCause): void;
  /** Counts a secure-mode authentication failure (AUTH_FAILED, REPLAY, or a close right after HELLO). */
  countAuthFailure(): void;
  /**
   * Secure mode: whether a HELLO from `address` (`undefined`: a Unix socket) may do key work now,
   * under --max-handshakes-per-second (spec §6.2); a refusal is counted.
   */
  admitHandshake(address: string | undefined): boolean;
  /**
   * Output this connection holds changed by `delta` bytes (queued, or written but not yet
   * taken by the kernel): the server keeps the running total for --max-output-memory.
   */
  outputHeld(delta: number): void;
  /**
   * Bytes of fragmented requests being gathered (spec §2.4) change by `delta`; for a
   * positive one, whether the server admits them (false: over its bound, answer BUSY).
   * Absent: no bound.
   */
  assembling?(delta: number): boolean;
  /** spec §3.15: who holds which key, for INVALIDATE pushes. Absent: TRACKING is an unknown opcode. */
  readonly tracking?: TrackingTable | undefined;
  /** Called once when the socket has closed. */
  released(connection: C): void;
}

/** The deadlines a connection is held to (the server's options of the same names). */
export interface ConnectionTimeouts {
  /** A frame begun must be whole within it; and a peer must close within it once our side ended. */
  readonly frameTimeoutMs: number;
  /** No byte received nor answer taken for this long closes the connection; 0 = never. */
  readonly idleTimeoutMs: number;
  /** Secure mode: HELLO must be answered within it (spec §6.2). */
  readonly handshakeTimeoutMs: number;
}

/**
 * What the server asks of every connection it serves, whichever protocol it speaks (the
 * Conduit port's `Connection`, a RESP `RespConnection`): one table holds both, so
 * --max-connections, --max-output-memory, the timeouts and the drain cover them alike.
 *
 * @example
 * ```ts
 * for (const c of connections) c.checkTimeouts(performance.now(), options);
 * ```
 */
export interface ServedConnection {
  /** Output held now (queued, or written and not yet taken by the kernel), in bytes. */
  readonly outputHeld: number;
  /** Closes the connection if it is past a deadline at `now`. */
  checkTimeouts(now: number, limits: ConnectionTimeouts): void;
  /** Graceful shutdown, first step: hold reading. */
  drain(): void;
  /** Graceful shutdown, second step: answer what was read before the drain, then end. */
  finishDrain(): void;
  /** Closes the connection for `cause`, counted and logged. */
  disconnect(cause: DisconnectCause, reason: string): void;
  /** Destroys the socket at once. */
  destroy(): void;
  /**
   * Issue 25: the rights this session authenticated with (a key id, a RESP user, a client
   * certificate); `undefined` before it did, and in plaintext mode (every right).
   */
  readonly rights?: Rights | undefined;
  /** The credential digest it authenticated with (AccessTable#credentialOf), for a reload's check. */
  readonly credential?: string | undefined;
}
