/**
 * The slices in which a re-seed of the index hash moves keys to their new
 * buckets (issue 19: the one-turn rebuild of 1M keys froze every client for
 * 0.24–0.9 s). Writes move a few buckets each (`MIGRATE_PER_WRITE`); the
 * store's sweep timer calls {@link migrateFor} every turn while a migration
 * runs, and a SCAN call does before it walks (spec §3.10), so an idle server
 * finishes one too. docs/STORAGE.md "Index: re-seeding" has the measurements.
 *
 * @example
 * ```ts
 * migrateFor(engine, 1); // ≤ about 1 ms of moving, then back to the loop
 * ```
 * @module
 */
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Buckets moved between two looks at the clock: ~40 µs once optimized (0.6 µs
 * an entry over 1M keys: cache misses), and small enough that the first,
 * unoptimized slices overrun their budget by little.
 *
 * @example
 * ```ts
 * engine.migrate(MIGRATE_BUCKETS_PER_LOOK); // then look at the clock
 * ```
 */
export const MIGRATE_BUCKETS_PER_LOOK = 64;

/**
 * Moves buckets to the new seed for about `budgetMs` of monotonic time
 * (whole groups of {@link MIGRATE_BUCKETS_PER_LOOK}, at least one) while a
 * migration runs; returns true when none runs any more.
 *
 * @example
 * ```ts
 * if (!migrateFor(engine, 2)) return; // still migrating: try again next turn
 * ```
 */
export function migrateFor(engine: SlabEngine, budgetMs: number, clock: () => number = () => performance.now()): boolean {
  if (!engine.migrating) return true;
  const deadline = clock() + budgetMs;
  while (engine.migrate(MIGRATE_BUCKETS_PER_LOOK) > 0) {
    if (clock() >= deadline) return false;
  }
  return true;
}
