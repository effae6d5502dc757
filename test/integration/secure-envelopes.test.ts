// Sealed envelopes on real sockets (issue 18, spec §6.7, protocol 1.1): a raw
// client that agreed to them sends envelopes fed whole, byte by byte and split
// at every offset, and every malformed or forged one, and reads the server's
// envelopes back; ConduitClient with and without them.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, Status, type Request } from '../../src/index.js';
import { TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import type { SecureSession } from '../../src/crypto/handshake.js';
import { FIRST_ENVELOPE_ID, HEADER_SIZE, SEALED, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { headerOf, idOf, writeHeader, type Frame } from '../../src/protocol/header.js';
import { MAX_ENVELOPE_PLAINTEXT } from '../../src/protocol/output-batch.js';
import type { RawClient } from '../support/raw-client.js';
import { secureRaw, type SecureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const b = (s: string): Buffer => Buffer.from(s);
const set = (k: string, v: Buffer | string): Request => ({ op: 'SET', key: b(k), value: typeof v === 'string' ? b(v) : v, ttlMs: 0, nx: false, xx: false, keepTtl: false });
const get = (k: string): Request => ({ op: 'GET', key: b(k) });

/** What a response frame carries: the frames of an envelope (opened), or the frame itself (opened when sealed alone). */
function answersIn(session: SecureSession, frame: Frame): { status: number; id: bigint; body: string; enveloped: boolean }[] {
  if (frame.opcode === SEALED) {
    const plaintext = session.receive.open(headerOf(frame), frame.body);
    if (plaintext === undefined) throw new Error(`envelope ${frame.id} does not authenticate`);
    const reader = new EnvelopeReader('response');
    reader.load(plaintext, 0, plaintext.length);
    const out = [];
    for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
      if (inner instanceof ProtocolError) throw inner;
      out.push({ status: inner.opcode, id: idOf(inner), body: inner.body.toString(), enveloped: true });
    }
    return out;
  }
  if (frame.opcode >= 0x60) return [{ status: frame.opcode, id: frame.id, body: frame.body.toString(), enveloped: false }];
  const plaintext = session.receive.open(headerOf(frame), frame.body);
  if (plaintext === undefined) throw new Error(`frame ${frame.id} does not authenticate`);
  return [{ status: frame.opcode, id: frame.id, body: plaintext.toString(), enveloped: false }];
}

/** `frame` with its identifier set to 2^64 − 1 (the encoder refuses to make one). */
function topBit(frame: Buffer): Buffer {
  frame.writeBigUInt64BE((1n << 64n) - 1n, 4);
  return frame;
}

/** A secure raw client that agreed to envelopes. */
async function enveloped(port: number): Promise<SecureRaw> {
  const s = await secureRaw(port, key, { envelopes: true });
  expect(s.session.envelopes).toBe(true);
  return s;
}

/** The fatal status the server closed `raw` with. */
async function closedWith(raw: RawClient): Promise<number | undefined> {
  await raw.waitClosed();
  return raw.frames.at(-1)?.opcode;
}

describe('sealed envelopes (spec §6.7)', () => {
  it('an envelope of requests, fed whole, byte by byte and split at every offset, is answered in envelopes, in order', async () => {
    const { port } = await startServer({ keys: [key] });
    const feeds: [string, (s: SecureRaw, bytes: Buffer) => Promise<void>][] = [
      ['whole', async (s, bytes) => s.raw.write(bytes)],
      ['byte by byte', (s, bytes) => s.raw.writeByteByByte(bytes)],
    ];
    const probe = await enveloped(port);
    const length = probe.envelope([probe.plain(1n, set('k', 'v'))]).length;
    for (let at = 1; at < length; at += 1) {
      feeds.push([`split at ${at}`, async (s, bytes) => {
        s.raw.write(bytes.subarray(0, at));
        await new Promise((r) => setImmediate(r));
        s.raw.write(bytes.subarray(at));
      }]);
    }
    for (const [name, feed] of feeds) {
      const s = await enveloped(port);
      await feed(s, s.envelope([s.plain(1n, set(`k-${name}`, 'v')), s.plain(2n, get(`k-${name}`)), s.plain(3n, get('missing'))]));
      // Usually one envelope; more when the server's turn budget split the work (spec §5.1).
      await s.raw.until(() => s.raw.frames.flatMap((f) => answersIn(s.session, f)).length === 3);
      expect(s.raw.frames.map((f) => [f.opcode, f.id]), name).toEqual(s.raw.frames.map((_, i) => [SEALED, FIRST_ENVELOPE_ID + BigInt(i)]));
      expect(s.raw.frames.flatMap((f) => answersIn(s.session, f)), name).toEqual([
        { status: Status.OK, id: 1n, body: '', enveloped: true },
        { status: Status.OK, id: 2n, body: 'v', enveloped: true },
        { status: Status.NOT_FOUND, id: 3n, body: '', enveloped: true },
      ]);
      s.raw.destroy();
    }
  });

  it('envelopes and frames sealed alone mix; an answer too large for an envelope is sealed alone, in its place', async () => {
    const { port } = await startServer({ keys: [key] });
    const s = await enveloped(port);
    const big = Buffer.alloc(MAX_ENVELOPE_PLAINTEXT - HEADER_SIZE + 1, 0x61); // one byte past what an envelope carries
    s.raw.write(s.seal(1n, set('big', big))); // sealed alone (§6.4): still accepted
    s.raw.write(s.envelope([s.plain(2n, get('big')), s.plain(3n, get('nothing'))]));
    s.raw.write(s.envelope([])); // an empty envelope is ignored
    s.raw.write(s.envelope([s.plain(4n, { op: 'HEALTH' })]));
    await s.raw.until(() => s.raw.frames.flatMap((f) => answersIn(s.session, f)).length === 4);
    const answers = s.raw.frames.flatMap((f) => answersIn(s.session, f));
    expect(answers.map((a) => [a.id, a.status, a.enveloped])).toEqual([
      [1n, Status.OK, true],
      [2n, Status.OK, false], // 65,497 bytes of value: sealed alone
      [3n, Status.NOT_FOUND, true],
      [4n, Status.OK, true],
    ]);
    expect(answers[1]?.body).toBe(big.toString());
    // The server's envelopes count 2^63, 2^63 + 1, …; the frame sealed alone carries its request's identifier.
    const envelopeIds = s.raw.frames.filter((f) => f.opcode === SEALED).map((f) => f.id);
    expect(envelopeIds).toEqual(envelopeIds.map((_, i) => FIRST_ENVELOPE_ID + BigInt(i)));
    expect(s.raw.frames.filter((f) => f.opcode !== SEALED).map((f) => f.id)).toEqual([2n]);
  });

  it('answers a deep envelope under a small --max-inflight, pausing inside it', async () => {
    const { port } = await startServer({ keys: [key], maxInflight: 4 });
    const s = await enveloped(port);
    const n = 500;
    s.raw.write(s.envelope([s.plain(1n, set('k', 'v')), ...Array.from({ length: n }, (_, i) => s.plain(BigInt(i + 2), get('k')))]));
    await s.raw.until(() => s.raw.frames.flatMap((f) => answersIn(s.session, f)).length === n + 1);
    const answers = s.raw.frames.flatMap((f) => answersIn(s.session, f));
    expect(answers.map((a) => a.id)).toEqual(Array.from({ length: n + 1 }, (_, i) => BigInt(i + 1)));
    expect(answers.slice(1).every((a) => a.status === Status.OK && a.body === 'v')).toBe(true);
    expect(s.raw.frames.length).toBeGreaterThan(1); // answered over several turns, each its own envelope
  });

  it('refuses an envelope out of sequence (REPLAY), a forged one (AUTH_FAILED) and a replayed one (REPLAY)', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const skipped = await enveloped(port);
    skipped.raw.write(skipped.envelope([skipped.plain(1n, { op: 'HEALTH' })], FIRST_ENVELOPE_ID + 1n));
    expect(await closedWith(skipped.raw)).toBe(Status.REPLAY);

    const forged = await enveloped(port);
    const bytes = forged.envelope([forged.plain(1n, set('x', 'forged'))]);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    forged.raw.write(bytes);
    expect(await closedWith(forged.raw)).toBe(Status.AUTH_FAILED);

    const replayed = await enveloped(port);
    const first = replayed.envelope([replayed.plain(1n, { op: 'HEALTH' })]);
    replayed.raw.write(first);
    await replayed.raw.waitFrames(1);
    replayed.raw.write(first);
    expect(await closedWith(replayed.raw)).toBe(Status.REPLAY);
    expect(server.store.stats().total_sets).toBe(0);
  });

  it('refuses a malformed envelope: the other direction inside, a frame past its end, a HELLO inside, identifiers going back', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const cases: [string, (s: SecureRaw) => Buffer, number][] = [
      ['a response frame inside', (s) => { const f = s.plain(1n, { op: 'HEALTH' }); f[0] = VERSION_RESPONSE; return s.envelope([f]); }, Status.BAD_VERSION],
      ['a frame past the end', (s) => { const f = s.plain(1n, get('k')); f.writeUInt16BE(f.length, 2); return s.envelope([f]); }, Status.FRAME_TOO_LARGE],
      ['half a header', (s) => s.envelope([s.plain(1n, { op: 'HEALTH' }), Buffer.alloc(5, 1)]), Status.FRAME_TOO_LARGE],
      ['a HELLO inside', (s) => s.envelope([s.plain(1n, { op: 'HELLO', body: Buffer.alloc(3) })]), Status.AUTH_FAILED],
      ['identifiers not increasing', (s) => s.envelope([s.plain(5n, { op: 'HEALTH' }), s.plain(5n, set('x', 'y'))]), Status.REPLAY],
    ];
    for (const [name, build, status] of cases) {
      const s = await enveloped(port);
      s.raw.write(build(s));
      expect(await closedWith(s.raw), name).toBe(status);
    }
    // A top bit set is REPLAY in a secure session, sealed alone or in an envelope (spec §2.2, §6.5): answered
    // BAD_REQUEST, it became the highest identifier seen and refused every later request (issue 18's attack review).
    for (const send of [(t: SecureRaw) => t.seal(1n << 63n, { op: 'HEALTH' }), (t: SecureRaw) => t.envelope([t.plain(1n, { op: 'HEALTH' }), topBit(t.plain(2n, { op: 'HEALTH' }))])]) {
      const t = await enveloped(port);
      t.raw.write(send(t));
      expect(await closedWith(t.raw)).toBe(Status.REPLAY);
    }
    const perFrame = await secureRaw(port, key);
    perFrame.raw.write(perFrame.seal(1n << 63n, { op: 'HEALTH' }));
    expect(await closedWith(perFrame.raw)).toBe(Status.REPLAY);
    // Identifiers increase across envelopes and frames sealed alone alike.
    const s = await enveloped(port);
    s.raw.write(s.envelope([s.plain(7n, { op: 'HEALTH' })]));
    s.raw.write(s.seal(7n, set('x', 'y')));
    expect(await closedWith(s.raw)).toBe(Status.REPLAY);
    expect(server.store.stats().total_sets).toBe(0);
  });

  it('a SEALED frame inside an envelope is an unknown opcode; outside a session with envelopes too; the connection stays open', async () => {
    const { port } = await startServer({ keys: [key] });
    const s = await enveloped(port);
    const nested = Buffer.alloc(HEADER_SIZE);
    writeHeader(nested, 0, 0x01, SEALED, 0, 1n);
    s.raw.write(s.envelope([nested, s.plain(2n, { op: 'HEALTH' })]));
    // The two answers may come in one envelope or two (the server's turn budget on a loaded machine decides).
    await s.raw.waitFrames(1);
    const answers = (): [bigint, number][] => s.raw.frames.flatMap((f) => answersIn(s.session, f as Frame).map((a): [bigint, number] => [a.id, a.status]));
    if (answers().length < 2) await s.raw.waitFrames(2);
    expect(answers()).toEqual([[1n, Status.UNKNOWN_OPCODE], [2n, Status.OK]]);

    const perFrame = await secureRaw(port, key); // a 1.0 HELLO: no envelopes
    expect(perFrame.session.envelopes).toBe(false);
    perFrame.raw.write(perFrame.envelope([perFrame.plain(1n, { op: 'HEALTH' })], 1n)); // sealed like a frame with opcode 0x11
    await perFrame.raw.waitFrames(1);
    expect(answersIn(perFrame.session, perFrame.raw.frames[0] as Frame).map((a) => a.status)).toEqual([Status.UNKNOWN_OPCODE]);

    const { port: plainPort } = await startServer();
    const plain = await rawClient(plainPort);
    plain.write(Buffer.concat([Buffer.from([0x01, SEALED, 0, 0]), Buffer.alloc(8)]));
    await plain.waitFrames(1);
    expect(plain.frames[0]?.opcode).toBe(Status.UNKNOWN_OPCODE);
  });

  it('a server grants envelopes only: reserved option bits are never granted', async () => {
    const { port } = await startServer({ keys: [key] });
    const raw = await rawClient(port);
    const { generateEphemeral, finishHello } = await import('../../src/crypto/handshake.js');
    const { helloFrame } = await import('../../src/crypto/secure-channel.js');
    const ephemeral = generateEphemeral();
    raw.write(helloFrame(key.id, ephemeral.publicKey, 0n, 0xff));
    await raw.waitFrames(1);
    const reply = raw.frames[0] as Frame;
    expect(reply.length).toBe(32 + 1 + TAG_SIZE);
    const session = finishHello(reply.body, 0n, ephemeral, key, 0xff);
    expect(session).toMatchObject({ envelopes: true });
  });

  it('ConduitClient seals in envelopes by default and per frame with sealing: frames; both see the same store', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const envelopes = new ConduitClient({ port, key });
    const frames = new ConduitClient({ port, key, sealing: 'frames' });
    clients.push(envelopes, frames);
    await Promise.all([envelopes.connect(), frames.connect()]);
    await Promise.all(Array.from({ length: 200 }, (_, i) => envelopes.set(`k${i}`, `v${i}`)));
    const read = await Promise.all(Array.from({ length: 200 }, (_, i) => frames.get(`k${i}`)));
    expect(read.map((v) => v?.toString())).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    const large = Buffer.alloc(65_000, 7); // too large for an envelope with its header: sealed alone both ways
    expect(await envelopes.set('large', large)).toBe(true);
    expect((await envelopes.get('large'))?.equals(large)).toBe(true);
    expect(server.store.stats().curr_items).toBe(201);
    expect(() => new ConduitClient({ port, key, sealing: 'batch' as never })).toThrow(/sealing option must be 'envelopes' or 'frames', got batch/);
  });

  it('a client that reconnects starts its envelopes at 2^63 again, and goes on working', async () => {
    const { port } = await startServer({ keys: [key] });
    // A proxy whose connections the test cuts: the client sees a lost connection and reconnects.
    const cut: Socket[] = [];
    const proxy: Server = createServer((inbound) => {
      const outbound = connect(port, '127.0.0.1');
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      cut.push(inbound, outbound);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const c = new ConduitClient({ port: (proxy.address() as { port: number }).port, key, reconnect: { maxAttempts: 20, baseDelayMs: 10, maxDelayMs: 50 } });
      clients.push(c);
      await c.connect();
      for (let round = 0; round < 3; round += 1) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => c.set(`r${round}:${i}`, `v${i}`)));
        expect((await c.get(`r${round}:49`))?.toString()).toBe('v49');
        for (const socket of cut.splice(0)) socket.destroy(); // the next request goes over a new session
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await c.get('r0:0'))?.toString()).toBe('v0');
    } finally {
      for (const socket of cut) socket.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });
});
