/**
 * The timer that runs the store's active expiry sweep: every
 * {@link SWEEP_INTERVAL_MS}, and again at once (after pending I/O) while a
 * backlog remains. The interval timer is unref'd: an idle store never keeps
 * the process alive. A backlog's next slice is a ref'd immediate, so it
 * keeps the process alive until the due items are swept (each slice
 * reclaims or skips due pairs, so that ends).
 *
 * @example
 * ```ts
 * const timer = new SweepTimer(() => store.sweep(), () => queue.hasDue(clock()));
 * timer.close();
 * ```
 * @module
 */

/**
 * How often the active sweep runs; a backlog runs on at once, a slice of
 * `SWEEP_SLICE_MS` (expiry-sweep.ts) per turn. `npx just bench-store`
 * measures how long 1M items expiring at once take to be reclaimed, and the
 * longest event-loop stall meanwhile (docs/STORAGE.md "Expiry").
 *
 * @example
 * ```ts
 * SWEEP_INTERVAL_MS; // 50
 * ```
 */
export const SWEEP_INTERVAL_MS = 50;

/**
 * Calls `sweep` every {@link SWEEP_INTERVAL_MS}, or on the next turn when
 * `backlog()` says due entries remain, until {@link close}.
 *
 * @example
 * ```ts
 * const timer = new SweepTimer(() => store.sweep(), () => false);
 * ```
 */
export class SweepTimer {
  readonly #sweep: () => void;
  readonly #backlog: () => boolean;
  #timeout: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(sweep: () => void, backlog: () => boolean) {
    this.#sweep = sweep;
    this.#backlog = backlog;
    this.#schedule(SWEEP_INTERVAL_MS);
  }

  /**
   * Stops the timer for good.
   *
   * @example
   * ```ts
   * timer.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timeout);
    clearImmediate(this.#immediate);
    this.#timeout = undefined;
    this.#immediate = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const tick = (): void => {
      this.#timeout = undefined;
      this.#immediate = undefined;
      this.#sweep();
      if (this.#closed) return;
      if (this.#backlog()) {
        // Backlog: go on after pending I/O. Ref'd, because an unref'd
        // immediate does not stop the event loop from blocking in its poll
        // phase until a timer or I/O wakes it: each slice then waited for
        // the next timer, and 1M due items took a third longer, idle.
        this.#immediate = setImmediate(tick);
      } else {
        this.#schedule(SWEEP_INTERVAL_MS);
      }
    };
    this.#timeout = setTimeout(tick, delayMs).unref();
  }
}
