import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/index.js';
import { EXPIRY_BUCKET_MS } from '../../src/store/expiry-queue.js';
import { FakeClock } from '../support/fake-clock.js';

/** The reference model: a Map with expiry times (spec §3), nothing else. */
class Model {
  readonly map = new Map<string, { value: Buffer; expiresAt: number }>();
  constructor(readonly clock: FakeClock) {}
  live(k: string): { value: Buffer; expiresAt: number } | undefined {
    const e = this.map.get(k);
    if (e !== undefined && e.expiresAt !== 0 && e.expiresAt <= this.clock.now) {
      this.map.delete(k);
      return undefined;
    }
    return e;
  }
}

const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'ab', 'abc', 'b', '\u0000', '\u00ff\u0000') },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a).toString('latin1')) },
);
const ttlArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }));
const valueArb = fc.oneof(
  fc.constantFrom('0', '1', '-5', '9223372036854775807', 'x', ''),
  fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a).toString('latin1')),
);

type Op =
  | { op: 'get' | 'delete' | 'ttl'; key: string }
  | { op: 'set'; key: string; value: string; ttlMs: number; cond: 'none' | 'nx' | 'xx'; keepTtl: boolean }
  | { op: 'renew'; key: string; ttlMs: number }
  | { op: 'incr'; key: string; delta: bigint; ttlMs: number }
  | { op: 'list'; prefix: string; limit: number }
  | { op: 'flush' }
  | { op: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'delete' as const, 'ttl' as const), key: keyArb }),
  fc.record({
    op: fc.constant('set' as const),
    key: keyArb,
    value: valueArb,
    ttlMs: ttlArb,
    cond: fc.constantFrom('none' as const, 'nx' as const, 'xx' as const),
    keepTtl: fc.boolean(),
  }),
  fc.record({ op: fc.constant('renew' as const), key: keyArb, ttlMs: ttlArb }),
  fc.record({
    op: fc.constant('incr' as const),
    key: keyArb,
    delta: fc.oneof(fc.bigInt({ min: -10n, max: 10n }), fc.constant((1n << 63n) - 1n), fc.constant(-(1n << 63n))),
    ttlMs: ttlArb,
  }),
  fc.record({ op: fc.constant('list' as const), prefix: fc.constantFrom('', 'a', 'ab', '\u0000'), limit: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant('flush' as const) }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }),
);

const L = (s: string): Buffer => Buffer.from(s, 'latin1');
const CANONICAL = /^(0|-?[1-9][0-9]{0,18})$/;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function runModel(model: Model, op: Op): unknown {
  const now = model.clock.now;
  switch (op.op) {
    case 'get':
      return model.live(op.key)?.value.toString('latin1');
    case 'delete': {
      const had = model.live(op.key) !== undefined;
      model.map.delete(op.key);
      return had;
    }
    case 'ttl': {
      const e = model.live(op.key);
      return e === undefined ? undefined : e.expiresAt === 0 ? -1 : Math.ceil(e.expiresAt - now);
    }
    case 'set': {
      const ttlMs = op.keepTtl ? 0 : op.ttlMs;
      const e = model.live(op.key);
      if ((op.cond === 'nx' && e) || (op.cond === 'xx' && !e)) return 'not_stored';
      const expiresAt = op.keepTtl ? (e?.expiresAt ?? 0) : ttlMs > 0 ? now + ttlMs : 0;
      model.map.set(op.key, { value: L(op.value), expiresAt });
      return 'stored';
    }
    case 'renew': {
      const e = model.live(op.key);
      if (e === undefined) return false;
      e.expiresAt = op.ttlMs === 0 ? 0 : now + op.ttlMs;
      return true;
    }
    case 'incr': {
      const e = model.live(op.key);
      let current = 0n;
      if (e) {
        const text = e.value.toString('latin1');
        if (!CANONICAL.test(text) || BigInt(text) < I64_MIN || BigInt(text) > I64_MAX) return 'not_integer';
        current = BigInt(text);
      }
      const next = current + op.delta;
      if (next < I64_MIN || next > I64_MAX) return 'overflow';
      model.map.set(op.key, { value: L(next.toString()), expiresAt: e ? e.expiresAt : op.ttlMs > 0 ? now + op.ttlMs : 0 });
      return next;
    }
    case 'list': {
      const keys = [...model.map.keys()].filter((k) => k.startsWith(op.prefix) && model.live(k) !== undefined).sort();
      return { count: Math.min(keys.length, op.limit), truncated: keys.length > op.limit, all: keys };
    }
    case 'flush':
      model.map.clear();
      return undefined;
    case 'advance':
      model.clock.advance(op.ms);
      return undefined;
  }
}

function runStore(store: Store, clock: FakeClock, op: Op): unknown {
  switch (op.op) {
    case 'get':
      return store.get(L(op.key))?.toString('latin1');
    case 'delete':
      return store.delete(L(op.key));
    case 'ttl':
      return store.ttl(L(op.key));
    case 'set':
      return store.set(L(op.key), L(op.value), {
        ttlMs: op.keepTtl ? 0 : op.ttlMs,
        nx: op.cond === 'nx',
        xx: op.cond === 'xx',
        keepTtl: op.keepTtl,
      });
    case 'renew':
      return store.renew(L(op.key), op.ttlMs);
    case 'incr':
      return store.incr(L(op.key), op.delta, op.ttlMs);
    case 'list': {
      const { keys, truncated } = store.list(L(op.prefix), op.limit);
      const all = store.list(L(op.prefix), 65_535).keys.map((k) => k.toString('latin1')).sort();
      return { count: keys.length, truncated, all };
    }
    case 'flush':
      store.flush();
      return undefined;
    case 'advance':
      clock.advance(op.ms);
      store.sweep(); // the sweep may run at any time; it must never change an answer
      return undefined;
  }
}

/** Renew-heavy sequences (sliding sessions, issue 15 item 6): few keys, renews later and earlier, time passing. */
const renewHeavyArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('renew' as const), key: fc.constantFrom('a', 'b', 'c'), ttlMs: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: opArb },
);

/**
 * Runs `ops` on a store and the model, comparing every answer; then lets
 * every expiry pass and checks that the active sweep alone reclaims every
 * expired key (none is left for lazy expiry).
 */
function agrees(ops: Op[]): void {
  const storeClock = new FakeClock();
  const store = new Store({ eviction: 'none', activeExpiry: false, clock: storeClock.read, shards: 4 });
  const model = new Model(new FakeClock());
  try {
    for (const [i, op] of ops.entries()) {
      expect(runStore(store, storeClock, op), `step ${i}: ${fc.stringify(op)}`).toEqual(runModel(model, op));
    }
    const lazyBefore = store.stats().expired_lazy;
    storeClock.advance(1_000 + EXPIRY_BUCKET_MS);
    model.clock.advance(1_000 + EXPIRY_BUCKET_MS);
    store.sweep(Number.POSITIVE_INFINITY);
    const stats = store.stats();
    const lasting = [...model.map.keys()].filter((k) => model.live(k) !== undefined).length;
    expect(stats.curr_items, 'the sweep reclaimed every expired key').toBe(lasting);
    expect(stats.expired_lazy).toBe(lazyBefore);
    expect(stats.expiry_queue, 'no pair left once every expiry has passed').toBe(0);
  } finally {
    store.close();
  }
}

describe('Store against a reference model', () => {
  it('agrees on every result (eviction off, large budget, fake clock)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), agrees),
      { numRuns: 400 },
    );
  }, 120_000); // 400 stores of their own: about 20 s on a loaded 2-core machine, past the default 30 s bound once

  it('agrees on renew-heavy sequences, and the sweep still reclaims every expired key', () => {
    fc.assert(
      fc.property(fc.array(renewHeavyArb, { minLength: 1, maxLength: 200, size: 'max' }), agrees),
      { numRuns: 300 },
    );
  }, 120_000);
});
