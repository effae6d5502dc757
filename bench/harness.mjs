// One benchmark harness (`npx just bench`): Conduit vs Redis vs memcached,
// the same workloads from the same Node load generator, in one run, the
// systems alternating inside every round so machine drift hits all alike.
//
//   workloads: GET and SET × 100-byte and 4 KiB values × 1 and 16 requests in
//              flight per connection, 50 connections, 100,000 pre-filled keys
//   systems:   Conduit through raw pre-encoded frames (the server's capacity)
//              and through ConduitClient (plaintext, secure mode, TLS);
//              Redis through raw RESP, ioredis and redis-benchmark;
//              memcached through raw text-protocol requests and memjs
//
// Reports ops/s and latency p50/p99/p99.9 (HDR histogram), the server's CPU
// seconds and RSS, each the median of ROUNDS rounds with min–max, and every
// server's RSS right after the fill (same keyspace everywhere, nothing else).
// Then the memory part (issue 17, bench/memory.mjs), on fresh servers of its
// own: items kept under a 64 MiB budget (1.5M distinct keys, 100 B values,
// 1 round) and process RSS under churn (random 16 B – 4 KiB values, 10× the
// budget written; 64 MiB: 3 rounds, 1 GiB: 1), sampled every 10,000 writes.
// Saves bench/results/harness-<date>.json and regenerates bench/RESULTS.md
// and bench/results/chart.svg (bench/report.mjs). Last, the scan part (issue 19, bench/scan.mjs):
// SCAN vs LIST over 1M keys, per-call times and the server loop's worst stall (BENCH_ONLY skips
// it; BENCH_SCAN_KEYS/ROUNDS size it). BENCH_QUICK=1 is a ~30 s
// smoke run (CI), BENCH_ONLY=memory or throughput runs one part, and any
// BENCH_SECONDS/ROUNDS/CONNECTIONS/KEYS override a partial run: all of these
// write under BENCH_OUT (default: a temp dir) and leave the repository alone.
// Installs Debian's redis-server and memcached when missing, saying so;
// stops every process it starts by its pid, also on failure or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import Redis from 'ioredis';
import memjs from 'memjs';
import { ConduitClient } from '../dist/index.js';
import { cpuSeconds, freePort, has, isQuick, makeCerts, pinned, progress, rssMiB, saveRun, sleep, start, startConduit, startRedis, stop, waitForPort } from './lib.mjs';
import { memoryParameters, memorySteps, runMemory } from './memory.mjs';
import { loadRaw, raw } from './protocols.mjs';
import { redisBenchmarkKey, redisCounters, runRedisBenchmark } from './redis-benchmark.mjs';
import { runScan, scanParameters } from './scan.mjs';

const QUICK = isQuick(['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_KEYS', 'BENCH_ONLY', 'BENCH_SCAN_KEYS', 'BENCH_SCAN_ROUNDS', 'BENCH_SCAN_LIST_CALLS']);
// BENCH_ONLY=memory (or throughput) runs one part: a partial run, saved under BENCH_OUT like any quick run.
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'memory' && ONLY !== 'throughput') throw new Error(`BENCH_ONLY must be memory or throughput, not ${JSON.stringify(ONLY)}`);
const SMOKE = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 0.25 : 3));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (SMOKE ? 1 : 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (SMOKE ? 8 : 50));
const KEYS = Number(process.env.BENCH_KEYS ?? (SMOKE ? 2_000 : 100_000));
const SIZES = SMOKE ? [100] : [100, 4096];
const PIPELINES = [1, 16];
const root = new URL('..', import.meta.url).pathname;
const started = Date.now();

// ---- installs ----------------------------------------------------------------
const missing = [];
if (!has('redis-server') || !has('redis-benchmark')) missing.push('redis-server', 'redis-tools');
if (!has('memcached')) missing.push('memcached');
if (missing.length > 0) {
  console.log(`Installing Debian packages the comparison needs: ${missing.join(' ')} (apt-get)…`);
  execFileSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`], { stdio: 'inherit' });
}
const version = (cmd, args, pattern) => (execFileSync(cmd, args).toString().match(pattern)?.[1] ?? '?');
const versions = {
  node: process.version,
  redis: version('redis-server', ['--version'], /v=(\S+)/),
  memcached: version('memcached', ['-V'], /memcached (\S+)/),
  ioredis: JSON.parse(readFileSync(join(root, 'node_modules/ioredis/package.json'), 'utf8')).version,
  memjs: JSON.parse(readFileSync(join(root, 'node_modules/memjs/package.json'), 'utf8')).version,
  conduit: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
};

/**
 * The throughput part: starts the servers, pre-fills and checks the keyspace,
 * reads every server's RSS after the fill, runs ROUNDS rounds of every
 * workload on every system, stops the servers. Returns what the run saves.
 */
async function throughputPart() {
  // ---- servers (core 0) --------------------------------------------------------
  const certs = makeCerts();
  const secret = randomBytes(32);
  const ports = { conduit: await freePort(), secure: await freePort(), tls: await freePort(), redis: await freePort(), memcached: await freePort() };
  const servers = {
    conduit: startConduit(ports.conduit),
    'conduit-secure': startConduit(ports.secure, [], { CONDUIT_KEY: `bench:${secret.toString('base64')}` }),
    'conduit-tls': startConduit(ports.tls, ['--tls-cert', certs.cert, '--tls-key', certs.key]),
    redis: startRedis(ports.redis),
    memcached: start('memcached', ['-p', String(ports.memcached), '-l', '127.0.0.1', '-U', '0', '-t', '1', '-m', '2048', '-u', 'root']),
  };
  await Promise.all(Object.values(ports).map((p) => waitForPort(p)));

  // ---- workloads data ----------------------------------------------------------
  const values = new Map(SIZES.map((n) => [n, Buffer.alloc(n, 0x76)]));
  // One keyspace per value size, so no row reads the other size's values; named
  // the way redis-benchmark -r names its keys, so it reads exactly these.
  const prefixOf = (size) => `k${size}:`;
  const keyOf = (size, i) => redisBenchmarkKey(prefixOf(size), i % KEYS);

  /** Client libraries: the same calls the Node load generator makes on each. */
  const clients = {
    conduit: (port, extra = {}) => async () => {
      const c = new ConduitClient({ port, maxQueued: 1_000_000, ...extra });
      await c.connect();
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
    },
    ioredis: async () => {
      const r = new Redis({ port: ports.redis, host: '127.0.0.1', lazyConnect: true });
      await r.connect();
      return { get: (k) => r.getBuffer(k), set: (k, v) => r.set(k, v), close: () => r.quit() };
    },
    memjs: async () => {
      const m = memjs.Client.create(`127.0.0.1:${ports.memcached}`, { retries: 0, timeout: 5, keepAlive: true });
      return {
        get: async (k) => (await m.get(k)).value,
        set: (k, v) => m.set(k, v, { expires: 0 }),
        close: async () => m.close(),
      };
    },
  };

  const systems = [
    { name: 'Conduit · raw frames', server: 'conduit', raw: raw.conduit, port: ports.conduit },
    { name: 'Conduit · ConduitClient', server: 'conduit', client: clients.conduit(ports.conduit) },
    // Secure mode both ways (issue 18): every frame sealed alone (spec §6.4, protocol 1.0), and sealed envelopes (§6.7, 1.1, the client's default).
    { name: 'Conduit · ConduitClient, secure mode', server: 'conduit-secure', client: clients.conduit(ports.secure, { key: { id: 'bench', secret }, sealing: 'frames' }) },
    { name: 'Conduit · ConduitClient, secure mode, envelopes', server: 'conduit-secure', client: clients.conduit(ports.secure, { key: { id: 'bench', secret }, sealing: 'envelopes' }) },
    { name: 'Conduit · ConduitClient, TLS', server: 'conduit-tls', client: clients.conduit(ports.tls, { tls: { ca: readFileSync(certs.ca) } }) },
    { name: 'Redis · raw RESP', server: 'redis', raw: raw.resp, port: ports.redis },
    { name: 'Redis · ioredis', server: 'redis', client: clients.ioredis },
    { name: 'Redis · redis-benchmark', server: 'redis', external: true },
    { name: 'memcached · raw text protocol', server: 'memcached', raw: raw.memcache, port: ports.memcached },
    { name: 'memcached · memjs', server: 'memcached', client: clients.memjs },
  ];

  // ---- measuring ---------------------------------------------------------------
  function histogram() {
    return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  }

  /** N connections × P pre-encoded requests in flight, for SECONDS; latency in the HDR histogram. */
  async function runRaw(system, op, size, pipeline) {
    const h = histogram();
    const total = await loadRaw({
      adapter: system.raw,
      port: system.port,
      op,
      key: (i) => keyOf(size, i),
      value: values.get(size),
      pipeline,
      connections: CONNECTIONS,
      seconds: SECONDS,
      record: (us) => h.recordValue(us),
    });
    return summary(h, total);
  }

  /** N client connections × P awaiting loops, for SECONDS. */
  async function runClient(system, op, size, pipeline) {
    const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => system.client()));
    const h = histogram();
    const value = values.get(size);
    const stopAt = performance.now() + SECONDS * 1000;
    let total = 0;
    let seed = 1;
    await Promise.all(
      conns.flatMap((c) =>
        Array.from({ length: pipeline }, async () => {
          while (performance.now() < stopAt) {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            const key = keyOf(size, seed);
            const t = performance.now();
            const result = op === 'GET' ? await c.get(key) : await c.set(key, value);
            h.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
            if (op === 'GET' && (result == null || result.length !== size)) throw new Error(`${system.name}: GET missed`);
            total += 1;
          }
        }),
      ),
    );
    await Promise.all(conns.map((c) => c.close()));
    return summary(h, total);
  }

  /** redis-benchmark over the same keyspace, checked: one hit per GET, no miss, no key added. */
  function redisBenchmark(op, size, pipeline) {
    const requests = Math.max(10_000, Math.round((SMOKE ? 20_000 : 150_000) * (pipeline === 16 ? 4 : 1)));
    const r = runRedisBenchmark({
      wrap: (cmd, args) => pinned(1, cmd, args),
      port: ports.redis, op, prefix: prefixOf(size), keys: KEYS, value: values.get(size), connections: CONNECTIONS, pipeline, requests,
    });
    return { ...r, p999: null };
  }

  function summary(h, total) {
    const ms = (p) => h.getValueAtPercentile(p) / 1000;
    const result = { ops: total / SECONDS, p50: ms(50), p99: ms(99), p999: ms(99.9) };
    h.destroy?.();
    return result;
  }

  // ---- pre-fill and check before timing ----------------------------------------
  for (const system of systems.filter((s) => s.client !== undefined && !s.name.includes('secure') && !s.name.includes('TLS'))) {
    const c = await system.client();
    for (const size of SIZES) {
      for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: Math.min(500, KEYS - i) }, (_, j) => c.set(keyOf(size, i + j), values.get(size))));
      const sample = await c.get(keyOf(size, KEYS - 1));
      if (sample == null || !Buffer.from(sample).equals(values.get(size))) throw new Error(`${system.name}: pre-fill did not store the value`);
    }
    await c.close();
  }
  for (const [port, extra] of [[ports.secure, { key: { id: 'bench', secret } }], [ports.tls, { tls: { ca: readFileSync(certs.ca) } }]]) {
    const c = await clients.conduit(port, extra)();
    for (const size of SIZES) {
      for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: Math.min(500, KEYS - i) }, (_, j) => c.set(keyOf(size, i + j), values.get(size))));
    }
    await c.close();
  }

  // ---- RSS with the same keyspace in every server, before any other write -------
  // Every server now holds KEYS keys per value size and nothing else (Redis's key
  // count says so); the timed rows below write more (SET) and redis-benchmark
  // runs against Redis, so this is the one point where like is compared with
  // like (issue 24, item 2). A second lets freed fill buffers settle.
  const expectedKeys = KEYS * SIZES.length;
  if (redisCounters(ports.redis).keys !== expectedKeys) throw new Error(`Redis holds ${redisCounters(ports.redis).keys} keys after the fill, not ${expectedKeys}`);
  for (const [port, extra] of [[ports.conduit, {}], [ports.secure, { key: { id: 'bench', secret } }], [ports.tls, { tls: { ca: readFileSync(certs.ca) } }]]) {
    const c = new ConduitClient({ port, ...extra });
    await c.connect();
    const items = (await c.stats()).curr_items;
    await c.close();
    if (items !== expectedKeys) throw new Error(`conduit-server on ${port} holds ${items} keys after the fill, not ${expectedKeys}`);
  }
  await sleep(1000);
  const rssAfterFill = Object.fromEntries(Object.entries(servers).map(([name, child]) => [name, rssMiB(child.pid)]));
  const keyspace = { keys: KEYS, sizes: SIZES, keyBytes: keyOf(SIZES.at(-1), 0).length, redisKeys: expectedKeys };

  // ---- the run -----------------------------------------------------------------
  const workloads = [];
  for (const size of SIZES) for (const op of ['GET', 'SET']) for (const pipeline of PIPELINES) workloads.push({ op, size, pipeline });
  const samples = new Map();
  const step = progress(ROUNDS * workloads.length * systems.length);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const w of workloads) {
      for (const system of systems) {
        step(`${system.name} ${w.op} ${w.size} B P=${w.pipeline}`);
        const pid = servers[system.server].pid;
        const cpu0 = cpuSeconds(pid);
        const r = system.external
          ? redisBenchmark(w.op, w.size, w.pipeline)
          : system.raw !== undefined
            ? await runRaw(system, w.op, w.size, w.pipeline)
            : await runClient(system, w.op, w.size, w.pipeline);
        const key = `${system.name}|${w.op}|${w.size}|${w.pipeline}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key).push({ ...r, cpu: system.external ? null : cpuSeconds(pid) - cpu0, rss: rssMiB(pid) });
      }
    }
  }
  await Promise.all(Object.values(servers).map((child) => stop(child)));

  // ---- results -----------------------------------------------------------------
  const results = [];
  for (const w of workloads) {
    for (const system of systems) {
      results.push({ system: system.name, server: system.server, ...w, rounds: samples.get(`${system.name}|${w.op}|${w.size}|${w.pipeline}`) });
    }
  }
  return { keyspace, rssAfterFill, results };
}

/**
 * The memory part (issue 17, bench/memory.mjs): items kept under a 64 MiB
 * budget and RSS under churn at 64 MiB and 1 GiB, every server fresh for every
 * measurement, after the throughput part so its servers are gone.
 */
async function memoryPart() {
  const parameters = memoryParameters(SMOKE);
  return runMemory(parameters, progress(memorySteps(parameters)));
}

const throughput = ONLY === 'memory' ? { results: [] } : await throughputPart();
const memory = ONLY === 'throughput' ? undefined : await memoryPart();
// The scan part (issue 19 item 3, bench/scan.mjs): SCAN vs LIST over 1M keys (20,000 in the smoke run).
const scan = ONLY === undefined ? await runScan(scanParameters(SMOKE)) : undefined;

saveRun({
  benchmark: 'harness',
  command: 'npx just bench',
  quick: QUICK,
  started,
  versions,
  parameters: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, keys: KEYS, sizes: SIZES, pipelines: PIPELINES },
  ...(ONLY === undefined ? {} : { only: ONLY }),
  ...throughput,
  ...(memory === undefined ? {} : { memory }),
  ...(scan === undefined ? {} : { scan }),
});
