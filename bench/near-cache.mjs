// Near-cache benchmark (issue 21, "Benchmarks"): a read-heavy workload, one
// run, three systems alternating inside every round:
//   (a) ConduitClient with `nearCache` → conduit-server,
//   (b) ConduitClient without it → the same conduit-server,
//   (c) ioredis → redis-server,
// each one client in this process driven by L concurrent awaiting loops
// (default 50). Every loop replays its own precomputed sequence of operations:
// 95 % GET / 5 % SET of 100-byte values, keys drawn from Zipf(0.99) over the
// pre-filled keyspace (100,000 keys) through a precomputed CDF and a seeded
// PRNG (bench/zipf.mjs), so every system sees the same operations in the same
// order. A loop stops at the end of its sequence or of the measurement,
// whichever comes first; ops/s is operations over the time they took. Before
// each measurement the system runs an untimed warm-up from another sequence
// (JIT). The near cache is sized for the keyspace (maxEntries = the key count,
// maxBytes 64 MiB: 100,000 values of 100 B are ~10 MB) and, before the
// warm-up, filled by reading every key once: the steady state of a running app
// whose near cache holds its working set, where a GET misses only after a SET
// invalidated its key (5 % of the operations, on the hottest keys most).
// BENCH_NEAR_ENTRIES sets another maxEntries (10000: the client's default).
// Every GET is checked (a 100-byte value: the keys are pre-filled and only
// overwritten), every SET is checked stored.
// Reported: ops/s per system (median of the rounds, min–max), (a) ÷ (c) (the
// issue's target: ≥ 10×) and (b) ÷ (c); the near cache's hit rate from
// `nearCacheStats()`; the server's CPU seconds per million operations.
// Invalidation delay, during (a)'s measurements: a second ConduitClient with a
// near cache reads the HOT hottest keys first; each SET the loops make to a
// key it holds is timed from the writer's resolve to the arrival of its
// 'invalidate' event at the second client (bench/invalidation-probe.mjs, one
// clock: performance.now()), which then re-reads the key to hold it again.
// The delay includes this process's event loop, busy with the loops: what an
// app doing the same would see. p50 / p99 / max, and invalidations seen vs
// SETs to keys it held.
// A ConduitClient without the near cache API (no `nearCacheStats()`, before
// issue 21's client) ignores the option: row (a) is then measured as a plain
// client, marked so, and not judged; the invalidation part is not measured.
// Run `npx just bench-near` (builds first; servers on core 0, this process on
// core 1). Env: BENCH_SECONDS (3), BENCH_ROUNDS (5), BENCH_LOOPS (50),
// BENCH_KEYS (100000), BENCH_OPS_PER_LOOP (200000), BENCH_HOT (1000),
// BENCH_NEAR_ENTRIES (the near cache's maxEntries; default BENCH_KEYS); any of them, or BENCH_QUICK=1 (a few seconds), is a partial run
// saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/near-<date>.json and regenerates bench/RESULTS.md.
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { ConduitClient } from '../dist/index.js';
import { InvalidationProbe } from './invalidation-probe.mjs';
import { cpuSeconds, ensureRedis, freePort, isQuick, progress, saveRun, sleep, startConduit, startRedis, stop, waitForPort } from './lib.mjs';
import { NEAR_SYSTEMS } from './report-near.mjs';
import { SET_BIT, opSequences, zipfCdf } from './zipf.mjs';

const started = Date.now();
const SIZING = ['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_LOOPS', 'BENCH_KEYS', 'BENCH_OPS_PER_LOOP', 'BENCH_HOT', 'BENCH_NEAR_ENTRIES'];
const QUICK = isQuick(SIZING);
const quick = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 1 : 3));
const WARMUP_SECONDS = Math.min(1, SECONDS / 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 5));
const LOOPS = Number(process.env.BENCH_LOOPS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? (quick ? 10_000 : 100_000));
const OPS_PER_LOOP = Number(process.env.BENCH_OPS_PER_LOOP ?? (quick ? 20_000 : 200_000));
const HOT = Math.min(KEYS, Number(process.env.BENCH_HOT ?? (quick ? 200 : 1000)));
const NEAR_ENTRIES = process.env.BENCH_NEAR_ENTRIES === undefined ? undefined : Number(process.env.BENCH_NEAR_ENTRIES);
const ZIPF_S = 0.99;
const SET_FRACTION = 0.05;
const SEED = 21;
const SIZE = 100;
const RANK = ~SET_BIT >>> 0;
for (const [name, v] of Object.entries({ SECONDS, ROUNDS, LOOPS, KEYS, OPS_PER_LOOP, HOT })) {
  if (!(v > 0)) throw new Error(`bench/near-cache.mjs: ${name} must be positive, got ${v}`);
}

const value = Buffer.alloc(SIZE, 0x76);
const keys = Array.from({ length: KEYS }, (_, i) => `n:${String(i).padStart(8, '0')}`);
const cdf = zipfCdf(KEYS, ZIPF_S);
const sequences = opSequences({ loops: LOOPS, length: OPS_PER_LOOP, cdf, setFraction: SET_FRACTION, seed: SEED });
const warmups = opSequences({ loops: LOOPS, length: Math.min(OPS_PER_LOOP, 50_000), cdf, setFraction: SET_FRACTION, seed: SEED + 1 });
const nearOptions = { maxEntries: NEAR_ENTRIES ?? KEYS, maxBytes: 64 * 2 ** 20 };

const redisVersion = ensureRedis();
const ports = { conduit: await freePort(), redis: await freePort() };
const conduitServer = startConduit(ports.conduit);
const redisServer = startRedis(ports.redis);

/** 'on' or 'off' as the client reports it, or 'absent' for a ConduitClient without the near cache API. */
const nearState = (c) => (typeof c.nearCacheStats === 'function' ? c.nearCacheStats().state : 'absent');

const conduit = (options) => async () => {
  const c = new ConduitClient({ port: ports.conduit, maxQueued: 1_000_000, ...options });
  await c.connect();
  return {
    client: c,
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v),
    stats: () => (options.nearCache !== undefined && typeof c.nearCacheStats === 'function' ? c.nearCacheStats() : null),
    close: () => c.close(),
  };
};
const systems = {
  [NEAR_SYSTEMS.near]: { pid: () => conduitServer.pid, make: conduit({ nearCache: nearOptions }), probe: true, fill: true },
  [NEAR_SYSTEMS.plain]: { pid: () => conduitServer.pid, make: conduit({}) },
  [NEAR_SYSTEMS.ioredis]: {
    pid: () => redisServer.pid,
    make: async () => {
      const r = new Redis({ port: ports.redis, host: '127.0.0.1', lazyConnect: true });
      await r.connect();
      return { get: (k) => r.getBuffer(k), set: async (k, v) => (await r.set(k, v)) === 'OK', stats: () => null, close: () => r.quit() };
    },
  },
};

/**
 * Every loop replays its sequence until it ends or `seconds` pass. With a
 * probe, SETs to keys the observer holds are timed. Returns ops/s over the
 * time the loops took.
 */
async function drive(sys, seqs, seconds, probe = null) {
  let done = 0;
  let exhausted = 0;
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  await Promise.all(
    seqs.map(async (seq) => {
      let i = 0;
      for (; i < seq.length && performance.now() < stopAt; i++) {
        const op = seq[i];
        const key = keys[op & RANK];
        if (op & SET_BIT) {
          const token = probe === null ? null : probe.setStarted(key);
          if ((await sys.set(key, value)) !== true) throw new Error(`SET ${key} was not stored`);
          if (token !== null) probe.setResolved(token);
        } else {
          const v = await sys.get(key);
          if (v === undefined || v === null || v.length !== SIZE) throw new Error(`GET ${key} missed`);
        }
      }
      done += i;
      if (i === seq.length) exhausted += 1;
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { ops: done / elapsed, done, seconds: elapsed, exhaustedLoops: exhausted };
}

/**
 * The observer of the invalidation delay: a second near-cache client that
 * reads the HOT hottest keys and re-reads each one an invalidation drops.
 */
async function startObserver() {
  const c = new ConduitClient({ port: ports.conduit, maxQueued: 1_000_000, nearCache: { maxEntries: Math.max(HOT * 2, 10_000) } });
  await c.connect();
  const probe = new InvalidationProbe({ reread: (k) => c.get(k) });
  c.on('invalidate', (ks) => probe.invalidated(ks === 'all' ? 'all' : ks.map((b) => b.toString('latin1'))));
  for (let i = 0; i < HOT; i += 100) {
    await Promise.all(keys.slice(i, Math.min(HOT, i + 100)).map((k) => probe.read(k)));
  }
  const held = c.nearCacheStats().entries;
  if (held < HOT) throw new Error(`the observer's near cache holds ${held} entries after reading ${HOT} keys`);
  return { client: c, probe };
}

/** One measurement of `name`: connect, warm up, time; with the near cache on, the invalidation delay beside it. */
async function measure(name) {
  const system = systems[name];
  const sys = await system.make();
  if (system.fill) for (let i = 0; i < KEYS; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => sys.get(k)));
  await drive(sys, warmups, WARMUP_SECONDS);
  const state = system.probe ? nearState(sys.client) : undefined;
  const observer = system.probe && state === 'on' ? await startObserver() : null;
  const before = sys.stats();
  const cpuBefore = cpuSeconds(system.pid());
  const r = await drive(sys, sequences, SECONDS, observer?.probe ?? null);
  const cpu = cpuSeconds(system.pid()) - cpuBefore;
  const after = sys.stats();
  const round = { ...r, cpuPerMillion: (cpu / r.done) * 1e6 };
  if (state !== undefined) round.nearCache = state;
  if (before !== null && after !== null) {
    const d = (f) => after[f] - before[f];
    round.hits = d('hits');
    round.misses = d('misses');
    round.hitRate = round.hits + round.misses === 0 ? null : round.hits / (round.hits + round.misses);
    round.invalidations = d('invalidations');
    round.drops = d('drops');
    round.entries = after.entries;
    round.bytes = after.bytes;
  }
  if (observer !== null) {
    // The last SETs' invalidations are still on their way: wait for them (bounded), then stop re-reading.
    const until = performance.now() + 2_000;
    while (observer.probe.outstanding > 0 && performance.now() < until) await sleep(10);
    observer.probe.stop();
    round.invalidation = { ...observer.probe.summary(), hotKeys: HOT, observerInvalidations: observer.client.nearCacheStats().invalidations };
    await observer.client.close();
  }
  await sys.close();
  return round;
}

try {
  await Promise.all(Object.values(ports).map((p) => waitForPort(p)));
  // Pre-fill both servers, and check a value reads back before timing anything.
  for (const name of [NEAR_SYSTEMS.plain, NEAR_SYSTEMS.ioredis]) {
    const c = await systems[name].make();
    for (let i = 0; i < KEYS; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => c.set(k, value)));
    const back = await c.get(keys[KEYS - 1]);
    if (!Buffer.isBuffer(back) || !back.equals(value)) throw new Error(`${name}: pre-fill did not store the value`);
    await c.close();
  }

  const samples = {};
  const names = Object.keys(systems);
  const step = progress(ROUNDS * names.length);
  for (let round = 0; round < ROUNDS; round += 1) {
    // Rotate the order every round so drift within a round hits every system alike.
    for (let j = 0; j < names.length; j += 1) {
      const name = names[(j + round) % names.length];
      step(name.slice(0, 40));
      (samples[name] ??= []).push(await measure(name));
    }
  }

  const ioredisVersion = JSON.parse(readFileSync(new URL('../node_modules/ioredis/package.json', import.meta.url), 'utf8')).version;
  saveRun({
    benchmark: 'near',
    command: 'npx just bench-near',
    quick: QUICK,
    started,
    versions: { redis: redisVersion, ioredis: ioredisVersion },
    parameters: {
      seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, loops: LOOPS, clients: 1, keys: KEYS, valueBytes: SIZE,
      zipf: ZIPF_S, getFraction: 1 - SET_FRACTION, setFraction: SET_FRACTION, seed: SEED, opsPerLoop: OPS_PER_LOOP, hotKeys: HOT,
      nearCache: nearOptions, nearCacheFilled: true,
    },
    results: names.map((system) => ({ system, rounds: samples[system] })),
  });
} finally {
  await stop(conduitServer);
  await stop(redisServer);
}
