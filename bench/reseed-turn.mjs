// What a re-seed of the index hash costs the event loop with 1M keys (issue
// 19, outside attack: the one-turn rebuild froze every client 0.24–0.9 s).
// Fills a SlabEngine with 1M 16-byte keys under a seed that ignores key
// bytes past the 8th, adds keys alike in their first 8 bytes until a chain
// of 48 starts a re-seed, then:
//  - "one turn": moves every bucket in one call, what the rebuild before
//    the fix did in the write that found the chain;
//  - "sliced": (a second engine) lets the migration run as the server runs
//    it: the store's sweep slice (`migrateFor`, 1 ms budget) each turn on
//    setImmediate, while a client loop does 200 GETs and 20 SETs a turn
//    (each SET moves MIGRATE_PER_WRITE buckets). Reports the longest slice,
//    the longest turn, monitorEventLoopDelay's max, the GETs' worst latency
//    and the wall time the migration took; then as many turns without a migration,
// the control (this machine is shared: its stalls show in both).
// Run: `npm run build && node --expose-gc bench/reseed-turn.mjs [keys]` (default 1,000,000).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SlabEngine } from '../dist/store/slab/index.js';
import { migrateFor } from '../dist/store/index-migration.js';

const N = Number(process.argv[2] ?? 1_000_000);
const MiB = 1024 * 1024;

function shortSighted() {
  let draws = 0;
  return (target) => {
    draws += 1;
    for (let i = 0; i < target.length; i += 1) target[i] = (Math.random() * 2 ** 32) | 0;
    if (draws === 1) target.fill(0, 2 + 8, target.length - 1);
  };
}

const key = (i) => Buffer.from(`${String(i).padStart(8, '0')}:abcdefg`); // 16 bytes, distinct in the first 8
const value = Buffer.from('value-0123456789');

function filled() {
  const engine = new SlabEngine({ maxMemory: 256 * MiB, seedSource: shortSighted() });
  for (let i = 0; i < N; i += 1) {
    const k = key(i);
    engine.store(k, 0, k.length, value, 0, value.length, 0);
  }
  if (engine.reseeds !== 0) throw new Error('the fill re-seeded: keys must differ in their first 8 bytes');
  let i = 0;
  while (!engine.migrating) {
    if (i > 1_000) throw new Error('no chain of 48 after 1,000 keys alike in their first 8 bytes');
    const k = Buffer.from(`samehash:${String(i++).padStart(7, '0')}`);
    engine.store(k, 0, k.length, value, 0, value.length, 0);
  }
  return engine;
}

globalThis.gc?.();
let engine = filled();
const buckets = engine.keyIndex.bucketCount;
let t = performance.now();
engine.migrate(buckets);
const oneTurn = performance.now() - t;
console.log(`${engine.size.toLocaleString('en-US')} items, ${buckets.toLocaleString('en-US')} buckets`);
console.log(`one turn (the rebuild before the fix): ${oneTurn.toFixed(1)} ms`);
engine = undefined;
globalThis.gc?.();

engine = filled();
/** Runs client turns (200 GETs, 20 SETs) with the store's sweep slice first, until `turns` or the migration ends. */
async function run(migrate, maxTurns) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let worstSlice = 0;
  let worstSliceCpu = 0;
  const sliceMs = [];
  const slow = [];
  let worstTurn = 0;
  let worstGet = 0;
  let turns = 0;
  const started = performance.now();
  await new Promise((resolve) => {
    const turn = () => {
      const t0 = performance.now();
      let done = true;
      if (migrate) {
        const c0 = process.cpuUsage();
        done = migrateFor(engine, 1);
        const cpu = process.cpuUsage(c0);
        worstSliceCpu = Math.max(worstSliceCpu, (cpu.user + cpu.system) / 1000);
        const took = performance.now() - t0;
        worstSlice = Math.max(worstSlice, took);
        sliceMs.push(took);
        slow.push([took, turns]);
      }
      for (let g = 0; g < 200; g += 1) {
        const k = key((Math.random() * N) | 0);
        const g0 = performance.now();
        const h = engine.find(k, 0, k.length);
        worstGet = Math.max(worstGet, performance.now() - g0);
        if (h < 0) throw new Error(`lost ${k}`);
      }
      for (let w = 0; w < 20; w += 1) {
        const k = Buffer.from(`during:${sets++}`);
        engine.store(k, 0, k.length, value, 0, value.length, 0);
      }
      worstTurn = Math.max(worstTurn, performance.now() - t0);
      turns += 1;
      if ((migrate && done && !engine.migrating) || turns === maxTurns) resolve();
      else setImmediate(turn);
    };
    setImmediate(turn);
  });
  histogram.disable();
  sliceMs.sort((a, b) => a - b);
  slow.sort((x, y) => y[0] - x[0]);
  return { slow: slow.slice(0, 4).map(([ms, at]) => `${ms.toFixed(1)} ms at turn ${at}`).join(', '), turns, wall: performance.now() - started, worstSlice, worstSliceCpu, sliceMs, worstTurn, worstGet, loopMax: histogram.max / 1e6, loopP99: histogram.percentile(99) / 1e6 };
}

let sets = 0;
const m = await run(true, Infinity);
console.log(
  `sliced: migration over ${m.turns} turns, ${m.wall.toFixed(0)} ms wall; slice median ${m.sliceMs[m.sliceMs.length >> 1].toFixed(2)} ms, ` +
    `p99 ${m.sliceMs[Math.floor(m.sliceMs.length * 0.99)].toFixed(2)} ms, worst ${m.worstSlice.toFixed(2)} ms wall / ${m.worstSliceCpu.toFixed(2)} ms process CPU; ` +
    `worst turn ${m.worstTurn.toFixed(2)} ms, event-loop delay max ${m.loopMax.toFixed(2)} ms (p99 ${m.loopP99.toFixed(2)}), worst GET ${(m.worstGet * 1000).toFixed(0)} µs; slowest slices: ${m.slow}`,
);
const c = await run(false, m.turns);
console.log(
  `control (same turns, no migration): worst turn ${c.worstTurn.toFixed(2)} ms, event-loop delay max ${c.loopMax.toFixed(2)} ms (p99 ${c.loopP99.toFixed(2)}), worst GET ${(c.worstGet * 1000).toFixed(0)} µs`,
);
