/** Width of one bucket of expiry times, in ms: the sweep may free an entry up to this much late. */
export const EXPIRY_BUCKET_MS = 16;

/**
 * The bucket a time falls in. The store remembers it per entry so that a
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
 * The order in which the active sweep reclaims expired entries: a timing
 * wheel of 16 ms buckets. Each bucket is a plain array of keys, so adding a
 * pair and taking one back are O(1); a small min-heap of bucket numbers finds
 * the earliest bucket. (A binary heap of all pairs cost about 2 µs per entry
 * at 1M entries, too slow to reclaim them within the 1 s bound.)
 *
 * Pairs are never removed from the middle: a key that was deleted or
 * evicted leaves a stale pair, which the sweep recognises (the entry is gone,
 * or its own pair is in another bucket) and skips. When stale pairs
 * outnumber live ones the store calls {@link compact} a few pairs at a time,
 * which filters the buckets in place from the queue's own contents: no
 * operation ever walks the whole queue or the store's keys at once.
 *
 * ```
 * buckets:    #heap (bucket numbers, min first)  →  #buckets.get(n) = [key, key, …]
 * draining:   #current = the bucket being handed out, #cursor = next index in it
 * compacting: #scan walks #buckets; in #scanKeys, [0, #write) is kept,
 *             [#write, #read) is dropped or already moved, [#read, …) unseen
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
  #currentBucket = Number.NaN;
  #size = 0;
  #scan: Iterator<[number, string[]]> | undefined;
  #scanBucket = Number.NaN;
  #scanKeys: string[] | undefined;
  #read = 0;
  #write = 0;

  /** Number of pairs, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** The bucket of the key {@link shiftDue} returned last. */
  get dueBucket(): number {
    return this.#currentBucket;
  }

  /** Adds a pair. */
  push(time: number, key: string): void {
    const n = bucketOf(time);
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
      const keys = this.#buckets.get(n) ?? [];
      if (keys === this.#scanKeys) this.#endScanOfBucket();
      this.#current = keys;
      this.#currentBucket = n;
      this.#buckets.delete(n);
      this.#cursor = 0;
    }
  }

  /** Replaces the contents with `pairs`. */
  rebuild(pairs: Iterable<readonly [number, string]>): void {
    this.clear();
    for (const [time, key] of pairs) this.push(time, key);
  }

  /**
   * Examines up to `steps` pairs, resuming where the last call stopped, and
   * drops those for which `keep(key, bucket)` is false. Each call costs at
   * most `steps` calls of `keep`; a full pass over the queue takes
   * `size / steps` calls. Returns how many pairs it examined.
   */
  compact(keep: (key: string, bucket: number) => boolean, steps: number): number {
    let examined = 0;
    while (examined < steps) {
      let keys = this.#scanKeys;
      if (keys === undefined) {
        // A Map iterator is live: buckets added meanwhile are visited, removed ones skipped.
        this.#scan ??= this.#buckets.entries();
        const next = this.#scan.next();
        if (next.done === true) {
          this.#scan = undefined; // one pass done; the next call starts another
          return examined;
        }
        [this.#scanBucket, keys] = next.value;
        this.#scanKeys = keys;
        this.#read = 0;
        this.#write = 0;
      }
      while (examined < steps && this.#read < keys.length) {
        const key = keys[this.#read++] as string;
        examined += 1;
        if (keep(key, this.#scanBucket)) keys[this.#write++] = key;
        else this.#size -= 1;
      }
      if (this.#read === keys.length) this.#endScanOfBucket();
    }
    return examined;
  }

  /** Closes the gap [#write, #read) of the bucket being compacted and stops compacting it. */
  #endScanOfBucket(): void {
    const keys = this.#scanKeys;
    if (keys === undefined) return;
    keys.copyWithin(this.#write, this.#read);
    keys.length -= this.#read - this.#write;
    this.#scanKeys = undefined;
  }

  /** Drops every pair. */
  clear(): void {
    this.#buckets = new Map();
    this.#heap = [];
    this.#current = [];
    this.#cursor = 0;
    this.#currentBucket = Number.NaN;
    this.#size = 0;
    this.#scan = undefined;
    this.#scanKeys = undefined;
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
