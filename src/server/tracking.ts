/**
 * Server-side tracking (spec §3.15, protocol 1.3): the table of which
 * connection holds the value of which key, and who is told when a key
 * changes. One job: the table. The connection turns what it is told into
 * INVALIDATE pushes (connection.ts); the store's change hook tells the table
 * (server.ts).
 *
 * @example
 * ```ts
 * const table = new TrackingTable(1_000_000);
 * const id = table.register(sink, TrackingMode.KEYS, []);
 * table.track(id, body, 0, body.length); // after a GET answered a value
 * table.changed(key); // sink.invalidate('k') — and the pair is forgotten
 * ```
 * @module
 */
import { TrackingMode, type TrackingModeValue } from '../protocol/constants.js';

/**
 * Where a registered connection is told about changes. `invalidate` gets
 * one key (a latin1 string: the table's own spelling) and is called while
 * the change happens, so the push takes that place in the connection's answer
 * order (spec §2.3, §3.15); `invalidateAll` for a FLUSH.
 *
 * @example
 * ```ts
 * const sink: InvalidationSink = { invalidate: (key) => keys.push(key), invalidateAll: () => (all = true) };
 * ```
 */
export interface InvalidationSink {
  invalidate(key: string): void;
  invalidateAll(): void;
}

/** STATS `tracking` (spec §5.2). */
export interface TrackingStats {
  /** Keys in the table. */
  keys: number;
  /** (key, connection) pairs in the table: what `--tracking-max-keys` bounds (a key held by N connections counts N). */
  pairs: number;
  /** Connections in KEYS mode. */
  clients: number;
  /** Connections in PREFIXES mode. */
  prefix_clients: number;
  /** Keys pushed, one per (key, connection). */
  invalidations: number;
  /** INVALIDATE frames sent (counted by the connections, see {@link TrackingTable.countPush}). */
  pushes: number;
  /** Keys invalidated because the table was full (--tracking-max-keys). */
  overflow: number;
}

/** A registration: the sink and its mode (a KEYS one holds no prefixes). */
interface Client {
  readonly sink: InvalidationSink;
  readonly mode: TrackingModeValue;
  /** PREFIXES: the distinct prefixes as latin1 strings (the keys of the prefix index). */
  readonly prefixes: readonly string[];
}

/**
 * The PREFIXES registrations indexed by prefix, so a change costs one
 * lookup per distinct prefix length in use, not connections × prefixes
 * (4,000 idle connections with 16 prefixes each cost 2.1 ms of CPU a write
 * with a scan). A prefix (a latin1 string) maps to the ids registered with
 * it; `#lengths` counts how many (prefix, id) entries have each length.
 */
class PrefixIndex {
  readonly #ids = new Map<string, Set<number>>();
  readonly #lengths = new Map<number, number>();
  /** Distinct lengths, ascending; rebuilt when `#lengths` gains or loses one. */
  #sorted: number[] = [];

  add(id: number, prefixes: readonly string[]): void {
    for (const prefix of prefixes) {
      let ids = this.#ids.get(prefix);
      if (ids === undefined) this.#ids.set(prefix, (ids = new Set()));
      ids.add(id);
      const count = this.#lengths.get(prefix.length) ?? 0;
      this.#lengths.set(prefix.length, count + 1);
      if (count === 0) this.#resort();
    }
  }

  remove(id: number, prefixes: readonly string[]): void {
    for (const prefix of prefixes) {
      const ids = this.#ids.get(prefix);
      if (ids === undefined || !ids.delete(id)) continue;
      if (ids.size === 0) this.#ids.delete(prefix);
      const count = this.#lengths.get(prefix.length)! - 1;
      if (count === 0) {
        this.#lengths.delete(prefix.length);
        this.#resort();
      } else {
        this.#lengths.set(prefix.length, count);
      }
    }
  }

  /**
   * Calls `tell` once for each id with a prefix `key` starts with: several
   * matching prefixes of one connection still make one push (spec §3.15).
   */
  matching(key: string, tell: (id: number) => void): void {
    let first: Set<number> | undefined;
    let seen: Set<number> | undefined;
    for (const length of this.#sorted) {
      if (length > key.length) break;
      const ids = this.#ids.get(length === key.length ? key : key.slice(0, length));
      if (ids === undefined) continue;
      if (first === undefined) {
        first = ids;
        for (const id of ids) tell(id);
        continue;
      }
      for (const id of ids) {
        if (first.has(id) || seen?.has(id) === true) continue;
        (seen ??= new Set()).add(id);
        tell(id);
      }
    }
  }

  #resort(): void {
    this.#sorted = [...this.#lengths.keys()].sort((x, y) => x - y);
  }
}

/**
 * The key that is `length` bytes of `source` from `start` as a latin1
 * string (one char per byte, exact for every byte). A `Buffer` (the frame,
 * the store's key view) is read in place; a view over it cost three times
 * as much (0.95 µs against 0.29 µs a key on a loaded 2-core machine).
 */
function latin1(source: Uint8Array, start: number, length: number): string {
  return Buffer.isBuffer(source) ? source.toString('latin1', start, start + length) : Buffer.from(source.buffer, source.byteOffset + start, length).toString('latin1');
}

/** spec §3.15: `--tracking-max-keys`' default. */
export const DEFAULT_TRACKING_MAX_KEYS = 1_000_000;

/** spec §3.15: `--tracking-max-keys`' range. */
export const TRACKING_MAX_KEYS_RANGE = { min: 1, max: 100_000_000 } as const;

/**
 * The tracking table. A key (a latin1 string, one byte per char: the
 * cheapest string V8 keeps) maps to its holder's registration id (a small
 * integer, no allocation) or, held by several, an array of them. The
 * `Map`'s insertion order is the age order the bound evicts by: a key is
 * inserted when first tracked and deleted when pushed, so the oldest key is
 * the first one, read with one iterator kept across calls (a fresh
 * `keys().next()` would walk the holes deletions left at the front).
 *
 * A registration id is never reused: turning tracking off (or to another
 * mode) or closing drops the registration only, and pairs naming it are
 * skipped when their key changes or ages out — lazily, so leaving costs
 * nothing per key, and the bound still holds since every pair is in the table.
 * PREFIXES registrations hold no per-key memory at all.
 *
 * @example
 * ```ts
 * const table = new TrackingTable(1000);
 * table.stats().keys; // 0
 * ```
 */
export class TrackingTable {
  readonly #maxKeys: number;
  readonly #keys = new Map<string, number | number[]>();
  #oldest: Iterator<string> | undefined;
  readonly #clients = new Map<number, Client>();
  /** PREFIXES registrations, kept apart so a change looks at them only. */
  readonly #broadcast = new Map<number, Client>();
  readonly #prefixIndex = new PrefixIndex();
  /** (key, id) pairs in `#keys`, gone registrations' included: what the bound counts. */
  #pairs = 0;
  #nextId = 1;
  #keyClients = 0;
  #invalidations = 0;
  #pushes = 0;
  #overflow = 0;

  constructor(maxKeys: number = DEFAULT_TRACKING_MAX_KEYS) {
    if (!Number.isSafeInteger(maxKeys) || maxKeys < TRACKING_MAX_KEYS_RANGE.min || maxKeys > TRACKING_MAX_KEYS_RANGE.max) {
      throw new TypeError(`trackingMaxKeys option must be an integer from 1 to 100,000,000, got ${maxKeys}`);
    }
    this.#maxKeys = maxKeys;
  }

  /** Keys in the table now. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Registers `sink` in `mode` with `prefixes` (PREFIXES only) and returns
   * its id, or 0 for OFF. A connection that changes mode unregisters its old
   * id first ({@link unregister}).
   */
  register(sink: InvalidationSink, mode: TrackingModeValue, prefixes: readonly Uint8Array[]): number {
    if (mode === TrackingMode.OFF) return 0;
    const id = this.#nextId++;
    const texts = [...new Set(prefixes.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length).toString('latin1')))];
    const client: Client = { sink, mode, prefixes: texts };
    this.#clients.set(id, client);
    if (mode === TrackingMode.PREFIXES) {
      this.#broadcast.set(id, client);
      this.#prefixIndex.add(id, texts);
    } else {
      this.#keyClients += 1;
    }
    return id;
  }

  /** Forgets registration `id` (0: none): its pairs are skipped from now on (see the class). */
  unregister(id: number): void {
    const client = this.#clients.get(id);
    if (client === undefined) return;
    this.#clients.delete(id);
    if (client.mode === TrackingMode.PREFIXES) {
      this.#broadcast.delete(id);
      this.#prefixIndex.remove(id, client.prefixes);
    } else {
      this.#keyClients -= 1;
    }
    if (this.#keyClients === 0 && this.#keys.size > 0) {
      // Every pair left names a registration that is gone: the table is dropped at once, not lazily.
      this.#keys.clear();
      this.#pairs = 0;
      this.#oldest = undefined;
    }
  }

  /**
   * Registration `id` (KEYS) holds the value of the key that is `length`
   * bytes of `source` from `start`: it is told when the key changes. A new
   * pair past the bound first invalidates the oldest keys (pushed to all
   * their holders) until it fits: the bound counts (key, connection) pairs,
   * so 100 connections reading the same keys cannot hold 100 × the bound
   * (spec §3.15: memory bounded by the setting, never by reads).
   */
  track(id: number, source: Uint8Array, start: number, length: number): void {
    const key = latin1(source, start, length);
    const keys = this.#keys;
    let held = keys.get(key);
    if (held === id || (typeof held === 'object' && held.includes(id))) return; // already a pair
    if (this.#pairs >= this.#maxKeys) {
      while (this.#pairs >= this.#maxKeys && keys.size > 0) this.#evictOldest();
      held = keys.get(key); // the eviction may have taken this very key
    }
    this.#pairs += 1;
    if (held === undefined) keys.set(key, id);
    else if (typeof held === 'number') keys.set(key, [held, id]);
    else held.push(id);
  }

  /**
   * `key` changed (the store's hook): its holders and the PREFIXES
   * registrations it matches are told, and its pairs forgotten. With no
   * connection tracking, nothing is done (no key string made): what a server
   * whose clients never send TRACKING pays per write is this check. Pairs
   * left by connections that have gone stay until their key changes or ages
   * out: they are in the bound.
   */
  changed(key: Uint8Array): void {
    if (this.#clients.size === 0) return;
    const text = latin1(key, 0, key.length);
    this.#invalidate(text);
    if (this.#broadcast.size === 0) return;
    this.#prefixIndex.matching(text, (id) => {
      this.#invalidations += 1;
      this.#broadcast.get(id)!.sink.invalidate(text);
    });
  }

  /** FLUSH: every registration is told "all", and the table is emptied. */
  all(): void {
    this.#keys.clear();
    this.#pairs = 0;
    this.#oldest = undefined;
    for (const client of this.#clients.values()) client.sink.invalidateAll();
  }

  /** A connection sent `frames` INVALIDATE frames (STATS `pushes`). */
  countPush(frames: number): void {
    this.#pushes += frames;
  }

  /** STATS `tracking` (spec §5.2). */
  stats(): TrackingStats {
    return {
      keys: this.#keys.size,
      pairs: this.#pairs,
      clients: this.#keyClients,
      prefix_clients: this.#broadcast.size,
      invalidations: this.#invalidations,
      pushes: this.#pushes,
      overflow: this.#overflow,
    };
  }

  /** Tells the holders of `key` (those still registered) and forgets it. */
  #invalidate(key: string): void {
    const held = this.#keys.get(key);
    if (held === undefined) return;
    this.#keys.delete(key);
    this.#pairs -= typeof held === 'number' ? 1 : held.length;
    if (typeof held === 'number') this.#tell(held, key);
    else for (const id of held) this.#tell(id, key);
  }

  #tell(id: number, key: string): void {
    const client = this.#clients.get(id);
    if (client === undefined || client.mode !== TrackingMode.KEYS) return; // gone or moved on: lazily forgotten
    this.#invalidations += 1;
    client.sink.invalidate(key);
  }

  /** The table is full: the oldest key is invalidated (pushed to all its holders) and forgotten (spec §3.15). */
  #evictOldest(): void {
    let next = this.#oldest?.next();
    if (next === undefined || next.done === true) {
      this.#oldest = this.#keys.keys();
      next = this.#oldest.next();
    }
    if (next.done === true) return;
    this.#overflow += 1;
    this.#invalidate(next.value);
  }
}
