// End-to-end benchmark: conduit-server vs redis-server under the same Node
// load generator (pre-encoded requests, N connections × P in flight), plus
// redis-benchmark against Redis, alternating systems each round.
//
//   npx just bench-e2e        (pins the server to core 0, this script to core 1)
//
// Env: BENCH_SECONDS (per measurement, default 3), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (50), BENCH_KEYS (100000), BENCH_VALUE (100); any of them
// set makes a partial run, saved under BENCH_OUT or a temp dir, never in
// bench/results/. A full run saves bench/results/e2e-<date>.json and
// regenerates bench/RESULTS.md.
// Installs Debian's redis-server when it is missing (and says so). Every
// process it starts is stopped by its pid, also on failure or Ctrl-C.
import { connect } from 'node:net';
import { loadRaw, raw } from './protocols.mjs';
import {
  cpuSeconds, ensureRedis, freePort, isQuick, percentile, pinned, progress, rssMiB, saveRun, sleep, startConduit, startRedis, waitForPort,
} from './lib.mjs';
import { redisBenchmarkKey, redisCounters, runRedisBenchmark } from './redis-benchmark.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const VALUE = Buffer.alloc(Number(process.env.BENCH_VALUE ?? 100), 0x76);
const QUICK = isQuick(['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_KEYS', 'BENCH_VALUE']);
const started = Date.now();

// Named the way redis-benchmark -r names its keys, so it reads exactly these.
const PREFIX = `k${VALUE.length}:`;
const key = (i) => redisBenchmarkKey(PREFIX, i % KEYS);
const conduit = raw.conduit;
const resp = raw.resp;

/** N connections × P in flight for `seconds`: ops/s and latency percentiles (ms). */
async function load(adapter, port, op, pipeline, seconds) {
  const latencies = [];
  const total = await loadRaw({
    adapter,
    port,
    op,
    key,
    value: VALUE,
    pipeline,
    connections: CONNECTIONS,
    seconds,
    record: (us) => latencies.push(us / 1000),
  });
  latencies.sort((a, b) => a - b);
  return { ops: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function fill(adapter, port) {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  const count = adapter.counter();
  const frames = Array.from({ length: KEYS }, (_, i) => adapter.encode('SET', key(i), VALUE, i));
  let done = 0;
  await new Promise((resolve) => {
    socket.on('data', (chunk) => {
      done += count(chunk);
      if (done === KEYS) resolve();
    });
    for (let i = 0; i < KEYS; i += 1000) socket.write(Buffer.concat(frames.slice(i, i + 1000)));
  });
  socket.destroy();
}

/** redis-benchmark over the same keys, checked: one hit per GET, no miss, no key added. */
function redisBenchmark(port, op, pipeline) {
  const requests = (op === 'GET' ? 600_000 : 400_000) / (QUICK ? 20 : 1);
  return runRedisBenchmark({
    wrap: (cmd, args) => pinned(1, cmd, args),
    timeoutMs: 120_000,
    port, op, prefix: PREFIX, keys: KEYS, value: VALUE, connections: CONNECTIONS, pipeline, requests: pipeline === 1 ? requests / 4 : requests,
  });
}

// ---------------------------------------------------------------------------

const redisVersion = ensureRedis();
const conduitPort = await freePort();
const redisPort = await freePort();
const server = startConduit(conduitPort);
const redis = startRedis(redisPort);
await Promise.all([waitForPort(conduitPort), waitForPort(redisPort)]);
await fill(conduit, conduitPort);
await fill(resp, redisPort);
// RSS with the same keyspace in both and nothing else, before any other write (issue 24, item 2).
if (redisCounters(redisPort).keys !== KEYS) throw new Error(`Redis holds ${redisCounters(redisPort).keys} keys after the fill, not ${KEYS}`);
await sleep(1000);
const rssAfterFill = { conduit: rssMiB(server.pid), redis: rssMiB(redis.pid) };

const workloads = [];
for (const op of ['GET', 'SET']) for (const pipeline of [1, 16]) workloads.push({ op, pipeline });
const samples = {};
const record = (name, w, r) => ((samples[`${name}|${w.op}|${w.pipeline}`] ??= []).push(r));
const step = progress(ROUNDS * workloads.length * 3);

for (let round = 0; round < ROUNDS; round += 1) {
  for (const w of workloads) {
    // Alternate the systems inside each round so drift hits them alike.
    step(`conduit ${w.op} P=${w.pipeline}`);
    const cpu0 = cpuSeconds(server.pid);
    const c = await load(conduit, conduitPort, w.op, w.pipeline, SECONDS);
    record('Conduit (Node load generator)', w, { ...c, cpu: cpuSeconds(server.pid) - cpu0, rss: rssMiB(server.pid) });
    step(`redis ${w.op} P=${w.pipeline}`);
    const rcpu0 = cpuSeconds(redis.pid);
    const r = await load(resp, redisPort, w.op, w.pipeline, SECONDS);
    record('Redis (Node load generator)', w, { ...r, cpu: cpuSeconds(redis.pid) - rcpu0, rss: rssMiB(redis.pid) });
    step(`redis-benchmark ${w.op} P=${w.pipeline}`);
    record('Redis (redis-benchmark)', w, redisBenchmark(redisPort, w.op, w.pipeline));
  }
}
server.kill('SIGTERM');
redis.kill('SIGTERM');

const results = [];
for (const w of workloads) {
  for (const system of ['Conduit (Node load generator)', 'Redis (Node load generator)', 'Redis (redis-benchmark)']) {
    results.push({ system, ...w, rounds: samples[`${system}|${w.op}|${w.pipeline}`] });
  }
}
saveRun({
  benchmark: 'e2e',
  command: 'npx just bench-e2e',
  quick: QUICK,
  started,
  versions: { redis: redisVersion },
  parameters: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, keys: KEYS, valueBytes: VALUE.length, pipelines: [1, 16] },
  keyspace: { keys: KEYS, sizes: [VALUE.length], keyBytes: key(0).length },
  rssAfterFill,
  results,
});
