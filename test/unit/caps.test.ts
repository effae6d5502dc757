import { describe, expect, it } from 'vitest';
import {
  CAPS_BODY_SIZE,
  decodeCapsBody,
  encodeCapsBody,
  encodeRequest,
  Feature,
  Opcode,
  parseRequest,
  ProtocolError,
} from '../../src/index.js';
import { readHeader } from '../../src/protocol/header.js';
import { encodeRequestBody } from '../../src/protocol/messages.js';

describe('CAPS (spec §3.13)', () => {
  it('encodes the request as opcode 0x0E with features u32 and parses it back', () => {
    const bytes = Buffer.concat(encodeRequest(3n, { op: 'CAPS', features: Feature.FRAGMENTS }));
    expect(bytes.toString('hex')).toBe('010e0004' + '0000000000000003' + '00000001');
    const header = readHeader(bytes);
    expect(header.opcode).toBe(Opcode.CAPS);
    expect(parseRequest({ ...header, body: bytes.subarray(12) })).toEqual({ op: 'CAPS', features: 1 });
  });

  it('answers BAD_REQUEST (non-fatal) for a body that is not 4 bytes', () => {
    for (const length of [0, 3, 5]) {
      const result = parseRequest({ version: 1, opcode: Opcode.CAPS, length, id: 1n, body: Buffer.alloc(length) });
      expect(result).toBeInstanceOf(ProtocolError);
      expect((result as ProtocolError).code).toBe('BAD_REQUEST');
      expect((result as ProtocolError).fatal).toBe(false);
    }
  });

  it('refuses features outside u32 when encoding', () => {
    expect(() => encodeRequest(1n, { op: 'CAPS', features: 2 ** 32 })).toThrow(/features must be a u32/);
  });

  it('encodes and decodes the 10-byte answer: minor, reserved, features, max_value_size', () => {
    const body = encodeCapsBody({ minor: 1, features: 0x0f, maxValueSize: 1_048_576 });
    expect(body.toString('hex')).toBe('0100' + '0000000f' + '00100000');
    expect(body.length).toBe(CAPS_BODY_SIZE);
    expect(decodeCapsBody(body)).toEqual({ minor: 1, features: 0x0f, maxValueSize: 1_048_576 });
    const bad = decodeCapsBody(Buffer.alloc(9));
    expect(bad).toBeInstanceOf(ProtocolError);
    expect((bad as ProtocolError).code).toBe('BAD_REQUEST');
  });

  it('feature bits are the contract’s: fragments, versions, SCAN, quiet, topology (1.2, §3.14), tracking and leases (1.3, §3.15–3.16), RELOAD (1.4, §3.17)', () => {
    expect(Feature).toEqual({ FRAGMENTS: 1, VERSIONS: 2, SCAN: 4, QUIET: 8, TOPOLOGY: 16, TRACKING: 32, LEASES: 64, RELOAD: 128 });
  });

  it('encodeRequestBody takes a larger body limit for a client that fragments (spec §2.4)', () => {
    const request = { op: 'SET', key: Buffer.from('k'), value: Buffer.alloc(70_000), ttlMs: 0, nx: false, xx: false, keepTtl: false } as const;
    expect(() => encodeRequestBody(request)).toThrow(/limit of 65524/);
    const { opcode, body } = encodeRequestBody(request, 64 * 1024 * 1024 + 272);
    expect(opcode).toBe(Opcode.SET);
    expect(body[1]).toBe(request.value); // not copied
  });
});
