import { describe, expect, it } from 'vitest';
import { ConduitError, LeaseState, MAX_PUSH_BODY, ProtocolError, TrackingMode, type Request } from '../../src/index.js';
import { encodeRequestBody, parseRequestParts, requestOf } from '../../src/protocol/messages.js';
import { decodeLeaseAnswer, encodeLeaseHead } from '../../src/protocol/lease-body.js';
import { readRequest, RequestView } from '../../src/protocol/request-reader.js';
import { decodeInvalidateBody, encodeInvalidateBodies, INVALIDATE_ALL_BODY } from '../../src/protocol/tracking-body.js';

const key = (n: number, length = 250): Buffer => Buffer.alloc(length, n % 251);

/** Encodes `request` and parses it back as the server does. */
function roundTrip(request: Request): Request | ProtocolError {
  const { opcode, body } = encodeRequestBody(request);
  return parseRequestParts(opcode, Buffer.concat(body), false);
}

describe('INVALIDATE bodies (spec §3.15, protocol 1.3)', () => {
  it('splits a long key list into bodies of at most MAX_PUSH_BODY bytes that decode back to the same keys in order', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => key(i, 1 + (i % 250)));
    const bodies = encodeInvalidateBodies(keys);
    expect(bodies.length).toBeGreaterThan(1);
    const back: Buffer[] = [];
    for (const body of bodies) {
      expect(body.length).toBeLessThanOrEqual(MAX_PUSH_BODY);
      const decoded = decodeInvalidateBody(body);
      expect(Array.isArray(decoded)).toBe(true);
      if (Array.isArray(decoded)) back.push(...decoded);
    }
    expect(back).toEqual(keys);
  });

  it('fills each body: 259 keys of 250 bytes take 2 bodies (258 fit one)', () => {
    expect(encodeInvalidateBodies(Array.from({ length: 258 }, (_, i) => key(i)))).toHaveLength(1);
    expect(encodeInvalidateBodies(Array.from({ length: 259 }, (_, i) => key(i)))).toHaveLength(2);
    expect(encodeInvalidateBodies([])).toEqual([]);
  });

  it('refuses keys the store cannot hold', () => {
    expect(() => encodeInvalidateBodies([Buffer.alloc(0)])).toThrow(ConduitError);
    expect(() => encodeInvalidateBodies([Buffer.alloc(251)])).toThrow(ConduitError);
  });

  it('decodes ALL, and returns BAD_REQUEST for every malformed body', () => {
    expect(decodeInvalidateBody(INVALIDATE_ALL_BODY)).toBe('all');
    for (const hex of ['', '0100', '02', '00', '0000', '000000', '00000101', '0000010161ff', '00000201610162ff', '0000030161016201', '000001006']) {
      const decoded = decodeInvalidateBody(Buffer.from(hex, 'hex'));
      expect(decoded, hex).toBeInstanceOf(ProtocolError);
      if (decoded instanceof ProtocolError) expect(decoded.code).toBe('BAD_REQUEST');
    }
  });
});

describe('LEASE answers (spec §3.16, protocol 1.3)', () => {
  it('encodes and decodes each state', () => {
    const hit = Buffer.concat([encodeLeaseHead(LeaseState.HIT, 0n), Buffer.from('v')]);
    expect(decodeLeaseAnswer(hit)).toEqual({ state: LeaseState.HIT, token: 0n, value: Buffer.from('v') });
    const granted = encodeLeaseHead(LeaseState.GRANTED, 2n ** 64n - 1n);
    expect(decodeLeaseAnswer(granted)).toEqual({ state: LeaseState.GRANTED, token: 2n ** 64n - 1n, value: Buffer.alloc(0) });
    expect(decodeLeaseAnswer(encodeLeaseHead(LeaseState.WAIT, 0n))).toMatchObject({ state: LeaseState.WAIT });
    expect(decodeLeaseAnswer(Buffer.concat([encodeLeaseHead(LeaseState.STALE, 0n), Buffer.from('old')]))).toMatchObject({ state: LeaseState.STALE, value: Buffer.from('old') });
  });

  it('refuses a token that does not suit the state, when encoding and decoding', () => {
    expect(() => encodeLeaseHead(LeaseState.GRANTED, 0n)).toThrow(ConduitError);
    expect(() => encodeLeaseHead(LeaseState.HIT, 1n)).toThrow(ConduitError);
    expect(() => encodeLeaseHead(LeaseState.WAIT, 1n)).toThrow(ConduitError);
    const bad = ['00', '010000000000000000', '020000000000000001', '000000000000000001', '040000000000000000', '01000000000000000161', '02000000000000000061'];
    for (const hex of bad) expect(decodeLeaseAnswer(Buffer.from(hex, 'hex')), hex).toBeInstanceOf(ProtocolError);
  });
});

describe('TRACKING and LEASE requests, SET with a lease token (protocol 1.3)', () => {
  it('round-trip through the one encoder and the one reader', () => {
    const requests: Request[] = [
      { op: 'TRACKING', mode: TrackingMode.OFF },
      { op: 'TRACKING', mode: TrackingMode.KEYS },
      { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [Buffer.from('user:'), Buffer.alloc(0), Buffer.alloc(250, 7)] },
      { op: 'LEASE', key: Buffer.from('k'), leaseMs: 1, staleOk: false },
      { op: 'LEASE', key: key(1), leaseMs: 0xffff_ffff, staleOk: true },
      { op: 'SET', key: Buffer.from('k'), value: Buffer.from('v'), ttlMs: 5, nx: false, xx: false, keepTtl: false, leaseToken: 2n ** 64n - 1n },
    ];
    for (const request of requests) expect(roundTrip(request), request.op).toEqual(request);
  });

  it('the encoder refuses what the reader would refuse', () => {
    const bad: Request[] = [
      { op: 'TRACKING', mode: TrackingMode.KEYS, prefixes: [Buffer.from('a')] },
      { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [] },
      { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: Array.from({ length: 17 }, () => Buffer.from('a')) },
      { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [Buffer.alloc(251)] },
      { op: 'TRACKING', mode: 3 as 0 },
      { op: 'LEASE', key: Buffer.from('k'), leaseMs: 0, staleOk: false },
      { op: 'LEASE', key: Buffer.from('k'), leaseMs: 2 ** 32, staleOk: false },
      { op: 'LEASE', key: Buffer.alloc(0), leaseMs: 1, staleOk: false },
      { op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(0), ttlMs: 0, nx: true, xx: false, keepTtl: false, leaseToken: 1n },
      { op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(0), ttlMs: 0, nx: false, xx: false, keepTtl: false, version: 1n, leaseToken: 1n },
      { op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(0), ttlMs: 0, nx: false, xx: false, keepTtl: false, leaseToken: 2n ** 64n },
    ];
    for (const request of bad) expect(() => encodeRequestBody(request), JSON.stringify(request, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toThrow(ConduitError);
  });

  it('a plain SET after a lease SET reads token 0n: the view is refilled, not left over', () => {
    const view = new RequestView();
    const lease = encodeRequestBody({ op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(0), ttlMs: 0, nx: false, xx: false, keepTtl: false, leaseToken: 9n });
    const plain = encodeRequestBody({ op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(0), ttlMs: 0, nx: false, xx: false, keepTtl: false });
    const a = Buffer.concat(lease.body);
    const b = Buffer.concat(plain.body);
    expect(readRequest(lease.opcode, a, 0, a.length, false, view)).toBeUndefined();
    expect(view.leaseToken).toBe(9n);
    expect(readRequest(plain.opcode, b, 0, b.length, false, view)).toBeUndefined();
    expect(view.leaseToken).toBe(0n);
    expect(requestOf(view)).not.toHaveProperty('leaseToken');
  });
});
