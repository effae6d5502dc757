import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Opcode, SERVER_ID_BASE, Status, type Frame } from '../../src/index.js';
import { fakeServer, reply } from '../support/fake-server.js';

const clients: ConduitClient[] = [];
function client(port: number, options: ConstructorParameters<typeof ConduitClient>[0] = {}): ConduitClient {
  const c = new ConduitClient({ port, ...options });
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));

describe('ConduitClient against a misbehaving server', () => {
  it('a response later than the timeout is discarded, never given to the next caller', async () => {
    // Answers 'slow' after 400 ms, and every later request right after it, in order.
    let slowAnswered = false;
    const deferred: Frame[] = [];
    const port = await fakeServer((frame, socket) => {
      const key = frame.body.toString();
      if (key === 'slow') {
        setTimeout(() => {
          reply(socket, frame.id, 'value-of-slow');
          slowAnswered = true;
          for (const f of deferred.splice(0)) reply(socket, f.id, `value-of-${f.body.toString()}`);
        }, 400);
      } else if (slowAnswered) {
        reply(socket, frame.id, `value-of-${key}`);
      } else {
        deferred.push(frame);
      }
    });
    const c = client(port, { requestTimeoutMs: 300 });
    const started = performance.now();
    const slow = c.getString('slow').catch((err: unknown) => ({ err: code(err), at: performance.now() - started }));
    // 'next' goes out while 'slow' is still in flight: a connection whose every in-flight request
    // timed out is given up (issue 15 item 12), so the late answer can only arrive with one still live.
    await new Promise((r) => setTimeout(r, 150));
    const next = c.getString('next');
    expect(await slow).toMatchObject({ err: 'TIMEOUT' });
    expect(((await slow) as { at: number }).at).toBeLessThan(300 + 50);
    expect(await next).toBe('value-of-next');
  });

  it('a response out of order closes the connection and rejects everything outstanding', async () => {
    const frames: Frame[] = [];
    const port = await fakeServer((frame, socket) => {
      frames.push(frame);
      if (frames.length === 2) reply(socket, frames[1]?.id ?? 0n, 'second'); // answers the second first
    });
    const c = client(port, { reconnect: false });
    const results = await Promise.allSettled([c.get('a'), c.get('b')]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : 'ok'))).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
  });

  it('a response with an unknown identifier closes the connection and rejects everything outstanding', async () => {
    const port = await fakeServer((frame, socket) => reply(socket, frame.id + 1000n));
    const c = client(port, { reconnect: false });
    const results = await Promise.allSettled([c.get('a'), c.get('b'), c.health()]);
    expect(results.every((r) => r.status === 'rejected' && code(r.reason) === 'PROTOCOL_ERROR')).toBe(true);
  });

  it('a server-originated error frame rejects what is outstanding with its code', async () => {
    const port = await fakeServer((_frame, socket) => {
      reply(socket, SERVER_ID_BASE, 'too many connections', Status.BUSY);
      socket.end();
    });
    const c = client(port, { reconnect: false });
    await expect(c.get('a')).rejects.toMatchObject({ code: 'BUSY', status: Status.BUSY });
  });

  it('never emits an unhandled error for failures the caller already got', async () => {
    const port = await fakeServer((_frame, socket) => socket.destroy());
    const c = client(port, { reconnect: { maxAttempts: 1, baseDelayMs: 10 } });
    const errors: unknown[] = [];
    await expect(c.get('a')).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    await new Promise((r) => setTimeout(r, 100));
    c.on('error', (err) => errors.push(err));
    await expect(c.get('b')).rejects.toBeInstanceOf(ConduitError);
    expect(errors.every((e) => e instanceof ConduitError)).toBe(true);
  });
});

describe('regressions found in review', () => {
  it('close() resolves when the only outstanding request already timed out (server never answers)', async () => {
    const port = await fakeServer(() => {});
    const c = client(port, { requestTimeoutMs: 100, reconnect: false });
    await expect(c.get('k')).rejects.toMatchObject({ code: 'TIMEOUT' });
    const started = performance.now();
    await c.close();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('queued requests settle when the connection drops during close()', async () => {
    const port = await fakeServer((_frame, socket) => setTimeout(() => socket.destroy(), 50));
    const c = client(port, { maxInflight: 1, reconnect: false });
    const calls = [c.get('a'), c.get('b'), c.get('c')].map((p) => p.then(() => 'ok', (err: unknown) => code(err)));
    await new Promise((r) => setTimeout(r, 10));
    await c.close();
    expect(await Promise.all(calls)).toEqual(['CONNECTION_LOST', 'CLOSED', 'CLOSED']);
    expect(c.pending).toEqual({ inflight: 0, queued: 0 });
  });

  it('no reconnect attempts after close(), even with a secure handshake under way', async () => {
    const { acceptHello } = await import('../../src/index.js');
    const { createServer: createNet } = await import('node:net');
    const key = { id: 'app', secret: Buffer.alloc(32, 9) };
    let connections = 0;
    // Connection 1 completes the handshake and is then dropped; later ones never answer HELLO.
    const server = createNet((socket) => {
      connections += 1;
      const first = connections === 1;
      socket.on('error', () => {});
      socket.once('data', (chunk: Buffer) => {
        if (!first) return;
        const body = chunk.subarray(12, 12 + chunk.readUInt16BE(2));
        const accepted = acceptHello(body, 0n, new Map([[key.id, key.secret]]));
        if (accepted instanceof Error) return socket.destroy();
        const header = Buffer.from('810000000000000000000000', 'hex');
        header.writeUInt16BE(accepted.reply.length, 2); // 48 bytes for a 1.0 HELLO, 49 for 1.1's (spec §6.2)
        socket.write(Buffer.concat([header, accepted.reply]));
        setTimeout(() => socket.destroy(), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const c = client(port, { key, connectTimeoutMs: 200, reconnect: { maxAttempts: 1_000, baseDelayMs: 10, maxDelayMs: 10 } });
    await c.connect();
    await new Promise((r) => setTimeout(r, 100)); // dropped; a reconnect attempt now waits for its handshake
    await c.close();
    const after = connections;
    await new Promise((r) => setTimeout(r, 600));
    expect(connections).toBe(after);
    server.close();
  });
});

/**
 * A fake server that answers with `answer` on its first connection and drops any later one at its
 * first frame. A call that succeeds after a fault was therefore served on the first connection, which
 * the client kept; one that rejects needed a new connection. `firstClosed` settles when the first closes.
 */
async function firstConnectionOnly(answer: (frame: Frame, socket: Socket) => void): Promise<{ port: number; firstClosed: Promise<void> }> {
  let first: Socket | undefined;
  let onFirstClosed = (): void => {};
  const firstClosed = new Promise<void>((resolve) => (onFirstClosed = resolve));
  const port = await fakeServer((frame, socket) => {
    if (first === undefined) {
      first = socket;
      socket.once('close', onFirstClosed);
    }
    if (socket !== first) return void socket.destroy();
    answer(frame, socket);
  });
  return { port, firstClosed };
}

describe('regression: a duplicate or undecodable answer closes the connection (spec §2.3, §4.3)', () => {
  it('a duplicate answer with a request in flight rejects it PROTOCOL_ERROR and closes the connection', async () => {
    const { port, firstClosed } = await firstConnectionOnly((frame, socket) => {
      reply(socket, frame.id, 'v');
      reply(socket, frame.id, 'v');
    });
    const c = client(port, { reconnect: false });
    const results = await Promise.allSettled([c.getString('a'), c.getString('b')]);
    expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['v', 'PROTOCOL_ERROR']);
    await firstClosed;
    await expect(c.getString('after')).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('a duplicate answer with nothing in flight closes the connection and reports PROTOCOL_ERROR, not a lost connection', async () => {
    const { port, firstClosed } = await firstConnectionOnly((frame, socket) => {
      reply(socket, frame.id, 'v');
      reply(socket, frame.id, 'v');
    });
    const c = client(port, { reconnect: false });
    const reported = new Promise<unknown>((resolve) => c.once('error', resolve));
    expect(await c.getString('a')).toBe('v');
    expect(await reported).toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringContaining('no request outstanding') });
    await firstClosed;
    await expect(c.getString('after')).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('with reconnection on, the reconnecting event names the PROTOCOL_ERROR of a duplicate answer', async () => {
    const { port } = await firstConnectionOnly((frame, socket) => {
      reply(socket, frame.id, 'v');
      reply(socket, frame.id, 'v');
    });
    const c = client(port, { reconnect: { maxAttempts: 1, baseDelayMs: 10 } });
    const reconnecting = new Promise<{ cause: unknown }>((resolve) => c.once('reconnecting', resolve));
    expect(await c.getString('a')).toBe('v');
    expect((await reconnecting).cause).toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  // Each answer is an OK status with a body its request cannot have.
  const malformed: { name: string; op: number; body: string; call: (c: ConduitClient) => Promise<unknown> }[] = [
    { name: 'an INCR answer of 3 bytes (an i64 is 8)', op: Opcode.INCR, body: 'abc', call: (c) => c.incr('n') },
    { name: 'a TTL answer of 3 bytes (an i64 is 8)', op: Opcode.TTL, body: 'abc', call: (c) => c.ttl('k') },
    { name: 'a STATS answer that is not JSON', op: Opcode.STATS, body: 'not json', call: (c) => c.stats() },
    { name: 'a STATS answer that is JSON but not an object (spec §5.2)', op: Opcode.STATS, body: '[1,2]', call: (c) => c.stats() },
    { name: 'a LIST answer whose key runs past the body', op: Opcode.LIST, body: '\x00\x05ab', call: (c) => c.list('') },
  ];
  for (const { name, op, body, call } of malformed) {
    it(`${name}: the call and the one in flight behind it reject PROTOCOL_ERROR, and the connection is closed (was kept)`, async () => {
      const { port, firstClosed } = await firstConnectionOnly((frame, socket) => reply(socket, frame.id, frame.opcode === op ? body : 'v'));
      const c = client(port, { reconnect: false });
      const results = await Promise.allSettled([call(c), c.getString('behind')]);
      expect(results.map((r) => (r.status === 'rejected' ? code(r.reason) : r.value))).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
      await firstClosed;
      // Before the fix this was answered 'v' on the kept connection.
      await expect(c.getString('after')).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    });
  }

  it('a late answer to a timed-out request is still discarded, and the connection kept', async () => {
    // 'slow' is answered only once the test has seen it time out; 'next', sent later, is live by then.
    let answerSlow = (): void => {};
    const { port, firstClosed } = await firstConnectionOnly((frame, socket) => {
      const key = frame.body.toString();
      if (key === 'slow') answerSlow = () => reply(socket, frame.id, 'value-of-slow');
      else if (key === 'next') void slow.then(() => reply(socket, frame.id, 'value-of-next'));
      else reply(socket, frame.id, `value-of-${key}`);
    });
    let closed = false;
    void firstClosed.then(() => (closed = true));
    const c = client(port, { requestTimeoutMs: 1_000, reconnect: false });
    const slow = c.getString('slow').then(
      () => 'answered',
      (err: unknown) => {
        answerSlow(); // the late answer, then the answer to 'next', in request order
        return code(err);
      },
    );
    // 'next' must still be in flight when 'slow' times out, or the client gives the connection up
    // as silent (every request in flight timed out) before the late answer arrives.
    await new Promise((r) => setTimeout(r, 400));
    const next = c.getString('next');
    expect(await slow).toBe('TIMEOUT');
    expect(await next).toBe('value-of-next');
    expect(await c.getString('after')).toBe('value-of-after'); // on the same connection: it was kept
    expect(closed).toBe(false);
  });
});
