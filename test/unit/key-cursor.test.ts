// SCAN's cursor over the slab index (spec §3.10): bounded slices, cursor 0 starts and ends,
// keys present throughout returned at least once, answers within the byte budget.
import { describe, expect, it } from 'vitest';
import { scanBody, scanKeys, SCAN_BUCKET_LIMIT, SCAN_ENTRY_LIMIT, SCAN_SLICE_MS } from '../../src/store/key-cursor.js';
import { SlabEngine, type SeedSource } from '../../src/store/slab/index.js';
import { decodeScanBody, type ScanPage } from '../../src/protocol/scan-body.js';
import { Store } from '../../src/store/store.js';

const MiB = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };

function put(engine: SlabEngine, key: string, expiresAt = 0): void {
  const k = Buffer.from(key, 'latin1');
  engine.store(k, 0, k.length, k, 0, k.length, expiresAt);
}

function remove(engine: SlabEngine, key: string): void {
  const k = Buffer.from(key, 'latin1');
  engine.remove(engine.find(k, 0, k.length));
}

/** Every key of one iteration, and the number of calls it took. */
function iterate(engine: SlabEngine, count: number, prefix = EMPTY, maxBytes = 65_500, now = 0): { keys: string[]; calls: number } {
  const keys: string[] = [];
  let cursor = 0n;
  let calls = 0;
  do {
    const page = scanKeys(engine, cursor, count, prefix, maxBytes, now);
    cursor = page.cursor;
    calls += 1;
    for (const k of page.keys) keys.push(k.toString('latin1'));
  } while (cursor !== 0n && calls < 1_000_000);
  return { keys, calls };
}

describe('scanKeys', () => {
  it('an empty store: one call, cursor 0, no keys', () => {
    const engine = new SlabEngine({ maxMemory: 8 * MiB });
    expect(scanKeys(engine, 0n, 10, EMPTY, 65_500, 0)).toEqual({ cursor: 0n, keys: [] });
  });

  it('returns every key exactly once without writes, in many bounded calls', () => {
    const engine = new SlabEngine({ maxMemory: 16 * MiB });
    for (let i = 0; i < 20_000; i += 1) put(engine, `k:${i}`);
    const { keys, calls } = iterate(engine, 100);
    expect(new Set(keys).size).toBe(20_000);
    expect(keys).toHaveLength(20_000);
    expect(calls).toBeGreaterThan(20_000 / (100 + 48)); // each call stops after ~count entries (whole buckets)
  });

  it('filters by prefix and skips expired keys', () => {
    const engine = new SlabEngine({ maxMemory: 8 * MiB });
    for (let i = 0; i < 1_000; i += 1) put(engine, `${i % 2 === 0 ? 'a' : 'b'}:${i}`, i % 4 === 0 ? 50 : 0);
    const { keys } = iterate(engine, 1_000, Buffer.from('a:'), 65_500, 100);
    expect(keys.sort()).toEqual(
      Array.from({ length: 1_000 }, (_, i) => i)
        .filter((i) => i % 2 === 0 && i % 4 !== 0)
        .map((i) => `a:${i}`)
        .sort(),
    );
  });

  it('never examines more than SCAN_ENTRY_LIMIT entries (plus one bucket) whatever the count', () => {
    const engine = new SlabEngine({ maxMemory: 16 * MiB });
    for (let i = 0; i < 3 * SCAN_ENTRY_LIMIT; i += 1) put(engine, `k${i}`);
    const page = scanKeys(engine, 0n, 65_535, EMPTY, Infinity, 0, () => 0); // a clock that stands still: only the entry bound stops it
    expect(page.cursor).not.toBe(0n);
    expect(page.keys.length).toBeGreaterThanOrEqual(SCAN_ENTRY_LIMIT);
    expect(page.keys.length).toBeLessThan(SCAN_ENTRY_LIMIT + 64);
  });

  it('stops at the bucket after SCAN_SLICE_MS of work, and the iteration still returns every key', () => {
    const engine = new SlabEngine({ maxMemory: 16 * MiB });
    for (let i = 0; i < 20_000; i += 1) put(engine, `k:${i}`);
    let looks = 0;
    const slowClock = (): number => (looks++ === 0 ? 0 : SCAN_SLICE_MS); // every look after the start: the slice is spent
    const page = scanKeys(engine, 0n, 65_535, EMPTY, Infinity, 0, slowClock);
    expect(page.cursor).not.toBe(0n);
    expect(page.keys.length).toBeGreaterThanOrEqual(64); // the clock is looked at every 64 entries
    expect(page.keys.length).toBeLessThan(64 + 64); // ... and the call stops at the next bucket
    const seen = new Set<string>();
    let cursor = 0n;
    do {
      looks = 0;
      const next = scanKeys(engine, cursor, 65_535, EMPTY, Infinity, 0, slowClock);
      for (const k of next.keys) seen.add(k.toString('latin1'));
      cursor = next.cursor;
    } while (cursor !== 0n);
    expect(seen.size).toBe(20_000);
  });

  it('scanBody answers the SCAN body (spec §3.10): cursor u64, then key_len u8 and key per key', () => {
    const engine = new SlabEngine({ maxMemory: 8 * MiB });
    for (let i = 0; i < 50; i += 1) put(engine, `k:${i}`);
    const body = scanBody(engine, 0n, 1_000, EMPTY, 65_500, 0);
    expect(body.readBigUInt64BE(0)).toBe(0n); // 50 keys in one call: the iteration is complete
    const keys: string[] = [];
    for (let at = 8; at < body.length; at += 1 + body[at]!) keys.push(body.toString('latin1', at + 1, at + 1 + body[at]!));
    expect(keys.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `k:${i}`).sort());
    expect(body.length).toBe(8 + keys.reduce((n, k) => n + 1 + k.length, 0));
  });

  it('crosses a sparse index in slices of SCAN_BUCKET_LIMIT buckets, returning no keys but a cursor', () => {
    const engine = new SlabEngine({ maxMemory: 256 * MiB }); // 2^20 buckets
    const page = scanKeys(engine, 0n, 10, EMPTY, 65_500, 0);
    expect(page.keys).toEqual([]);
    expect(page.cursor & 0xffff_ffffn).toBe(BigInt(SCAN_BUCKET_LIMIT)); // the next bucket, under the tag and epoch
    expect(iterate(engine, 10).calls).toBe(2 ** 20 / SCAN_BUCKET_LIMIT);
  });

  it('keeps each answer within maxBytes and loses nothing to the cut', () => {
    const engine = new SlabEngine({ maxMemory: 16 * MiB });
    const long = (i: number): string => `${String(i).padStart(6, '0')}:${'x'.repeat(240)}`;
    for (let i = 0; i < 2_000; i += 1) put(engine, long(i));
    let cursor = 0n;
    const seen = new Set<string>();
    do {
      const page = scanKeys(engine, cursor, 65_535, EMPTY, 4_000, 0);
      expect(page.keys.reduce((n, k) => n + 1 + k.length, 0)).toBeLessThanOrEqual(4_000);
      for (const k of page.keys) seen.add(k.toString('latin1'));
      cursor = page.cursor;
    } while (cursor !== 0n);
    expect(seen.size).toBe(2_000);
  });

  it('returns keys present throughout while others are added, deleted and evicted', () => {
    const engine = new SlabEngine({ maxMemory: 4 * MiB });
    for (let i = 0; i < 2_000; i += 1) put(engine, `stay:${i}`);
    let cursor = 0n;
    const seen = new Set<string>();
    let round = 0;
    do {
      const page = scanKeys(engine, cursor, 50, EMPTY, 65_500, 0);
      for (const k of page.keys) seen.add(k.toString('latin1'));
      cursor = page.cursor;
      // churn: new keys, deletes of churn keys, re-writes of kept keys (touch, so the LRU evicts churn)
      for (let j = 0; j < 200; j += 1) put(engine, `churn:${round}:${j}`);
      if (round > 0) for (let j = 0; j < 200; j += 2) remove(engine, `churn:${round - 1}:${j}`);
      for (let i = round % 10; i < 2_000; i += 10) put(engine, `stay:${i}`);
      round += 1;
    } while (cursor !== 0n);
    expect(engine.stats().items).toBeLessThan(2_000 + 200 * round); // something was evicted or deleted
    for (let i = 0; i < 2_000; i += 1) expect(seen.has(`stay:${i}`), `stay:${i}`).toBe(true);
  });

  it('a cursor from before a re-seed starts over, so nothing is missed', () => {
    let draws = 0;
    const zerosThenRandom: SeedSource = (target) => {
      draws += 1;
      if (draws === 1) target.fill(0);
      else for (let i = 0; i < target.length; i += 1) target[i] = (Math.random() * 2 ** 32) | 0;
    };
    const engine = new SlabEngine({ maxMemory: 8 * MiB, seedSource: zerosThenRandom });
    for (let i = 0; i < 40; i += 1) put(engine, `early:${i}`); // one chain under the zero seed
    const first = scanKeys(engine, 0n, 1, EMPTY, 65_500, 0);
    expect(first.keys).toHaveLength(40);
    expect((first.cursor >> 32n) & 0xffffn).toBe(0n); // epoch 0: no re-seed yet
    for (let i = 0; i < 2_000; i += 1) put(engine, `late:${i}`); // the long chain forces a re-seed
    expect(engine.stats().reseeds).toBe(1);
    let cursor = first.cursor;
    const seen = new Set<string>();
    do {
      const page = scanKeys(engine, cursor, 100, EMPTY, 65_500, 0);
      for (const k of page.keys) seen.add(k.toString('latin1'));
      cursor = page.cursor;
    } while (cursor !== 0n);
    for (let i = 0; i < 40; i += 1) expect(seen.has(`early:${i}`)).toBe(true);
    for (let i = 0; i < 2_000; i += 1) expect(seen.has(`late:${i}`)).toBe(true);
  });

  it('a cursor past the index ends the iteration instead of failing', () => {
    const engine = new SlabEngine({ maxMemory: 8 * MiB });
    for (let i = 0; i < 100; i += 1) put(engine, `k${i}`);
    const issued = scanKeys(engine, 0n, 1, EMPTY, 65_500, 0).cursor; // this engine's tag and epoch
    expect(issued).not.toBe(0n);
    expect(scanKeys(engine, (issued & ~0xffff_ffffn) | 0xffff_ffffn, 10, EMPTY, 65_500, 0)).toEqual({ cursor: 0n, keys: [] });
  });

  it('Store.scan uses the store clock for expiry', () => {
    let now = 1_000;
    const store = new Store({ maxMemory: 8 * MiB, activeExpiry: false, clock: () => now });
    store.set(Buffer.from('short'), Buffer.from('v'), { ...options, ttlMs: 10 });
    store.set(Buffer.from('long'), Buffer.from('v'), options);
    now += 20;
    expect((decodeScanBody(store.scan(0n, 100, EMPTY, 65_500)) as ScanPage).keys.map(String)).toEqual(['long']);
  });
});
