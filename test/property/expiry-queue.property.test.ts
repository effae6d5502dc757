import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXPIRY_BUCKET_MS, ExpiryQueue } from '../../src/store/expiry-queue.js';

// One queue for any item: the store keeps slab handles (small integers) in it, and
// these properties ran on key strings when the store kept keys. Each runs on both.
// (Moved from store.model.test.ts with the queue's last key-string user; unchanged but for the item type.)

/** The properties of {@link ExpiryQueue} over items of one kind: `itemArb` may repeat items, `itemOf(n)` never does. */
function queueProperties<T>(kind: string, itemArb: fc.Arbitrary<T>, itemOf: (n: number) => T): void {
  describe(`ExpiryQueue of ${kind}`, () => {
    it('hands out exactly the pairs that are due, each once', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), itemArb), { maxLength: 200 }),
          fc.array(fc.integer({ min: 0, max: 1100 }), { minLength: 1, maxLength: 10 }),
          (pairs, nows) => {
            // Regression: a key pushed twice (times 608 and 0) once made the bookkeeping drop the wrong pair.
            const queue = new ExpiryQueue<T>();
            for (const [t, k] of pairs) queue.push(t, k);
            const left = new Map<T, number[]>();
            for (const [t, k] of pairs) left.set(k, [...(left.get(k) ?? []), t]);
            let handed = 0;
            for (const now of [...nows].sort((a, b) => a - b)) {
              for (let k = queue.shiftDue(now); k !== undefined; k = queue.shiftDue(now)) {
                // Pairs leave in bucket order, so a repeated key's earliest pair is the one handed out.
                const times = left.get(k) ?? [];
                const earliest = Math.min(...times);
                expect(earliest, `key ${String(k)} handed out at ${now} before it was due`).toBeLessThanOrEqual(now);
                times.splice(times.indexOf(earliest), 1);
                handed += 1;
              }
              expect(queue.hasDue(now)).toBe(false);
              // Everything due more than one bucket ago has been handed out.
              for (const times of left.values()) for (const t of times) expect(t).toBeGreaterThan(now - EXPIRY_BUCKET_MS);
            }
            expect(queue.size).toBe(pairs.length - handed);
          },
        ),
      );
    });

    it('compact, interleaved with pushes and shiftDue, drops exactly the pairs it is told to, keeps the rest in order, and counts right', () => {
      type Step = { op: 'push'; time: number; keep: boolean } | { op: 'compact'; steps: number } | { op: 'shift'; by: number };
      const stepArb: fc.Arbitrary<Step> = fc.oneof(
        { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), time: fc.integer({ min: 0, max: 40 }), keep: fc.boolean() }) },
        { weight: 3, arbitrary: fc.record({ op: fc.constant('compact' as const), steps: fc.integer({ min: 1, max: 7 }) }) },
        { weight: 1, arbitrary: fc.record({ op: fc.constant('shift' as const), by: fc.integer({ min: 0, max: 40 }) }) },
      );
      fc.assert(
        fc.property(fc.array(stepArb, { maxLength: 300 }), (steps) => {
          const queue = new ExpiryQueue<T>();
          const keep = new Set<T>();
          const pushed = new Map<T, number>();
          const handed = new Set<T>();
          let dropped = 0;
          let now = 0;
          const take = (): void => {
            for (let k = queue.shiftDue(now); k !== undefined; k = queue.shiftDue(now)) {
              expect(handed.has(k), `${String(k)} handed out twice`).toBe(false);
              expect(pushed.get(k)).toBeLessThanOrEqual(now);
              expect(queue.dueBucket).toBe(Math.floor((pushed.get(k) as number) / EXPIRY_BUCKET_MS));
              handed.add(k);
            }
          };
          for (const step of steps) {
            if (step.op === 'push') {
              const k = itemOf(pushed.size);
              pushed.set(k, now + step.time);
              if (step.keep) keep.add(k);
              expect(queue.push(now + step.time, k)).toBe(Math.floor((now + step.time) / EXPIRY_BUCKET_MS));
            } else if (step.op === 'compact') {
              queue.compact((k, bucket) => {
                expect(bucket).toBe(Math.floor((pushed.get(k) as number) / EXPIRY_BUCKET_MS));
                if (keep.has(k)) return true;
                dropped += 1;
                return false;
              }, step.steps);
            } else {
              now += step.by;
              take();
            }
            expect(queue.size).toBe(pushed.size - handed.size - dropped);
          }
          now = Number.MAX_SAFE_INTEGER;
          take();
          expect(queue.size).toBe(0);
          for (const k of keep) expect(handed.has(k), `kept ${String(k)} was handed out`).toBe(true);
          expect(handed.size + dropped).toBe(pushed.size);
        }),
        { numRuns: 300 },
      );
    });
  });
}

queueProperties('key strings', fc.string(), (n) => `k${n}`);
queueProperties('item handles', fc.nat({ max: 2 ** 30 - 1 }), (n) => n);
