// Properties of the store side of snapshots (issue 22, docs/SNAPSHOT.md):
// a save and a load give back every live item with its value, remaining TTL
// and version; a save under writes between its slices writes an item that
// lives unchanged through it exactly once, with its value, and never a torn
// value; no bytes make a load throw.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store, type StoreChange } from '../../src/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { allRecords, exportAll, importAll, valueOf, type PlainSection } from '../support/snapshot-items.js';

const MiB = 1024 * 1024;
let wall = 1_700_000_000_000;
beforeEach(() => {
  vi.spyOn(Date, 'now').mockImplementation(() => wall);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => Buffer.from(`key:${i}`)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 250 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => Buffer.alloc(250, 97 + i)) },
);
// At a 64 MiB budget pages are 1 MiB: the last arm makes large objects.
const sizeArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 301, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: MiB - 400, max: 2.5 * MiB }) },
);
const writeArb = fc.record({ key: keyArb, size: sizeArb, seed: fc.nat(255), ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })) });

describe('save and load round trip', () => {
  it('every item live at the save and unexpired at the load comes back with its value, remaining TTL and version', () => {
    fc.assert(
      fc.property(
        fc.array(writeArb, { maxLength: 40 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 200, max: 256 * 1024 }),
        (writes, beforeSave, beforeLoad, slots, sectionBytes) => {
          const clock = new FakeClock();
          const source = new Store({ activeExpiry: false, clock: clock.read, maxMemory: 64 * MiB, shards: 4 });
          for (const w of writes) source.set(w.key, valueOf(w.size, w.seed), { ttlMs: w.ttl });
          clock.advance(beforeSave);
          // What the source holds at the save (reading it here does not change it for the save: ttl and versions only).
          const expected = new Map<string, { value: Buffer; version: number; ttl: number }>();
          for (const w of writes) {
            const k = w.key.toString('latin1');
            if (expected.has(k)) continue;
            const ttl = source.ttl(w.key);
            if (ttl === undefined) continue;
            const read = source.getWithVersion(w.key)!;
            expected.set(k, { ...read, ttl });
          }
          const sections = exportAll(source, { slots, sectionBytes });
          source.close();
          wall += beforeLoad;
          const clock2 = new FakeClock();
          clock2.now = 77;
          const target = new Store({ activeExpiry: false, clock: clock2.read, maxMemory: 64 * MiB });
          const result = importAll(target, sections);
          if ('message' in result) throw new Error(result.message);
          const survivors = [...expected].filter(([, e]) => e.ttl === -1 || e.ttl > beforeLoad);
          expect(result.loaded).toBe(survivors.length);
          expect(result.expired).toBe(expected.size - survivors.length);
          expect(result.records).toBe(expected.size);
          expect(target.stats().curr_items).toBe(survivors.length);
          for (const [k, e] of survivors) {
            const key = Buffer.from(k, 'latin1');
            const read = target.getWithVersion(key)!;
            expect(read.value.equals(e.value)).toBe(true);
            expect(read.version).toBe(e.version);
            expect(target.ttl(key)).toBe(e.ttl === -1 ? -1 : e.ttl - beforeLoad);
          }
          target.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});

type Op = { op: 'set'; key: number; size: number; seed: number } | { op: 'delete'; key: number } | { op: 'get'; key: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key: fc.nat(29),
      // Small, medium, and large objects at the small budget's 32 KiB pages (freed pages get carved for other classes).
      size: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 400, max: 20_000 }), fc.integer({ min: 33_000, max: 90_000 })),
      seed: fc.nat(255),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(29) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(59) }) },
);

describe('a save under traffic (the fuzzy contract, docs/SNAPSHOT.md "Order and what is saved")', () => {
  it('an item alive and unchanged through the save is written once with its value; every record holds a value written for its key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 3000 }), seed: fc.nat(255) }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.array(opArb, { maxLength: 4 }), { maxLength: 80 }),
        // Slots a collect slice visits: a 1 MiB budget has about 15,000 slots (32 KiB pages), a 64 MiB one up to 16,384 a page.
        fc.integer({ min: 200, max: 3000 }),
        fc.integer({ min: 100, max: 20_000 }),
        // 1 MiB: 32 KiB pages, evictions and page moves between classes during the save; 64 MiB: none.
        fc.constantFrom(MiB, 64 * MiB),
        (stable, batches, slots, sectionBytes, maxMemory) => {
          const evicted = new Set<string>();
          const onChange = (c: StoreChange): void => {
            if (c.cause === 'evicted') evicted.add(c.key.toString('latin1'));
          };
          const store = new Store({ activeExpiry: false, clock: new FakeClock().read, maxMemory, shards: 2, onChange });
          // Stable keys 'stable:i' are never written during the save (only read: a touch changes no value).
          for (const [i, s] of stable.entries()) store.set(Buffer.from(`stable:${i}`), valueOf(s.size, s.seed));
          /** Per churn key, the (size, seed) of every value written for it. */
          const written = new Map<string, [number, number][]>();
          const churn = (key: number, size: number, seed: number): void => {
            const k = `churn:${key}`;
            store.set(Buffer.from(k), valueOf(size, seed));
            if (!written.has(k)) written.set(k, []);
            written.get(k)!.push([size, seed]);
          };
          const wasWritten = (key: string, value: Buffer): boolean =>
            (written.get(key) ?? []).some(([size, seed]) => size === value.length && valueOf(size, seed).equals(value));
          for (let key = 0; key < 30; key += 1) churn(key, key * 10, key);
          let batch = 0;
          const between = (): void => {
            // Each batch twice over, so writes land between collect slices and between fills alike.
            for (const op of batch < 2 * batches.length ? batches[batch % batches.length]! : []) {
              if (op.op === 'set') churn(op.key, op.size, op.seed);
              else if (op.op === 'delete') store.delete(Buffer.from(`churn:${op.key}`));
              else store.get(Buffer.from(op.key < 30 ? `churn:${op.key}` : `stable:${op.key - 30}`));
            }
            batch += 1;
          };
          const sections = exportAll(store, { slots, sectionBytes, between });
          // Every section is whole, valid records, as many as fill said: a load takes them all.
          const reloaded = new Store({ activeExpiry: false, clock: new FakeClock().read, maxMemory: 16 * MiB });
          const result = importAll(reloaded, sections);
          reloaded.close();
          expect(result).not.toHaveProperty('message');
          const records = allRecords(sections);
          for (const [i, s] of stable.entries()) {
            const found = records.filter((r) => r.key === `stable:${i}`);
            // Evicted during the save (the small budget): not alive through it, so in the file at most once.
            if (evicted.has(`stable:${i}`)) expect(found.length).toBeLessThanOrEqual(1);
            else expect(found).toHaveLength(1);
            if (found.length === 1) expect(found[0]!.value.equals(valueOf(s.size, s.seed))).toBe(true);
          }
          for (const r of records) {
            if (r.key.startsWith('stable:')) continue;
            expect(wasWritten(r.key, r.value), r.key).toBe(true);
            expect(Number.isInteger(r.version) && r.version >= 1).toBe(true);
          }
          store.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('bad bytes', () => {
  const baseline = ((): PlainSection => {
    const store = new Store({ activeExpiry: false, clock: new FakeClock().read });
    for (let i = 0; i < 12; i += 1) store.set(Buffer.from(`k${i}`), valueOf(i * 5, i), { ttlMs: i % 3 === 0 ? 0 : 50_000 });
    const [section] = exportAll(store, { sectionBytes: 1 << 20 });
    store.close();
    return section!;
  })();

  it('random corruptions of a valid section never throw; a problem stores nothing of the section', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), byte: fc.nat(255) }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 0, max: 14 }),
        (flips, cut, expected) => {
          const bytes = Buffer.from(baseline.bytes);
          for (const f of flips) bytes[f.at % bytes.length] = f.byte;
          const end = cut === undefined ? bytes.length : cut % (bytes.length + 1);
          const store = new Store({ activeExpiry: false, clock: new FakeClock().read, maxMemory: 8 * MiB });
          const items = store.beginImport({ maxValueLength: 1 << 20 });
          const problem = items.add(bytes, 0, end, expected);
          if (problem !== undefined) {
            expect(store.stats().curr_items).toBe(0);
            expect(problem.offset).toBeGreaterThanOrEqual(0);
            expect(problem.offset).toBeLessThanOrEqual(end);
          } else {
            expect(items.counts.records).toBe(expected);
          }
          items.finish();
          store.close();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 5 }), (bytes, expected) => {
        const store = new Store({ activeExpiry: false, clock: new FakeClock().read, maxMemory: 8 * MiB });
        const items = store.beginImport({ maxValueLength: 1 << 20 });
        const problem = items.add(bytes, 0, bytes.length, expected);
        if (problem === undefined) expect(items.counts.records).toBe(expected);
        items.abort();
        expect(store.stats().curr_items).toBe(0);
        store.close();
      }),
      { numRuns: 500 },
    );
  });
});
