// Regression tests for issue 15 item 12: a silent server wedged ConduitClient.
// Timed-out requests kept their in-flight slots; when the peer stopped
// answering but TCP stayed up, every slot filled and the client never wrote
// or reconnected again. And a server-originated OK frame was reported as
// UNKNOWN_STATUS 0x0 instead of a protocol violation.
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConduitClient, ConduitError, SERVER_ID_BASE, Status, type Frame } from '../../src/index.js';
import { fakeServer, reply } from '../support/fake-server.js';

const clients: ConduitClient[] = [];
function client(port: number, options: ConstructorParameters<typeof ConduitClient>[0] = {}): ConduitClient {
  const c = new ConduitClient({ port, ...options });
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  vi.restoreAllMocks();
});

const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const outcome = (p: Promise<string | undefined>): Promise<string> => p.then((v) => `ok:${v ?? ''}`, (err: unknown) => code(err));

/**
 * The first `silent` connections accept and read but never answer (a wedged peer with TCP up);
 * later ones answer every GET with `value-of-<key>`, so a reply handed to the wrong caller shows.
 */
async function silentThenHealthy(silent = 1): Promise<{ port: number; connections: () => number; heldFrames: () => number }> {
  const sockets = new Map<Socket, number>();
  let held = 0;
  const port = await fakeServer((frame: Frame, socket) => {
    if (!sockets.has(socket)) sockets.set(socket, sockets.size + 1);
    if ((sockets.get(socket) ?? 0) <= silent) {
      held += 1;
      return;
    }
    reply(socket, frame.id, `value-of-${frame.body.toString()}`);
  });
  return { port, connections: () => sockets.size, heldFrames: () => held };
}

describe('ConduitClient against a server that stops answering but keeps TCP up', () => {
  it('a silent server with every in-flight slot timed out: the client reconnects and a later request succeeds', async () => {
    const server = await silentThenHealthy();
    const c = client(server.port, { requestTimeoutMs: 150, maxInflight: 4, reconnect: { maxAttempts: 100, baseDelayMs: 10, maxDelayMs: 20 } });
    await c.connect();
    // 4 fill the slots, 4 wait behind them: all time out.
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => outcome(c.getString(`a${i}`))));
    expect(first).toEqual(Array.from({ length: 8 }, () => 'TIMEOUT'));
    expect(server.heldFrames()).toBe(4);
    // Before the fix the 4 timed-out requests held every slot: this one was never written and timed out too.
    expect(await outcome(c.getString('later'))).toBe('ok:value-of-later');
    expect(server.connections()).toBe(2);
    expect(c.pending).toEqual({ inflight: 0, queued: 0 });
  });

  it('a lone request that times out gives the connection up, so the next one goes to a fresh connection', async () => {
    const server = await silentThenHealthy();
    const c = client(server.port, { requestTimeoutMs: 100, reconnect: { maxAttempts: 100, baseDelayMs: 10, maxDelayMs: 20 } });
    expect(await outcome(c.getString('x'))).toBe('TIMEOUT');
    expect(await outcome(c.getString('y'))).toBe('ok:value-of-y');
    expect(server.connections()).toBe(2);
  });

  it('a steady stream to a silent server: after maxSilentTimeouts timeouts in a row it reconnects; every promise settles with its own reply', async () => {
    const server = await silentThenHealthy();
    const c = client(server.port, {
      requestTimeoutMs: 200,
      maxSilentTimeouts: 2,
      reconnect: { maxAttempts: 100, baseDelayMs: 10, maxDelayMs: 20 },
    });
    await c.connect();
    let reconnects = 0;
    c.on('reconnecting', () => (reconnects += 1));
    // A new request every 20 ms keeps fresh ones in flight, so "all in flight timed out" never holds.
    const calls: Promise<string>[] = [];
    const keys: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      keys.push(`k${i}`);
      calls.push(outcome(c.getString(`k${i}`)));
      await sleep(20);
    }
    const results = await Promise.all(calls);
    expect(reconnects).toBeGreaterThanOrEqual(1);
    // Each settles: its own value, or TIMEOUT / CONNECTION_LOST from the silent connection; never another key's value.
    for (const [i, r] of results.entries()) {
      expect([keys[i], ['TIMEOUT', 'CONNECTION_LOST', `ok:value-of-${keys[i]}`].includes(r)]).toEqual([keys[i], true]);
    }
    expect(results.filter((r) => r === 'TIMEOUT').length).toBeGreaterThanOrEqual(2);
    expect(results.filter((r) => r === 'CONNECTION_LOST').length).toBeGreaterThanOrEqual(1); // in flight, not yet timed out, when it gave up
    expect(results.at(-1)).toBe(`ok:value-of-${keys.at(-1)}`);
    expect(await outcome(c.getString('after'))).toBe('ok:value-of-after');
  });

  it('maxSilentTimeouts is validated with a message naming it', () => {
    expect(() => new ConduitClient({ maxSilentTimeouts: 0 })).toThrow('maxSilentTimeouts option must be an integer from 1 to 1000000, got 0');
    expect(() => new ConduitClient({ maxSilentTimeouts: 1.5 })).toThrow(/maxSilentTimeouts option/);
  });

  it('turns TCP keepalive on for every connection', async () => {
    const keepAlive = vi.spyOn(Socket.prototype, 'setKeepAlive');
    const server = await silentThenHealthy(0);
    const c = client(server.port);
    await c.connect();
    expect(keepAlive).toHaveBeenCalledWith(true, expect.any(Number));
    expect(keepAlive.mock.calls.find((call) => call[0] === true)?.[1]).toBeGreaterThan(0);
  });
});

describe('ConduitClient and server-originated frames (spec §2.2, §4.2)', () => {
  for (const [name, status] of [
    ['OK', Status.OK],
    ['NOT_FOUND', Status.NOT_FOUND],
    ['NOT_STORED', Status.NOT_STORED],
  ] as const) {
    it(`a server-originated frame with status ${name} is a PROTOCOL_ERROR that closes the connection (was UNKNOWN_STATUS)`, async () => {
      const port = await fakeServer((_frame, socket) => reply(socket, SERVER_ID_BASE, '', status));
      const c = client(port, { reconnect: false });
      const results = await Promise.all([outcome(c.getString('a')), outcome(c.getString('b'))]);
      expect(results).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
      await expect(c.getString('a')).rejects.toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringContaining('server-originated') });
    });
  }

  it('a server-originated error frame still rejects with its own code', async () => {
    const port = await fakeServer((_frame, socket) => reply(socket, SERVER_ID_BASE + 1n, 'bad frame', Status.FRAME_TOO_LARGE));
    const c = client(port, { reconnect: false });
    await expect(c.getString('a')).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
  });
});
