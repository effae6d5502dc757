import { afterEach, describe, expect, it, vi } from 'vitest';
import { chargeOf, ConduitError, encodeRequest, MAX_BODY_SIZE, MAX_TTL_MS, Store, type StoreOptions } from '../../src/index.js';
import { EXPIRY_BUCKET_MS } from '../../src/store/expiry-queue.js';
import { fnv1a } from '../../src/store/keys.js';
import { HashIndex } from '../../src/store/slab/hash-index.js';
import { SlabEngine } from '../../src/store/slab/index.js';
import { FakeClock } from '../support/fake-clock.js';

const b = (s: string): Buffer => Buffer.from(s);
const stores: Store[] = [];
function make(options: StoreOptions = {}): { store: Store; clock: FakeClock } {
  const clock = new FakeClock();
  const store = new Store({ activeExpiry: false, clock: clock.read, ...options });
  stores.push(store);
  return { store, clock };
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The error `fn` throws; fails the test when it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** Spies on every way of walking the slab engine's items: no store operation but LIST may walk them. */
function spyOnWalks(): { calls(): number } {
  const spies = (['scan', 'clear', 'longestChain'] as const).map((name) => vi.spyOn(SlabEngine.prototype, name));
  return { calls: () => spies.reduce((n, s) => n + s.mock.calls.length, 0) };
}

describe('Store options', () => {
  it('rejects bad options with messages naming them', () => {
    expect(() => new Store({ shards: 3 })).toThrow(/shards option/);
    expect(() => new Store({ shards: 2048 })).toThrow(/shards option/);
    expect(() => new Store({ maxMemory: 100 })).toThrow(/maxMemory option/);
    expect(() => new Store({ eviction: 'lfu' as 'lru' })).toThrow(/eviction option/);
  });
});

describe('get / set / delete', () => {
  it('stores a copy of the value, never a view of the caller’s buffer', () => {
    const { store } = make();
    const chunk = b('xxvaluexx');
    store.set(b('k'), chunk.subarray(2, 7));
    chunk.fill(0);
    const value = store.get(b('k'));
    expect(value?.toString()).toBe('value');
    // Nor is the answer a view of the store: changing either leaves the other.
    chunk.fill(1);
    expect(value?.toString()).toBe('value');
    value?.fill(0);
    expect(store.get(b('k'))?.toString()).toBe('value');
  });

  it('keys are binary-safe for every byte value', () => {
    const { store } = make();
    for (let byte = 0; byte < 256; byte += 1) store.set(Buffer.from([byte, 0xff - byte]), Buffer.from([byte]));
    for (let byte = 0; byte < 256; byte += 1) expect(store.get(Buffer.from([byte, 0xff - byte]))?.[0]).toBe(byte);
    const { keys } = store.list(Buffer.alloc(0), 1000);
    expect(keys).toHaveLength(256);
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(256);
  });

  it('accepts 250-byte keys and refuses 251 and 0', () => {
    const { store } = make();
    expect(store.set(Buffer.alloc(250, 1), b('v'))).toBe('stored');
    expect(store.get(Buffer.alloc(250, 1))?.toString()).toBe('v');
    expect(() => store.set(Buffer.alloc(251, 1), b('v'))).toThrow(ConduitError);
    expect(() => store.get(Buffer.alloc(0))).toThrow(ConduitError);
  });

  it('refuses a bad key or TTL with the error the request encoder throws for it: BAD_REQUEST, same message', () => {
    const { store } = make();
    const set = { op: 'SET', value: b('v'), nx: false, xx: false, keepTtl: false } as const;
    const cases: [string, () => unknown, () => unknown][] = [
      ['key of 0 bytes', () => store.get(Buffer.alloc(0)), () => encodeRequest(1n, { op: 'GET', key: Buffer.alloc(0) })],
      ['key of 251 bytes', () => store.delete(Buffer.alloc(251, 1)), () => encodeRequest(1n, { op: 'DELETE', key: Buffer.alloc(251, 1) })],
      ['ttl over u32', () => store.set(b('k'), b('v'), { ttlMs: MAX_TTL_MS + 1 }), () => encodeRequest(1n, { ...set, key: b('k'), ttlMs: MAX_TTL_MS + 1 })],
      ['negative ttl', () => store.renew(b('k'), -1), () => encodeRequest(1n, { op: 'RENEW', key: b('k'), ttlMs: -1 })],
      ['fractional ttl', () => store.incr(b('k'), 1n, 1.5), () => encodeRequest(1n, { op: 'INCR', key: b('k'), delta: 1n, ttlMs: 1.5 })],
    ];
    for (const [name, fromStore, fromEncoder] of cases) {
      const [a, e] = [thrown(fromStore), thrown(fromEncoder)];
      expect(a, name).toBeInstanceOf(ConduitError);
      expect([name, (a as ConduitError).code, (a as ConduitError).message]).toEqual([name, 'BAD_REQUEST', (e as ConduitError).message]);
      expect((e as ConduitError).code, name).toBe('BAD_REQUEST');
    }
  });

  it('stores values at the frame limit and empty values', () => {
    const { store } = make();
    const big = Buffer.alloc(MAX_BODY_SIZE - 7, 0x5a);
    expect(store.set(b('k'), big)).toBe('stored');
    expect(store.get(b('k'))?.equals(big)).toBe(true);
    expect(store.set(b('e'), Buffer.alloc(0))).toBe('stored');
    expect(store.get(b('e'))?.length).toBe(0);
  });

  it('delete reports whether a key was removed', () => {
    const { store } = make();
    store.set(b('k'), b('v'));
    expect(store.delete(b('k'))).toBe(true);
    expect(store.delete(b('k'))).toBe(false);
    expect(store.get(b('k'))).toBeUndefined();
    const stats = store.stats();
    expect([stats.delete_hits, stats.delete_misses, stats.keyspace_misses]).toEqual([1, 1, 1]);
  });
});

describe('SET conditions (spec §3.3)', () => {
  it('NX stores only when absent, XX only when present', () => {
    const { store } = make();
    expect(store.set(b('k'), b('1'), { xx: true })).toBe('not_stored');
    expect(store.get(b('k'))).toBeUndefined();
    expect(store.set(b('k'), b('1'), { nx: true })).toBe('stored');
    expect(store.set(b('k'), b('2'), { nx: true })).toBe('not_stored');
    expect(store.get(b('k'))?.toString()).toBe('1');
    expect(store.set(b('k'), b('3'), { xx: true })).toBe('stored');
    expect(store.get(b('k'))?.toString()).toBe('3');
  });

  it('treats an expired key as absent for NX and XX', () => {
    const { store, clock } = make();
    store.set(b('k'), b('1'), { ttlMs: 10 });
    clock.advance(10);
    expect(store.set(b('k'), b('2'), { xx: true })).toBe('not_stored');
    expect(store.set(b('k'), b('2'), { nx: true })).toBe('stored');
  });

  it('a plain SET clears the expiry, KEEPTTL keeps it, a new ttl replaces it', () => {
    const { store, clock } = make();
    store.set(b('k'), b('1'), { ttlMs: 1000 });
    clock.advance(400);
    expect(store.set(b('k'), b('2'), { keepTtl: true })).toBe('stored');
    expect(store.ttl(b('k'))).toBe(600);
    expect(store.set(b('k'), b('3'), { xx: true, keepTtl: true })).toBe('stored');
    expect(store.ttl(b('k'))).toBe(600);
    store.set(b('k'), b('4'), { ttlMs: 50 });
    expect(store.ttl(b('k'))).toBe(50);
    store.set(b('k'), b('5'));
    expect(store.ttl(b('k'))).toBe(-1);
    clock.advance(10_000);
    expect(store.get(b('k'))?.toString()).toBe('5');
  });

  it('KEEPTTL on an absent key stores it without expiry', () => {
    const { store } = make();
    store.set(b('k'), b('1'), { keepTtl: true, nx: true });
    expect(store.ttl(b('k'))).toBe(-1);
  });
});

describe('TTL boundaries', () => {
  it('1 ms: alive before, gone at expiry', () => {
    const { store, clock } = make();
    store.set(b('k'), b('v'), { ttlMs: 1 });
    expect(store.ttl(b('k'))).toBe(1);
    clock.advance(0.5);
    expect(store.get(b('k'))?.toString()).toBe('v');
    clock.advance(0.5);
    expect(store.get(b('k'))).toBeUndefined();
    expect(store.ttl(b('k'))).toBeUndefined();
    expect(store.stats().expired_lazy).toBe(1);
  });

  it('0 means no expiry; the u32 maximum is accepted; beyond it is refused', () => {
    const { store, clock } = make();
    store.set(b('a'), b('v'), { ttlMs: 0 });
    store.set(b('b'), b('v'), { ttlMs: MAX_TTL_MS });
    expect(store.ttl(b('a'))).toBe(-1);
    expect(store.ttl(b('b'))).toBe(MAX_TTL_MS);
    clock.advance(MAX_TTL_MS - 1);
    expect(store.get(b('b'))).toBeDefined();
    clock.advance(1);
    expect(store.get(b('b'))).toBeUndefined();
    expect(() => store.set(b('c'), b('v'), { ttlMs: MAX_TTL_MS + 1 })).toThrow(ConduitError);
    expect(() => store.set(b('c'), b('v'), { ttlMs: -1 })).toThrow(ConduitError);
  });

  it('renew sets and removes the expiry; absent keys are not renewed', () => {
    const { store, clock } = make();
    expect(store.renew(b('k'), 100)).toBe(false);
    store.set(b('k'), b('v'));
    expect(store.renew(b('k'), 100)).toBe(true);
    expect(store.ttl(b('k'))).toBe(100);
    expect(store.renew(b('k'), 0)).toBe(true);
    expect(store.ttl(b('k'))).toBe(-1);
    clock.advance(1000);
    expect(store.get(b('k'))?.toString()).toBe('v');
  });

  it('a wall-clock jump of an hour changes nothing (monotonic clock)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new Store({ activeExpiry: false });
    stores.push(store);
    store.set(b('k'), b('v'), { ttlMs: 60_000 });
    vi.setSystemTime(Date.now() + 3_600_000);
    expect(store.get(b('k'))?.toString()).toBe('v');
    expect(store.ttl(b('k'))).toBeGreaterThan(59_000);
    vi.setSystemTime(Date.now() - 7_200_000);
    expect(store.ttl(b('k'))).toBeLessThanOrEqual(60_000);
  });
});

describe('INCR (spec §3.8)', () => {
  it('creates at 0 with the ttl, then increments keeping the expiry', () => {
    const { store, clock } = make();
    expect(store.incr(b('n'), 5n, 1000)).toBe(5n);
    clock.advance(300);
    expect(store.incr(b('n'), -7n, 50)).toBe(-2n);
    expect(store.ttl(b('n'))).toBe(700);
    expect(store.get(b('n'))?.toString()).toBe('-2');
    expect(store.incr(b('m'), 1n)).toBe(1n);
    expect(store.ttl(b('m'))).toBe(-1);
  });

  it('refuses non-integers (not_integer) and overflow (overflow), changing nothing', () => {
    const { store } = make();
    for (const bad of ['abc', '', '01', '-0', ' 1', '1 ', '+1', '1.5', '99999999999999999999', '9223372036854775808']) {
      store.set(b('k'), b(bad));
      expect(store.incr(b('k'), 1n), bad).toBe('not_integer');
      expect(store.get(b('k'))?.toString()).toBe(bad);
    }
    store.set(b('k'), b('9223372036854775807'));
    expect(store.incr(b('k'), 1n)).toBe('overflow');
    expect(store.incr(b('k'), 0n)).toBe(9223372036854775807n);
    store.set(b('k'), b('-9223372036854775808'));
    expect(store.incr(b('k'), -1n)).toBe('overflow');
    expect(store.incr(b('k'), 1n)).toBe(-9223372036854775807n);
  });
});

describe('LIST (spec §3.5)', () => {
  it('lists live keys by prefix, honouring limit and byte budget, reporting truncation', () => {
    const { store, clock } = make();
    for (let i = 0; i < 10; i += 1) store.set(b(`user:${i}`), b('v'));
    store.set(b('other'), b('v'));
    store.set(b('user:gone'), b('v'), { ttlMs: 5 });
    clock.advance(5);
    const all = store.list(b('user:'), 100);
    expect(all.truncated).toBe(false);
    expect(all.keys.map(String).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `user:${i}`));
    const some = store.list(b('user:'), 3);
    expect([some.keys.length, some.truncated]).toEqual([3, true]);
    const exact = store.list(b('user:'), 10);
    expect([exact.keys.length, exact.truncated]).toEqual([10, false]);
    const bytes = store.list(b('user:'), 100, 15); // each key costs 1 + 6 bytes
    expect([bytes.keys.length, bytes.truncated]).toEqual([2, true]);
    expect(store.list(b(''), 100).keys).toHaveLength(11);
  });
});

describe('memory budget', () => {
  it('refuses an item larger than the whole budget can hold with TOO_LARGE and keeps the old value', () => {
    const { store } = make({ maxMemory: 16 * 4096, shards: 16 });
    store.set(b('k'), b('small'));
    const tooBig = store.largestValue(1) + 1;
    expect(store.set(b('k'), Buffer.alloc(tooBig))).toBe('too_large');
    expect(store.get(b('k'))?.toString()).toBe('small');
    expect(store.set(b('j'), Buffer.alloc(tooBig))).toBe('too_large');
    expect(store.get(b('j'))).toBeUndefined();
    expect(store.stats().refused_too_large).toBe(2);
    // One byte less fits: the shards do not split the budget any more.
    expect(store.set(b('j'), Buffer.alloc(tooBig - 1))).toBe('stored');
    expect(store.get(b('j'))?.length).toBe(tooBig - 1);
  });

  it('issue 17: an item is charged its chunk (header, key and value rounded up to its size class); bytes is what the store holds', () => {
    // Replaces the RSS calibration of the old object graph (ENTRY_OVERHEAD): items have no heap objects now.
    const table: [key: number, value: number, charge: number][] = [
      [16, 0, 80], // 56 + 16 = 72: the class above the smallest (the header holds the version, spec §3.11)
      [16, 10, 104],
      [16, 100, 176], // 172 B in the 176-byte class (docs/STORAGE.md)
      [16, 1000, 1096],
      [1, 1, 64],
      [250, 65_535, 77_000],
    ];
    for (const [key, value, charge] of table) expect(chargeOf(key, value), `key ${key} B, value ${value} B`).toBe(charge);
    const { store } = make();
    const before = store.stats();
    expect(before.item_bytes).toBe(0);
    for (const [i, [, value]] of table.entries()) store.set(Buffer.alloc(16, i), Buffer.alloc(value));
    const stats = store.stats();
    expect(stats.item_bytes).toBe(table.slice(0, 4).reduce((n, [, value]) => n + chargeOf(16, value), 0) + chargeOf(16, 1) + chargeOf(16, 65_535));
    expect(stats.shards.reduce((n, s) => n + s.bytes, 0)).toBe(stats.item_bytes);
    // Held: the index from the start, then one 1 MiB page per class in use (5 classes here).
    expect(stats.bytes).toBe(before.bytes + 5 * 1024 * 1024);
    expect(stats.bytes).toBeLessThanOrEqual(stats.limit_maxbytes);
  });

  it('writing 10× the budget in distinct keys keeps bytes ≤ budget and counts evictions', () => {
    const budget = 1024 * 1024;
    const { store } = make({ maxMemory: budget, shards: 16 });
    const value = Buffer.alloc(1000, 1);
    const item = chargeOf(16, value.length, store.stats().page_size);
    let written = 0;
    let i = 0;
    while (written < 10 * budget) {
      expect(store.set(b(`key:${String(i).padStart(12, '0')}`), value)).toBe('stored');
      written += item;
      i += 1;
      expect(store.stats().bytes).toBeLessThanOrEqual(budget);
    }
    const stats = store.stats();
    expect(stats.evictions).toBe(i - stats.curr_items);
    expect(stats.evictions).toBeGreaterThan(8 * (budget / item));
    expect(stats.item_bytes).toBe(stats.curr_items * item);
    expect(stats.shards.reduce((n, s) => n + s.curr_items, 0)).toBe(stats.curr_items);
  });

  it('evicts the least recently used item first', () => {
    const { store } = make({ maxMemory: 1024 * 1024, shards: 1 });
    const value = Buffer.alloc(1000);
    let n = 0;
    while (store.stats().evictions === 0) {
      store.set(b(`k${n}`), value);
      if (n === 1) store.get(b('k0')); // k1 is now the least recently used
      n += 1;
    }
    expect(store.get(b('k1'))).toBeUndefined();
    expect(store.get(b('k0'))).toBeDefined();
    expect(store.get(b('k2'))).toBeDefined();
    expect(store.stats().evictions).toBe(1);
  });

  it('eviction none: refuses writes that do not fit, while reads, deletes and overwrites in place work', () => {
    const { store } = make({ maxMemory: 1024 * 1024, shards: 1, eviction: 'none' });
    const value = Buffer.alloc(1000);
    let n = 0;
    while (store.set(b(`k${n}`), value) === 'stored') n += 1;
    expect(store.set(b('e'), value)).toBe('out_of_memory');
    expect(store.get(b('k0'))?.length).toBe(value.length);
    expect(store.set(b('k0'), Buffer.alloc(999, 7))).toBe('stored'); // same chunk
    expect(store.get(b('k0'))?.[0]).toBe(7);
    expect(store.delete(b('k1'))).toBe(true);
    expect(store.set(b('e'), value)).toBe('stored');
    expect(store.get(b(`k${n - 1}`))?.length).toBe(value.length);
    const stats = store.stats();
    expect([stats.evictions, stats.refused_out_of_memory, stats.curr_items]).toEqual([0, 2, n]); // the fill's last write and the first e
    expect(stats.bytes).toBeLessThanOrEqual(stats.limit_maxbytes);
  });

  it('an overwrite that fits its chunk stays in it; one that grows out of it frees the old chunk for the next write', () => {
    const { store } = make({ maxMemory: 1024 * 1024, shards: 1, eviction: 'none' });
    const small = Buffer.alloc(100, 1);
    store.set(b('grower'), Buffer.alloc(1000)); // its class gets a page with free chunks to grow into
    let n = 0;
    while (store.set(b(`k${n}`), small) === 'stored') n += 1; // the 100-byte class is full, no page is left
    const bytes = store.stats().item_bytes;
    // Same class: rewritten where it is; no chunk taken or freed, so a new small key still does not fit.
    expect(store.set(b('k0'), Buffer.alloc(90, 2))).toBe('stored');
    expect(store.get(b('k0'))).toEqual(Buffer.alloc(90, 2));
    expect(store.stats().item_bytes).toBe(bytes);
    expect(store.set(b('new'), small)).toBe('out_of_memory');
    // Grown into the 1,000-byte class: its 100-byte chunk is freed, and the next small key takes it.
    expect(store.set(b('k1'), Buffer.alloc(1000, 3))).toBe('stored');
    expect(store.get(b('k1'))).toEqual(Buffer.alloc(1000, 3));
    expect(store.set(b('new'), small)).toBe('stored');
    expect(store.set(b('another'), small)).toBe('out_of_memory');
    expect(store.stats().curr_items).toBe(n + 2);
  });

  it('a SET hashes and probes the index once, whether it inserts, overwrites or is refused by NX', () => {
    const { store } = make();
    store.set(b('k'), b('v1'));
    const lookups = vi.spyOn(HashIndex.prototype, 'lookup');
    const hashes = vi.spyOn(HashIndex.prototype, 'hashOf');
    const calls = (): number[] => [lookups.mock.calls.length, hashes.mock.calls.length];
    expect(store.set(b('k'), b('v2'))).toBe('stored'); // overwrite in place
    expect(calls()).toEqual([1, 1]);
    expect(store.set(b('k'), Buffer.alloc(5000))).toBe('stored'); // overwrite into another class
    expect(calls()).toEqual([2, 2]);
    expect(store.set(b('other'), b('v'))).toBe('stored'); // insert
    expect(calls()).toEqual([3, 3]);
    expect(store.set(b('other'), b('v'), { nx: true })).toBe('not_stored');
    expect(calls()).toEqual([4, 4]);
    expect(store.incr(b('n'), 1n)).toBe(1n);
    expect(store.incr(b('n'), 1n)).toBe(2n);
    expect(calls()).toEqual([6, 6]);
  });

  it('eviction none: INCR of a new key that needs a chunk no page can give is out_of_memory', () => {
    const { store } = make({ maxMemory: 1024 * 1024, shards: 1, eviction: 'none' });
    let n = 0;
    while (store.set(b(`k${n}`), Buffer.alloc(1000)) === 'stored') n += 1;
    expect(store.incr(b('n'), 1n)).toBe('out_of_memory');
    expect(store.get(b('n'))).toBeUndefined();
  });

  it('STATS bytes stays ≤ limit_maxbytes after writing 10× the budget with random sizes', () => {
    const budget = 2 * 1024 * 1024;
    const { store } = make({ maxMemory: budget, shards: 4 });
    let seed = 17;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let written = 0;
    for (let i = 0; written < 10 * budget; i += 1) {
      const length = Math.floor(random() ** 3 * 65_000);
      expect(store.set(b(`r${Math.floor(random() * 50_000)}`), Buffer.alloc(length, i & 255))).toBe('stored');
      written += length;
      if (i % 64 === 0) expect(store.stats().bytes).toBeLessThanOrEqual(budget);
    }
    const stats = store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(stats.limit_maxbytes);
    expect(stats.item_bytes).toBeLessThanOrEqual(stats.bytes);
    expect(stats.shards.reduce((n, s) => n + s.bytes, 0)).toBe(stats.item_bytes);
  });
});

describe('expiry sweep', () => {
  it('reclaims expired entries without reads and frees their bytes', () => {
    const { store, clock } = make();
    for (let i = 0; i < 1000; i += 1) store.set(b(`k${i}`), b('v'), { ttlMs: i < 600 ? 100 : 0 });
    clock.advance(99);
    expect(store.sweep(1_000)).toBe(0);
    clock.advance(1 + EXPIRY_BUCKET_MS); // the sweep frees within one bucket of the expiry
    expect(store.sweep(1_000)).toBe(600);
    const stats = store.stats();
    expect([stats.curr_items, stats.expired_swept, stats.expired_keys]).toEqual([400, 600, 600]);
    expect(stats.keyspace_hits + stats.keyspace_misses).toBe(0);
  });

  it('skips stale queue entries: a renewed key lives on, a re-set key without ttl stays', () => {
    const { store, clock } = make();
    store.set(b('renewed'), b('v'), { ttlMs: 10 });
    store.set(b('reset'), b('v'), { ttlMs: 10 });
    store.renew(b('renewed'), 1000);
    store.set(b('reset'), b('v2'));
    clock.advance(10);
    expect(store.sweep()).toBe(0);
    expect(store.ttl(b('renewed'))).toBe(990);
    clock.advance(990 + EXPIRY_BUCKET_MS);
    expect(store.sweep()).toBe(1);
    expect(store.get(b('reset'))?.toString()).toBe('v2');
  });

  it('regression (issue 15 item 6): 100k renews of one TTL key among 100k TTL-less keys keep one queue pair and never walk the shards', () => {
    const { store } = make();
    for (let i = 0; i < 100_000; i += 1) store.set(b(`plain:${i}`), b('v'));
    store.set(b('session'), b('v'), { ttlMs: 30_000 });
    const walks = spyOnWalks();
    // The sliding-session pattern: every hit pushes the expiry later.
    for (let i = 0; i < 100_000; i += 1) expect(store.renew(b('session'), 30_000 + i)).toBe(true);
    expect(walks.calls()).toBe(0);
    expect(store.stats().expiry_queue).toBe(1);
    expect(store.ttl(b('session'))).toBe(30_000 + 99_999);
  });

  it('renews that move the expiry earlier stay bounded by compaction, with no walk of the shards', () => {
    const { store, clock } = make();
    for (let i = 0; i < 10_000; i += 1) store.set(b(`plain:${i}`), b('v'));
    for (let i = 0; i < 100; i += 1) store.set(b(`ttl:${i}`), b('v'), { ttlMs: 50_000 });
    store.set(b('k'), b('v'), { ttlMs: 200_000 });
    const walks = spyOnWalks();
    let maxQueue = 0;
    // Each renew lands in an earlier bucket, so each pushes a pair and leaves one stale.
    for (let i = 0; i < 100_000; i += 1) {
      store.renew(b('k'), 200_000 - 2 * i);
      maxQueue = Math.max(maxQueue, store.stats().expiry_queue);
    }
    expect(walks.calls()).toBe(0);
    // Owned pairs: 101. Compaction starts past 2 × 101 + 1,024 and wins within a pass.
    expect(maxQueue).toBeLessThanOrEqual(2 * 101 + 1024 + 1024);
    expect(store.ttl(b('k'))).toBe(2);
    clock.advance(2 + EXPIRY_BUCKET_MS);
    expect(store.sweep(1_000)).toBe(1);
    clock.advance(50_000);
    expect(store.sweep(1_000)).toBe(100);
    const stats = store.stats();
    expect([stats.curr_items, stats.expired_swept, stats.expired_lazy]).toEqual([10_000, 101, 0]);
  });

  it('a key renewed later is re-queued by the sweep when its old pair comes due, then reclaimed at its new expiry', () => {
    const { store, clock } = make();
    store.set(b('k'), b('v'), { ttlMs: 100 });
    store.renew(b('k'), 1_000);
    store.renew(b('k'), 2_000);
    expect(store.stats().expiry_queue).toBe(1);
    clock.advance(100 + EXPIRY_BUCKET_MS);
    expect(store.sweep()).toBe(0);
    expect(store.stats().expiry_queue).toBe(1); // re-queued at its new time
    expect(store.ttl(b('k'))).toBe(2_000 - 100 - EXPIRY_BUCKET_MS);
    clock.advance(2_000 - 100);
    expect(store.sweep()).toBe(1);
    expect(store.stats()).toMatchObject({ curr_items: 0, expired_swept: 1, expired_lazy: 0, expiry_queue: 0 });
  });

  it('an overwrite with the same TTL reuses the key’s queue pair', () => {
    const { store, clock } = make();
    for (let i = 0; i < 10_000; i += 1) store.set(b('k'), b(`v${i}`), { ttlMs: 1_000 });
    expect(store.stats().expiry_queue).toBe(1);
    clock.advance(1_000 + EXPIRY_BUCKET_MS);
    expect(store.sweep()).toBe(1);
    expect(store.stats().curr_items).toBe(0);
  });

  it('reclaims every item whose bucket has ended and nothing else, counting each in its key\'s shard', () => {
    const shards = 16;
    const { store, clock } = make({ shards });
    const due = new Array<number>(shards).fill(0);
    const live = new Array<number>(shards).fill(0);
    const kinds = ['due', 'later', 'never'] as const;
    const keyOf = (i: number): string => `${kinds[i % 3]}:${i}`;
    for (let i = 0; i < 3_000; i += 1) {
      const key = keyOf(i);
      store.set(b(key), b(`v${i}`), { ttlMs: i % 3 === 0 ? 100 : i % 3 === 1 ? 5_000 : 0 });
      const shard = fnv1a(key) & (shards - 1);
      if (i % 3 === 0) due[shard] = (due[shard] as number) + 1;
      else live[shard] = (live[shard] as number) + 1;
    }
    clock.advance(100 + EXPIRY_BUCKET_MS);
    expect(store.sweep(1_000)).toBe(1_000);
    const stats = store.stats();
    expect([stats.curr_items, stats.expired_swept, stats.expired_lazy]).toEqual([2_000, 1_000, 0]);
    expect(stats.shards.map((s) => s.expired_swept)).toEqual(due);
    expect(stats.shards.map((s) => s.curr_items)).toEqual(live);
    expect(stats.shards.reduce((n, s) => n + s.bytes, 0)).toBe(stats.item_bytes);
    for (let i = 0; i < 3_000; i += 1) expect(store.get(b(keyOf(i)))?.toString(), keyOf(i)).toBe(i % 3 === 0 ? undefined : `v${i}`);
    expect(store.stats().expired_lazy).toBe(0); // the due ones were gone already, not expired on access
  });

  it('stops a slice by its time budget within 32 pairs, however long each pair takes', () => {
    const fake = new FakeClock();
    let ticking = false;
    // Each look at the clock during the sweep finds 1 ms gone: a 2 ms slice must stop at its second look.
    const clock = (): number => {
      if (ticking) fake.advance(1);
      return fake.read();
    };
    const { store } = make({ clock });
    for (let i = 0; i < 1_000; i += 1) store.set(b(`k${i}`), b('v'), { ttlMs: 10 });
    fake.advance(10 + EXPIRY_BUCKET_MS);
    ticking = true;
    const first = store.sweep(2);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(64);
    let total = first;
    for (let n = 0; n < 1_000 && total < 1_000; n += 1) total += store.sweep(2);
    expect(total).toBe(1_000);
    expect(store.stats().curr_items).toBe(0);
  });

  it('runs by itself on a timer with the real clock', async () => {
    const store = new Store({});
    stores.push(store);
    for (let i = 0; i < 100; i += 1) store.set(b(`k${i}`), b('v'), { ttlMs: 20 });
    const deadline = Date.now() + 2_000;
    while (store.stats().expired_swept < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(store.stats().expired_swept).toBe(100);
    expect(store.stats().curr_items).toBe(0);
  });
});

describe('flush and stats', () => {
  it('flush removes every key and keeps counters', () => {
    const { store } = make();
    store.set(b('a'), b('1'));
    store.get(b('a'));
    store.flush();
    expect(store.get(b('a'))).toBeUndefined();
    const stats = store.stats();
    expect([stats.curr_items, stats.item_bytes, stats.keyspace_hits, stats.total_sets]).toEqual([0, 0, 1, 1]);
    // The pages stay held for reuse: bytes is what the store holds, not what its items use.
    expect(stats.bytes).toBeLessThanOrEqual(stats.limit_maxbytes);
  });

  it('regression (issue 15 item 5): flush frees the pages, without a per-item walk or remove, and the store works after', () => {
    const { store, clock } = make({ shards: 4 });
    for (let i = 0; i < 20_000; i += 1) store.set(b(`k${i}`), b('value'), { ttlMs: i % 2 === 0 ? 1_000 : 0 });
    store.get(b('k1'));
    const walks = spyOnWalks();
    const scans = vi.spyOn(SlabEngine.prototype, 'scan');
    const removes = vi.spyOn(SlabEngine.prototype, 'remove');
    const held = store.stats().bytes;
    store.flush();
    expect(walks.calls()).toBe(1); // the engine's clear(): O(pages)
    expect(scans).not.toHaveBeenCalled();
    expect(removes).not.toHaveBeenCalled();
    let stats = store.stats();
    expect(stats).toMatchObject({ curr_items: 0, item_bytes: 0, bytes: held, expiry_queue: 0, keyspace_hits: 1, total_sets: 20_000, evictions: 0 });
    expect(stats.shards.every((s) => s.curr_items === 0 && s.bytes === 0)).toBe(true);
    for (let i = 0; i < 20_000; i += 1) expect(store.get(b(`k${i}`))).toBeUndefined();
    // After the flush, expiry works as before: the new entries are queued and swept.
    for (let i = 0; i < 10; i += 1) store.set(b(`n${i}`), b('v'), { ttlMs: 10 });
    expect(store.stats().expiry_queue).toBe(10);
    clock.advance(10 + EXPIRY_BUCKET_MS);
    expect(store.sweep()).toBe(10);
    stats = store.stats();
    expect([stats.curr_items, stats.expired_swept, stats.expiry_queue]).toEqual([0, 10, 0]);
  });

  it('counts each eviction in the evicted key\'s shard', () => {
    const shards = 8;
    const { store } = make({ shards, maxMemory: 1024 * 1024 });
    const written = new Array<number>(shards).fill(0);
    const keys: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const key = `k${i}`;
      keys.push(key);
      store.set(b(key), Buffer.alloc(100));
      const shard = fnv1a(key) & (shards - 1);
      written[shard] = (written[shard] as number) + 1;
    }
    const stats = store.stats();
    expect(stats.evictions).toBeGreaterThan(10_000);
    const readable = new Array<number>(shards).fill(0);
    for (const key of keys) {
      const shard = fnv1a(key) & (shards - 1);
      if (store.getView(b(key)) !== undefined) readable[shard] = (readable[shard] as number) + 1;
    }
    expect(stats.shards.map((s) => s.curr_items)).toEqual(readable);
    expect(stats.shards.map((s) => s.evictions)).toEqual(written.map((w, i) => w - (readable[i] as number)));
  });

  it('reports per-shard counters that add up to the totals', () => {
    const { store } = make({ shards: 8, maxMemory: 8 * 1024 * 1024 });
    for (let i = 0; i < 1000; i += 1) store.set(b(`k${i}`), b('value'));
    const stats = store.stats();
    expect(stats.shards).toHaveLength(8);
    expect(stats.shard_count).toBe(8);
    expect(stats.limit_maxbytes).toBe(8 * 1024 * 1024);
    expect(stats.shards.reduce((n, s) => n + s.curr_items, 0)).toBe(1000);
    expect(stats.shards.every((s) => s.curr_items > 60)).toBe(true); // FNV-1a spreads keys
  });
});
