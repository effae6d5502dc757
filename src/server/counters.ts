import type { DisconnectCause } from './metrics.js';

/**
 * The server's own counters, apart from server.ts so that what reads them (the RESP
 * commands' INFO, resp-context.ts) does not import the server itself.
 *
 * @module
 */

/**
 * Server counters added to STATS (spec §5.2), named after Redis INFO where one exists.
 *
 * @example
 * ```ts
 * const served = server.counters.total_commands_processed;
 * ```
 */
export interface ServerCounters {
  /** Connections open now (Redis `connected_clients`). */
  connected_clients: number;
  /** Connections accepted since start (Redis `total_connections_received`). */
  total_connections_received: number;
  /** Connections refused with BUSY over --max-connections (Redis `rejected_connections`). */
  rejected_connections: number;
  /** Secure mode: HELLOs answered BUSY over --max-handshakes-per-second, before any key work (spec §6.2). */
  rejected_handshakes: number;
  /** Requests executed (Redis `total_commands_processed`). */
  total_commands_processed: number;
  /**
   * Quiet writes whose OK was not sent (spec §2.5, protocol 1.1); they count as processed too.
   * On /metrics (`conduit_quiet_suppressed_total`), not in STATS: with 256 shards a secure
   * session's STATS sits a few bytes under the frame cap, and a new member would cost every
   * such STATS its per-shard detail (test/integration/secure-sizes.test.ts).
   */
  quiet_suppressed: number;
  /** Connections the server closed, by cause. */
  disconnects: Record<DisconnectCause, number>;
  /**
   * Secure mode: handshakes and frames that failed authentication (AUTH_FAILED, REPLAY),
   * and connections closed by the peer after HELLO before any authenticated frame (a
   * client holding a different secret fails key confirmation and closes, spec §6.2).
   */
  auth_failures: number;
  /**
   * Times accepting a connection failed for lack of file descriptors (EMFILE/ENFILE):
   * reported by the listener, or found by the check every 250 ms while the descriptors
   * are exhausted (libuv then closes the pending connections unseen).
   */
  accept_errors: number;
  /** spec §3.14: MOVED answers sent, for keys another server of the group owns (0 when standalone). */
  moved: number;
}

