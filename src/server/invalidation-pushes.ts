/**
 * One connection's INVALIDATE pushes on their way into its answer order
 * (spec §3.15, protocol 1.3): the keys the tracking table told it about,
 * gathered until the connection queues its next answer or flushes, then
 * emitted as few push bodies as fit ({@link MAX_PUSH_BODY} each).
 *
 * Order (spec §2.3, §3.15): a change happens while some request executes
 * (on this connection, another one, the HTTP gateway) or in a timer (the
 * expiry sweep). The keys wait here, and {@link PendingInvalidations.emit}
 * runs before any answer this connection queues after that (RequestHandler's
 * `queue`) and at its next flush: so the push follows every answer to a
 * request executed before the change and precedes every answer to one
 * executed after it, and keys changed together travel in one push.
 *
 * @example
 * ```ts
 * const pending = new PendingInvalidations((body) => queuePush(body), () => setImmediate(flush));
 * pending.invalidate('user:1'); // the table, at the change
 * pending.emit(); // before the next answer, or at the flush
 * ```
 * @module
 */
import { encodeInvalidateBodies, INVALIDATE_ALL_BODY } from '../protocol/tracking-body.js';
import type { InvalidationSink } from './tracking.js';

/**
 * What is waiting: `idle` (nothing), `keys` (the keys listed), `all` (a
 * FLUSH, which covers every key changed before it is sent: no answer reaches
 * the client in between), `stopped` (the connection ended: nothing more).
 */
type PendingState = 'idle' | 'keys' | 'all' | 'stopped';

/**
 * The pending pushes of one connection; the table's {@link InvalidationSink}
 * for it.
 *
 * @example
 * ```ts
 * const pending = new PendingInvalidations(push, wake);
 * table.register(pending, TrackingMode.KEYS, []);
 * ```
 */
export class PendingInvalidations implements InvalidationSink {
  readonly #push: (body: Buffer) => void;
  readonly #wake: () => void;
  #state: PendingState = 'idle';
  #keys: string[] = [];

  /**
   * `push(body)` queues one INVALIDATE frame with that body into the
   * connection's answers; `wake()` asks the connection to flush soon (once
   * per turn is enough: it calls {@link emit} then).
   */
  constructor(push: (body: Buffer) => void, wake: () => void) {
    this.#push = push;
    this.#wake = wake;
  }

  /** Whether pushes wait to be emitted. */
  get pending(): boolean {
    return this.#state === 'keys' || this.#state === 'all';
  }

  invalidate(key: string): void {
    if (this.#state === 'all' || this.#state === 'stopped') return;
    if (this.#state === 'idle') this.#wake();
    this.#state = 'keys';
    this.#keys.push(key);
  }

  invalidateAll(): void {
    if (this.#state === 'stopped') return;
    if (this.#state === 'idle') this.#wake();
    this.#state = 'all';
    this.#keys = [];
  }

  /** Queues what waits as push frames, in order; returns how many frames. */
  emit(): number {
    const state = this.#state;
    if (state === 'all') {
      this.#state = 'idle';
      this.#push(INVALIDATE_ALL_BODY);
      return 1;
    }
    if (state !== 'keys') return 0;
    const keys = this.#keys;
    this.#keys = [];
    this.#state = 'idle';
    const bodies = encodeInvalidateBodies(keys.map((key) => Buffer.from(key, 'latin1')));
    for (const body of bodies) this.#push(body);
    return bodies.length;
  }

  /** The connection ended or closed: nothing waits and nothing more is taken. */
  stop(): void {
    this.#state = 'stopped';
    this.#keys = [];
  }
}
