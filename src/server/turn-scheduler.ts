import Denque from 'denque';

/**
 * Bounds how long one event-loop turn spends executing requests, and shares
 * what is left over fairly. Node runs a turn's socket reads back to back, so
 * fifty clients pipelining 256 requests each made one turn of 50–100 ms, and
 * everything else the process must do waited for it: a SIGTERM (spec §5.3
 * closes the listener within 100 ms of the drain), new connections,
 * timeouts, and a lone GET from a light client.
 *
 * A connection executes while {@link spent} is false (and at least
 * `quantum` requests in any case, so every connection moves), then stops
 * reading and {@link defer}s the rest. Deferred work runs after the turn's
 * I/O, round-robin, `quantum` requests per visit, until the budget is spent
 * again; what is left waits for the next turn, after its I/O.
 *
 * @example
 * ```ts
 * const scheduler = new TurnScheduler({ budgetMs: 5, quantum: 32 });
 * let done = 0;
 * while (frames.length > 0) {
 *   if (done >= scheduler.quantum && scheduler.spent) return scheduler.defer(resume);
 *   run(frames.shift());
 *   done += 1;
 * }
 * ```
 */
export class TurnScheduler {
  readonly budgetMs: number;
  /** Requests a connection may execute per visit, and always before it defers. */
  readonly quantum: number;
  readonly #queue = new Denque<() => void>();
  #scheduled = false;
  /** Clock time (ms) at which this phase of the turn began executing requests; -1 = not yet. */
  #start = -1;
  readonly #endPhase = (): void => {
    this.#start = -1;
  };

  constructor(options: { budgetMs: number; quantum: number }) {
    this.budgetMs = options.budgetMs;
    this.quantum = options.quantum;
  }

  /**
   * True once the current phase of this turn has executed requests for
   * `budgetMs`. Outside a {@link defer}red run, the first call starts the
   * clock and an immediate (after this turn's I/O callbacks) stops it.
   */
  get spent(): boolean {
    const now = performance.now();
    if (this.#start < 0) {
      this.#start = now;
      setImmediate(this.#endPhase);
    }
    return now - this.#start >= this.budgetMs;
  }

  /** Deferred tasks waiting for their visit (for tests and stats). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Queues `task` to run after this turn's I/O; it defers itself again if it has more. */
  defer(task: () => void): void {
    this.#queue.push(task);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#start = performance.now();
    while (this.#queue.length > 0 && performance.now() - this.#start < this.budgetMs) {
      (this.#queue.shift() as () => void)();
    }
    this.#start = -1;
    if (this.#queue.length > 0) setImmediate(this.#run);
    else this.#scheduled = false;
  };
}
