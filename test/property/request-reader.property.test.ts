// The server reads every frame of a connection into one reused RequestView
// (issue 17): a field left over from an earlier request must never show
// through. Each request of a random sequence, read into one shared view,
// must describe exactly what a fresh parse of the same bytes gives, and
// running it must touch the store as running that parse does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRequestBody, parseRequestParts, requestOf, viewOf } from '../../src/protocol/messages.js';
import { readRequest, RequestView } from '../../src/protocol/request-reader.js';
import { ProtocolError, Store } from '../../src/index.js';
import { requestArb } from './codec.properties.js';

/** A request's opcode and body as the wire carries them, or any bytes at all under any opcode. */
const wireArb = fc.oneof(
  requestArb.map((request) => {
    const { opcode, body } = encodeRequestBody(request);
    return { opcode, body: Buffer.concat(body) };
  }),
  fc.record({ opcode: fc.integer({ min: 0, max: 0x7f }), body: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }),
);

describe('RequestView reuse', () => {
  it('one view read again and again describes each request as a fresh parse does', () => {
    fc.assert(
      fc.property(fc.array(wireArb, { minLength: 1, maxLength: 30 }), (frames) => {
        const shared = new RequestView();
        for (const { opcode, body } of frames) {
          const fresh = parseRequestParts(opcode, body, false);
          const error = readRequest(opcode, body, 0, body.length, false, shared);
          if (fresh instanceof ProtocolError) {
            expect(error?.message).toBe(fresh.message);
            expect(error?.status).toBe(fresh.status);
          } else {
            expect(error).toBeUndefined();
            expect(requestOf(shared)).toEqual(fresh);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('viewOf then requestOf gives the request back', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        expect(requestOf(viewOf(request, new RequestView()))).toEqual(request);
      }),
      { numRuns: 150 },
    );
  });
});

describe('Store.getAt / setAt: a key and value by their position in a buffer', () => {
  it('store and read what set and get do, from anywhere inside a larger buffer', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 250 }),
        fc.uint8Array({ maxLength: 2_000 }),
        fc.nat({ max: 40 }),
        fc.nat({ max: 40 }),
        (key, value, before, after) => {
          const store = new Store({ maxMemory: 4 * 1024 * 1024, shards: 4, activeExpiry: false });
          const source = Buffer.concat([Buffer.alloc(before, 0xee), key, value, Buffer.alloc(after, 0xdd)]);
          const outcome = store.setAt(source, before, key.length, source, before + key.length, value.length, {});
          expect(outcome).toBe('stored');
          expect(store.get(Buffer.from(key))).toEqual(Buffer.from(value));
          expect(store.getAt(source, before, key.length)).toEqual(Buffer.from(value));
          expect(store.getViewAt(source, before, key.length)).toEqual(Buffer.from(value));
          store.close();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse a key or value that is not inside its buffer, or a key outside 1–250 bytes, with BAD_REQUEST', () => {
    const store = new Store({ maxMemory: 4 * 1024 * 1024, shards: 1, activeExpiry: false });
    const source = Buffer.alloc(300, 0x61);
    const bad = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    bad(() => store.getAt(source, 295, 10));
    bad(() => store.getAt(source, -1, 4));
    bad(() => store.getViewAt(source, 0, 0));
    bad(() => store.getAt(source, 0, 251));
    bad(() => store.setAt(source, 0, 4, source, 290, 11, {}));
    bad(() => store.setAt(source, 0, 4, source, -2, 1, {}));
    expect(store.stats().curr_items).toBe(0);
    store.close();
  });
});
