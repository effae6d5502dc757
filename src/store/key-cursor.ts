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
 * `LONG_CHAIN` (48) on insert, out of reach by chance), whose migration
 * runs over many turns (`index-migration.ts`). The cursor carries the
 * re-seed count it was issued under; a cursor from an older seed starts
 * over at bucket 0, which returns keys again but misses none. While a
 * migration runs a key may be in its old or its new bucket, so a walk could
 * miss one: a call then moves the migration along for its time slice and,
 * if it is still not done, returns no keys and a cursor at bucket 0 of the
 * new epoch (its own cursor if it already was one), as §3.10 allows.
 *
 * The cursor also carries a random tag drawn once per engine (per server):
 * a cursor from another server with the same bucket count, which would
 * otherwise resume there mid-table (issue 19, outside attack finding 5),
 * starts over instead (a 2^-16 chance that two tags match).
 *
 * ```
 *   cursor (u64) = tag (u16, ≠ 0) << 48 | epoch (u16, re-seeds mod 2^16) << 32 | next bucket (u32)
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
import { randomInt } from 'node:crypto';
import { migrateFor } from './index-migration.js';
import type { KeyFilter } from './list.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Index entries one SCAN examines at most, whatever its `count` (spec §3.10).
 * A quarter of LIST's 8,192 (`list.ts`): a returned key costs ~0.55 µs once
 * optimized (two cache misses into its chunk, its bytes copied into the
 * answer), several µs before, so 2,048 keep a call near 1 ms and a cold one
 * under {@link SCAN_SLICE_MS} plus a clock step (`node bench/scan.mjs`).
 *
 * @example
 * ```ts
 * Math.min(count, SCAN_ENTRY_LIMIT); // the entries one call examines at most
 * ```
 */
export const SCAN_ENTRY_LIMIT = 2_048;

/**
 * Milliseconds of work after which one SCAN stops at the next bucket, however
 * few entries it examined: the bound that holds while its code is not yet
 * optimized (the first calls of a process) or the machine is slow, where an
 * entry count alone let a call take 8–13 ms (issue 19 item 3: ≤ 5 ms).
 *
 * @example
 * ```ts
 * SCAN_SLICE_MS; // 2
 * ```
 */
export const SCAN_SLICE_MS = 2;

/** The clock {@link SCAN_SLICE_MS} is measured on. */
const monotonic = (): number => performance.now();

/** Entries examined between two looks at the clock (`performance.now()`, 0.1–0.2 µs, against ~35 µs for 64 entries: under 1 %). */
const SCAN_CLOCK_EVERY = 64;

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
  /** Live keys starting with the prefix: views into one copy of the answer. */
  readonly keys: Buffer[];
}

const BUCKET_MASK = 0xffff_ffffn;

/** Each engine's cursor tag, drawn at its first SCAN: a cursor names the server that issued it. */
const tags = new WeakMap<SlabEngine, number>();

/** The cursor tag of `engine`'s SCAN cursors: random, 1–65,535, fixed for the engine's life. */
function tagOf(engine: SlabEngine): number {
  let tag = tags.get(engine);
  if (tag === undefined) {
    tag = randomInt(1, 0x1_0000);
    tags.set(engine, tag);
  }
  return tag;
}
/** The SCAN body's cursor field (spec §3.10), before the keys. */
const CURSOR_BYTES = 8;

/**
 * Where every call writes its answer before copying out exactly what it
 * wrote: one buffer for the process (calls are synchronous), a frame's size,
 * grown only for a caller that allows more than a frame (`maxBytes`
 * Infinity, tests and benchmarks).
 */
let scratch = Buffer.allocUnsafe(CURSOR_BYTES + 65_536);

/**
 * One SCAN call, answered as the SCAN response body (spec §3.10: `cursor
 * u64`, then `key_len u8, key` per key), what the server sends. From
 * `cursor` (0n to start), examines whole buckets until about `count`
 * entries (at most {@link SCAN_ENTRY_LIMIT}) or {@link SCAN_BUCKET_LIMIT}
 * buckets were examined, or {@link SCAN_SLICE_MS} passed on `clock`
 * (looked at every 64 entries), or until the next bucket's matching keys
 * (`1 + length` bytes each) would pass `maxBytes`. Expired keys are
 * skipped. A cursor this store did not issue never fails: a bucket past the
 * index ends the iteration, another epoch or tag restarts it. While a
 * re-seed migrates, the call first moves it along for {@link SCAN_SLICE_MS}
 * and, unfinished, answers no keys and the cursor to come back with.
 *
 * @example
 * ```ts
 * const body = scanBody(engine, 0n, 100, Buffer.from('user:'), 65_500, Date.now());
 * body.readBigUInt64BE(0); // the next cursor
 * ```
 */
export function scanBody(
  engine: SlabEngine,
  cursor: bigint,
  count: number,
  prefix: Uint8Array,
  maxBytes: number,
  now: number,
  clock: () => number = monotonic,
  filter?: KeyFilter,
): Buffer {
  const index = engine.keyIndex;
  const total = index.bucketCount;
  const epoch = engine.reseeds & 0xffff;
  const issuer = (BigInt(tagOf(engine)) << 48n) | (BigInt(epoch) << 32n);
  let b = 0;
  if (cursor !== 0n && cursor >> 32n === issuer >> 32n) {
    b = Number(cursor & BUCKET_MASK);
    if (b >= total) return Buffer.alloc(CURSOR_BYTES);
  }
  if (!migrateFor(engine, SCAN_SLICE_MS, clock)) {
    // Keys are between two placements: walk nothing yet (b is 0 here: no call issued more this epoch).
    const wait = Buffer.alloc(CURSOR_BYTES);
    wait.writeBigUInt64BE(issuer | BigInt(b), 0);
    return wait;
  }
  const wanted = Math.min(count, SCAN_ENTRY_LIMIT);
  const stopAt = Math.min(total, b + SCAN_BUCKET_LIMIT);
  const last = CURSOR_BYTES + maxBytes;
  let at = CURSOR_BYTES;
  let examined = 0;
  let look = SCAN_CLOCK_EVERY;
  const started = clock();
  for (;;) {
    b = index.nextBucket(b, stopAt);
    if (b === stopAt) break;
    let end = index.writeKeys(b, prefix, now, scratch, at);
    while (end < 0) {
      // Only past a frame (maxBytes above it): a bucket is at most ~48 × 251 bytes.
      const grown = Buffer.allocUnsafe(scratch.length * 2);
      scratch.copy(grown, 0, 0, at);
      scratch = grown;
      end = index.writeKeys(b, prefix, now, scratch, at);
    }
    // Issue 25: keys outside the caller's prefixes leave the bucket's run as if they did not match.
    if (filter !== undefined) end = keep(scratch, at, end, filter);
    // A bucket is returned whole or not at all, so the cursor can name it.
    // The first always fits: a chain stays near LONG_CHAIN (48) entries,
    // 48 × 251 bytes well inside a frame.
    if (at > CURSOR_BYTES && end > last) break;
    at = end;
    examined += index.chain;
    b += 1;
    if (examined >= wanted) break;
    if (examined >= look) {
      if (clock() - started >= SCAN_SLICE_MS) break;
      look = examined + SCAN_CLOCK_EVERY;
    }
  }
  const body = Buffer.allocUnsafe(at);
  body.writeBigUInt64BE(b >= total ? 0n : issuer | BigInt(b), 0);
  scratch.copy(body, CURSOR_BYTES, CURSOR_BYTES, at);
  return body;
}

/** Compacts the `key_len u8`, key entries of `buffer[from, to)` to those `filter` passes; returns the new end. */
function keep(buffer: Buffer, from: number, to: number, filter: KeyFilter): number {
  let write = from;
  for (let read = from; read < to; ) {
    const length = buffer[read] as number;
    const next = read + 1 + length;
    if (filter(buffer, read + 1, length)) {
      if (write !== read) buffer.copy(buffer, write, read, next);
      write += 1 + length;
    }
    read = next;
  }
  return write;
}

/**
 * One SCAN call as {@link scanBody}, its keys split out (views into the
 * body): for the library API and tests; the server sends the body itself.
 *
 * @example
 * ```ts
 * const { cursor, keys } = scanKeys(engine, 0n, 100, Buffer.from('user:'), 65_500, Date.now());
 * ```
 */
export function scanKeys(
  engine: SlabEngine,
  cursor: bigint,
  count: number,
  prefix: Uint8Array,
  maxBytes: number,
  now: number,
  clock: () => number = monotonic,
  filter?: KeyFilter,
): ScanResult {
  const body = scanBody(engine, cursor, count, prefix, maxBytes, now, clock, filter);
  const keys: Buffer[] = [];
  for (let at = CURSOR_BYTES; at < body.length; at += 1 + (body[at] as number)) keys.push(body.subarray(at + 1, at + 1 + (body[at] as number)));
  return { cursor: body.readBigUInt64BE(0), keys };
}
