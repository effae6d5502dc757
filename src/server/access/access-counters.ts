import { FORBIDDEN_REASONS, type ForbiddenReason } from '../../protocol/access.js';
import type { Rights } from './rights.js';

/**
 * What one identity did (issue 25), kept by id across reloads: the requests it sent,
 * its reads that found / missed a key, its stored writes, and its refusals by reason.
 * A connection holds its identity's object and counts into it directly.
 *
 * @example
 * ```ts
 * const mine = counters.of('app1');
 * mine.requests += 1;
 * ```
 */
export class IdentityCounters {
  requests = 0;
  keyspace_hits = 0;
  keyspace_misses = 0;
  total_sets = 0;
  readonly forbidden: Record<ForbiddenReason, number> = { read: 0, write: 0, admin: 0, prefix: 0 };

  /** The counters as STATS shows them. */
  toJSON(): Record<string, unknown> {
    return { requests: this.requests, keyspace_hits: this.keyspace_hits, keyspace_misses: this.keyspace_misses, total_sets: this.total_sets, forbidden: { ...this.forbidden } };
  }
}

/** Most identities counted; past it the counters of an id no longer configured are dropped first. */
export const MAX_COUNTED_IDENTITIES = 10_000;

/**
 * The server's counters per identity (issue 25): STATS `access.identities`,
 * and `conduit_forbidden_total{key_id, reason}` through {@link onForbidden}.
 * Ids come from the configuration (key ids, token ids, certificate rule ids,
 * `default`, `http-token`), so their number is bounded by it.
 *
 * @example
 * ```ts
 * const counters = new AccessCounters();
 * counters.forbidden(rights, 'prefix'); // counted for rights.id
 * ```
 */
export class AccessCounters {
  readonly #byId = new Map<string, IdentityCounters>();
  /** Called for each refusal (the Prometheus counter); set by the server when metrics exist. */
  onForbidden: ((id: string, reason: ForbiddenReason) => void) | undefined;

  /** The counters of identity `id`, made on first use. */
  of(id: string): IdentityCounters {
    let counters = this.#byId.get(id);
    if (counters === undefined) {
      if (this.#byId.size >= MAX_COUNTED_IDENTITIES) {
        const oldest = this.#byId.keys().next().value;
        if (oldest !== undefined) this.#byId.delete(oldest);
      }
      counters = new IdentityCounters();
      this.#byId.set(id, counters);
    }
    return counters;
  }

  /** Counts one FORBIDDEN answer to `rights` for `reason`. */
  forbidden(rights: Rights, reason: ForbiddenReason, counters: IdentityCounters = this.of(rights.id)): void {
    counters.forbidden[reason] += 1;
    this.onForbidden?.(rights.id, reason);
  }

  /** Refusals by id and reason, summed over every identity: STATS `access.forbidden_total`. */
  get forbiddenTotal(): number {
    let total = 0;
    for (const counters of this.#byId.values()) for (const reason of FORBIDDEN_REASONS) total += counters.forbidden[reason];
    return total;
  }

  /** Every identity's counters by id (STATS `access.identities`). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [id, counters] of this.#byId) out[id] = counters.toJSON();
    return out;
  }
}

/**
 * The STATS body an identity without `admin` gets (spec §5.2, §3.17): its own
 * rights and counters, nothing of the server's other keys.
 *
 * @example
 * ```ts
 * scopedStats(rights, counters.of(rights.id)); // {"key_id":"app1","kind":"key","prefixes":["app1:"],…}
 * ```
 */
export function scopedStats(rights: Rights, counters: IdentityCounters): Buffer {
  return Buffer.from(JSON.stringify({ scope: 'identity', ...rights.describe(), ...counters.toJSON() }));
}
