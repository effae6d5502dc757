import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXPIRY_BUCKET_MS, ExpiryQueue, bucketOf } from '../../src/store/expiry-queue.js';
import { NONE, PAGE_SIZE, SlabEngine, UNQUEUED } from '../../src/store/slab/index.js';

const MiB = 1024 * 1024;
const BUDGET = 8 * MiB;

/** A value of `size` bytes determined by `seed`, so runs need not carry megabytes of arbitrary bytes. */
function valueOf(size: number, seed: number): Buffer {
  const value = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 1) value[i] = (seed + i * 7) & 0xff;
  return value;
}

const keyArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 24 }).map((i) => `k${i}`) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 250 }).map((a) => Buffer.from(a).toString('latin1')) },
);
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 200 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }) },
  { weight: 1, arbitrary: fc.integer({ min: PAGE_SIZE - 300, max: 3 * MiB }) },
);

type Op =
  | { op: 'set'; key: string; size: number; seed: number; ttl: number }
  | { op: 'get' | 'delete'; key: string }
  | { op: 'reuse'; key: string; other: string }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' }
  | { op: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key: keyArb,
      size: sizeArb,
      seed: fc.integer({ min: 0, max: 255 }),
      ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reuse' as const), key: keyArb, other: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

interface Entry {
  value: Buffer;
  expiresAt: number;
}

/**
 * Drives the engine the way the store will: lazy expiry on access, a
 * handle expiry queue swept on demand, evictions reported through onEvict.
 * The model is a plain Map; evicted keys leave it when the engine reports them.
 */
class Harness {
  now = 1000;
  readonly model = new Map<string, Entry>();
  readonly queue = new ExpiryQueue<number>();
  readonly engine: SlabEngine;
  evictions = 0;

  constructor() {
    this.engine = new SlabEngine({
      maxMemory: BUDGET,
      onEvict: (h) => {
        const key = this.keyOf(h);
        expect(this.model.has(key)).toBe(true); // only a live key can be evicted
        this.model.delete(key);
        this.evictions += 1;
      },
    });
  }

  keyOf(h: number): string {
    const out = Buffer.alloc(this.engine.keyLength(h));
    this.engine.copyKey(h, out, 0);
    return out.toString('latin1');
  }

  find(key: string): number {
    const k = Buffer.from(key, 'latin1');
    return this.engine.find(k, 0, k.length);
  }

  /** The live handle of `key`, reclaiming it when expired (lazy expiry). */
  live(key: string): number {
    const h = this.find(key);
    if (h === NONE) return NONE;
    const t = this.engine.expiresAt(h);
    if (t !== 0 && t <= this.now) {
      this.engine.remove(h);
      this.model.delete(key);
      return NONE;
    }
    return h;
  }

  set(key: string, value: Buffer, ttl: number): number {
    const k = Buffer.from(key, 'latin1');
    const expiresAt = ttl === 0 ? 0 : this.now + ttl;
    this.model.delete(key); // an overwrite replaces; the engine may also evict it meanwhile
    const h = this.engine.store(k, 0, k.length, value, 0, value.length, expiresAt);
    if (h < 0) return h;
    this.model.set(key, { value, expiresAt });
    if (expiresAt !== 0) {
      const bucket = bucketOf(expiresAt);
      const current = this.engine.queueBucket(h);
      if (current === UNQUEUED || current > bucket) {
        this.queue.push(expiresAt, h);
        this.engine.setQueueBucket(h, bucket);
      }
    }
    return h;
  }

  sweep(): void {
    for (let h = this.queue.shiftDue(this.now); h !== undefined; h = this.queue.shiftDue(this.now)) {
      if (!this.engine.isLive(h) || this.engine.queueBucket(h) !== this.queue.dueBucket) continue;
      const t = this.engine.expiresAt(h);
      if (t !== 0 && t <= this.now) {
        this.model.delete(this.keyOf(h));
        this.engine.remove(h);
      } else if (t === 0) {
        this.engine.setQueueBucket(h, UNQUEUED);
      } else {
        this.engine.setQueueBucket(h, this.queue.push(t, h));
      }
    }
    // Every item whose expiry bucket has ended is gone.
    for (const [key, e] of this.model) {
      if (e.expiresAt !== 0) expect((bucketOf(e.expiresAt) + 1) * EXPIRY_BUCKET_MS > this.now, key).toBe(true);
    }
  }

  check(): void {
    const { engine } = this;
    const stats = engine.stats();
    expect(stats.heldBytes).toBeLessThanOrEqual(BUDGET);
    expect(stats.pages).toBeLessThanOrEqual(stats.pageLimit);
    expect(engine.size).toBe(this.model.size);
    const handles = new Set<number>();
    let itemBytes = 0;
    for (const [key, e] of this.model) {
      const h = this.find(key);
      expect(h, key).not.toBe(NONE);
      expect(engine.isLive(h)).toBe(true);
      expect(handles.has(h), 'one chunk per live key').toBe(false);
      handles.add(h);
      expect(this.keyOf(h)).toBe(key);
      expect(engine.expiresAt(h)).toBe(e.expiresAt);
      const out = Buffer.alloc(engine.valueLength(h));
      engine.copyValue(h, out, 0);
      expect(out.equals(e.value), key).toBe(true);
      itemBytes += out.length;
    }
    expect(stats.itemBytes).toBeGreaterThanOrEqual(itemBytes);
    let visited = 0;
    let cursor = 0;
    do cursor = engine.scan(cursor, 5000, () => (visited += 1));
    while (cursor !== NONE);
    expect(visited).toBe(this.model.size);
  }
}

describe('SlabEngine against a Map model (property)', () => {
  it('every live key reads back its last value or was reported evicted; no chunk serves two keys; the budget holds', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 50 }), (ops) => {
        const t = new Harness();
        for (const op of ops) {
          switch (op.op) {
            case 'set':
              expect(t.set(op.key, valueOf(op.size, op.seed), op.ttl)).toBeGreaterThanOrEqual(0);
              break;
            case 'get': {
              const h = t.live(op.key);
              expect(h === NONE).toBe(!t.model.has(op.key));
              if (h !== NONE) t.engine.touch(h);
              break;
            }
            case 'delete': {
              const h = t.live(op.key);
              if (h !== NONE) {
                t.engine.remove(h);
                t.model.delete(op.key);
              }
              break;
            }
            case 'reuse': {
              // A freed chunk is the next one its class hands out.
              const h = t.live(op.key);
              if (h === NONE || op.other === op.key || t.find(op.other) !== NONE) break;
              const value = Buffer.alloc(t.engine.valueLength(h));
              t.engine.copyValue(h, value, 0);
              if (Buffer.byteLength(op.other, 'latin1') !== Buffer.byteLength(op.key, 'latin1')) break;
              if (value.length + op.key.length + 48 > PAGE_SIZE) break;
              t.engine.remove(h);
              t.model.delete(op.key);
              expect(t.set(op.other, value, 0)).toBe(h);
              break;
            }
            case 'advance':
              t.now += op.ms;
              break;
            case 'sweep':
              t.sweep();
              break;
            case 'clear':
              t.engine.clear();
              t.queue.clear();
              t.model.clear();
              break;
          }
          t.check();
        }
      }),
      { numRuns: 120 },
    );
  });
});
