import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeRequest, SERVER_ID_BASE, Status, type Request } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

const b = (s: string): Buffer => Buffer.from(s);
const req = (id: bigint, r: Request): Buffer => Buffer.concat(encodeRequest(id, r));
const bigSet = (key: string, size: number): Buffer =>
  req(1_000_000n, { op: 'SET', key: b(key), value: Buffer.alloc(size, 0x61), ttlMs: 0, nx: false, xx: false, keepTtl: false });
const gets = (n: number, key: string): Buffer =>
  Buffer.concat(Array.from({ length: n }, (_, i) => req(BigInt(i), { op: 'GET', key: b(key) })));

describe('--max-connections', () => {
  it('answers the one over the limit with BUSY (identifier 2^63) and closes it, counting it as rejected', async () => {
    const { port, server } = await startServer({ maxConnections: 3 });
    const kept = await Promise.all([rawClient(port), rawClient(port), rawClient(port)]);
    const extra = await rawClient(port);
    await extra.waitClosed();
    expect(extra.frames.map((f) => [f.id, f.opcode])).toEqual([[SERVER_ID_BASE, Status.BUSY]]);
    expect(server.counters.rejected_connections).toBe(1);
    kept[0]?.write(req(1n, { op: 'HEALTH' }));
    await kept[0]?.waitFrames(1);
    kept[1]?.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const next = await rawClient(port);
    next.write(req(1n, { op: 'HEALTH' }));
    await next.waitFrames(1);
    expect(next.frames[0]?.opcode).toBe(Status.OK);
  });
});

describe('--max-inflight', () => {
  it('stops reading a connection whose responses are not drained, and resumes when they are', async () => {
    const { port, server } = await startServer({ maxInflight: 8, maxOutputBuffer: 64 * 1024 * 1024 });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause(); // read nothing: the kernel buffers fill, then the server's output waits
    const before = server.counters.total_commands_processed;
    c.write(gets(400, 'big'));
    await new Promise((r) => setTimeout(r, 500));
    const executedWhilePaused = server.counters.total_commands_processed - before;
    expect(executedWhilePaused).toBeLessThan(400);
    c.socket.resume();
    await c.waitFrames(400, 10_000);
    expect(c.frames.every((f) => f.opcode === Status.OK && f.body.length === 60_000)).toBe(true);
    expect(c.frames.map((f) => f.id)).toEqual(Array.from({ length: 400 }, (_, i) => BigInt(i)));
  });
});

describe('--max-output-buffer', () => {
  it('checks the limit as responses are queued, not after a whole batch of --max-inflight', async () => {
    const warnings: string[] = [];
    const logger = { info() {}, debug() {}, error() {}, warn: (_: object, message: string) => void warnings.push(message) };
    const reasons: string[] = [];
    logger.warn = (fields: object, message: string) => {
      warnings.push(message);
      if ('reason' in fields) reasons.push(String(fields.reason));
    };
    const limit = 1024 * 1024;
    const { port, server } = await startServer({ maxInflight: 100_000, maxOutputBuffer: limit, logger });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause();
    c.write(gets(2_000, 'big'));
    await c.until(() => server.counters.disconnects.output_buffer === 1, 5_000, 'output-buffer disconnect');
    const unwritten = Number(/of (\d+) bytes/.exec(reasons.find((r) => r.includes('max-output-buffer')) ?? '')?.[1]);
    // Before the fix all 2,000 answers (120 MB) were queued before the first check.
    expect(unwritten).toBeGreaterThan(limit);
    expect(unwritten).toBeLessThanOrEqual(limit + 60_000 + 12);
  });


  it('disconnects a client that does not read once its unwritten output passes the limit; memory stays bounded', async () => {
    const { port, server } = await startServer({ maxInflight: 100_000, maxOutputBuffer: 1024 * 1024 });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const rssBefore = process.memoryUsage().rss;
    const c = await rawClient(port);
    c.socket.pause();
    c.write(gets(2_000, 'big')); // 120 MB of answers
    await c.until(() => server.counters.disconnects.output_buffer === 1, 5_000, 'output-buffer disconnect');
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    const other = await rawClient(port);
    other.write(req(1n, { op: 'HEALTH' }));
    await other.waitFrames(1);
    expect(other.frames[0]?.opcode).toBe(Status.OK);
  });
});

describe('timeouts', () => {
  it('--frame-timeout closes a connection whose frame does not complete (slowloris)', async () => {
    const { port, server } = await startServer({ frameTimeoutMs: 300 });
    const c = await rawClient(port);
    const started = Date.now();
    c.write(req(1n, { op: 'GET', key: b('k') }).subarray(0, 11));
    await c.waitClosed(3_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_300);
    expect(server.counters.disconnects.frame_timeout).toBe(1);
  });

  it('--idle-timeout closes a silent connection, not an active one', async () => {
    const { port, server } = await startServer({ idleTimeoutMs: 400 });
    const silent = await rawClient(port);
    const active = await rawClient(port);
    const started = Date.now();
    const timer = setInterval(() => active.write(req(BigInt(Date.now()), { op: 'HEALTH' })), 100);
    try {
      await silent.waitClosed(3_000);
      expect(Date.now() - started).toBeLessThan(1_400);
      await new Promise((r) => setTimeout(r, 300));
      expect(active.closed).toBe(false);
    } finally {
      clearInterval(timer);
    }
    expect(server.counters.disconnects.idle).toBe(1);
  });
});

describe('graceful close', () => {
  it('answers every request already received, ends the stream cleanly, and refuses new connections', async () => {
    const { port, server } = await startServer();
    const c = await rawClient(port);
    c.write(gets(5_000, 'missing'));
    await c.waitFrames(1);
    const closed = server.close();
    await c.waitClosed();
    await closed;
    expect(c.frames).toHaveLength(5_000);
    expect(c.error).toBeUndefined();
    await expect(rawClient(port)).rejects.toThrow();
  });
});

describe('regression: graceful close under backpressure, backlog and rejected peers', () => {
  it('a connection paused by --max-inflight is read again when the drain starts: in-order answers, then a clean end', async () => {
    const { port, server } = await startServer({ maxInflight: 8, maxOutputBuffer: 64 * 1024 * 1024, shutdownTimeoutMs: 3_000 });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 4_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause();
    // Far more than 8 in flight, and more than Node buffers: most requests wait in the kernel, unread.
    c.write(gets(40_000, 'big'));
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const closed = server.close();
    c.socket.resume();
    await c.waitClosed(5_000);
    await closed;
    // Before the fix the paused socket was never read again: no end until the shutdown timeout destroyed it (a reset).
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(c.error).toBeUndefined();
    expect(c.ended).toBe(true);
    expect(c.frames.map((f) => f.id)).toEqual(Array.from({ length: c.frames.length }, (_, i) => BigInt(i)));
    const firstBusy = c.frames.findIndex((f) => f.opcode === Status.BUSY);
    const statuses = c.frames.map((f) => f.opcode);
    expect(statuses.slice(0, firstBusy < 0 ? undefined : firstBusy).every((s) => s === Status.OK)).toBe(true);
    if (firstBusy >= 0) expect(statuses.slice(firstBusy).every((s) => s === Status.BUSY)).toBe(true);
  });

  it('a deep buffered pipeline is executed only after the listener closed, so the backlog window stays short', async () => {
    let executedAtStop = -1;
    const logger = {
      debug() {},
      warn() {},
      error() {},
      info: (_: object, message: string) => {
        if (message === 'stopped listening') executedAtStop = server.counters.total_commands_processed;
      },
    };
    const { port, server } = await startServer({ maxInflight: 8, maxOutputBuffer: 64 * 1024 * 1024, shutdownTimeoutMs: 3_000, logger });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause();
    // 12 MB of answers nobody reads fill the socket buffers, so the server stops at --max-inflight
    // with the rest of the pipeline (the INCRs) read into its buffer but not executed.
    const incrs = Array.from({ length: 2_000 }, (_, i) =>
      req(BigInt(200 + i), { op: 'INCR', key: b('n'), delta: 1n, ttlMs: 0 }),
    );
    c.write(Buffer.concat([gets(200, 'big'), ...incrs]));
    await new Promise((r) => setTimeout(r, 300));
    const executedBefore = server.counters.total_commands_processed;
    expect(executedBefore).toBeLessThan(1 + 200);
    const closed = server.close();
    c.socket.resume();
    await c.waitClosed(5_000);
    await closed;
    // Before the fix drain() executed the whole buffer first, in one long turn inside the window.
    expect(executedAtStop).toBe(executedBefore);
    expect(server.counters.total_commands_processed).toBeGreaterThan(executedBefore);
    expect(c.error).toBeUndefined();
    expect(c.frames.map((f) => f.id)).toEqual(Array.from({ length: c.frames.length }, (_, i) => BigInt(i)));
  });

  it('at shutdown the requests a paused connection holds are answered under --max-inflight, not cut off by --max-output-buffer', async () => {
    const disconnects: string[] = [];
    const logger = { info() {}, debug() {}, error() {}, warn: (_: object, message: string) => void disconnects.push(message) };
    const { port, server } = await startServer({ maxInflight: 8, maxOutputBuffer: 1024 * 1024, shutdownTimeoutMs: 3_000, logger });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause();
    // 300 × (GET of 60 KB, INCR): 18 MB of answers, far over the 1 MB output bound if produced at once.
    const pairs = 300;
    c.write(
      Buffer.concat(
        Array.from({ length: pairs }, (_, i) => [
          req(BigInt(2 * i), { op: 'GET', key: b('big') }),
          req(BigInt(2 * i + 1), { op: 'INCR', key: b('n'), delta: 1n, ttlMs: 0 }),
        ]).flat(),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const closed = server.close();
    c.socket.resume();
    await c.waitClosed(5_000);
    await closed;
    // Before the fix the drain executed all 600 at once, went over the bound and was destroyed:
    // requests received whole went unanswered, and executed INCRs lost their answers.
    expect(disconnects).not.toContain('closing connection');
    expect(server.counters.disconnects.output_buffer).toBe(0);
    expect(c.error).toBeUndefined();
    expect(c.ended).toBe(true);
    expect(c.frames.map((f) => [f.id, f.opcode])).toEqual(Array.from({ length: 2 * pairs }, (_, i) => [BigInt(i), Status.OK]));
    expect(c.frames.at(-1)?.body.readBigInt64BE(0)).toBe(BigInt(pairs));
  });

  it('a request whose last bytes arrive after the drain began is answered BUSY, not executed', async () => {
    const { port, server } = await startServer({ shutdownTimeoutMs: 3_000 });
    const c = await rawClient(port);
    const whole = req(1n, { op: 'INCR', key: b('before'), delta: 1n, ttlMs: 0 });
    const split = bigSet('after', 1_000);
    c.write(Buffer.concat([whole, split.subarray(0, 500)]));
    await c.waitFrames(1);
    const closed = server.close();
    c.write(split.subarray(500));
    await c.waitClosed(3_000);
    await closed;
    expect(c.frames.map((f) => [f.id, f.opcode])).toEqual([
      [1n, Status.OK],
      [1_000_000n, Status.BUSY],
    ]);
    expect(server.store.get(b('after'))).toBeUndefined();
    expect(c.error).toBeUndefined();
  });

  it('connections waiting in the listen backlog at close get BUSY and a clean end, not a reset', async () => {
    const { port, server } = await startServer();
    const pending = Array.from({ length: 10 }, () => rawClient(port).then((c) => c, (err: Error) => err));
    await new Promise((r) => process.nextTick(r)); // the connect() calls are made on the next tick
    const blockedUntil = Date.now() + 100;
    while (Date.now() < blockedUntil); // the kernel completes the handshakes; the server cannot accept them yet
    const closed = server.close();
    const clients = await Promise.all(pending);
    for (const c of clients) {
      if (c instanceof Error) throw c;
      await c.waitClosed(3_000);
    }
    await closed;
    for (const c of clients) {
      if (c instanceof Error) continue;
      expect(c.error).toBeUndefined();
      expect(c.frames.map((f) => [f.id, f.opcode])).toEqual([[SERVER_ID_BASE, Status.BUSY]]);
      expect(c.frames[0]?.body.toString()).toMatch(/shutting down/);
    }
    expect(server.counters.rejected_connections).toBe(10);
  });

  it('a rejected connection that keeps sending is read and discarded, so its close is seen and close() finishes', async () => {
    const { port, server } = await startServer({ maxConnections: 1 });
    const kept = await rawClient(port);
    const extra = await rawClient(port);
    extra.write(gets(30_000, 'k')); // ~1 MB the server never answers
    await extra.until(() => extra.frames.length === 1 && extra.ended, 3_000, 'BUSY and end');
    extra.socket.end();
    await extra.waitClosed();
    kept.destroy();
    // Before the fix the rejected socket never read its data, never saw the FIN, and held close() open.
    await Promise.race([server.close(), new Promise((_, reject) => setTimeout(() => reject(new Error('close() hung')), 1_500))]);
    expect(extra.frames[0]?.opcode).toBe(Status.BUSY);
  });

  it('a peer that never ends its side after a fatal error is closed after --frame-timeout', async () => {
    const { port, server } = await startServer({ frameTimeoutMs: 300 });
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }); // reads our FIN, never sends its own
    try {
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      socket.resume();
      socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n')); // bad version: fatal (spec §4.1)
      await new Promise((r) => socket.once('end', r));
      const started = performance.now();
      // Before the fix the half-closed connection stayed open, holding its --max-connections slot.
      while (server.counters.connected_clients > 0 && performance.now() - started < 3_000) await new Promise((r) => setTimeout(r, 20));
      expect(server.counters.connected_clients).toBe(0);
      expect(performance.now() - started).toBeLessThan(1_500);
    } finally {
      socket.destroy();
    }
  });
});

describe('--socket', () => {
  it('serves on a Unix domain socket beside TCP, and instead of it', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'conduit-sock-'));
    const beside = join(dir, 'beside.sock');
    const { port } = await startServer({ socket: beside });
    for (const target of [beside, port]) {
      const c = await rawClient(target);
      c.write(req(1n, { op: 'HEALTH' }));
      await c.waitFrames(1);
      expect(c.frames[0]?.opcode).toBe(Status.OK);
    }
    const only = join(dir, 'only.sock');
    const { port: none } = await startServer({ socket: only, tcp: false });
    expect(none).toBe(0);
    const c = await rawClient(only);
    c.write(req(1n, { op: 'HEALTH' }));
    await c.waitFrames(1);
    expect(c.frames[0]?.opcode).toBe(Status.OK);
  });
});

describe('regression: backpressure is not slowloris', () => {
  it('a slow reader whose whole frames wait behind --max-inflight is not cut off by --frame-timeout', async () => {
    const { port, server } = await startServer({ maxInflight: 4, frameTimeoutMs: 400, maxOutputBuffer: 64 * 1024 * 1024 });
    const setup = await rawClient(port);
    setup.write(bigSet('big', 60_000));
    await setup.waitFrames(1);
    const c = await rawClient(port);
    c.socket.pause();
    c.write(gets(200, 'big'));
    await new Promise((r) => setTimeout(r, 1_200));
    c.socket.resume();
    await c.waitFrames(200, 10_000);
    expect(server.counters.disconnects.frame_timeout).toBe(0);
  });
});
