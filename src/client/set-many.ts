import { ConduitError } from '../protocol/errors.js';
import type { Bytes } from './commands.js';

/**
 * `ConduitClient.setMany`: many SETs pipelined, quiet ones (spec §2.5,
 * protocol 1.1) when asked, within the client's bounded queue: when it is
 * full the loop waits for its own oldest write to settle instead of getting
 * `QUEUE_FULL`. Kept here so client.ts only dispatches.
 *
 * @example
 * ```ts
 * const results = await setManyLoop(entries, (k, v, o) => client.set(k, v, o), () => false, true);
 * ```
 * @module
 */

/** Options of `ConduitClient.set` (spec §3.3), and of each SET `setMany` makes. */
export interface SetOptions {
  /** Expire after this many ms (0 or absent: no expiry; a plain SET removes an existing one). */
  ttlMs?: number;
  /** Store only if the key is absent. */
  nx?: boolean;
  /** Store only if the key is present. */
  xx?: boolean;
  /** Keep the key's current expiry. */
  keepTtl?: boolean;
  /**
   * Compare-and-set (spec §3.11, protocol 1.1): store only if the key still
   * has this version (from `ConduitClient.getWithVersion`); resolves
   * false when it has another or is gone.
   */
  version?: bigint;
  /**
   * A quiet write (spec §2.5, protocol 1.1): the server answers only a
   * failure, and the promise settles when a later answer on the connection
   * proves it applied (the client sends a HEALTH itself when nothing else
   * follows). Same results; a 1.0 server rejects it `UNKNOWN_OPCODE`.
   */
  quiet?: boolean;
}

/** What {@link setManyLoop} passes on to one SET. */
export type SetManyOptions = SetOptions;

/** One entry of `ConduitClient.setMany`: key, value and, optionally, that SET's options (without `quiet`). */
export type SetManyEntry = readonly [key: Bytes, value: Bytes, options?: Omit<SetManyOptions, 'quiet'>];

/**
 * What one entry came to, in entry order: `true` stored, `false` not stored
 * (NX, XX or a version prevented it), or the {@link ConduitError} it failed
 * with (`TOO_LARGE`, `OUT_OF_MEMORY`, `BAD_REQUEST`, `TIMEOUT`,
 * `CONNECTION_LOST`, `UNKNOWN_OPCODE` from a protocol 1.0 server, …).
 */
export type SetManyResult = boolean | ConduitError;

/**
 * Calls `set` for each entry, `quiet` on each, at most as fast as the queue
 * takes them (`full()`: the next call would be refused), and resolves every
 * entry's result in order. Never rejects for one entry's failure; throws
 * only what `set` throws synchronously (a key that is not bytes).
 *
 * @example
 * ```ts
 * const results = await setManyLoop([['a', '1'], ['b', '2', { nx: true }]], set, full, true); // [true, false]
 * ```
 */
export async function setManyLoop(
  entries: Iterable<SetManyEntry>,
  set: (key: Bytes, value: Bytes, options: SetManyOptions) => Promise<boolean>,
  full: () => boolean,
  quiet: boolean,
): Promise<SetManyResult[]> {
  const results: SetManyResult[] = [];
  const settled: Promise<void>[] = [];
  let oldest = 0; // the oldest of this batch's writes not yet waited for
  for (const [key, value, options] of entries) {
    // Bounded queue: wait for this batch's own writes to settle (a fence's answer settles many at once).
    while (full() && oldest < settled.length) await settled[oldest++];
    const index = settled.length;
    settled.push(
      set(key, value, { ...options, quiet }).then(
        (stored) => {
          results[index] = stored;
        },
        (err: unknown) => {
          results[index] = err instanceof ConduitError ? err : new ConduitError('INTERNAL', String(err));
        },
      ),
    );
  }
  await Promise.all(settled);
  return results;
}
