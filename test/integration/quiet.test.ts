// Quiet writes on real sockets (spec §2.5, protocol 1.1, issue 19 item 5): 100,000 quiet SETs
// with one failure in the middle, in plaintext, secure per-frame and secure envelope sessions;
// the fence; what the server sends; ConduitClient against scripted fake servers (a protocol 1.0
// server, a dropped connection, an answer out of order).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, encodeRequest, Opcode, QUIET_BIT, Status, type ClientOptions } from '../../src/index.js';
import { fakeServer, reply } from '../support/fake-server.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function client(port: number, options: ClientOptions = {}): ConduitClient {
  const c = new ConduitClient({ host: '127.0.0.1', port, requestTimeoutMs: 30_000, reconnect: false, ...options });
  clients.push(c);
  return c;
}

const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));

const N = 100_000;
const FAIL_AT = 50_000;

const modes: { name: string; secure: boolean; options: ClientOptions }[] = [
  { name: 'plaintext', secure: false, options: {} },
  { name: 'secure, sealed per frame', secure: true, options: { key, sealing: 'frames' } },
  { name: 'secure, sealed envelopes', secure: true, options: { key, sealing: 'envelopes' } },
];

describe('100,000 quiet SETs with one failure in the middle', () => {
  for (const mode of modes) {
    it(`${mode.name}: reports exactly that failure, and the fence resolves only after every write was applied`, async () => {
      const { server, port } = await startServer(mode.secure ? { keys: [key] } : {});
      const c = client(port, mode.options);
      expect(await c.set('taken', 'first')).toBe(true);
      const before = server.counters.quiet_suppressed;
      // Entry FAIL_AT is an NX SET on a key that exists: NOT_STORED, the one answer the batch gets but fences.
      const entries = (function* () {
        for (let i = 0; i < N; i += 1) yield i === FAIL_AT ? (['taken', 'second', { nx: true }] as const) : ([`k:${i}`, `v:${i}`] as const);
      })();
      const batch = c.setMany(entries, { quiet: true });
      // A fence of our own, made before the batch is done: when it resolves, the store holds every write.
      let appliedAtFence = -1;
      const fence = batch.then(() => c.health()).then(() => {
        appliedAtFence = server.store.stats().curr_items;
      });
      const results = await batch;
      await fence;
      expect(results).toHaveLength(N);
      const notTrue = results.flatMap((r, i) => (r === true ? [] : [[i, r instanceof ConduitError ? r.code : r]]));
      expect(notTrue).toEqual([[FAIL_AT, false]]);
      expect(appliedAtFence).toBe(N); // 'taken' and N − 1 others
      expect(server.counters.quiet_suppressed - before).toBe(N - 1);
      for (const i of [0, 1, FAIL_AT - 1, FAIL_AT + 1, N - 1]) expect(await c.getString(`k:${i}`)).toBe(`v:${i}`);
      expect(await c.getString('taken')).toBe('first');
    }, 120_000);
  }

  it('a HEALTH made in the same turn as 10,000 quiet SETs resolves only once the store holds all of them, and each quiet SET only once it is applied', async () => {
    const { server, port } = await startServer();
    const c = client(port, { maxQueued: 20_000 });
    await c.connect();
    const early: number[] = [];
    const writes = Array.from({ length: 10_000 }, (_, i) =>
      c.set(`q:${i}`, 'v', { quiet: true }).then((stored) => {
        if (!stored || server.store.get(Buffer.from(`q:${i}`)) === undefined) early.push(i);
      }),
    );
    const fence = c.health().then(() => server.store.stats().curr_items);
    expect(await fence).toBe(10_000);
    await Promise.all(writes);
    expect(early).toEqual([]);
  });

  it('a quiet SET the store refuses (OUT_OF_MEMORY, eviction off) is reported with that error, the others succeed', async () => {
    const { port } = await startServer({ maxMemory: 2 * 1024 * 1024, eviction: 'none' });
    const c = client(port);
    const big = Buffer.alloc(60_000, 1);
    const results = await c.setMany(
      Array.from({ length: 200 }, (_, i) => [`big:${i}`, big] as const),
      { quiet: true },
    );
    const stored = results.filter((r) => r === true).length;
    const refused = results.filter((r) => r instanceof ConduitError && r.code === 'OUT_OF_MEMORY').length;
    expect(stored).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(stored + refused).toBe(200);
    const stats = await c.stats();
    expect(stats.curr_items).toBe(stored);
  });
});

describe('quiet writes: the server side on the wire', () => {
  it('sends nothing for quiet writes that succeed, answers the ones that fail, and a HEALTH fence after them; /metrics counts the answers left out', async () => {
    const { port, httpPort } = await startServer({ httpPort: 0 });
    const raw = await rawClient(port);
    const q = { ttlMs: 0, xx: false, keepTtl: false, quiet: true };
    raw.write([
      ...encodeRequest(1n, { op: 'SET', key: Buffer.from('a'), value: Buffer.from('1'), nx: false, ...q }),
      ...encodeRequest(2n, { op: 'SET', key: Buffer.from('a'), value: Buffer.from('2'), nx: true, ...q }),
      ...encodeRequest(3n, { op: 'DELETE', key: Buffer.from('none'), quiet: true }),
      ...encodeRequest(4n, { op: 'RENEW', key: Buffer.from('a'), ttlMs: 60_000, quiet: true }),
      ...encodeRequest(5n, { op: 'DELETE', key: Buffer.from('a'), quiet: true }),
      ...encodeRequest(6n, { op: 'HEALTH' }),
    ]);
    await raw.waitFrames(3);
    await new Promise((r) => setTimeout(r, 20)); // nothing more comes
    const frames = raw.frames;
    expect(frames.map((f) => [f.opcode, f.id])).toEqual([
      [Status.NOT_STORED, 2n],
      [Status.NOT_FOUND, 3n],
      [Status.OK, 6n],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^conduit_quiet_suppressed_total 3$/m);
  });
});

describe('ConduitClient and quiet writes against scripted servers', () => {
  it('a protocol 1.0 server answers quiet writes UNKNOWN_OPCODE without executing them: the client reports that', async () => {
    const stored = new Set<string>();
    // A 1.0 server's reading of opcodes: 0x41, 0x42, 0x44 are not defined.
    const port = await fakeServer((frame, socket) => {
      if (frame.opcode > Opcode.HELLO) return reply(socket, frame.id, `opcode 0x${frame.opcode.toString(16)} is not defined`, Status.UNKNOWN_OPCODE);
      if (frame.opcode === Opcode.SET) stored.add(frame.body.subarray(6, 6 + (frame.body[5] as number)).toString());
      reply(socket, frame.id);
    });
    const c = client(port);
    const results = await Promise.allSettled([c.set('a', '1', { quiet: true }), c.delete('b', { quiet: true }), c.renew('c', 5, { quiet: true }), c.set('d', '1')]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['UNKNOWN_OPCODE', 'UNKNOWN_OPCODE', 'UNKNOWN_OPCODE', true]);
    expect([...stored]).toEqual(['d']);
    expect(await c.setMany([['x', '1']], { quiet: true })).toEqual([expect.objectContaining({ code: 'UNKNOWN_OPCODE' })]);
  });

  it('settles quiet writes with the fence the client sends itself, and a failure answered in the middle with its status', async () => {
    const seen: number[] = [];
    const port = await fakeServer((frame, socket) => {
      seen.push(frame.opcode);
      const quiet = (frame.opcode & QUIET_BIT) !== 0;
      const k = frame.body.subarray(6, 6 + (frame.body[5] as number)).toString();
      if (quiet && k === 'bad') return reply(socket, frame.id, 'item is larger than the memory budget can hold', Status.TOO_LARGE);
      if (!quiet) reply(socket, frame.id);
    });
    const c = client(port);
    const results = await Promise.allSettled([c.set('a', '1', { quiet: true }), c.set('bad', '1', { quiet: true }), c.set('c', '1', { quiet: true })]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual([true, 'TOO_LARGE', true]);
    expect(seen).toEqual([0x41, 0x41, 0x41, Opcode.HEALTH]);
  });

  it('quiet writes made over several ticks of one turn share one fence, sent at the end of the turn', async () => {
    const seen: number[] = [];
    const port = await fakeServer((frame, socket) => {
      seen.push(frame.opcode);
      if ((frame.opcode & QUIET_BIT) === 0) reply(socket, frame.id);
    });
    const c = client(port);
    await c.connect();
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < 5; i += 1) {
      writes.push(c.set(`k${i}`, 'v', { quiet: true }));
      await Promise.resolve(); // a new tick: the client writes what it has, and holds the fence
      await new Promise<void>((r) => queueMicrotask(r));
    }
    expect(await Promise.all(writes)).toEqual([true, true, true, true, true]);
    expect(seen).toEqual([0x41, 0x41, 0x41, 0x41, 0x41, Opcode.HEALTH]);
  });

  it('quiet writes written before the connection drops reject CONNECTION_LOST', async () => {
    const port = await fakeServer((_frame, socket) => socket.destroy());
    const c = client(port);
    const results = await Promise.allSettled([c.set('a', '1', { quiet: true }), c.delete('b', { quiet: true })]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['CONNECTION_LOST', 'CONNECTION_LOST']);
  });

  it('an answer that skips a non-quiet request is a protocol violation: everything outstanding rejects PROTOCOL_ERROR', async () => {
    const frames: bigint[] = [];
    const port = await fakeServer((frame, socket) => {
      frames.push(frame.id);
      if (frames.length === 3) reply(socket, frames[2] as bigint); // answers 2, skipping GET 1 (not quiet)
    });
    const c = client(port);
    const results = await Promise.allSettled([c.set('a', '1', { quiet: true }), c.get('b'), c.set('c', '1', { quiet: true })]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
  });

  it('a quiet write times out with its fence when the server never answers', async () => {
    const port = await fakeServer(() => {});
    const c = client(port, { requestTimeoutMs: 100 });
    const results = await Promise.allSettled([c.set('a', '1', { quiet: true }), c.set('b', '1', { quiet: true })]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['TIMEOUT', 'TIMEOUT']);
  });
});
