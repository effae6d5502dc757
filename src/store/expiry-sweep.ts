/**
 * The store's active expiry (spec §3.6: an expired item is reclaimed
 * without being read): which items own a pair in the expiry queue, the
 * queue's compaction, and the sweep that reclaims due items a time-bounded
 * slice at a time. `Store` calls it; `SweepTimer` says when.
 *
 * @example
 * ```ts
 * const expiry = new ExpirySweep(engine, counts, () => performance.now());
 * expiry.enqueue(handle, expiresAt);
 * expiry.sweep(1); // items reclaimed in at most about 1 ms
 * ```
 * @module
 */
import { bucketOf, ExpiryQueue } from './expiry-queue.js';
import type { ItemCounts } from './item-counts.js';
import { UNQUEUED } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Compaction of the expiry queue: it starts when the queue holds more than
 * twice as many pairs as there are items owning one, plus this slack, and
 * then examines this many pairs per pair pushed. A pass over the queue adds
 * at most a quarter of its length while removing its stale half, so the
 * queue stays within about 2 × (items with a pair) + slack.
 */
const COMPACT_SLACK = 1024;
const COMPACT_STEPS = 4;

/**
 * How long one slice of the active sweep may block the event loop, by
 * default (its timer: `SweepTimer`). 1 ms rather than 2: with 1M items due
 * at once, the p99 event-loop stall went from 3.2–7.5 ms to 2.6–4.4 ms and
 * the time to reclaim them all stayed within 279–453 ms (docs/STORAGE.md
 * "Expiry").
 *
 * @example
 * ```ts
 * expiry.sweep(SWEEP_SLICE_MS);
 * ```
 */
export const SWEEP_SLICE_MS = 1;

/**
 * Pairs the sweep handles between two looks at the clock: a look
 * (`performance.now()`, 0.1–0.2 µs here) costs about a third of a pair, so
 * this adds about 1 % and lets a slice overrun its budget by at most 32
 * pairs (0.4 ms while the sweep's code is not yet optimized).
 */
const SWEEP_CLOCK_EVERY = 32;

/**
 * The expiry queue of a store's items and the sweep over it. An item with
 * an expiry owns one pair (handle, bucket) in the queue, the bucket recorded
 * in its header (`SlabEngine.setQueueBucket`); every other pair is stale:
 * its chunk was freed (deleted, evicted, expired, flushed, or moved by an
 * overwrite that changed class) or its item's expiry moved to another
 * bucket. A freed chunk reused by an item that happens to own a pair in the
 * same bucket makes a stale pair look owned; the sweep then finds that
 * item's expiry not yet due (or due, and reclaims it rightly): one extra
 * re-queue, never a wrong removal.
 *
 * @example
 * ```ts
 * const expiry = new ExpirySweep(engine, counts, clock);
 * expiry.enqueue(handle, clock() + 1000);
 * expiry.hasDue(clock()); // false until its bucket has ended
 * ```
 */
export class ExpirySweep {
  readonly #engine: SlabEngine;
  readonly #counts: ItemCounts;
  readonly #clock: () => number;
  readonly #queue = new ExpiryQueue<number>();
  /** The store's change hook for an item the sweep reclaims (issue 21), called before it is removed; undefined = none. */
  readonly #onExpire: ((handle: number) => void) | undefined;

  constructor(engine: SlabEngine, counts: ItemCounts, clock: () => number, onExpire?: (handle: number) => void) {
    this.#engine = engine;
    this.#counts = counts;
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /** Pairs in the queue, stale ones included (STATS `expiry_queue`). */
  get size(): number {
    return this.#queue.size;
  }

  /** True when a pair is due at `now`: the sweep has work. */
  hasDue(now: number): boolean {
    return this.#queue.hasDue(now);
  }

  /**
   * Gives the item `handle` (expiring at `expiresAt`) a pair no later than
   * its expiry: nothing to do when it owns one already in that bucket or an
   * earlier one; a new pair when it has none or its expiry moved to an
   * earlier bucket (the old pair becomes stale).
   */
  enqueue(handle: number, expiresAt: number): void {
    const n = bucketOf(expiresAt);
    const queued = this.#engine.queueBucket(handle);
    if (queued !== UNQUEUED && queued <= n) return;
    if (queued === UNQUEUED) this.#counts.queued += 1;
    this.#engine.setQueueBucket(handle, n);
    this.#queue.push(expiresAt, handle);
    if (this.#queue.size > 2 * this.#counts.queued + COMPACT_SLACK) {
      // Stale pairs outnumber owned ones: drop some, a few per push, from
      // the queue's own contents (never a walk over the items).
      this.#queue.compact(this.#owns, COMPACT_STEPS);
    }
  }

  /**
   * Reclaims due items, earliest bucket first, until the queue has none due
   * or `budgetMs` of clock time has passed; returns how many it reclaimed.
   */
  sweep(budgetMs: number): number {
    const now = this.#clock();
    const deadline = now + budgetMs;
    let reclaimed = 0;
    for (let steps = 1; ; steps += 1) {
      const handle = this.#queue.shiftDue(now);
      if (handle === undefined) break;
      if (this.#sweepPair(handle, now)) reclaimed += 1;
      // A time budget, not a count, bounds the slice whatever a pair costs:
      // the first slices run before the sweep's code is optimized, at ten
      // times the later cost per pair (256 pairs between two looks at the
      // clock took 3.5 ms there, and stalled the event loop past 5 ms).
      if (steps % SWEEP_CLOCK_EVERY === 0 && this.#clock() >= deadline) break;
    }
    return reclaimed;
  }

  /** Drops every pair (FLUSH: the items are gone). */
  clear(): void {
    this.#queue.clear();
  }

  /** Handles one pair the queue handed out at `now`; true when it reclaimed an expired item. */
  #sweepPair(handle: number, now: number): boolean {
    // A stale pair (item deleted, evicted, expired on access or moved, or an
    // older pair of an item whose expiry moved earlier) finds no live item,
    // or the item's own pair in another bucket: skip it. A reused chunk whose
    // new item has the same bucket looks owned; its own expiry decides below.
    if (!this.#owns(handle, this.#queue.dueBucket)) return false;
    const expiresAt = this.#engine.expiresAt(handle);
    if (expiresAt !== 0 && expiresAt <= now) {
      // The shard from the item's tag: reading the key back to hash it cost
      // a tenth of the sweep's time.
      this.#onExpire?.(handle);
      const shard = this.#counts.ofHandle(handle);
      this.#counts.uncount(shard, handle);
      this.#engine.remove(handle);
      shard.expiredSwept += 1;
      return true;
    }
    if (expiresAt === 0) {
      this.#engine.setQueueBucket(handle, UNQUEUED); // the expiry was removed since
      this.#counts.queued -= 1;
    } else {
      // Renewed to a later time: queue it again there (a later bucket, as
      // its expiry is past `now` and this bucket ended by `now`).
      this.#engine.setQueueBucket(handle, this.#queue.push(expiresAt, handle));
    }
    return false;
  }

  /** True when the pair (`handle`, `bucket`) is the one its item owns. */
  readonly #owns = (handle: number, bucket: number): boolean =>
    this.#engine.isLive(handle) && this.#engine.queueBucket(handle) === bucket;
}
