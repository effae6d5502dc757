import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequest, SERVER_ID_BASE, Status } from '../../src/index.js';
import { INPUT_BUDGET_ERROR } from '../../src/server/resp/resp-connection.js';
import { makeCerts } from '../support/certs.js';
import { RespRaw } from '../support/resp-raw.js';
import { rawClient, startServer } from '../support/server.js';

/** A command as RESP's multibulk request. */
const cmd = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => {
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      return [Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')];
    }),
  ]);

const redisClients: Redis[] = [];
afterEach(() => {
  for (const r of redisClients.splice(0)) r.disconnect();
});
function redis(port: number, options: RedisOptions = {}): Redis {
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...options });
  r.on('error', () => {});
  redisClients.push(r);
  return r;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the RESP listener', () => {
  it('answers pipelined commands in order, in RESP2', { timeout: 15_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    const n = 2_000;
    const pipeline = [cmd('SET', 'k', 'v1')];
    for (let i = 0; i < n; i++) pipeline.push(cmd('INCR', 'counter'));
    pipeline.push(cmd('GET', 'k'), cmd('PING'));
    c.write(Buffer.concat(pipeline));
    const expected = ['+OK\r\n', ...Array.from({ length: n }, (_, i) => `:${i + 1}\r\n`), '$2\r\nv1\r\n', '+PONG\r\n'].join('');
    await c.until(() => c.bytes >= expected.length);
    expect(c.text).toBe(expected);
  });

  it('yields between turns: a deep pipeline does not hold another client back', { timeout: 30_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0 });
    const deep = await RespRaw.connect(respPort ?? 0);
    const other = await RespRaw.connect(respPort ?? 0);
    const n = 100_000;
    deep.write(Buffer.concat(Array.from({ length: n }, () => cmd('INCR', 'c'))));
    await deep.until(() => deep.bytes > 0);
    other.write('PING\r\n');
    await other.until('+PONG\r\n', 20_000);
    // Answered while the pipeline was still running.
    expect(server.counters.total_commands_processed).toBeLessThan(n);
    await deep.until(() => deep.text.endsWith(`:${n}\r\n`), 25_000);
  });

  it('takes inline commands over a raw socket', { timeout: 10_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('PING\r\n');
    await c.until('+PONG\r\n');
    c.write('SET a b\r\nGET a\r\n');
    await c.until('+PONG\r\n+OK\r\n$1\r\nb\r\n');
  });

  it('serves ioredis: SET, GET, a pipeline, and counts RESP clients and commands', { timeout: 10_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0 });
    const r = redis(respPort ?? 0);
    await r.connect();
    expect(await r.set('greeting', 'hello')).toBe('OK');
    expect(await r.get('greeting')).toBe('hello');
    const results = await r.pipeline().set('x', '1').incr('x').get('x').exec();
    expect(results?.map(([err, value]) => [err, value])).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    expect(server.resp?.respClients).toBe(1);
    expect(server.counters.connected_clients).toBe(1);
    expect(server.counters.total_commands_processed).toBeGreaterThanOrEqual(5);
  });

  it('shows RESP connections and commands on /metrics', { timeout: 10_000 }, async () => {
    const { respPort, httpPort } = await startServer({ respPort: 0, httpPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('PING\r\nPING\r\nPING\r\n');
    await c.until('+PONG\r\n+PONG\r\n+PONG\r\n');
    const text = await (await fetch(`http://127.0.0.1:${httpPort ?? 0}/metrics`)).text();
    expect(text).toMatch(/^conduit_resp_connections_open 1$/m);
    expect(text).toMatch(/^conduit_resp_commands_total 3$/m);
    expect(text).toMatch(/^conduit_connections_open 1$/m);
  });

  it('answers a protocol error with -ERR, then ends the connection', { timeout: 10_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('PING\r\n*1\r\n$x\r\n');
    await c.waitEnded();
    expect(c.text).toBe('+PONG\r\n-ERR Protocol error: invalid bulk length\r\n');
    expect(server.counters.disconnects.protocol_error).toBe(1);
  });

  it('answers QUIT with +OK, then closes', { timeout: 10_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('QUIT\r\nPING\r\n');
    await c.waitEnded();
    expect(c.text).toBe('+OK\r\n');
  });

  it('closes an HTTP request sent to the RESP port without answering it', { timeout: 10_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await c.waitEnded();
    expect(c.text).toBe('');
  });

  it('speaks TLS when the server has TLS, with client certificates under clientAuth', { timeout: 15_000 }, async () => {
    const certs = makeCerts();
    const tls = { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true };
    const { respPort } = await startServer({ respPort: 0, tls });
    const r = redis(respPort ?? 0, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, servername: 'localhost' } });
    await r.connect();
    expect(await r.set('t', 'over tls')).toBe('OK');
    expect(await r.get('t')).toBe('over tls');
    const plain = await RespRaw.connect(respPort ?? 0);
    plain.write('PING\r\n');
    await plain.until(() => plain.closed);
    expect(plain.text).not.toContain('+PONG');
  });

  it('listens on a Unix socket with respSocket', { timeout: 10_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-resp-'));
    try {
      const path = join(dir, 'resp.sock');
      await startServer({ respSocket: path });
      const c = await RespRaw.connect(path);
      c.write(cmd('SET', 'u', 'x'));
      c.write('GET u\r\n');
      await c.until('+OK\r\n$1\r\nx\r\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the RESP listener under the server limits', () => {
  it('counts RESP and Conduit connections together under --max-connections', { timeout: 10_000 }, async () => {
    const { port, respPort, server } = await startServer({ respPort: 0, maxConnections: 2 });
    const conduit = await rawClient(port);
    const resp = await RespRaw.connect(respPort ?? 0);
    resp.write('PING\r\n');
    await resp.until('+PONG\r\n');
    const extraResp = await RespRaw.connect(respPort ?? 0);
    await extraResp.waitEnded();
    expect(extraResp.text).toBe('-ERR max number of clients reached\r\n');
    const extraConduit = await rawClient(port);
    await extraConduit.waitClosed();
    expect(extraConduit.frames.map((f) => [f.id, f.opcode])).toEqual([[SERVER_ID_BASE, Status.BUSY]]);
    expect(server.counters.rejected_connections).toBe(2);
    // The ones admitted are still served.
    conduit.write(Buffer.concat(encodeRequest(1n, { op: 'HEALTH' })));
    await conduit.waitFrames(1);
    resp.write('PING\r\n');
    await resp.until('+PONG\r\n+PONG\r\n');
  });

  it('stops reading a client that never reads, bounding its output, while others are served', { timeout: 20_000 }, async () => {
    const maxOutputBuffer = 256 * 1024;
    const { respPort, server } = await startServer({ respPort: 0, maxOutputBuffer, maxValueSize: 1024 * 1024 });
    const setup = await RespRaw.connect(respPort ?? 0);
    setup.write(cmd('SET', 'big', Buffer.alloc(20_000, 0x61)));
    await setup.until('+OK\r\n');
    const slow = await RespRaw.connect(respPort ?? 0);
    slow.socket.pause(); // reads nothing: the kernel's buffers fill, then the server's output waits
    const gets = 2_000; // 40 MB of replies: more than the kernel's buffers hold
    const before = server.counters.total_commands_processed;
    slow.write(Buffer.concat(Array.from({ length: gets }, () => cmd('GET', 'big'))));
    // Wait until the server holds output for it (the kernel's buffers are full) and stops executing.
    let executed = -1;
    for (let i = 0; i < 100; i++) {
      await settle(100);
      const now = server.counters.total_commands_processed - before;
      if (now === executed && server.outputMemory.now > 0) break;
      executed = now;
    }
    expect(executed).toBeLessThan(gets);
    expect(server.outputMemory.peak).toBeLessThanOrEqual(maxOutputBuffer);
    expect(server.counters.disconnects.output_buffer).toBe(0);
    const other = await RespRaw.connect(respPort ?? 0);
    other.write('PING\r\n');
    await other.until('+PONG\r\n');
    // Once it reads, everything is answered.
    slow.socket.resume();
    const reply = 20_000 + '$20000\r\n\r\n'.length;
    await slow.until(() => slow.bytes >= gets * reply, 15_000);
    expect(server.outputMemory.peak).toBeLessThanOrEqual(maxOutputBuffer);
  });

  it('closes a connection when one reply passes --max-output-buffer', { timeout: 10_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0, maxOutputBuffer: 64 * 1024, maxValueSize: 1024 * 1024 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write(cmd('SET', 'big', Buffer.alloc(100_000, 0x62)));
    await c.until('+OK\r\n');
    c.write(cmd('GET', 'big'));
    await c.until(() => c.closed);
    expect(c.text).toBe('+OK\r\n');
    expect(server.counters.disconnects.output_buffer).toBe(1);
  });

  it('closes a connection whose command stops midway after --frame-timeout', { timeout: 10_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0, frameTimeoutMs: 300 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('*2\r\n$3\r\nGET\r\n$5\r\nab');
    const started = performance.now();
    await c.until(() => c.closed, 5_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(server.counters.disconnects.frame_timeout).toBe(1);
  });

  it('closes a silent connection after --idle-timeout', { timeout: 10_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0, idleTimeoutMs: 300 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('PING\r\n');
    await c.until('+PONG\r\n');
    await c.until(() => c.closed, 5_000);
    expect(server.counters.disconnects.idle).toBe(1);
  });

  it('refuses a large command over the server-wide input budget, naming it', { timeout: 15_000 }, async () => {
    // The budget: max(--max-output-memory, 2 × (--max-value-size + 272)), about 2 MiB here.
    const { respPort, server } = await startServer({ respPort: 0, maxValueSize: 1024 * 1024, maxOutputMemory: 65_536, maxOutputBuffer: 65_536 });
    const head = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n');
    const part = Buffer.alloc(900_000, 0x63);
    const clients = [];
    for (let i = 0; i < 3; i++) {
      const c = await RespRaw.connect(respPort ?? 0);
      c.write(Buffer.concat([head, part]));
      clients.push(c);
      await settle(200);
    }
    const refused = clients.filter((c) => c.text === `-${INPUT_BUDGET_ERROR}\r\n`);
    expect(refused.length).toBe(1);
    await refused[0]?.waitEnded();
    expect(server.counters.disconnects.protocol_error).toBe(1);
    // The others finish their commands.
    for (const c of clients.slice(0, 2)) c.write(Buffer.concat([Buffer.alloc(100_000, 0x63), Buffer.from('\r\n')]));
    await clients[0]?.until('+OK\r\n');
    await clients[1]?.until('+OK\r\n');
  });
});

describe('the RESP listener at shutdown', () => {
  it('answers what came before the drain; a command after it gets the error, then the close', { timeout: 10_000 }, async () => {
    const { respPort, close } = await startServer({ respPort: 0 });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write(cmd('SET', 'k', 'v'));
    await c.until('+OK\r\n');
    const closed = close();
    c.write('GET k\r\n'); // arrives after the drain began
    await c.waitEnded();
    expect(c.text).toBe('+OK\r\n-ERR server is shutting down\r\n');
    await closed;
  });

  it('answers every command read before the drain, held back by a client that did not read', { timeout: 20_000 }, async () => {
    const { respPort, server, close } = await startServer({ respPort: 0, maxOutputBuffer: 256 * 1024 });
    const setup = await RespRaw.connect(respPort ?? 0);
    setup.write(cmd('SET', 'v', Buffer.alloc(2_000, 0x76)));
    await setup.until('+OK\r\n');
    setup.destroy();
    const slow = await RespRaw.connect(respPort ?? 0);
    slow.socket.pause();
    // 440 KB of commands: the server reads some, then stops reading; the rest waits in the kernel.
    const sent = 20_000;
    slow.write(Buffer.concat(Array.from({ length: sent }, () => cmd('GET', 'v'))));
    let executed = -1;
    for (let i = 0; i < 100; i++) {
      await settle(100);
      const now = server.counters.total_commands_processed;
      if (now === executed && server.outputMemory.now > 0) break;
      executed = now;
    }
    const closed = close();
    slow.socket.resume();
    await slow.waitEnded(15_000);
    await closed;
    const reply = `$2000\r\n${'v'.repeat(2_000)}\r\n`;
    const answered = server.counters.total_commands_processed - 1; // the SET
    expect(answered).toBeGreaterThanOrEqual(executed - 1);
    // Every command run was answered, in order; what came after the drain got the error, once.
    const text = slow.text;
    const body = text.endsWith('-ERR server is shutting down\r\n') ? text.slice(0, -'-ERR server is shutting down\r\n'.length) : text;
    expect(body).toBe(reply.repeat(answered));
    expect(answered).toBeLessThan(sent);
    expect(text.endsWith('-ERR server is shutting down\r\n')).toBe(true);
  });

  it('answers a connection accepted during the drain with the error', { timeout: 10_000 }, async () => {
    const { respPort, close } = await startServer({ respPort: 0 });
    const held = await RespRaw.connect(respPort ?? 0); // keeps the drain going
    held.write('PING\r\n');
    await held.until('+PONG\r\n');
    const closed = close();
    const late = await RespRaw.connect(respPort ?? 0).catch(() => undefined);
    if (late !== undefined) {
      await late.waitEnded();
      expect(['', '-ERR server is shutting down\r\n']).toContain(late.text);
    }
    await closed;
  });
});

describe('--resp-password', () => {
  it('requires AUTH: refused before it, wrong password refused, the right one accepted', { timeout: 10_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0, respPassword: 'correct horse battery staple' });
    const c = await RespRaw.connect(respPort ?? 0);
    c.write('GET k\r\n');
    await c.until('-NOAUTH Authentication required.\r\n');
    c.write('AUTH wrong\r\n');
    await c.until('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    c.write(cmd('AUTH', 'correct horse battery staple'));
    await c.until('+OK\r\n');
    c.write('SET k v\r\nGET k\r\n');
    await c.until('+OK\r\n+OK\r\n$1\r\nv\r\n');
    const ok = redis(respPort ?? 0, { password: 'correct horse battery staple' });
    await ok.connect();
    expect(await ok.get('k')).toBe('v');
  });
});
