/**
 * The lease table (spec §3.16, protocol 1.3): who may fill an absent key,
 * after Facebook's memcache leases (Nishtala et al., NSDI '13, §3.2.1).
 * A LEASE that misses is GRANTED a token when no live lease is out for the
 * key, else told to WAIT (or given the key's previous value, STALE); a SET
 * with the token stores only while the token is the key's live lease; any
 * other change of the key revokes it, so a set computed from data older than
 * that change loses (a "stale set"). Separate from the store, which knows
 * nothing of leases: the store's change hook ({@link LeaseTable.changed})
 * tells it what changed. In `server/` because tokens and WAIT are protocol
 * answers the store never speaks; the executor (execute.ts) asks the store
 * first, so a key reaches {@link LeaseTable.acquire} only when it is absent.
 *
 * Memory is bounded three ways, each a named constant below: outstanding
 * leases ({@link MAX_LEASES}: past it LEASE answers BUSY; one connection
 * holds at most {@link MAX_LEASES_PER_OWNER} of them, its leases end when it
 * closes, and none lasts over {@link MAX_LEASE_MS}, so one client cannot hold
 * every cold key for 49.7 days: issue 21's attack review), the keys last
 * stored by a lease set ({@link MAX_LEASE_FILLED_KEYS}: the oldest is
 * forgotten), and the stale values kept ({@link MAX_STALE_VALUES} and a byte
 * cap of --max-memory / {@link STALE_BYTES_DIVISOR}: the oldest is dropped).
 *
 * @example
 * ```ts
 * const leases = new LeaseTable({ maxMemory: 64 * 1024 * 1024 });
 * const outcome = leases.acquire(key, 10_000, false); // { state: 'granted', token: 0x…n }
 * if (leases.fulfil(key, outcome.token)) store.set(key, value);
 * ```
 * @module
 */
import { randomFillSync } from 'node:crypto';
import type { ChangeCause } from '../store/change.js';

export type { ChangeCause } from '../store/change.js';

/** spec §3.16: at most this many leases outstanding; a LEASE that would grant one more answers BUSY. */
export const MAX_LEASES = 16_384;
/** spec §3.16: one connection (owner) holds at most this many outstanding leases; past it its LEASE answers BUSY, others' are unaffected. */
export const MAX_LEASES_PER_OWNER = 1_024;
/** spec §3.16: a lease lasts at most this long; a longer `lease_ms` is granted for this (a server may shorten a lease). */
export const MAX_LEASE_MS = 300_000;
/** No owner (the HTTP gateway, tests): its leases are not counted per owner nor ended by a close. */
export const NO_OWNER = 0;
/** spec §3.16: at most this many keys are remembered as last stored by a lease set (the oldest is forgotten). */
export const MAX_LEASE_FILLED_KEYS = 16_384;
/** spec §3.16: at most this many stale values are kept (the oldest is dropped). */
export const MAX_STALE_VALUES = 4_096;
/** spec §3.16: stale values kept take at most --max-memory / this many bytes (the oldest is dropped). */
export const STALE_BYTES_DIVISOR = 16;
/** spec §3.16: a stale value is kept this long after the change that removed its key. */
export const STALE_WINDOW_MS = 10_000;

/** Tokens drawn per refill of the random pool (8 bytes each): one syscall per 256 grants. */
const TOKEN_POOL = 256;

/** What {@link LeaseTable.acquire} decided for a LEASE on an absent key (spec §3.16). */
export type LeaseOutcome =
  | { readonly state: 'granted'; readonly token: bigint }
  | { readonly state: 'wait' }
  | { readonly state: 'stale'; readonly value: Buffer }
  /** {@link MAX_LEASES} are out, or {@link MAX_LEASES_PER_OWNER} of the caller's: answered BUSY, nothing granted. */
  | { readonly state: 'busy' };

/** STATS `leases` (spec §5.2, §3.16). */
export interface LeaseStats {
  /** Live leases now. */
  outstanding: number;
  granted: number;
  /** WAIT answers. */
  waits: number;
  /** STALE answers. */
  stale_served: number;
  /** Lease sets that ended their lease (and were stored unless the store refused them). */
  fulfilled: number;
  /** Lease sets answered NOT_STORED: a stale set (the lease lapsed, was taken over or revoked). */
  refused: number;
  /** Leases that lapsed (lease_ms passed) before their set. */
  expired: number;
  /** Leases ended by another change of their key, or by their holder's connection closing. */
  revoked: number;
  /** LEASEs answered BUSY over {@link MAX_LEASES} or {@link MAX_LEASES_PER_OWNER}. */
  busy: number;
  /** Stale values kept now, and their bytes. */
  stale_values: number;
  stale_bytes: number;
}

/** Options of a {@link LeaseTable}; all but `maxMemory` are for tests. */
export interface LeaseTableOptions {
  /** The store's --max-memory: stale values take at most 1/{@link STALE_BYTES_DIVISOR} of it. */
  maxMemory: number;
  /** Monotonic milliseconds. Default `performance.now`. */
  clock?: () => number;
  maxLeases?: number;
  maxLeasesPerOwner?: number;
  maxLeaseMs?: number;
  maxLeaseFilledKeys?: number;
  maxStaleValues?: number;
  staleWindowMs?: number;
  /** Fills a buffer with random bytes, 8 per token. Default `crypto.randomFillSync`. */
  random?: (buffer: Buffer) => void;
}

interface Lease {
  readonly token: bigint;
  readonly expiresAt: number;
  /** The connection that holds it ({@link NO_OWNER}: none). */
  readonly owner: number;
}

interface StaleValue {
  readonly value: Buffer;
  readonly until: number;
}

/**
 * The leases of one server's store, keyed by the key's bytes as a latin1
 * string (one character per byte, so distinct keys stay distinct).
 *
 * @example
 * ```ts
 * const leases = new LeaseTable({ maxMemory: 1 << 26, clock: () => now });
 * leases.acquire(Buffer.from('k'), 300, false).state; // 'granted'
 * leases.acquire(Buffer.from('k'), 300, false).state; // 'wait'
 * ```
 */
export class LeaseTable {
  readonly #clock: () => number;
  readonly #maxLeases: number;
  readonly #maxPerOwner: number;
  readonly #maxLeaseMs: number;
  readonly #maxFilled: number;
  readonly #maxStale: number;
  readonly #maxStaleBytes: number;
  readonly #staleWindowMs: number;
  /** Outstanding leases, in grant order; a lapsed one stays until found (lazily, or by a sweep at the cap). */
  readonly #leases = new Map<string, Lease>();
  /** The keys of each owner's outstanding leases: its share of the bound, and what its close ends. */
  readonly #owned = new Map<number, Set<string>>();
  /** Keys whose current value a lease set stored, oldest first: only these keep a stale value (spec §3.16). */
  readonly #filled = new Set<string>();
  /** Stale values, oldest first: with one window, insertion order is expiry order. */
  readonly #stale = new Map<string, StaleValue>();
  #staleBytes = 0;
  readonly #random: (buffer: Buffer) => void;
  /** Random bytes for the next tokens (spec §3.16: a token is not guessable from another), 8 each from #poolAt. */
  readonly #pool = Buffer.allocUnsafe(8 * TOKEN_POOL);
  #poolAt = this.#pool.length;
  /** No lapsed lease can be found before this time: a sweep at the cap is not repeated sooner. */
  #sweepAfter = 0;
  readonly #counts = { granted: 0, waits: 0, stale_served: 0, fulfilled: 0, refused: 0, expired: 0, revoked: 0, busy: 0 };

  constructor(options: LeaseTableOptions) {
    const { maxMemory, clock = () => performance.now(), random = randomFillSync } = options;
    const { maxLeasesPerOwner = MAX_LEASES_PER_OWNER, maxLeaseMs = MAX_LEASE_MS } = options;
    const { maxLeases = MAX_LEASES, maxLeaseFilledKeys = MAX_LEASE_FILLED_KEYS, maxStaleValues = MAX_STALE_VALUES } = options;
    const { staleWindowMs = STALE_WINDOW_MS } = options;
    if (!Number.isSafeInteger(maxMemory) || maxMemory < 1) throw new TypeError(`maxMemory option must be a positive integer, got ${maxMemory}`);
    for (const [name, value] of [
      ['maxLeases', maxLeases],
      ['maxLeasesPerOwner', maxLeasesPerOwner],
      ['maxLeaseMs', maxLeaseMs],
      ['maxLeaseFilledKeys', maxLeaseFilledKeys],
      ['maxStaleValues', maxStaleValues],
      ['staleWindowMs', staleWindowMs],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} option must be a positive integer, got ${value}`);
    }
    this.#clock = clock;
    this.#maxLeases = maxLeases;
    this.#maxPerOwner = maxLeasesPerOwner;
    this.#maxLeaseMs = maxLeaseMs;
    this.#random = random;
    this.#maxFilled = maxLeaseFilledKeys;
    this.#maxStale = maxStaleValues;
    this.#maxStaleBytes = Math.floor(maxMemory / STALE_BYTES_DIVISOR);
    this.#staleWindowMs = staleWindowMs;
  }

  /**
   * A LEASE found `key` absent (spec §3.16): GRANTED a new token for `leaseMs`
   * when no live lease is out (a lapsed one is taken over), else WAIT, or
   * STALE with the key's previous value when `staleOk` and one is kept.
   * `owner` is the asking connection: it holds at most
   * {@link MAX_LEASES_PER_OWNER} leases, and {@link release} ends them.
   * `leaseMs` over {@link MAX_LEASE_MS} is granted for that.
   *
   * @example
   * ```ts
   * const outcome = leases.acquire(key, 10_000, true, connectionId);
   * ```
   */
  acquire(key: Buffer, requestedMs: number, staleOk: boolean, owner: number = NO_OWNER): LeaseOutcome {
    const id = key.toString('latin1');
    const now = this.#clock();
    const leaseMs = Math.min(requestedMs, this.#maxLeaseMs);
    const lease = this.#leases.get(id);
    if (lease !== undefined && lease.expiresAt > now) {
      const stale = staleOk ? this.#staleOf(id, now) : undefined;
      if (stale !== undefined) {
        this.#counts.stale_served += 1;
        return { state: 'stale', value: stale };
      }
      this.#counts.waits += 1;
      return { state: 'wait' };
    }
    if (lease !== undefined) {
      // Lapsed: the holder is presumed gone (spec §3.16 takeover); its token's set will be NOT_STORED.
      this.#end(id, lease);
      this.#counts.expired += 1;
    }
    if (this.#leases.size >= this.#maxLeases || (owner !== NO_OWNER && (this.#owned.get(owner)?.size ?? 0) >= this.#maxPerOwner)) {
      this.#sweep(now);
      if (this.#leases.size >= this.#maxLeases || (owner !== NO_OWNER && (this.#owned.get(owner)?.size ?? 0) >= this.#maxPerOwner)) {
        this.#counts.busy += 1;
        return { state: 'busy' };
      }
    }
    const token = this.#token();
    this.#leases.set(id, { token, expiresAt: now + leaseMs, owner });
    if (owner !== NO_OWNER) {
      let keys = this.#owned.get(owner);
      if (keys === undefined) this.#owned.set(owner, (keys = new Set()));
      keys.add(id);
    }
    // A shorter lease than the earliest one the last sweep saw: the next sweep may not wait past it.
    if (now + leaseMs < this.#sweepAfter) this.#sweepAfter = now + leaseMs;
    this.#counts.granted += 1;
    return { state: 'granted', token };
  }

  /**
   * A SET carries lease `token` for `key`: true when it is the key's live
   * lease, which ends here (the caller then stores the value and calls
   * {@link filled}); false (NOT_STORED) when the lease lapsed, was taken over
   * or revoked, or never was.
   *
   * @example
   * ```ts
   * if (!leases.fulfil(key, token)) return NOT_STORED;
   * ```
   */
  fulfil(key: Buffer, token: bigint): boolean {
    const id = key.toString('latin1');
    const lease = this.#leases.get(id);
    if (lease === undefined || lease.token !== token) {
      this.#counts.refused += 1;
      return false;
    }
    this.#end(id, lease);
    if (lease.expiresAt <= this.#clock()) {
      // Lapsed but not yet taken over: still a stale set (another caller may be computing already).
      this.#counts.expired += 1;
      this.#counts.refused += 1;
      return false;
    }
    this.#counts.fulfilled += 1;
    return true;
  }

  /**
   * A lease set stored `key`: its value is now one a lease filled, so when
   * the key is later deleted or expires its value is kept as a stale value.
   *
   * @example
   * ```ts
   * if (store.set(key, value) === 'stored') leases.filled(key);
   * ```
   */
  filled(key: Buffer): void {
    const id = key.toString('latin1');
    this.#filled.delete(id); // re-inserted as the newest
    this.#filled.add(id);
    if (this.#filled.size > this.#maxFilled) this.#filled.delete(this.#filled.values().next().value as string);
  }

  /**
   * The store's change hook: `key` changed by `cause` (`undefined` with
   * `flush`: every key), `previousValue` its value before the change.
   * Revokes the key's lease (spec §3.16: any change but its own lease set);
   * a `delete` or `expired` of a key a lease set filled keeps its previous
   * value for {@link STALE_WINDOW_MS}; a `set` or `incr` makes the key live
   * again (no stale value, not lease-filled); `flush` forgets everything.
   *
   * @example
   * ```ts
   * const store = new Store({ onChange: (c) => leases.changed(c.cause, c.key, () => c.previousValue()) });
   * ```
   */
  changed(cause: ChangeCause, key: Buffer | undefined, previousValue: () => Buffer | undefined): void {
    if (cause === 'flush' || key === undefined) {
      this.#counts.revoked += this.#leases.size;
      this.#leases.clear();
      this.#owned.clear();
      this.#filled.clear();
      this.#stale.clear();
      this.#staleBytes = 0;
      return;
    }
    const id = key.toString('latin1');
    this.#revoke(id);
    switch (cause) {
      case 'delete':
      case 'expired':
        if (this.#filled.delete(id)) {
          const value = previousValue();
          if (value !== undefined) this.#keepStale(id, value);
        }
        return;
      case 'set':
      case 'incr':
      case 'evicted':
        // A new value (or none, for eviction: memory is short, so nothing is kept beside the budget).
        this.#filled.delete(id);
        this.#dropStale(id);
        return;
      case 'renew':
      case 'gat':
        return; // the value stands: only its expiry moved
    }
  }

  /**
   * A DELETE of `key` ran, whether or not it removed anything: it revokes the
   * key's lease (spec §3.16). The store's hook reports only removals, and a key
   * with a lease out is absent, so a DELETE meant to invalidate what a holder is
   * computing (the database changed) would otherwise never reach it.
   *
   * @example
   * ```ts
   * const removed = store.delete(key);
   * leases.deleted(key);
   * ```
   */
  deleted(key: Buffer): void {
    this.#revoke(key.toString('latin1'));
  }

  /**
   * `owner`'s connection closed: its outstanding leases end now (counted
   * revoked), so a crashed holder's keys are free at once rather than after
   * their `lease_ms` (spec §3.16); their tokens' sets are NOT_STORED.
   *
   * @example
   * ```ts
   * socket.on('close', () => leases.release(connectionId));
   * ```
   */
  release(owner: number): void {
    const keys = this.#owned.get(owner);
    if (keys === undefined) return;
    this.#owned.delete(owner);
    for (const id of keys) {
      if (this.#leases.delete(id)) this.#counts.revoked += 1;
    }
  }

  /**
   * STATS `leases` (spec §5.2); sweeps lapsed leases first, so `outstanding`
   * counts live ones.
   *
   * @example
   * ```ts
   * leases.stats().outstanding; // 0
   * ```
   */
  stats(): LeaseStats {
    const now = this.#clock();
    this.#sweep(now);
    this.#trimStale(now);
    return { outstanding: this.#leases.size, ...this.#counts, stale_values: this.#stale.size, stale_bytes: this.#staleBytes };
  }

  /** Drops every lapsed lease (counted expired); at most once until the earliest live one lapses. */
  #sweep(now: number): void {
    if (now < this.#sweepAfter) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [id, lease] of this.#leases) {
      if (lease.expiresAt <= now) {
        this.#end(id, lease);
        this.#counts.expired += 1;
      } else if (lease.expiresAt < earliest) {
        earliest = lease.expiresAt;
      }
    }
    this.#sweepAfter = earliest;
  }

  /** A lease out on `id` ends by a change of its key (counted revoked). */
  #revoke(id: string): void {
    const lease = this.#leases.get(id);
    if (lease === undefined) return;
    this.#end(id, lease);
    this.#counts.revoked += 1;
  }

  /** `lease`, out on `id`, ends: it leaves the table and its owner's share. */
  #end(id: string, lease: Lease): void {
    this.#leases.delete(id);
    if (lease.owner === NO_OWNER) return;
    const keys = this.#owned.get(lease.owner);
    if (keys === undefined) return;
    keys.delete(id);
    if (keys.size === 0) this.#owned.delete(lease.owner);
  }

  /** A fresh token: 64 random bits, not 0 (spec §3.16), so a client cannot guess another key's lease from its own. */
  #token(): bigint {
    for (;;) {
      if (this.#poolAt === this.#pool.length) {
        this.#random(this.#pool);
        this.#poolAt = 0;
      }
      const token = this.#pool.readBigUInt64BE(this.#poolAt);
      this.#poolAt += 8;
      if (token !== 0n) return token;
    }
  }

  #staleOf(id: string, now: number): Buffer | undefined {
    this.#trimStale(now);
    return this.#stale.get(id)?.value;
  }

  #keepStale(id: string, value: Buffer): void {
    if (value.length > this.#maxStaleBytes) return;
    this.#dropStale(id);
    // The hook's previousValue() is a copy already (store/change.ts): kept as it is.
    this.#stale.set(id, { value, until: this.#clock() + this.#staleWindowMs });
    this.#staleBytes += value.length;
    while (this.#stale.size > this.#maxStale || this.#staleBytes > this.#maxStaleBytes) this.#dropStale(this.#stale.keys().next().value as string);
  }

  #dropStale(id: string): void {
    const stale = this.#stale.get(id);
    if (stale === undefined) return;
    this.#stale.delete(id);
    this.#staleBytes -= stale.value.length;
  }

  /** Drops the stale values whose window passed: the oldest first, so it stops at the first one still kept. */
  #trimStale(now: number): void {
    for (const [id, stale] of this.#stale) {
      if (stale.until > now) return;
      this.#dropStale(id);
    }
  }
}
