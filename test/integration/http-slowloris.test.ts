// Regression (outside attack): slow HTTP clients locked out the gateway, probes included. 150
// connections with headers that never finish and 150 trickling a body held every maxConnections slot
// and `GET /healthz` timed out. The gateway did answer 408 on time, but only half-closed: http.Server
// sockets allow half-open connections, and a raw-socket attacker never closes its side. Like the
// protocol port's --frame-timeout, the whole request must now arrive in time or the connection goes.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP_MAX_CONNECTIONS } from '../../src/server/fd-limit.js';
import { startServer } from '../support/server.js';

/** Bound on every wait: generous, since it only says "eventually", never how fast. */
const BOUND_MS = 15_000;
/** The slow clients send a header line or a body byte this often, as a slowloris does (only faster). */
const TRICKLE_MS = 100;

type Slowness = 'headers' | 'body';

interface SlowClient {
  /** Settles when the connection is fully closed, with what the client read before that. */
  readonly closed: Promise<string>;
}

const sockets = new Set<Socket>();
afterEach(() => {
  for (const socket of sockets) socket.destroy(); // a slow client's timer stops on 'close'
  sockets.clear();
});

/**
 * A client that starts a request and never finishes it: the headers get one more line every
 * TRICKLE_MS, or the body (Content-Length 100) one more byte. Like an attacker's raw socket it
 * allows half-open connections, so a FIN alone does not close it: it sees `close` only once the
 * gateway has really closed the connection (its next write then fails).
 */
function slowClient(port: number, slowness: Slowness): SlowClient {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const timer = setInterval(() => {
    if (socket.writable) socket.write(slowness === 'headers' ? 'X-Slow: 1\r\n' : 'a');
  }, TRICKLE_MS);
  sockets.add(socket);
  socket.on('connect', () => {
    socket.write(
      slowness === 'headers'
        ? 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'
        : 'PUT /v1/keys/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\na',
    );
  });
  socket.on('error', () => {}); // EPIPE / ECONNRESET once the gateway is gone: 'close' follows
  let read = '';
  socket.on('data', (chunk: Buffer) => (read += chunk.toString('latin1')));
  const closed = new Promise<string>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      resolve(read);
    }),
  );
  return { closed };
}

function slowClients(port: number, count: number): SlowClient[] {
  return Array.from({ length: count }, (_, i) => slowClient(port, i % 2 === 0 ? 'headers' : 'body'));
}

/** Rejects, naming `what`, when `promise` has not settled within BOUND_MS. */
async function eventually<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${BOUND_MS} ms`)), BOUND_MS);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** One `GET /healthz` on a fresh connection: its status, or `undefined` when refused or unanswered. */
function healthz(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** `/healthz` retried (the gateway refuses connections past maxConnections) until answered, within BOUND_MS. */
async function healthzEventually(port: number): Promise<number | undefined> {
  const deadline = Date.now() + BOUND_MS;
  let status = await healthz(port);
  while (status === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    status = await healthz(port);
  }
  return status;
}

describe('regression: HTTP slowloris locked out the gateway, probes included', () => {
  it('unfinished headers and a trickling body get 408 and a closed connection after --frame-timeout, though the client never closes its side', async () => {
    const { httpPort } = await startServer({ httpPort: 0, frameTimeoutMs: 500 });
    const port = httpPort ?? 0;
    const first = slowClients(port, 6);
    const replies = await eventually(Promise.all(first.map((c) => c.closed)), 'slow clients still connected');
    for (const reply of replies) expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    // Once they are gone a probe is answered, while new slow clients keep arriving; they go the same way.
    const second = slowClients(port, 6);
    expect(await healthz(port)).toBe(200);
    await eventually(Promise.all(second.map((c) => c.closed)), 'the second wave of slow clients still connected');
  });

  it('with every maxConnections slot taken by slow clients, /healthz is answered once the frame timeout frees them', async () => {
    const { httpPort } = await startServer({ httpPort: 0, frameTimeoutMs: 1_000 });
    const port = httpPort ?? 0;
    // More than the gateway keeps: the ones past HTTP_MAX_CONNECTIONS are refused at once.
    const clients = slowClients(port, HTTP_MAX_CONNECTIONS + 20);
    expect(await healthzEventually(port)).toBe(200);
    await eventually(Promise.all(clients.map((c) => c.closed)), 'slow clients still connected');
  });

  it('with every slot held by idle keep-alive connections, a new connection frees them: /healthz is answered at once, not after the keep-alive timeout', async () => {
    const { httpPort } = await startServer({ httpPort: 0 });
    const port = httpPort ?? 0;
    // Each sends one whole request, reads its answer and sits idle on the open connection.
    const idle = await Promise.all(
      Array.from({ length: HTTP_MAX_CONNECTIONS }, () =>
        new Promise<Socket>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
          sockets.add(socket);
          socket.on('error', () => {});
          socket.once('data', () => resolve(socket));
          socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        }),
      ),
    );
    const started = Date.now();
    expect(await healthzEventually(port)).toBe(200);
    // Well inside the 5 s keep-alive timeout: the idle slots were taken back, not waited out.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(idle.length).toBe(HTTP_MAX_CONNECTIONS);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout, though the client never closes its side', async () => {
    const { httpPort } = await startServer({ httpPort: 0 });
    const socket = connect({ host: '127.0.0.1', port: httpPort ?? 0, allowHalfOpen: true });
    sockets.add(socket);
    socket.on('error', () => {});
    let read = '';
    socket.on('data', (chunk: Buffer) => (read += chunk.toString('latin1')));
    // After the gateway's FIN, writing on tells a full close (a write fails: 'close') from a half-close.
    let probe: NodeJS.Timeout | undefined;
    socket.on('end', () => (probe = setInterval(() => socket.writable && socket.write('\r\n'), TRICKLE_MS)));
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        clearInterval(probe);
        resolve();
      }),
    );
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await eventually(closed, 'the idle keep-alive connection still open');
    expect(read).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(read).toMatch(/\r\nKeep-Alive: timeout=5\r\n/i);
  });
});
