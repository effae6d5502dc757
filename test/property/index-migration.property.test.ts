// A re-seed migrates the index in steps (issue 19): whatever writes, deletes,
// lookups, migration steps and FLUSHes interleave with it, the engine agrees
// with a Map, and a SCAN iteration over a quiet engine returns every key.
// Every seed here ignores key bytes past the 2nd, so the 300 keys `abNNN`
// collide and re-seeds (and migrations over migrations' leftovers) keep
// coming.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanKeys } from '../../src/store/key-cursor.js';
import { NONE, SlabEngine, type SeedSource } from '../../src/store/slab/index.js';

const MiB = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

const shortSighted: SeedSource = (target) => {
  for (let i = 0; i < target.length; i += 1) target[i] = (Math.random() * 2 ** 32) | 0;
  target.fill(0, 2 + 2, target.length - 1); // a₀, a₁, the first 2 bytes' words and the finalizer's key
};

const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 299 }).map((i) => `ab${String(i).padStart(3, '0')}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }).map((i) => `other:${i}`) },
);

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'get' | 'delete'; key: string }
  | { op: 'migrate'; buckets: number }
  | { op: 'clear' };

// FLUSH is rare (about one op in 300), so chains have time to grow between two.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 200, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.nat(1_000_000) }) },
  { weight: 80, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), key: keyArb }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant('migrate' as const), buckets: fc.integer({ min: 0, max: 8_192 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

function read(engine: SlabEngine, key: string): string | undefined {
  const k = Buffer.from(key);
  const h = engine.find(k, 0, k.length);
  if (h === NONE) return undefined;
  const out = Buffer.alloc(engine.valueLength(h));
  engine.copyValue(h, out, 0);
  return out.toString();
}

describe('SlabEngine index migration (property)', () => {
  it('agrees with a Map through re-seeds and migration steps, and a SCAN then returns every key', () => {
    let reseeds = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 200, maxLength: 2_500 }), (ops) => {
        const engine = new SlabEngine({ maxMemory: 8 * MiB, eviction: 'none', seedSource: shortSighted });
        const model = new Map<string, string>();
        for (const step of ops) {
          if (step.op === 'set') {
            const k = Buffer.from(step.key);
            const v = Buffer.from(String(step.value));
            expect(engine.store(k, 0, k.length, v, 0, v.length, 0)).toBeGreaterThanOrEqual(0);
            model.set(step.key, String(step.value));
          } else if (step.op === 'get') {
            expect(read(engine, step.key)).toBe(model.get(step.key));
          } else if (step.op === 'delete') {
            const k = Buffer.from(step.key);
            const h = engine.find(k, 0, k.length);
            expect(h !== NONE).toBe(model.has(step.key));
            if (h !== NONE) engine.remove(h);
            model.delete(step.key);
          } else if (step.op === 'migrate') {
            engine.migrate(step.buckets);
          } else {
            engine.clear();
            model.clear();
          }
        }
        expect(engine.size).toBe(model.size);
        for (const [key, value] of model) expect(read(engine, key)).toBe(value);
        const seen = new Set<string>();
        let cursor = 0n;
        do {
          const page = scanKeys(engine, cursor, 100, EMPTY, 65_500, 0);
          for (const k of page.keys) seen.add(k.toString());
          cursor = page.cursor;
        } while (cursor !== 0n);
        for (const key of model.keys()) expect(seen.has(key), key).toBe(true);
        expect(engine.migrating).toBe(false); // the SCAN finished it
        reseeds += engine.reseeds;
      }),
      { numRuns: 40 },
    );
    expect(reseeds).toBeGreaterThan(40); // the runs did migrate: the colliding keys re-seed several times a run
  });
});
