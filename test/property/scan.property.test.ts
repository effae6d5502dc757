import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeScanBody, type ScanPage } from '../../src/protocol/scan-body.js';
import { Store } from '../../src/store/store.js';

// SCAN's guarantee (spec §3.10), Redis SCAN's: a key present from the call with cursor 0
// until the call that returns cursor 0 is returned at least once, whatever is written,
// deleted and evicted between the calls. A 1 MiB budget makes the churn evict; "present
// throughout" = stored before the first call, never deleted or rewritten by the run, and
// still there at the end (a key evicted meanwhile is never written again, so it is absent).

const MAX_BODY = 65_508; // a secure session's frame (spec §2.1)
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };
const EMPTY = Buffer.alloc(0);

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), i: fc.nat(5_000), size: fc.integer({ min: 1, max: 4_000 }) }),
  fc.record({ kind: fc.constant('delete' as const), i: fc.nat(5_000) }),
  fc.record({ kind: fc.constant('deleteStay' as const), i: fc.nat(399) }),
  fc.record({ kind: fc.constant('touchStay' as const), i: fc.nat(399) }),
);
const step = fc.record({ count: fc.integer({ min: 1, max: 200 }), ops: fc.array(op, { maxLength: 40 }) });

describe('SCAN: keys present throughout an iteration are all returned (spec §3.10)', () => {
  it('under concurrent adds, deletes and evictions, with any count per call', () => {
    let evictedRuns = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), fc.boolean(), (steps, withPrefix) => {
        const store = new Store({ maxMemory: 1024 * 1024, activeExpiry: false });
        const stay = (i: number): Buffer => Buffer.from(`stay:${i}`);
        for (let i = 0; i < 400; i += 1) store.set(stay(i), Buffer.alloc(64, 1), options);
        // Fill the budget first, so that the adds below evict from the first call on.
        for (let i = 0; i < 600; i += 1) store.set(Buffer.from(`churn:${i}`), Buffer.alloc(2_000, 2), options);
        for (let i = 0; i < 400; i += 1) store.get(stay(i));
        const evictedBefore = store.stats().evictions;
        const touched = new Set<number>();
        const seen = new Set<string>();
        const prefix = withPrefix ? Buffer.from('stay:') : EMPTY;
        let cursor = 0n;
        let calls = 0;
        do {
          const s = steps[calls % steps.length]!;
          const page = decodeScanBody(store.scan(cursor, s.count, prefix, MAX_BODY)) as ScanPage;
          expect(8 + page.keys.reduce((n, k) => n + 1 + k.length, 0)).toBeLessThanOrEqual(MAX_BODY + 8);
          for (const k of page.keys) seen.add(k.toString('latin1'));
          cursor = page.cursor;
          calls += 1;
          for (const o of s.ops) {
            if (o.kind === 'add') store.set(Buffer.from(`churn:${o.i}`), Buffer.alloc(o.size, 2), options);
            else if (o.kind === 'delete') store.delete(Buffer.from(`churn:${o.i}`));
            else if (o.kind === 'deleteStay') {
              touched.add(o.i);
              store.delete(stay(o.i));
            } else store.get(stay(o.i)); // reads keep stay keys warm in the LRU
          }
        } while (cursor !== 0n && calls < 100_000);
        expect(cursor).toBe(0n);
        if (store.stats().evictions > evictedBefore) evictedRuns += 1;
        for (let i = 0; i < 400; i += 1) {
          if (touched.has(i) || store.get(stay(i)) === undefined) continue; // not present throughout
          expect(seen.has(`stay:${i}`), `stay:${i}`).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
    expect(evictedRuns).toBeGreaterThan(0); // the budget did force evictions in some runs
  });
});
