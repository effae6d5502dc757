// The invalidation delay of bench/near-cache.mjs (issue 21): a second client
// with a near cache holds the hot keys; every SET the benchmark loop makes to
// a key that client holds is timed from the writer's resolve to the arrival
// of the 'invalidate' event for that key at the second client (same process,
// one clock). The probe is only bookkeeping: the benchmark wires it to the
// client's 'invalidate' event and to the loop's SETs, so it can be tested
// without a server.
//
// Per key the probe keeps an epoch: from the moment its read of the key
// resolved (the server now tracks the key for that connection, spec §3.15)
// to the invalidation that ends it. An epoch with a SET started in it must
// end with exactly one invalidation (the server forgets the pair after one
// push, so further SETs before the re-read push nothing): it counts once as
// expected, and the first resolve of its SETs (whichever was executed first)
// starts the delay. An invalidation may arrive before any of those promises
// resolved (the push travels on another connection): that delay is counted
// as 0 and as "early".
// A push for a key whose read is still on its way (the answer was processed,
// its promise not yet settled, or the push came first) means the key changed
// after the server executed that read: the value read is already stale, so the
// probe reads again instead of holding it (else it would wait for a push the
// server, having forgotten the pair, never sends).

/**
 * Bookkeeping for invalidation delays: `read(key)` reads a key through the
 * observing client (`reread`) and holds it once the read resolved; call
 * `setStarted(key)` before each SET the loop makes and `setResolved(token)`
 * after it, `invalidated(keys)` from the observer's 'invalidate' event. Every
 * held key an invalidation drops is read again, so the observer holds it again.
 *
 * @example
 * const probe = new InvalidationProbe({ reread: (k) => observer.get(k) });
 * observer.on('invalidate', (keys) => probe.invalidated(keys === 'all' ? 'all' : keys.map((b) => b.toString('latin1'))));
 * for (const k of hot) await probe.read(k);
 * const token = probe.setStarted(k); await writer.set(k, v); probe.setResolved(token);
 * probe.summary(); // { expected, seen, p50, p99, max, early, … }
 */
export class InvalidationProbe {
  /** key → its current epoch: { setStarted, resolvedAt, invalidatedAt } */
  #held = new Map();
  /** key → whether a push for it arrived while its read was on its way. */
  #reading = new Map();
  #reread;
  #now;
  #stopped = false;
  #delays = [];
  #expected = 0;
  #seen = 0;
  #early = 0;
  #unrelated = 0;
  #notHeld = 0;
  #all = 0;
  #rereadFailures = 0;
  #staleReads = 0;

  constructor({ reread, now = () => performance.now() }) {
    this.#reread = reread;
    this.#now = now;
  }

  /** The observer's read of `key` resolved: the server tracks it for that connection from here. */
  hold(key) {
    if (this.#stopped) return;
    this.#held.set(key, { setStarted: false, resolvedAt: null, invalidatedAt: null });
  }

  /**
   * Reads `key` through `reread` and holds it once the read resolved, unless a
   * push for it arrived meanwhile: then reads it again. Resolves once held (or stopped).
   */
  async read(key) {
    for (;;) {
      if (this.#stopped) return;
      this.#reading.set(key, false);
      try {
        await this.#reread(key);
      } catch {
        this.#reading.delete(key);
        this.#rereadFailures += 1;
        return;
      }
      const stale = this.#reading.get(key);
      this.#reading.delete(key);
      if (!stale) {
        this.hold(key);
        return;
      }
      this.#staleReads += 1;
    }
  }

  /** Keys held now. */
  get holding() {
    return this.#held.size;
  }

  /** A SET of `key` is about to be sent: the token to pass to setResolved, or null when the observer does not hold `key`. */
  setStarted(key) {
    const epoch = this.#held.get(key);
    if (epoch === undefined) return null;
    if (!epoch.setStarted) {
      epoch.setStarted = true;
      this.#expected += 1;
    }
    return epoch;
  }

  /** The SET of `token` resolved at `t` (the first resolve of an epoch counts). */
  setResolved(token, t = this.#now()) {
    if (token === null || token.resolvedAt !== null) return;
    token.resolvedAt = t;
    if (token.invalidatedAt !== null) {
      this.#delays.push(Math.max(0, token.invalidatedAt - t));
      this.#early += 1;
    }
  }

  /** An 'invalidate' event arrived at `t` for `keys` (strings), or 'all'. */
  invalidated(keys, t = this.#now()) {
    if (keys === 'all') {
      this.#all += 1;
      keys = [...this.#held.keys()];
    }
    for (const key of keys) {
      const epoch = this.#held.get(key);
      if (epoch === undefined) {
        if (this.#reading.has(key)) this.#reading.set(key, true);
        else this.#notHeld += 1;
        continue;
      }
      this.#held.delete(key);
      if (epoch.setStarted) {
        this.#seen += 1;
        if (epoch.resolvedAt !== null) this.#delays.push(t - epoch.resolvedAt);
        else epoch.invalidatedAt = t;
      } else {
        // A SET that started before the re-read resolved but ran after it on the server.
        this.#unrelated += 1;
      }
      void this.read(key);
    }
  }

  /** Timed SETs whose invalidation has not arrived yet. */
  get outstanding() {
    let n = 0;
    for (const epoch of this.#held.values()) if (epoch.setStarted) n += 1;
    return n;
  }

  /** Stop re-reading (the round is over; the observer is about to close). */
  stop() {
    this.#stopped = true;
  }

  /**
   * The counts and the delay percentiles in ms (null with no delay):
   * expected = epochs of a held key with a SET started in them,
   * seen = their invalidations, missing = expected − seen.
   */
  summary() {
    const sorted = [...this.#delays].sort((a, b) => a - b);
    const at = (p) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
    return {
      expected: this.#expected,
      seen: this.#seen,
      missing: this.#expected - this.#seen,
      timed: sorted.length,
      early: this.#early,
      unrelated: this.#unrelated,
      notHeld: this.#notHeld,
      all: this.#all,
      rereadFailures: this.#rereadFailures,
      staleReads: this.#staleReads,
      p50: at(50),
      p99: at(99),
      max: sorted.length === 0 ? null : sorted[sorted.length - 1],
    };
  }
}
