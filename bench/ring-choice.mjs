// Which key → server map (issue 20, docs/SCALING.md): the figures that decided
// the scheme. For 100,000 random keys and 3 → 4 → 3 servers, each scheme's
// balance (every server's share of the keys ÷ its fair share, min and max),
// the keys that move when a 4th server is added (ideal: its quarter) and when
// one of the four is removed (ideal: only its keys), lookup cost in ns per key
// (median of the rounds) and the cost of building the map.
//   (a) Redis Cluster slots + rendezvous: slotOf (CRC16 mod 16,384, on a string
//       and on a Buffer) then the 16 KiB table assignSlots builds (dist/protocol/slots.js);
//   (b) a ketama ring: the `hashring` package (libketama-compatible, MD5, 160 points per server);
//   (c) modulo: FNV-1a 32 of the key mod N, the baseline;
//   (d) jump consistent hash (Lamping & Veach 2014) over FNV-1a 32, its
//       generator a 32-bit mixer rather than the paper's 64-bit LCG (no BigInt).
// Pure computation, one process, nothing started. Run `npx just bench-ring`.
// Env: BENCH_KEYS (100000), BENCH_ROUNDS (7); either set (or BENCH_QUICK=1) is a
// partial run saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/ring-<date>.json and regenerates bench/RESULTS.md.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { assignSlots, slotOf } from '../dist/protocol/slots.js';
import { isQuick, median, saveRun } from './lib.mjs';

const require = createRequire(import.meta.url);
const HashRing = require('hashring');

const started = Date.now();
const QUICK = isQuick(['BENCH_KEYS', 'BENCH_ROUNDS']);
const KEYS = Number(process.env.BENCH_KEYS ?? (process.env.BENCH_QUICK === '1' ? 20_000 : 100_000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_QUICK === '1' ? 3 : 7));

const FOUR = ['10.0.0.1:7171', '10.0.0.2:7171', '10.0.0.3:7171', '10.0.0.4:7171'];
const THREE = FOUR.slice(0, 3);
/** The server removed from the four: the second, so modulo and jump hash must renumber (a middle bucket). */
const REMOVED = FOUR[1];
const AFTER_REMOVAL = FOUR.filter((n) => n !== REMOVED);

// Random keys from a seeded generator (the same keys every run): `k:` and 12 hex digits.
let state = 0x2545_f491;
const next = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
};
const keys = Array.from({ length: KEYS }, () => `k:${next().toString(16).padStart(8, '0')}${(next() & 0xffff).toString(16).padStart(4, '0')}`);
const keyBuffers = keys.map((k) => Buffer.from(k));

/** FNV-1a 32 over a string's UTF-16 code units (all ASCII here). */
function fnv1a(key) {
  let h = 0x811c_9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x0100_0193);
  return h >>> 0;
}

/** Jump consistent hash: the bucket in [0, n) of a 32-bit key hash. */
function jump(hash, n) {
  let b = -1;
  let j = 0;
  let x = hash;
  while (j < n) {
    b = j;
    // A 32-bit mixer step (splitmix-like) as the generator; r in (0, 1].
    x = Math.imul((x + 0x9e37_79b9) ^ (x >>> 15), 0x85eb_ca6b) >>> 0;
    x = (x ^ (x >>> 13)) >>> 0;
    j = Math.floor((b + 1) / ((x + 1) / 0x1_0000_0000));
  }
  return b;
}

/** One scheme: `build(names)` makes the map, `owner(map, names, i)` names key i's server. */
const schemes = {
  'Redis slots + rendezvous': {
    build: (names) => assignSlots(names),
    owner: (table, names, i) => names[table[slotOf(keys[i])]],
  },
  'ketama ring (hashring)': {
    build: (names) => new HashRing(names),
    owner: (ring, _names, i) => ring.get(keys[i]),
  },
  'modulo (FNV-1a mod N)': {
    build: () => null,
    owner: (_map, names, i) => names[fnv1a(keys[i]) % names.length],
  },
  'jump hash (FNV-1a)': {
    build: () => null,
    owner: (_map, names, i) => names[jump(fnv1a(keys[i]), names.length)],
  },
};

/** Every key's owner under `names`. */
const owners = (scheme, names) => {
  const map = scheme.build(names);
  return keys.map((_, i) => scheme.owner(map, names, i));
};

/** Each server's share of the keys ÷ 1/N: the smallest and the largest. */
function balance(own, names) {
  const counts = new Map(names.map((n) => [n, 0]));
  for (const o of own) counts.set(o, counts.get(o) + 1);
  const shares = [...counts.values()].map((c) => (c / own.length) * names.length);
  return { min: Math.min(...shares), max: Math.max(...shares) };
}

/** ns per call of `fn(i)` over every key, median of ROUNDS (a warm-up round first). */
function nsPerKey(fn) {
  let sink = 0;
  const rounds = [];
  for (let r = -1; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < KEYS; i++) sink ^= fn(i) | 0;
    const ns = Number(process.hrtime.bigint() - t) / KEYS;
    if (r >= 0) rounds.push(ns);
  }
  if (sink === 0.5) console.log(sink); // keeps the loop's result alive
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds) };
}

/** ms to build the map for `names`, median of ROUNDS. */
function buildMs(scheme, names) {
  const rounds = [];
  for (let r = -1; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    scheme.build(names);
    if (r >= 0) rounds.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(rounds);
}

const results = [];
for (const [name, scheme] of Object.entries(schemes)) {
  const three = owners(scheme, THREE);
  const four = owners(scheme, FOUR);
  const removed = owners(scheme, AFTER_REMOVAL);
  let movedAdd = 0;
  let movedAddNotToNew = 0;
  let movedRemove = 0;
  let movedRemoveOthers = 0;
  for (let i = 0; i < KEYS; i++) {
    if (three[i] !== four[i]) {
      movedAdd += 1;
      if (four[i] !== FOUR[3]) movedAddNotToNew += 1;
    }
    if (four[i] !== removed[i]) {
      movedRemove += 1;
      if (four[i] !== REMOVED) movedRemoveOthers += 1;
    }
  }
  const removedShare = four.filter((o) => o === REMOVED).length / KEYS;
  results.push({
    scheme: name,
    balance3: balance(three, THREE),
    balance4: balance(four, FOUR),
    movedOnAdd: movedAdd / KEYS,
    movedOnAddBetweenOld: movedAddNotToNew / KEYS,
    movedOnRemove: movedRemove / KEYS,
    removedServerShare: removedShare,
    movedOnRemoveFromOthers: movedRemoveOthers / KEYS,
    buildMs: { 3: buildMs(scheme, THREE), 4: buildMs(scheme, FOUR), 8: buildMs(scheme, [...FOUR, ...FOUR.map((n) => n.replace('7171', '7172'))]) },
  });
  process.stderr.write(`${name}: done\n`);
}

// Lookup cost: each scheme's whole key → server step, and the slot scheme's parts.
const table = assignSlots(THREE);
const ring = new HashRing(THREE);
const uncached = new HashRing(THREE, 'md5', { 'max cache size': 1 });
const lookups = {
  'slotOf(string)': nsPerKey((i) => slotOf(keys[i])),
  'slotOf(Buffer)': nsPerKey((i) => slotOf(keyBuffers[i])),
  'table[slot] (the lookup alone)': nsPerKey((i) => table[i & 0x3fff]),
  'slots + rendezvous: slotOf(string) + table': nsPerKey((i) => table[slotOf(keys[i])]),
  'slots + rendezvous: slotOf(Buffer) + table': nsPerKey((i) => table[slotOf(keyBuffers[i])]),
  'ketama: ring.get (its LRU cache of 5,000)': nsPerKey((i) => ring.get(keys[i]).length),
  'ketama: ring.get, cache of 1 (MD5 + binary search)': nsPerKey((i) => uncached.get(keys[i]).length),
  'modulo: FNV-1a mod N': nsPerKey((i) => fnv1a(keys[i]) % 3),
  'jump hash: FNV-1a + jump': nsPerKey((i) => jump(fnv1a(keys[i]), 3)),
};

// The slot scheme's balance by slots (exact, no key sampling): each server's share of the 16,384 slots ÷ 1/N.
const slotBalance = (names) => {
  const t = assignSlots(names);
  const counts = names.map((_, i) => t.filter((o) => o === i).length);
  const shares = counts.map((c) => (c / t.length) * names.length);
  return { min: Math.min(...shares), max: Math.max(...shares) };
};
const slots = { balance3: slotBalance(THREE), balance4: slotBalance(FOUR) };

const version = (pkg) => JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
saveRun({
  benchmark: 'ring',
  command: 'npx just bench-ring',
  quick: QUICK,
  started,
  versions: { hashring: version('hashring'), 'cluster-key-slot': version('cluster-key-slot') },
  parameters: { keys: KEYS, rounds: ROUNDS, servers: FOUR, removed: REMOVED },
  results,
  slots,
  lookups,
});
