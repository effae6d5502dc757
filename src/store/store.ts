import { LRUCache } from 'lru-cache';
import { checkKey, checkTtl, I64_MAX, I64_MIN } from '../protocol/validate.js';
import { ExpiryQueue, bucketOf } from './expiry-queue.js';
import { fnv1a, keyBytes, keyString } from './keys.js';

/**
 * Bytes one entry costs beyond its key and value bytes, calibrated against
 * the process's RSS (issue 15 item 15): `BENCH_ONLY=rss npx just bench-store`
 * fills a fresh process with 1M items of 16-byte keys and 10, 100 and
 * 1,000-byte values and divides the RSS it gained (after GC) by the items:
 * 431, 670 and 1,558 B on Node 20.20 x64. That is the lru-cache slots (key,
 * value, size, list links, with array growth slack), the entry object, the
 * key string, the Buffer and ArrayBuffer objects, and the V8 heap's own
 * slack (RSS runs about 8% over heapUsed). See {@link chargeOf}.
 */
export const ENTRY_OVERHEAD = 400;

/**
 * Values longer than this live outside the V8 heap, in a backing store of
 * their own; shorter ones are allocated inside the heap (V8's
 * `typed_array_max_size_in_heap`, 64 bytes).
 */
export const IN_HEAP_VALUE_MAX = 64;

/**
 * What a value outside the V8 heap costs beyond its bytes: its malloc chunk
 * header and the C++ backing-store records that track it (measured: 670 B of
 * RSS for a 100-byte value against 431 B for a 10-byte one).
 */
export const EXTERNAL_VALUE_OVERHEAD = 144;

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * Bytes an entry is charged against the memory budget: what it costs in RSS
 * on Node 20 x64, within a few percent for 16-byte keys and 10 B–1 KiB values.
 * The key string and in-heap values are rounded to V8's 8-byte allocation
 * unit, values outside the heap to malloc's 16-byte chunks, and
 * those pay {@link EXTERNAL_VALUE_OVERHEAD} on top of {@link ENTRY_OVERHEAD}.
 *
 * @example
 * ```ts
 * chargeOf(16, 10);   // 432: 16 + 16 + 400
 * chargeOf(16, 100);  // 672: 16 + 112 + 400 + 144
 * chargeOf(16, 1000); // 1568: 16 + 1008 + 400 + 144
 * ```
 */
export function chargeOf(keyLength: number, valueLength: number): number {
  const key = roundUp(keyLength, 8);
  if (valueLength <= IN_HEAP_VALUE_MAX) return key + roundUp(valueLength, 8) + ENTRY_OVERHEAD;
  return key + roundUp(valueLength, 16) + ENTRY_OVERHEAD + EXTERNAL_VALUE_OVERHEAD;
}

/** Eviction policy: `'lru'` evicts the shard's least recently used entries; `'none'` refuses writes that do not fit. */
export type EvictionPolicy = 'lru' | 'none';

/** Options of a {@link Store}. */
export interface StoreOptions {
  /** Memory budget in bytes, split evenly across shards. Default 64 MiB. */
  maxMemory?: number;
  /** Number of shards, a power of two from 1 to 1024. Default 16. */
  shards?: number;
  /** What a full shard does with a write. Default `'lru'`. */
  eviction?: EvictionPolicy;
  /** Monotonic clock in milliseconds. Default `performance.now`, which a wall-clock jump does not move. */
  clock?: () => number;
  /** Run the active expiry sweep on a timer. Default true; tests with a fake clock call {@link Store.sweep}. */
  activeExpiry?: boolean;
}

/** Options of {@link Store.set} (spec §3.3). */
export interface SetOptions {
  /** Expire after this many ms; 0 = no expiry. */
  ttlMs?: number;
  /** Store only when absent. */
  nx?: boolean;
  /** Store only when present. */
  xx?: boolean;
  /** Keep the current expiry. */
  keepTtl?: boolean;
}

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

/** Counters of one shard or of the whole store; names follow Redis INFO and memcached stats (spec §5.2). */
export interface StoreCounters {
  /** Live entries (memcached `curr_items`). */
  curr_items: number;
  /** Charged bytes: {@link chargeOf} summed over the entries, what they cost in RSS (memcached `bytes`). */
  bytes: number;
  /** Budget in bytes (memcached `limit_maxbytes`). */
  limit_maxbytes: number;
  /** Reads that found a live key (Redis `keyspace_hits`). */
  keyspace_hits: number;
  /** Reads that found nothing (Redis `keyspace_misses`). */
  keyspace_misses: number;
  /** Writes stored by SET and INCR (memcached `cmd_set` counts attempts; this counts stores). */
  total_sets: number;
  /** DELETEs that removed a key (memcached `delete_hits`). */
  delete_hits: number;
  /** DELETEs of an absent key (memcached `delete_misses`). */
  delete_misses: number;
  /** Entries evicted to make room (Redis `evicted_keys`, memcached `evictions`). */
  evictions: number;
  /** Expired entries reclaimed, both ways (Redis `expired_keys`). */
  expired_keys: number;
  /** … of which by the active sweep. */
  expired_swept: number;
  /** … of which on access. */
  expired_lazy: number;
  /** Writes refused with TOO_LARGE. */
  refused_too_large: number;
  /** Writes refused with OUT_OF_MEMORY. */
  refused_out_of_memory: number;
}

/** {@link StoreCounters} in total plus one per shard. */
export interface StoreStats extends StoreCounters {
  /** Number of shards. */
  shard_count: number;
  /** Eviction policy. */
  eviction: EvictionPolicy;
  /** Pairs waiting in the expiry queue, stale ones included (bounded at about twice the keys with a TTL). */
  expiry_queue: number;
  /** Per-shard counters, in shard order. */
  shards: StoreCounters[];
}

interface Entry {
  value: Buffer;
  /** Clock time at which the entry expires; 0 = never. */
  expiresAt: number;
  /**
   * The expiry-queue bucket of this entry's own pair, or {@link UNQUEUED}.
   * Invariant: an entry with an expiry has a pair in a bucket no later than
   * its expiry's, so the sweep meets it in time (see {@link Store.sweep}).
   */
  queued: number;
}

/** {@link Entry.queued} of an entry without a pair in the expiry queue. */
const UNQUEUED = Number.MIN_SAFE_INTEGER;
/**
 * Compaction of the expiry queue: it starts when the queue holds more than
 * twice as many pairs as there are entries owning one, plus this slack, and
 * then examines this many pairs per pair pushed. A pass over the queue adds
 * at most a quarter of its length while removing its stale half, so the
 * queue stays within about 2 × (entries with a pair) + slack.
 */
const COMPACT_SLACK = 1024;
const COMPACT_STEPS = 4;

interface Shard {
  /** Replaced by an empty one on FLUSH. */
  cache: LRUCache<string, Entry>;
  hits: number;
  misses: number;
  sets: number;
  deleteHits: number;
  deleteMisses: number;
  evictions: number;
  expiredSwept: number;
  expiredLazy: number;
  refusedTooLarge: number;
  refusedOutOfMemory: number;
}

const EMPTY = Buffer.alloc(0);
/** spec §3.8: the canonical decimal form of an i64 (no sign on zero, no leading zeros). */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;
/**
 * Active sweep: how often it runs, and how long one slice may block the event
 * loop. `npx just bench-store` measures 1M entries expiring at once reclaimed
 * in 0.8–1.0 s with event-loop stalls of p99 ~5 ms.
 */
const SWEEP_INTERVAL_MS = 50;
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
  #timeout: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(options: StoreOptions = {}) {
    const {
      maxMemory = 64 * 1024 * 1024,
      shards = 16,
      eviction = 'lru',
      clock = () => performance.now(),
      activeExpiry = true,
    } = options;
    if (!Number.isInteger(shards) || shards < 1 || shards > 1024 || (shards & (shards - 1)) !== 0) {
      throw new TypeError(`shards option must be a power of two from 1 to 1024, got ${shards}`);
    }
    if (!Number.isSafeInteger(maxMemory) || maxMemory < shards * 1024) {
      throw new TypeError(`maxMemory option must be an integer of at least ${shards * 1024} bytes (1 KiB per shard), got ${maxMemory}`);
    }
    if (eviction !== 'lru' && eviction !== 'none') {
      throw new TypeError(`eviction option must be 'lru' or 'none', got ${String(eviction)}`);
    }
    if (typeof clock !== 'function') throw new TypeError('clock option must be a function returning milliseconds');
    this.#mask = shards - 1;
    this.#shardBudget = Math.floor(maxMemory / shards);
    this.#eviction = eviction;
    this.#clock = clock;
    this.#shards = Array.from({ length: shards }, () => this.#newShard());
    if (activeExpiry) this.#schedule(SWEEP_INTERVAL_MS);
  }

  #newShard(): Shard {
    const shard: Shard = {
      cache: undefined as unknown as LRUCache<string, Entry>, // set just below: its dispose needs `shard`
      hits: 0,
      misses: 0,
      sets: 0,
      deleteHits: 0,
      deleteMisses: 0,
      evictions: 0,
      expiredSwept: 0,
      expiredLazy: 0,
      refusedTooLarge: 0,
      refusedOutOfMemory: 0,
    };
    shard.cache = this.#newCache(shard);
    return shard;
  }

  #newCache(shard: Shard): LRUCache<string, Entry> {
    return new LRUCache<string, Entry>({
      maxSize: this.#shardBudget,
      // Called for every entry that leaves (evicted, deleted, overwritten); FLUSH drops whole caches instead.
      dispose: (value, _key, reason) => {
        if (reason === 'evict') shard.evictions += 1;
        if (value.queued !== UNQUEUED) this.#queuedEntries -= 1;
      },
    });
  }

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
      const text = existing.value.toString('latin1');
      if (!CANONICAL_INTEGER.test(text)) return 'not_integer';
      current = BigInt(text);
      if (current < I64_MIN || current > I64_MAX) return 'not_integer';
    }
    const next = current + delta;
    if (next < I64_MIN || next > I64_MAX) return 'overflow';
    const expiresAt = existing !== undefined ? existing.expiresAt : ttlMs > 0 ? this.#clock() + ttlMs : 0;
    const outcome = this.#write(shard, k, Buffer.from(next.toString(), 'latin1'), expiresAt, existing);
    return outcome === 'stored' ? next : outcome;
  }

  /**
   * Entries one {@link list} examines at most (spec §3.5: the server may stop early). A walk
   * costs about 0.3 µs an entry on a 2-core machine, so a LIST that matched nothing walked
   * 1M keys for 300 ms while every other client waited (issue 15 item 5); 8,192 keep one
   * LIST to about 2-3 ms. A frame holds at most 32,761 one-byte keys, so a LIST of short keys
   * may stop at 8,192 keys instead.
   */
  static readonly LIST_SCAN_LIMIT = 8_192;

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
    const p = keyString(prefix);
    const now = this.#clock();
    const keys: Buffer[] = [];
    let bytes = 0;
    let examined = 0;
    for (const shard of this.#shards) {
      for (const [k, entry] of shard.cache.entries()) {
        if (examined++ === Store.LIST_SCAN_LIMIT) return { keys, truncated: true };
        if (!k.startsWith(p) || (entry.expiresAt !== 0 && entry.expiresAt <= now)) continue;
        if (keys.length >= limit || bytes + 1 + k.length > maxBytes) return { keys, truncated: true };
        keys.push(keyBytes(k));
        bytes += 1 + k.length;
      }
    }
    return { keys, truncated: false };
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
    const shards = this.#shards.map((s) => this.#countersOf(s));
    const total = shards.reduce(
      (sum, s) => {
        for (const name of Object.keys(sum) as (keyof StoreCounters)[]) sum[name] += s[name];
        return sum;
      },
      this.#countersOf(undefined),
    );
    return { ...total, shard_count: shards.length, eviction: this.#eviction, expiry_queue: this.#queue.size, shards };
  }

  #countersOf(s: Shard | undefined): StoreCounters {
    return {
      curr_items: s?.cache.size ?? 0,
      bytes: s?.cache.calculatedSize ?? 0,
      limit_maxbytes: s === undefined ? 0 : this.#shardBudget,
      keyspace_hits: s?.hits ?? 0,
      keyspace_misses: s?.misses ?? 0,
      total_sets: s?.sets ?? 0,
      delete_hits: s?.deleteHits ?? 0,
      delete_misses: s?.deleteMisses ?? 0,
      evictions: s?.evictions ?? 0,
      expired_keys: (s?.expiredSwept ?? 0) + (s?.expiredLazy ?? 0),
      expired_swept: s?.expiredSwept ?? 0,
      expired_lazy: s?.expiredLazy ?? 0,
      refused_too_large: s?.refusedTooLarge ?? 0,
      refused_out_of_memory: s?.refusedOutOfMemory ?? 0,
    };
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
    this.#closed = true;
    this.#cancelTimer();
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

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const tick = (): void => {
      this.#timeout = undefined;
      this.#immediate = undefined;
      this.sweep();
      if (this.#closed) return;
      if (this.#queue.hasDue(this.#clock())) {
        this.#immediate = setImmediate(tick).unref(); // backlog: go on after pending I/O
      } else {
        this.#schedule(SWEEP_INTERVAL_MS);
      }
    };
    this.#timeout = setTimeout(tick, delayMs).unref();
  }

  #cancelTimer(): void {
    clearTimeout(this.#timeout);
    clearImmediate(this.#immediate);
    this.#timeout = undefined;
    this.#immediate = undefined;
  }
}
