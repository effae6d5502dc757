import { describe, expect, it } from 'vitest';
import { encodeRequest, Opcode, ProtocolError, QUIET_BIT, Status, VERSION_RESPONSE, type Request } from '../../src/index.js';
import { silentLogger } from '../../src/config/logger.js';
import { parseRequestParts } from '../../src/protocol/messages.js';
import { frameBytes } from '../../src/protocol/output-batch.js';
import { readRequest, RequestView } from '../../src/protocol/request-reader.js';
import { AnswerQueue } from '../../src/server/answer-queue.js';
import type { ConnectionHost } from '../../src/server/connection-host.js';
import { RequestHandler } from '../../src/server/request-handler.js';
import { SecureGate } from '../../src/server/secure-gate.js';
import { Store } from '../../src/store/store.js';
import { takeOne } from '../support/vectors.js';

// spec §2.5 (protocol 1.1): quiet writes, from the request reader to the answer path.

const key = Buffer.from('k');
const frame = (id: bigint, request: Request): Buffer => Buffer.concat(encodeRequest(id, request));
const set = (extra: Partial<{ nx: boolean; quiet: boolean }> = {}): Request => ({
  op: 'SET', key, value: Buffer.from('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false, ...extra,
});

describe('readRequest and QUIET (spec §2.5)', () => {
  it('reads SET, DELETE and RENEW with bit 6 as the operation, quiet, and resets quiet on the next read', () => {
    const view = new RequestView();
    const body = frame(1n, set()).subarray(12);
    expect(readRequest(Opcode.SET | QUIET_BIT, body, 0, body.length, false, view)).toBeUndefined();
    expect([view.op, view.quiet, view.key().toString(), view.value().toString()]).toEqual(['SET', true, 'k', 'v']);
    expect(readRequest(Opcode.DELETE | QUIET_BIT, key, 0, 1, false, view)).toBeUndefined();
    expect([view.op, view.quiet]).toEqual(['DELETE', true]);
    const renew = Buffer.from([0, 0, 0x13, 0x88, 0x6b]);
    expect(readRequest(Opcode.RENEW | QUIET_BIT, renew, 0, renew.length, false, view)).toBeUndefined();
    expect([view.op, view.quiet, view.ttlMs]).toEqual(['RENEW', true, 5000]);
    expect(readRequest(Opcode.DELETE, key, 0, 1, false, view)).toBeUndefined();
    expect([view.op, view.quiet]).toEqual(['DELETE', false]);
  });

  it('refuses QUIET on every other operation with BAD_REQUEST, and on no operation with UNKNOWN_OPCODE', () => {
    for (const op of [Opcode.GET, Opcode.GETS, Opcode.GAT, Opcode.INCR, Opcode.HEALTH, Opcode.STATS, Opcode.LIST, Opcode.SCAN, Opcode.TTL, Opcode.FLUSH, Opcode.SHUTDOWN, Opcode.TOPOLOGY, Opcode.TRACKING, Opcode.LEASE, Opcode.RELOAD, Opcode.HELLO]) {
      const error = readRequest(op | QUIET_BIT, key, 0, 1, false, new RequestView());
      expect(error?.code, `0x${(op | QUIET_BIT).toString(16)}`).toBe('BAD_REQUEST');
      expect(error?.fatal).toBe(false);
    }
    expect(readRequest(0x55, key, 0, 1, false, new RequestView())?.code).toBe('UNKNOWN_OPCODE'); // 0x15: no operation (0x0F is TOPOLOGY since 1.2, 0x12–0x13 TRACKING and LEASE since 1.3, 0x14 RELOAD since 1.4)
  });

  it('keeps the body checks of the operation: a quiet SET with NX and XX is BAD_REQUEST', () => {
    const body = Buffer.from([0x03, 0, 0, 0, 0, 1, 0x6b]);
    expect(readRequest(Opcode.SET | QUIET_BIT, body, 0, body.length, false, new RequestView())?.code).toBe('BAD_REQUEST');
  });

  it('encodes quiet: true as bit 6 and parses it back; without it the frame is 1.0 byte for byte', () => {
    const quiet = frame(7n, set({ quiet: true }));
    const plain = frame(7n, set());
    expect(quiet[1]).toBe(Opcode.SET | QUIET_BIT);
    expect(Buffer.concat([quiet.subarray(0, 1), Buffer.from([Opcode.SET]), quiet.subarray(2)]).equals(plain)).toBe(true);
    expect(parseRequestParts(quiet[1] as number, quiet.subarray(12), false)).toEqual(set({ quiet: true }));
    expect(parseRequestParts(plain[1] as number, plain.subarray(12), false)).toEqual(set());
    expect(frame(1n, { op: 'DELETE', key, quiet: true })[1]).toBe(0x42);
    expect(frame(1n, { op: 'RENEW', key, ttlMs: 0, quiet: true })[1]).toBe(0x44);
    expect(parseRequestParts(0x40, key, false)).toBeInstanceOf(ProtocolError);
  });
});

/** A plaintext connection's request path over a real store, with the answers it queues and what it counts. */
function handler(): { handle: (bytes: Buffer) => void; refusal: (bytes: Buffer) => string | undefined; answers: AnswerQueue; counted: string[]; store: Store } {
  const store = new Store({ maxMemory: 16 << 20, shards: 1, eviction: 'lru' });
  const counted: string[] = [];
  const host: ConnectionHost = {
    store,
    answersCopied: true,
    stats: () => Buffer.alloc(0),
    shutdown: () => ({ status: Status.FORBIDDEN, body: undefined }),
    maxInflight: 1024,
    maxOutputBuffer: 1 << 20,
    maxBodySize: 65_524,
    logger: silentLogger,
    keys: undefined,
    metrics: undefined,
    countRequest: (answer) => counted.push(answer),
    countDisconnect: () => {},
    countAuthFailure: () => {},
    admitHandshake: () => true,
    outputHeld: () => {},
    released: () => {},
  };
  const answers = new AnswerQueue(() => {});
  const requests = new RequestHandler(host, new SecureGate(undefined), answers, () => 'test');
  return {
    handle: (bytes) => expect(requests.handle(takeOne(bytes, 'request'), 'execute')).toBeUndefined(),
    refusal: (bytes) => requests.handle(takeOne(bytes, 'request'), 'execute')?.error.code,
    answers,
    counted,
    store,
  };
}

/** What `answers` would write now, as one buffer. */
function written(answers: AnswerQueue): Buffer {
  const chunks: Buffer[] = [];
  answers.write({ destroyed: false, write: (c: Buffer) => chunks.push(c) > 0, cork() {}, uncork() {} }, () => {});
  return Buffer.concat(chunks);
}

describe('RequestHandler and quiet writes (spec §2.5)', () => {
  it('executes a quiet SET, DELETE and RENEW and queues no answer when they succeed; counts them suppressed', () => {
    const { handle, answers, counted, store } = handler();
    handle(frame(1n, set({ quiet: true })));
    expect(store.get(key)?.toString()).toBe('v');
    handle(frame(2n, { op: 'RENEW', key, ttlMs: 60_000, quiet: true }));
    expect(store.ttl(key)).toBeGreaterThan(0);
    handle(frame(3n, { op: 'DELETE', key, quiet: true }));
    expect(store.get(key)).toBeUndefined();
    expect(answers.pending).toBe(0);
    expect(counted).toEqual(['suppressed', 'suppressed', 'suppressed']);
    handle(frame(4n, { op: 'HEALTH' }));
    expect(written(answers).equals(frameBytes(VERSION_RESPONSE, Status.OK, 4n, undefined))).toBe(true);
    expect(counted.at(-1)).toBe('sent');
  });

  it('answers every other status of a quiet write, in order, with its identifier', () => {
    const { handle, answers, counted } = handler();
    handle(frame(1n, set({ quiet: true })));
    handle(frame(2n, set({ quiet: true, nx: true }))); // the key exists: NOT_STORED
    handle(frame(3n, { op: 'DELETE', key: Buffer.from('absent'), quiet: true })); // NOT_FOUND
    handle(frame(4n, { op: 'RENEW', key: Buffer.from('absent'), ttlMs: 5, quiet: true })); // NOT_FOUND
    handle(Buffer.from('01410001000000000000000500', 'hex')); // quiet SET with a 1-byte body: BAD_REQUEST
    handle(frame(6n, { op: 'HEALTH' }));
    const out = written(answers);
    const statuses: [number, bigint][] = [];
    for (let at = 0; at < out.length; at += 12 + out.readUInt16BE(at + 2)) statuses.push([out[at + 1] as number, out.readBigUInt64BE(at + 4)]);
    expect(statuses).toEqual([
      [Status.NOT_STORED, 2n],
      [Status.NOT_FOUND, 3n],
      [Status.NOT_FOUND, 4n],
      [Status.BAD_REQUEST, 5n],
      [Status.OK, 6n],
    ]);
    expect(counted).toEqual(['suppressed', 'sent', 'sent', 'sent', 'sent']); // the malformed one is not executed
  });

  it('answers QUIET on GET with BAD_REQUEST, not the value', () => {
    const { handle, answers } = handler();
    handle(frame(1n, set()));
    written(answers);
    handle(Buffer.concat([Buffer.from([1, Opcode.GET | QUIET_BIT, 0, 1]), Buffer.alloc(7), Buffer.from([2]), key]));
    const out = written(answers);
    expect([out[1], out.readBigUInt64BE(4)]).toEqual([Status.BAD_REQUEST, 2n]);
  });

  it('lets a later request reuse the identifier of a quiet write that succeeded (no longer in flight, spec §2.2)', () => {
    const { handle, answers } = handler();
    handle(frame(9n, set({ quiet: true })));
    handle(frame(9n, { op: 'HEALTH' })); // no REPLAY: nothing with identifier 9 is queued
    expect(answers.pending).toBe(1);
  });

  it('still refuses an identifier in flight with REPLAY when the quiet write before it was answered', () => {
    const { handle, refusal, answers } = handler();
    handle(frame(5n, { op: 'DELETE', key: Buffer.from('absent'), quiet: true })); // NOT_FOUND: queued, in flight
    expect(answers.pending).toBe(1);
    expect(refusal(frame(5n, { op: 'HEALTH' }))).toBe('REPLAY');
  });
});
