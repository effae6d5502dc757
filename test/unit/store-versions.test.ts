// Item versions, compare-and-set and get-and-touch in the store (spec §3.11,
// §3.12, issue 19 items 2 and 4): which operations give a key a new version,
// the outcomes of a conditional write, and GAT's expiry.
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../src/index.js';
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
});
const versionOf = (store: Store, key: string): number | undefined => store.getWithVersion(b(key))?.version;

describe('item versions (spec §3.11)', () => {
  it('every write gives a new version: SET of the same bytes, in place or moved to another class, NX, XX, KEEPTTL, INCR', () => {
    const { store } = make();
    const seen = new Set<number>();
    const expectNew = (what: string): void => {
      const v = versionOf(store, 'k');
      expect(v, what).toBeGreaterThan(0);
      expect(seen.has(v!), what).toBe(false);
      seen.add(v!);
    };
    store.set(b('k'), b('1'));
    expectNew('first SET');
    store.set(b('k'), b('1'));
    expectNew('SET of the same bytes (in place)');
    store.set(b('k'), Buffer.alloc(5000, 1));
    expectNew('SET into another class');
    store.set(b('k'), b('2'), { xx: true });
    expectNew('SET XX');
    store.set(b('k'), b('3'), { keepTtl: true });
    expectNew('SET KEEPTTL');
    store.incr(b('k'), 1n);
    expectNew('INCR');
    store.delete(b('k'));
    store.set(b('k'), b('1'), { nx: true });
    expectNew('SET NX after DELETE: never an old version back');
  });

  it('reads, RENEW, GAT and refused writes keep the version', () => {
    const { store } = make();
    store.set(b('k'), b('1'));
    const v = versionOf(store, 'k');
    store.get(b('k'));
    store.renew(b('k'), 1000);
    store.getAndTouch(b('k'), 0);
    expect(store.set(b('k'), b('2'), { nx: true })).toBe('not_stored');
    expect(store.set(b('k'), b('2'), { version: v! + 1 })).toBe('version_mismatch');
    expect(store.incr(b('k'), 1n << 62n)).toBeTypeOf('bigint');
    expect(store.incr(b('k'), 1n << 62n)).toBe('overflow');
    const afterIncr = versionOf(store, 'k');
    expect(afterIncr).not.toBe(v); // the first INCR wrote
    store.set(b('s'), b('text'));
    const s = versionOf(store, 's');
    expect(store.incr(b('s'), 1n)).toBe('not_integer');
    expect(versionOf(store, 's')).toBe(s);
    expect(versionOf(store, 'k')).toBe(afterIncr);
  });

  it('versions are per write, not per key: two keys never share one', () => {
    const { store } = make();
    for (let i = 0; i < 100; i += 1) store.set(b(`k${i}`), b('v'));
    const versions = new Set(Array.from({ length: 100 }, (_, i) => versionOf(store, `k${i}`)));
    expect(versions.size).toBe(100);
  });

  it('FLUSH does not restart the count', () => {
    const { store } = make();
    store.set(b('k'), b('v'));
    const v = versionOf(store, 'k')!;
    store.flush();
    store.set(b('k'), b('v'));
    expect(versionOf(store, 'k')).toBeGreaterThan(v);
  });
});

describe('compare-and-set (spec §3.11)', () => {
  it('stores on a match (with the TTL rules of SET), version_mismatch on another version, not_found on an absent or expired key', () => {
    const { store, clock } = make();
    expect(store.set(b('k'), b('a'), { version: 1 })).toBe('not_found');
    expect(store.get(b('k'))).toBeUndefined();
    store.set(b('k'), b('a'), { ttlMs: 1000 });
    const v = versionOf(store, 'k')!;
    expect(store.set(b('k'), b('b'), { version: v + 1 })).toBe('version_mismatch');
    expect(store.get(b('k'))?.toString()).toBe('a');
    expect(store.set(b('k'), b('b'), { version: v, keepTtl: true })).toBe('stored');
    expect(store.ttl(b('k'))).toBe(1000);
    expect(store.get(b('k'))?.toString()).toBe('b');
    expect(store.set(b('k'), b('c'), { version: v })).toBe('version_mismatch'); // the write moved the version on
    const w = versionOf(store, 'k')!;
    clock.advance(1001);
    expect(store.set(b('k'), b('c'), { version: w })).toBe('not_found'); // expired
  });

  it('a version of 2^53 or more (from the wire, read inexactly) matches nothing', () => {
    const { store } = make();
    store.set(b('k'), b('a'));
    expect(store.set(b('k'), b('b'), { version: 2 ** 64 })).toBe('version_mismatch');
  });
});

describe('GAT (spec §3.12)', () => {
  it('returns a copy of the value and sets the expiry (ttl 0 removes it); undefined when absent or expired; counts as a GET', () => {
    const { store, clock } = make();
    expect(store.getAndTouch(b('k'), 1000)).toBeUndefined();
    store.set(b('k'), b('v'), { ttlMs: 100 });
    expect(store.getAndTouch(b('k'), 5000)?.toString()).toBe('v');
    clock.advance(1000);
    expect(store.ttl(b('k'))).toBe(4000);
    expect(store.getAndTouch(b('k'), 0)?.toString()).toBe('v');
    expect(store.ttl(b('k'))).toBe(-1);
    store.set(b('e'), b('v'), { ttlMs: 10 });
    clock.advance(11);
    expect(store.getAndTouch(b('e'), 1000)).toBeUndefined();
    const stats = store.stats();
    expect([stats.keyspace_hits, stats.keyspace_misses]).toEqual([2, 2]);
  });

  it('the active sweep expires a key at the TTL that GAT set', () => {
    const { store, clock } = make();
    store.set(b('k'), b('v'));
    store.getAndTouch(b('k'), 50);
    clock.advance(10_000);
    store.sweep(1000);
    expect(store.stats().curr_items).toBe(0);
  });
});

describe('SlabEngine.version', () => {
  it('is 8 bytes of the header: a handle written in place keeps its chunk and takes a new version', () => {
    const engine = new SlabEngine({ maxMemory: 4 * 1024 * 1024 });
    const key = b('k');
    const h = engine.store(key, 0, 1, b('a'), 0, 1, 0);
    const v = engine.version(h);
    expect(engine.store(key, 0, 1, b('b'), 0, 1, 0)).toBe(h);
    expect(engine.version(h)).toBe(v + 1);
  });
});
