import { LRUCache } from 'lru-cache';
import { MAX_KEY_SIZE, MAX_TRACKING_PREFIXES } from '../protocol/constants.js';

/**
 * The near cache of a ConduitClient (issue 21): values read from the server
 * kept in the client's process, bounded by entries and bytes (`lru-cache`),
 * kept correct by the server's INVALIDATE pushes (spec §3.15) rather than by
 * expiry. This module is the map, its rules and its counters; the client
 * decides when to fill it, the transport delivers the pushes.
 *
 * Why a filled answer is never stale for long (spec §2.3, §3.15): the answer
 * to a GET executed after a change carries the new value, and the push for a
 * change executed after the GET reaches this connection after the GET's
 * answer, so storing the answer is safe — except when this client itself
 * sent a write of the key before the answer came: that write must win over
 * the later fill. Writes in flight are counted per key ({@link writeSent},
 * {@link writeSettled}) and a key with one is never filled.
 *
 * @module
 */

/** The `nearCache` option of a ConduitClient. */
export interface NearCacheOptions {
  /** The most values kept. Default 10,000. */
  maxEntries?: number;
  /** The most bytes of keys and values kept. Default 16 MiB. */
  maxBytes?: number;
  /** A local expiry for every value (0: none, the default: invalidations keep the cache correct). */
  ttlMs?: number;
  /** Broadcast mode (spec §3.15 PREFIXES): 1–16 key prefixes of 0–250 bytes instead of per-key tracking. */
  prefixes?: readonly (string | Buffer | Uint8Array)[];
}

/** {@link NearCacheOptions} with the defaults filled in and the prefixes as bytes. */
export interface ResolvedNearCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  prefixes: Buffer[] | undefined;
}

/** What {@link NearCache.stats} reports: `drops` counts whole-cache drops (disconnect, reconnect, close, ALL). */
export interface NearCacheStats {
  /** `'on'` while the connection's TRACKING was acknowledged; otherwise every get asks the server. */
  readonly state: 'off' | 'on';
  readonly hits: number;
  readonly misses: number;
  /** INVALIDATE pushes received. */
  readonly invalidations: number;
  readonly drops: number;
  readonly entries: number;
  readonly bytes: number;
}

/** Bytes an entry is charged beyond its key and value: the map's node, the Buffer's object and the string key. */
// Measured (issue 21 attack review): with 1-byte values an entry costs about 430 bytes of heap,
// Buffer and map together, so charging 64 let 16 MiB of maxBytes take ~100 MiB. 384 keeps
// maxBytes close to what small entries really take.
const ENTRY_OVERHEAD = 384;

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`nearCache.${name} option must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * The `nearCache` option validated, with its defaults; `undefined` when it
 * is not given. Throws a `TypeError` naming the option (`nearCache.maxEntries`, …).
 *
 * @example
 * ```ts
 * resolveNearCacheOptions({ maxEntries: 1000 }); // { maxEntries: 1000, maxBytes: 16777216, ttlMs: 0, prefixes: undefined }
 * ```
 */
export function resolveNearCacheOptions(option: NearCacheOptions | undefined): ResolvedNearCacheOptions | undefined {
  if (option === undefined) return undefined;
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new TypeError(`nearCache option must be an object ({ maxEntries?, maxBytes?, ttlMs?, prefixes? }), got ${String(option)}`);
  }
  const known = new Set(['maxEntries', 'maxBytes', 'ttlMs', 'prefixes']);
  const unknown = Object.keys(option).find((name) => !known.has(name));
  if (unknown !== undefined) throw new TypeError(`nearCache.${unknown} is not an option (maxEntries, maxBytes, ttlMs, prefixes)`);
  const { maxEntries = 10_000, maxBytes = 16 * 1024 * 1024, ttlMs = 0, prefixes } = option;
  const resolved: ResolvedNearCacheOptions = {
    maxEntries: integer('maxEntries', maxEntries, 1, 100_000_000),
    maxBytes: integer('maxBytes', maxBytes, 1, Number.MAX_SAFE_INTEGER),
    ttlMs: integer('ttlMs', ttlMs, 0, 2_147_483_647),
    prefixes: undefined,
  };
  if (prefixes !== undefined) {
    if (!Array.isArray(prefixes) || prefixes.length < 1 || prefixes.length > MAX_TRACKING_PREFIXES) {
      throw new TypeError(`nearCache.prefixes option must list 1 to ${MAX_TRACKING_PREFIXES} prefixes, got ${Array.isArray(prefixes) ? prefixes.length : String(prefixes)}`);
    }
    resolved.prefixes = prefixes.map((p: unknown, i) => {
      if (typeof p !== 'string' && !(p instanceof Uint8Array)) throw new TypeError(`nearCache.prefixes[${i}] must be a string or a Buffer`);
      const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
      if (bytes.length > MAX_KEY_SIZE) throw new TypeError(`nearCache.prefixes[${i}] must be at most ${MAX_KEY_SIZE} bytes, got ${bytes.length}`);
      return bytes;
    });
  }
  return resolved;
}

/**
 * Where the near cache is on the current connection: `'off'` (no
 * connection yet, or the server has no tracking), `'asking'` (TRACKING sent,
 * not acknowledged: nothing is filled), `'on'`.
 */
export type NearCacheState = 'off' | 'asking' | 'on';

/** A key as the map's key: its bytes one per char (latin1), so any bytes are one distinct string. */
const idOf = (key: Buffer): string => key.toString('latin1');

/**
 * The near cache's map, counters and fill rule.
 *
 * @example
 * ```ts
 * const near = new NearCache(resolveNearCacheOptions({})!);
 * near.tracking('on');       // TRACKING acknowledged
 * near.fill(key, value);      // after a GET answered
 * near.lookup(key);           // a fresh copy, or undefined
 * near.invalidate([key]);     // an INVALIDATE push
 * ```
 */
export class NearCache {
  readonly options: ResolvedNearCacheOptions;
  readonly #map: LRUCache<string, Buffer>;
  /** Writes this client sent and not yet settled, per key: a key with one is not filled. */
  readonly #writes = new Map<string, number>();
  /**
   * GETs in flight per key, which a get of the same key joins instead of
   * sending its own (a hot key just invalidated would otherwise be asked
   * for by every caller at once). A push or a write of the key, or a drop,
   * takes the key out: a get that starts after that asks anew, so it never
   * joins an answer that may predate the change it was told about.
   */
  readonly #reads = new Map<string, Promise<Buffer | undefined>>();
  #state: NearCacheState = 'off';
  #hits = 0;
  #misses = 0;
  #invalidations = 0;
  #drops = 0;

  constructor(options: ResolvedNearCacheOptions) {
    this.options = options;
    this.#map = new LRUCache<string, Buffer>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (value, key) => value.length + key.length + ENTRY_OVERHEAD,
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs } : {}),
    });
  }

  /** See {@link NearCacheState}. */
  get state(): NearCacheState {
    return this.#state;
  }

  /** The current connection's tracking: asked for (TRACKING sent), acknowledged, or refused by the server. */
  tracking(state: NearCacheState): void {
    this.#state = state;
  }

  /** The connection is gone (or the client closed): invalidations may have been lost, so everything goes. */
  lost(): void {
    this.#state = 'off';
    this.dropAll();
  }

  /** A fresh copy of the value of `key`, or `undefined` (counted as a miss) when it is not held. */
  lookup(key: Buffer): Buffer | undefined {
    const value = this.#state === 'on' ? this.#map.get(idOf(key)) : undefined;
    if (value === undefined) {
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    return Buffer.from(value);
  }

  /**
   * Keeps `value` (copied) as the value of `key`, answered by the server
   * just now — unless tracking is not acknowledged on this connection or a
   * write of the key from this client is in flight (see the module comment).
   * Too large for `maxBytes`: not kept.
   */
  fill(key: Buffer, value: Uint8Array): void {
    if (this.#state !== 'on' || !this.#pushed(key)) return;
    const id = idOf(key);
    if (this.#writes.has(id)) return;
    if (value.length + id.length + ENTRY_OVERHEAD > this.options.maxBytes) return;
    this.#map.set(id, Buffer.from(value));
  }

  /**
   * This client's SET of `key` to `value` was stored (answered OK, or a
   * quiet one fenced): keep `value` when that write is the only one of the
   * key in flight. Safe because the server tracks a KEYS connection for a
   * key it stored (spec §3.15) after the push for that change, which this
   * client read before the answer; in PREFIXES mode every change under a
   * prefix is pushed anyway. Called before {@link writeSettled}.
   */
  written(key: Buffer, value: Buffer): void {
    if (this.#state !== 'on' || !this.#pushed(key)) return;
    const id = idOf(key);
    if (this.#writes.get(id) !== 1) return;
    if (value.length + id.length + ENTRY_OVERHEAD > this.options.maxBytes) return;
    this.#map.set(id, value);
  }

  /**
   * Whether the server pushes changes of `key` to this connection: always
   * in KEYS mode; in PREFIXES mode only under one of the prefixes (spec
   * §3.15) — a key outside them would never be invalidated, so it is never kept.
   */
  #pushed(key: Buffer): boolean {
    const { prefixes } = this.options;
    if (prefixes === undefined) return true;
    for (const prefix of prefixes) {
      if (prefix.length <= key.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) return true;
    }
    return false;
  }

  /** The GET of `key` in flight that a new get may join, or `undefined` (see {@link #reads}). */
  reading(key: Buffer): Promise<Buffer | undefined> | undefined {
    return this.#state === 'on' ? this.#reads.get(idOf(key)) : undefined;
  }

  /** `read` is the GET of `key` just sent: later gets join it until it settles or the key changes. */
  read(key: Buffer, read: Promise<Buffer | undefined>): void {
    if (this.#state !== 'on') return;
    const id = idOf(key);
    this.#reads.set(id, read);
    const settled = (): void => {
      if (this.#reads.get(id) === read) this.#reads.delete(id);
    };
    read.then(settled, settled);
  }

  /** This client sends a write of `key`: its entry goes now, and no fill happens until {@link writeSettled}. */
  writeSent(key: Buffer): void {
    const id = idOf(key);
    this.#map.delete(id);
    this.#reads.delete(id);
    this.#writes.set(id, (this.#writes.get(id) ?? 0) + 1);
  }

  /** The write of `key` settled (answered, failed or timed out). */
  writeSettled(key: Buffer): void {
    const id = idOf(key);
    const n = this.#writes.get(id) ?? 0;
    if (n <= 1) this.#writes.delete(id);
    else this.#writes.set(id, n - 1);
  }

  /** An INVALIDATE push (spec §3.15): these keys changed, or every key did. */
  invalidate(keys: readonly Buffer[] | 'all'): void {
    this.#invalidations += 1;
    if (keys === 'all') return this.dropAll();
    for (const key of keys) {
      const id = idOf(key);
      this.#map.delete(id);
      this.#reads.delete(id);
    }
  }

  /** Forgets every value: the connection is gone, new, closed, or the server said ALL. */
  dropAll(): void {
    this.#map.clear();
    this.#reads.clear();
    this.#drops += 1;
  }

  /** The counters and the map's size now. */
  stats(): NearCacheStats {
    return {
      state: this.#state === 'on' ? 'on' : 'off',
      hits: this.#hits,
      misses: this.#misses,
      invalidations: this.#invalidations,
      drops: this.#drops,
      entries: this.#map.size,
      bytes: this.#map.calculatedSize,
    };
  }
}
