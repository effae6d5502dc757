/**
 * The per-source-address HELLO rate limit of secure mode (spec §6.2,
 * `--max-handshakes-per-second`, issue 18): a handshake costs the server two
 * X25519 operations and an HKDF, about 100 µs of CPU, so one client opening
 * connections in a loop could keep a core busy with handshakes alone.
 *
 * One token bucket per address: `rate` tokens a second, at most `rate` held
 * (burst = rate), one taken per HELLO; a HELLO that finds the bucket empty is
 * refused (the server answers BUSY before any key work).
 *
 * Memory: a bucket that has refilled to the burst is the same as no bucket,
 * so {@link HandshakeLimiter.prune} (the server runs it every 250 ms) drops
 * every bucket untouched for the refill time (one second): the table holds
 * the addresses that sent a HELLO in about the last 1.25 s. It is also capped
 * at `maxAddresses` (default 16,384: about 2.2 MiB of heap, measured with
 * IPv6 addresses): a new address over the cap first prunes, then evicts the
 * least recently seen address (the Map keeps recency order: a touched bucket
 * is re-inserted at the end). An attacker
 * with more addresses than the cap gets a fresh burst per evicted address,
 * which is no worse than that many addresses under any per-address limit.
 *
 * ```text
 *   Map order:  oldest-seen ──────────────────────────────▶ newest-seen
 *               [10.0.0.7]  [10.0.0.3]  …  [127.0.0.1]   ← a HELLO moves its address here
 *               └─ prune() drops from this end while untouched ≥ 1 s
 * ```
 *
 * @module
 */

/** One address's bucket: tokens held at `at` (clock ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/** The default cap on addresses tracked at once. */
export const MAX_TRACKED_ADDRESSES = 16_384;

/**
 * Token buckets per source address, for HELLOs.
 *
 * @example
 * ```ts
 * const limiter = new HandshakeLimiter(500);
 * if (!limiter.admit(socket.remoteAddress, performance.now())) answerBusy();
 * setInterval(() => limiter.prune(performance.now()), 250);
 * ```
 */
export class HandshakeLimiter {
  /** Tokens a second, and the most a bucket holds. */
  readonly rate: number;
  readonly #maxAddresses: number;
  /** Milliseconds for an empty bucket to fill up again: after that long untouched, a bucket is dropped. */
  readonly #refillMs: number;
  readonly #buckets = new Map<string, Bucket>();

  /**
   * @param rate HELLOs a second per address, also the burst; an integer ≥ 1
   * @param maxAddresses addresses tracked at once, ≥ 1
   */
  constructor(rate: number, maxAddresses = MAX_TRACKED_ADDRESSES) {
    if (!Number.isSafeInteger(rate) || rate < 1) throw new RangeError(`rate must be an integer of at least 1, got ${String(rate)}`);
    if (!Number.isSafeInteger(maxAddresses) || maxAddresses < 1) {
      throw new RangeError(`maxAddresses must be an integer of at least 1, got ${String(maxAddresses)}`);
    }
    this.rate = rate;
    this.#maxAddresses = maxAddresses;
    this.#refillMs = 1000; // burst / rate seconds, with burst = rate
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token for a HELLO from `address` at `now` (clock ms, e.g.
   * `performance.now()`): true when it may go on, false when its bucket is
   * empty. IPv4-mapped IPv6 addresses count as their IPv4 address.
   *
   * @example
   * ```ts
   * limiter.admit('127.0.0.1', performance.now()); // true for the first `rate` in a second
   * ```
   */
  admit(address: string, now: number): boolean {
    const key = address.startsWith('::ffff:') ? address.slice(7) : address;
    const buckets = this.#buckets;
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= this.#maxAddresses) this.#makeRoom(now);
      bucket = { tokens: this.rate, at: now };
    } else {
      bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) * this.rate) / 1000);
      bucket.at = now;
      buckets.delete(key); // re-inserted below: the Map's order is the order last seen
    }
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * Drops the buckets untouched for the refill time (full again, the same as
   * absent), oldest first; returns how many.
   *
   * @example
   * ```ts
   * limiter.prune(performance.now());
   * ```
   */
  prune(now: number): number {
    let dropped = 0;
    for (const [address, bucket] of this.#buckets) {
      if (now - bucket.at < this.#refillMs) break; // the rest were seen more recently
      this.#buckets.delete(address);
      dropped += 1;
    }
    return dropped;
  }

  /** At the cap: prune, and if nothing was idle, evict the least recently seen address. */
  #makeRoom(now: number): void {
    if (this.prune(now) > 0) return;
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) this.#buckets.delete(oldest.value);
  }
}
