// SCAN vs LIST over BENCH_SCAN_KEYS (default 1M) keys (issue 19 item 3, spec §3.10 and §3.5):
// the worst event-loop stall of the server and the time to walk every key. Part of the harness
// (`npx just bench`, its scan part, in bench/RESULTS.md); alone: `node bench/scan.mjs` after
// `npm run build` (prints the figures, saves nothing).
//
// The server runs in a child process of this script pinned to core 0 (as the harness's servers,
// with the bin's Node flags; filled through its store: 16-byte keys, 100-byte values, 64 MiB of
// budget per 100k keys); a ConduitClient here talks to it over 127.0.0.1, and IPC messages ask
// the server for its figures. Two measures, in this order, so the first one meets the server's code cold
// (and a control: GETs for as long as a SCAN iteration takes, the machine's own stalls):
// - wire: client.scan over the socket (every key once, checked), the total time, and the server
//   loop's worst delay while it ran (monitorEventLoopDelay in the server's process, 1 ms resolution:
//   a request's stall shows as that turn's delay); the same for BENCH_SCAN_LIST_CALLS LIST calls
//   (limit 65,535: LIST cannot walk 1M keys, it answers one bounded slice with `truncated`);
// - store: the synchronous time of each call on the server's path (Store.scan, Store.list):
//   what one request holds the loop for, median, p99 and worst over whole iterations, every
//   key counted once. LIST's calls alternate an empty prefix (stopped by the frame) and one
//   that matches nothing (stopped by its 8,192-entry bound).
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { conduitArgs, pinned } from './lib.mjs';

const COUNTS = [1_000, 65_535];
const FRAME_KEYS = 65_508 - 8; // a secure frame's body less the cursor (the tighter of the two)
const EMPTY = Buffer.alloc(0);
const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const at = (s, p) => s[Math.min(s.length - 1, Math.floor(s.length * p))];
const ms = (x) => Math.round(x * 1000) / 1000;
/** Median, p99 and worst of per-call times (ms), and of the process's CPU time in them (preemption shows as wall ≫ CPU). */
const calls = (times, cpu) => {
  const s = sorted(times);
  const c = sorted(cpu);
  return { calls: s.length, medianMs: ms(at(s, 0.5)), p99Ms: ms(at(s, 0.99)), worstMs: ms(s.at(-1)), cpuP99Ms: ms(at(c, 0.99)), cpuWorstMs: ms(c.at(-1)) };
};
/** The process's CPU milliseconds since `from` (process.cpuUsage: every thread, the client's idle one included). */
const cpuSince = (from) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};
/** Collections in the server's thread: count and the longest pause, per phase. */
const gcs = { count: 0, worstMs: 0 };
/** GC entries reach the observer a turn later: wait for them before reading. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const gcReset = () => Object.assign(gcs, { count: 0, worstMs: 0 });

/** The parameters of a run: BENCH_SCAN_KEYS, BENCH_SCAN_ROUNDS; `quick` for the harness's smoke run. */
export function scanParameters(quick = false) {
  return {
    keys: Number(process.env.BENCH_SCAN_KEYS ?? (quick ? 20_000 : 1_000_000)),
    rounds: Number(process.env.BENCH_SCAN_ROUNDS ?? (quick ? 1 : 3)),
    listCalls: Number(process.env.BENCH_SCAN_LIST_CALLS ?? (quick ? 20 : 200)),
    counts: COUNTS,
  };
}

/**
 * Runs the measurement (a child process holding the server, a client here) and returns its figures:
 * `{ parameters, wire: { '<row>': { totalMs, serverWorstStallMs, … } }, store: { '<row>': { medianMs, p99Ms, worstMs, … } } }`.
 */
export async function runScan(parameters = scanParameters()) {
  const { ConduitClient } = await import('../dist/index.js');
  // The server's process: pinned to core 0 as the harness's servers are, with the bin's Node flags.
  const [cmd, args] = pinned(0, process.execPath, [...conduitArgs(fileURLToPath(new URL('../dist/cli/server.js', import.meta.url))).slice(0, -1), fileURLToPath(import.meta.url)]);
  const server = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, CONDUIT_SCAN_SERVER: JSON.stringify(parameters) } });
  const replies = [];
  let waiting;
  server.on('message', (m) => (waiting ? (waiting(m), (waiting = undefined)) : replies.push(m)));
  const failed = new Promise((_, reject) => server.once('exit', (code) => reject(new Error(`the scan server exited (${code})`))));
  failed.catch(() => {});
  const ask = (message) => {
    if (message !== undefined) server.send(message);
    return Promise.race([failed, replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((r) => (waiting = r))]);
  };
  try {
    const { port } = await ask();
    const client = new ConduitClient({ port });
    await client.connect();
    const wire = {};
    for (const count of parameters.counts) {
      const totals = [];
      const stalls = [];
      const gc = [];
      for (let r = 0; r < parameters.rounds; r += 1) {
        await ask('watch');
        const started = performance.now();
        let seen = 0;
        for await (const _ of client.scan({ count })) seen += 1;
        totals.push(performance.now() - started);
        const stop = await ask('stop');
        stalls.push(stop.maxMs);
        gc.push(stop.gc.worstMs);
        if (seen < parameters.keys) throw new Error(`client.scan count ${count} yielded ${seen} keys, fewer than ${parameters.keys}`);
      }
      wire[`SCAN count ${count}: every key`] = { totalMs: ms(sorted(totals)[totals.length >> 1]), serverWorstStallMs: Math.max(...stalls), serverStallPerRoundMs: stalls, worstGcMs: Math.max(...gc) };
    }
    // The control: GETs pipelined 16 at a time for as long as one SCAN iteration took (the
    // median of the first row): the stalls any request meets on this machine over that time
    // (collections, other processes), to read the SCAN rows against.
    const controlFor = Object.values(wire)[0].totalMs;
    await ask('watch');
    const controlStarted = performance.now();
    let gets = 0;
    while (performance.now() - controlStarted < controlFor) {
      await Promise.all(Array.from({ length: 16 }, (_, j) => client.get(keyOf((gets + j) % parameters.keys))));
      gets += 16;
    }
    const control = await ask('stop');
    wire[`GET for ${Math.round(controlFor).toLocaleString('en-US')} ms (control)`] = { totalMs: ms(performance.now() - controlStarted), serverWorstStallMs: control.maxMs, worstGcMs: control.gc.worstMs, requests: gets };
    await ask('watch');
    const started = performance.now();
    let listed = 0;
    for (let i = 0; i < parameters.listCalls; i += 1) listed += (await client.list(i % 2 === 0 ? '' : 'nomatch:', 65_535)).keys.length;
    const listMs = performance.now() - started;
    const list = await ask('stop');
    wire[`LIST limit 65535 × ${parameters.listCalls}`] = { totalMs: ms(listMs), serverWorstStallMs: list.maxMs, worstGcMs: list.gc.worstMs, keysListed: listed };
    await client.close();
    const { store } = await ask('store');
    return { parameters, wire, store };
  } finally {
    server.kill();
  }
}

/** The server's process: fills a server, answers 'watch'/'stop' with the loop's worst delay, 'store' with per-call times. */
async function serve({ keys, rounds, listCalls, counts }) {
  const { ConduitServer } = await import('../dist/index.js');
  const server = new ConduitServer({ host: '127.0.0.1', port: 0, maxMemory: Math.max(64, Math.ceil(keys / 100_000) * 64) * 2 ** 20 });
  const { port } = await server.listen();
  const store = server.store;
  const value = Buffer.alloc(100, 7);
  const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };
  for (let i = 0; i < keys; i += 1) store.set(Buffer.from(keyOf(i)), value, options);
  if (store.stats().curr_items !== keys) throw new Error(`the store holds ${store.stats().curr_items} keys, not ${keys}: raise the budget`);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) Object.assign(gcs, { count: gcs.count + 1, worstMs: Math.max(gcs.worstMs, ms(e.duration)) });
  }).observe({ entryTypes: ['gc'] });
  let histogram;
  process.on('message', async (m) => {
    if (m === 'watch') {
      histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      gcReset();
      process.send({});
    } else if (m === 'stop') {
      histogram.disable();
      await settle();
      process.send({ maxMs: ms(histogram.max / 1e6), gc: { ...gcs } });
    } else if (m === 'store') {
      const result = {};
      for (const count of counts) {
        const times = [];
        const cpu = [];
        const totals = [];
        gcReset();
        for (let r = 0; r < rounds; r += 1) {
          let cursor = 0n;
          let seen = 0;
          const started = performance.now();
          do {
            const c = process.cpuUsage();
            const t = performance.now();
            const body = store.scan(cursor, count, EMPTY, FRAME_KEYS);
            times.push(performance.now() - t);
            cpu.push(cpuSince(c));
            cursor = body.readBigUInt64BE(0);
            for (let i = 8; i < body.length; i += 1 + body[i]) seen += 1;
          } while (cursor !== 0n);
          totals.push(performance.now() - started);
          if (seen !== keys) throw new Error(`SCAN count ${count} returned ${seen} keys, not ${keys}`);
        }
        await settle();
        result[`SCAN count ${count}`] = { ...calls(times, cpu), totalMs: ms(sorted(totals)[totals.length >> 1]), gc: { ...gcs } };
      }
      const times = [];
      const cpu = [];
      gcReset();
      for (let i = 0; i < listCalls; i += 1) {
        const c = process.cpuUsage();
        const t = performance.now();
        store.list(i % 2 === 0 ? EMPTY : Buffer.from('nomatch:'), 65_535, 65_508 - 1);
        times.push(performance.now() - t);
        cpu.push(cpuSince(c));
      }
      await settle();
      result['LIST limit 65535'] = { ...calls(times, cpu), gc: { ...gcs } };
      await server.close();
      process.send({ store: result }, () => process.disconnect());
    }
  });
  process.send({ port });
}

if (process.env.CONDUIT_SCAN_SERVER !== undefined) {
  await serve(JSON.parse(process.env.CONDUIT_SCAN_SERVER));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const parameters = scanParameters();
  const result = await runScan(parameters);
  console.log(JSON.stringify({ node: process.version, cpu: (await import('node:os')).cpus()[0]?.model, ...result }, null, 2));
}
