// Measurements behind docs/STORAGE.md for the off-heap slab engine (issue 17
// phase A). Needs a build (`npm run build`): it loads dist/store/slab. Every
// figure comes from a fresh child process started with --expose-gc, so one
// measurement's garbage never counts against another. Run:
//   npm run build && node bench/slab-measure.mjs
// Prints markdown tables:
//  1. items kept under a 64 MiB budget after writing 1.5M distinct 16-byte
//     keys with 100-byte values (the method, at the engine level),
//     and the RSS the process gained;
//  2. RSS and heapUsed per item at 100k and 1M items (100 B values, ample
//     budget);
//  3. insert and lookup ops/s of the engine against a bare Map<string,
//     Buffer> doing the same job (latin1 key string, own copy of the value),
//     in the same run, medians of 3 rounds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const KEY = 16;

/** Writes 'k:' and `n` as 14 digits into `key`, with no string per key (its garbage would grow the heap, and RSS, under the measurement). */
function keyFor(key, n) {
  key[0] = 0x6b;
  key[1] = 0x3a;
  for (let i = KEY - 1; i >= 2; i -= 1) {
    key[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return key;
}

async function child(job) {
  const { SlabEngine, NONE } = await import('../dist/store/slab/index.js');
  const gc = globalThis.gc;
  const key = Buffer.alloc(KEY);
  const value = Buffer.alloc(100, 0x76);
  const mem = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  if (job.kind === 'fill') {
    const warm = new SlabEngine({ maxMemory: 2 * MiB }); // load the code before the baseline
    warm.store(key, 0, KEY, value, 0, 100, 0);
    const before = mem();
    const engine = new SlabEngine({ maxMemory: job.budget });
    let evicted = 0;
    for (let i = 0; i < job.items; i += 1) {
      if (engine.store(keyFor(key, i), 0, KEY, value, 0, 100, 0) < 0) throw new Error(`refused at ${i}`);
    }
    const after = mem();
    // Count what is still readable, the way a client would see it.
    let readable = 0;
    for (let i = 0; i < job.items; i += 1) if (engine.find(keyFor(key, i), 0, KEY) !== NONE) readable += 1;
    evicted = job.items - engine.size;
    const s = engine.stats();
    return {
      items: engine.size,
      readable,
      evicted,
      heldBytes: s.heldBytes,
      itemBytes: s.itemBytes,
      indexBytes: s.indexBytes,
      rssGained: after.rss - before.rss,
      rss: after.rss,
      heapPerItem: (after.heapUsed - before.heapUsed) / engine.size,
      rssPerItem: (after.rss - before.rss) / engine.size,
    };
  }
  // ops: engine vs a bare Map, same keys, same order
  const n = job.items;
  const keys = Buffer.alloc(n * KEY);
  for (let i = 0; i < n; i += 1) keyFor(key, i).copy(keys, i * KEY);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const out = Buffer.alloc(100);
  const results = [];
  for (let round = 0; round < 3; round += 1) {
    const engine = new SlabEngine({ maxMemory: 1024 * MiB });
    let t = performance.now();
    for (let i = 0; i < n; i += 1) engine.store(keys, i * KEY, KEY, value, 0, 100, 0);
    const engineInsert = n / ((performance.now() - t) / 1000);
    t = performance.now();
    let found = 0;
    for (let i = 0; i < n; i += 1) {
      const h = engine.find(keys, order[i] * KEY, KEY);
      if (h !== NONE) {
        engine.touch(h);
        found += engine.copyValue(h, out, 0) === 100 ? 1 : 0;
      }
    }
    const engineLookup = n / ((performance.now() - t) / 1000);
    if (found !== n) throw new Error(`engine found ${found} of ${n}`);
    const map = new Map();
    t = performance.now();
    for (let i = 0; i < n; i += 1) {
      const copy = Buffer.allocUnsafeSlow(100);
      copy.set(value);
      map.set(keys.latin1Slice(i * KEY, i * KEY + KEY), copy);
    }
    const mapInsert = n / ((performance.now() - t) / 1000);
    t = performance.now();
    found = 0;
    for (let i = 0; i < n; i += 1) {
      const v = map.get(keys.latin1Slice(order[i] * KEY, order[i] * KEY + KEY));
      if (v !== undefined) {
        out.set(v);
        found += 1;
      }
    }
    const mapLookup = n / ((performance.now() - t) / 1000);
    if (found !== n) throw new Error(`map found ${found} of ${n}`);
    results.push({ engineInsert, engineLookup, mapInsert, mapLookup });
    gc();
  }
  const median = (name) => results.map((r) => r[name]).sort((a, b) => a - b)[1];
  return {
    engineInsert: median('engineInsert'),
    engineLookup: median('engineLookup'),
    mapInsert: median('mapInsert'),
    mapLookup: median('mapLookup'),
  };
}

if (process.env.SLAB_MEASURE_JOB !== undefined) {
  console.log(JSON.stringify(await child(JSON.parse(process.env.SLAB_MEASURE_JOB))));
  process.exit(0);
}

function run(job) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    env: { ...process.env, SLAB_MEASURE_JOB: JSON.stringify(job) },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${JSON.stringify(job)}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const int = (x) => Math.round(x).toLocaleString('en-US');
console.log('### Items kept under a budget, 1.5M distinct 16-byte keys with 100-byte values\n');
console.log('| budget | items kept | readable | held B | item B | index B | RSS gained | process RSS |');
console.log('|---|---|---|---|---|---|---|---|');
for (const budget of [64 * MiB]) {
  const r = run({ kind: 'fill', budget, items: 1_500_000 });
  console.log(
    `| ${budget / MiB} MiB | ${int(r.items)} | ${int(r.readable)} | ${int(r.heldBytes)} | ${int(r.itemBytes)} | ${int(r.indexBytes)} | ${(r.rssGained / MiB).toFixed(1)} MiB | ${(r.rss / MiB).toFixed(1)} MiB |`,
  );
}
console.log('\n### RSS and V8 heap per item (100-byte values, 1 GiB budget, no eviction)\n');
console.log('| items | RSS B/item | heapUsed B/item | chunk bytes/item |');
console.log('|---|---|---|---|');
for (const items of [100_000, 1_000_000]) {
  const r = run({ kind: 'fill', budget: 1024 * MiB, items });
  console.log(`| ${int(items)} | ${r.rssPerItem.toFixed(0)} | ${r.heapPerItem.toFixed(3)} | ${(r.itemBytes / r.items).toFixed(0)} |`);
}
console.log('\n### Insert and lookup, 1M items of 100 B, engine vs a bare Map (median of 3 rounds)\n');
const ops = run({ kind: 'ops', items: 1_000_000 });
console.log('| | insert ops/s | lookup (+copy) ops/s |');
console.log('|---|---|---|');
console.log(`| SlabEngine | ${int(ops.engineInsert)} | ${int(ops.engineLookup)} |`);
console.log(`| Map<string, Buffer> | ${int(ops.mapInsert)} | ${int(ops.mapLookup)} |`);
console.log(`| ratio | ${(ops.engineInsert / ops.mapInsert).toFixed(2)}× | ${(ops.engineLookup / ops.mapLookup).toFixed(2)}× |`);
