/**
 * The store: what each operation of spec §3 does to the shards, and the
 * active expiry sweep. Its parts live beside it, one job each:
 * `options.ts` (options and their validation), `shard.ts` (a shard's cache
 * and counters), `charge.ts` (what an entry costs against the budget),
 * `keys.ts` (key strings and the shard hash), `expiry-queue.ts` (the order
 * the sweep reclaims in), `list.ts` (LIST's bounded scan), `integer.ts`
 * (INCR's counters), `stats.ts` (counters, spec §5.2) and `sweep-timer.ts`
 * (when the active sweep runs).
 *
 * @example
 * ```ts
 * const store = new Store({ maxMemory: 64 * 1024 * 1024 });
 * ```
 * @module
 */
import { LRUCache } from 'lru-cache';
import { checkKey, checkTtl, I64_MAX, I64_MIN } from '../protocol/validate.js';
import { chargeOf } from './charge.js';
import { ExpiryQueue, bucketOf } from './expiry-queue.js';
import { counterValue } from './integer.js';
import { fnv1a, keyString } from './keys.js';
import { LIST_SCAN_LIMIT, listKeys } from './list.js';
import { resolveStoreOptions, type EvictionPolicy, type SetOptions, type StoreOptions } from './options.js';
import { newShard, UNQUEUED, type Entry, type Shard } from './shard.js';
import { statsOf, type StoreStats } from './stats.js';
import { SweepTimer } from './sweep-timer.js';

// What the server imports from here; the package root exports them from their own modules.
export { chargeOf } from './charge.js';
export type { EvictionPolicy, SetOptions, StoreOptions } from './options.js';

/**
 * What {@link Store.set} did (spec §3.3): `'stored'`; `'not_stored'` when NX
 * or XX prevented it; `'too_large'` for an item over one shard's budget;
 * `'out_of_memory'` when it does not fit with eviction off. The store speaks
 * in its own outcomes; the server maps them to wire statuses (`execute`).
 */
export type WriteOutcome = 'stored' | 'not_stored' | 'too_large' | 'out_of_memory';

/**
 * Why {@link Store.incr} changed nothing (spec §3.8): `'not_integer'` when
 * the stored value is not the canonical decimal form of an i64,
 * `'overflow'` when the result leaves the i64 range, or a refused write as
 * for SET. (On the wire both of the first two are NOT_INTEGER.)
 */
export type IncrRefusal = 'not_integer' | 'overflow' | 'too_large' | 'out_of_memory';

/**
 * Compaction of the expiry queue: it starts when the queue holds more than
 * twice as many pairs as there are entries owning one, plus this slack, and
 * then examines this many pairs per pair pushed. A pass over the queue adds
 * at most a quarter of its length while removing its stale half, so the
 * queue stays within about 2 × (entries with a pair) + slack.
 */
const COMPACT_SLACK = 1024;
const COMPACT_STEPS = 4;

const EMPTY = Buffer.alloc(0);
/** How long one slice of the active sweep may block the event loop (its timer: {@link SweepTimer}). */
const SWEEP_SLICE_MS = 2;

/** A copy of `bytes` in memory of its own, so a stored value never pins a socket chunk or a shared pool slab. */
function ownCopy(bytes: Uint8Array): Buffer {
  if (bytes.length === 0) return EMPTY;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * The exact string form of a key, which must be 1–250 bytes (spec §3.1; the
 * server has checked it already). Throws the encoder's `BAD_REQUEST` otherwise.
 */
function validKey(key: Uint8Array): string {
  checkKey(key);
  return keyString(key);
}

/**
 * The cache itself: N shards, each an `LRUCache` bounded by its share of the
 * memory budget, with TTLs on a monotonic clock and an active expiry sweep.
 * Synchronous and network-free; the server calls it in-process. Operations
 * follow spec §3 exactly and return their outcomes ({@link WriteOutcome},
 * {@link IncrRefusal}) instead of throwing.
 *
 * @example
 * ```ts
 * const store = new Store({ maxMemory: 512 * 1024 * 1024 });
 * store.set(Buffer.from('greeting'), Buffer.from('hello'), { ttlMs: 60_000 });
 * store.get(Buffer.from('greeting'))?.toString(); // 'hello'
 * store.close();
 * ```
 */
export class Store {
  readonly #shards: Shard[];
  readonly #mask: number;
  readonly #shardBudget: number;
  readonly #eviction: EvictionPolicy;
  readonly #clock: () => number;
  readonly #queue = new ExpiryQueue();
  /** Entries that own a pair in the expiry queue ({@link Entry.queued} set); the rest of the queue is stale. */
  #queuedEntries = 0;
  readonly #timer: SweepTimer | undefined;

  constructor(options: StoreOptions = {}) {
    const { maxMemory, shards, eviction, clock, activeExpiry } = resolveStoreOptions(options);
    this.#mask = shards - 1;
    this.#shardBudget = Math.floor(maxMemory / shards);
    this.#eviction = eviction;
    this.#clock = clock;
    this.#shards = Array.from({ length: shards }, () => newShard(this.#newCache));
    if (activeExpiry) this.#timer = new SweepTimer(() => this.sweep(), () => this.#queue.hasDue(this.#clock()));
  }

  /** A shard's empty cache, bounded by its budget; FLUSH makes a new one. */
  readonly #newCache = (shard: Shard): LRUCache<string, Entry> =>
    new LRUCache<string, Entry>({
      maxSize: this.#shardBudget,
      // Called for every entry that leaves (evicted, deleted, overwritten); FLUSH drops whole caches instead.
      dispose: (value, _key, reason) => {
        if (reason === 'evict') shard.evictions += 1;
        if (value.queued !== UNQUEUED) this.#queuedEntries -= 1;
      },
    });

  #shard(key: string): Shard {
    return this.#shards[fnv1a(key) & this.#mask] as Shard;
  }

  /** The live entry of `key` without touching its recency, reclaiming it if expired. */
  #peekLive(shard: Shard, key: string): Entry | undefined {
    const entry = shard.cache.peek(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.#clock()) {
      shard.cache.delete(key);
      shard.expiredLazy += 1;
      return undefined;
    }
    return entry;
  }

  /**
   * The value of `key`, or `undefined` when absent or expired (spec §3.2).
   * Marks the key most recently used.
   *
   * @example
   * ```ts
   * const value = store.get(Buffer.from('k'));
   * ```
   */
  get(key: Uint8Array): Buffer | undefined {
    const k = validKey(key);
    const shard = this.#shard(k);
    const entry = shard.cache.get(k);
    if (entry !== undefined) {
      if (entry.expiresAt === 0 || entry.expiresAt > this.#clock()) {
        shard.hits += 1;
        return entry.value;
      }
      shard.cache.delete(k);
      shard.expiredLazy += 1;
    }
    shard.misses += 1;
    return undefined;
  }

  /**
   * Stores a copy of `value` under `key` with the NX / XX / KEEPTTL rules of
   * spec §3.3. A plain SET replaces the expiry (ttlMs 0 removes it).
   *
   * @example
   * ```ts
   * store.set(Buffer.from('k'), Buffer.from('v'), { ttlMs: 1000, nx: true }); // 'stored' or 'not_stored'
   * ```
   */
  set(key: Uint8Array, value: Uint8Array, options: SetOptions = {}): WriteOutcome {
    const { ttlMs = 0, nx = false, xx = false, keepTtl = false } = options;
    checkTtl(ttlMs);
    const k = validKey(key);
    const shard = this.#shard(k);
    // A plain SET with eviction on needs nothing from the old entry: skip the lookup (hot path).
    const needsExisting = nx || xx || keepTtl || this.#eviction === 'none';
    const existing = needsExisting ? this.#peekLive(shard, k) : undefined;
    if ((nx && existing !== undefined) || (xx && existing === undefined)) return 'not_stored';
    const expiresAt = keepTtl ? (existing?.expiresAt ?? 0) : ttlMs > 0 ? this.#clock() + ttlMs : 0;
    return this.#write(shard, k, value, expiresAt, existing);
  }

  /** Checks the budget, then stores an own copy of `value`. */
  #write(shard: Shard, k: string, value: Uint8Array, expiresAt: number, existing: Entry | undefined): 'stored' | 'too_large' | 'out_of_memory' {
    const size = chargeOf(k.length, value.length);
    if (size > this.#shardBudget) {
      shard.refusedTooLarge += 1;
      return 'too_large';
    }
    if (this.#eviction === 'none') {
      const freed = existing === undefined ? 0 : chargeOf(k.length, existing.value.length);
      if (shard.cache.calculatedSize - freed + size > this.#shardBudget) {
        shard.refusedOutOfMemory += 1;
        return 'out_of_memory';
      }
    }
    // The old entry's pair in the expiry queue (if any) passes to the new one,
    // which saves a push whenever the new expiry is no earlier (an overwrite
    // with the same TTL). A plain SET skipped the lookup; one with a TTL does it here.
    const previous = existing ?? (expiresAt !== 0 ? shard.cache.peek(k) : undefined);
    const entry: Entry = { value: ownCopy(value), expiresAt, queued: previous?.queued ?? UNQUEUED };
    shard.cache.set(k, entry, { size }); // its dispose of `previous` uncounted the pair
    if (entry.queued !== UNQUEUED) this.#queuedEntries += 1;
    shard.sets += 1;
    if (expiresAt !== 0) this.#enqueue(entry, k);
    return 'stored';
  }

  /**
   * Removes `key`; true when a live key was removed (spec §3.4).
   *
   * @example
   * ```ts
   * store.delete(Buffer.from('k')); // true or false
   * ```
   */
  delete(key: Uint8Array): boolean {
    const k = validKey(key);
    const shard = this.#shard(k);
    if (this.#peekLive(shard, k) === undefined) {
      shard.deleteMisses += 1;
      return false;
    }
    shard.cache.delete(k);
    shard.deleteHits += 1;
    return true;
  }

  /**
   * Sets the expiry of a live key to `ttlMs` from now, or removes it when
   * `ttlMs` is 0 (spec §3.6). False when the key is absent.
   *
   * @example
   * ```ts
   * store.renew(Buffer.from('session'), 30_000);
   * ```
   */
  renew(key: Uint8Array, ttlMs: number): boolean {
    checkTtl(ttlMs);
    const k = validKey(key);
    const entry = this.#peekLive(this.#shard(k), k);
    if (entry === undefined) return false;
    entry.expiresAt = ttlMs === 0 ? 0 : this.#clock() + ttlMs;
    // The usual renew moves the expiry later: the entry keeps its pair, and
    // the sweep re-queues it when that pair comes due (issue 15 item 6: a
    // refresh costs what a GET costs).
    if (entry.expiresAt !== 0) this.#enqueue(entry, k);
    return true;
  }

  /**
   * Remaining lifetime in ms (rounded up), −1 when the key has no expiry,
   * `undefined` when it is absent (spec §3.9).
   *
   * @example
   * ```ts
   * store.ttl(Buffer.from('k')); // e.g. 4999
   * ```
   */
  ttl(key: Uint8Array): number | undefined {
    const k = validKey(key);
    const entry = this.#peekLive(this.#shard(k), k);
    if (entry === undefined) return undefined;
    if (entry.expiresAt === 0) return -1;
    return Math.max(0, Math.ceil(entry.expiresAt - this.#clock()));
  }

  /**
   * Adds `delta` to the ASCII-decimal i64 stored at `key`, creating it at 0
   * with `ttlMs` (if > 0) when absent; an existing key keeps its expiry
   * (spec §3.8). Returns the new value, or why it changed nothing
   * ({@link IncrRefusal}).
   *
   * @example
   * ```ts
   * store.incr(Buffer.from('hits'), 1n, 0); // 1n, then 2n, …
   * ```
   */
  incr(key: Uint8Array, delta: bigint, ttlMs = 0): bigint | IncrRefusal {
    checkTtl(ttlMs);
    const k = validKey(key);
    const shard = this.#shard(k);
    const existing = this.#peekLive(shard, k);
    let current = 0n;
    if (existing !== undefined) {
      const stored = counterValue(existing.value);
      if (stored === undefined) return 'not_integer';
      current = stored;
    }
    const next = current + delta;
    if (next < I64_MIN || next > I64_MAX) return 'overflow';
    const expiresAt = existing !== undefined ? existing.expiresAt : ttlMs > 0 ? this.#clock() + ttlMs : 0;
    const outcome = this.#write(shard, k, Buffer.from(next.toString(), 'latin1'), expiresAt, existing);
    return outcome === 'stored' ? next : outcome;
  }

  /** Entries one {@link list} examines at most (spec §3.5: the server may stop early; see {@link LIST_SCAN_LIMIT}). */
  static readonly LIST_SCAN_LIMIT = LIST_SCAN_LIMIT;

  /**
   * Up to `limit` live keys starting with `prefix`, in no particular order,
   * stopping early when their encoding (`1 + length` bytes each) would pass
   * `maxBytes` or after examining {@link Store.LIST_SCAN_LIMIT} entries;
   * `truncated` tells that more may match (spec §3.5).
   *
   * @example
   * ```ts
   * const { keys, truncated } = store.list(Buffer.from('user:'), 100);
   * ```
   */
  list(prefix: Uint8Array, limit: number, maxBytes = Infinity): { keys: Buffer[]; truncated: boolean } {
    return listKeys(this.#shards, prefix, limit, maxBytes, this.#clock());
  }

  /**
   * Removes every key (spec §3.7). Counters are kept.
   *
   * @example
   * ```ts
   * store.flush();
   * ```
   */
  flush(): void {
    // O(shards), not O(keys): each shard gets a new empty cache and the
    // collector reclaims the old ones (clear() would call dispose on every
    // entry; FLUSH of 1M keys took 274 ms of one turn, issue 15 item 5).
    // The counters live on the shard and stay (spec §3.7).
    for (const shard of this.#shards) shard.cache = this.#newCache(shard);
    this.#queue.clear();
    this.#queuedEntries = 0;
  }

  /**
   * Counters in total and per shard (spec §5.2).
   *
   * @example
   * ```ts
   * store.stats().keyspace_hits;
   * ```
   */
  stats(): StoreStats {
    return statsOf(this.#shards, this.#shardBudget, this.#eviction, this.#queue.size);
  }

  /**
   * Reclaims expired entries, earliest first, for at most `budgetMs` of
   * clock time; returns how many it reclaimed. The timer calls it every
   * 50 ms and again at once while a backlog remains, so an expired entry is
   * freed within about 66 ms (interval + bucket width) plus the backlog,
   * never blocking the event loop for more than a slice.
   *
   * @example
   * ```ts
   * store.sweep(); // with activeExpiry: false and a fake clock
   * ```
   */
  sweep(budgetMs = SWEEP_SLICE_MS): number {
    const now = this.#clock();
    const deadline = now + budgetMs;
    let reclaimed = 0;
    let steps = 0;
    for (let k = this.#queue.shiftDue(now); k !== undefined; k = this.#queue.shiftDue(now)) {
      if (this.#sweepPair(k, now)) reclaimed += 1;
      steps += 1;
      if ((steps & 255) === 0 && this.#clock() >= deadline) break;
    }
    return reclaimed;
  }

  /** Handles one pair the queue handed out at `now`; true when it reclaimed an expired entry. */
  #sweepPair(k: string, now: number): boolean {
    const shard = this.#shard(k);
    const entry = shard.cache.peek(k);
    // A stale pair (key deleted, evicted or expired on access, or an older
    // pair of a key whose expiry moved earlier) finds no entry, or the
    // entry's own pair in another bucket: skip it.
    if (entry === undefined || entry.queued !== this.#queue.dueBucket) return false;
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
      shard.cache.delete(k); // its dispose uncounts the pair
      shard.expiredSwept += 1;
      return true;
    }
    if (entry.expiresAt === 0) {
      entry.queued = UNQUEUED; // the expiry was removed since
      this.#queuedEntries -= 1;
    } else {
      // Renewed to a later time: queue it again there (a later bucket, as
      // its expiry is past `now` and this bucket ended by `now`).
      entry.queued = bucketOf(entry.expiresAt);
      this.#queue.push(entry.expiresAt, k);
    }
    return false;
  }

  /**
   * Stops the sweep timer. The store stays usable (lazy expiry only).
   *
   * @example
   * ```ts
   * store.close();
   * ```
   */
  close(): void {
    this.#timer?.close();
  }

  /**
   * Gives `entry` (with an expiry, stored under `k`) a pair no later than
   * its expiry: nothing to do when it owns one already in that bucket or an
   * earlier one; a new pair when it has none or its expiry moved to an
   * earlier bucket (the old pair becomes stale).
   */
  #enqueue(entry: Entry, k: string): void {
    const n = bucketOf(entry.expiresAt);
    if (entry.queued !== UNQUEUED && entry.queued <= n) return;
    if (entry.queued === UNQUEUED) this.#queuedEntries += 1;
    entry.queued = n;
    this.#queue.push(entry.expiresAt, k);
    if (this.#queue.size > 2 * this.#queuedEntries + COMPACT_SLACK) {
      // Stale pairs outnumber owned ones: drop some, a few per push, from
      // the queue's own contents (never a walk over the shards).
      this.#queue.compact(this.#ownsPair, COMPACT_STEPS);
    }
  }

  /** True when the pair (`k`, `bucket`) is the one its entry owns. */
  readonly #ownsPair = (k: string, bucket: number): boolean => this.#shard(k).cache.peek(k)?.queued === bucket;
}
