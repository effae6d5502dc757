import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { HEADER_SIZE, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { encodeRequest, encodeRequestBody, encodeResponse, type Request } from '../../src/protocol/messages.js';
import { JOIN_LIMIT, OutputBatch, frameBytes, type FrameBody } from '../../src/protocol/output-batch.js';

/** A sink that records every write and cork, and can refuse more (write returns false). */
function recordingSink(accept = true) {
  const writes: Buffer[] = [];
  let corked = 0;
  let uncorked = 0;
  return {
    writes,
    get corked() {
      return corked;
    },
    get uncorked() {
      return uncorked;
    },
    write(chunk: Buffer, done?: () => void): boolean {
      writes.push(Buffer.from(chunk));
      done?.();
      return accept;
    },
    cork(): void {
      corked += 1;
    },
    uncork(): void {
      uncorked += 1;
    },
  };
}

const bodyArb: fc.Arbitrary<FrameBody> = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.array(fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)), { maxLength: 3 }),
);

describe('OutputBatch (spec §5.1: one write per batch)', () => {
  it('writes the same bytes as framing each frame alone, joined or corked', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), bodyArb), { minLength: 1, maxLength: 20 }), fc.boolean(), (frames, large) => {
        const batch = new OutputBatch(VERSION_RESPONSE);
        const expected: Buffer[] = [];
        for (const [code, id, body] of frames) {
          expect(batch.push(code, id, body)).toBe(frameBytes(VERSION_RESPONSE, code, id, body).length);
          expected.push(frameBytes(VERSION_RESPONSE, code, id, body));
        }
        if (large) {
          // Past JOIN_LIMIT the batch is corked: the bytes must not change.
          const big = Buffer.alloc(JOIN_LIMIT / 2);
          for (const id of [9n, 10n]) {
            batch.push(Status.OK, id, big);
            expected.push(frameBytes(VERSION_RESPONSE, Status.OK, id, big));
          }
        }
        const sink = recordingSink();
        let done = 0;
        batch.writeTo(sink, () => (done += 1));
        expect(Buffer.concat(sink.writes).equals(Buffer.concat(expected))).toBe(true);
        expect(done).toBe(1);
        expect(sink.writes.length === 1).toBe(!large);
        expect(sink.corked).toBe(large ? 1 : 0);
        expect(sink.uncorked).toBe(sink.corked);
        expect(batch.count).toBe(0);
        expect(batch.bytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('does not copy a large body: the value buffer itself is written', () => {
    const value = randomBytes(JOIN_LIMIT / 2 + 1);
    const sink = { writes: [] as Buffer[], write(c: Buffer) { this.writes.push(c); return true; }, cork() {}, uncork() {} };
    const batch = new OutputBatch(VERSION_RESPONSE);
    batch.push(Status.OK, 1n, value);
    batch.push(Status.OK, 2n, value);
    batch.writeTo(sink);
    expect(sink.writes).toContain(value);
  });

  it('returns what the last write returned, so a caller waits for drain', () => {
    const batch = new OutputBatch(VERSION_REQUEST);
    batch.push(0x05, 1n, undefined);
    expect(batch.writeTo(recordingSink(false))).toBe(false);
    expect(batch.writeTo(recordingSink(false))).toBe(true); // empty: nothing written
  });

  it('knows which identifiers it holds, and forgets them when cleared', () => {
    const batch = new OutputBatch(VERSION_RESPONSE);
    batch.push(Status.OK, 5n, undefined);
    batch.push(Status.OK, 3n, Buffer.from('x'));
    expect(batch.includes(3n)).toBe(true);
    expect(batch.includes(5n)).toBe(true);
    expect(batch.includes(4n)).toBe(false);
    expect(batch.includes(6n)).toBe(false);
    expect(batch.clear()).toBe(2 * HEADER_SIZE + 1);
    expect(batch.includes(3n)).toBe(false);
  });

  it('frames requests as encodeRequest does, and responses as encodeResponse does', async () => {
    const requests: Request[] = [
      { op: 'GET', key: Buffer.from('k') },
      { op: 'SET', key: Buffer.from('key'), value: Buffer.from('value'), ttlMs: 5, nx: true, xx: false, keepTtl: false },
      { op: 'SET', key: Buffer.from('key'), value: Buffer.alloc(0), ttlMs: 0, nx: false, xx: false, keepTtl: true },
      { op: 'LIST', prefix: Buffer.from('p'), limit: 10 },
      { op: 'RENEW', key: Buffer.from('k'), ttlMs: 1 },
      { op: 'INCR', key: Buffer.from('k'), delta: -3n, ttlMs: 0 },
      { op: 'HEALTH' },
      { op: 'HELLO', body: Buffer.from('hi') },
    ];
    const batch = new OutputBatch(VERSION_REQUEST);
    requests.forEach((r, i) => {
      const { opcode, body } = encodeRequestBody(r);
      batch.push(opcode, BigInt(i + 1), body);
    });
    const stream = new PassThrough();
    batch.writeTo(stream);
    const written = stream.read() as Buffer;
    expect(written.equals(Buffer.concat(requests.flatMap((r, i) => encodeRequest(BigInt(i + 1), r))))).toBe(true);
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(written);
    for (let i = 0; i < requests.length; i += 1) expect(decoder.read()).toMatchObject({ id: BigInt(i + 1) });
    expect(frameBytes(VERSION_RESPONSE, Status.NOT_FOUND, 7n, Buffer.from('no')).equals(Buffer.concat(encodeResponse(7n, Status.NOT_FOUND, Buffer.from('no'))))).toBe(true);
  });

  it("'copy' mode: a body is copied when pushed, so changing it afterwards changes nothing written (issue 17)", () => {
    const value = Buffer.from('old-value');
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    batch.push(Status.OK, 1n, value);
    value.write('new-value'); // a later SET overwriting a slab chunk in place
    const big = randomBytes(JOIN_LIMIT / 2 + 1);
    batch.push(Status.OK, 2n, big);
    big.fill(0);
    const sink = recordingSink();
    batch.writeTo(sink);
    const decoder = new FrameDecoder({ direction: 'response' });
    decoder.push(Buffer.concat(sink.writes));
    expect((decoder.read() as { body: Buffer }).body.toString()).toBe('old-value');
    expect((decoder.read() as { body: Buffer }).body.every((b) => b === 0)).toBe(false);
  });

  it('never overwrites bytes a sink still holds: later batches go after them in the block, or in a new one', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 }), (turns) => {
        const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
        const held: Buffer[] = []; // what a socket keeps by reference until the kernel takes it
        const sink = { write: (c: Buffer) => (held.push(c), true), cork() {}, uncork() {} };
        const expected: Buffer[] = [];
        let id = 0n;
        for (const sizes of turns) {
          for (const size of sizes) {
            const body = Buffer.alloc(size, Number(id % 251n));
            batch.push(Status.OK, id, body);
            expected.push(frameBytes(VERSION_RESPONSE, Status.OK, id, body));
            id += 1n;
          }
          batch.writeTo(sink);
          if (sizes.length % 3 === 0) batch.release(); // idle now and then: a fresh block next turn
        }
        expect(Buffer.concat(held).equals(Buffer.concat(expected))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('pushFrame takes the identifier as u32 halves, and includesId finds it', () => {
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    batch.pushFrame(Status.OK, 0x8000_0001, 0xffff_fffe, undefined);
    expect(batch.includesId(0x8000_0001, 0xffff_fffe)).toBe(true);
    expect(batch.includes(0x8000_0001_ffff_fffen)).toBe(true);
    expect(batch.includesId(0x8000_0001, 0xffff_ffff)).toBe(false);
    expect(batch.includesId(0, 0xffff_fffe)).toBe(false);
    const sink = recordingSink();
    batch.writeTo(sink);
    expect(sink.writes[0]?.equals(frameBytes(VERSION_RESPONSE, Status.OK, 0x8000_0001_ffff_fffen, undefined))).toBe(true);
  });
});
