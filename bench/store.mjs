// Store benchmark (issue: sharded store vs one bare LRUCache vs a Map).
// Run `npx just bench-store` (builds first; needs --expose-gc, which the
// recipe passes). 1M 16-byte keys with 100-byte values, TTL off and on.
// Every contender does the same job as the server: take the key and value as
// Buffers, key by an exact string, keep its own copy of the value.
// Saves the per-round ops/s and heap bytes per entry, the keyString cost and
// the active-expiry figures as bench/results/store-<date>.json and prints its
// section of bench/RESULTS.md (medians of ROUNDS rounds with min–max, cost
// per operation relative to the bare LRUCache, verdicts against the targets).
// BENCH_KEYS or BENCH_ROUNDS set makes a partial run (CI's smoke run), saved
// under BENCH_OUT or a temp dir, never in bench/results/.
import { readFileSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD, Store, keyString } from '../dist/index.js';
import { isQuick, saveRun } from './lib.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_KEYS', 'BENCH_ROUNDS']);
const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VALUE = Buffer.alloc(100, 0x61);
const TTL = 3_600_000;
const BUDGET = 2 * 1024 * 1024 * 1024; // no eviction in this benchmark
const gc = globalThis.gc ?? (() => {});

const keys = Array.from({ length: N }, (_, i) => Buffer.from(`k:${String(i).padStart(14, '0')}`)); // 16 bytes
const order = Uint32Array.from({ length: N }, (_, i) => i);
for (let i = N - 1; i > 0; i -= 1) {
  const j = Math.floor(Math.random() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}

function copy(value) {
  const c = Buffer.allocUnsafeSlow(value.length);
  c.set(value);
  return c;
}

const contenders = {
  'sharded Store (16 shards)': (ttl) => {
    const store = new Store({ maxMemory: BUDGET, activeExpiry: false });
    return {
      set: (k, v) => store.set(k, v, { ttlMs: ttl }),
      get: (k) => store.get(k),
      size: () => store.stats().curr_items,
      close: () => store.close(),
    };
  },
  'bare LRUCache': (ttl) => {
    const cache = new LRUCache({ maxSize: BUDGET, ttl: ttl || undefined, ttlResolution: 0 });
    return {
      set: (k, v) => {
        const s = keyString(k);
        cache.set(s, copy(v), { size: s.length + v.length + ENTRY_OVERHEAD });
      },
      get: (k) => cache.get(keyString(k)),
      size: () => cache.size,
      close: () => {},
    };
  },
  Map: (ttl) => {
    const map = new Map();
    const now = () => performance.now();
    return {
      set: (k, v) => map.set(keyString(k), { value: copy(v), expiresAt: ttl ? now() + ttl : 0 }),
      get: (k) => {
        const e = map.get(keyString(k));
        return e && (e.expiresAt === 0 || e.expiresAt > now()) ? e.value : undefined;
      },
      size: () => map.size,
      close: () => {},
    };
  },
};

function heap() {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function round(make, ttl) {
  const c = make(ttl);
  const before = heap();
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) c.set(keys[i], VALUE);
  const setS = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.size() !== N) throw new Error(`stored ${c.size()} of ${N}`);
  const perEntry = (heap() - before) / N - 16 - VALUE.length;
  let hits = 0;
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i += 1) if (c.get(keys[order[i]]) !== undefined) hits += 1;
  const getS = Number(process.hrtime.bigint() - t) / 1e9;
  if (hits !== N) throw new Error(`found ${hits} of ${N}`);
  c.close();
  return { set: N / setS, get: N / getS, perEntry };
}

// Key conversion alone: what keying by an exact string costs per operation.
let keyStringNs;
{
  const t = process.hrtime.bigint();
  let total = 0;
  for (let r = 0; r < 3; r += 1) for (let i = 0; i < N; i += 1) total += keyString(keys[i]).length;
  keyStringNs = Number(process.hrtime.bigint() - t) / (3 * N);
  if (total !== 3 * 16 * N) throw new Error('keyString lost bytes');
}

const results = [];
for (const ttl of [0, TTL]) {
  const rounds = {};
  for (let r = 0; r < ROUNDS; r += 1) {
    // Alternate contenders inside each round so machine drift hits all alike.
    for (const [name, make] of Object.entries(contenders)) (rounds[name] ??= []).push(round(make, ttl));
  }
  for (const [contender, rs] of Object.entries(rounds)) results.push({ contender, ttl: ttl ? '1 h' : 'off', rounds: rs });
}

// Active expiry: 1M entries that all expire at the same instant, never read.
// Reports how long after that instant the sweep has reclaimed them all, and
// the longest event-loop stall meanwhile (monitorEventLoopDelay).
let expiry;
{
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const store = new Store({ maxMemory: BUDGET });
  const expireAt = performance.now() + 5_000;
  for (let i = 0; i < N; i += 1) store.set(keys[i], VALUE, { ttlMs: Math.max(1, Math.round(expireAt - performance.now())) });
  if (performance.now() >= expireAt) throw new Error('filling took longer than the ttl');
  await new Promise((r) => setTimeout(r, Math.max(0, expireAt - performance.now())));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const sweepStart = performance.now();
  while (store.stats().curr_items > 0 && performance.now() - sweepStart < 30_000) await new Promise((r) => setTimeout(r, 5));
  delay.disable();
  const reclaimed = performance.now() - sweepStart;
  const stats = store.stats();
  store.close();
  if (stats.curr_items !== 0 || stats.expired_lazy !== 0) throw new Error(`sweep left ${stats.curr_items} entries`);
  expiry = { entries: N, reclaimedMs: reclaimed, maxStallMs: delay.max / 1e6, p99StallMs: delay.percentile(99) / 1e6 };
}

saveRun({
  benchmark: 'store',
  command: 'npx just bench-store',
  quick: QUICK,
  started,
  versions: { 'lru-cache': JSON.parse(readFileSync(new URL('../node_modules/lru-cache/package.json', import.meta.url), 'utf8')).version },
  parameters: { keys: N, rounds: ROUNDS, keyBytes: 16, valueBytes: VALUE.length, ttlMs: TTL, budgetBytes: BUDGET },
  entryOverhead: ENTRY_OVERHEAD,
  keyStringNs,
  results,
  expiry,
});
