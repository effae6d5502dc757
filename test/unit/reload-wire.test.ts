import { describe, expect, it } from 'vitest';
import { decodeCapsBody, encodeRequest, Feature, Opcode, ProtocolError, QUIET_BIT, Status, type Frame } from '../../src/index.js';
import { encodeRequestBody, parseRequest, parseRequestParts } from '../../src/protocol/messages.js';
import { readRequest, RequestView } from '../../src/protocol/request-reader.js';
import { ACCESS_NEEDS } from '../../src/protocol/access.js';
import { chunkings, decode } from '../support/chunking.js';

/** RELOAD on the wire (spec §3.17, protocol 1.4): opcode 0x14, an empty body, admin. */
describe('RELOAD request (spec §3.17, protocol 1.4)', () => {
  const frame = Buffer.from('011400000000000000000050', 'hex'); // spec §9.7

  it('is opcode 0x14 with feature bit 7, and needs admin', () => {
    expect(Opcode.RELOAD).toBe(0x14);
    expect(Feature.RELOAD).toBe(0x80);
    expect(ACCESS_NEEDS.RELOAD).toEqual({ classes: ['admin'], keys: 'none', orAdmin: false });
  });

  it('encodes to an empty body and reads back, fed whole, byte by byte and at every split', () => {
    expect(Buffer.concat(encodeRequest(0x50n, { op: 'RELOAD' })).equals(frame)).toBe(true);
    const { opcode, body } = encodeRequestBody({ op: 'RELOAD' });
    expect(opcode).toBe(Opcode.RELOAD);
    expect(Buffer.concat(body).length).toBe(0);
    for (const { name, chunks } of chunkings(frame)) {
      const { frames, error } = decode(chunks, 'request');
      expect(error, name).toBeUndefined();
      expect(frames, name).toHaveLength(1);
      expect(parseRequest(frames[0] as Frame), name).toEqual({ op: 'RELOAD' });
    }
  });

  it('refuses a body with BAD_REQUEST (not fatal), fed whole and byte by byte', () => {
    for (const length of [1, 2, 100]) {
      const bytes = Buffer.concat([Buffer.from([0x01, Opcode.RELOAD, 0, length, 0, 0, 0, 0, 0, 0, 0, 0x53]), Buffer.alloc(length)]);
      for (const { name, chunks } of chunkings(bytes).slice(0, 2)) {
        const { frames, error } = decode(chunks, 'request');
        expect(error, name).toBeUndefined();
        const parsed = parseRequest(frames[0] as Frame);
        expect(parsed, name).toBeInstanceOf(ProtocolError);
        expect((parsed as ProtocolError).code).toBe('BAD_REQUEST');
        expect((parsed as ProtocolError).fatal).toBe(false);
        expect((parsed as ProtocolError).message).toBe(`RELOAD takes an empty body, got ${length} bytes`);
      }
    }
  });

  it('refuses QUIET on RELOAD with BAD_REQUEST, as on every operation that is not a write', () => {
    const error = readRequest(Opcode.RELOAD | QUIET_BIT, Buffer.alloc(0), 0, 0, false, new RequestView());
    expect(error?.code).toBe('BAD_REQUEST');
    expect(error?.status).toBe(Status.BAD_REQUEST);
  });

  it('reads into a reused view without touching its key', () => {
    const view = new RequestView();
    expect(readRequest(Opcode.GET, Buffer.from('k'), 0, 1, false, view)).toBeUndefined();
    expect(readRequest(Opcode.RELOAD, Buffer.alloc(4), 2, 0, false, view)).toBeUndefined();
    expect(view.op).toBe('RELOAD');
    expect(parseRequestParts(Opcode.RELOAD, Buffer.alloc(0), false)).toEqual({ op: 'RELOAD' });
  });

  it('a 1.4 CAPS answer decodes with minor 4 and bit 7 (spec §9.7)', () => {
    expect(decodeCapsBody(Buffer.from('0400000000ff00100000', 'hex'))).toEqual({ minor: 4, features: 0xff, maxValueSize: 1_048_576 });
  });
});
