// Store benchmark (issue: sharded store vs one bare LRUCache vs a Map).
// Run `npx just bench-store` (builds first; needs --expose-gc, which the
// recipe passes). 1M 16-byte keys with 100-byte values, TTL off and on.
// Every contender does the same job as the server: take the key and value as
// Buffers, key by an exact string, keep its own copy of the value.
// Saves the per-round ops/s and heap bytes per entry, the keyString cost and
// the active-expiry figures as bench/results/store-<date>.json and prints its
// section of bench/RESULTS.md (medians of ROUNDS rounds with min–max, cost
// per operation relative to the bare LRUCache, verdicts against the targets).
// Then: RENEW vs GET with 1% of keys on a TTL, FLUSH, and RSS per item (each
// size in a fresh child process), saved in the same file.
// BENCH_KEYS or BENCH_ROUNDS set makes a partial run (CI's smoke run), saved
// under BENCH_OUT or a temp dir, never in bench/results/.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { Store, chargeOf } from '../dist/index.js';
import { keyString } from '../dist/store/keys.js';
import { isQuick, saveRun } from './lib.mjs';

// RSS child: fills a store with BENCH_RSS_ITEMS items of 16-byte keys and
// BENCH_RSS_VALUE-byte values and prints what the items cost in RSS.
if (process.env.BENCH_RSS_VALUE !== undefined) {
  const items = Number(process.env.BENCH_RSS_ITEMS);
  const value = Buffer.alloc(Number(process.env.BENCH_RSS_VALUE), 0x61);
  const gc = globalThis.gc ?? (() => {});
  const key = Buffer.alloc(16);
  const store = new Store({ maxMemory: 8 * 1024 * 1024 * 1024, activeExpiry: false });
  gc();
  gc();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < items; i += 1) {
    key.write(`k:${String(i).padStart(14, '0')}`, 'latin1'); // one reused key buffer: only the store's memory grows
    store.set(key, value);
  }
  gc();
  gc();
  const after = process.memoryUsage().rss;
  const stats = store.stats();
  if (stats.curr_items !== items) throw new Error(`stored ${stats.curr_items} of ${items}`);
  console.log(JSON.stringify({ rssPerItem: (after - before) / items, chargedPerItem: stats.bytes / items }));
  process.exit(0);
}

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
        cache.set(s, copy(v), { size: chargeOf(s.length, v.length) });
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
  // Long enough for the fill on a busy 2-core machine (1M SETs took over 5 s there); the
  // figure measured starts at the expiry instant, so the wait does not change it.
  const expireAt = performance.now() + 20_000;
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

// RENEW vs GET (issue 15 item 6): N keys of which 1% have a TTL; the
// sliding-session pattern renews those keys over and over. Reports ns per
// operation and the slowest batch of 1,000, so a rare walk of all keys shows.
const renewRuns = [];
{
  const store = new Store({ maxMemory: BUDGET, activeExpiry: false });
  const withTtl = [];
  for (let i = 0; i < N; i += 1) {
    const ttl = i % 100 === 0;
    store.set(keys[i], VALUE, { ttlMs: ttl ? TTL : 0 });
    if (ttl) withTtl.push(keys[i]);
  }
  const ops = Math.max(1_000, Math.min(N, 1_000_000));
  const time = (op) => {
    let slowest = 0;
    let ok = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < ops; i += 1_000) {
      const t = process.hrtime.bigint();
      for (let j = i; j < i + 1_000; j += 1) if (op(withTtl[(j * 7919) % withTtl.length], j)) ok += 1;
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e3);
    }
    if (ok !== Math.ceil(ops / 1_000) * 1_000) throw new Error(`only ${ok} operations found their key`);
    return { ns: Number(process.hrtime.bigint() - started) / ops, slowest };
  };
  for (let r = 0; r < 2; r += 1) {
    const get = time((k) => store.get(k) !== undefined);
    const renew = time((k, j) => store.renew(k, TTL + j)); // later each time: the common renew
    const earlier = time((k, j) => store.renew(k, TTL - j)); // earlier each time: every one pushes
    renewRuns.push({ round: r + 1, ops, getNs: get.ns, getSlowestBatchUs: get.slowest, renewLaterNs: renew.ns, renewLaterSlowestBatchUs: renew.slowest, renewEarlierNs: earlier.ns, renewEarlierSlowestBatchUs: earlier.slowest, expiryQueue: store.stats().expiry_queue });
    console.log(
      `\nRENEW vs GET, ${N.toLocaleString('en-US')} keys, 1% with a TTL, ${ops.toLocaleString('en-US')} ops each (round ${r + 1}): ` +
        `GET ${get.ns.toFixed(0)} ns/op (slowest 1,000: ${get.slowest.toFixed(0)} µs), ` +
        `RENEW later ${renew.ns.toFixed(0)} ns/op (${renew.slowest.toFixed(0)} µs), ` +
        `RENEW earlier ${earlier.ns.toFixed(0)} ns/op (${earlier.slowest.toFixed(0)} µs); expiry queue ${store.stats().expiry_queue.toLocaleString('en-US')} pairs`,
    );
  }
  store.close();
}

// FLUSH (issue 15 item 5): how long one flush() of N keys holds the thread.
let flush;
{
  const store = new Store({ maxMemory: BUDGET, activeExpiry: false });
  for (let i = 0; i < N; i += 1) store.set(keys[i], VALUE, { ttlMs: i % 2 === 0 ? TTL : 0 });
  const t = process.hrtime.bigint();
  store.flush();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (store.stats().curr_items !== 0) throw new Error('flush left keys');
  flush = { keys: N, ms };
  console.log(`\nFLUSH of ${N.toLocaleString('en-US')} keys: ${ms.toFixed(3)} ms in flush() itself (the collector reclaims the old caches later).`);
  store.close();
}

// RSS per item (issue 15 item 15): what the process's resident memory grows
// by per item, after GC, in a fresh child per size, next to what the store
// charges to the budget for it.
const rss = [];
{
  const self = fileURLToPath(import.meta.url);
  console.log(`\n| items | value B | RSS B/item | charged B/item | RSS / charged |`);
  console.log('|---|---|---|---|---|');
  for (const items of [...new Set([Math.min(N, 100_000), N])]) {
    for (const size of [10, 100, 1000]) {
      const child = spawnSync(process.execPath, ['--expose-gc', self], {
        env: { ...process.env, BENCH_RSS_ITEMS: String(items), BENCH_RSS_VALUE: String(size) },
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`RSS child failed: ${child.stderr}`);
      const { rssPerItem, chargedPerItem } = JSON.parse(child.stdout);
      rss.push({ items, valueBytes: size, rssPerItem, chargedPerItem });
      console.log(`| ${items.toLocaleString('en-US')} | ${size} | ${rssPerItem.toFixed(0)} | ${chargedPerItem.toFixed(0)} | ${(rssPerItem / chargedPerItem).toFixed(2)} |`);
    }
  }
}

saveRun({
  benchmark: 'store',
  command: 'npx just bench-store',
  quick: QUICK,
  started,
  versions: { 'lru-cache': JSON.parse(readFileSync(new URL('../node_modules/lru-cache/package.json', import.meta.url), 'utf8')).version },
  parameters: { keys: N, rounds: ROUNDS, keyBytes: 16, valueBytes: VALUE.length, ttlMs: TTL, budgetBytes: BUDGET },
  entryOverhead: chargeOf(16, 100) - 16 - 100, // issue 17: the chunk's header and class rounding at 100-byte values
  keyStringNs,
  results,
  expiry,
  renew: renewRuns,
  flush,
  rss,
});
