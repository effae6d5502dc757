// Fragments on a real server (spec §2.4, §3.13 CAPS): raw sockets and the protocol layer's own
// encoder and assembler, not ConduitClient (its fragment support is built on another branch).
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  decodeCapsBody,
  encodeRequest,
  Feature,
  generateKey,
  MORE,
  Opcode,
  Status,
  type FrameCipher,
  type PreSharedKey,
  type Request,
} from '../../src/index.js';
import { encodeHeader } from '../../src/protocol/header.js';
import { observeNonces } from '../../src/crypto/nonce-audit.js';
import { fragmentedRequest, PLAIN_BODY, Reassembler, SEALED_BODY, type Message } from '../support/fragments.js';
import type { RawClient } from '../support/raw-client.js';
import { secureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const set = (key: string, value: Buffer): Request => ({ op: 'SET', key: Buffer.from(key), value, ttlMs: 0, nx: false, xx: false, keepTtl: false });
const get = (key: string): Request => ({ op: 'GET', key: Buffer.from(key) });
const plain = (id: bigint, request: Request): Buffer => Buffer.concat(encodeRequest(id, request));
const newKey = (): PreSharedKey => ({ id: 'frag', secret: Buffer.from(generateKey(), 'base64') });

/** Writes `parts` honouring the socket's backpressure (a 64 MiB request is 1,025 frames). */
async function send(raw: RawClient, parts: readonly Buffer[]): Promise<void> {
  for (const part of parts) {
    if (!raw.socket.write(part)) await new Promise((resolve) => raw.socket.once('drain', resolve));
  }
}

/** Waits for `n` whole messages (spec §2.4) among the frames received, reassembled as a client would. */
async function messages(raw: RawClient, n: number, open?: FrameCipher, timeoutMs = 20_000): Promise<Message[]> {
  const reassembler = new Reassembler(open);
  await raw.until(() => reassembler.take(raw.frames).length >= n, timeoutMs, `${n} messages`);
  return reassembler.messages;
}

describe('fragments on a real server (spec §2.4)', () => {
  for (const mode of ['plaintext', 'secure', 'secure with envelopes'] as const) {
    it(`${mode}: a 64 MiB SET and GET round-trip with --max-value-size 64mb; the SET's memory stays within 2.5× the value`, async () => {
      const key = newKey();
      const secure = mode !== 'plaintext';
      const { port } = await startServer({ maxMemory: 256 * MiB, maxValueSize: 64 * MiB, ...(secure ? { keys: [key] } : {}) });
      const session = secure ? await secureRaw(port, key, { envelopes: mode === 'secure with envelopes' }) : undefined;
      const raw = session?.raw ?? (await rawClient(port));
      const seal = session?.session.send;
      const open = session?.session.receive;
      const frame = (id: bigint, request: Request): Buffer => (session === undefined ? plain(id, request) : session.seal(id, request));
      const value = randomBytes(64 * MiB);

      raw.write(frame(1n, { op: 'CAPS', features: Feature.FRAGMENTS }));
      const [caps] = await messages(raw, 1, open);
      expect(caps?.status).toBe(Status.OK);
      const answer = decodeCapsBody(caps?.body ?? Buffer.alloc(0));
      expect(answer).toEqual({ minor: 4, features: Feature.FRAGMENTS | Feature.VERSIONS | Feature.SCAN | Feature.QUIET | Feature.TOPOLOGY | Feature.TRACKING | Feature.LEASES | Feature.RELOAD, maxValueSize: 64 * MiB });
      raw.frames.length = 0;

      const parts = fragmentedRequest(2n, set('big', value), secure ? SEALED_BODY : PLAIN_BODY, seal);
      gc();
      const before = process.memoryUsage();
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before.arrayBuffers);
      }, 5);
      await send(raw, parts);
      const [stored] = await messages(raw, 1, open);
      clearInterval(sampler);
      expect(stored?.status).toBe(Status.OK);
      gc();
      const after = process.memoryUsage();
      peak = Math.max(peak, after.arrayBuffers - before.arrayBuffers);
      // The request's frames (held by the test's socket writes), the server's one message buffer and
      // the store's pages: about 3 values at the worst moment. Concatenating per fragment would
      // allocate ~1,025 × 32 MiB on average: far past this bound.
      expect(peak).toBeLessThan(3.5 * value.length);
      expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(2.5 * value.length);
      expect(after.rss - before.rss).toBeLessThan(2.5 * value.length);
      raw.frames.length = 0;

      raw.write(frame(3n, get('big')));
      const [read] = await messages(raw, 1, open, 60_000);
      expect(read?.status).toBe(Status.OK);
      expect(read?.id).toBe(3n);
      expect(read?.frames).toBe(Math.ceil((value.length + 4) / (secure ? SEALED_BODY : PLAIN_BODY)));
      expect(read?.body.equals(value)).toBe(true);
      // Every fragment but the last has MORE; the connection still answers after it.
      expect(raw.frames.filter((f) => (f.opcode & MORE) !== 0).length).toBeGreaterThan(1000);
      raw.frames.length = 0;
      raw.write(frame(4n, { op: 'HEALTH' }));
      const [health] = await messages(raw, 1, open);
      expect(health?.status).toBe(Status.OK);
    }, 120_000);
  }

  it('a fragmented request over --max-value-size + 272 is TOO_LARGE at once, its fragments dropped, and the connection goes on', async () => {
    const { port } = await startServer({ maxMemory: 64 * MiB });
    const raw = await rawClient(port);
    const parts = fragmentedRequest(1n, set('k', randomBytes(2 * MiB)), PLAIN_BODY);
    raw.write(parts.slice(0, 1)); // the first fragment only: the refusal comes before the rest is sent
    await raw.waitFrames(1);
    expect(raw.frames[0]?.opcode).toBe(Status.TOO_LARGE);
    expect(raw.frames[0]?.id).toBe(1n);
    expect(raw.frames[0]?.body.toString()).toMatch(/exceeds the server's limit of 1048848 \(--max-value-size 1048576 \+ 272\)/);
    await send(raw, parts.slice(1));
    raw.write(plain(2n, { op: 'HEALTH' }));
    await raw.waitFrames(2);
    expect(raw.frames.map((f) => [f.opcode, f.id])).toEqual([[Status.TOO_LARGE, 1n], [Status.OK, 2n]]);
    expect(raw.closed).toBe(false);
  });

  it('large answers pinned by peers that do not read count in the same bound: past it a GET gets BUSY, and a closed peer frees its share', async () => {
    // Bound: max(--max-output-memory 32 MiB, 2 × (16 MiB + 272)): two 16 MiB answers pinned at once, not three.
    const { port } = await startServer({ maxMemory: 128 * MiB, maxValueSize: 16 * MiB, maxOutputMemory: 32 * MiB });
    const writer = await rawClient(port);
    await send(writer, fragmentedRequest(1n, set('big', randomBytes(16 * MiB)), PLAIN_BODY));
    await writer.waitFrames(1);
    expect(writer.frames[0]?.opcode).toBe(Status.OK);
    const capsAndGet = Buffer.concat([plain(1n, { op: 'CAPS', features: Feature.FRAGMENTS }), plain(2n, get('big'))]);
    const [a, b] = await Promise.all([rawClient(port), rawClient(port)]);
    for (const peer of [a, b] as RawClient[]) {
      peer.socket.pause(); // never reads: its answer stays pinned
      peer.write(capsAndGet);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await rawClient(port);
    third.write(capsAndGet);
    await third.until(() => third.frames.length >= 2, 10_000, 'CAPS and GET answers');
    expect(third.frames[1]?.opcode).toBe(Status.BUSY);
    expect(third.frames[1]?.body.toString()).toMatch(/sending too many large answers/);
    (a as RawClient).destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    third.write(plain(3n, get('big')));
    const reassembled = await messages(third, 3);
    expect(reassembled[2]?.status).toBe(Status.OK);
    expect(reassembled[2]?.body.length).toBe(16 * MiB);
  });

  it('first fragments announcing more than the server gathers at once get BUSY (not fatal); released bytes admit the retry', async () => {
    // Bound: max(--max-output-memory 64 KiB, 2 × (1 MiB + 272)): two 1 MiB messages at once, not three.
    const { port } = await startServer({ maxMemory: 64 * MiB, maxOutputMemory: 65_536, maxOutputBuffer: 65_536 });
    const requests = [0, 1, 2].map((i) => fragmentedRequest(1n, set(`k${i}`, randomBytes(MiB - 300)), PLAIN_BODY));
    const clients = await Promise.all([0, 1, 2].map(() => rawClient(port)));
    clients[0]?.write(requests[0]?.[0] ?? Buffer.alloc(0));
    clients[1]?.write(requests[1]?.[0] ?? Buffer.alloc(0));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = clients[2] as RawClient;
    third.write(requests[2]?.[0] ?? Buffer.alloc(0));
    await third.waitFrames(1);
    expect(third.frames.map((f) => [f.opcode, f.id])).toEqual([[Status.BUSY, 1n]]);
    expect(third.frames[0]?.body.toString()).toMatch(/gathering too many large requests/);
    await send(third, requests[2]?.slice(1) ?? []); // the rest is dropped; the connection goes on
    await send(clients[0] as RawClient, requests[0]?.slice(1) ?? []); // the first message completes: its bytes are released
    await clients[0]?.waitFrames(1);
    expect(clients[0]?.frames[0]?.opcode).toBe(Status.OK);
    await send(third, fragmentedRequest(2n, set('k2', randomBytes(MiB - 300)), PLAIN_BODY));
    await third.waitFrames(2);
    expect(third.frames.map((f) => [f.opcode, f.id])).toEqual([[Status.BUSY, 1n], [Status.OK, 2n]]);
    // A connection closed mid-message releases its bytes too: two new messages at once fit again.
    clients[1]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [d, e] = await Promise.all([rawClient(port), rawClient(port)]);
    const more = [3, 4].map((i) => fragmentedRequest(1n, set(`k${i}`, randomBytes(MiB - 300)), PLAIN_BODY));
    d?.write(more[0]?.[0] ?? Buffer.alloc(0));
    e?.write(more[1]?.[0] ?? Buffer.alloc(0));
    await send(d as RawClient, more[0]?.slice(1) ?? []);
    await send(e as RawClient, more[1]?.slice(1) ?? []);
    await Promise.all([d?.waitFrames(1), e?.waitFrames(1)]);
    expect([d?.frames[0]?.opcode, e?.frames[0]?.opcode]).toEqual([Status.OK, Status.OK]);
  });

  it('a SET value over --max-value-size is TOO_LARGE however it is framed (here within the assembler limit)', async () => {
    const { port } = await startServer({ maxMemory: 64 * MiB });
    const raw = await rawClient(port);
    await send(raw, fragmentedRequest(1n, set('k', randomBytes(MiB + 1)), PLAIN_BODY));
    await raw.waitFrames(1);
    expect(raw.frames[0]?.opcode).toBe(Status.TOO_LARGE);
    expect(raw.frames[0]?.body.toString()).toMatch(/--max-value-size/);
  });

  it('a message that stops between fragments is closed by --frame-timeout', async () => {
    const { port, server } = await startServer({ frameTimeoutMs: 300 });
    const raw = await rawClient(port);
    raw.write(fragmentedRequest(1n, set('k', randomBytes(200_000)), PLAIN_BODY).slice(0, 2)); // two whole fragments of four
    await raw.waitClosed(5_000);
    expect(server.counters.disconnects.frame_timeout).toBe(1);
  });

  it('a frame interleaved between fragments is a fatal BAD_FRAGMENT', async () => {
    const { port } = await startServer();
    const raw = await rawClient(port);
    raw.write([...fragmentedRequest(1n, set('k', randomBytes(100_000)), PLAIN_BODY).slice(0, 1), plain(2n, { op: 'HEALTH' })]);
    await raw.waitClosed();
    expect(raw.frames.map((f) => f.opcode)).toEqual([Status.BAD_FRAGMENT]);
    expect(raw.frames[0]?.body.toString()).toMatch(/interleaves fragment 1 of message 1/);
  });

  it('a fragment whose MORE bit lies about the total is a fatal BAD_FRAGMENT', async () => {
    const { port } = await startServer();
    const raw = await rawClient(port);
    const first = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('ab')]);
    raw.write([encodeHeader(1, Opcode.SET | MORE, first.length, 1n), first, encodeHeader(1, Opcode.SET, 1, 1n), Buffer.from('c')]);
    await raw.waitClosed();
    expect(raw.frames.map((f) => f.opcode)).toEqual([Status.BAD_FRAGMENT]);
  });

  it('a 1.0 connection (no CAPS) reading a 2 MiB value gets TOO_LARGE as before; after CAPS it gets fragments', async () => {
    const { port } = await startServer({ maxMemory: 64 * MiB, maxValueSize: 4 * MiB });
    const raw = await rawClient(port);
    const value = randomBytes(2 * MiB);
    await send(raw, fragmentedRequest(1n, set('two', value), PLAIN_BODY));
    raw.write(plain(2n, get('two')));
    await raw.waitFrames(2);
    expect(raw.frames.map((f) => [f.opcode, f.id])).toEqual([[Status.OK, 1n], [Status.TOO_LARGE, 2n]]);
    expect(raw.frames[1]?.body.toString()).toMatch(/does not fit in one frame/);
    raw.frames.length = 0;
    raw.write([plain(3n, { op: 'CAPS', features: 0 }), plain(4n, get('two')), plain(5n, { op: 'CAPS', features: Feature.FRAGMENTS }), plain(6n, get('two'))]);
    const answers = await messages(raw, 4);
    expect(answers.map((m) => [m.status, m.id])).toEqual([[Status.OK, 3n], [Status.TOO_LARGE, 4n], [Status.OK, 5n], [Status.OK, 6n]]);
    expect(answers[3]?.body.equals(value)).toBe(true);
  });

  it('--max-memory smaller than the value: TOO_LARGE as before, with eviction off a full store OUT_OF_MEMORY', async () => {
    const { port } = await startServer({ maxMemory: 2 * MiB, maxValueSize: 2 * MiB, shards: 1, eviction: 'none' });
    const raw = await rawClient(port);
    await send(raw, fragmentedRequest(1n, set('whole', randomBytes(2 * MiB)), PLAIN_BODY));
    await send(raw, fragmentedRequest(2n, set('a', randomBytes(1.2 * MiB)), PLAIN_BODY));
    await send(raw, fragmentedRequest(3n, set('b', randomBytes(1.2 * MiB)), PLAIN_BODY));
    await raw.waitFrames(3);
    expect(raw.frames.map((f) => f.opcode)).toEqual([Status.TOO_LARGE, Status.OK, Status.OUT_OF_MEMORY]);
  });

  it('a peer that does not read a 32 MiB answer makes the server hold one window of output, not the answer; it reads it whole later', async () => {
    const { port, server } = await startServer({ maxMemory: 128 * MiB, maxValueSize: 32 * MiB, maxOutputBuffer: 4 * MiB });
    const raw = await rawClient(port);
    const value = randomBytes(32 * MiB);
    raw.write(plain(1n, { op: 'CAPS', features: Feature.FRAGMENTS }));
    await send(raw, fragmentedRequest(2n, set('big', value), PLAIN_BODY));
    await raw.waitFrames(2);
    raw.frames.length = 0;
    raw.socket.pause();
    raw.write(plain(3n, get('big')));
    // The kernel's buffers fill, then the server stops refilling: what it holds stays one window.
    let highest = 0;
    for (let i = 0; i < 40; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      highest = Math.max(highest, server.outputMemory.now);
    }
    expect(server.outputMemory.peak).toBeLessThanOrEqual(2 * MiB + 2 * 65_536); // the window (½ --max-output-buffer) + a frame
    expect(highest).toBeGreaterThan(0); // it is held, not dropped
    expect(server.counters.disconnects.output_buffer).toBe(0);
    raw.socket.resume();
    const [read] = await messages(raw, 1, undefined, 30_000);
    expect(read?.body.equals(value)).toBe(true);
  }, 60_000);

  for (const envelopes of [false, true]) {
    it(`secure${envelopes ? ' with envelopes' : ''}: no (key, nonce) pair repeats with fragmented messages mixed in, both directions (nonce audit, spec §6.4)`, async () => {
      const key = newKey();
      const { port } = await startServer({ maxMemory: 64 * MiB, maxValueSize: 2 * MiB, keys: [key] });
      const seen = new Set<string>();
      let sealed = 0;
      const stop = observeNonces((fingerprint, nonce) => {
        sealed += 1;
        seen.add(fingerprint + nonce.toString('hex'));
      });
      try {
        const session = await secureRaw(port, key, { envelopes });
        const { raw } = session;
        const open = session.session.receive;
        raw.write(session.seal(1n, { op: 'CAPS', features: Feature.FRAGMENTS }));
        const values = [randomBytes(300_000), randomBytes(65_509), randomBytes(1_000_000)];
        let id = 2n;
        for (const [i, value] of values.entries()) {
          await send(raw, fragmentedRequest(id++, set(`k${i}`, value), SEALED_BODY, session.session.send));
          raw.write(session.seal(id++, get(`k${i}`)));
          raw.write(session.seal(id++, { op: 'HEALTH' }));
        }
        const answers = await messages(raw, 1 + 3 * values.length, open);
        expect(answers.map((m) => m.status)).toEqual(Array(1 + 3 * values.length).fill(Status.OK));
        values.forEach((value, i) => expect(answers[2 + 3 * i]?.body.equals(value)).toBe(true));
      } finally {
        stop();
      }
      // Fragments of 65,508 bytes: 5 + 2 + 16 each way for the values, plus the small frames.
      expect(sealed).toBeGreaterThan(2 * (5 + 2 + 16));
      expect(seen.size).toBe(sealed);
    }, 60_000);
  }

  it('STATS reports max_value_size', async () => {
    const { port } = await startServer({ maxMemory: 64 * MiB, maxValueSize: 8 * MiB });
    const raw = await rawClient(port);
    raw.write(plain(1n, { op: 'STATS' }));
    await raw.waitFrames(1);
    expect(JSON.parse(raw.frames[0]?.body.toString() ?? '{}').max_value_size).toBe(8 * MiB);
  });
});
