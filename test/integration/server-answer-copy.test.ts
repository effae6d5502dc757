import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openFrame } from '../../src/crypto/secure-channel.js';
import { silentLogger } from '../../src/config/logger.js';
import { encodeRequest, MAX_BODY_SIZE, Status, type Request } from '../../src/index.js';
import { Connection, type ConnectionHost } from '../../src/server/connection.js';
import type { Store } from '../../src/store/store.js';
import { rawClient } from '../support/server.js';
import { secureRaw } from '../support/secure-client.js';

/**
 * Regression guard for issue 17's hot-path rule: a GET's answer is copied into the
 * connection's output when the GET executes, not referenced until the flush. The slab
 * store hands out views of its chunks and overwrites a chunk in place on a SET of the same
 * size; this stub does the same (get returns the one buffer it holds, set overwrites it),
 * so an answer that kept a reference would go out with the later value.
 */
function inPlaceStore(): Store {
  const values = new Map<string, Buffer>();
  const name = (source: Buffer, start: number, length: number) => source.toString('latin1', start, start + length);
  const stub = {
    getAt: (source: Buffer, start: number, length: number) => values.get(name(source, start, length)),
    getViewAt: (source: Buffer, start: number, length: number) => values.get(name(source, start, length)), // what a connection reads GETs with
    setAt: (keySource: Buffer, keyStart: number, keyLength: number, valueSource: Buffer, valueStart: number, valueLength: number) => {
      const key = name(keySource, keyStart, keyLength);
      const value = valueSource.subarray(valueStart, valueStart + valueLength);
      const held = values.get(key);
      if (held !== undefined && held.length === value.length) value.copy(held); // in place, as a slab chunk
      else values.set(key, Buffer.from(value));
      return 'stored';
    },
  };
  return stub as unknown as Store;
}

const servers: Server[] = [];
const sockets: Socket[] = [];
// Closed after each test, pass or fail: close() waits for the connections, so they go first.
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A bare net server whose connections are Conduit connections over `store`, on 127.0.0.1, port 0. */
async function serve(store: Store, keys?: ReadonlyMap<string, Buffer>): Promise<number> {
  const host: ConnectionHost<Connection> = {
    store,
    answersCopied: true,
    stats: () => Buffer.alloc(0),
    shutdown: () => ({ status: Status.FORBIDDEN, body: undefined }),
    maxInflight: 1024,
    maxOutputBuffer: 16 << 20,
    maxBodySize: MAX_BODY_SIZE,
    logger: silentLogger,
    keys,
    metrics: undefined,
    countRequest: () => {},
    countDisconnect: () => {},
    countAuthFailure: () => {},
    admitHandshake: () => true,
    outputHeld: () => {},
    released: () => {},
  };
  const server = createServer((socket) => {
    sockets.push(socket);
    new Connection(socket, host);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const key = Buffer.from('k');
const OLD = Buffer.from('old-value');
const NEW = Buffer.from('new-value'); // same length: the stub overwrites in place
const set = (value: Buffer): Request => ({ op: 'SET', key, value, ttlMs: 0, nx: false, xx: false, keepTtl: false });
const get: Request = { op: 'GET', key };

describe('answers are copied at execute time (issue 17: a later SET in the same turn must not change them)', () => {
  it('plaintext: a pipelined GET queued before a SET of the same key keeps the old bytes', async () => {
    const port = await serve(inPlaceStore());
    const c = await rawClient(port);
    c.socket.write(Buffer.concat(encodeRequest(1n, set(OLD))));
    await c.waitFrames(1);
    // One write, so the server executes all three in one turn and flushes them together.
    c.socket.write(Buffer.concat([...encodeRequest(2n, get), ...encodeRequest(3n, set(NEW)), ...encodeRequest(4n, get)]));
    await c.waitFrames(4);
    expect(c.frames.map((f) => [f.id, f.opcode, f.body.toString()])).toEqual([
      [1n, Status.OK, ''],
      [2n, Status.OK, 'old-value'],
      [3n, Status.OK, ''],
      [4n, Status.OK, 'new-value'],
    ]);
  });

  // In a secure session sealing is the copy: the answer is sealed when queued (ciphertext in
  // a new buffer), so this guards that sealing stays at execute time, never deferred to the flush.
  it('secure: the same, with every answer sealed', async () => {
    const psk = { id: 'app', secret: randomBytes(32) };
    const port = await serve(inPlaceStore(), new Map([[psk.id, psk.secret]]));
    const s = await secureRaw(port, psk);
    s.raw.write(s.seal(1n, set(OLD)));
    await s.raw.waitFrames(1);
    s.raw.write(Buffer.concat([s.seal(2n, get), s.seal(3n, set(NEW)), s.seal(4n, get)]));
    await s.raw.waitFrames(4);
    const opened = s.raw.frames.map((f) => {
      const plain = openFrame(s.session.receive, f);
      return [f.id, f.opcode, plain?.body.toString()];
    });
    expect(opened).toEqual([
      [1n, Status.OK, ''],
      [2n, Status.OK, 'old-value'],
      [3n, Status.OK, ''],
      [4n, Status.OK, 'new-value'],
    ]);
  });
});
