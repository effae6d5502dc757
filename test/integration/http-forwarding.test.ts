// The HTTP gateway forwarding over the protocol (issue 20): what it answers when the server behind it
// cannot (down, silent, MOVED), what its probes and /metrics say. The routes themselves run against both
// backends in http.test.ts and http-host-origin.test.ts.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assignSlots, encodeMovedBody, encodeResponse, Opcode, slotOf, Status, type ConduitClient, type Request } from '../../src/index.js';
import { fakeServer, reply } from '../support/fake-server.js';
import { forwardingClient, forwardingGateway } from '../support/gateway.js';
import { startServer } from '../support/server.js';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answer(url: string, init: RequestInit = {}): Promise<[number, unknown]> {
  const res = await fetch(url, init);
  const text = await res.text();
  return [res.status, res.headers.get('content-type')?.startsWith('application/json') === true ? JSON.parse(text) : text];
}

/** The value of `conduit_gateway_upstream_errors_total{code}` in a /metrics text (0 when absent). */
function upstreamErrors(text: string, code: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`conduit_gateway_upstream_errors_total{code="${code}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('forwarding gateway: the server behind it is down', () => {
  it('data routes answer 503 CONNECT_FAILED, /readyz 503 naming it, /healthz 200, and /metrics counts each', async () => {
    const client = forwardingClient({ port: await closedPort(), connectTimeoutMs: 2_000, reconnect: false });
    const { base } = await forwardingGateway(client);
    const refused = { error: 'CONNECT_FAILED', message: expect.stringMatching(/^upstream: /) };
    expect(await answer(`${base}/v1/keys/k`)).toEqual([503, refused]);
    expect(await answer(`${base}/v1/keys/k`, { method: 'PUT', body: 'v' })).toEqual([503, refused]);
    expect(await answer(`${base}/v1/keys/k/incr`, { method: 'POST' })).toEqual([503, refused]);
    expect(await answer(`${base}/v1/keys/k`, { method: 'PUT', body: 'v', headers: { 'if-match': '*' } })).toEqual([503, refused]);
    expect(await answer(`${base}/v1/stats`)).toEqual([503, refused]);
    expect(await answer(`${base}/readyz`)).toEqual([503, expect.stringMatching(/^unreachable: CONNECT_FAILED: /)]);
    expect(await answer(`${base}/healthz`)).toEqual([200, 'ok\n']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(upstreamErrors(metrics, 'CONNECT_FAILED')).toBe(5);
  });

  it('a server that goes away after serving: its requests answer 502 or 503 and /readyz 503', async () => {
    const { server, port } = await startServer();
    const client = forwardingClient({ port, reconnect: false });
    const { base } = await forwardingGateway(client);
    expect((await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: 'v' })).status).toBe(204);
    expect(await answer(`${base}/readyz`)).toEqual([200, 'ready\n']);
    await server.close();
    const [status, body] = await answer(`${base}/v1/keys/k`);
    // The connection's loss (502 CONNECTION_LOST) or the next attempt's refusal (503 CONNECT_FAILED).
    expect([[502, 'CONNECTION_LOST'], [503, 'CONNECT_FAILED']]).toContainEqual([status, (body as { error: string }).error]);
    expect((await answer(`${base}/readyz`))[0]).toBe(503);
  });
});

describe('forwarding gateway: a server that does not answer', () => {
  it('answers 504 TIMEOUT after the client\'s requestTimeoutMs, and /readyz 503 naming TIMEOUT', async () => {
    const port = await fakeServer(() => {}); // reads every request, answers none
    const client = forwardingClient({ port, requestTimeoutMs: 300 });
    const { base, metrics } = await forwardingGateway(client);
    expect(await answer(`${base}/v1/keys/k`)).toEqual([504, { error: 'TIMEOUT', message: expect.stringMatching(/^upstream: /) }]);
    expect(await answer(`${base}/v1/keys/k`, { method: 'DELETE' })).toEqual([504, expect.objectContaining({ error: 'TIMEOUT' })]);
    expect(await answer(`${base}/readyz`)).toEqual([503, expect.stringMatching(/^unreachable: TIMEOUT: /)]);
    expect(upstreamErrors(await metrics.registry.metrics(), 'TIMEOUT')).toBe(2);
  });
});

describe('forwarding gateway: MOVED (spec §3.14)', () => {
  it('a key answered MOVED is 502 naming the owner; the request was not executed', async () => {
    const owner = '127.0.0.1:7999';
    const port = await fakeServer((frame, socket) => {
      if (frame.opcode === Opcode.HEALTH) return reply(socket, frame.id, '', Status.OK);
      const body = encodeMovedBody({ slot: 1234, node: 1, epoch: 3, name: owner });
      socket.write(Buffer.concat(encodeResponse(frame.id, Status.MOVED, body)));
    });
    const client = forwardingClient({ port });
    const { base, metrics } = await forwardingGateway(client);
    const [status, body] = await answer(`${base}/v1/keys/k`, { method: 'PUT', body: 'v' });
    expect([status, body]).toEqual([502, { error: 'MOVED', message: expect.stringContaining(`slot 1234 is owned by ${owner} (epoch 3)`) }]);
    expect(await answer(`${base}/v1/keys/k/ttl`)).toEqual([502, expect.objectContaining({ error: 'MOVED' })]);
    expect(await answer(`${base}/readyz`)).toEqual([200, 'ready\n']); // HEALTH is per server: it answers
    expect(upstreamErrors(await metrics.registry.metrics(), 'MOVED')).toBe(2);
  });
});

describe('forwarding gateway: readiness while the process drains', () => {
  it('/readyz answers 503 draining once the draining callback says so; the routes still forward', async () => {
    const { port } = await startServer();
    let draining = false;
    const { base } = await forwardingGateway(forwardingClient({ port }), { draining: () => draining });
    expect(await answer(`${base}/readyz`)).toEqual([200, 'ready\n']);
    draining = true;
    expect(await answer(`${base}/readyz`)).toEqual([503, 'draining\n']);
    expect((await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: 'v' })).status).toBe(204);
  });
});

describe('forwarding gateway: a client that routes by key', () => {
  it('each key is stored on, and read from, the server its slot maps to (a stand-in for the pooled ConduitClient)', async () => {
    const servers = [await startServer(), await startServer()];
    const names = servers.map((s) => `127.0.0.1:${s.port}`);
    const table = assignSlots(names);
    const clients: ConduitClient[] = servers.map((s) => forwardingClient({ port: s.port }));
    const owner = (key: Buffer | string): number => table[slotOf(key)] as number;
    const router = {
      exchange: (request: Request) => (clients[owner((request as { key: Buffer }).key)] as ConduitClient).exchange(request),
      stats: async () => ({ curr_items: (await Promise.all(clients.map((c) => c.stats()))).reduce((n, s) => n + Number(s.curr_items), 0) }),
      health: async () => Math.max(...(await Promise.all(clients.map((c) => c.health())))),
    };
    const { base } = await forwardingGateway(router);
    const keys = Array.from({ length: 40 }, (_, i) => `key:${i}`);
    for (const key of keys) expect((await fetch(`${base}/v1/keys/${key}`, { method: 'PUT', body: key })).status).toBe(204);
    for (const key of keys) {
      const held = servers.map((s) => s.server.store.get(Buffer.from(key))?.toString());
      expect([key, held]).toEqual([key, servers.map((_, i) => (i === owner(key) ? key : undefined))]);
      const got = await fetch(`${base}/v1/keys/${key}`);
      const etag = got.headers.get('etag')!;
      expect([got.status, await got.text()]).toEqual([200, key]);
      expect((await fetch(`${base}/v1/keys/${key}`, { method: 'PUT', body: 'v2', headers: { 'if-match': etag } })).status).toBe(204);
    }
    expect(new Set(keys.map(owner)).size).toBe(2); // both servers hold some
    expect(await answer(`${base}/v1/stats`)).toEqual([200, { curr_items: 40 }]);
  });
});
