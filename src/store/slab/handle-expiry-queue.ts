import { EXPIRY_BUCKET_MS, bucketOf } from '../expiry-queue.js';
import { NONE } from './layout.js';

// The one place the engine depends on the current store's files: the bucket
// width and numbering are shared, so both queues expire items alike.
export { EXPIRY_BUCKET_MS, bucketOf };

/**
 * Tells whether the pair (`handle`, `bucket`) is still the one its item
 * owns: the slot holds a live item whose stored bucket is `bucket`.
 * {@link SlabEngine}'s `isLive` and `queueBucket` answer it.
 */
export type OwnsPair = (handle: number, bucket: number) => boolean;

/**
 * The active sweep's order for the slab engine: {@link ExpiryQueue}'s
 * timing wheel of 16 ms buckets, holding item handles (small integers in
 * plain arrays, no key strings and no objects per pair) instead of keys.
 *
 * A pair is stale when its chunk was freed (deleted, evicted, expired,
 * flushed, or relocated by an overwrite that changed class) or its item's
 * stored bucket differs (its expiry moved to another bucket). The caller
 * records the bucket in the item ({@link SlabEngine.setQueueBucket}) when it
 * pushes a pair, and skips a pair whose bucket no longer matches when
 * {@link shiftDue} hands it out. A freed chunk reused by another item can
 * make a stale pair look owned; the sweep then finds that item's expiry not
 * yet due (or due, and reclaims it rightly), so the check only costs a
 * re-queue, never a wrong removal — the sweep always compares `expiresAt`.
 *
 * ```
 * buckets:    #heap (bucket numbers, min first)  →  #buckets.get(n) = [handle, handle, …]
 * draining:   #current = the bucket being handed out, #cursor = next index in it
 * compacting: #scan walks #buckets; in #scanHandles, [0, #write) is kept,
 *             [#write, #read) is dropped, [#read, …) unseen
 * ```
 *
 * @example
 * ```ts
 * const queue = new HandleExpiryQueue();
 * queue.push(1000, handle);
 * engine.setQueueBucket(handle, bucketOf(1000));
 * queue.shiftDue(999);  // NONE: nothing due yet
 * queue.shiftDue(1100); // handle; queue.dueBucket === bucketOf(1000)
 * ```
 */
export class HandleExpiryQueue {
  #buckets = new Map<number, number[]>();
  #heap: number[] = [];
  #current: number[] = [];
  #cursor = 0;
  #currentBucket = Number.NaN;
  #size = 0;
  #scan: Iterator<[number, number[]]> | undefined;
  #scanBucket = Number.NaN;
  #scanHandles: number[] | undefined;
  #read = 0;
  #write = 0;

  /** Number of pairs, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** The bucket of the handle {@link shiftDue} returned last. */
  get dueBucket(): number {
    return this.#currentBucket;
  }

  /** Adds a pair for `handle`, due at `time`; returns its bucket (to store in the item). */
  push(time: number, handle: number): number {
    const n = bucketOf(time);
    const bucket = this.#buckets.get(n);
    if (bucket === undefined) {
      this.#buckets.set(n, [handle]);
      this.#heapPush(n);
    } else {
      bucket.push(handle);
    }
    this.#size += 1;
    return n;
  }

  /** True when {@link shiftDue} would return a handle at `now`. */
  hasDue(now: number): boolean {
    const n = this.#heap[0];
    return this.#cursor < this.#current.length || (n !== undefined && (n + 1) * EXPIRY_BUCKET_MS <= now);
  }

  /**
   * The next handle whose bucket has ended by `now`, removing it, or
   * {@link NONE} when none is due. Every handle it returns was pushed with
   * a time ≤ `now`.
   */
  shiftDue(now: number): number {
    for (;;) {
      if (this.#cursor < this.#current.length) {
        this.#size -= 1;
        return this.#current[this.#cursor++] as number;
      }
      const n = this.#heap[0];
      if (n === undefined || (n + 1) * EXPIRY_BUCKET_MS > now) {
        if (this.#cursor > 0) {
          this.#current = [];
          this.#cursor = 0;
        }
        return NONE;
      }
      this.#heapPop();
      const handles = this.#buckets.get(n) ?? [];
      if (handles === this.#scanHandles) this.#endScanOfBucket();
      this.#current = handles;
      this.#currentBucket = n;
      this.#buckets.delete(n);
      this.#cursor = 0;
    }
  }

  /**
   * Examines up to `steps` pairs, resuming where the last call stopped, and
   * drops those `owns` says are stale. Returns how many it examined.
   */
  compact(owns: OwnsPair, steps: number): number {
    let examined = 0;
    while (examined < steps) {
      let handles = this.#scanHandles;
      if (handles === undefined) {
        this.#scan ??= this.#buckets.entries();
        const next = this.#scan.next();
        if (next.done === true) {
          this.#scan = undefined;
          return examined;
        }
        [this.#scanBucket, handles] = next.value;
        this.#scanHandles = handles;
        this.#read = 0;
        this.#write = 0;
      }
      while (examined < steps && this.#read < handles.length) {
        const handle = handles[this.#read++] as number;
        examined += 1;
        if (owns(handle, this.#scanBucket)) handles[this.#write++] = handle;
        else this.#size -= 1;
      }
      if (this.#read === handles.length) this.#endScanOfBucket();
    }
    return examined;
  }

  #endScanOfBucket(): void {
    const handles = this.#scanHandles;
    if (handles === undefined) return;
    handles.copyWithin(this.#write, this.#read);
    handles.length -= this.#read - this.#write;
    this.#scanHandles = undefined;
  }

  /** Drops every pair (FLUSH). */
  clear(): void {
    this.#buckets = new Map();
    this.#heap = [];
    this.#current = [];
    this.#cursor = 0;
    this.#currentBucket = Number.NaN;
    this.#size = 0;
    this.#scan = undefined;
    this.#scanHandles = undefined;
  }

  #heapPush(n: number): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(n);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as number;
      if (p <= n) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = n;
  }

  #heapPop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return;
    const size = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && (heap[right] as number) < (heap[left] as number) ? right : left;
      const c = heap[child] as number;
      if (c >= last) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
