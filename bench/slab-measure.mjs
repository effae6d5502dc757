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
//     in the same run, medians of 3 rounds;
//  4. RSS under churn: random value sizes 16 B – 4 KiB, 10× the budget
//     written over 4M distinct keys, RSS sampled every 20,000 writes;
//  5. page moves out of the 64-byte class (16,384 chunks a page): the write
//     that moves a whole page at once (its class was empty), and the
//     p99.9 / max of the writes that move pages a batch at a time.
// SLAB_MEASURE_ONLY=churn,move runs only the named parts.
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
  if (job.kind === 'churn') {
    const base = mem().rss;
    const engine = new SlabEngine({ maxMemory: job.budget });
    const big = Buffer.alloc(4096, 0x63);
    let written = 0;
    let writes = 0;
    let maxRss = 0;
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    while (written < 10 * job.budget) {
      const size = 16 + Math.floor(random() * (4096 - 16 + 1));
      keyFor(key, Math.floor(random() * 4_000_000));
      if (engine.store(key, 0, KEY, big, 0, size, 0) < 0) throw new Error('refused');
      written += size;
      writes += 1;
      if (writes % 20_000 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
    const s = engine.stats();
    return { writes, items: engine.size, heldBytes: s.heldBytes, maxRss, base, maxGained: maxRss - base };
  }
  if (job.kind === 'move') {
    const engine = new SlabEngine({ maxMemory: job.budget });
    const tiny = Buffer.alloc(1, 0x74);
    const k8 = Buffer.alloc(8);
    let n = 0;
    // Fill every page with 64-byte chunks (48 header + 8 key + 1 value).
    while (engine.stats().pages < engine.stats().pageLimit || engine.stats().classes[0].freeChunks > 0) {
      k8.writeUInt32BE(n, 4);
      engine.store(k8, 0, 8, tiny, 0, 1, 0);
      n += 1;
    }
    const big = Buffer.alloc(4000, 0x62);
    // The first 4 KiB write finds its class empty: that page moves at once.
    // Every later page moves a batch per write; time them all.
    keyFor(key, 0);
    let t = performance.now();
    engine.store(key, 0, KEY, big, 0, big.length, 0);
    const first = performance.now() - t;
    const times = [];
    for (let i = 1; i <= 3000; i += 1) {
      keyFor(key, i);
      t = performance.now();
      engine.store(key, 0, KEY, big, 0, big.length, 0);
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    return { first, p999: times[Math.floor(times.length * 0.999)], max: times.at(-1), items: n };
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
const only = process.env.SLAB_MEASURE_ONLY?.split(',');
const wants = (part) => only === undefined || only.includes(part);
if (wants('fill')) {
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
}
if (wants('ops')) {
  console.log('\n### Insert and lookup, 1M items of 100 B, engine vs a bare Map (median of 3 rounds)\n');
  const ops = run({ kind: 'ops', items: 1_000_000 });
  console.log('| | insert ops/s | lookup (+copy) ops/s |');
  console.log('|---|---|---|');
  console.log(`| SlabEngine | ${int(ops.engineInsert)} | ${int(ops.engineLookup)} |`);
  console.log(`| Map<string, Buffer> | ${int(ops.mapInsert)} | ${int(ops.mapLookup)} |`);
  console.log(`| ratio | ${(ops.engineInsert / ops.mapInsert).toFixed(2)}× | ${(ops.engineLookup / ops.mapLookup).toFixed(2)}× |`);
}
if (wants('churn')) {
  console.log('\n### RSS under churn: sizes 16 B – 4 KiB, 10× the budget written\n');
  console.log('| budget | writes | items at end | held B | max RSS gained | max process RSS | limit 1.15 × budget + 48 MiB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const budget of [64 * MiB]) {
    const r = run({ kind: 'churn', budget });
    console.log(
      `| ${budget / MiB} MiB | ${int(r.writes)} | ${int(r.items)} | ${int(r.heldBytes)} | ${(r.maxGained / MiB).toFixed(1)} MiB | ${(r.maxRss / MiB).toFixed(1)} MiB | ${((1.15 * budget) / MiB + 48).toFixed(1)} MiB |`,
    );
  }
}
if (wants('move')) {
  console.log('\n### Page moves out of the 64-byte class (16,384 chunks a page), 16 MiB budget\n');
  const r = run({ kind: 'move', budget: 16 * MiB });
  console.log(
    `${int(r.items)} items of 64 B, then 3,001 writes of 4 KiB: the first (whole page at once) ${r.first.toFixed(2)} ms; the rest (a batch per write) p99.9 ${r.p999.toFixed(3)} ms, max ${r.max.toFixed(3)} ms`,
  );
}
