// A pipelining load generator for the renew-storm scenario (issue 15 item 6),
// run as its own process so the healthy client it is measured against does
// not share an event loop with it. One connection sends `op` (GET or RENEW)
// on the keys `<prefix><i × stride>` for i < count, round-robin, keeping
// `window` requests in flight, for `seconds`. It prints one JSON line of
// counts when done.
//
//   node storm.mjs '{"port":7171,"op":"RENEW","prefix":"k","count":5000,"stride":200,"ttlMs":2000,"seconds":10,"window":512}'
//
// Traffic goes only to 127.0.0.1; the run stops by itself after `seconds`.
import { connect } from 'node:net';
import { encodeRequest, FrameDecoder, ProtocolError, Status } from '../../../dist/index.js';

const { port, op, prefix, count, stride, ttlMs = 0, seconds, window = 512 } = JSON.parse(process.argv[2] ?? '{}');
if (![port, count, stride, seconds, window].every(Number.isInteger) || (op !== 'GET' && op !== 'RENEW') || typeof prefix !== 'string') {
  console.error('usage: storm.mjs \'{"port":N,"op":"GET|RENEW","prefix":"k","count":N,"stride":N,"ttlMs":N,"seconds":N,"window":N}\'');
  process.exit(2);
}

const keys = Array.from({ length: count }, (_, i) => Buffer.from(`${prefix}${i * stride}`));
const frames = keys.map((key, i) => {
  const request = op === 'GET' ? { op, key } : { op, key, ttlMs };
  return Buffer.concat(encodeRequest(BigInt(i), request));
});
const batch = Math.max(1, window >> 1);
let sent = 0;
let answered = 0;
let ok = 0;
let notFound = 0;
let other = 0;
let next = 0;
let stopping = false;
const started = performance.now();
const decoder = new FrameDecoder({ direction: 'response' });
const socket = connect({ host: '127.0.0.1', port }, () => {
  socket.setNoDelay(true);
  fill();
});

/** Tops the pipeline up to `window` requests in flight, one write per batch. */
function fill() {
  if (stopping) return;
  while (sent - answered <= window - batch) {
    const out = [];
    for (let i = 0; i < batch; i += 1, next = (next + 1) % frames.length) out.push(frames[next]);
    const bytes = Buffer.concat(out);
    // Every request in flight needs its own identifier (spec §2): bytes 4–11 of each header.
    for (let at = 0, id = sent; at < bytes.length; at += 12 + bytes.readUInt16BE(at + 2), id += 1) bytes.writeBigUInt64BE(BigInt(id), at + 4);
    socket.write(bytes);
    sent += batch;
  }
}

function finish() {
  const elapsed = (performance.now() - started) / 1_000;
  socket.destroy();
  // stdout is a pipe: exit only once the line has been written out.
  process.stdout.write(`${JSON.stringify({ op, sent, answered, ok, notFound, other, seconds: elapsed })}\n`, () => process.exit(0));
}

socket.on('data', (chunk) => {
  decoder.push(chunk);
  for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
    if (item instanceof ProtocolError) {
      console.error(`storm: ${item.message}`);
      process.exit(1);
    }
    answered += 1;
    if (item.opcode === Status.OK) ok += 1;
    else if (item.opcode === Status.NOT_FOUND) notFound += 1;
    else other += 1;
  }
  if (stopping) {
    if (answered === sent) finish();
  } else fill();
});
socket.on('close', () => {
  if (!stopping || answered !== sent) {
    console.error(`storm: the server closed the connection after ${answered} of ${sent} answers`);
    process.exit(1);
  }
});
socket.on('error', (err) => {
  console.error(`storm: ${err.message}`);
  process.exit(1);
});
setTimeout(() => {
  stopping = true; // no more requests; exit once every answer is in
  if (answered === sent) finish();
}, seconds * 1_000);
setTimeout(() => {
  console.error('storm: answers missing 30 s after the end');
  process.exit(1);
}, seconds * 1_000 + 30_000).unref();
