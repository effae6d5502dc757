// Codec micro-benchmark (spec/conduit-v1.md §2): FrameDecoder and
// encodeResponse throughput for 16 B, 100 B, 1 KiB and 60 KiB bodies; and
// the frame AEAD (§6.4): seal + open of one frame, in place, for each
// implementation in src/crypto (libsodium, the default; node:crypto's
// per-frame createCipheriv, the fallback; @noble/ciphers, the oracle), at
// 100 B, 4 KiB and 60 KiB.
// And the handshake (§6.2–6.3): the server's acceptHello (key pair, X25519,
// HKDF, key-confirmation tag) and the client's side (key pair, HELLO body,
// finishHello), µs per handshake, X25519 in libsodium and in node:crypto.
// Run with `npx just bench-codec` (builds first). Checks the output of every
// round, saves the per-round times as bench/results/codec-<date>.json and
// prints its section of bench/RESULTS.md (median of ROUNDS rounds, min–max).
// BENCH_ROUNDS or BENCH_BYTES set makes a partial run (CI's smoke run),
// saved under BENCH_OUT or a temp dir, never in bench/results/.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { acceptHello, encodeHello, FrameCipher, FrameDecoder, encodeResponse, finishHello, generateEphemeral, ProtocolError, Status, TAG_SIZE } from '../dist/index.js';
import { isQuick, saveRun } from './lib.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_ROUNDS', 'BENCH_BYTES', 'BENCH_HANDSHAKES']);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET_BYTES = Number(process.env.BENCH_BYTES ?? 64 * 1024 * 1024); // stream size per round
const CHUNK = 64 * 1024; // what a socket hands out at a time
const SIZES = [16, 100, 1024, 60 * 1024];
const AEAD_SIZES = [100, 4 * 1024, 60 * 1024];
const AEAD_BYTES = TARGET_BYTES / 8; // plaintext sealed and opened per implementation per round
/** Handshakes per round per implementation and side. */
const HANDSHAKES = Number(process.env.BENCH_HANDSHAKES ?? 2000);
/** Row label → the X25519 implementation's name (src/crypto/x25519.ts). */
const X25519S = { libsodium: 'libsodium', 'node:crypto': 'node' };
/** Row label → the implementation's name (CONDUIT_AEAD, STATS `aead`). */
const AEADS = { libsodium: 'libsodium', 'node:crypto': 'node', noble: 'noble' };

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

/** One frame of `size` plaintext bytes laid out for sealing in place: header, body, room for the tag. */
function aeadFrame(size) {
  const frame = Buffer.alloc(12 + size + TAG_SIZE);
  frame[0] = 0x81;
  frame.writeUInt16BE(size + TAG_SIZE, 2);
  randomBytes(size).copy(frame, 12);
  return frame;
}

/** Seals and opens `count` frames in place (identifier = the frame's number); checks the bytes; seconds. */
function aeadRound(cipher, frame, count) {
  const size = frame.length - 12 - TAG_SIZE;
  const plaintext = Buffer.from(frame.subarray(12, 12 + size));
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    frame.writeUInt32BE(i, 8);
    cipher.sealInPlace(frame, 0, size);
    if (!cipher.openInPlace(frame, 0)) throw new Error('a sealed frame did not open');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!frame.subarray(12, 12 + size).equals(plaintext)) throw new Error('seal + open did not give the plaintext back');
  return seconds;
}

/** Seal + open per frame, every implementation alternating within each round. */
function aeadResults() {
  const key = randomBytes(32);
  const prefix = randomBytes(16);
  const names = Object.keys(AEADS);
  const ciphers = Object.fromEntries(names.map((name) => [name, new FrameCipher(key, prefix, AEADS[name])]));
  // The three must agree byte for byte before any is timed.
  const probe = aeadFrame(1000);
  const sealed = names.map((name) => {
    const frame = Buffer.from(probe);
    ciphers[name].sealInPlace(frame, 0, 1000);
    return frame;
  });
  if (!sealed.every((frame) => frame.equals(sealed[0]))) throw new Error('libsodium, noble and node:crypto disagree');
  const out = [];
  for (const size of AEAD_SIZES) {
    const count = Math.max(1000, Math.floor(AEAD_BYTES / size));
    const frame = aeadFrame(size);
    const rows = Object.fromEntries(names.map((name) => [name, { implementation: name, size, frames: count, rounds: [] }]));
    for (const name of names) aeadRound(ciphers[name], frame, Math.ceil(count / 10)); // warm-up
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const name of names) rows[name].rounds.push({ seconds: aeadRound(ciphers[name], frame, count) });
    }
    out.push(...Object.values(rows));
  }
  return out;
}

/**
 * One round of `count` handshakes with X25519 from `implementation`: seconds spent in the
 * server's acceptHello and in the client's side (key pair, HELLO body, finishHello), each
 * timed apart; every handshake must complete (key confirmation included).
 */
function handshakeRound(implementation, keys, key, count) {
  let server = 0n;
  let client = 0n;
  const generate = () => generateEphemeral(implementation);
  for (let i = 0; i < count; i += 1) {
    const t0 = process.hrtime.bigint();
    const ephemeral = generateEphemeral(implementation);
    const body = encodeHello(key.id, ephemeral.publicKey);
    const t1 = process.hrtime.bigint();
    const accepted = acceptHello(body, 0n, keys, generate);
    const t2 = process.hrtime.bigint();
    if (accepted instanceof ProtocolError) throw accepted;
    const session = finishHello(accepted.reply, 0n, ephemeral, key);
    const t3 = process.hrtime.bigint();
    if (session instanceof Error) throw session;
    client += t1 - t0 + (t3 - t2);
    server += t2 - t1;
  }
  return { server: Number(server) / 1e9, client: Number(client) / 1e9 };
}

/** Server and client side of the handshake per X25519 implementation, alternating within each round. */
function handshakeResults() {
  const secret = randomBytes(32);
  const keys = new Map([['app', secret]]);
  const key = { id: 'app', secret };
  const names = Object.keys(X25519S);
  // Each implementation's client completes a handshake with the other's server before any is timed.
  for (const [c, s] of [[names[0], names[1]], [names[1], names[0]]]) {
    const ephemeral = generateEphemeral(X25519S[c]);
    const accepted = acceptHello(encodeHello('app', ephemeral.publicKey), 0n, keys, () => generateEphemeral(X25519S[s]));
    if (accepted instanceof ProtocolError || finishHello(accepted.reply, 0n, ephemeral, key) instanceof Error) throw new Error(`${c} and ${s} disagree`);
  }
  const rows = names.flatMap((name) => ['server', 'client'].map((side) => ({ implementation: name, side, handshakes: HANDSHAKES, rounds: [] })));
  for (const name of names) handshakeRound(X25519S[name], keys, key, Math.ceil(HANDSHAKES / 10)); // warm-up
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const name of names) {
      const { server, client } = handshakeRound(X25519S[name], keys, key, HANDSHAKES);
      rows.find((r) => r.implementation === name && r.side === 'server').rounds.push({ seconds: server });
      rows.find((r) => r.implementation === name && r.side === 'client').rounds.push({ seconds: client });
    }
  }
  return rows;
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
const aead = aeadResults();
const handshake = handshakeResults();
const versionOf = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
saveRun({
  benchmark: 'codec',
  command: 'npx just bench-codec',
  quick: QUICK,
  started,
  versions: {
    'sodium-native': versionOf('sodium-native'),
    '@noble/ciphers': versionOf('@noble/ciphers'),
    openssl: process.versions.openssl,
  },
  parameters: { rounds: ROUNDS, streamBytes: TARGET_BYTES, chunkBytes: CHUNK, sizes: SIZES, aeadBytes: AEAD_BYTES, aeadSizes: AEAD_SIZES, handshakes: HANDSHAKES },
  results,
  aead,
  handshake,
});
