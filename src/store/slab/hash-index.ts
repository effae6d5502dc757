import type { Chunks } from './chunks.js';
import { KeyHash, type KeyHashMix, type SeedSource } from './key-hash.js';
import { HEADER_SIZE, NONE, OFF_EXPIRES, OFF_HASH, OFF_HASH_NEXT, OFF_KEY_LENGTH, PAGE_SIZE, SLOT_BITS, SLOT_MASK } from './layout.js';

/**
 * Bits of the bucket array for a budget of `maxMemory` bytes: one bucket per
 * 256–512 B of budget (a power of two, 2,048–4,096 per 1 MiB page), so
 * average chains are 1.5–3 at 100-byte values and at most 8 when every chunk
 * is 64 bytes. The array costs 0.8–1.6 % of the budget and is charged to it.
 *
 * @example
 * ```ts
 * bucketBitsFor(64 * 1024 * 1024); // 18: a 1 MiB array of 262,144 buckets
 * ```
 */
export function bucketBitsFor(maxMemory: number): number {
  const wanted = maxMemory >= PAGE_SIZE ? Math.floor(maxMemory / PAGE_SIZE) * 4096 : Math.floor(maxMemory / 256);
  let bits = 2;
  while (bits < 25 && 2 ** (bits + 1) <= wanted) bits += 1;
  return bits;
}

/**
 * What SCAN reads of the index (spec §3.10): the fixed bucket count, the
 * next non-empty bucket, a bucket's keys written out, and how many entries
 * that walked.
 *
 * @example
 * ```ts
 * const end = index.writeKeys(index.nextBucket(0, index.bucketCount), prefix, now, body, 8);
 * ```
 */
export type KeyIndex = Pick<HashIndex, 'bucketCount' | 'nextBucket' | 'writeKeys' | 'chain'>;

/**
 * The engine's index (docs/STORAGE.md "Index"): a chained hash table in an
 * `Int32Array` of bucket heads (handle + 1, 0 = empty, so untouched parts of
 * the zero-filled array stay unwritten), the chain link and the key's hash
 * in each chunk's header, keys compared in the chunk. The seed is secret
 * and random ({@link KeyHash}); the engine re-seeds when a chain walked on
 * insert is too long.
 *
 * A re-seed is a migration, not a rebuild (issue 19: rebuilding 1M keys in
 * one turn froze every client for 0.24–0.9 s): {@link reseed} only swaps
 * seeds, and {@link migrate} moves a bounded number of buckets at a time, in
 * order, from the previous seed's placement to the new one's. While it runs
 * a key is in its new bucket, or still in its old one when that bucket is
 * at or past the migration point, so {@link lookup} probes both; inserts go
 * to the new bucket. A bucket re-hashes every entry it holds, so an entry
 * moved into a bucket not yet migrated is simply re-hashed there again.
 *
 * ```
 *   buckets: [0 ....... pending) migrated  | [pending ... end) old and new entries
 *   lookup:  new bucket, then (migrating, missed) old bucket if ≥ pending
 * ```
 *
 * @example
 * ```ts
 * const index = new HashIndex(chunks, bucketBitsFor(maxMemory));
 * const h = index.hashOf(key, 0, key.length);
 * index.lookup(h, key, 0, key.length); // a handle, or NONE
 * ```
 */
export class HashIndex {
  readonly #chunks: Chunks;
  /** The seed keys are placed by; {@link #previous} is the one before, while a migration runs. */
  #hash: KeyHash;
  #previous: KeyHash;
  readonly #buckets: Int32Array;
  readonly #shift: number;
  /** The next bucket a migration moves; `bucketCount` when none runs. */
  #pending: number;
  /** Entries the last {@link lookup} (for the re-seed guard) or {@link writeKeys} (SCAN's bound) walked. */
  chain = 0;

  constructor(chunks: Chunks, bits: number, seedSource?: SeedSource, mix?: KeyHashMix) {
    this.#chunks = chunks;
    this.#buckets = new Int32Array(2 ** bits);
    this.#shift = 32 - bits;
    this.#pending = this.#buckets.length;
    this.#hash = new KeyHash(seedSource, mix);
    this.#previous = new KeyHash(seedSource, mix);
  }

  /** Bytes of the bucket array. */
  get byteLength(): number {
    return this.#buckets.byteLength;
  }

  /** The key's hash (u32) under the current seed. */
  hashOf(key: Uint8Array, start: number, length: number): number {
    return this.#hash.of(key, start, length);
  }

  /**
   * The live item with the key whose hash is `hash`, or {@link NONE}: a walk
   * of its chain with the fields read inline (the hot path of every
   * request). Sets {@link chain} to the entries walked in the key's bucket
   * under the current seed (the chain an insert joins). While a migration
   * runs, a miss there probes the key's bucket under the previous seed if
   * that bucket has not been migrated yet.
   */
  lookup(hash: number, key: Uint8Array, start: number, length: number): number {
    const found = this.#walk(hash, key, start, length);
    if (found !== NONE || this.#pending === this.#buckets.length) return found;
    const walked = this.chain;
    const old = this.#previous.of(key, start, length);
    const inOld = old >>> this.#shift >= this.#pending ? this.#walk(old, key, start, length) : NONE;
    this.chain = walked;
    return inOld;
  }

  #walk(hash: number, key: Uint8Array, start: number, length: number): number {
    const pool = this.#chunks.pool;
    const chunk = this.#chunks.chunk;
    const wanted = hash | 0;
    let e = (this.#buckets[hash >>> this.#shift] as number) - 1;
    let walked = 0;
    while (e !== NONE) {
      walked += 1;
      const page = e >>> SLOT_BITS;
      const off = (e & SLOT_MASK) * (chunk[pool.pageClass[page] as number] as number);
      const i32 = pool.i32[page]!;
      if (i32[(off + OFF_HASH) >> 2] === wanted) {
        const bytes = pool.u8[page]!;
        if (bytes[off + OFF_KEY_LENGTH] === length) {
          const at = off + HEADER_SIZE;
          let i = 0;
          while (i < length && bytes[at + i] === key[start + i]) i += 1;
          if (i === length) {
            this.chain = walked;
            return e;
          }
        }
      }
      e = i32[(off + OFF_HASH_NEXT) >> 2] as number;
    }
    this.chain = walked;
    return NONE;
  }

  /** Puts the new item `handle`, whose key hashes to `hash`, at the head of its chain. */
  link(handle: number, hash: number): void {
    const b = hash >>> this.#shift;
    this.#chunks.setI32(handle, OFF_HASH, hash | 0);
    this.#chunks.setI32(handle, OFF_HASH_NEXT, (this.#buckets[b] as number) - 1);
    this.#buckets[b] = handle + 1;
  }

  /** Takes `handle` out of its hash chain: a walk from the bucket head to its predecessor. */
  unlink(handle: number): void {
    const chunks = this.#chunks;
    const b = (chunks.i32(handle, OFF_HASH) >>> 0) >>> this.#shift;
    const next = chunks.i32(handle, OFF_HASH_NEXT);
    let e = (this.#buckets[b] as number) - 1;
    if (e === handle) {
      this.#buckets[b] = next + 1;
      return;
    }
    while (e !== NONE) {
      const after = chunks.i32(e, OFF_HASH_NEXT);
      if (after === handle) {
        chunks.setI32(e, OFF_HASH_NEXT, next);
        return;
      }
      e = after;
    }
  }

  /** Buckets in the array: fixed at construction (the index never grows or shrinks). */
  get bucketCount(): number {
    return this.#buckets.length;
  }

  /**
   * SCAN (spec §3.10): the first non-empty bucket in `[from, to)`, or `to`.
   * One `Int32Array` read per bucket, so an empty stretch costs little.
   */
  nextBucket(from: number, to: number): number {
    const buckets = this.#buckets;
    let b = from;
    while (b < to && buckets[b] === 0) b += 1;
    return b;
  }

  /**
   * SCAN (spec §3.10): writes the key of each live item of bucket `b` that
   * starts with `prefix` and has not expired at `now` into `out` from `at`,
   * as `key_len u8, key` (the SCAN body's encoding), and returns where they
   * end, or -1 when they would pass `out`'s end. Sets {@link chain} to the
   * entries walked. One loop with the header fields read inline, writing
   * straight into the body: no Buffer or array per key (what made SCAN's
   * worst calls slow: the young-generation collections they triggered).
   */
  writeKeys(b: number, prefix: Uint8Array, now: number, out: Uint8Array, at: number): number {
    const pool = this.#chunks.pool;
    const chunk = this.#chunks.chunk;
    const want = prefix.length;
    let walked = 0;
    let e = (this.#buckets[b] as number) - 1;
    while (e !== NONE) {
      walked += 1;
      const page = e >>> SLOT_BITS;
      const off = (e & SLOT_MASK) * (chunk[pool.pageClass[page] as number] as number);
      const bytes = pool.u8[page]!;
      e = pool.i32[page]![(off + OFF_HASH_NEXT) >> 2] as number;
      const length = bytes[off + OFF_KEY_LENGTH] as number;
      if (length < want) continue;
      const key = off + HEADER_SIZE;
      let i = 0;
      while (i < want && bytes[key + i] === prefix[i]) i += 1;
      if (i < want) continue;
      const expiresAt = pool.f64[page]![(off + OFF_EXPIRES) >> 3] as number;
      if (expiresAt !== 0 && expiresAt <= now) continue;
      if (at + 1 + length > out.length) {
        this.chain = walked;
        return -1;
      }
      out[at] = length;
      for (let j = 0; j < length; j += 1) out[at + 1 + j] = bytes[key + j] as number;
      at += 1 + length;
    }
    this.chain = walked;
    return at;
  }

  /**
   * Draws a new seed and starts moving every key to its bucket under it
   * ({@link migrate}): O(1) here, only when a chain grew too long and no
   * migration runs. Hashes computed before are void.
   */
  reseed(): void {
    if (this.migrating) throw new RangeError('a re-seed is already migrating the index');
    const previous = this.#hash;
    this.#hash = this.#previous;
    this.#previous = previous;
    this.#hash.reseed();
    this.#pending = 0;
  }

  /** True while a re-seed's migration runs (lookups probe two buckets, SCAN waits). */
  get migrating(): boolean {
    return this.#pending < this.#buckets.length;
  }

  /**
   * Moves the next `limit` buckets (and their chains) to the current seed's
   * placement; returns the buckets left. Each entry is re-hashed from its
   * key and linked at the head of its new bucket.
   */
  migrate(limit: number): number {
    const buckets = this.#buckets;
    const { pool, chunk } = this.#chunks;
    const end = Math.min(buckets.length, this.#pending + limit);
    for (let b = this.#pending; b < end; b += 1) {
      let e = (buckets[b] as number) - 1;
      buckets[b] = 0;
      while (e !== NONE) {
        const page = e >>> SLOT_BITS;
        const off = (e & SLOT_MASK) * (chunk[pool.pageClass[page] as number] as number);
        const i32 = pool.i32[page]!;
        const next = i32[(off + OFF_HASH_NEXT) >> 2] as number;
        const h = this.#hash.of(pool.u8[page]!, off + HEADER_SIZE, pool.u8[page]![off + OFF_KEY_LENGTH] as number);
        const to = h >>> this.#shift;
        i32[(off + OFF_HASH) >> 2] = h | 0;
        i32[(off + OFF_HASH_NEXT) >> 2] = (buckets[to] as number) - 1;
        buckets[to] = e + 1;
        e = next;
      }
    }
    this.#pending = end;
    return buckets.length - end;
  }

  /** Empties every chain (FLUSH): a memset of the bucket array, which also ends a migration. */
  clear(): void {
    this.#buckets.fill(0);
    this.#pending = this.#buckets.length;
  }

  /** The length of the longest hash chain: O(items), for tests and diagnostics. */
  longestChain(): number {
    let longest = 0;
    for (let b = 0; b < this.#buckets.length; b += 1) {
      let n = 0;
      for (let e = (this.#buckets[b] as number) - 1; e !== NONE; e = this.#chunks.i32(e, OFF_HASH_NEXT)) n += 1;
      if (n > longest) longest = n;
    }
    return longest;
  }
}
