// SCAN vs LIST over BENCH_SCAN_KEYS (default 1M) keys (issue 19 item 3, spec §3.10): the worst
// event-loop stall per call and the time to walk every key. One process: a ConduitServer on
// 127.0.0.1 (64 MiB per 100k keys of budget, filled through its store, 16-byte keys with
// 100-byte values) and a ConduitClient on one connection. Two figures per operation:
// - store: the synchronous time of each Store.scan / Store.list call (what one request holds
//   the server's event loop for, before framing), worst and median, over a whole iteration;
// - wire: client.scan over the socket, the total time, and the event loop's worst delay
//   (monitorEventLoopDelay at 1 ms resolution; client and server share the loop, so it bounds
//   the server's stall from above).
// LIST cannot walk every key (it answers one bounded slice with `truncated`), so its row is
// one call with limit 65,535, worst of BENCH_SCAN_ROUNDS. Checks before timing: the store
// holds every key, and one SCAN iteration returns each exactly once.
// Run after `npm run build`: node bench/scan.mjs
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ConduitClient, ConduitServer } from '../dist/index.js';

const keys = Number(process.env.BENCH_SCAN_KEYS ?? 1_000_000);
const rounds = Number(process.env.BENCH_SCAN_ROUNDS ?? 3);
const counts = [1_000, 4_096];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const keyOf = (i) => `key:${String(i).padStart(12, '0')}`;

const server = new ConduitServer({ host: '127.0.0.1', port: 0, maxMemory: Math.max(64, Math.ceil(keys / 100_000) * 64) * 2 ** 20 });
const { port } = await server.listen();
const store = server.store;
const value = Buffer.alloc(100, 7);
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };
for (let i = 0; i < keys; i += 1) store.set(Buffer.from(keyOf(i)), value, options);
if (store.stats().curr_items !== keys) throw new Error(`store holds ${store.stats().curr_items} keys, not ${keys}: raise the budget`);

const EMPTY = Buffer.alloc(0);
/** One whole iteration through the store: per-call times, and every key seen once. */
function storeScan(count) {
  const times = [];
  let cursor = 0n;
  let seen = 0;
  const started = performance.now();
  do {
    const t = performance.now();
    const page = store.scan(cursor, count, EMPTY, 65_508 - 8);
    times.push(performance.now() - t);
    cursor = page.cursor;
    seen += page.keys.length;
  } while (cursor !== 0n);
  return { totalMs: performance.now() - started, calls: times.length, worstMs: Math.max(...times), medianMs: median(times), seen };
}

const result = { keys, node: process.version, cpus: (await import('node:os')).cpus()[0]?.model, store: {}, wire: {} };
for (const count of counts) {
  const runs = [];
  for (let r = 0; r < rounds; r += 1) runs.push(storeScan(count));
  if (runs.some((run) => run.seen !== keys)) throw new Error(`SCAN count ${count} returned ${runs.map((r) => r.seen)} keys, not ${keys}`);
  result.store[`scan count ${count}`] = {
    totalMs: median(runs.map((r) => r.totalMs)),
    calls: runs[0].calls,
    worstCallMs: Math.max(...runs.map((r) => r.worstMs)),
    medianCallMs: median(runs.map((r) => r.medianMs)),
  };
}
const listTimes = [];
let listKeys = 0;
for (let r = 0; r < rounds; r += 1) {
  const t = performance.now();
  const { keys: got } = store.list(EMPTY, 65_535, 65_508 - 1);
  listTimes.push(performance.now() - t);
  listKeys = got.length;
}
result.store['list limit 65535 (one call)'] = { worstCallMs: Math.max(...listTimes), medianCallMs: median(listTimes), keysReturned: listKeys };

const client = new ConduitClient({ port });
await client.connect();
for (const count of counts) {
  const totals = [];
  const stalls = [];
  for (let r = 0; r < rounds; r += 1) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const started = performance.now();
    let seen = 0;
    for await (const _ of client.scan({ count })) seen += 1;
    totals.push(performance.now() - started);
    h.disable();
    stalls.push(h.max / 1e6);
    if (seen !== keys) throw new Error(`client.scan count ${count} yielded ${seen} keys, not ${keys}`);
  }
  result.wire[`client.scan count ${count}`] = { totalMs: median(totals), worstLoopDelayMs: Math.max(...stalls) };
}
await client.close();
await server.close();
console.log(JSON.stringify(result, null, 2));
