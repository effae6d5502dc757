// Server CPU per request (issue 17, "About GET"): one pre-encoded, pipelined GET or SET
// load from this process against `node <server.js>` on 127.0.0.1, reported as µs of
// server CPU per request, read from /proc/<pid>/stat (utime + stime), not as wall-clock
// throughput, so a busy machine distorts it less. Every answer's identifier and status
// are checked (and a GET's length) before a round counts.
//
//   node bench/server-cpu.mjs [--server dist/cli/server.js[,other/cli/server.js]] [--rounds 3]
//                             [--seconds 3] [--value 100] [--ops get,set]
//
// Compare two builds in one run with --server a,b (e.g. a copy of main's dist/ first): their
// rounds alternate, so both see the same load from whatever else runs on the machine.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { conduitArgs, cpuSeconds, freePort, has, median, waitForPort } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    server: { type: 'string', default: 'dist/cli/server.js' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    value: { type: 'string', default: '100' },
    ops: { type: 'string', default: 'get,set' },
    connections: { type: 'string', default: '2' },
    batch: { type: 'string', default: '64' },
  },
});
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const VALUE = Number(args.value);
const CONNECTIONS = Number(args.connections);
const BATCH = Number(args.batch);
const WINDOW = 2; // batches in flight per connection
const KEYS = 1000;
const hasTaskset = has('taskset');

const GET = 0x00;
const SET = 0x01;
const key = (i) => Buffer.from(`key:${String(i).padStart(12, '0')}`); // 16 bytes

function frame(opcode, id, body) {
  const out = Buffer.alloc(12 + body.length);
  out[0] = 0x01;
  out[1] = opcode;
  out.writeUInt16BE(body.length, 2);
  out.writeBigUInt64BE(BigInt(id), 4);
  body.copy(out, 12);
  return out;
}

function setBody(k, value) {
  const b = Buffer.alloc(6 + k.length + value.length);
  b[0] = 0; // flags
  b.writeUInt32BE(0, 1); // ttl
  b[5] = k.length;
  k.copy(b, 6);
  value.copy(b, 6 + k.length);
  return b;
}

/** Pre-encoded batches: batch j carries ids j*BATCH+1 … (j+1)*BATCH, distinct in flight (spec §2.2). */
function batches(op) {
  const value = Buffer.alloc(VALUE, 0x61);
  const out = [];
  for (let j = 0; j < WINDOW; j += 1) {
    const frames = [];
    for (let i = 0; i < BATCH; i += 1) {
      const id = j * BATCH + i + 1;
      const k = key((j * BATCH + i) % KEYS);
      frames.push(op === 'get' ? frame(GET, id, k) : frame(SET, id, setBody(k, value)));
    }
    out.push(Buffer.concat(frames));
  }
  return out;
}

/** One connection's closed loop: WINDOW batches in flight, each resent once wholly answered. */
function load(port, op, counter) {
  const frames = batches(op);
  const expectBody = op === 'get' ? VALUE : 0;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.setNoDelay(true);
      for (const b of frames) socket.write(b);
    });
    let pending = Buffer.alloc(0);
    let next = 1; // the identifier expected next
    const total = WINDOW * BATCH;
    socket.on('data', (chunk) => {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      while (buf.length - at >= 12) {
        const length = buf.readUInt16BE(at + 2);
        if (buf.length - at < 12 + length) break;
        const id = buf.readUInt32BE(at + 8); // the high half is 0 here
        const status = buf[at + 1];
        if (buf[at] !== 0x81 || id !== next || status !== 0 || length !== expectBody) {
          socket.destroy();
          return reject(new Error(`bad answer: id ${id} (expected ${next}) status ${status} length ${length}`));
        }
        at += 12 + length;
        counter.answers += 1;
        if (next % BATCH === 0) {
          const j = next / BATCH - 1;
          if (!counter.stop) socket.write(frames[j]);
        }
        next = next === total ? 1 : next + 1;
      }
      pending = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
    });
    socket.on('error', reject);
    counter.sockets.push(socket);
    counter.done.push(() => resolve());
  });
}

async function round(op, serverJs) {
  const port = await freePort();
  const serverArgs = [...conduitArgs(serverJs), '--port', String(port), '--max-memory', '256mb'];
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const server = spawn(cmd, hasTaskset ? ['-c', '0', process.execPath, ...serverArgs] : serverArgs, { stdio: 'ignore' });
  try {
    await waitForPort(port);
    if (op === 'get') await run(port, 'set', 0.3); // fill the keys first
    await run(port, op, 0.7); // warm-up
    const before = cpuSeconds(server.pid);
    const answers = await run(port, op, SECONDS);
    const cpu = cpuSeconds(server.pid) - before;
    return { op, answers, cpu, usPer: (cpu * 1e6) / answers };
  } finally {
    server.kill('SIGKILL');
  }
}

async function run(port, op, seconds) {
  const counter = { answers: 0, stop: false, sockets: [], done: [] };
  const loads = Array.from({ length: CONNECTIONS }, () => load(port, op, counter));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counter.stop = true;
  const answers = counter.answers;
  for (const s of counter.sockets) s.destroy();
  for (const d of counter.done) d();
  await Promise.all(loads);
  return answers;
}


const servers = args.server.split(',');
console.log(`${VALUE} B values, ${CONNECTIONS} connections × ${WINDOW} × ${BATCH} in flight; ${ROUNDS} rounds of ${SECONDS} s, servers alternating; node ${process.version}`);
for (const op of args.ops.split(',')) {
  const rounds = servers.map(() => []);
  for (let r = 0; r < ROUNDS; r += 1) for (const [i, s] of servers.entries()) rounds[i].push(await round(op, s));
  for (const [i, s] of servers.entries()) {
    const us = rounds[i].map((x) => x.usPer);
    console.log(
      `${op.toUpperCase()} ${VALUE} B, ${s}: median ${median(us).toFixed(2)} µs server CPU per request ` +
        `(rounds ${us.map((u) => u.toFixed(2)).join(', ')}; ${rounds[i].map((x) => Math.round(x.answers / SECONDS / 1000)).join(', ')} k answers/s)`,
    );
  }
}
