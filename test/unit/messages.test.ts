import { describe, expect, it } from 'vitest';
import {
  ConduitError,
  decodeI64,
  decodeListBody,
  decodeScanBody,
  encodeError,
  encodeI64,
  encodeListBody,
  encodeScanBody,
  encodeRequest,
  encodeResponse,
  MAX_BODY_SIZE,
  ProtocolError,
  SERVER_ID_BASE,
  Status,
  type Request,
} from '../../src/index.js';

const key = Buffer.from('k');

describe('encodeRequest rejects invalid input with a ConduitError', () => {
  const cases: [string, bigint, Request, string][] = [
    ['empty key', 1n, { op: 'GET', key: Buffer.alloc(0) }, 'BAD_REQUEST'],
    ['251-byte key', 1n, { op: 'DELETE', key: Buffer.alloc(251) }, 'BAD_REQUEST'],
    ['server-range identifier', SERVER_ID_BASE, { op: 'HEALTH' }, 'BAD_REQUEST'],
    ['negative identifier', -1n, { op: 'HEALTH' }, 'BAD_REQUEST'],
    [
      'value over the frame cap',
      1n,
      { op: 'SET', key, value: Buffer.alloc(MAX_BODY_SIZE - 6), ttlMs: 0, nx: false, xx: false, keepTtl: false },
      'TOO_LARGE',
    ],
    ['nx with xx', 1n, { op: 'SET', key, value: key, ttlMs: 0, nx: true, xx: true, keepTtl: false }, 'BAD_REQUEST'],
    ['keepTtl with ttl', 1n, { op: 'SET', key, value: key, ttlMs: 5, nx: false, xx: false, keepTtl: true }, 'BAD_REQUEST'],
    ['ttl over u32', 1n, { op: 'RENEW', key, ttlMs: 2 ** 32 }, 'BAD_REQUEST'],
    ['fractional ttl', 1n, { op: 'RENEW', key, ttlMs: 1.5 }, 'BAD_REQUEST'],
    ['delta over i64', 1n, { op: 'INCR', key, delta: 1n << 63n, ttlMs: 0 }, 'BAD_REQUEST'],
    ['LIST limit 0', 1n, { op: 'LIST', prefix: Buffer.alloc(0), limit: 0 }, 'BAD_REQUEST'],
    ['LIST prefix of 251 bytes', 1n, { op: 'LIST', prefix: Buffer.alloc(251), limit: 1 }, 'BAD_REQUEST'],
    ['SET version below 0', 1n, { op: 'SET', key, value: key, ttlMs: 0, nx: false, xx: false, keepTtl: false, version: -1n }, 'BAD_REQUEST'],
    ['SET version over u64', 1n, { op: 'SET', key, value: key, ttlMs: 0, nx: false, xx: false, keepTtl: false, version: 1n << 64n }, 'BAD_REQUEST'],
    ['SET version with nx', 1n, { op: 'SET', key, value: key, ttlMs: 0, nx: true, xx: false, keepTtl: false, version: 7n }, 'BAD_REQUEST'],
    ['SCAN count 0', 1n, { op: 'SCAN', cursor: 0n, count: 0, prefix: Buffer.alloc(0) }, 'BAD_REQUEST'],
    ['SCAN count over u16', 1n, { op: 'SCAN', cursor: 0n, count: 0x10000, prefix: Buffer.alloc(0) }, 'BAD_REQUEST'],
    ['SCAN cursor over u64', 1n, { op: 'SCAN', cursor: 1n << 64n, count: 1, prefix: Buffer.alloc(0) }, 'BAD_REQUEST'],
    ['SCAN prefix of 251 bytes', 1n, { op: 'SCAN', cursor: 0n, count: 1, prefix: Buffer.alloc(251) }, 'BAD_REQUEST'],
  ];
  for (const [name, id, request, code] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        encodeRequest(id, request);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConduitError);
      expect((caught as ConduitError).code).toBe(code);
    });
  }

  it('encodes a SET with version 0n as one without a version: the 1.0 frame, no CAS flag (spec §3.11)', () => {
    const plain = { op: 'SET', key, value: key, ttlMs: 0, nx: true, xx: false, keepTtl: false } as const;
    const bytes = Buffer.concat(encodeRequest(1n, plain));
    expect(Buffer.concat(encodeRequest(1n, { ...plain, version: 0n }))).toEqual(bytes);
    expect(bytes.length).toBe(12 + 6 + 2); // header, flags + ttl + key length, key, value
  });

  it('accepts the largest value that fits', () => {
    const value = Buffer.alloc(MAX_BODY_SIZE - 7);
    const parts = encodeRequest(1n, { op: 'SET', key, value, ttlMs: 0, nx: false, xx: false, keepTtl: false });
    expect(parts[1]).toBe(value); // the value is written as given, not copied
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(65_536);
  });
});

describe('response bodies', () => {
  it('round-trips i64 bodies at the range ends', () => {
    for (const n of [-(1n << 63n), -1n, 0n, (1n << 63n) - 1n]) expect(decodeI64(encodeI64(n))).toBe(n);
    expect(decodeI64(Buffer.alloc(7))).toBeInstanceOf(ProtocolError);
  });

  it('round-trips LIST bodies and rejects malformed ones', () => {
    const keys = [Buffer.from('a'), Buffer.alloc(250, 0xff)];
    const decoded = decodeListBody(encodeListBody(keys, true));
    expect(decoded).toEqual({ keys, truncated: true });
    expect(decodeListBody(Buffer.alloc(0))).toBeInstanceOf(ProtocolError);
    expect(decodeListBody(Buffer.from([2]))).toBeInstanceOf(ProtocolError);
    expect(decodeListBody(Buffer.from([0, 3, 0x61]))).toBeInstanceOf(ProtocolError);
    expect(decodeListBody(Buffer.from([0, 0]))).toBeInstanceOf(ProtocolError);
  });

  it('round-trips SCAN bodies and rejects malformed ones', () => {
    const keys = [Buffer.from('a'), Buffer.alloc(250, 0xff)];
    expect(decodeScanBody(encodeScanBody(0xffff_ffff_ffff_ffffn, keys))).toEqual({ cursor: 0xffff_ffff_ffff_ffffn, keys });
    expect(decodeScanBody(encodeScanBody(0n, []))).toEqual({ cursor: 0n, keys: [] });
    expect(decodeScanBody(Buffer.alloc(7))).toBeInstanceOf(ProtocolError);
    expect(decodeScanBody(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 3, 0x61]))).toBeInstanceOf(ProtocolError);
    expect(decodeScanBody(Buffer.alloc(9))).toBeInstanceOf(ProtocolError); // a key of 0 bytes
  });

  it('cuts an over-long error message to fit a frame', () => {
    const parts = encodeError(1n, Status.INTERNAL, 'x'.repeat(70_000));
    expect(parts[1]?.length).toBe(MAX_BODY_SIZE);
  });

  it('writes a response body without copying it', () => {
    const body = Buffer.from('value');
    const [, written] = encodeResponse(1n, Status.OK, body);
    expect(written?.buffer).toBe(body.buffer);
  });
});

describe('ConduitError', () => {
  it('maps status bytes to stable codes', () => {
    expect(ConduitError.fromStatus(0x42, 'm').code).toBe('NOT_INTEGER');
    expect(ConduitError.fromStatus(0x42, 'm').status).toBe(0x42);
    expect(ConduitError.fromStatus(0x99, 'm').code).toBe('UNKNOWN_STATUS');
    expect(ConduitError.fromStatus(0x00, 'm').code).toBe('UNKNOWN_STATUS');
  });

  it('marks 0x60–0x6F fatal and the rest not', () => {
    expect(ProtocolError.of('REPLAY', 'x').fatal).toBe(true);
    expect(ProtocolError.of('BUSY', 'x').fatal).toBe(false);
    expect(ProtocolError.of('INTERNAL', 'x').fatal).toBe(false);
  });
});
