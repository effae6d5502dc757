// Regression (issue 15 item 5): LIST walked every key, so one LIST that matched little over
// 1M keys held the event loop for 300 ms. It now examines at most Store.LIST_SCAN_LIMIT
// entries and says truncated when it stopped early (spec §3.5).
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/index.js';

const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };

describe('regression: LIST blocks everyone', () => {
  const store = new Store({ maxMemory: 256 * 1024 * 1024, shards: 4, eviction: 'lru' });
  const total = 3 * Store.LIST_SCAN_LIMIT;
  for (let i = 0; i < total; i += 1) store.set(Buffer.from(`${i % 3 === 0 ? 'a' : 'b'}:${i}`), Buffer.from('v'), options);

  it('a LIST that matches nothing stops after LIST_SCAN_LIMIT entries and says more may match', () => {
    expect(store.list(Buffer.from('none:'), 65_535)).toEqual({ keys: [], truncated: true });
  });

  it('a LIST that matches some keys returns those among the first LIST_SCAN_LIMIT entries, truncated', () => {
    const { keys, truncated } = store.list(Buffer.from('a:'), 65_535);
    expect(truncated).toBe(true);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(Store.LIST_SCAN_LIMIT);
    expect(keys.every((k) => k.toString().startsWith('a:'))).toBe(true);
  });

  it('a LIST over fewer keys than the limit examines them all and is not truncated', () => {
    const small = new Store({ maxMemory: 64 * 1024 * 1024, shards: 4, eviction: 'lru' });
    for (let i = 0; i < Store.LIST_SCAN_LIMIT; i += 1) small.set(Buffer.from(`k${i}`), Buffer.from('v'), options);
    const { keys, truncated } = small.list(Buffer.alloc(0), 65_535);
    expect(truncated).toBe(false);
    expect(keys).toHaveLength(Store.LIST_SCAN_LIMIT);
  });
});
