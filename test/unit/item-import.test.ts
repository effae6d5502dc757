// The store side of a snapshot load (issue 22, docs/SNAPSHOT.md "Records",
// "Loading"): ItemImport's validation of a section's records, what it
// stores, the remaining TTLs, versions, eviction into a smaller budget
// (with eviction 'none' too), skipped and duplicate records, abort.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store, type StoreChange, type StoreOptions } from '../../src/index.js';
import type { ImportCounts, RecordProblem } from '../../src/store/store.js';
import { FakeClock } from '../support/fake-clock.js';
import { allRecords, encodeRecord, exportAll, importAll, valueOf, type PlainSection } from '../support/snapshot-items.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const WALL = 1_700_000_000_000;
let wall = WALL;
const stores: Store[] = [];
function make(options: StoreOptions = {}): { store: Store; clock: FakeClock } {
  const clock = new FakeClock();
  const store = new Store({ activeExpiry: false, clock: clock.read, ...options });
  stores.push(store);
  return { store, clock };
}
beforeEach(() => {
  wall = WALL;
  vi.spyOn(Date, 'now').mockImplementation(() => wall);
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const s of stores.splice(0)) s.close();
});
const counts = (result: ImportCounts | RecordProblem): ImportCounts => {
  if ('message' in result) throw new Error(`unexpected problem: ${result.message}`);
  return result;
};
const section = (...records: Buffer[]): PlainSection => ({ bytes: Buffer.concat(records), records: records.length });

describe('a load puts back what a save wrote', () => {
  it('keys, values, remaining TTLs and versions, in a store with another clock', () => {
    const { store: source, clock } = make();
    const written = new Map<string, Buffer>();
    for (let i = 0; i < 500; i += 1) {
      const value = valueOf([0, 1, 100, 1000, 20_000][i % 5]!, i);
      source.set(b(`key-${i}`), value, { ttlMs: i % 2 === 0 ? 0 : 60_000 + i });
      written.set(`key-${i}`, value);
    }
    const versions = new Map([...written.keys()].map((k) => [k, source.getWithVersion(b(k))!.version]));
    clock.advance(1_000); // 1 s passes before the save
    const sections = exportAll(source, { sectionBytes: 32 * 1024 });
    // The restart: 2 s later on the wall clock, a new process whose clock starts elsewhere.
    wall += 2_000;
    const { store: target, clock: clock2 } = make();
    clock2.now = 50;
    const result = counts(importAll(target, sections));
    expect(result).toEqual({ records: 500, loaded: 500, expired: 0, evicted: 0, skipped: 0 });
    for (const [key, value] of written) {
      const read = target.getWithVersion(b(key))!;
      expect(read.value.equals(value), key).toBe(true);
      expect(read.version, key).toBe(versions.get(key));
      const i = Number(key.slice(4));
      // Set at clock 1,000 with 60,000 + i ms, saved at 2,000, loaded 2 s of wall time later: 57,000 + i ms left.
      expect(target.ttl(b(key)), key).toBe(i % 2 === 0 ? -1 : 57_000 + i);
    }
    const stats = target.stats();
    expect(stats.curr_items).toBe(500);
    expect(stats.total_sets).toBe(0);
    expect(stats.evictions).toBe(0);
  });

  it('an item whose expiry passed between save and load is not loaded (expired)', () => {
    const { store: source } = make();
    source.set(b('soon'), b('1'), { ttlMs: 1_000 });
    source.set(b('later'), b('2'), { ttlMs: 10_000 });
    const sections = exportAll(source);
    wall += 1_000;
    const { store } = make();
    expect(counts(importAll(store, sections))).toEqual({ records: 2, loaded: 1, expired: 1, evicted: 0, skipped: 0 });
    expect(store.get(b('soon'))).toBeUndefined();
    expect(store.ttl(b('later'))).toBe(9_000);
  });

  it('the active expiry reclaims a loaded item when its remaining time is up', () => {
    const { store: source } = make();
    source.set(b('k'), b('v'), { ttlMs: 5_000 });
    const sections = exportAll(source);
    const { store, clock } = make();
    counts(importAll(store, sections));
    clock.advance(4_999);
    expect(store.sweep(10)).toBe(0);
    clock.advance(200);
    expect(store.sweep(10)).toBe(1);
    expect(store.stats().curr_items).toBe(0);
  });

  it('LRU order comes back: after the load the oldest items are evicted first', () => {
    const { store: source } = make();
    for (let i = 0; i < 50; i += 1) source.set(b(`k${i}`), Buffer.alloc(100, i));
    for (let i = 0; i < 50; i += 2) source.get(b(`k${i}`)); // the even keys are now the newest
    const sections = exportAll(source);
    const { store } = make();
    counts(importAll(store, sections));
    expect(allRecords(exportAll(store)).map((r) => r.key)).toEqual(allRecords(sections).map((r) => r.key));
  });
});

describe('versions (spec §3.11)', () => {
  it('are kept; the next write gets a higher one; a CAS with a version read before the restart works', () => {
    const { store: source } = make();
    for (let i = 0; i < 100; i += 1) source.set(b(`k${i}`), b(`v${i}`));
    for (let i = 0; i < 30; i += 1) source.set(b('hot'), b(`h${i}`));
    const before = source.getWithVersion(b('hot'))!.version;
    const old = source.getWithVersion(b('k1'))!.version;
    const { store } = make();
    counts(importAll(store, exportAll(source)));
    expect(store.getWithVersion(b('hot'))!.version).toBe(before);
    // A fresh key's version is above every loaded one.
    store.set(b('fresh'), b('x'));
    expect(store.getWithVersion(b('fresh'))!.version).toBeGreaterThan(before);
    // CAS with the pre-restart version matches; a stale one does not.
    expect(store.set(b('hot'), b('new'), { version: before })).toBe('stored');
    expect(store.set(b('k1'), b('new'), { version: old + 1 })).toBe('version_mismatch');
    expect(store.set(b('k1'), b('new'), { version: old })).toBe('stored');
    expect(store.getWithVersion(b('hot'))!.version).toBeGreaterThan(before);
  });

  it('a record with a version above every write so far raises the counter above it', () => {
    const { store } = make();
    const high = 2 ** 52;
    counts(importAll(store, [section(encodeRecord(b('a'), b('1'), 0, high))]));
    expect(store.getWithVersion(b('a'))!.version).toBe(high);
    store.set(b('b'), b('2'));
    expect(store.getWithVersion(b('b'))!.version).toBe(high + 1);
  });

  it('with a version mark and gap, the counter goes to max(mark, highest loaded) + gap (no version given twice)', () => {
    for (const [mark, highest] of [[5_000, 40], [40, 40]] as const) {
      const { store } = make();
      const items = store.beginImport({ maxValueLength: 1024, versionMark: mark, versionGap: 2 ** 32 });
      const bytes = encodeRecord(b('a'), b('1'), 0, highest);
      expect(items.add(bytes, 0, bytes.length, 1)).toBeUndefined();
      items.finish();
      expect(store.lastVersion).toBe(mark + 2 ** 32);
      store.set(b('b'), b('2'));
      expect(store.getWithVersion(b('b'))!.version).toBe(mark + 2 ** 32 + 1);
      expect(store.getWithVersion(b('a'))!.version).toBe(highest);
    }
  });

  it('refuses a record above the version mark, and a mark or gap out of range', () => {
    const { store } = make();
    const items = store.beginImport({ maxValueLength: 1024, versionMark: 99 });
    const bytes = Buffer.concat([encodeRecord(b('a'), b('1'), 0, 99), encodeRecord(b('c'), b('1'), 0, 100)]);
    expect(items.add(bytes, 0, bytes.length, 2)?.message).toBe("record 1 has a version of 100, above the file's version mark 99");
    items.abort();
    expect(() => store.beginImport({ maxValueLength: 1, versionMark: 2 ** 52 + 1 })).toThrow(/versionMark option must be an integer from 0 to 2\^52/);
    expect(() => store.beginImport({ maxValueLength: 1, versionGap: 2 ** 51 + 1 })).toThrow(/versionGap option must be an integer from 0 to 2\^51/);
  });
});

describe('a budget smaller than the file (docs/SNAPSHOT.md "Loading")', () => {
  const fill = (eviction: 'lru' | 'none'): void => {
    const { store: source } = make({ maxMemory: 16 * 1024 * 1024 });
    // 2,000 items of one class (a 1,104-byte chunk), then reads that reorder them.
    for (let i = 0; i < 2000; i += 1) source.set(b(`k${String(i).padStart(4, '0')}`), valueOf(1000, i));
    for (let i = 0; i < 2000; i += 7) source.get(b(`k${String(i).padStart(4, '0')}`));
    const sections = exportAll(source);
    const fileOrder = allRecords(sections).map((r) => r.key); // oldest first
    const { store } = make({ maxMemory: 1024 * 1024, eviction }); // 32 KiB pages: room for some 800
    const result = counts(importAll(store, sections));
    expect(result.records).toBe(2000);
    expect(result.loaded).toBeGreaterThan(500);
    expect(result.loaded).toBeLessThan(1000);
    expect(result.loaded + result.evicted).toBe(2000);
    const stats = store.stats();
    expect(stats.curr_items).toBe(result.loaded);
    expect(stats.evictions).toBe(0); // counted in the load's 'evicted', not in STATS
    // One class: what is kept is exactly the newest `loaded` records of the file.
    const kept = fileOrder.filter((k) => store.get(b(k)) !== undefined);
    expect(kept).toEqual(fileOrder.slice(fileOrder.length - result.loaded));
  };
  it('keeps the most recently used items (eviction lru)', () => fill('lru'));
  it('keeps the most recently used items with eviction none too, which then refuses writes again', () => {
    fill('none');
    const store = stores.at(-1)!;
    expect(store.set(b('more'), valueOf(1000, 0))).toBe('out_of_memory');
  });

  it('with several classes, keeps mostly the newest (a class evicts its own tail unless another is 2x older)', () => {
    const { store: source } = make({ maxMemory: 16 * 1024 * 1024 });
    for (let i = 0; i < 3000; i += 1) source.set(b(`k${i}`), valueOf([100, 1000, 5000][i % 3]!, i));
    const sections = exportAll(source);
    const fileOrder = allRecords(sections).map((r) => r.key);
    const { store } = make({ maxMemory: 2 * 1024 * 1024 });
    const result = counts(importAll(store, sections));
    expect(result.evicted).toBeGreaterThan(0);
    const kept = new Set(fileOrder.filter((k) => store.get(b(k)) !== undefined));
    expect(kept.size).toBe(result.loaded);
    // The newest quarter of what fits is all there; the oldest half of the file is nearly all gone.
    const newest = fileOrder.slice(fileOrder.length - Math.floor(result.loaded / 4));
    expect(newest.every((k) => kept.has(k))).toBe(true);
    const oldestHalf = fileOrder.slice(0, 1500);
    expect(oldestHalf.filter((k) => kept.has(k)).length).toBeLessThan(result.loaded / 10);
  });
});

describe('records the load does not store', () => {
  it('skips values longer than maxValueLength', () => {
    const { store } = make();
    const result = counts(importAll(store, [section(encodeRecord(b('small'), Buffer.alloc(10), 0, 1), encodeRecord(b('big'), Buffer.alloc(11), 0, 2))], 10));
    expect(result).toEqual({ records: 2, loaded: 1, expired: 0, evicted: 0, skipped: 1 });
    expect(store.get(b('big'))).toBeUndefined();
  });

  it('skips an item larger than the whole budget', () => {
    const { store } = make({ maxMemory: 64 * 1024 });
    const result = counts(importAll(store, [section(encodeRecord(b('huge'), Buffer.alloc(100_000), 0, 1), encodeRecord(b('ok'), b('v'), 0, 2))]));
    expect(result).toEqual({ records: 2, loaded: 1, expired: 0, evicted: 0, skipped: 1 });
  });

  it('a key twice (a fuzzy save): the later record wins', () => {
    const { store } = make();
    const result = counts(
      importAll(store, [
        section(encodeRecord(b('k'), Buffer.alloc(10, 1), 0, 5), encodeRecord(b('other'), b('o'), 0, 6)),
        section(encodeRecord(b('k'), Buffer.alloc(5000, 2), WALL + 60_000, 9)),
      ]),
    );
    expect(result).toEqual({ records: 3, loaded: 2, expired: 0, evicted: 0, skipped: 0 });
    const read = store.getWithVersion(b('k'))!;
    expect(read.value.equals(Buffer.alloc(5000, 2))).toBe(true);
    expect(read.version).toBe(9);
    expect(store.ttl(b('k'))).toBe(60_000);
    expect(store.stats().curr_items).toBe(2);
  });
});

describe('import mode', () => {
  it('tells no change hook during the load, and does after it', () => {
    const changes: StoreChange['cause'][] = [];
    const { store: source } = make();
    for (let i = 0; i < 2000; i += 1) source.set(b(`k${i}`), valueOf(1000, i));
    const { store } = make({ maxMemory: 1024 * 1024, onChange: (c) => changes.push(c.cause) });
    const result = counts(importAll(store, exportAll(source)));
    expect(result.evicted).toBeGreaterThan(0);
    expect(changes).toEqual([]);
    store.set(b('k1999'), b('x')); // into another class: a full store evicts for it, and says so now
    expect(changes[0]).toBe('set');
    expect(changes.slice(1).every((c) => c === 'evicted')).toBe(true);
  });

  it('the sweep between two sections tells no hook of what it reclaims either', () => {
    const changes: string[] = [];
    const { store, clock } = make({ onChange: (c) => changes.push(c.cause) });
    const items = store.beginImport({ maxValueLength: 1 << 20 });
    expect(items.add(...args(section(encodeRecord(b('a'), b('1'), WALL + 100, 1))))).toBeUndefined();
    clock.advance(200);
    expect(store.sweep(10)).toBe(1);
    expect(changes).toEqual([]);
    items.finish();
    store.set(b('b'), b('2'), { ttlMs: 10 });
    clock.advance(100);
    expect(store.sweep(10)).toBe(1);
    expect(changes).toEqual(['set', 'expired']);
  });

  it('loads into an empty store only, one load at a time, and checks maxValueLength', () => {
    const { store } = make();
    expect(() => store.beginImport({ maxValueLength: -1 })).toThrow(/maxValueLength option/);
    const first = store.beginImport({ maxValueLength: 100 });
    expect(() => store.beginImport({ maxValueLength: 100 })).toThrow(/running/);
    first.finish();
    store.set(b('k'), b('v'));
    expect(() => store.beginImport({ maxValueLength: 100 })).toThrow(/empty store/);
    expect(() => first.add(new Uint8Array(0), 0, 0, 0)).toThrow(/finished/);
  });

  it('abort empties the store without telling the hook and leaves import mode', () => {
    const changes: string[] = [];
    const { store } = make({ maxMemory: 1024 * 1024, eviction: 'none', onChange: (c) => changes.push(c.cause) });
    const items = store.beginImport({ maxValueLength: 1 << 20 });
    expect(items.add(...args(section(encodeRecord(b('a'), b('1'), 0, 1), encodeRecord(b('b'), b('2'), 0, 2))))).toBeUndefined();
    expect(store.stats().curr_items).toBe(2);
    items.abort();
    expect(store.stats().curr_items).toBe(0);
    expect(store.get(b('a'))).toBeUndefined();
    expect(items.counts.loaded).toBe(0);
    expect(changes).toEqual([]);
    // Eviction 'none' again: the store fills up and then refuses.
    let outcome = 'stored';
    for (let i = 0; outcome === 'stored' && i < 10_000; i += 1) outcome = store.set(b(`f${i}`), Buffer.alloc(1000));
    expect(outcome).toBe('out_of_memory');
    expect(store.stats().evictions).toBe(0);
    // And a new load can start once it is empty again.
    store.flush();
    store.beginImport({ maxValueLength: 10 }).finish();
  });
});

const args = (s: PlainSection): [Uint8Array, number, number, number] => [s.bytes, 0, s.bytes.length, s.records];

describe('bad records: a problem, never a throw, and nothing of the section stored (docs/SNAPSHOT.md "Records")', () => {
  const good = encodeRecord(b('good'), b('value'), 0, 1);
  const cases: [string, Buffer, number, RegExp][] = [
    ['key length 0', encodeRecord(b('k'), b('v'), 0, 1, 0), 1, /record 1 has a key length of 0/],
    ['key length 251', Buffer.concat([encodeRecord(Buffer.alloc(251, 1), b('v'), 0, 1)]), 1, /record 1 has a key length of 251/],
    ['version 0', encodeRecord(b('k'), b('v'), 0, 0), 1, /record 1 has a version of 0/],
    ['version 2^53', encodeRecord(b('k'), b('v'), 0, 2 ** 53), 1, /version of 9007199254740992/],
    ['version 2^52 + 1', encodeRecord(b('k'), b('v'), 0, 2 ** 52 + 1), 1, /version of 4503599627370497 \(an integer from 1 to 2\^52\)/],
    ['version 2^53 - 1', encodeRecord(b('k'), b('v'), 0, 2 ** 53 - 1), 1, /version of 9007199254740991/],
    ['fractional version', encodeRecord(b('k'), b('v'), 0, 1.5), 1, /version of 1.5/],
    ['NaN version', encodeRecord(b('k'), b('v'), 0, NaN), 1, /version of NaN/],
    ['negative expiry', encodeRecord(b('k'), b('v'), -1, 1), 1, /expiry of -1/],
    ['fractional expiry', encodeRecord(b('k'), b('v'), WALL + 0.5, 1), 1, /expiry of/],
    ['infinite expiry', encodeRecord(b('k'), b('v'), Infinity, 1), 1, /expiry of Infinity/],
    ['value past the end', encodeRecord(b('k'), b('v'), 0, 1).subarray(0, 22 + 0), 1, /record 1 runs past the end of its section/],
    ['header past the end', encodeRecord(b('k'), b('v'), 0, 1).subarray(0, 20), 1, /record 1 runs past the end of its section \(its header\)/],
  ];
  for (const [name, bad, , message] of cases) {
    it(name, () => {
      const { store } = make();
      const items = store.beginImport({ maxValueLength: 1 << 20 });
      const bytes = Buffer.concat([good, bad]);
      const problem = items.add(bytes, 0, bytes.length, 2);
      expect(problem?.message).toMatch(message);
      expect(problem?.offset).toBe(good.length);
      expect(store.stats().curr_items).toBe(0);
      expect(items.counts.records).toBe(0);
      items.abort();
    });
  }

  it('more records than the header says, or fewer', () => {
    const { store } = make();
    const items = store.beginImport({ maxValueLength: 1 << 20 });
    const two = Buffer.concat([good, good]);
    expect(items.add(two, 0, two.length, 1)?.message).toMatch(/more than the 1 records/);
    expect(items.add(two, 0, two.length, 3)?.message).toMatch(/holds 2 records, its header says 3/);
    expect(items.add(two, 0, 0, 1)?.message).toMatch(/holds 0 records, its header says 1/);
    expect(items.add(two, 0, two.length, 2)).toBeUndefined();
    expect(items.finish().loaded).toBe(1); // the same key twice
  });

  it('a section inside a larger buffer: offsets count from its start', () => {
    const { store } = make();
    const items = store.beginImport({ maxValueLength: 1 << 20 });
    const bad = encodeRecord(b('k'), b('v'), 0, 0);
    const bytes = Buffer.concat([Buffer.alloc(7, 0xff), good, bad, Buffer.alloc(3, 0xff)]);
    const problem = items.add(bytes, 7, bytes.length - 3, 2);
    expect(problem).toEqual({ offset: good.length, message: expect.stringMatching(/version of 0/) });
    expect(items.add(bytes, 7, 7 + good.length, 1)).toBeUndefined();
    expect(store.get(b('good'))!.toString()).toBe('value');
  });

  it('every truncation of a valid section is a problem', () => {
    const { store: source } = make();
    for (let i = 0; i < 20; i += 1) source.set(b(`key${i}`), valueOf(i * 3, i), { ttlMs: i % 2 === 0 ? 0 : 10_000 });
    const [whole] = exportAll(source, { sectionBytes: 1 << 20 });
    const { store } = make();
    const items = store.beginImport({ maxValueLength: 1 << 20 });
    for (let length = 0; length < whole!.bytes.length; length += 1) {
      expect(items.add(whole!.bytes, 0, length, whole!.records), `truncated to ${length}`).toBeDefined();
    }
    expect(store.stats().curr_items).toBe(0);
    expect(items.add(whole!.bytes, 0, whole!.bytes.length, whole!.records)).toBeUndefined();
    expect(items.finish().loaded).toBe(20);
  });
});
