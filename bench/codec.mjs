// Codec micro-benchmark (spec/conduit-v1.md §2): FrameDecoder and
// encodeResponse throughput for 16 B, 100 B, 1 KiB and 60 KiB bodies.
// Run with `npx just bench-codec` (builds first). Checks the output of every
// round, saves the per-round times as bench/results/codec-<date>.json and
// prints its section of bench/RESULTS.md (median of ROUNDS rounds, min–max).
// BENCH_ROUNDS or BENCH_BYTES set makes a partial run (CI's smoke run),
// saved under BENCH_OUT or a temp dir, never in bench/results/.
import { FrameDecoder, encodeResponse, ProtocolError, Status } from '../dist/index.js';
import { isQuick, saveRun } from './lib.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_ROUNDS', 'BENCH_BYTES']);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET_BYTES = Number(process.env.BENCH_BYTES ?? 64 * 1024 * 1024); // stream size per round
const CHUNK = 64 * 1024; // what a socket hands out at a time
const SIZES = [16, 100, 1024, 60 * 1024];

function encodeStream(size, count) {
  const body = Buffer.alloc(size, 0x61);
  const parts = [];
  for (let i = 0; i < count; i += 1) parts.push(...encodeResponse(BigInt(i), Status.OK, body));
  return Buffer.concat(parts);
}

function decodeRound(stream, size, count) {
  const decoder = new FrameDecoder({ direction: 'response' });
  let frames = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let at = 0; at < stream.length; at += CHUNK) {
    decoder.push(stream.subarray(at, at + CHUNK));
    for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
      if (item instanceof ProtocolError) throw item;
      frames += 1;
      bytes += item.body.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (frames !== count || bytes !== size * count) throw new Error(`decoded ${frames} frames / ${bytes} bytes, expected ${count}`);
  return seconds;
}

function encodeRound(size, count) {
  const body = Buffer.alloc(size, 0x62);
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    const parts = encodeResponse(BigInt(i), Status.OK, body);
    bytes += parts[0].length + (parts[1]?.length ?? 0);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (bytes !== (size + 12) * count) throw new Error(`encoded ${bytes} bytes, expected ${(size + 12) * count}`);
  return seconds;
}

const results = [];
for (const size of SIZES) {
  const count = Math.max(1000, Math.floor(TARGET_BYTES / (size + 12)));
  const stream = encodeStream(size, count);
  decodeRound(stream, size, count); // warm-up
  results.push({ op: 'decode', size, frames: count, rounds: Array.from({ length: ROUNDS }, () => ({ seconds: decodeRound(stream, size, count) })) });
  encodeRound(size, count);
  results.push({ op: 'encode', size, frames: count, rounds: Array.from({ length: ROUNDS }, () => ({ seconds: encodeRound(size, count) })) });
}
saveRun({
  benchmark: 'codec',
  command: 'npx just bench-codec',
  quick: QUICK,
  started,
  versions: {},
  parameters: { rounds: ROUNDS, streamBytes: TARGET_BYTES, chunkBytes: CHUNK, sizes: SIZES },
  results,
});
