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
