// The store side of a snapshot save (issue 22, docs/SNAPSHOT.md "Records",
// "Order and what is saved"): ItemExport's records, their order, what it
// skips, and its fuzzy contract under writes between slices.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store, type StoreOptions } from '../../src/index.js';
import { ORDER_BUCKETS, RECORD_HEADER_SIZE } from '../../src/store/item-export.js';
import { FakeClock } from '../support/fake-clock.js';
import { allRecords, decodeRecords, exportAll, valueOf } from '../support/snapshot-items.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const WALL = 1_700_000_000_000;
const stores: Store[] = [];
function make(options: StoreOptions = {}): { store: Store; clock: FakeClock } {
  const clock = new FakeClock();
  const store = new Store({ activeExpiry: false, clock: clock.read, ...options });
  stores.push(store);
  return { store, clock };
}
beforeEach(() => {
  vi.spyOn(Date, 'now').mockReturnValue(WALL);
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const s of stores.splice(0)) s.close();
});

describe('ItemExport records (docs/SNAPSHOT.md "Records")', () => {
  it('an empty store exports nothing', () => {
    const { store } = make();
    const items = store.beginExport();
    expect(items.collect(10)).toBe(true);
    items.order();
    expect(items.collected).toBe(0);
    expect(items.nextRecordSize()).toBe(0);
    expect(items.fill(new Uint8Array(100), 0, 100)).toBe(0);
    expect(items.filled).toBe(0);
  });

  it('writes key length, value length, wall-clock expiry, version, key and value, little-endian', () => {
    const { store } = make();
    store.set(b('key'), b('hello'), { ttlMs: 5_000 });
    const version = store.getWithVersion(b('key'))!.version;
    const items = store.beginExport();
    expect(items.collect(1 << 16)).toBe(true);
    items.order();
    expect(items.nextRecordSize()).toBe(RECORD_HEADER_SIZE + 3 + 5);
    const target = new Uint8Array(100).fill(0xee);
    expect(items.fill(target, 10, 100)).toBe(29);
    expect(items.filled).toBe(1);
    const view = Buffer.from(target.buffer);
    expect(view[10]).toBe(3);
    expect(view.readUInt32LE(11)).toBe(5);
    // The fake clock reads 1,000 at the start: expiry at clock 6,000 is wall 1.7e12 + 5,000.
    expect(view.readDoubleLE(15)).toBe(WALL + 5_000);
    expect(view.readDoubleLE(23)).toBe(version);
    expect(view.subarray(31, 39).toString('latin1')).toBe('keyhello');
    expect(view[9]).toBe(0xee);
    expect(view[39]).toBe(0xee);
    expect(items.nextRecordSize()).toBe(0);
  });

  it('rounds expiry to an integer of ms, never 0 (0 = never expires)', () => {
    const clock = { now: 1000.4, read: (): number => clock.now };
    const store = new Store({ activeExpiry: false, clock: clock.read });
    stores.push(store);
    store.set(b('a'), b('1'), { ttlMs: 1 });
    store.set(b('b'), b('2'));
    const records = allRecords(exportAll(store));
    const byKey = new Map(records.map((r) => [r.key, r]));
    expect(byKey.get('a')!.expiry).toBe(WALL + 1);
    expect(Number.isInteger(byKey.get('a')!.expiry)).toBe(true);
    expect(byKey.get('b')!.expiry).toBe(0);
  });

  it('exports 0-byte values, 250-byte keys and values larger than a page', () => {
    const { store } = make({ maxMemory: 64 * 1024 * 1024 });
    const long = Buffer.alloc(250, 'k');
    const big = valueOf(3 * 1024 * 1024 + 17, 5);
    store.set(b('empty'), Buffer.alloc(0));
    store.set(long, b('v'));
    store.set(b('big'), big);
    const records = allRecords(exportAll(store, { sectionBytes: 4096 }));
    const byKey = new Map(records.map((r) => [r.key, r.value]));
    expect(records).toHaveLength(3);
    expect(byKey.get('empty')!.length).toBe(0);
    expect(byKey.get(long.toString('latin1'))!.toString()).toBe('v');
    expect(byKey.get('big')!.equals(big)).toBe(true);
  });

  it('fill writes whole records only: 0 when the next does not fit, and nextRecordSize says how much it needs', () => {
    const { store } = make();
    for (let i = 0; i < 10; i += 1) store.set(b(`k${i}`), Buffer.alloc(100, i));
    const items = store.beginExport();
    while (!items.collect(3));
    items.order();
    const size = items.nextRecordSize();
    expect(size).toBe(RECORD_HEADER_SIZE + 2 + 100);
    expect(items.fill(new Uint8Array(size - 1), 0, size - 1)).toBe(0);
    expect(items.filled).toBe(0);
    // Room for two and a half records: two written.
    const target = new Uint8Array(size * 2 + size / 2);
    expect(items.fill(target, 0, target.length)).toBe(size * 2);
    expect(items.filled).toBe(2);
    let total = 2;
    while (items.nextRecordSize() > 0) {
      items.fill(target, 0, target.length);
      total += items.filled;
    }
    expect(total).toBe(10);
  });

  it('collecting one slot a slice finds the same items as one slice', () => {
    const { store } = make({ maxMemory: 4 * 1024 * 1024 });
    for (let i = 0; i < 300; i += 1) store.set(b(`k${i}`), valueOf((i * 37) % 2000, i));
    store.set(b('large'), valueOf(300_000, 1)); // a large object at this budget's 128 KiB pages
    const whole = allRecords(exportAll(store)).map((r) => r.key).sort();
    const sliced = allRecords(exportAll(store, { slots: 1 })).map((r) => r.key).sort();
    expect(sliced).toEqual(whole);
    expect(whole).toHaveLength(301);
  });

  it('items written after beginExport and before their slot is visited are collected too (the arrays grow)', () => {
    const { store } = make();
    for (let i = 0; i < 10; i += 1) store.set(b(`k${i}`), b('v'));
    const items = store.beginExport(); // sized for 10 items
    for (let i = 10; i < 5000; i += 1) store.set(b(`k${i}`), b('v'));
    while (!items.collect(1000));
    expect(items.collected).toBe(5000);
    items.order();
    const target = new Uint8Array(1 << 20);
    const keys = decodeRecords(target.subarray(0, items.fill(target, 0, target.length))).map((r) => r.key);
    expect(new Set(keys).size).toBe(5000);
  });

  it('refuses fill before order, order before collect is done, and a second order', () => {
    const { store } = make();
    for (let i = 0; i < 5; i += 1) store.set(b(`k${i}`), b('v'));
    const items = store.beginExport();
    expect(() => items.fill(new Uint8Array(10), 0, 10)).toThrow(/after order/);
    expect(items.collect(1)).toBe(false);
    expect(() => items.order()).toThrow(/after collect/);
    while (!items.collect(1));
    items.order();
    expect(() => items.order()).toThrow(/once/);
    expect(() => items.fill(new Uint8Array(10), 5, 11)).toThrow(RangeError);
  });
});

describe('what a save skips', () => {
  it('an item expired before it is collected, or between collect and fill, is not written', () => {
    const { store, clock } = make();
    store.set(b('short'), b('1'), { ttlMs: 10 });
    store.set(b('mid'), b('2'), { ttlMs: 100 });
    store.set(b('long'), b('3'), { ttlMs: 10_000 });
    store.set(b('forever'), b('4'));
    clock.advance(10);
    const items = store.beginExport();
    while (!items.collect(1 << 16));
    expect(items.collected).toBe(3); // 'short' expired at collection
    items.order();
    clock.advance(90);
    const target = new Uint8Array(1000);
    const keys = decodeRecords(target.subarray(0, items.fill(target, 0, target.length))).map((r) => r.key);
    expect(keys.sort()).toEqual(['forever', 'long']);
  });

  it('an item deleted after collection is skipped; its handle reused by another item writes that item', () => {
    const { store } = make();
    for (let i = 0; i < 20; i += 1) store.set(b(`k${i}`), Buffer.alloc(10, i));
    const items = store.beginExport();
    while (!items.collect(1 << 16));
    items.order();
    store.delete(b('k3'));
    store.delete(b('k4'));
    store.set(b('new'), Buffer.alloc(10, 99)); // same class: takes a freed chunk
    const target = new Uint8Array(10_000);
    const records = decodeRecords(target.subarray(0, items.fill(target, 0, target.length)));
    const keys = records.map((r) => r.key);
    expect(keys).not.toContain('k3');
    expect(keys).not.toContain('k4');
    expect(keys).toContain('new');
    expect(records.find((r) => r.key === 'new')!.value.equals(Buffer.alloc(10, 99))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(19);
  });

  it('an overwrite after collection writes the new value (the fuzzy contract: old or new, never torn)', () => {
    const { store } = make();
    store.set(b('k'), Buffer.alloc(50, 1));
    const items = store.beginExport();
    while (!items.collect(1 << 16));
    items.order();
    store.set(b('k'), Buffer.alloc(50, 2)); // in place: the same handle
    const target = new Uint8Array(1000);
    const [record] = decodeRecords(target.subarray(0, items.fill(target, 0, target.length)));
    expect(record!.value.equals(Buffer.alloc(50, 2))).toBe(true);
  });
});

describe('order (docs/SNAPSHOT.md "Order and what is saved")', () => {
  it('oldest first by last use: writes and reads both count', () => {
    const { store } = make();
    for (let i = 0; i < 100; i += 1) store.set(b(`k${i}`), valueOf(10 + ((i * 13) % 500), i)); // several classes
    for (let i = 0; i < 100; i += 3) store.get(b(`k${i}`));
    const expected = [...Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 !== 0), ...Array.from({ length: 34 }, (_, j) => j * 3)];
    const keys = allRecords(exportAll(store, { slots: 7 })).map((r) => r.key);
    expect(keys).toEqual(expected.map((i) => `k${i}`));
  });

  it(`over a stamp range wider than ${ORDER_BUCKETS} buckets, items farther apart than a bucket keep their order`, () => {
    const { store } = make();
    // 1,000 keys with 150 reads of a filler between two writes: a range of
    // ~151,000 stamps, a bucket of ~2.3, the keys 151 apart.
    store.set(b('filler'), b('x'));
    for (let i = 0; i < 1000; i += 1) {
      store.set(b(`k${i}`), b('v'));
      for (let r = 0; r < 150; r += 1) store.get(b('filler'));
    }
    const keys = allRecords(exportAll(store))
      .map((r) => r.key)
      .filter((k) => k !== 'filler');
    expect(keys).toEqual(Array.from({ length: 1000 }, (_, i) => `k${i}`));
  });

  it('items within one bucket may swap, but never by more than a bucket', () => {
    const { store } = make();
    const n = 100_000; // stamps 1..100,000: a bucket holds 1 or 2
    for (let i = 0; i < n; i += 1) store.set(b(`k${i}`), b(''));
    const keys = allRecords(exportAll(store, { sectionBytes: 1 << 20 })).map((r) => Number(r.key.slice(1)));
    expect(keys).toHaveLength(n);
    const width = Math.ceil(n / ORDER_BUCKETS);
    let highest = -1;
    let worst = 0;
    for (const k of keys) {
      worst = Math.max(worst, highest - k);
      highest = Math.max(highest, k);
    }
    expect(worst).toBeLessThanOrEqual(width);
    expect(new Set(keys).size).toBe(n);
  });
});
