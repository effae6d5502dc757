import { describe, expect, it } from 'vitest';
import { NearCache, resolveNearCacheOptions, type NearCacheOptions } from '../../src/client/near-cache.js';
import { ConduitClient } from '../../src/index.js';

const near = (options: NearCacheOptions = {}): NearCache => {
  const cache = new NearCache(resolveNearCacheOptions(options) as NonNullable<ReturnType<typeof resolveNearCacheOptions>>);
  cache.tracking('on');
  return cache;
};
const b = (s: string): Buffer => Buffer.from(s);

describe('near cache: the map', () => {
  it('answers a fresh copy of what was filled, counting hits and misses', () => {
    const cache = near();
    expect(cache.lookup(b('k'))).toBeUndefined();
    cache.fill(b('k'), b('v1'));
    const first = cache.lookup(b('k')) as Buffer;
    expect(first.toString()).toBe('v1');
    first.fill(0); // the caller owns its copy
    expect(cache.lookup(b('k'))?.toString()).toBe('v1');
    expect(cache.stats()).toMatchObject({ state: 'on', hits: 2, misses: 1, entries: 1 });
  });

  it('keeps at most maxEntries, the least recently used going first', () => {
    const cache = near({ maxEntries: 2 });
    cache.fill(b('a'), b('1'));
    cache.fill(b('b'), b('2'));
    cache.lookup(b('a'));
    cache.fill(b('c'), b('3'));
    expect([cache.lookup(b('a'))?.toString(), cache.lookup(b('b')), cache.lookup(b('c'))?.toString()]).toEqual(['1', undefined, '3']);
    expect(cache.stats().entries).toBe(2);
  });

  it('keeps at most maxBytes (keys, values and a per-entry overhead), and never a value larger than that', () => {
    const cache = near({ maxBytes: 1_000 });
    for (let i = 0; i < 20; i += 1) cache.fill(b(`k${i}`), Buffer.alloc(100));
    const { bytes, entries } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(1_000);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(20);
    cache.fill(b('big'), Buffer.alloc(2_000));
    expect(cache.lookup(b('big'))).toBeUndefined();
  });

  it('expires values after ttlMs when it is set, and never without it', async () => {
    const timed = near({ ttlMs: 20 });
    const forever = near();
    timed.fill(b('k'), b('v'));
    forever.fill(b('k'), b('v'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(timed.lookup(b('k'))).toBeUndefined();
    expect(forever.lookup(b('k'))?.toString()).toBe('v');
  });

  it('drops the keys an INVALIDATE names, and everything for ALL (a whole-cache drop)', () => {
    const cache = near();
    for (const k of ['a', 'b', 'c']) cache.fill(b(k), b(k));
    cache.invalidate([b('a'), b('c'), b('absent')]);
    expect([cache.lookup(b('a')), cache.lookup(b('b'))?.toString(), cache.lookup(b('c'))]).toEqual([undefined, 'b', undefined]);
    cache.invalidate('all');
    expect(cache.stats()).toMatchObject({ invalidations: 2, drops: 1, entries: 0 });
  });

  it('treats keys as bytes: two keys that differ only in bytes that are not UTF-8 stay apart', () => {
    const cache = near();
    cache.fill(Buffer.from([0xff, 0x01]), b('x'));
    cache.fill(Buffer.from([0xfe, 0x01]), b('y'));
    expect(cache.lookup(Buffer.from([0xff, 0x01]))?.toString()).toBe('x');
    expect(cache.lookup(Buffer.from([0xfe, 0x01]))?.toString()).toBe('y');
  });

  it('fills nothing until tracking is acknowledged, and drops everything when the connection is lost', () => {
    const cache = new NearCache(resolveNearCacheOptions({}) as NonNullable<ReturnType<typeof resolveNearCacheOptions>>);
    cache.tracking('asking');
    cache.fill(b('k'), b('v'));
    cache.tracking('on');
    expect(cache.lookup(b('k'))).toBeUndefined();
    cache.fill(b('k'), b('v'));
    cache.lost();
    expect(cache.stats()).toMatchObject({ state: 'off', entries: 0, drops: 1 });
    cache.fill(b('k'), b('v'));
    expect(cache.stats().entries).toBe(0);
  });
});

describe('near cache: the generation rule (a write from this client wins over a later fill)', () => {
  it('a write sent drops the entry, and no answer fills the key while the write is in flight', () => {
    const cache = near();
    cache.fill(b('k'), b('old'));
    cache.writeSent(b('k'));
    expect(cache.lookup(b('k'))).toBeUndefined();
    cache.fill(b('k'), b('old')); // a GET sent before the write, answered before it
    expect(cache.lookup(b('k'))).toBeUndefined();
    cache.writeSettled(b('k'));
    cache.fill(b('k'), b('new'));
    expect(cache.lookup(b('k'))?.toString()).toBe('new');
  });

  it('counts writes in flight per key: the key stays unfilled until the last one settles', () => {
    const cache = near();
    cache.writeSent(b('k'));
    cache.writeSent(b('k'));
    cache.writeSettled(b('k'));
    cache.fill(b('k'), b('v'));
    expect(cache.lookup(b('k'))).toBeUndefined();
    cache.fill(b('other'), b('v')); // other keys are unaffected
    expect(cache.lookup(b('other'))?.toString()).toBe('v');
    cache.writeSettled(b('k'));
    cache.fill(b('k'), b('v'));
    expect(cache.lookup(b('k'))?.toString()).toBe('v');
  });
});

describe('near cache: the nearCache option', () => {
  it('fills in the defaults', () => {
    expect(resolveNearCacheOptions({})).toEqual({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, ttlMs: 0, prefixes: undefined });
    expect(resolveNearCacheOptions(undefined)).toBeUndefined();
    expect(resolveNearCacheOptions({ prefixes: ['user:', Buffer.from([0xff])] })?.prefixes).toEqual([Buffer.from('user:'), Buffer.from([0xff])]);
  });

  it.each([
    [{ maxEntries: 0 }, /nearCache\.maxEntries option must be an integer from 1/],
    [{ maxEntries: 1.5 }, /nearCache\.maxEntries/],
    [{ maxBytes: -1 }, /nearCache\.maxBytes option must be an integer from 1/],
    [{ ttlMs: -1 }, /nearCache\.ttlMs option must be an integer from 0/],
    [{ ttlMs: '5' }, /nearCache\.ttlMs/],
    [{ prefixes: [] }, /nearCache\.prefixes option must list 1 to 16 prefixes, got 0/],
    [{ prefixes: Array.from({ length: 17 }, () => 'p') }, /nearCache\.prefixes option must list 1 to 16/],
    [{ prefixes: ['x'.repeat(251)] }, /nearCache\.prefixes\[0\] must be at most 250 bytes/],
    [{ prefixes: [7] }, /nearCache\.prefixes\[0\] must be a string or a Buffer/],
    [{ maxEntrys: 5 }, /nearCache\.maxEntrys is not an option/],
  ])('refuses %j naming the option', (option, message) => {
    expect(() => resolveNearCacheOptions(option as NearCacheOptions)).toThrow(message);
    expect(() => new ConduitClient({ nearCache: option as NearCacheOptions })).toThrow(TypeError);
  });

  it('refuses a non-object', () => {
    expect(() => new ConduitClient({ nearCache: 5 as unknown as NearCacheOptions })).toThrow(/nearCache option must be an object/);
  });

  it('is for one server: refused with servers or discover', () => {
    expect(() => new ConduitClient({ servers: ['127.0.0.1:7171'], nearCache: {} })).toThrow(/nearCache option needs a single server/);
    expect(() => new ConduitClient({ discover: true, nearCache: {} })).toThrow(/nearCache option needs a single server/);
  });

  it('a client without it reports the near cache off with zeros', () => {
    expect(new ConduitClient({}).nearCacheStats()).toEqual({ state: 'off', hits: 0, misses: 0, invalidations: 0, drops: 0, entries: 0, bytes: 0 });
  });
});
