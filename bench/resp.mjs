// RESP listener benchmark (issue 23): redis-benchmark — Redis's own C load generator, so no
// Node generator sits in the measurement — against `conduit-server --resp-port` and against
// redis-server, in the same run, the two alternating inside every round:
//   redis-benchmark -t set (then -t get) -P 16 -c 50 -d 100 -r 100000 -n N, and the same with -P 1.
// (`-t set,get` split into one test per invocation, so each test has its own server CPU and
// miss count.) Both servers are filled first with the 100,000 keys redis-benchmark reads
// (`key:` + 12 digits, 100 × 'x', what its SET writes) through `redis-cli --pipe`, so every GET
// hits: INFO's keyspace_misses must not move during a GET test, and DBSIZE must not change.
// Pinning: the servers on core 0 (bench/lib.mjs start/startConduit), redis-benchmark on core 1
// (taskset), this process under `{{pin}}` (core 1).
// A memtier-style mixed 1:10 SET:GET with Zipf keys needs a maintained generator: memtier_benchmark
// is not packaged in Debian 12 and npm has none, so the rows are redis-benchmark's set/get tests
// (the section says so).
// Run `npx just bench-resp` (builds first). Env: BENCH_ROUNDS (5), BENCH_KEYS (100000),
// BENCH_REQUESTS (requests per test at P = 16; P = 1 runs a fifth of it); any of them, or
// BENCH_QUICK=1 (one round, 10,000 keys, 60,000 / 12,000 requests: CI only checks that it runs),
// is a partial run saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/resp-<date>.json and regenerates bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpuSeconds, ensureRedis, freePort, has, isQuick, progress, saveRun, startConduit, startRedis, stop, waitForPort } from './lib.mjs';
import { redisCounters } from './redis-benchmark.mjs';
import { RESP_SYSTEMS } from './report-resp.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_ROUNDS', 'BENCH_KEYS', 'BENCH_REQUESTS']);
const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 5));
const KEYS = Number(process.env.BENCH_KEYS ?? (quick ? 10_000 : 100_000));
const REQUESTS16 = Number(process.env.BENCH_REQUESTS ?? (quick ? 60_000 : 1_000_000));
const PIPELINES = [16, 1];
const REQUESTS = { 16: REQUESTS16, 1: Math.max(1_000, Math.round(REQUESTS16 / 5)) };
const CONNECTIONS = 50;
const VALUE_BYTES = 100;
const MIXED = 'not measured: no maintained generator is available (memtier_benchmark is not packaged in Debian 12 — `apt-cache policy memtier-benchmark` finds none — and npm has none), ' +
  "so the workload is redis-benchmark's set and get tests above (uniform random keys), as the issue allows.";

/**
 * Redis-benchmark's key for `i` under `-r`: `key:` and 12 zero-padded digits (randomizeClientKey, Redis 7).
 *
 * @example
 * benchmarkKey(42); // 'key:000000000042'
 */
function benchmarkKey(i) {
  return `key:${String(i).padStart(12, '0')}`;
}

/** The RESP text of `SET key:… xxx…` for keys 0 … keys − 1, for `redis-cli --pipe`. */
function fillInput(keys, valueBytes) {
  const value = 'x'.repeat(valueBytes);
  const parts = [];
  for (let i = 0; i < keys; i += 1) {
    const key = benchmarkKey(i);
    parts.push(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
  }
  return parts.join('');
}

/** Fills the server on `port` with the keyspace, checking redis-cli's count and DBSIZE. */
function fill(port, input) {
  const out = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe'], { input, timeout: 120_000 }).toString();
  if (!out.includes(`errors: 0, replies: ${KEYS}`)) throw new Error(`filling port ${port}: ${out.trim()}`);
  const size = Number(execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'DBSIZE']).toString().trim());
  if (size !== KEYS) throw new Error(`filling port ${port}: DBSIZE ${size}, expected ${KEYS}`);
}

/** `"test","rps","avg","min","p50","p95","p99","max"` → `{ rps, p50, p99 }` of redis-benchmark's one test. */
function parseCsv(text, op) {
  const line = text.trim().split('\n').find((l) => l.startsWith(`"${op}"`));
  if (line === undefined) throw new Error(`redis-benchmark printed no ${op} row:\n${text}`);
  const f = line.split('","').map((s) => s.replaceAll('"', ''));
  return { rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]) };
}

/** One redis-benchmark test against `server`, checked (no GET missed, no key added). */
function measure(server, op, pipeline) {
  const before = redisCounters(server.port);
  const cpu0 = cpuSeconds(server.child.pid);
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-t', op.toLowerCase(), '-P', String(pipeline), '-c', String(CONNECTIONS),
    '-d', String(VALUE_BYTES), '-r', String(KEYS), '-n', String(REQUESTS[pipeline]), '--csv'];
  const [cmd, argv] = has('taskset') ? ['taskset', ['-c', '1', 'redis-benchmark', ...args]] : ['redis-benchmark', args];
  const run = spawnSync(cmd, argv, { timeout: 600_000 });
  if (run.status !== 0) throw new Error(`redis-benchmark ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}`);
  const cpu = cpuSeconds(server.child.pid) - cpu0;
  const after = redisCounters(server.port);
  const misses = after.misses - before.misses;
  if (after.keys !== before.keys) throw new Error(`${server.system} ${op} P=${pipeline}: the key count went from ${before.keys} to ${after.keys}`);
  if (misses !== 0) throw new Error(`${server.system} ${op} P=${pipeline}: ${misses} GETs missed a key the fill wrote`);
  return { ...parseCsv(run.stdout.toString(), op), requests: REQUESTS[pipeline], misses, cpuPerMillion: (cpu / REQUESTS[pipeline]) * 1e6 };
}

const redisVersion = ensureRedis();
const redisPort = await freePort();
const conduitPort = await freePort();
const respPort = await freePort();
const redis = { system: RESP_SYSTEMS.redis, port: redisPort, child: startRedis(redisPort) };
const conduit = { system: RESP_SYSTEMS.conduit, port: respPort, child: startConduit(conduitPort, ['--resp-port', String(respPort)]) };
const servers = [conduit, redis];
try {
  await waitForPort(redisPort);
  await waitForPort(respPort);
  const input = fillInput(KEYS, VALUE_BYTES);
  for (const s of servers) fill(s.port, input);

  const results = PIPELINES.flatMap((pipeline) => ['SET', 'GET'].flatMap((op) => servers.map((s) => ({ system: s.system, op, pipeline, rounds: [] }))));
  const step = progress(ROUNDS * PIPELINES.length * 2 * servers.length);
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which server goes first, so neither always runs on a warmer machine.
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const pipeline of PIPELINES) {
      for (const op of ['SET', 'GET']) {
        for (const s of order) {
          step(`${s === conduit ? 'conduit' : 'redis'} ${op} P=${pipeline}`);
          results.find((r) => r.system === s.system && r.op === op && r.pipeline === pipeline).rounds.push(measure(s, op, pipeline));
        }
      }
    }
  }
  const benchVersion = /(\d+\.\d+\.\d+)/.exec(execFileSync('redis-benchmark', ['--version']).toString())?.[1] ?? '?';
  saveRun({
    benchmark: 'resp',
    command: 'npx just bench-resp',
    quick: QUICK,
    started,
    versions: { redis: redisVersion, 'redis-benchmark': benchVersion },
    parameters: { rounds: ROUNDS, keys: KEYS, connections: CONNECTIONS, valueBytes: VALUE_BYTES, pipelines: PIPELINES, requests: REQUESTS, serverCores: 0, generatorCore: 1, mixed: MIXED },
    results,
  });
} finally {
  for (const s of servers) await stop(s.child);
}
