/**
 * fast-check properties of the codec, shared by the property tests (a fixed
 * number of runs in `npm test`) and `just fuzz` (as many runs as fit in
 * FUZZ_SECONDS).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  ConduitError,
  encodeRequest,
  encodeResponse,
  FrameDecoder,
  MAX_BODY_SIZE,
  MAX_CLIENT_ID,
  MAX_KEY_SIZE,
  MAX_TTL_MS,
  parseRequest,
  ProtocolError,
  Status,
  type Frame,
  type Request,
} from '../../src/index.js';

/**
 * Bytes of `min` to `max` length. fast-check keeps lengths near 10 unless told
 * a size, so ranges that must reach the frame cap say 'max'.
 */
const buf = (min: number, max: number, size: fc.SizeForArbitrary = 'medium'): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: min, maxLength: max, size }).map((a) => Buffer.from(a));
const key = buf(1, MAX_KEY_SIZE);
const ttl = fc.oneof(fc.constant(0), fc.constant(MAX_TTL_MS), fc.integer({ min: 0, max: MAX_TTL_MS }));
export const clientId = fc.bigInt({ min: 0n, max: MAX_CLIENT_ID });

/** Every valid request, with bodies biased small but reaching the frame cap. */
export const requestArb: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ op: fc.constantFrom('GET' as const, 'DELETE' as const, 'TTL' as const, 'GETS' as const), key }),
  fc.record({ op: fc.constant('GAT' as const), key, ttlMs: ttl }),
  // spec §3.11: SET with CAS, a version anywhere in 1..2^64-1 (XX and KEEPTTL may go with it, NX may not).
  fc
    .record({ key, value: buf(0, 300), ttlMs: ttl, xx: fc.boolean(), keepTtl: fc.boolean(), version: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }) })
    .map(({ key: k, value, ttlMs, xx, keepTtl, version }): Request => ({ op: 'SET', key: k, value, ttlMs: keepTtl ? 0 : ttlMs, nx: false, xx, keepTtl, version })),
  fc
    .record({
      key,
      value: fc.oneof({ weight: 5, arbitrary: buf(0, 300) }, { weight: 1, arbitrary: buf(0, MAX_BODY_SIZE - 256, 'max') }),
      ttlMs: ttl,
      cond: fc.constantFrom('none', 'nx', 'xx'),
      keepTtl: fc.boolean(),
    })
    .map(
      ({ key: k, value, ttlMs, cond, keepTtl }): Request => ({
        op: 'SET',
        key: k,
        value,
        ttlMs: keepTtl ? 0 : ttlMs,
        nx: cond === 'nx',
        xx: cond === 'xx',
        keepTtl,
      }),
    ),
  fc.record({ op: fc.constant('LIST' as const), prefix: buf(0, MAX_KEY_SIZE), limit: fc.integer({ min: 1, max: 0xffff }) }),
  fc.record({
    op: fc.constant('SCAN' as const),
    cursor: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    count: fc.integer({ min: 1, max: 0xffff }),
    prefix: buf(0, MAX_KEY_SIZE),
  }),
  fc.record({ op: fc.constant('RENEW' as const), key, ttlMs: ttl }),
  // spec §2.5 (protocol 1.1): quiet writes, OPCODE bit 6 on SET, DELETE and RENEW.
  fc
    .record({ op: fc.constantFrom('SET' as const, 'DELETE' as const, 'RENEW' as const), key, value: buf(0, 300), ttlMs: ttl, nx: fc.boolean() })
    .map(({ op, key: k, value, ttlMs, nx }): Request =>
      op === 'SET'
        ? { op, key: k, value, ttlMs, nx, xx: false, keepTtl: false, quiet: true }
        : op === 'DELETE'
          ? { op, key: k, quiet: true }
          : { op, key: k, ttlMs, quiet: true },
    ),
  fc.record({
    op: fc.constant('INCR' as const),
    key,
    delta: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    ttlMs: ttl,
  }),
  fc.record({ op: fc.constantFrom('HEALTH' as const, 'SHUTDOWN' as const, 'STATS' as const, 'FLUSH' as const) }),
);

const statusArb = fc.constantFrom(...Object.values(Status));

/** Cut points for a stream of `length` bytes, turned into chunks. */
function cut(stream: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of sorted) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

/** Drains a decoder after each push; throws if it breaks its contract. */
function drain(chunks: Buffer[], direction: 'request' | 'response'): { frames: Frame[]; error?: ProtocolError } {
  const decoder = new FrameDecoder({ direction });
  const frames: Frame[] = [];
  let error: ProtocolError | undefined;
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
      if (error !== undefined) throw new Error('decoder yielded after its error');
      if (item instanceof ProtocolError) error = item;
      else frames.push({ ...item, body: Buffer.from(item.body) });
    }
  }
  return error === undefined ? { frames } : { frames, error };
}

const sameBytes = (a: Buffer, b: Buffer): boolean => a.equals(b);

/** The codec's properties by name. */
export const codecProperties: Record<string, fc.IProperty<unknown[]>> = {
  'request round trip': fc.property(clientId, requestArb, (id, request) => {
    const { frames, error } = drain([Buffer.concat(encodeRequest(id, request))], 'request');
    if (error !== undefined || frames.length !== 1) return false;
    const frame = frames[0] as Frame;
    const parsed = parseRequest(frame);
    return frame.id === id && isDeepStrictEqual(parsed, { ...request });
  }),

  'response round trip': fc.property(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    statusArb,
    fc.oneof({ weight: 5, arbitrary: buf(0, 200) }, { weight: 1, arbitrary: buf(0, MAX_BODY_SIZE, 'max') }),
    (id, status, body) => {
      const { frames, error } = drain([Buffer.concat(encodeResponse(id, status, body))], 'response');
      const frame = frames[0];
      return error === undefined && frames.length === 1 && frame !== undefined &&
        frame.id === id && frame.opcode === status && sameBytes(frame.body, body);
    },
  ),

  'any chunking of a valid stream decodes to the same frames': fc.property(
    fc.array(fc.tuple(clientId, requestArb), { minLength: 1, maxLength: 20 }),
    fc.array(fc.nat(), { maxLength: 40 }),
    (requests, points) => {
      const stream = Buffer.concat(requests.flatMap(([id, r]) => encodeRequest(id, r)));
      const whole = drain([stream], 'request');
      const split = drain(cut(stream, points), 'request');
      return (
        whole.error === undefined &&
        split.error === undefined &&
        split.frames.length === requests.length &&
        split.frames.every((f, i) => {
          const w = whole.frames[i] as Frame;
          return f.id === w.id && f.opcode === w.opcode && sameBytes(f.body, w.body);
        })
      );
    },
  ),

  'arbitrary bytes never throw and end in frames or one typed error': fc.property(
    fc.oneof(
      buf(0, 2_000),
      fc.uint8Array({ maxLength: 64 }).map((head) => Buffer.concat([Buffer.from([0x01]), Buffer.from(head)])),
    ),
    fc.array(fc.nat(), { maxLength: 20 }),
    fc.constantFrom('request' as const, 'response' as const),
    (bytes, points, direction) => {
      const { frames, error } = drain(cut(bytes, points), direction);
      for (const frame of frames) if (direction === 'request') parseRequest(frame); // must not throw
      return error === undefined || (error instanceof ProtocolError && error.fatal && error.status !== undefined);
    },
  ),

  'mutated valid streams never throw': fc.property(
    fc.array(fc.tuple(clientId, requestArb), { minLength: 1, maxLength: 8 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 10 }),
    (requests, flips, points) => {
      const stream = Buffer.concat(requests.flatMap(([id, r]) => encodeRequest(id, r)));
      for (const [at, value] of flips) stream[at % stream.length] = value;
      const { frames, error } = drain(cut(stream, points), 'request');
      const parsed = frames.map((f) => parseRequest(f));
      return (
        (error === undefined || error.fatal) &&
        parsed.every((p) => !(p instanceof ProtocolError) || (!p.fatal && p.status !== undefined))
      );
    },
  ),

  'encoders reject keys outside 1..250 bytes and bodies over the cap': fc.property(
    fc.oneof(buf(0, 0), buf(MAX_KEY_SIZE + 1, 400, 'max')),
    buf(MAX_BODY_SIZE - 6, MAX_BODY_SIZE + 10, 'max'),
    (badKey, bigValue) => {
      const rejects = (f: () => unknown, code: string): boolean => {
        try {
          f();
          return false;
        } catch (err) {
          return err instanceof ConduitError && err.code === code;
        }
      };
      return (
        rejects(() => encodeRequest(1n, { op: 'GET', key: badKey }), 'BAD_REQUEST') &&
        rejects(
          () =>
            encodeRequest(1n, { op: 'SET', key: Buffer.from('k'), value: bigValue, ttlMs: 0, nx: false, xx: false, keepTtl: false }),
          'TOO_LARGE',
        )
      );
    },
  ),
};
