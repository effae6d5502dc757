import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * The bookkeeping of a save's slices of synchronous work (docs/SNAPSHOT.md
 * §Order: a periodic save runs beside the traffic in slices of a few
 * milliseconds). A slice begins when the save gets the event loop back and
 * ends at its next `await`; {@link due} says when the budget is spent, and
 * the longest slice is kept for the save's result, measured with
 * `performance.now()`.
 *
 * @example
 * ```ts
 * const slices = new Slices(4);
 * while (!items.collect(16_384)) if (slices.due()) await slices.yield();
 * await slices.wait(handle.write(buffer));
 * slices.end(); // slices.longest: the longest slice in ms
 * ```
 */
export class Slices {
  readonly #budget: number;
  #start = performance.now();
  #longest = 0;
  #yields = 0;

  /** `budget`: the ms one slice may take before it yields (Infinity: never). */
  constructor(budget: number) {
    this.#budget = budget;
  }

  /** The longest slice so far, in ms. */
  get longest(): number {
    return this.#longest;
  }

  /** How many times the work yielded for its budget (not counting awaits of I/O). */
  get yields(): number {
    return this.#yields;
  }

  /** True once the running slice has used its budget. */
  due(): boolean {
    return performance.now() - this.#start >= this.#budget;
  }

  /** Ends the running slice (before an await, or at the end of the work). */
  end(): void {
    const length = performance.now() - this.#start;
    if (length > this.#longest) this.#longest = length;
  }

  #begin(): void {
    this.#start = performance.now();
  }

  /** Ends the slice, lets the event loop run (one `setImmediate` turn), begins the next. */
  async yield(): Promise<void> {
    this.end();
    this.#yields += 1;
    await nextTurn();
    this.#begin();
  }

  /** Ends the slice, awaits `promise` (I/O: the loop runs meanwhile), begins the next. */
  async wait<T>(promise: Promise<T>): Promise<T> {
    this.end();
    try {
      return await promise;
    } finally {
      this.#begin();
    }
  }
}
