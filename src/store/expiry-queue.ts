/** Width of one bucket of expiry times, in ms: the sweep may free an item up to this much late. */
export const EXPIRY_BUCKET_MS = 16;

/**
 * The bucket a time falls in. The store remembers it per item so that a
 * pair handed out by {@link ExpiryQueue.shiftDue} can be told apart from a
 * stale one (see {@link ExpiryQueue.dueBucket}).
 *
 * @example
 * ```ts
 * bucketOf(1000); // 62
 * ```
 */
export function bucketOf(time: number): number {
  return Math.floor(time / EXPIRY_BUCKET_MS);
}

/**
 * The order in which the active sweep reclaims expired items: a timing
 * wheel of 16 ms buckets. Each bucket is a plain array of items, so adding a
 * pair and taking one back are O(1); a small min-heap of bucket numbers finds
 * the earliest bucket. (A binary heap of all pairs cost about 2 µs per item
 * at 1M items, too slow to reclaim them within the 1 s bound.)
 *
 * The queue never looks inside an item: the store keeps the slab engine's
 * item handles in it (small integers, so each bucket stays a packed array
 * of small integers: no object and no key string per pair); the tests also
 * run it with strings.
 *
 * Pairs are never removed from the middle: an item that was deleted,
 * evicted, moved or renewed leaves a stale pair, which the sweep recognises
 * (the item is gone, or its own pair is in another bucket: the store
 * records the bucket {@link push} returns in the item) and skips. When stale
 * pairs outnumber live ones the store calls {@link compact} a few pairs at a
 * time, which filters the buckets in place from the queue's own contents: no
 * operation ever walks the whole queue or the store's items at once.
 *
 * ```
 * buckets:    #heap (bucket numbers, min first)  →  #buckets.get(n) = [item, item, …]
 * draining:   #current = the bucket being handed out, #cursor = next index in it
 * compacting: #scan walks #buckets; in #scanItems, [0, #write) is kept,
 *             [#write, #read) is dropped or already moved, [#read, …) unseen
 * ```
 *
 * @example
 * ```ts
 * const queue = new ExpiryQueue<number>();
 * queue.push(1000, handle); // bucketOf(1000)
 * queue.shiftDue(999);      // undefined: nothing due yet
 * queue.shiftDue(1100);     // handle; queue.dueBucket === bucketOf(1000)
 * ```
 */
export class ExpiryQueue<T> {
  #buckets = new Map<number, T[]>();
  #heap: number[] = [];
  #current: T[] = [];
  #cursor = 0;
  #currentBucket = Number.NaN;
  #size = 0;
  #scan: Iterator<[number, T[]]> | undefined;
  #scanBucket = Number.NaN;
  #scanItems: T[] | undefined;
  #read = 0;
  #write = 0;

  /** Number of pairs, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** The bucket of the item {@link shiftDue} returned last. */
  get dueBucket(): number {
    return this.#currentBucket;
  }

  /** Adds a pair for `item`, due at `time`; returns its bucket (for the caller to tell its own pair from stale ones). */
  push(time: number, item: T): number {
    const n = bucketOf(time);
    const bucket = this.#buckets.get(n);
    if (bucket === undefined) {
      this.#buckets.set(n, [item]);
      this.#heapPush(n);
    } else {
      bucket.push(item);
    }
    this.#size += 1;
    return n;
  }

  /** True when {@link shiftDue} would return an item at `now`. */
  hasDue(now: number): boolean {
    const n = this.#heap[0];
    return this.#cursor < this.#current.length || (n !== undefined && (n + 1) * EXPIRY_BUCKET_MS <= now);
  }

  /**
   * The next item whose bucket has ended by `now`, removing its pair, or
   * `undefined` when none is due. Every item it returns was pushed with a
   * time ≤ `now`; {@link dueBucket} is then the bucket it was pushed in.
   */
  shiftDue(now: number): T | undefined {
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
      const items = this.#buckets.get(n) ?? [];
      if (items === this.#scanItems) this.#endScanOfBucket();
      this.#current = items;
      this.#currentBucket = n;
      this.#buckets.delete(n);
      this.#cursor = 0;
    }
  }

  /**
   * Examines up to `steps` pairs, resuming where the last call stopped, and
   * drops those for which `keep(item, bucket)` is false. Each call costs at
   * most `steps` calls of `keep`; a full pass over the queue takes
   * `size / steps` calls. Returns how many pairs it examined.
   */
  compact(keep: (item: T, bucket: number) => boolean, steps: number): number {
    let examined = 0;
    while (examined < steps) {
      let items = this.#scanItems;
      if (items === undefined) {
        // A Map iterator is live: buckets added meanwhile are visited, removed ones skipped.
        this.#scan ??= this.#buckets.entries();
        const next = this.#scan.next();
        if (next.done === true) {
          this.#scan = undefined; // one pass done; the next call starts another
          return examined;
        }
        [this.#scanBucket, items] = next.value;
        this.#scanItems = items;
        this.#read = 0;
        this.#write = 0;
      }
      while (examined < steps && this.#read < items.length) {
        const item = items[this.#read++] as T;
        examined += 1;
        if (keep(item, this.#scanBucket)) items[this.#write++] = item;
        else this.#size -= 1;
      }
      if (this.#read === items.length) this.#endScanOfBucket();
    }
    return examined;
  }

  /** Closes the gap [#write, #read) of the bucket being compacted and stops compacting it. */
  #endScanOfBucket(): void {
    const items = this.#scanItems;
    if (items === undefined) return;
    items.copyWithin(this.#write, this.#read);
    items.length -= this.#read - this.#write;
    this.#scanItems = undefined;
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
    this.#scanItems = undefined;
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
