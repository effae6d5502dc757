// conduit-server's composition of server and HTTP gateway (src/cli/compose.ts, issue 16):
// the server never imports the gateway; the composer starts it after the binary
// listeners and closes it only after the drain, so /readyz answers 503 through it.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ComposedServer } from '../../src/cli/compose.js';
import { ConduitServer, encodeRequest, HEADER_SIZE } from '../../src/index.js';

const opened: Socket[] = [];
const composedServers: ComposedServer[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await Promise.all(composedServers.splice(0).map((c) => c.close()));
});

/** A plain connection that has had one HEALTH answered and then stays open (half-open after the server ends). */
async function heldConnection(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  opened.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(Buffer.concat(encodeRequest(1n, { op: 'HEALTH' })));
  let received = 0;
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received >= HEADER_SIZE) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

describe('ComposedServer', () => {
  it('serves the gateway on the same store; /readyz is 503 through the drain and the gateway closes after it', async () => {
    const composed = new ComposedServer({ host: '127.0.0.1', port: 0, httpPort: 0, shutdownTimeoutMs: 5_000 });
    composedServers.push(composed);
    const { port, httpPort } = await composed.listen();
    expect(httpPort).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${httpPort}`;
    expect((await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: 'v' })).status).toBe(204);
    expect(composed.server.store.get(Buffer.from('k'))?.toString()).toBe('v');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const held = await heldConnection(port);
    let closed = false;
    const closing = composed.close().then(() => {
      closed = true;
    });
    expect(composed.server.draining).toBe(true);
    // The held connection keeps the drain going: the gateway is still up and says not ready.
    expect((await fetch(`${base}/readyz`, { headers: { connection: 'close' } })).status).toBe(503);
    expect(closed).toBe(false);
    held.end();
    await closing;
    await expect(fetch(`${base}/readyz`)).rejects.toThrow();
  });

  it('without httpPort there is no gateway, and ConduitServer alone never starts one', async () => {
    const composed = new ComposedServer({ host: '127.0.0.1', port: 0 });
    composedServers.push(composed);
    expect(composed.gateway).toBeUndefined();
    expect((await composed.listen()).httpPort).toBeUndefined();

    const alone = new ConduitServer({ host: '127.0.0.1', port: 0, httpPort: 0 });
    try {
      const address = await alone.listen();
      expect(Object.keys(address).sort()).toEqual(['host', 'port', 'respPort', 'socket']);
      expect(address.respPort).toBeUndefined();
      // What httpPort still does for the server itself: the metrics the gateway would serve are kept.
      expect(alone.metrics).toBeDefined();
    } finally {
      await alone.close();
    }
  });
});
