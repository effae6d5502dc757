// End-to-end benchmark: conduit-server vs redis-server under the same Node
// load generator (pre-encoded requests, N connections × P in flight), plus
// redis-benchmark against Redis, alternating systems each round.
//
//   npx just bench-e2e        (pins the server to core 0, this script to core 1)
//
// Env: BENCH_SECONDS (per measurement, default 3), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (50), BENCH_KEYS (100000), BENCH_VALUE (100).
// Installs Debian's redis-server when it is missing (and says so). Every
// process it starts is stopped by its pid, also on failure or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { loadRaw, raw } from './protocols.mjs';
import {
  cpuSeconds, ensureRedis, fmt, freePort, has, median, percentile, pinned, progress, rssMiB, startConduit, startRedis, waitForPort,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const VALUE = Buffer.alloc(Number(process.env.BENCH_VALUE ?? 100), 0x76);

const key = (i) => `key:${String(i % KEYS).padStart(8, '0')}`;
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

function redisBenchmark(port, op, pipeline) {
  const requests = op === 'GET' ? 600_000 : 400_000;
  const [cmd, args] = pinned(1, 'redis-benchmark', [
    '-h', '127.0.0.1', '-p', String(port), '-c', String(CONNECTIONS), '-P', String(pipeline), '-d', String(VALUE.length),
    '-r', String(KEYS), '-n', String(pipeline === 1 ? requests / 4 : requests), '-t', op.toLowerCase(), '--csv',
  ]);
  const out = execFileSync(cmd, args, { timeout: 120_000 }).toString();
  const row = out.trim().split('\n').at(-1).split(',').map((s) => s.replaceAll('"', ''));
  return { ops: Number(row[1]), p50: Number(row[4]), p99: Number(row[6]) };
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

const workloads = [];
for (const op of ['GET', 'SET']) for (const pipeline of [1, 16]) workloads.push({ op, pipeline });
const results = {};
const record = (name, w, r) => ((results[`${name}|${w.op}|${w.pipeline}`] ??= []).push(r));
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

console.log(
  `End-to-end, ${CONNECTIONS} connections, ${VALUE.length}-byte values, ${KEYS.toLocaleString('en-US')} keys, ` +
    `${SECONDS} s per measurement, median of ${ROUNDS} rounds (min–max); Node ${process.version}, Redis ${redisVersion}; ` +
    `server on core 0, load generator on core 1${has('taskset') ? '' : ' (taskset missing: not pinned)'}\n`,
);
console.log('| system | op | P | ops/s | p50 ms | p99 ms | server CPU s | server RSS MiB | vs Redis (same generator) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const w of workloads) {
  const redisOps = median(results[`Redis (Node load generator)|${w.op}|${w.pipeline}`].map((r) => r.ops));
  for (const name of ['Conduit (Node load generator)', 'Redis (Node load generator)', 'Redis (redis-benchmark)']) {
    const rs = results[`${name}|${w.op}|${w.pipeline}`];
    const ops = rs.map((r) => r.ops);
    const ratio = name.startsWith('Conduit') ? `${(median(ops) / redisOps).toFixed(2)}×` : '';
    const cpu = rs[0].cpu === undefined ? '' : median(rs.map((r) => r.cpu)).toFixed(2);
    const rss = rs[0].rss === undefined ? '' : median(rs.map((r) => r.rss)).toFixed(0);
    console.log(
      `| ${name} | ${w.op} | ${w.pipeline} | ${fmt(median(ops))} (${fmt(Math.min(...ops))}–${fmt(Math.max(...ops))}) | ` +
        `${median(rs.map((r) => r.p50)).toFixed(2)} | ${median(rs.map((r) => r.p99)).toFixed(2)} | ${cpu} | ${rss} | ${ratio} |`,
    );
  }
}
