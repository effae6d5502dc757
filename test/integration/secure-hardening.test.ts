// Issue 15 items 8, 10 and 16 on real sockets: the handshake deadline, one
// AUTH_FAILED message for every authentication failure, and a wrong secret
// that leaves a log line and a counter.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTH_FAILED_MESSAGE,
  ConduitClient,
  generateEphemeral,
  HEADER_SIZE,
  SERVER_ID_BASE,
  Status,
  type Logger,
} from '../../src/index.js';
import { secureRaw } from '../support/secure-client.js';
import { helloFrame } from '../../src/crypto/secure-channel.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

/** A logger that keeps every line. */
function recorder(): Logger & { lines: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

const hello = (keyId: string, publicKey: Buffer, id = 0n): Buffer => helloFrame(keyId, publicKey, id);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('one AUTH_FAILED message for every authentication failure (issue 15 item 10, spec §6.5)', () => {
  const unknownId = hello('nobody', generateEphemeral().publicKey);
  const badPublicKey = hello('app', Buffer.alloc(32));
  // whole, byte by byte, and split at the header boundary and inside the key id and the public key
  const feeds: [string, (c: Awaited<ReturnType<typeof rawClient>>, bytes: Buffer) => Promise<void>][] = [
    ['whole', async (c, bytes) => c.write(bytes)],
    ['byte by byte', (c, bytes) => c.writeByteByByte(bytes)],
    ...[HEADER_SIZE, HEADER_SIZE + 4, HEADER_SIZE + 20].map((at): (typeof feeds)[number] => [
      `split at ${at}`,
      async (c, bytes) => {
        c.write(bytes.subarray(0, at));
        await sleep(5);
        c.write(bytes.subarray(at));
      },
    ]),
  ];
  for (const [name, feed] of feeds) {
    it(`an unknown key id and a bad public key get the same wire message, HELLO fed ${name}`, async () => {
      const logger = recorder();
      const { port, server } = await startServer({ keys: [key], logger });
      const bodies: string[] = [];
      for (const bytes of [unknownId, badPublicKey]) {
        const c = await rawClient(port);
        await feed(c, bytes);
        await c.waitFrames(1);
        await c.waitClosed();
        expect(c.frames.map((f) => [f.opcode, f.id])).toEqual([[Status.AUTH_FAILED, SERVER_ID_BASE]]);
        bodies.push(c.frames[0]?.body.toString() ?? '');
      }
      expect(bodies).toEqual([AUTH_FAILED_MESSAGE, AUTH_FAILED_MESSAGE]);
      // The precise reason is in the server's log, not on the wire.
      const reasons = logger.lines.filter((l) => l.message === 'closing connection: protocol error').map((l) => l.fields.reason);
      expect(reasons).toEqual(['handshake failed: unknown key id (key id nobody)', 'handshake failed: bad public key (key id app)']);
      expect(server.counters.auth_failures).toBe(2);
    });
  }

  it('a frame that fails authentication gets the same message; the log names the frame', async () => {
    const logger = recorder();
    const { port, server } = await startServer({ keys: [key], logger });
    const s = await secureRaw(port, key);
    const sealed = s.seal(1n, { op: 'GET', key: Buffer.from('k') });
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1;
    s.raw.write(sealed);
    await s.raw.waitFrames(1);
    expect(s.raw.frames.map((f) => [f.opcode, f.body.toString()])).toEqual([[Status.AUTH_FAILED, AUTH_FAILED_MESSAGE]]);
    expect(logger.lines.some((l) => l.fields.reason === 'frame 1 failed authentication (key id app)')).toBe(true);
    expect(server.counters.auth_failures).toBe(1);
  });
});

describe('a wrong secret leaves a server log line and a counter (issue 15 item 16)', () => {
  it('ConduitClient with a wrong secret for key id app: warn line naming the key id, auth_failures 1', async () => {
    const logger = recorder();
    const { port, server } = await startServer({ keys: [key], logger });
    const wrong = new ConduitClient({ port, key: { id: 'app', secret: randomBytes(32) }, reconnect: false });
    clients.push(wrong);
    await expect(wrong.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const expected = 'closed after the handshake before any authenticated frame: the client may hold a different secret for key id app';
    const deadline = Date.now() + 5_000;
    while (!logger.lines.some((l) => l.message === expected) && Date.now() < deadline) await sleep(10);
    expect(logger.lines.filter((l) => l.message === expected).map((l) => [l.level, l.fields.keyId])).toEqual([['warn', 'app']]);
    expect(server.counters.auth_failures).toBe(1);
  });

  it('a client with the right secret that authenticates and leaves is not counted', async () => {
    const logger = recorder();
    const { port, server } = await startServer({ keys: [key], logger });
    const right = new ConduitClient({ port, key, reconnect: false });
    clients.push(right);
    await right.connect();
    expect(await right.set('k', 'v')).toBe(true);
    await right.close();
    const deadline = Date.now() + 2_000;
    while (server.counters.connected_clients > 0 && Date.now() < deadline) await sleep(10);
    expect(server.counters.connected_clients).toBe(0);
    expect(server.counters.auth_failures).toBe(0);
  });
});

describe('--handshake-timeout closes unauthenticated connections (issue 15 item 8)', () => {
  it('a silent connection and one that sent half a HELLO are closed, counted and logged', async () => {
    const logger = recorder();
    const { port, server } = await startServer({ keys: [key], handshakeTimeoutMs: 300, logger });
    const silent = await rawClient(port);
    const partial = await rawClient(port);
    partial.write(hello('app', generateEphemeral().publicKey).subarray(0, 20));
    await silent.waitClosed(3_000);
    await partial.waitClosed(3_000);
    expect(server.counters.disconnects.handshake_timeout).toBe(2);
    expect(logger.lines.filter((l) => l.fields.cause === 'handshake_timeout' && l.level === 'warn')).toHaveLength(2);
    expect(silent.frames).toEqual([]);
  });

  it('a client that completes the handshake is not closed by it', async () => {
    const { port, server } = await startServer({ keys: [key], handshakeTimeoutMs: 300 });
    const s = await secureRaw(port, key);
    await sleep(900);
    s.raw.write(s.seal(1n, { op: 'HEALTH' }));
    await s.raw.waitFrames(1);
    expect(s.raw.frames[0]?.opcode).toBe(Status.OK);
    expect(s.raw.closed).toBe(false);
    expect(server.counters.disconnects.handshake_timeout).toBe(0);
  });

  it('with --max-connections full of loiterers, a legitimate client gets in after the deadline', async () => {
    const { port, server } = await startServer({ keys: [key], handshakeTimeoutMs: 400, maxConnections: 5 });
    const loiterers = await Promise.all(Array.from({ length: 5 }, () => rawClient(port)));
    loiterers[0]?.write(hello('app', generateEphemeral().publicKey).subarray(0, 30));
    const refused = new ConduitClient({ port, key, reconnect: false });
    clients.push(refused);
    await expect(refused.connect()).rejects.toMatchObject({ code: 'BUSY' });
    await Promise.all(loiterers.map((c) => c.waitClosed(3_000)));
    const legit = new ConduitClient({ port, key, reconnect: false });
    clients.push(legit);
    await legit.connect();
    expect(await legit.set('k', 'v')).toBe(true);
    expect(server.counters.disconnects.handshake_timeout).toBe(5);
  });

  it('a plaintext server does not apply it', async () => {
    const { port, server } = await startServer({ handshakeTimeoutMs: 200 });
    const silent = await rawClient(port);
    await sleep(800);
    expect(silent.closed || silent.ended).toBe(false);
    silent.write(Buffer.concat([Buffer.from([0x01, 0x05, 0, 0]), Buffer.alloc(8)])); // HEALTH, id 0
    await silent.waitFrames(1);
    expect(silent.frames[0]?.opcode).toBe(Status.OK);
    expect(server.counters.disconnects.handshake_timeout).toBe(0);
  });
});
