import { describe, expect, it } from 'vitest';
import {
  decodeI64,
  decodeListBody,
  encodeRequest,
  SERVER_ID_BASE,
  Status,
  type Frame,
  type ListResult,
  type Request,
} from '../../src/index.js';
import { chunkings } from '../support/chunking.js';
import { vectors } from '../support/vectors.js';
import { rawClient, startServer } from '../support/server.js';

const b = (s: string): Buffer => Buffer.from(s);
const req = (id: bigint, r: Request): Buffer => Buffer.concat(encodeRequest(id, r));
const set = (id: bigint, key: string, value: string | Buffer, extra: Partial<Extract<Request, { op: 'SET' }>> = {}): Buffer =>
  req(id, { op: 'SET', key: b(key), value: typeof value === 'string' ? b(value) : value, ttlMs: 0, nx: false, xx: false, keepTtl: false, ...extra });
const summary = (f: Frame): [string, number, string] => [String(f.id), f.opcode, f.body.toString('hex')];

describe('every opcode end to end (spec §3)', () => {
  it('answers each with the status and body the spec defines', async () => {
    const { port } = await startServer({ allowShutdown: false });
    const c = await rawClient(port);
    c.write([
      set(1n, 'greeting', 'hello'),
      req(2n, { op: 'GET', key: b('greeting') }),
      req(3n, { op: 'GET', key: b('missing') }),
      set(4n, 'greeting', 'x', { nx: true }),
      req(5n, { op: 'RENEW', key: b('greeting'), ttlMs: 60_000 }),
      req(6n, { op: 'TTL', key: b('greeting') }),
      req(7n, { op: 'INCR', key: b('n'), delta: 41n, ttlMs: 0 }),
      req(8n, { op: 'INCR', key: b('n'), delta: 1n, ttlMs: 0 }),
      req(9n, { op: 'INCR', key: b('greeting'), delta: 1n, ttlMs: 0 }),
      req(10n, { op: 'LIST', prefix: b('gr'), limit: 10 }),
      req(11n, { op: 'DELETE', key: b('greeting') }),
      req(12n, { op: 'DELETE', key: b('greeting') }),
      req(13n, { op: 'HEALTH' }),
      req(14n, { op: 'STATS' }),
      req(15n, { op: 'SHUTDOWN' }),
      req(16n, { op: 'FLUSH' }),
      req(17n, { op: 'GET', key: b('n') }),
      req(18n, { op: 'TTL', key: b('n') }),
      req(19n, { op: 'HELLO', body: Buffer.alloc(34) }),
    ]);
    await c.waitFrames(19);
    const byId = new Map(c.frames.map((f) => [f.id, f]));
    const status = (id: bigint): number | undefined => byId.get(id)?.opcode;
    expect(c.frames.map((f) => f.id)).toEqual(Array.from({ length: 19 }, (_, i) => BigInt(i + 1)));
    expect([status(1n), status(3n), status(4n), status(5n)]).toEqual([Status.OK, Status.NOT_FOUND, Status.NOT_STORED, Status.OK]);
    expect(byId.get(2n)?.body.toString()).toBe('hello');
    const ttl = decodeI64(byId.get(6n)?.body ?? Buffer.alloc(0));
    expect(ttl).toBeGreaterThan(59_000n);
    expect(decodeI64(byId.get(8n)?.body ?? Buffer.alloc(0))).toBe(42n);
    expect(status(9n)).toBe(Status.NOT_INTEGER);
    expect((decodeListBody(byId.get(10n)?.body ?? Buffer.alloc(0)) as ListResult).keys.map(String)).toEqual(['greeting']);
    expect([status(11n), status(12n), status(13n), status(14n)]).toEqual([Status.OK, Status.NOT_FOUND, Status.OK, Status.OK]);
    const stats = JSON.parse(byId.get(14n)?.body.toString() ?? '{}') as Record<string, unknown>;
    expect(stats).toMatchObject({ curr_items: 1, keyspace_hits: 1, keyspace_misses: 1, connected_clients: 1 });
    expect([status(15n), status(16n), status(17n), status(18n), status(19n)]).toEqual([
      Status.FORBIDDEN, Status.OK, Status.NOT_FOUND, Status.NOT_FOUND, Status.FORBIDDEN,
    ]);
    expect(c.closed).toBe(false);
  });
});

/** A mixed stream of `n` requests that touch every kind of answer. */
function mixedStream(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i += 1) {
    const id = BigInt(i);
    switch (i % 5) {
      case 0: parts.push(set(id, `k${i % 100}`, `v${i}`)); break;
      case 1: parts.push(req(id, { op: 'GET', key: b(`k${(i * 7) % 100}`) })); break;
      case 2: parts.push(req(id, { op: 'INCR', key: b('counter'), delta: 1n, ttlMs: 0 })); break;
      case 3: parts.push(req(id, { op: 'DELETE', key: b(`k${(i * 3) % 100}`) })); break;
      default: parts.push(req(id, { op: 'HEALTH' }));
    }
  }
  return Buffer.concat(parts);
}

describe('pipelining and ordering (spec §2.3)', () => {
  it('10,000 pipelined requests in one write come back in order with matching identifiers', async () => {
    const { port } = await startServer();
    const c = await rawClient(port);
    c.write(mixedStream(10_000));
    await c.waitFrames(10_000, 20_000);
    expect(c.frames.map((f) => f.id)).toEqual(Array.from({ length: 10_000 }, (_, i) => BigInt(i)));
    expect(decodeI64(c.frames[9_997]?.body ?? Buffer.alloc(0))).toBe(2_000n);
  });

  it('the same stream written one byte at a time gives identical responses', async () => {
    const stream = mixedStream(10_000);
    const whole = await (async () => {
      const { port } = await startServer();
      const c = await rawClient(port);
      c.write(stream);
      await c.waitFrames(10_000, 20_000);
      return c.frames.map(summary);
    })();
    const { port } = await startServer();
    const c = await rawClient(port);
    await c.writeByteByByte(stream);
    await c.waitFrames(10_000, 30_000);
    expect(c.frames.map(summary)).toEqual(whole);
  }, 60_000);

  it('a pipeline split at every offset gives identical responses', async () => {
    const stream = mixedStream(12);
    const { port } = await startServer();
    const reference = await rawClient(port);
    reference.write(stream);
    await reference.waitFrames(12);
    const expected = reference.frames.map((f) => [String(f.id), f.opcode]);
    for (const { name, chunks } of chunkings(stream).slice(2)) {
      const { port: p } = await startServer();
      const c = await rawClient(p);
      for (const chunk of chunks) {
        c.write(chunk);
        await new Promise((r) => setTimeout(r, 1));
      }
      await c.waitFrames(12);
      expect(c.frames.map((f) => [String(f.id), f.opcode]), name).toEqual(expected);
    }
  }, 60_000);
});

describe('malformed input against a live server (spec §7)', () => {
  for (const v of vectors.malformed.filter((m) => m.direction === 'request')) {
    it(`${v.name}: ${v.error.code}, ${v.error.fatal ? 'closed' : 'stays open'}; another connection is still served`, async () => {
      const { port } = await startServer();
      const bad = await rawClient(port);
      const bystander = await rawClient(port);
      bad.write(Buffer.from(v.hex, 'hex'));
      if (v.stage === 'end') bad.socket.end();
      if (v.stage === 'end') {
        await bad.waitClosed();
        expect(bad.frames).toHaveLength(v.framesBefore); // nothing answers the partial frame
      } else if (v.error.fatal) {
        await bad.waitClosed();
        expect(bad.frames).toHaveLength(v.framesBefore + 1);
        const error = bad.frames.at(-1) as Frame;
        expect(error.opcode).toBe(v.error.status);
        expect(error.id).toBe(SERVER_ID_BASE); // spec §4.2: server-originated identifier
        expect(bad.error).toBeUndefined(); // a clean close, not a reset
      } else {
        await bad.waitFrames(1);
        const frame = bad.frames[0] as Frame;
        expect(frame.opcode).toBe(v.error.status);
        expect(frame.id.toString(16)).toBe(v.hex.slice(8, 24).replace(/^0+(?=.)/, ''));
        bad.write(req(99n, { op: 'HEALTH' }));
        await bad.waitFrames(2);
        expect(bad.frames[1]?.opcode).toBe(Status.OK);
        expect(bad.closed).toBe(false);
      }
      bystander.write(req(1n, { op: 'HEALTH' }));
      await bystander.waitFrames(1);
      expect(bystander.frames[0]?.opcode).toBe(Status.OK);
    });
  }

  it('answers the requests before a fatal error, then the error, then closes', async () => {
    const { port } = await startServer();
    const c = await rawClient(port);
    c.write([set(1n, 'a', '1'), req(2n, { op: 'GET', key: b('a') }), Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
    await c.waitClosed();
    expect(c.frames.map((f) => [f.id, f.opcode])).toEqual([[1n, Status.OK], [2n, Status.OK], [SERVER_ID_BASE, Status.BAD_VERSION]]);
  });

  it('REPLAY: an identifier equal to one still in flight is fatal (spec §2.2)', async () => {
    const { port } = await startServer();
    const c = await rawClient(port);
    c.write([req(5n, { op: 'HEALTH' }), req(5n, { op: 'HEALTH' })]);
    await c.waitClosed();
    expect(c.frames.map((f) => [f.id, f.opcode])).toEqual([[5n, Status.OK], [SERVER_ID_BASE, Status.REPLAY]]);
  });

  it('reusing an identifier after its response was written is allowed', async () => {
    const { port } = await startServer();
    const c = await rawClient(port);
    c.write(req(5n, { op: 'HEALTH' }));
    await c.waitFrames(1);
    c.write(req(5n, { op: 'HEALTH' }));
    await c.waitFrames(2);
    expect(c.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.OK]);
  });

  it('a body at the cap is served; a key of 251 bytes or an oversize SET stores nothing', async () => {
    const { port, server } = await startServer();
    const c = await rawClient(port);
    const max = Buffer.alloc(65_524 - 6 - 1, 0x41);
    c.write([set(1n, 'k', max), req(2n, { op: 'GET', key: b('k') })]);
    c.write(Buffer.from(`0100${(251).toString(16).padStart(4, '0')}0000000000000003${'6b'.repeat(251)}`, 'hex'));
    await c.waitFrames(3);
    expect(c.frames[1]?.body.equals(max)).toBe(true);
    expect(c.frames[2]?.opcode).toBe(Status.BAD_REQUEST);
    expect(server.store.stats().curr_items).toBe(1);
  });
});
