// Client benchmark: ConduitClient against conduit-server (plaintext, secure
// mode, TLS) vs ioredis against redis-server, from the same Node load
// generator in the same run: C client connections, each with P requests in
// flight (P awaiting loops), GET and SET of 100-byte and 4 KiB values over a
// pre-filled keyspace. Systems alternate inside every round.
// Run `npx just bench-clients` (servers on core 0, this process on core 1).
// Env: BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
// BENCH_KEYS (100000), BENCH_SIZES (100,4096); any of them set makes a
// partial run, saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/clients-<date>.json and regenerates bench/RESULTS.md.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { ConduitClient } from '../dist/index.js';
import { ensureRedis, freePort, isQuick, makeCerts, percentile, progress, saveRun, startConduit, startRedis, waitForPort } from './lib.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_KEYS', 'BENCH_SIZES']);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const SIZES = (process.env.BENCH_SIZES ?? '100,4096').split(',').map(Number);
const values = new Map(SIZES.map((n) => [n, Buffer.alloc(n, 0x76)]));
const keysOf = new Map(SIZES.map((n) => [n, Array.from({ length: KEYS }, (_, i) => `k${n}:${String(i).padStart(8, '0')}`)]));

const redisVersion = ensureRedis();
const certs = makeCerts();
const secret = randomBytes(32);
const ports = { plain: await freePort(), secure: await freePort(), tls: await freePort(), redis: await freePort() };
const servers = [
  startConduit(ports.plain),
  startConduit(ports.secure, [], { CONDUIT_KEY: `bench:${secret.toString('base64')}` }),
  startConduit(ports.tls, ['--tls-cert', certs.cert, '--tls-key', certs.key]),
  startRedis(ports.redis),
];
await Promise.all(Object.values(ports).map((p) => waitForPort(p)));

const conduit = (options) => async () => {
  const c = new ConduitClient({ maxQueued: 1_000_000, ...options });
  await c.connect();
  return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
};
const systems = {
  'ConduitClient → conduit-server': conduit({ port: ports.plain }),
  'ConduitClient → conduit-server, secure mode': conduit({ port: ports.secure, key: { id: 'bench', secret }, sealing: 'frames' }),
  'ConduitClient → conduit-server, secure mode, envelopes': conduit({ port: ports.secure, key: { id: 'bench', secret }, sealing: 'envelopes' }),
  'ConduitClient → conduit-server, TLS': conduit({ port: ports.tls, tls: { ca: readFileSync(certs.ca) } }),
  'ioredis → redis-server': async () => {
    const r = new Redis({ port: ports.redis, host: '127.0.0.1', lazyConnect: true });
    await r.connect();
    return { get: (k) => r.getBuffer(k), set: (k, v) => r.set(k, v), close: () => r.quit() };
  },
};

// Pre-fill every system, and check a value reads back before timing anything.
for (const make of Object.values(systems)) {
  const c = await make();
  for (const size of SIZES) {
    const keys = keysOf.get(size);
    for (let i = 0; i < KEYS; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => c.set(k, values.get(size))));
    const sample = await c.get(keys[KEYS - 1]);
    if (!Buffer.isBuffer(sample) || !sample.equals(values.get(size))) throw new Error('pre-fill did not store the value');
  }
  await c.close();
}

async function run(make, op, size, inflight) {
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => make()));
  const keys = keysOf.get(size);
  const value = values.get(size);
  const latencies = [];
  let done = 0;
  let seed = 1;
  const stopAt = performance.now() + SECONDS * 1000;
  await Promise.all(
    conns.flatMap((c) =>
      Array.from({ length: inflight }, async () => {
        while (performance.now() < stopAt) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const k = keys[seed % KEYS];
          const t = performance.now();
          const result = op === 'GET' ? await c.get(k) : await c.set(k, value);
          latencies.push(performance.now() - t);
          if (op === 'GET' && (result === undefined || result === null || result.length !== size)) throw new Error('GET missed');
          done += 1;
        }
      }),
    ),
  );
  await Promise.all(conns.map((c) => c.close()));
  latencies.sort((a, b) => a - b);
  return { ops: done / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const workloads = [];
for (const size of SIZES) for (const op of ['GET', 'SET']) for (const inflight of [1, 16]) workloads.push({ op, size, inflight });
const samples = {};
const step = progress(ROUNDS * workloads.length * Object.keys(systems).length);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const w of workloads) {
    for (const [name, make] of Object.entries(systems)) {
      step(`${name.replace('ConduitClient → conduit-server', 'conduit')} ${w.op} ${w.size} B P=${w.inflight}`);
      (samples[`${name}|${w.op}|${w.size}|${w.inflight}`] ??= []).push(await run(make, w.op, w.size, w.inflight));
    }
  }
}
for (const s of servers) s.kill('SIGTERM');

const ioredisVersion = JSON.parse(readFileSync(new URL('../node_modules/ioredis/package.json', import.meta.url), 'utf8')).version;
const results = [];
for (const w of workloads) {
  for (const system of Object.keys(systems)) {
    results.push({ system, op: w.op, size: w.size, pipeline: w.inflight, rounds: samples[`${system}|${w.op}|${w.size}|${w.inflight}`] });
  }
}
saveRun({
  benchmark: 'clients',
  command: 'npx just bench-clients',
  quick: QUICK,
  started,
  versions: { redis: redisVersion, ioredis: ioredisVersion },
  parameters: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, keys: KEYS, sizes: SIZES, pipelines: [1, 16] },
  results,
});
