/**
 * The store: what each operation of spec §3 does to the items in the slab
 * engine (`slab/`, docs/STORAGE.md). Its parts live beside it, one job
 * each: `options.ts` (options and their validation), `shard.ts` (a shard's
 * counters), `item-counts.ts` (which shard an item counts in, and its
 * items, bytes and queue owners), `charge.ts` (the chunk an item takes),
 * `keys.ts` (key strings and the shard hash), `expiry-sweep.ts` (the active
 * expiry: queue pairs, compaction, the sweep), `expiry-queue.ts` (the order
 * the sweep reclaims in), `list.ts` (LIST's bounded scan), `key-cursor.ts`
 * (SCAN's cursor over the index), `integer.ts`
 * (INCR's counters), `stats.ts` (counters, spec §5.2), `sweep-timer.ts`
 * (when the active sweep runs), `index-migration.ts` (a re-seed's slices),
 * `change.ts` (the change hook, issue 21) and `item-export.ts` /
 * `item-import.ts` (snapshot records out and in, issue 22).
 *
 * About 700 lines, over the ~450 guide (protocol 1.1's versioned read, GAT
 * and SCAN added three more, issue 19; snapshots' two entry points, issue
 * 22): each of spec §3's operations is a
 * short method here with its JSDoc example, and GET and SET come in two
 * forms, a key as a `Buffer` (the library API) and a key and value by their
 * position in the frame (`getAt`, `getViewAt`, `setAt`, the server's hot
 * path); splitting them would only move the dispatch to the engine away
 * from the rules it applies.
 *
 * @example
 * ```ts
 * const store = new Store({ maxMemory: 64 * 1024 * 1024 });
 * ```
 * @module
 */
import { ConduitError } from '../protocol/errors.js';
import { checkKey, checkRange, checkTtl, I64_MAX, I64_MIN } from '../protocol/validate.js';
import { counterValue } from './integer.js';
import { ItemCounts } from './item-counts.js';
import { scanBody } from './key-cursor.js';
import { listKeys, LIST_SCAN_LIMIT, type KeyFilter } from './list.js';
import { resolveStoreOptions, type EvictionPolicy, type SetOptions, type StoreOptions } from './options.js';
import type { Shard } from './shard.js';
import { HEADER_SIZE, NONE } from './slab/layout.js';
import { NO_MEMORY, pageSizeFor, TOO_LARGE } from './slab/engine-types.js';
import { SlabEngine } from './slab/slab-engine.js';
import { ExpirySweep, SWEEP_SLICE_MS } from './expiry-sweep.js';
import { statsOf, type StoreStats } from './stats.js';
import { SweepTimer } from './sweep-timer.js';
import { migrateFor } from './index-migration.js';
import { ChangeNotifier } from './change.js';
import { ItemExport } from './item-export.js';
import { ItemImport, MAX_VERSION, MAX_VERSION_GAP, type ImportCounts } from './item-import.js';

// What the server imports from here; the package root exports them from their own modules.
export { chargeOf } from './charge.js';
export type { EvictionPolicy, SetOptions, StoreOptions } from './options.js';
export type { ChangeCause, ChangeHook, StoreChange } from './change.js';
export type { ItemExport } from './item-export.js';
export type { ImportCounts, ItemImport, RecordProblem } from './item-import.js';

/**
 * What {@link Store.set} did (spec §3.3): `'stored'`; `'not_stored'` when NX
 * or XX prevented it; `'too_large'` for an item that needs more pages than
 * the whole budget holds; `'out_of_memory'` when it does not fit with
 * eviction off (or nothing is left to evict); with a version (compare-and-set,
 * spec §3.11) `'version_mismatch'` when the key holds another version and
 * `'not_found'` when it is absent. The store speaks
 * in its own outcomes; the server maps them to wire statuses (`execute`).
 */
export type WriteOutcome = 'stored' | 'not_stored' | 'too_large' | 'out_of_memory' | 'version_mismatch' | 'not_found';

/**
 * Why {@link Store.incr} changed nothing (spec §3.8): `'not_integer'` when
 * the stored value is not the canonical decimal form of an i64,
 * `'overflow'` when the result leaves the i64 range, or a refused write as
 * for SET. (On the wire both of the first two are NOT_INTEGER.)
 */
export type IncrRefusal = 'not_integer' | 'overflow' | 'too_large' | 'out_of_memory';

/**
 * The cache itself: one off-heap slab engine (`slab/`, docs/STORAGE.md)
 * bounded by the memory budget, with TTLs on a monotonic clock and an active
 * expiry sweep over a queue of item handles; the shards are partitions of the
 * counters (spec §5.2). No JS object per item. Synchronous and network-free;
 * the server calls it in-process. Operations follow spec §3 exactly and
 * return their outcomes ({@link WriteOutcome}, {@link IncrRefusal}) instead
 * of throwing.
 *
 * Values are copied in and out: {@link get} returns a copy, because any later
 * write may reuse the chunk a value was in (docs/STORAGE.md "Copy, never alias").
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
  readonly #engine: SlabEngine;
  readonly #counts: ItemCounts;
  readonly #eviction: EvictionPolicy;
  readonly #clock: () => number;
  readonly #expiry: ExpirySweep;
  readonly #timer: SweepTimer | undefined;
  /** The change hook's notifier (issue 21), or undefined: every change path checks it once and does nothing more without one. */
  readonly #notify: ChangeNotifier | undefined;
  /** The running snapshot load's counts (issue 22), or undefined: its evictions count there, not in STATS, and tell no hook. */
  #importing: ImportCounts | undefined;

  constructor(options: StoreOptions = {}) {
    const { maxMemory, shards, eviction, clock, activeExpiry, onChange } = resolveStoreOptions(options);
    this.#eviction = eviction;
    this.#clock = clock;
    this.#counts = new ItemCounts(shards, () => this.#engine);
    this.#engine = new SlabEngine({ maxMemory, eviction, pageSize: pageSizeFor(maxMemory), onEvict: this.#onEvict });
    this.#notify = onChange === undefined ? undefined : new ChangeNotifier(this.#engine, onChange);
    const notify = this.#notify;
    // A snapshot load tells no hook (nobody is connected yet), the sweep's expiries during it included.
    const onExpire =
      notify === undefined
        ? undefined
        : (handle: number): void => {
            if (this.#importing === undefined) notify.ofHandle('expired', handle);
          };
    this.#expiry = new ExpirySweep(this.#engine, this.#counts, clock, onExpire);
    if (activeExpiry) this.#timer = new SweepTimer(() => this.sweep(), () => this.#engine.migrating || this.#expiry.hasDue(this.#clock()));
  }

  /** The engine evicts `handle` to make room (its tag, size and bucket still read back). */
  readonly #onEvict = (handle: number): void => {
    const shard = this.#counts.ofHandle(handle);
    if (this.#importing === undefined) {
      this.#notify?.ofHandle('evicted', handle);
      shard.evictions += 1;
    } else {
      this.#importing.evicted += 1;
    }
    this.#counts.uncount(shard, handle);
  };

  /** Removes the live item `handle` of `shard`. */
  #drop(shard: Shard, handle: number): void {
    this.#counts.uncount(shard, handle);
    this.#engine.remove(handle);
  }

  /** The engine's index hash of the key (checked already), for {@link #findLive} and a write after it. */
  #hashOf(key: Uint8Array, start: number, length: number): number {
    return this.#engine.hashOf(key, start, length);
  }

  /**
   * The handle of the live item of `key` (whose index hash is `hash`)
   * without touching its recency, reclaiming it if expired; or {@link NONE}.
   * A found item's shard is its tag ({@link #shardOf}); only a miss hashes
   * the key for its shard.
   */
  #findLive(key: Uint8Array, start: number, length: number, hash: number): number {
    const handle = this.#engine.findHashed(hash, key, start, length);
    if (handle === NONE) return NONE;
    const expiresAt = this.#engine.expiresAt(handle);
    if (expiresAt !== 0 && expiresAt <= this.#clock()) {
      this.#notify?.ofKey('expired', key, start, length, handle);
      const shard = this.#counts.ofHandle(handle);
      this.#drop(shard, handle);
      shard.expiredLazy += 1;
      return NONE;
    }
    return handle;
  }

  /** The shard number of `key`, whose live item is `handle` or {@link NONE}: the item's tag, or the key's hash on a miss. */
  #shardOf(key: Uint8Array, start: number, length: number, handle: number): number {
    return handle === NONE ? this.#counts.indexOf(key, start, length) : this.#engine.tag(handle);
  }

  /**
   * A copy of the value of `key`, or `undefined` when absent or expired
   * (spec §3.2). Marks the key most recently used. The copy is the caller's:
   * a later write may reuse the chunk the value was read from.
   *
   * @example
   * ```ts
   * const value = store.get(Buffer.from('k'));
   * ```
   */
  get(key: Uint8Array): Buffer | undefined {
    return this.getAt(key, 0, key.length);
  }

  /**
   * {@link get} of the key that is `length` bytes of `source` from `start`:
   * what the server runs a GET with, from the frame's own bytes (no view of
   * the key allocated). Throws `BAD_REQUEST` unless they are 1–250 bytes
   * inside `source`.
   *
   * @example
   * ```ts
   * store.getAt(body, 0, body.length); // a copy of the value, or undefined
   * store.getAt(body, 0, body.length, 65_524); // or the value's length when longer (nothing copied)
   * ```
   */
  getAt(source: Uint8Array, start: number, length: number): Buffer | undefined;
  getAt(source: Uint8Array, start: number, length: number, maxLength: number): Buffer | number | undefined;
  getAt(source: Uint8Array, start: number, length: number, maxLength = Number.POSITIVE_INFINITY): Buffer | number | undefined {
    const handle = this.#hit(source, start, length);
    if (handle === NONE) return undefined;
    if (this.#engine.valueLength(handle) > maxLength) return this.#engine.valueLength(handle);
    const value = Buffer.allocUnsafe(this.#engine.valueLength(handle));
    this.#engine.copyValue(handle, value, 0);
    return value;
  }

  /**
   * Like {@link get}, but a view of the value in the store's own bytes, valid
   * only until the next write to the store (any write may reuse the chunk):
   * for a caller that copies or seals it at once, as a connection does when it
   * queues an answer. Saves a copy of every value read (a 60 KiB GET made two
   * copies, and their garbage, instead of one).
   *
   * @example
   * ```ts
   * const view = store.getView(Buffer.from('k'));
   * if (view !== undefined) output.push(view); // copied now, before any other request runs
   * ```
   */
  getView(key: Uint8Array): Buffer | undefined {
    return this.getViewAt(key, 0, key.length);
  }

  /**
   * {@link getView} of the key that is `length` bytes of `source` from
   * `start` (see {@link getAt}).
   *
   * @example
   * ```ts
   * const view = store.getViewAt(body, 0, body.length);
   * ```
   */
  getViewAt(source: Uint8Array, start: number, length: number): Buffer | undefined;
  getViewAt(source: Uint8Array, start: number, length: number, maxLength: number): Buffer | number | undefined;
  getViewAt(source: Uint8Array, start: number, length: number, maxLength = Number.POSITIVE_INFINITY): Buffer | number | undefined {
    const handle = this.#hit(source, start, length);
    if (handle === NONE) return undefined;
    // A value longer than the caller can send is not copied (a large object's view is a copy: 64 MiB took ~70 ms).
    const valueLength = this.#engine.valueLength(handle);
    return valueLength > maxLength ? valueLength : this.#engine.valueView(handle);
  }

  /**
   * A copy of the value of `key` and its version (spec §3.11), or `undefined`
   * when absent or expired; counts as a GET. The version changes on every
   * write of the key (SET, INCR), not on RENEW or GAT.
   *
   * @example
   * ```ts
   * const read = store.getWithVersion(Buffer.from('k'));
   * if (read !== undefined) store.set(Buffer.from('k'), Buffer.from('v2'), { version: read.version });
   * ```
   */
  getWithVersion(key: Uint8Array): { value: Buffer; version: number } | undefined;
  getWithVersion(key: Uint8Array, maxLength: number): { value: Buffer; version: number } | number | undefined;
  getWithVersion(key: Uint8Array, maxLength = Number.POSITIVE_INFINITY): { value: Buffer; version: number } | number | undefined {
    const handle = this.#hit(key, 0, key.length);
    if (handle === NONE) return undefined;
    if (this.#engine.valueLength(handle) > maxLength) return this.#engine.valueLength(handle);
    const value = Buffer.allocUnsafe(this.#engine.valueLength(handle));
    this.#engine.copyValue(handle, value, 0);
    return { value, version: this.#engine.version(handle) };
  }

  /**
   * GAT (spec §3.12): a copy of the value of `key` after setting its expiry
   * to `ttlMs` from now, or removing it when `ttlMs` is 0, as RENEW does;
   * `undefined` when absent. Counts as a GET; the version stays.
   *
   * @example
   * ```ts
   * store.getAndTouch(Buffer.from('session'), 30_000); // the value, now expiring in 30 s
   * ```
   */
  getAndTouch(key: Uint8Array, ttlMs: number): Buffer | undefined;
  getAndTouch(key: Uint8Array, ttlMs: number, maxLength: number): Buffer | number | undefined;
  getAndTouch(key: Uint8Array, ttlMs: number, maxLength = Number.POSITIVE_INFINITY): Buffer | number | undefined {
    checkTtl(ttlMs);
    const handle = this.#hit(key, 0, key.length);
    if (handle === NONE) return undefined;
    if (this.#engine.valueLength(handle) > maxLength) return this.#engine.valueLength(handle); // nothing copied, the expiry kept
    this.#notify?.ofKey('gat', key, 0, key.length, handle);
    this.#setExpiry(handle, ttlMs);
    const value = Buffer.allocUnsafe(this.#engine.valueLength(handle));
    this.#engine.copyValue(handle, value, 0);
    return value;
  }

  /** A GET's lookup: counts the hit or miss and marks a hit most recently used. */
  #hit(key: Uint8Array, start: number, length: number): number {
    checkRange(key, start, length);
    const handle = this.#findLive(key, start, length, this.#hashOf(key, start, length));
    if (handle === NONE) {
      this.#counts.of(key, start, length).misses += 1;
      return NONE;
    }
    this.#counts.ofHandle(handle).hits += 1;
    this.#engine.touch(handle);
    return handle;
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
    return this.setAt(key, 0, key.length, value, 0, value.length, options);
  }

  /**
   * {@link set} of the key that is `keyLength` bytes of `keySource` from
   * `keyStart` to the value that is `valueLength` bytes of `valueSource`
   * from `valueStart`: what the server runs a SET with, from the frame's own
   * bytes (see {@link getAt}).
   *
   * @example
   * ```ts
   * store.setAt(body, 6, keyLength, body, 6 + keyLength, body.length - 6 - keyLength, { ttlMs: 0 });
   * ```
   */
  setAt(
    keySource: Uint8Array,
    keyStart: number,
    keyLength: number,
    valueSource: Uint8Array,
    valueStart: number,
    valueLength: number,
    options: SetOptions = {},
  ): WriteOutcome {
    const { ttlMs = 0, nx = false, xx = false, keepTtl = false, version = 0 } = options;
    checkTtl(ttlMs);
    checkRange(keySource, keyStart, keyLength);
    if (!(valueStart >= 0 && valueLength >= 0 && valueStart + valueLength <= valueSource.length)) {
      throw new ConduitError('BAD_REQUEST', `value of ${valueLength} bytes from ${valueStart} is not inside its ${valueSource.length}-byte source`);
    }
    // One hash and one probe of the index for the whole SET: the write
    // reuses both (an overwrite that fits its chunk is then done in place).
    const hash = this.#hashOf(keySource, keyStart, keyLength);
    const existing = this.#findLive(keySource, keyStart, keyLength, hash);
    if ((nx && existing !== NONE) || (xx && existing === NONE)) return 'not_stored';
    if (version !== 0) {
      // spec §3.11: a conditional write to a missing key is NOT_FOUND, to another version EXISTS.
      if (existing === NONE) return 'not_found';
      if (this.#engine.version(existing) !== version) return 'version_mismatch';
    }
    const expiresAt = keepTtl ? (existing === NONE ? 0 : this.#engine.expiresAt(existing)) : ttlMs > 0 ? this.#clock() + ttlMs : 0;
    const tag = this.#shardOf(keySource, keyStart, keyLength, existing);
    // The hook sees an overwrite before it happens (its old value still
    // readable) and a new key only once it is stored: a refused write of a
    // new key changed nothing. (A refused overwrite may have lost the old
    // item already, so it was told.)
    if (existing !== NONE) this.#notify?.ofKey('set', keySource, keyStart, keyLength, existing);
    const outcome = this.#write(tag, hash, keySource, keyStart, keyLength, valueSource, valueStart, valueLength, expiresAt, existing);
    if (existing === NONE && outcome === 'stored') this.#notify?.ofKey('set', keySource, keyStart, keyLength, NONE);
    return outcome;
  }

  /**
   * Stores `value` under `key` (in shard number `tag`, index hash `hash`),
   * whose live item is `existing` or {@link NONE} as {@link #findLive} just
   * found it, keeping the counters.
   */
  #write(
    tag: number,
    hash: number,
    key: Uint8Array,
    keyStart: number,
    keyLength: number,
    value: Uint8Array,
    valueStart: number,
    valueLength: number,
    expiresAt: number,
    existing: number,
  ): 'stored' | 'too_large' | 'out_of_memory' {
    const shard = this.#counts.shards[tag] as Shard;
    if (existing !== NONE && this.#engine.fits(existing, keyLength, valueLength)) {
      // In place (issue 17: an overwrite allocates nothing): the same chunk,
      // bytes and queue pair, so the shard's counts stand.
      this.#engine.replace(existing, hash, key, keyStart, keyLength, value, valueStart, valueLength, expiresAt, tag);
      shard.sets += 1;
      if (expiresAt !== 0) this.#expiry.enqueue(existing, expiresAt);
      return 'stored';
    }
    // The old item is counted out first: the engine moves it to a new chunk
    // or, with eviction on, frees it before a write that may then fail.
    if (existing !== NONE) this.#counts.uncount(shard, existing);
    const handle = this.#engine.replace(existing, hash, key, keyStart, keyLength, value, valueStart, valueLength, expiresAt, tag);
    if (handle < 0) {
      if (existing !== NONE && this.#engine.find(key, keyStart, keyLength) === existing) this.#counts.count(shard, existing);
      if (handle === TOO_LARGE) {
        shard.refusedTooLarge += 1;
        return 'too_large';
      }
      if (handle !== NO_MEMORY) throw new RangeError(`slab engine answered ${handle}`);
      shard.refusedOutOfMemory += 1;
      return 'out_of_memory';
    }
    this.#counts.count(shard, handle);
    shard.sets += 1;
    if (expiresAt !== 0) this.#expiry.enqueue(handle, expiresAt);
    return 'stored';
  }

  /**
   * Bytes of the largest item the budget can hold (header, key and value):
   * every page it can allocate, as one large object. A larger item is
   * `'too_large'`, whatever the store holds.
   *
   * @example
   * ```ts
   * new Store({ maxMemory: 16 * 1024, shards: 1 }).largestItem; // 15,360: 30 pages of 512 B
   * ```
   */
  get largestItem(): number {
    const { pageLimit } = this.#engine.stats();
    return pageLimit * this.#engine.pageSize;
  }

  /**
   * The largest value a key of `keyLength` bytes can store ({@link largestItem}
   * less the item header and the key).
   *
   * @example
   * ```ts
   * store.largestValue(16) >= 65_517; // true from a 1 MiB budget up
   * ```
   */
  largestValue(keyLength: number): number {
    return Math.max(0, this.largestItem - HEADER_SIZE - keyLength);
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
    checkKey(key);
    const handle = this.#findLive(key, 0, key.length, this.#hashOf(key, 0, key.length));
    if (handle === NONE) {
      this.#counts.of(key).deleteMisses += 1;
      return false;
    }
    this.#notify?.ofKey('delete', key, 0, key.length, handle);
    const shard = this.#counts.ofHandle(handle);
    this.#drop(shard, handle);
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
    checkKey(key);
    const handle = this.#findLive(key, 0, key.length, this.#hashOf(key, 0, key.length));
    if (handle === NONE) return false;
    this.#notify?.ofKey('renew', key, 0, key.length, handle);
    this.#setExpiry(handle, ttlMs);
    return true;
  }

  /** RENEW's and GAT's change of expiry: `ttlMs` from now, 0 = none. */
  #setExpiry(handle: number, ttlMs: number): void {
    const expiresAt = ttlMs === 0 ? 0 : this.#clock() + ttlMs;
    this.#engine.setExpiresAt(handle, expiresAt);
    // The usual renew moves the expiry later: the item keeps its pair, and
    // the sweep re-queues it when that pair comes due (issue 15 item 6: a
    // refresh costs what a GET costs).
    if (expiresAt !== 0) this.#expiry.enqueue(handle, expiresAt);
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
    checkKey(key);
    const handle = this.#findLive(key, 0, key.length, this.#hashOf(key, 0, key.length));
    if (handle === NONE) return undefined;
    const expiresAt = this.#engine.expiresAt(handle);
    if (expiresAt === 0) return -1;
    return Math.max(0, Math.ceil(expiresAt - this.#clock()));
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
    checkKey(key);
    const hash = this.#hashOf(key, 0, key.length);
    const existing = this.#findLive(key, 0, key.length, hash);
    let current = 0n;
    if (existing !== NONE) {
      // A view of the chunk, read before the write below can reuse it.
      const stored = counterValue(this.#engine.valueView(existing));
      if (stored === undefined) return 'not_integer';
      current = stored;
    }
    const next = current + delta;
    if (next < I64_MIN || next > I64_MAX) return 'overflow';
    const expiresAt = existing !== NONE ? this.#engine.expiresAt(existing) : ttlMs > 0 ? this.#clock() + ttlMs : 0;
    const digits = Buffer.from(next.toString(), 'latin1');
    const tag = this.#shardOf(key, 0, key.length, existing);
    if (existing !== NONE) this.#notify?.ofKey('incr', key, 0, key.length, existing); // as SET's (setAt)
    const outcome = this.#write(tag, hash, key, 0, key.length, digits, 0, digits.length, expiresAt, existing);
    if (existing === NONE && outcome === 'stored') this.#notify?.ofKey('incr', key, 0, key.length, NONE);
    return outcome === 'stored' ? next : outcome;
  }

  /** Items one {@link list} examines at most (spec §3.5: the server may stop early; see {@link LIST_SCAN_LIMIT}). */
  static readonly LIST_SCAN_LIMIT = LIST_SCAN_LIMIT;

  /**
   * Up to `limit` live keys starting with `prefix`, in no particular order,
   * stopping early when their encoding (`1 + length` bytes each) would pass
   * `maxBytes` or after examining {@link Store.LIST_SCAN_LIMIT} items;
   * `truncated` tells that more may match (spec §3.5). With `filter`, only the keys
   * it passes (issue 25: the caller's prefixes).
   *
   * @example
   * ```ts
   * const { keys, truncated } = store.list(Buffer.from('user:'), 100);
   * ```
   */
  list(prefix: Uint8Array, limit: number, maxBytes = Infinity, filter?: KeyFilter): { keys: Buffer[]; truncated: boolean } {
    return listKeys(this.#engine, prefix, limit, maxBytes, this.#clock(), filter);
  }

  /**
   * One SCAN call (spec §3.10), answered as its response body (`cursor u64`,
   * then `key_len u8, key` per key, written straight into it: nothing
   * allocated per key): live keys starting with `prefix` from the index
   * slice after `cursor` (0n starts), about `count` entries examined, their
   * encoding within `maxBytes`; the cursor is 0n when the iteration is
   * complete. A key present for the whole iteration is returned at least once.
   * With `filter`, only the keys it passes (issue 25: the caller's prefixes).
   *
   * @example
   * ```ts
   * let cursor = 0n;
   * do cursor = store.scan(cursor, 1000, Buffer.from('user:'), 65_500).readBigUInt64BE(0); while (cursor !== 0n);
   * ```
   */
  scan(cursor: bigint, count: number, prefix: Uint8Array, maxBytes: number, filter?: KeyFilter): Buffer {
    return scanBody(this.#engine, cursor, count, prefix, maxBytes, this.#clock(), undefined, filter);
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
    // O(pages), not O(keys): the engine frees its pages in one pass without
    // looking at the items (issue 15 item 5: FLUSH of 1M keys once took
    // 274 ms of one turn). The counters stay (spec §3.7), but the items and
    // their bytes are gone.
    this.#notify?.flush();
    this.#engine.clear();
    this.#expiry.clear();
    this.#counts.clearItems();
  }

  /**
   * The last version the store gave (0 before its first write): a snapshot's version mark
   * (docs/SNAPSHOT.md §Header), read when a save ends.
   *
   * @example
   * ```ts
   * const mark = store.lastVersion; // every item's version is at most this
   * ```
   */
  get lastVersion(): number {
    return this.#engine.lastVersion;
  }

  /**
   * Starts a snapshot save's walk over the items (issue 22,
   * docs/SNAPSHOT.md): collect, order, then fill records, in slices the
   * caller interleaves with the traffic. Fuzzy under writes (see
   * `item-export.ts`); exact when nothing writes meanwhile.
   *
   * @example
   * ```ts
   * const items = store.beginExport();
   * while (!items.collect(65_536));
   * items.order();
   * const length = items.fill(section, 0, section.length);
   * ```
   */
  beginExport(): ItemExport {
    return new ItemExport({ engine: this.#engine, clock: this.#clock });
  }

  /**
   * Starts a snapshot load into this store, which must be empty (issue 22,
   * docs/SNAPSHOT.md "Loading"): records go in oldest first, the oldest are
   * evicted to make room whatever the eviction policy, values longer than
   * `maxValueLength` are skipped, and no change hook is told. Until
   * `finish()` or `abort()` the store is in import mode. `versionMark` (the
   * file's, docs/SNAPSHOT.md §Header): a record above it is a problem; and
   * `finish()` puts the version counter at `max(versionMark, highest loaded)
   * + versionGap`, so no version given before the restart is given again.
   *
   * @example
   * ```ts
   * const items = store.beginImport({ maxValueLength: 1024 * 1024 });
   * const problem = items.add(plaintext, 0, plaintext.length, records);
   * if (problem === undefined) items.finish(); else items.abort();
   * ```
   */
  beginImport(options: { maxValueLength: number; versionMark?: number; versionGap?: number }): ItemImport {
    const { maxValueLength, versionMark, versionGap = 0 } = options;
    if (!Number.isSafeInteger(maxValueLength) || maxValueLength < 0) {
      throw new TypeError(`maxValueLength option must be a non-negative integer of bytes, got ${String(maxValueLength)}`);
    }
    if (versionMark !== undefined && (!Number.isSafeInteger(versionMark) || versionMark < 0 || versionMark > MAX_VERSION)) {
      throw new TypeError(`versionMark option must be an integer from 0 to 2^52, got ${String(versionMark)}`);
    }
    if (!Number.isSafeInteger(versionGap) || versionGap < 0 || versionGap > MAX_VERSION_GAP) {
      throw new TypeError(`versionGap option must be an integer from 0 to 2^51, got ${String(versionGap)}`);
    }
    if (this.#importing !== undefined) throw new Error('a snapshot load is running already');
    if (this.#engine.size !== 0) throw new Error(`a snapshot loads into an empty store only (this one holds ${this.#engine.size} items)`);
    const counts: ImportCounts = { records: 0, loaded: 0, expired: 0, evicted: 0, skipped: 0 };
    this.#importing = counts;
    this.#engine.mode = 'import';
    const target = {
      engine: this.#engine,
      counts: this.#counts,
      expiry: this.#expiry,
      clock: this.#clock,
      clear: (): void => {
        this.#engine.clear();
        this.#expiry.clear();
        this.#counts.clearItems();
      },
      end: (): void => {
        this.#importing = undefined;
        this.#engine.mode = 'serve';
      },
    };
    return new ItemImport(target, maxValueLength, counts, { mark: versionMark, gap: versionGap });
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
    return statsOf(this.#counts.shards, this.#engine.stats(), this.#engine.pageSize, this.#eviction, this.#expiry.size);
  }

  /**
   * Reclaims expired items, earliest first, for at most `budgetMs` of
   * clock time; returns how many it reclaimed. First moves a running
   * re-seed's migration along for as long (`index-migration.ts`). The timer calls it every
   * 50 ms and again at once while a backlog remains, so an expired item is
   * freed within about 66 ms (interval + bucket width) plus the backlog,
   * never blocking the event loop for more than a slice.
   *
   * @example
   * ```ts
   * store.sweep(); // with activeExpiry: false and a fake clock
   * ```
   */
  sweep(budgetMs = SWEEP_SLICE_MS): number {
    // A re-seed's migration (index-migration.ts) shares the slice's turn, on its own budget.
    migrateFor(this.#engine, budgetMs);
    return this.#expiry.sweep(budgetMs);
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
}
