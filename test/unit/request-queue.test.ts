import { afterEach, describe, expect, it } from 'vitest';
import { FrameCipher } from '../../src/crypto/frame-cipher.js';
import { openFrame } from '../../src/crypto/secure-channel.js';
import { ConduitError } from '../../src/protocol/errors.js';
import { Opcode, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import type { Frame } from '../../src/protocol/header.js';
import { encodeRequest, encodeRequestBody, type Request } from '../../src/protocol/messages.js';
import { asVoid, okOr } from '../../src/client/commands.js';
import { RequestQueue, type QueueLimits } from '../../src/client/request-queue.js';

/** A sink that keeps what is written, and can refuse more (write returns false). */
function sink(accept = true) {
  const writes: Buffer[] = [];
  return {
    writes,
    write(chunk: Buffer): boolean {
      writes.push(Buffer.from(chunk));
      return accept;
    },
    cork(): void {},
    uncork(): void {},
  };
}

/** The request frames in `writes`, decoded. */
function requestsIn(writes: Buffer[]): Frame[] {
  const decoder = new FrameDecoder({ direction: 'request' });
  decoder.push(Buffer.concat(writes));
  const frames: Frame[] = [];
  for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
    if (!('body' in item)) throw new Error(`undecodable request: ${item.message}`);
    frames.push({ ...item, body: Buffer.from(item.body) });
  }
  return frames;
}

const answer = (id: bigint, status: number = Status.OK, body = ''): Frame => ({
  version: VERSION_RESPONSE,
  opcode: status,
  length: Buffer.byteLength(body),
  id,
  body: Buffer.from(body),
});

const queues: RequestQueue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.stopSweep();
});

/** A queue whose own sweep never times anything out during a test: the tests call expire() themselves. */
function queue(limits: Partial<QueueLimits> = {}): RequestQueue {
  const q = new RequestQueue({ maxInflight: 8, maxQueued: 8, requestTimeoutMs: 600_000, maxSilentTimeouts: 3, ...limits }, () => {});
  queues.push(q);
  return q;
}

function add(q: RequestQueue, request: Request = { op: 'HEALTH' }, decode: (frame: Frame) => unknown = okOr(asVoid)): Promise<unknown> {
  const { opcode, body } = encodeRequestBody(request);
  const result = q.enqueue(opcode, body, decode);
  result.catch(() => {}); // handled: each test reads the outcome it checks
  return result;
}

/** What a promise settled with; it must have settled already (checked once every microtask has run). */
async function outcomeOf(promise: Promise<unknown>): Promise<{ value?: unknown; code?: string }> {
  const pending = Symbol('pending');
  const later = new Promise((resolve) => setImmediate(() => resolve(pending)));
  const result = await Promise.race([promise.then((value) => ({ value }), (err: ConduitError) => ({ code: err.code })), later]);
  if (result === pending) throw new Error('the promise has not settled');
  return result as { value?: unknown; code?: string };
}

describe('request queue: queued → in flight → settled', () => {
  it('queues, writes in one write with identifiers counted from restart(), and settles the oldest with its answer', async () => {
    const q = queue();
    q.restart(5n);
    const health = add(q);
    const get = add(q, { op: 'GET', key: Buffer.from('k') }, okOr((f) => f.body.toString()));
    expect([q.queued, q.inflight]).toEqual([2, 0]);
    const out = sink();
    expect(q.writeTo(out, undefined)).toBe(true);
    expect(out.writes).toHaveLength(1);
    expect([q.queued, q.inflight]).toEqual([0, 2]);
    const written = requestsIn(out.writes);
    expect(written.map((f) => [f.opcode, f.id])).toEqual([
      [Opcode.HEALTH, 5n],
      [Opcode.GET, 6n],
    ]);
    // The same bytes as framing each request with its identifier.
    expect(Buffer.concat(out.writes)).toEqual(
      Buffer.concat([...encodeRequest(5n, { op: 'HEALTH' }), ...encodeRequest(6n, { op: 'GET', key: Buffer.from('k') })]),
    );
    expect(q.settle(answer(5n))).toBeUndefined();
    expect(await outcomeOf(health)).toEqual({ value: undefined });
    expect(q.settle(answer(6n, Status.OK, 'v'))).toBeUndefined();
    expect(await outcomeOf(get)).toEqual({ value: 'v' });
    expect([q.queued, q.inflight, q.outstanding]).toEqual([0, 0, false]);
  });

  it('writes no more than maxInflight and reports a sink that asks to wait', () => {
    const q = queue({ maxInflight: 2 });
    for (let i = 0; i < 3; i += 1) add(q);
    const out = sink(false);
    expect(q.writeTo(out, undefined)).toBe(false);
    expect([q.queued, q.inflight]).toEqual([1, 2]);
    expect(q.writeTo(sink(), undefined)).toBe(true); // nothing fits: nothing written
    q.flushAll(new ConduitError('CLOSED', 'test over'));
  });

  it('rejects QUEUE_FULL past maxInflight + maxQueued', async () => {
    const q = queue({ maxInflight: 1, maxQueued: 1 });
    const first = add(q);
    const second = add(q);
    expect(q.full).toBe(true);
    expect(await outcomeOf(add(q))).toEqual({ code: 'QUEUE_FULL' });
    q.flushAll(new ConduitError('CLOSED', 'test over'));
    expect(await outcomeOf(first)).toEqual({ code: 'CLOSED' });
    expect(await outcomeOf(second)).toEqual({ code: 'CLOSED' });
  });

  it('a status fails its own call only; an undecodable body and a stray identifier are violations (spec §2.3, §4.3)', async () => {
    const q = queue();
    const incr = add(q, { op: 'INCR', key: Buffer.from('k'), delta: 1n, ttlMs: 0 }, okOr(() => 1n));
    const broken = add(q, { op: 'HEALTH' }, () => {
      throw new ConduitError('PROTOCOL_ERROR', 'bad body');
    });
    const last = add(q);
    q.writeTo(sink(), undefined);
    expect(q.settle(answer(0n, Status.NOT_INTEGER, 'not an integer'))).toBeUndefined();
    expect(await outcomeOf(incr)).toEqual({ code: 'NOT_INTEGER' });
    const violation = q.settle(answer(1n));
    expect(violation?.code).toBe('PROTOCOL_ERROR');
    expect(await outcomeOf(broken)).toEqual({ code: 'PROTOCOL_ERROR' });
    // An answer to anything but the oldest in flight: the oldest keeps its slot, for the caller to reject.
    expect(q.settle(answer(7n))?.message).toBe('response 7 while the oldest outstanding request is 2; connection closed');
    expect(q.inflight).toBe(1);
    q.rejectInflight(new ConduitError('PROTOCOL_ERROR', 'given up'));
    expect(await outcomeOf(last)).toEqual({ code: 'PROTOCOL_ERROR' });
    expect(q.settle(answer(3n))?.message).toBe('response 3 with no request outstanding; connection closed');
  });
});

describe('request queue: timeouts', () => {
  it('a queued request past its deadline leaves the queue with TIMEOUT and is never written', async () => {
    const q = queue({ requestTimeoutMs: 1_000 });
    const late = add(q);
    expect(q.expire(performance.now() + 2_000)).toBe(false);
    expect(await outcomeOf(late)).toEqual({ code: 'TIMEOUT' });
    expect(q.queued).toBe(0);
    const out = sink();
    q.writeTo(out, undefined);
    expect(out.writes).toHaveLength(0);
  });

  it('a request timed out in flight keeps its slot until its late answer, which goes to no one', async () => {
    const q = queue({ requestTimeoutMs: 1_000 });
    const early = add(q);
    q.writeTo(sink(), undefined);
    expect(q.expire(performance.now() + 2_000)).toBe(false);
    expect(await outcomeOf(early)).toEqual({ code: 'TIMEOUT' });
    expect([q.inflight, q.outstanding]).toEqual([1, false]);
    expect(q.silent(false)).toBe(true); // nothing in flight can still be answered
    const next = add(q, { op: 'GET', key: Buffer.from('k') }, okOr((f) => f.body.toString()));
    q.writeTo(sink(), undefined);
    expect(q.settle(answer(0n, Status.OK, 'for the timed-out call'))).toBeUndefined();
    expect(q.inflight).toBe(1);
    expect(q.settle(answer(1n, Status.OK, 'mine'))).toBeUndefined();
    expect(await outcomeOf(next)).toEqual({ value: 'mine' });
  });

  it('counts timeouts in flight in a row until an answer, and is silent at maxSilentTimeouts', async () => {
    const q = queue({ requestTimeoutMs: 1_000, maxSilentTimeouts: 2 });
    const calls = [add(q), add(q)];
    const split = performance.now();
    while (performance.now() === split); // the next deadline is later than the first two
    calls.push(add(q));
    q.writeTo(sink(), undefined);
    const waiting = q.expire(split + 1_000);
    expect(waiting).toBe(true);
    expect(q.silent(waiting)).toBe(true);
    expect(q.takeSilentTimeouts()).toBe(2);
    expect(q.silent(waiting)).toBe(false);
    expect(await outcomeOf(calls[0] as Promise<unknown>)).toEqual({ code: 'TIMEOUT' });
    q.flushAll(new ConduitError('CONNECTION_LOST', 'given up'));
    expect(await outcomeOf(calls[2] as Promise<unknown>)).toEqual({ code: 'CONNECTION_LOST' });
  });
});

describe('request queue: flushAll', () => {
  it('rejects everything queued and in flight with the one error, and not what already settled', async () => {
    const q = queue({ maxInflight: 2, requestTimeoutMs: 1_000 });
    const timedOut = add(q);
    q.writeTo(sink(), undefined);
    q.expire(performance.now() + 2_000);
    const inflight = add(q);
    q.writeTo(sink(), undefined);
    const queued = add(q);
    const error = new ConduitError('CONNECTION_LOST', 'the connection was lost');
    q.flushAll(error);
    expect([q.queued, q.inflight]).toEqual([0, 0]);
    expect(await outcomeOf(timedOut)).toEqual({ code: 'TIMEOUT' });
    await expect(inflight).rejects.toBe(error);
    await expect(queued).rejects.toBe(error);
  });
});

describe('request queue: secure session (spec §6.4)', () => {
  it('seals each body for its own frame, and the server opens the request as sent', async () => {
    const key = Buffer.alloc(32, 3);
    const prefix = Buffer.alloc(16, 4);
    const q = queue();
    q.restart(1n); // HELLO used identifier 0
    const set = add(q, { op: 'SET', key: Buffer.from('k'), value: Buffer.from('value'), ttlMs: 0, nx: false, xx: false, keepTtl: false });
    const out = sink();
    q.writeTo(out, new FrameCipher(key, prefix));
    const [frame] = requestsIn(out.writes);
    expect(frame?.id).toBe(1n);
    const opened = openFrame(new FrameCipher(key, prefix), frame as Frame);
    const plain = encodeRequest(1n, { op: 'SET', key: Buffer.from('k'), value: Buffer.from('value'), ttlMs: 0, nx: false, xx: false, keepTtl: false });
    expect(opened?.body).toEqual(Buffer.concat(plain).subarray(12));
    expect(frame?.version).toBe(VERSION_REQUEST);
    q.settle(answer(1n));
    expect(await outcomeOf(set)).toEqual({ value: undefined });
  });
});
