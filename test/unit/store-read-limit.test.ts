// Reads with a length limit (the server's GET, GETS and GAT on a connection that cannot take a
// long answer, spec §2.1, §2.4): a longer value is reported by its length and never copied, and
// GAT then keeps the expiry. An outside review measured ~70 ms per TOO_LARGE GET of 64 MiB when
// the value was copied first.
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/index.js';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('Store reads with maxLength', () => {
  it('a value over maxLength comes back as its length (large objects included), within it as the value', () => {
    const store = new Store({ activeExpiry: false, maxMemory: 16 * 1024 * 1024 });
    stores.push(store);
    const key = Buffer.from('big');
    const value = Buffer.alloc(3 * 1024 * 1024, 7); // a large object on chained pages
    store.set(key, value, { ttlMs: 60_000 });
    expect(store.getAt(key, 0, key.length, 65_524)).toBe(value.length);
    expect(store.getViewAt(key, 0, key.length, 65_524)).toBe(value.length);
    expect(store.getWithVersion(key, 65_516)).toBe(value.length);
    expect(store.getAndTouch(key, 0, 65_524)).toBe(value.length);
    expect(store.ttl(key)).toBeGreaterThan(0); // the refused GAT kept the expiry
    expect((store.getAt(key, 0, key.length, value.length) as Buffer).equals(value)).toBe(true);
    expect((store.getViewAt(key, 0, key.length) as Buffer).equals(value)).toBe(true);
    expect(store.getAt(Buffer.from('none'), 0, 4, 10)).toBeUndefined();
    const small = Buffer.from('s');
    store.set(small, Buffer.from('tiny'));
    expect(store.getAt(small, 0, 1, 4)?.toString()).toBe('tiny');
    expect(store.getAt(small, 0, 1, 3)).toBe(4);
  });
});
