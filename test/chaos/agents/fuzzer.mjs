// A hostile load generator for the hostile-bytes scenario (issue 9, §1), run
// as its own process so the healthy client it is measured against does not
// share an event loop with it. It sends random and mutated request frames
// over many connections for a fixed time, at a fixed rate, and reconnects
// whenever the server closes one for a fatal error. It prints one JSON line
// of counts when done.
//
//   node fuzzer.mjs '{"port":7171,"seconds":30,"connections":32,"rate":40000,"seed":1}'
//
// Traffic goes only to 127.0.0.1; the run stops by itself after `seconds`.
import { connect } from 'node:net';
import { encodeRequest, FrameDecoder, ProtocolError } from '../../../dist/index.js';

const { port, seconds, connections, rate, seed } = JSON.parse(process.argv[2] ?? '{}');
if (![port, seconds, connections, rate, seed].every(Number.isInteger)) {
  console.error('usage: fuzzer.mjs \'{"port":N,"seconds":N,"connections":N,"rate":N,"seed":N}\'');
  process.exit(2);
}

// mulberry32: a small seeded generator, so a run can be repeated from its seed.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const bytes = (n) => Buffer.from(Array.from({ length: n }, () => int(256)));
const FLUSH = 0x0a;

/** A well-formed request of a random kind on a small keyspace (so LIST stays cheap). */
function request() {
  const key = Buffer.from(`f${int(1_000)}`);
  switch (int(9)) {
    case 0:
    case 1:
      return { op: 'GET', key };
    case 2:
    case 3:
      return { op: 'SET', key, value: bytes(int(512)), ttlMs: int(3) === 0 ? int(5_000) : 0, nx: int(8) === 0, xx: false, keepTtl: false };
    case 4:
      return { op: 'DELETE', key };
    case 5:
      return { op: 'INCR', key: Buffer.from(`n${int(10)}`), delta: BigInt(int(100) - 50), ttlMs: 0 };
    case 6:
      return { op: 'TTL', key };
    case 7:
      return { op: 'RENEW', key, ttlMs: int(10_000) };
    default:
      return int(4) === 0 ? { op: 'LIST', prefix: Buffer.from('f1'), limit: 1 + int(20) } : { op: 'HEALTH' };
  }
}

/**
 * The next frame for a connection and whether it is meant to be fatal. Most
 * frames are well formed or have a mutated body (answered with an error
 * status, connection kept); about 2 % break the framing or the rules (bad
 * version, unknown opcode, rewritten LENGTH, garbage, a truncated header, a
 * replayed identifier) and end the connection, as the spec says they must.
 */
function nextFrame(id) {
  const bytesOut = Buffer.concat(encodeRequest(id, request()));
  const roll = random();
  if (roll < 0.5 || bytesOut.length === 12) return bytesOut;
  if (roll < 0.9) {
    for (let flips = 1 + int(3); flips > 0; flips -= 1) bytesOut[12 + int(bytesOut.length - 12)] = int(256); // body bytes
    return bytesOut;
  }
  if (roll < 0.98) {
    bytesOut[4] |= 0x80; // an identifier in the server's half: BAD_REQUEST, connection kept (spec §2.2)
    return bytesOut;
  }
  switch (int(6)) {
    case 0:
      bytesOut[0] = int(256);
      break;
    case 1: {
      let opcode = int(256);
      if (opcode === FLUSH) opcode = 0xff; // a FLUSH would wipe the healthy client's key
      bytesOut[1] = opcode;
      break;
    }
    case 2:
      bytesOut.writeUInt16BE(int(65_536), 2);
      break;
    case 3:
      return Buffer.concat([bytes(1 + int(64)), bytesOut]);
    case 4:
      if (id > 0n) bytesOut.writeBigUInt64BE(id - 1n, 4); // the previous identifier, still in flight: REPLAY
      break;
    default:
      return bytesOut.subarray(0, 1 + int(11));
  }
  return bytesOut;
}

const totals = { sent: 0, answered: 0, opened: 0, closedByServer: 0, abandoned: 0, badResponses: 0, statuses: {} };
const deadline = performance.now() + seconds * 1_000;
const perConnection = rate / connections; // frames per second

async function run() {
  const started = performance.now();
  let sentHere = 0;
  let id = 0n;
  while (performance.now() < deadline) {
    const socket = connect({ host: '127.0.0.1', port });
    totals.opened += 1;
    const decoder = new FrameDecoder({ direction: 'response' });
    let answered = 0;
    let lastProgress = performance.now();
    let closed = false;
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let f = decoder.read(); f !== undefined; f = decoder.read()) {
        if (f instanceof ProtocolError) {
          totals.badResponses += 1;
          continue;
        }
        answered += 1;
        totals.answered += 1;
        totals.statuses[f.opcode] = (totals.statuses[f.opcode] ?? 0) + 1;
        if (f.id === 1n << 63n) totals.closedByServer += 1;
      }
      lastProgress = performance.now();
    });
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve));
    while (!closed && performance.now() < deadline) {
      const batch = [];
      for (let i = 0; i < 32; i += 1) batch.push(nextFrame(id++));
      const target = answered + batch.length;
      socket.write(Buffer.concat(batch));
      totals.sent += batch.length;
      sentHere += batch.length;
      lastProgress = performance.now();
      while (!closed && answered < target && performance.now() - lastProgress < 250) await new Promise((r) => setTimeout(r, 1));
      if (!closed && answered < target) {
        totals.abandoned += 1; // a rewritten LENGTH left the server waiting for body bytes
        socket.destroy();
        break;
      }
      const ahead = (sentHere / perConnection) * 1_000 - (performance.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    socket.destroy();
  }
}

await Promise.all(Array.from({ length: connections }, run));
console.log(JSON.stringify(totals));
