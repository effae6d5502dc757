// Store benchmark (issue: sharded store vs one bare LRUCache vs a Map).
// Run `npx just bench-store` (builds first; needs --expose-gc, which the
// recipe passes). 1M 16-byte keys with 100-byte values, TTL off and on.
// Every contender does the same job as the server: take the key and value as
// Buffers, key by an exact string, keep its own copy of the value.
// Prints a Markdown table: median ops/s of ROUNDS rounds with min–max, the
// ratio of per-operation cost to the bare LRUCache, and heap bytes per entry.
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD, Store, keyString } from '../dist/index.js';

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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const cell = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

// Key conversion alone: what keying by an exact string costs per operation.
{
  let t = process.hrtime.bigint();
  let total = 0;
  for (let r = 0; r < 3; r += 1) for (let i = 0; i < N; i += 1) total += keyString(keys[i]).length;
  const ns = Number(process.hrtime.bigint() - t) / (3 * N);
  if (total !== 3 * 16 * N) throw new Error('keyString lost bytes');
  console.log(`Store benchmark, Node ${process.version}, ${N.toLocaleString('en-US')} keys of 16 B, values of 100 B, ${ROUNDS} rounds`);
  console.log(`\nkeyString (Buffer → latin1 string, exact for every byte): ${ns.toFixed(0)} ns per key\n`);
}

console.log('| contender | TTL | SET ops/s | GET ops/s | cost vs bare LRUCache (SET / GET) | heap B/entry beyond key+value |');
console.log('|---|---|---|---|---|---|');
for (const ttl of [0, TTL]) {
  const results = {};
  for (let r = 0; r < ROUNDS; r += 1) {
    // Alternate contenders inside each round so machine drift hits all alike.
    for (const [name, make] of Object.entries(contenders)) {
      (results[name] ??= []).push(round(make, ttl));
    }
  }
  const base = results['bare LRUCache'];
  for (const [name, rs] of Object.entries(results)) {
    const setRatio = median(base.map((x) => x.set)) / median(rs.map((x) => x.set));
    const getRatio = median(base.map((x) => x.get)) / median(rs.map((x) => x.get));
    console.log(
      `| ${name} | ${ttl ? '1 h' : 'off'} | ${cell(rs.map((x) => x.set))} | ${cell(rs.map((x) => x.get))} | ` +
        `${setRatio.toFixed(2)}× / ${getRatio.toFixed(2)}× | ${median(rs.map((x) => x.perEntry)).toFixed(0)} |`,
    );
  }
}

// Active expiry: 1M entries that all expire at the same instant, never read.
// Reports how long after that instant the sweep has reclaimed them all, and
// the longest event-loop stall meanwhile (monitorEventLoopDelay).
{
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const store = new Store({ maxMemory: BUDGET });
  const expireAt = performance.now() + 5_000;
  for (let i = 0; i < N; i += 1) store.set(keys[i], VALUE, { ttlMs: Math.max(1, Math.round(expireAt - performance.now())) });
  if (performance.now() >= expireAt) throw new Error('filling took longer than the ttl');
  await new Promise((r) => setTimeout(r, Math.max(0, expireAt - performance.now())));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  while (store.stats().curr_items > 0 && performance.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
  delay.disable();
  const reclaimed = performance.now() - started;
  const stats = store.stats();
  store.close();
  if (stats.curr_items !== 0 || stats.expired_lazy !== 0) throw new Error(`sweep left ${stats.curr_items} entries`);
  console.log(
    `\nActive expiry: ${N.toLocaleString('en-US')} entries expiring at once were all reclaimed ${reclaimed.toFixed(0)} ms ` +
      `after their expiry, never read; longest event-loop stall meanwhile ${(delay.max / 1e6).toFixed(1)} ms ` +
      `(p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms).`,
  );
}
