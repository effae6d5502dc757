/**
 * SCAN's cursor (spec §3.10, protocol 1.1): live keys by prefix, a bounded
 * slice of the hash index per call, with Redis SCAN's guarantee that a key
 * present for the whole iteration is returned at least once.
 *
 * Why the guarantee holds without Redis's reverse-binary cursor: the store
 * has one slab engine (shards are only counters, `shard.ts`), and its index
 * is a bucket array fixed at construction (docs/STORAGE.md "Index": no rehash
 * for growth), so a key stays in bucket `hash >>> shift` for as long as it
 * lives, whatever is added, deleted, evicted or moved between pages (a page
 * move changes the handle, not the hash). The cursor is the next bucket to
 * visit; buckets are visited in order, each chain whole, each once.
 *
 * The one event that moves keys between buckets is a re-seed (a chain of
 * `LONG_CHAIN` (48) on insert, out of reach by chance). The cursor carries
 * the re-seed count it was issued under; a cursor from an older seed starts
 * over at bucket 0, which returns keys again but misses none.
 *
 * ```
 *   cursor (u64) = epoch (u32, re-seeds mod 2^32) << 32 | next bucket (u32)
 *   buckets:  [0 ........ b) visited | [b ... b + slice) this call | [...) later
 *   0 starts an iteration and, returned, ends it
 * ```
 *
 * @example
 * ```ts
 * let cursor = 0n;
 * do ({ cursor } = scanKeys(engine, cursor, 1000, Buffer.alloc(0), 65_500, now)); while (cursor !== 0n);
 * ```
 * @module
 */
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Index entries one SCAN examines at most, whatever its `count` (spec §3.10).
 * Half LIST's 8,192 (`list.ts`): each returned key costs ~1.1 µs (a copy and
 * four header reads). Over 1M 16-byte keys (`node bench/scan.mjs`) a call
 * of `count` 1,000 took 1.0 ms at the median; one that the frame cuts at
 * ~3,850 keys, 4.3 ms, which this bound caps for shorter keys.
 *
 * @example
 * ```ts
 * Math.min(count, SCAN_ENTRY_LIMIT); // the entries one call examines
 * ```
 */
export const SCAN_ENTRY_LIMIT = 4_096;

/**
 * Buckets one SCAN looks at most: an empty bucket is one `Int32Array` read,
 * so a sparse index (a large budget holding few keys) costs ~0.1 ms a call.
 *
 * @example
 * ```ts
 * SCAN_BUCKET_LIMIT; // 131,072
 * ```
 */
export const SCAN_BUCKET_LIMIT = 131_072;

/** What one SCAN call returns (spec §3.10). */
export interface ScanResult {
  /** The cursor for the next call; 0n when the iteration is complete. */
  readonly cursor: bigint;
  /** Live keys starting with the prefix, copied out of the store. */
  readonly keys: Buffer[];
}

const EPOCH_MASK = 0xffff_ffffn;

/**
 * One SCAN call: from `cursor` (0n to start), examines whole buckets until
 * about `count` entries (at most {@link SCAN_ENTRY_LIMIT}) or
 * {@link SCAN_BUCKET_LIMIT} buckets were examined, or until the next bucket's
 * matching keys (`1 + length` bytes each) would pass `maxBytes`. Expired keys
 * are skipped. A cursor this store did not issue never fails: a bucket past
 * the index ends the iteration, another epoch restarts it.
 *
 * @example
 * ```ts
 * const { cursor, keys } = scanKeys(engine, 0n, 100, Buffer.from('user:'), 65_500, Date.now());
 * ```
 */
export function scanKeys(engine: SlabEngine, cursor: bigint, count: number, prefix: Uint8Array, maxBytes: number, now: number): ScanResult {
  const index = engine.keyIndex;
  const total = index.bucketCount;
  const epoch = engine.reseeds >>> 0;
  let b = 0;
  if (cursor !== 0n && Number((cursor >> 32n) & EPOCH_MASK) === epoch) {
    b = Number(cursor & EPOCH_MASK);
    if (b >= total) return { cursor: 0n, keys: [] };
  }
  const wanted = Math.min(count, SCAN_ENTRY_LIMIT);
  const stopAt = Math.min(total, b + SCAN_BUCKET_LIMIT);
  const keys: Buffer[] = [];
  const chain: number[] = [];
  const matching: number[] = [];
  let bytes = 0;
  let examined = 0;
  for (;;) {
    b = index.nextBucket(b, stopAt);
    if (b === stopAt) break;
    chain.length = 0;
    matching.length = 0;
    index.chainOf(b, chain);
    let bucketBytes = 0;
    for (const handle of chain) {
      if (!engine.keyStartsWith(handle, prefix)) continue;
      const expiresAt = engine.expiresAt(handle);
      if (expiresAt !== 0 && expiresAt <= now) continue;
      matching.push(handle);
      bucketBytes += 1 + engine.keyLength(handle);
    }
    // A bucket is returned whole or not at all, so the cursor can name it.
    // The first always fits: a chain stays near LONG_CHAIN (48) entries,
    // 48 × 251 bytes well inside a frame.
    if (keys.length > 0 && bytes + bucketBytes > maxBytes) break;
    for (const handle of matching) {
      // A copy: the key's chunk may be reused by the next write.
      const key = Buffer.allocUnsafe(engine.keyLength(handle));
      engine.copyKey(handle, key, 0);
      keys.push(key);
    }
    bytes += bucketBytes;
    examined += chain.length;
    b += 1;
    if (examined >= wanted) break;
  }
  return { cursor: b >= total ? 0n : (BigInt(epoch) << 32n) | BigInt(b), keys };
}
