// Index choice for the off-heap slab engine (issue 17): what one index entry
// costs in RSS and heapUsed, and how fast it inserts and finds, for 16-byte
// keys whose handle is a small integer. Each contender runs in a fresh child
// process with --expose-gc, so one contender's garbage never counts against
// another. Run: `node bench/slab-index-measure.mjs [items ...]` (default
// 100000 and 1000000). Prints a markdown table for docs/STORAGE.md.
//
// Contenders:
//  - map:   Map<string, handle>, keys as latin1 strings (src/store/keys.ts)
//  - lru:   LRUCache<string, handle> from lru-cache (its own recency lists)
//  - typed: a chained hash table in typed arrays: an Int32Array of bucket
//           heads (one per 2 items) plus a 4-byte chain link and 4-byte hash
//           per item; the key bytes are compared where they already live (a
//           Buffer arena standing in for the chunks). Only the bucket array is
//           index memory; the link and hash sit in the chunk header.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KEY = 16;

function keyAt(buf, i) {
  buf.write(`k:${String(i).padStart(14, '0')}`, 0, 'latin1');
  return buf;
}

function child(kind, n) {
  const gc = globalThis.gc;
  const key = Buffer.alloc(KEY);
  // The arena is allocated before the baseline for every contender, so it is
  // not counted: it stands for the chunks, which hold the keys in the engine.
  const arena = Buffer.alloc(n * KEY);
  for (let i = 0; i < n; i += 1) keyAt(key, i).copy(arena, i * KEY);
  let insert;
  let lookup;
  let index;
  // The index itself is built after the baseline, so its preallocated arrays count.
  const next = new Int32Array(n); // typed: stands for the chain link in the chunk header
  const hashes = new Uint32Array(n); // typed: stands for the hash in the chunk header
  gc();
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  if (kind === 'map') {
    const map = new Map();
    index = map;
    insert = (i) => map.set(arena.latin1Slice(i * KEY, i * KEY + KEY), i);
    lookup = (i) => map.get(arena.latin1Slice(i * KEY, i * KEY + KEY));
  } else if (kind === 'lru') {
    const { LRUCache } = await_import_lru();
    const lru = new LRUCache({ max: n });
    index = lru;
    insert = (i) => lru.set(arena.latin1Slice(i * KEY, i * KEY + KEY), i);
    lookup = (i) => lru.get(arena.latin1Slice(i * KEY, i * KEY + KEY));
  } else {
    let bits = 10;
    while (1 << bits < n / 2) bits += 1;
    const heads = new Int32Array(1 << bits); // handle + 1; 0 = empty
    const coeff = new Int32Array(KEY + 2);
    for (let i = 0; i < coeff.length; i += 1) coeff[i] = (Math.random() * 2 ** 32) | 0;
    const shift = 32 - bits;
    const hashOf = (src, at, len) => {
      let h = coeff[0] + Math.imul(coeff[1], len);
      for (let j = 0; j < len; j += 1) h = (h + Math.imul(coeff[j + 2], src[at + j])) | 0;
      return h >>> 0;
    };
    const same = (a, b, len) => {
      for (let j = 0; j < len; j += 1) if (arena[a + j] !== arena[b + j]) return false;
      return true;
    };
    const find = (at, h) => {
      for (let e = heads[h >>> shift] - 1; e >= 0; e = next[e] - 1) {
        if (hashes[e] === h && same(e * KEY, at, KEY)) return e;
      }
      return -1;
    };
    index = { heads };
    insert = (i) => {
      const h = hashOf(arena, i * KEY, KEY);
      if (find(i * KEY, h) >= 0) return;
      hashes[i] = h;
      next[i] = heads[h >>> shift];
      heads[h >>> shift] = i + 1;
    };
    lookup = (i) => find(i * KEY, hashOf(arena, i * KEY, KEY));
  }
  let t = performance.now();
  for (let i = 0; i < n; i += 1) insert(i);
  const insertMs = performance.now() - t;
  gc();
  gc();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  t = performance.now();
  let found = 0;
  for (let i = 0; i < n; i += 1) if (lookup((i * 7919) % n) !== undefined && lookup((i * 7919) % n) !== -1) found += 1;
  const lookupMs = (performance.now() - t) / 2;
  if (found !== n) throw new Error(`${kind}: found ${found} of ${n}`);
  if (index === undefined) throw new Error('no index');
  return {
    kind,
    n,
    rssPerItem: (rss1 - rss0) / n,
    heapPerItem: (heap1 - heap0) / n,
    insertPerSec: n / (insertMs / 1000),
    lookupPerSec: n / (lookupMs / 1000),
  };
}

let lruModule;
function await_import_lru() {
  return lruModule;
}

if (process.env.SLAB_INDEX_KIND !== undefined) {
  lruModule = await import('lru-cache');
  console.log(JSON.stringify(child(process.env.SLAB_INDEX_KIND, Number(process.env.SLAB_INDEX_N))));
  process.exit(0);
}

const sizes = process.argv.slice(2).map(Number);
const counts = sizes.length > 0 ? sizes : [100_000, 1_000_000];
console.log('| index | items | RSS B/item | heapUsed B/item | insert ops/s | lookup ops/s |');
console.log('|---|---|---|---|---|---|');
for (const n of counts) {
  for (const kind of ['map', 'lru', 'typed']) {
    const run = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
      env: { ...process.env, SLAB_INDEX_KIND: kind, SLAB_INDEX_N: String(n) },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`${kind} ${n}: ${run.stderr}`);
    const r = JSON.parse(run.stdout);
    console.log(
      `| ${kind} | ${n.toLocaleString('en-US')} | ${r.rssPerItem.toFixed(0)} | ${r.heapPerItem.toFixed(0)} | ${Math.round(r.insertPerSec).toLocaleString('en-US')} | ${Math.round(r.lookupPerSec).toLocaleString('en-US')} |`,
    );
  }
}
