// Client benchmark: ConduitClient against conduit-server vs ioredis against
// redis-server, from the same Node load generator in the same run: C client
// connections, each with P requests in flight (P awaiting loops), GET and
// SET of 100-byte values over 100,000 pre-filled keys. Systems alternate
// inside every round. Run `npx just bench-clients` (servers on core 0, this
// process on core 1). Env: BENCH_SECONDS (3), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS (50), BENCH_KEYS (100000).
import Redis from 'ioredis';
import { ConduitClient } from '../dist/index.js';
import { ensureRedis, freePort, median, percentile, progress, spread, startConduit, startRedis, waitForPort } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const VALUE = Buffer.alloc(100, 0x76);
const keys = Array.from({ length: KEYS }, (_, i) => `key:${String(i).padStart(8, '0')}`);

const redisVersion = ensureRedis();
const conduitPort = await freePort();
const redisPort = await freePort();
const conduitServer = startConduit(conduitPort);
const redisServer = startRedis(redisPort);
await Promise.all([waitForPort(conduitPort), waitForPort(redisPort)]);

const systems = {
  'ConduitClient → conduit-server': {
    make: async () => {
      const c = new ConduitClient({ port: conduitPort, maxQueued: 1_000_000 });
      await c.connect();
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
    },
  },
  'ioredis → redis-server': {
    make: async () => {
      const r = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, enableAutoPipelining: false });
      await r.connect();
      return { get: (k) => r.getBuffer(k), set: (k, v) => r.set(k, v), close: () => r.quit() };
    },
  },
};

// Pre-fill both, and check every value reads back before timing anything.
for (const system of Object.values(systems)) {
  const c = await system.make();
  for (let i = 0; i < KEYS; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => c.set(k, VALUE)));
  const sample = await c.get(keys[KEYS - 1]);
  if (!Buffer.isBuffer(sample) || !sample.equals(VALUE)) throw new Error('pre-fill did not store the value');
  await c.close();
}

async function run(system, op, inflight) {
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => system.make()));
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
          const result = op === 'GET' ? await c.get(k) : await c.set(k, VALUE);
          latencies.push(performance.now() - t);
          if (op === 'GET' && (result === undefined || result === null || result.length !== VALUE.length)) throw new Error('GET missed');
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
for (const op of ['GET', 'SET']) for (const inflight of [1, 16]) workloads.push({ op, inflight });
const results = {};
const step = progress(ROUNDS * workloads.length * Object.keys(systems).length);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const w of workloads) {
    for (const [name, system] of Object.entries(systems)) {
      step(`${name.split(' ')[0]} ${w.op} P=${w.inflight}`);
      (results[`${name}|${w.op}|${w.inflight}`] ??= []).push(await run(system, w.op, w.inflight));
    }
  }
}
conduitServer.kill('SIGTERM');
redisServer.kill('SIGTERM');

console.log(
  `Clients, ${CONNECTIONS} connections × P requests in flight, 100-byte values, ${KEYS.toLocaleString('en-US')} keys, ` +
    `${SECONDS} s per measurement, median of ${ROUNDS} rounds (min–max); Node ${process.version}, Redis ${redisVersion}, ` +
    `ioredis ${(await import('ioredis/package.json', { with: { type: 'json' } })).default.version}; servers on core 0, clients on core 1\n`,
);
console.log('| client → server | op | P | ops/s | p50 ms | p99 ms | vs ioredis |');
console.log('|---|---|---|---|---|---|---|');
for (const w of workloads) {
  const base = median(results[`ioredis → redis-server|${w.op}|${w.inflight}`].map((r) => r.ops));
  for (const name of Object.keys(systems)) {
    const rs = results[`${name}|${w.op}|${w.inflight}`];
    const ops = rs.map((r) => r.ops);
    console.log(
      `| ${name} | ${w.op} | ${w.inflight} | ${spread(ops)} | ${median(rs.map((r) => r.p50)).toFixed(2)} | ` +
        `${median(rs.map((r) => r.p99)).toFixed(2)} | ${(median(ops) / base).toFixed(2)}× |`,
    );
  }
}
