/** Width of one bucket of expiry times, in ms: the sweep may free an entry up to this much late. */
export const EXPIRY_BUCKET_MS = 16;

/**
 * The order in which the active sweep reclaims expired entries: a timing
 * wheel of 16 ms buckets. Each bucket is a plain array of keys, so adding a
 * pair and taking one back are O(1); a small min-heap of bucket numbers finds
 * the earliest bucket. (A binary heap of all pairs cost about 2 µs per entry
 * at 1M entries, too slow to reclaim them within the 1 s bound.)
 *
 * Pairs are never removed from the middle: a key that was deleted,
 * overwritten or renewed leaves a stale pair, which the sweep recognises (the
 * entry's expiry is later or gone) and skips. The store rebuilds the queue
 * when stale pairs outnumber live ones.
 *
 * ```
 * buckets:  #heap (bucket numbers, min first)  →  #buckets.get(n) = [key, key, …]
 * draining: #current = the bucket being handed out, #cursor = next index in it
 * ```
 *
 * @example
 * ```ts
 * const queue = new ExpiryQueue();
 * queue.push(1000, 'a');
 * queue.shiftDue(999);  // undefined: nothing due yet
 * queue.shiftDue(1100); // 'a'
 * ```
 */
export class ExpiryQueue {
  #buckets = new Map<number, string[]>();
  #heap: number[] = [];
  #current: string[] = [];
  #cursor = 0;
  #size = 0;

  /** Number of pairs, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** Adds a pair. */
  push(time: number, key: string): void {
    const n = Math.floor(time / EXPIRY_BUCKET_MS);
    const bucket = this.#buckets.get(n);
    if (bucket === undefined) {
      this.#buckets.set(n, [key]);
      this.#heapPush(n);
    } else {
      bucket.push(key);
    }
    this.#size += 1;
  }

  /** True when {@link shiftDue} would return a key at `now`. */
  hasDue(now: number): boolean {
    const n = this.#heap[0];
    return this.#cursor < this.#current.length || (n !== undefined && (n + 1) * EXPIRY_BUCKET_MS <= now);
  }

  /**
   * The next key whose bucket has ended by `now`, removing it, or
   * `undefined` when none is due. Every key it returns was pushed with a
   * time ≤ `now`.
   */
  shiftDue(now: number): string | undefined {
    for (;;) {
      if (this.#cursor < this.#current.length) {
        this.#size -= 1;
        return this.#current[this.#cursor++];
      }
      const n = this.#heap[0];
      if (n === undefined || (n + 1) * EXPIRY_BUCKET_MS > now) {
        if (this.#cursor > 0) {
          this.#current = [];
          this.#cursor = 0;
        }
        return undefined;
      }
      this.#heapPop();
      this.#current = this.#buckets.get(n) ?? [];
      this.#buckets.delete(n);
      this.#cursor = 0;
    }
  }

  /** Replaces the contents with `pairs`. */
  rebuild(pairs: Iterable<readonly [number, string]>): void {
    this.clear();
    for (const [time, key] of pairs) this.push(time, key);
  }

  /** Drops every pair. */
  clear(): void {
    this.#buckets = new Map();
    this.#heap = [];
    this.#current = [];
    this.#cursor = 0;
    this.#size = 0;
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
