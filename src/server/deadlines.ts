import type { ConnectionTimeouts, DisconnectCause } from './connection-host.js';

/** Where the connection stands, as far as its deadlines go. */
export type DeadlineState = 'open' | 'awaiting_hello' | 'ended';

/**
 * A deadline that passed: close the connection for `cause` (logged with
 * `reason`), or `linger`, our side ended and the peer has not closed its own.
 */
export type Expiry = { readonly cause: DisconnectCause; readonly reason: string } | 'linger';

/**
 * One connection's clocks (`performance.now()` ms) and the deadlines they
 * are held to: the handshake (spec §6.2), a frame begun and not finished
 * (slowloris), no activity, and a peer that does not close after our side
 * ended. The connection keeps them as things happen; the server's sweep asks
 * {@link Deadlines.expired} every 250 ms, cheaper than a timer each for 10k
 * connections.
 *
 * @example
 * ```ts
 * const deadlines = new Deadlines();
 * socket.on('data', () => deadlines.active());
 * const expiry = deadlines.expired(performance.now(), options, 'open');
 * ```
 */
export class Deadlines {
  readonly #openedAt = performance.now();
  /** The last byte received, or answers taken by the kernel: a client that reads is not idle. */
  #lastActivity = performance.now();
  /** The start of the incomplete frame pending now (0 = none, or not timed). */
  #midFrameSince = 0;
  /** Our side of the stream ended (see ended()). */
  #endedAt = 0;

  /** A byte arrived, or the kernel took answers. */
  active(): void {
    this.#lastActivity = performance.now();
  }

  /** Our side of the stream ended: the peer has a frame timeout to close its own. */
  ended(): void {
    this.#endedAt = performance.now();
  }

  /**
   * After a pass over what was read: `midFrame`, a frame is incomplete; `reading`,
   * the socket is read; `decoded`, frames decoded in the pass. The frame timeout is
   * for peers that stop mid-frame; while we stopped reading (backpressure) the bytes
   * waiting may be whole frames, so the clock does not run. It times only the frame
   * pending now: one decoded in this pass means the partial one began after it, so
   * the clock restarts (a client streaming frames in pieces always ends a read
   * mid-frame, yet none waits).
   */
  framePending(midFrame: boolean, reading: boolean, decoded: number): void {
    if (!midFrame || !reading) this.#midFrameSince = 0;
    else if (decoded > 0 || this.#midFrameSince === 0) this.#midFrameSince = performance.now();
  }

  /** The deadline passed at `now`, if any, for a connection in `state`. */
  expired(now: number, limits: ConnectionTimeouts, state: DeadlineState): Expiry | undefined {
    const { frameTimeoutMs, idleTimeoutMs, handshakeTimeoutMs } = limits;
    if (state === 'ended') {
      // A peer that never ends its own side must not hold the connection (and a
      // --max-connections slot) forever.
      return now - this.#endedAt >= frameTimeoutMs ? 'linger' : undefined;
    }
    if (state === 'awaiting_hello' && now - this.#openedAt >= handshakeTimeoutMs) {
      // spec §6.2: an unauthenticated connection must not hold a --max-connections slot for long.
      return { cause: 'handshake_timeout', reason: `handshake not completed within ${handshakeTimeoutMs} ms` };
    }
    if (this.#midFrameSince !== 0 && now - this.#midFrameSince >= frameTimeoutMs) {
      return { cause: 'frame_timeout', reason: `frame not completed within ${frameTimeoutMs} ms` };
    }
    if (idleTimeoutMs > 0 && now - this.#lastActivity >= idleTimeoutMs) {
      return { cause: 'idle', reason: `no data for ${idleTimeoutMs} ms` };
    }
    return undefined;
  }
}
