import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreChange, type StoreOptions } from '../../src/index.js';
import { EXPIRY_BUCKET_MS } from '../../src/store/expiry-queue.js';
import { FakeClock } from '../support/fake-clock.js';

/** What the hook saw: cause, the key as text (copied during the call) and the previous value as text. */
interface Seen {
  cause: StoreChange['cause'];
  key: string | undefined;
  previous: string | undefined;
}

const b = (s: string): Buffer => Buffer.from(s);
const stores: Store[] = [];
function make(options: StoreOptions = {}): { store: Store; clock: FakeClock; seen: Seen[] } {
  const clock = new FakeClock();
  const seen: Seen[] = [];
  const store = new Store({
    activeExpiry: false,
    clock: clock.read,
    ...options,
    onChange: (change) => {
      seen.push({ cause: change.cause, key: change.key?.toString('latin1'), previous: change.previousValue()?.toString('latin1') });
    },
  });
  stores.push(store);
  return { store, clock, seen };
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('Store change hook (issue 21)', () => {
  it('refuses a hook that is not a function', () => {
    expect(() => new Store({ onChange: 'x' as never })).toThrow(/onChange option/);
  });

  it('a stored SET of every kind fires once, with the key and the old value', () => {
    const { store, seen } = make();
    expect(store.set(b('k'), b('v1'))).toBe('stored');
    expect(seen).toEqual([{ cause: 'set', key: 'k', previous: undefined }]);
    seen.length = 0;
    expect(store.set(b('k'), b('v2'), { xx: true })).toBe('stored');
    expect(store.set(b('k'), b('v3'), { keepTtl: true })).toBe('stored');
    expect(store.set(b('n'), b('w'), { nx: true })).toBe('stored');
    const version = store.getWithVersion(b('k'))!.version;
    expect(store.set(b('k'), b('v4'), { version })).toBe('stored');
    const frame = Buffer.from('xxkeyvalue');
    expect(store.setAt(frame, 2, 3, frame, 5, 5)).toBe('stored');
    expect(seen).toEqual([
      { cause: 'set', key: 'k', previous: 'v1' },
      { cause: 'set', key: 'k', previous: 'v2' },
      { cause: 'set', key: 'n', previous: undefined },
      { cause: 'set', key: 'k', previous: 'v3' },
      { cause: 'set', key: 'key', previous: undefined },
    ]);
  });

  it('nothing fires for a failed NX, XX or CAS, a DELETE or RENEW miss, a read, or a refused new key', () => {
    const { store, seen } = make({ maxMemory: 64 * 1024, shards: 1, eviction: 'none' });
    store.set(b('k'), b('v'));
    const version = store.getWithVersion(b('k'))!.version;
    seen.length = 0;
    expect(store.set(b('k'), b('x'), { nx: true })).toBe('not_stored');
    expect(store.set(b('absent'), b('x'), { xx: true })).toBe('not_stored');
    expect(store.set(b('k'), b('x'), { version: version + 1 })).toBe('version_mismatch');
    expect(store.set(b('absent'), b('x'), { version })).toBe('not_found');
    expect(store.delete(b('absent'))).toBe(false);
    expect(store.renew(b('absent'), 10)).toBe(false);
    expect(store.getAndTouch(b('absent'), 10)).toBeUndefined();
    expect(store.incr(b('k'), 1n)).toBe('not_integer');
    expect(store.get(b('k'))?.toString()).toBe('v');
    expect(store.ttl(b('k'))).toBe(-1);
    expect(store.set(b('big'), Buffer.alloc(128 * 1024))).toBe('too_large');
    expect(seen).toEqual([]);
  });

  it('DELETE, INCR, RENEW and GAT fire once each; GAT of a value too long to answer changes nothing and fires nothing', () => {
    const { store, seen } = make();
    store.set(b('k'), b('v'));
    store.set(b('n'), b('41'));
    seen.length = 0;
    expect(store.delete(b('k'))).toBe(true);
    expect(store.incr(b('n'), 1n)).toBe(42n);
    expect(store.incr(b('fresh'), 5n)).toBe(5n);
    expect(store.renew(b('n'), 1000)).toBe(true);
    expect(store.getAndTouch(b('n'), 2000)?.toString()).toBe('42');
    expect(store.getAndTouch(b('n'), 3000, 1)).toBe(2);
    expect(seen).toEqual([
      { cause: 'delete', key: 'k', previous: 'v' },
      { cause: 'incr', key: 'n', previous: '41' },
      { cause: 'incr', key: 'fresh', previous: undefined },
      { cause: 'renew', key: 'n', previous: '42' },
      { cause: 'gat', key: 'n', previous: '42' },
    ]);
  });

  it('expiry fires once, whether found on access or by the sweep', () => {
    const { store, clock, seen } = make();
    store.set(b('lazy'), b('1'), { ttlMs: 10 });
    store.set(b('swept'), b('2'), { ttlMs: 10 });
    seen.length = 0;
    clock.advance(10 + 2 * EXPIRY_BUCKET_MS);
    expect(store.get(b('lazy'))).toBeUndefined();
    expect(store.get(b('lazy'))).toBeUndefined();
    expect(store.sweep(1000)).toBe(1);
    expect(store.sweep(1000)).toBe(0);
    expect(seen).toEqual([
      { cause: 'expired', key: 'lazy', previous: '1' },
      { cause: 'expired', key: 'swept', previous: '2' },
    ]);
  });

  it('eviction fires once per evicted key, with its key, before it is gone', () => {
    const { store, seen } = make({ maxMemory: 1024 * 1024, shards: 1 });
    const value = Buffer.alloc(1000, 7);
    let n = 0;
    while (store.stats().evictions < 5) store.set(b(`k${n++}`), value);
    const evicted = seen.filter((s) => s.cause === 'evicted');
    expect(evicted.map((s) => s.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(evicted.every((s) => s.previous === value.toString('latin1'))).toBe(true);
    expect(seen.filter((s) => s.cause === 'set')).toHaveLength(n);
    for (const s of evicted) expect(store.get(b(s.key!))).toBeUndefined();
  });

  it('FLUSH fires once with no key', () => {
    const { store, seen } = make();
    store.set(b('a'), b('1'));
    store.set(b('c'), b('2'));
    seen.length = 0;
    store.flush();
    expect(seen).toEqual([{ cause: 'flush', key: undefined, previous: undefined }]);
  });

  it('the key is a view of the caller’s bytes during the call', () => {
    const keys: Buffer[] = [];
    const store = new Store({ activeExpiry: false, onChange: (change) => change.key !== undefined && keys.push(Buffer.from(change.key)) });
    stores.push(store);
    const frame = Buffer.from('..abc..');
    store.setAt(frame, 2, 3, frame, 0, 1);
    expect(keys.map((k) => k.toString())).toEqual(['abc']);
  });
});
