import { afterEach, describe, expect, it } from 'vitest';
import { asTrue, okOr } from '../../src/client/commands.js';
import { RequestQueue, type QueueLimits } from '../../src/client/request-queue.js';
import { ConduitError } from '../../src/protocol/errors.js';
import { Opcode, QUIET_BIT, Status, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import type { Frame } from '../../src/protocol/header.js';
import { encodeRequestBody } from '../../src/protocol/messages.js';

// spec §2.3 and §2.5: how the client's queue matches answers when some requests are quiet writes.
// The "server" here is a script: it answers what a correct server answers (every non-quiet request,
// a quiet write only when it fails), or breaks the rules on purpose.

function sink() {
  const writes: Buffer[] = [];
  return { writes, write: (chunk: Buffer) => writes.push(Buffer.from(chunk)) > 0, cork() {}, uncork() {} };
}

/** The request frames written so far (and forgets them). */
function written(s: ReturnType<typeof sink>): Frame[] {
  const decoder = new FrameDecoder({ direction: 'request' });
  decoder.push(Buffer.concat(s.writes.splice(0)));
  const frames: Frame[] = [];
  for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
    if (!('body' in item)) throw new Error(item.message);
    frames.push({ ...item, body: Buffer.from(item.body) });
  }
  return frames;
}

const answer = (id: bigint, status: number = Status.OK, body = ''): Frame => ({
  version: VERSION_RESPONSE, opcode: status, length: Buffer.byteLength(body), id, body: Buffer.from(body),
});

const queues: RequestQueue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.stopSweep();
});

function queue(limits: Partial<QueueLimits> = {}): RequestQueue {
  const q = new RequestQueue({ maxInflight: 64, maxQueued: 64, requestTimeoutMs: 600_000, maxSilentTimeouts: 3, ...limits }, () => {});
  queues.push(q);
  return q;
}

/** A SET (quiet or not) with SET's own decoder: true stored, false NOT_STORED, else the error. */
function set(q: RequestQueue, quiet: boolean): Promise<boolean> {
  const { opcode, body } = encodeRequestBody({ op: 'SET', key: Buffer.from('k'), value: Buffer.from('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false, quiet });
  const result = q.enqueue(opcode, body, okOr(asTrue, { status: Status.NOT_STORED, value: false }));
  result.catch(() => {});
  return result;
}

type Outcome = { value?: unknown; code?: string } | 'pending';

async function outcomes(promises: Promise<unknown>[]): Promise<Outcome[]> {
  const pending = Symbol('pending');
  const later = new Promise((resolve) => setImmediate(() => resolve(pending)));
  return Promise.all(
    promises.map(async (p) => {
      const r = await Promise.race([p.then((value) => ({ value }), (err: ConduitError) => ({ code: err.code })), later]);
      return r === pending ? 'pending' : (r as Outcome);
    }),
  );
}

/** What request `i` of a script fails with, if it fails: NOT_STORED (an outcome) or TOO_LARGE (an error). */
const failure = (i: number): number => (i % 2 === 0 ? Status.NOT_STORED : Status.TOO_LARGE);
const expected = (failed: boolean, i: number): Outcome => (!failed ? { value: true } : failure(i) === Status.NOT_STORED ? { value: false } : { code: 'TOO_LARGE' });

describe('quiet writes in the request queue (spec §2.5)', () => {
  it('settles every interleaving of quiet and normal SETs, up to 6, with every pattern of failures, as a correct server answers them', async () => {
    let cases = 0;
    for (let n = 1; n <= 6; n += 1) {
      for (let quietMask = 0; quietMask < 1 << n; quietMask += 1) {
        for (let failMask = 0; failMask < 1 << n; failMask += 1) {
          const q = queue();
          q.restart(0n);
          const s = sink();
          const promises = Array.from({ length: n }, (_, i) => set(q, ((quietMask >> i) & 1) === 1));
          q.writeTo(s, undefined);
          const frames = written(s);
          // The server: each request in order; a quiet one answered only when it fails; the fence (HEALTH) OK.
          for (const frame of frames) {
            const i = Number(frame.id);
            const quiet = (frame.opcode & QUIET_BIT) !== 0;
            if (frame.opcode === Opcode.HEALTH) expect(q.settle(answer(frame.id))).toBeUndefined();
            else if (((failMask >> i) & 1) === 1) expect(q.settle(answer(frame.id, failure(i)))).toBeUndefined();
            else if (!quiet) expect(q.settle(answer(frame.id))).toBeUndefined();
          }
          const want = Array.from({ length: n }, (_, i) => expected(((failMask >> i) & 1) === 1, i));
          expect(await outcomes(promises), `quiet ${quietMask.toString(2)} failed ${failMask.toString(2)}`).toEqual(want);
          // A fence exactly when the last request is quiet; nothing left in flight.
          expect(frames.length - n).toBe((quietMask >> (n - 1)) & 1);
          expect(q.inflight).toBe(0);
          q.stopSweep();
          cases += 1;
        }
      }
    }
    expect(cases).toBe(5460);
  });

  it('writes quiet SETs with bit 6 and follows them with a HEALTH fence only when nothing non-quiet comes after them', async () => {
    const q = queue();
    q.restart(0n);
    const s = sink();
    set(q, true);
    set(q, false);
    q.writeTo(s, undefined);
    expect(written(s).map((f) => f.opcode)).toEqual([Opcode.SET | QUIET_BIT, Opcode.SET]);
    set(q, true);
    set(q, true);
    q.writeTo(s, undefined);
    expect(written(s).map((f) => [f.opcode, f.id])).toEqual([[Opcode.SET | QUIET_BIT, 2n], [Opcode.SET | QUIET_BIT, 3n], [Opcode.HEALTH, 4n]]);
  });

  it('keeps a slot for the fence: quiet writes never fill maxInflight, and a fence answer lets the next ones go', async () => {
    const q = queue({ maxInflight: 4 });
    q.restart(0n);
    const s = sink();
    const promises = Array.from({ length: 7 }, () => set(q, true));
    q.writeTo(s, undefined);
    expect(written(s).map((f) => f.opcode)).toEqual([0x41, 0x41, 0x41, Opcode.HEALTH]);
    expect([q.inflight, q.queued]).toEqual([4, 4]);
    expect(q.settle(answer(3n))).toBeUndefined();
    expect(await outcomes(promises)).toEqual([{ value: true }, { value: true }, { value: true }, 'pending', 'pending', 'pending', 'pending']);
    q.writeTo(s, undefined);
    expect(written(s).map((f) => [f.opcode, f.id])).toEqual([[0x41, 4n], [0x41, 5n], [0x41, 6n], [Opcode.HEALTH, 7n]]);
    expect(q.settle(answer(5n, Status.OUT_OF_MEMORY))).toBeUndefined();
    expect(q.settle(answer(7n))).toBeUndefined();
    expect((await outcomes(promises)).slice(3)).toEqual([{ value: true }, { code: 'OUT_OF_MEMORY' }, { value: true }, 'pending']);
    q.writeTo(s, undefined);
    expect(written(s).map((f) => [f.opcode, f.id])).toEqual([[0x41, 8n], [Opcode.HEALTH, 9n]]);
    expect(q.settle(answer(9n))).toBeUndefined();
    expect((await outcomes(promises))[6]).toEqual({ value: true });
  });

  it('sends a quiet write as a plain one when maxInflight leaves no slot for a fence', () => {
    const q = queue({ maxInflight: 1 });
    q.restart(0n);
    const s = sink();
    set(q, true);
    q.writeTo(s, undefined);
    expect(written(s).map((f) => f.opcode)).toEqual([Opcode.SET]);
  });

  it('gives the connection up on an answer past a non-quiet request, and settles none of the quiet writes as succeeded', async () => {
    const q = queue();
    q.restart(0n);
    const s = sink();
    const promises = [set(q, true), set(q, false), set(q, true), set(q, false)];
    q.writeTo(s, undefined);
    expect(q.settle(answer(3n))?.code).toBe('PROTOCOL_ERROR'); // 1 (not quiet) must be answered first
    q.rejectInflight(new ConduitError('PROTOCOL_ERROR', 'closed'));
    expect(await outcomes(promises)).toEqual(Array(4).fill({ code: 'PROTOCOL_ERROR' }));
  });

  it('gives the connection up on an answer to no request in flight, after quiet writes, and on a repeated answer', async () => {
    const q = queue();
    q.restart(10n);
    const s = sink();
    const promises = [set(q, true), set(q, true)];
    q.writeTo(s, undefined); // 10, 11 quiet, 12 the fence
    expect(q.settle(answer(13n))?.message).toMatch(/response 13 while the requests it may answer are 10\.\.12/);
    expect(q.settle(answer(9n))?.code).toBe('PROTOCOL_ERROR');
    expect(await outcomes(promises)).toEqual(['pending', 'pending']);
    expect(q.settle(answer(11n, Status.NOT_STORED))).toBeUndefined();
    expect(q.settle(answer(11n, Status.NOT_STORED))?.code).toBe('PROTOCOL_ERROR'); // 11 is settled: the next must be 12
    expect(await outcomes(promises)).toEqual([{ value: true }, { value: false }]);
  });

  it('times quiet writes out with their fence, not before, and drops the fence answer that comes late', async () => {
    const q = queue({ requestTimeoutMs: 1000 });
    q.restart(0n);
    const s = sink();
    const promises = [set(q, true), set(q, true)];
    q.writeTo(s, undefined);
    const now = performance.now();
    expect(q.expire(now)).toBe(true);
    expect(await outcomes(promises)).toEqual(['pending', 'pending']);
    expect(q.expire(now + 5000)).toBe(false);
    const settled = await Promise.all(promises.map((p) => p.catch((err: ConduitError) => err)));
    expect(settled.map((e) => (e as ConduitError).code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect((settled[0] as ConduitError).message).toMatch(/quiet write/);
    expect(q.settle(answer(2n))).toBeUndefined(); // the fence's late answer: nothing to give it to, no violation
    expect(q.inflight).toBe(0);
  });

  it('rejects quiet writes written before a lost connection with CONNECTION_LOST', async () => {
    const q = queue();
    q.restart(0n);
    const s = sink();
    const promises = [set(q, true), set(q, true)];
    q.writeTo(s, undefined);
    q.rejectInflight(new ConduitError('CONNECTION_LOST', 'lost'));
    expect(await outcomes(promises)).toEqual([{ code: 'CONNECTION_LOST' }, { code: 'CONNECTION_LOST' }]);
  });

  it('counts quiet writes and fences against the bounded queue', () => {
    const q = queue({ maxInflight: 2, maxQueued: 2 });
    q.restart(0n);
    for (let i = 0; i < 4; i += 1) void set(q, true);
    expect(q.full).toBe(true);
    return expect(set(q, true)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  });

  it('reports UNKNOWN_OPCODE for a quiet write a protocol 1.0 server does not know', async () => {
    const q = queue();
    q.restart(0n);
    const s = sink();
    const promises = [set(q, true), set(q, true)];
    q.writeTo(s, undefined);
    expect(q.settle(answer(0n, Status.UNKNOWN_OPCODE, 'opcode 0x41 is not defined'))).toBeUndefined();
    expect(q.settle(answer(1n, Status.UNKNOWN_OPCODE, 'opcode 0x41 is not defined'))).toBeUndefined();
    expect(q.settle(answer(2n))).toBeUndefined();
    expect(await outcomes(promises)).toEqual([{ code: 'UNKNOWN_OPCODE' }, { code: 'UNKNOWN_OPCODE' }]);
  });
});
