// Items kept under --max-memory through the protocol (issue 17's method): starts
// `node [the bin's flags] dist/cli/server.js --port 0 --max-memory <BENCH_FILL_MEMORY, default 64mb>` on
// 127.0.0.1, writes BENCH_FILL_KEYS (default 1.5M) distinct 16-byte keys with 100-byte values
// (BENCH_FILL_VALUE) pipelined on one connection (a window of 1,000 requests in flight), then reads
// STATS (curr_items, bytes, limit_maxbytes) and the server's VmRSS / VmHWM from /proc/<pid>/status.
// BENCH_FILL_CHURN=1 instead writes random sizes of 16 B – 4 KiB over a space of 4M keys until
// 10× the budget is written (the churn scenario) and samples the server's RSS every
// 20,000 writes (peakRssMiB is VmHWM, the kernel's own maximum).
// Run after `npm run build`: node bench/store-fill.mjs
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { FrameDecoder, encodeRequest } from '../dist/index.js';
import { conduitArgs } from './lib.mjs';

const memory = process.env.BENCH_FILL_MEMORY ?? '64mb';
const total = Number(process.env.BENCH_FILL_KEYS ?? 1_500_000);
const valueBytes = Number(process.env.BENCH_FILL_VALUE ?? 100);
const WINDOW = 1_000; // under the server's --max-inflight (1,024)

const server = spawn(process.execPath, [...conduitArgs(), '--host', '127.0.0.1', '--port', '0', '--max-memory', memory], { stdio: ['ignore', 'pipe', 'pipe'] });
const port = await new Promise((resolve, reject) => {
  let text = '';
  const onLog = (chunk) => {
    text += chunk;
    const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(text);
    if (m) resolve(Number(m[1]));
  };
  server.stdout.on('data', onLog); // the log goes to one of the two
  server.stderr.on('data', onLog);
  server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
});
const status = () => {
  const s = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(s)[1]) / 1024;
  return { rssMiB: kb('VmRSS'), hwmMiB: kb('VmHWM') };
};
const idle = status();

const socket = connect(port, '127.0.0.1');
await new Promise((r) => socket.once('connect', r));
const decoder = new FrameDecoder({ direction: 'response' });
let answered = 0;
let failed = 0;
let waiting;
let statsBody;
socket.on('data', (chunk) => {
  decoder.push(chunk);
  for (let frame = decoder.read(); frame !== undefined; frame = decoder.read()) {
    if (!('opcode' in frame)) throw new Error(`bad answer: ${frame.message}`);
    if (frame.id === 0xffffffffn) statsBody = frame.body;
    else if (frame.opcode !== 0) failed += 1;
    answered += 1;
  }
  waiting?.();
});
/** Resolves once `done()` holds, checked now and after every chunk of answers. */
function until(done) {
  return new Promise((resolve) => {
    const check = () => {
      if (done()) {
        waiting = undefined;
        resolve();
      } else {
        waiting = check;
      }
    };
    check();
  });
}
const churn = process.env.BENCH_FILL_CHURN === '1';
const budgetBytes = Number(/^(\d+)mb$/.exec(memory)?.[1] ?? 0) * 2 ** 20 || Number(/^(\d+)gb$/.exec(memory)?.[1] ?? 0) * 2 ** 30;
let written = 0;
let sampledMaxRss = 0;
let seed = 17;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const big = Buffer.alloc(4096, 0x61);
const value = Buffer.alloc(valueBytes, 0x61);
const started = performance.now();
let sent = 0;
const goal = churn ? Number.MAX_SAFE_INTEGER : total;
while (sent < goal && (!churn || written < 10 * budgetBytes)) {
  const parts = [];
  const end = Math.min(goal, answered + WINDOW);
  for (; sent < end; sent += 1) {
    const n = churn ? Math.floor(random() * 4_000_000) : sent;
    const key = Buffer.from(`k:${String(n).padStart(14, '0')}`, 'latin1');
    const v = churn ? big.subarray(0, 16 + Math.floor(random() * (4096 - 16))) : value;
    written += v.length;
    parts.push(...encodeRequest(BigInt(sent + 1), { op: 'SET', key, value: v, ttlMs: 0, nx: false, xx: false, keepTtl: false }));
    if (sent % 20_000 === 0) sampledMaxRss = Math.max(sampledMaxRss, status().rssMiB);
  }
  socket.write(Buffer.concat(parts));
  await until(() => answered >= sent - WINDOW / 2);
}
await until(() => answered >= sent);
const seconds = (performance.now() - started) / 1000;
socket.write(Buffer.concat(encodeRequest(0xffffffffn, { op: 'STATS' })));
await until(() => statsBody !== undefined);
const stats = JSON.parse(statsBody.toString());
const after = status();
console.log(
  JSON.stringify(
    {
      maxMemory: memory,
      written: sent,
      writtenBytes: churn ? written : sent * valueBytes,
      valueBytes: churn ? '16-4096 random' : valueBytes,
      failed,
      seconds: Number(seconds.toFixed(1)),
      curr_items: stats.curr_items,
      bytes: stats.bytes,
      item_bytes: stats.item_bytes,
      limit_maxbytes: stats.limit_maxbytes,
      evictions: stats.evictions,
      idleRssMiB: Number(idle.rssMiB.toFixed(1)),
      rssMiB: Number(after.rssMiB.toFixed(1)),
      peakRssMiB: Number(after.hwmMiB.toFixed(1)),
      sampledMaxRssMiB: Number(Math.max(sampledMaxRss, after.rssMiB).toFixed(1)),
    },
    null,
    2,
  ),
);
socket.destroy();
server.kill('SIGTERM');
