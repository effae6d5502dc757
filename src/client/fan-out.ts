/**
 * How a pool merges what each of its servers answers to a request that is
 * per server (spec §3.14: LIST, SCAN, STATS, FLUSH, HEALTH and CAPS see only
 * the answering server's keys): lists concatenated, counters summed, SCAN
 * cursors that carry the server they are at, and a failure that names the
 * server it came from.
 *
 * @example
 * ```ts
 * const all = await settleAll(names, (name, i) => members[i].stats());
 * const stats = mergeStats(names, all);
 * ```
 * @module
 */
import { ConduitError } from '../protocol/errors.js';
import type { ServerCapabilities } from './capabilities.js';
import type { ListReply } from './commands.js';

/** Bits of a pool's SCAN cursor below the server's index: a server's own cursor is a u64 (spec §3.10). */
const SERVER_SHIFT = 64n;
const SERVER_CURSOR = (1n << SERVER_SHIFT) - 1n;

/**
 * `err` with the server's name in front of its message, same code and status.
 *
 * @example
 * ```ts
 * named('127.0.0.1:7172', err).message; // '127.0.0.1:7172: connect ECONNREFUSED …'
 * ```
 */
export function named(name: string, err: unknown): ConduitError {
  if (err instanceof ConduitError) return new ConduitError(err.code, `${name}: ${err.message}`, err.status);
  return new ConduitError('INTERNAL', `${name}: ${String(err)}`);
}

/**
 * Runs `each` on every server at once and resolves their results in order;
 * rejects, once all have settled, with the first failure, its message
 * naming the server (`flush` and `health` of a pool fail when any server does).
 *
 * @example
 * ```ts
 * await settleAll(['a:1', 'b:1'], (name, i) => members[i].flush());
 * ```
 */
export async function settleAll<T>(names: readonly string[], each: (name: string, index: number) => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(names.map((name, i) => each(name, i)));
  const failed = settled.findIndex((s) => s.status === 'rejected');
  if (failed >= 0) {
    // Not atomic: say which servers did it (a FLUSH that failed on one server emptied the others).
    const done = names.filter((_, i) => settled[i]?.status === 'fulfilled');
    const error = named(names[failed] as string, (settled[failed] as PromiseRejectedResult).reason);
    throw new ConduitError(error.code, `${error.message} (done on ${done.length === 0 ? 'no other server' : done.join(', ')})`, error.status);
  }
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * LIST over several servers: every server's keys (each server holds its own),
 * at most `limit`; truncated when any server's list was, or the total passed `limit`.
 *
 * @example
 * ```ts
 * mergeLists([{ keys: [a], truncated: false }, { keys: [b], truncated: false }], 1); // { keys: [a], truncated: true }
 * ```
 */
export function mergeLists(replies: readonly ListReply[], limit: number): ListReply {
  const keys = replies.flatMap((r) => r.keys);
  return { keys: keys.length > limit ? keys.slice(0, limit) : keys, truncated: keys.length > limit || replies.some((r) => r.truncated) };
}

/** STATS fields that are a server's setting or a peak, not a count: the pool reports the largest. */
const NOT_SUMMED = new Set(['max_value_size', 'page_size', 'uptime', 'uptime_seconds', 'output_memory_peak', 'pid', 'version', 'time']);

/**
 * STATS over several servers: each numeric field summed over the servers
 * (items, bytes, hits, misses, evictions, connections, …), settings and
 * peaks (`max_value_size`, `page_size`, `output_memory_peak`, uptime) the
 * largest, other fields the first server's; and `servers`, each server's
 * own answer by name.
 *
 * @example
 * ```ts
 * mergeStats(['a:1', 'b:1'], [{ curr_items: 2 }, { curr_items: 3 }]); // { curr_items: 5, servers: { … } }
 * ```
 */
export function mergeStats(names: readonly string[], all: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const stats of all) {
    for (const [field, value] of Object.entries(stats)) {
      const before = merged[field];
      if (before === undefined) merged[field] = value;
      else if (typeof before === 'number' && typeof value === 'number') merged[field] = NOT_SUMMED.has(field) ? Math.max(before, value) : before + value;
    }
  }
  merged.servers = Object.fromEntries(names.map((name, i) => [name, all[i]]));
  return merged;
}

/**
 * CAPS over several servers: what every one of them supports (the lowest
 * minor, a feature only when all have it, the smallest `maxValueSize`), so
 * a request the pool accepts is one any of its servers takes.
 *
 * @example
 * ```ts
 * commonCapabilities([caps11, caps10]).minor; // 0
 * ```
 */
export function commonCapabilities(all: readonly ServerCapabilities[]): ServerCapabilities {
  const sizes = all.map((c) => c.maxValueSize);
  return Object.freeze({
    minor: Math.min(...all.map((c) => c.minor)),
    fragments: all.every((c) => c.fragments),
    versions: all.every((c) => c.versions),
    scan: all.every((c) => c.scan),
    quietWrites: all.every((c) => c.quietWrites),
    maxValueSize: sizes.some((s) => s === undefined) ? undefined : Math.min(...(sizes as number[])),
  });
}

/**
 * Splits a pool's SCAN cursor: the index of the server the iteration is at
 * (above bit 64) and that server's own cursor (the low 64 bits). 0n starts
 * at server 0, so a one-server pool's cursors are the server's own.
 *
 * @example
 * ```ts
 * splitCursor((2n << 64n) | 7n); // { server: 2, cursor: 7n }
 * ```
 */
export function splitCursor(cursor: bigint): { server: number; cursor: bigint } {
  return { server: Number(cursor >> SERVER_SHIFT), cursor: cursor & SERVER_CURSOR };
}

/**
 * A pool's SCAN cursor for server `server` at its own `cursor` (see {@link splitCursor}).
 *
 * @example
 * ```ts
 * joinCursor(1, 0n); // 18446744073709551616n: server 1, from its start
 * ```
 */
export function joinCursor(server: number, cursor: bigint): bigint {
  return (BigInt(server) << SERVER_SHIFT) | cursor;
}
