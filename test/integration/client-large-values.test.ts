// Values larger than one frame through ConduitClient (issue 19 item 1, spec
// §2.4 fragments, §3.13 CAPS): 64 MiB round trips in plaintext, secure mode
// sealed per frame and in envelopes; the client's and the server's limits;
// a 1.0 server (CAPS answered UNKNOWN_OPCODE); order kept around a large
// request.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Opcode, Status, type ClientOptions } from '../../src/index.js';
import { fakeServer, reply } from '../support/fake-server.js';
import { startServer } from '../support/server.js';

const MiB = 2 ** 20;
const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function client(port: number, options: ClientOptions = {}): ConduitClient {
  const c = new ConduitClient({ port, requestTimeoutMs: 60_000, ...options });
  clients.push(c);
  return c;
}

/** `size` bytes that differ from fragment to fragment (a fragment sent twice or out of order shows). */
function patterned(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) out.writeUInt32BE(((i >>> 2) * 2654435761 + seed) >>> 0, Math.min(i, size - 4));
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<ConduitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConduitError);
    return err as ConduitError;
  }
  throw new Error('expected a rejection');
}

const MODES: { name: string; secure: boolean; options: ClientOptions }[] = [
  { name: 'plaintext', secure: false, options: {} },
  { name: 'secure mode, sealed per frame', secure: true, options: { key, sealing: 'frames' } },
  { name: 'secure mode, sealed envelopes', secure: true, options: { key, sealing: 'envelopes' } },
];

describe('ConduitClient: values larger than one frame (spec §2.4)', () => {
  for (const mode of MODES) {
    it(`${mode.name}: a 64 MiB value round-trips (SET, GET, GETS), with small requests pipelined around it`, async () => {
      const { port } = await startServer({ maxMemory: 256 * MiB, maxValueSize: 64 * MiB, ...(mode.secure ? { keys: [key] } : {}) });
      const c = client(port, mode.options);
      const value = patterned(64 * MiB);
      const [before, stored, after] = await Promise.all([c.set('small', 'a'), c.set('big', value), c.set('small', 'b')]);
      expect([before, stored, after]).toEqual([true, true, true]);
      const [got, small] = await Promise.all([c.get('big'), c.getString('small')]);
      expect(got?.length).toBe(value.length);
      expect(got?.equals(value)).toBe(true);
      expect(small).toBe('b');
      const versioned = await c.getWithVersion('big');
      expect(versioned?.value.equals(value)).toBe(true);
      const caps = await c.capabilities();
      expect(caps).toMatchObject({ minor: 4, fragments: true, maxValueSize: 64 * MiB });
      expect(c.pending).toEqual({ inflight: 0, queued: 0 });
    });
  }

  it('a value just over one frame, and one of exactly what fits, both ways', async () => {
    const { port } = await startServer({ maxValueSize: 4 * MiB, keys: [key] });
    for (const options of [{ key, sealing: 'frames' as const }, { key, sealing: 'envelopes' as const }]) {
      const c = client(port, options);
      for (const size of [65_508 - 20, 65_508, 65_509, 65_524, 65_525, 3 * 65_508 + 7]) {
        const value = patterned(size, size);
        expect(await c.set(`k${size}`, value)).toBe(true);
        expect((await c.get(`k${size}`))?.equals(value)).toBe(true);
      }
    }
  });

  it('a response larger than the client\'s maxValueSize fails that request with TOO_LARGE; the connection stays usable', async () => {
    const { port } = await startServer({ maxMemory: 64 * MiB, maxValueSize: 8 * MiB });
    const writer = client(port);
    expect(await writer.set('big', patterned(3 * MiB))).toBe(true);
    const reader = client(port, { maxValueSize: 2 * MiB });
    let connects = 0;
    reader.on('connect', () => (connects += 1));
    await reader.connect();
    const [big, after] = await Promise.allSettled([reader.get('big'), reader.set('after', 'x')]);
    expect(big.status).toBe('rejected');
    const err = (big as PromiseRejectedResult).reason as ConduitError;
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toContain('maxValueSize');
    expect(after).toEqual({ status: 'fulfilled', value: true });
    expect(await reader.getString('after')).toBe('x');
    expect(connects).toBe(1); // the same connection carried on
  });

  it('the maxValueSize option is validated with a message naming it', () => {
    expect(() => new ConduitClient({ maxValueSize: 64 * MiB + 1 })).toThrow(/maxValueSize option must be an integer from 1 to 67108864/);
    expect(() => new ConduitClient({ maxValueSize: 0 })).toThrow(/maxValueSize/);
  });

  it('against a server with a small --max-value-size: over it is TOO_LARGE naming the limit (locally or from the server), the connection carries on', async () => {
    const limit = MiB;
    const { port } = await startServer({ maxValueSize: limit });
    const c = client(port);
    let connects = 0;
    c.on('connect', () => (connects += 1));
    expect((await c.capabilities()).maxValueSize).toBe(limit);
    expect(await c.set('fits', patterned(limit))).toBe(true);
    const justOver = await rejection(c.set('over', patterned(limit + 1))); // the server refuses it (spec §2.4)
    expect(justOver.code).toBe('TOO_LARGE');
    const farOver = await rejection(c.set('far', patterned(4 * limit))); // refused before sending: the server said its limit
    expect(farOver.code).toBe('TOO_LARGE');
    expect(farOver.message).toContain(String(limit));
    expect((await c.get('fits'))?.equals(patterned(limit))).toBe(true);
    expect(await c.get('over')).toBeUndefined();
    expect(connects).toBe(1);
  });

  it('a local limit: no request body over 64 MiB (plus SET\'s fields) is ever sent', async () => {
    const { port } = await startServer({ maxValueSize: MiB });
    const c = client(port);
    const err = await rejection(c.set('huge', Buffer.alloc(64 * MiB + 300)));
    expect(err.code).toBe('TOO_LARGE');
    expect(await c.set('small', 'ok')).toBe(true);
  });
});

describe('ConduitClient against a protocol 1.0 server (CAPS answered UNKNOWN_OPCODE)', () => {
  /** A 1.0 server: CAPS is an unknown opcode; SET and GET of one frame are served from a Map. */
  async function server10(): Promise<{ port: number; frames: number[] }> {
    const store = new Map<string, Buffer>();
    const frames: number[] = [];
    const port = await fakeServer((frame, socket) => {
      frames.push(frame.opcode);
      if (frame.opcode === Opcode.CAPS || frame.opcode >= 0x80) return reply(socket, frame.id, 'unknown opcode', Status.UNKNOWN_OPCODE);
      if (frame.opcode === Opcode.SET) {
        const keyLength = frame.body[5] ?? 0; // spec §3.3: flags u8, ttl u32, key_len u8, key, value
        store.set(frame.body.subarray(6, 6 + keyLength).toString('latin1'), Buffer.from(frame.body.subarray(6 + keyLength)));
        return reply(socket, frame.id);
      }
      const value = store.get(frame.body.toString('latin1')); // spec §3.2: a GET's body is its key
      return value === undefined ? reply(socket, frame.id, '', Status.NOT_FOUND) : reply(socket, frame.id, value.toString('latin1'));
    }, { caps: 'passthrough' });
    return { port, frames };
  }

  it('capabilities() says 1.0; a large SET fails clearly and alone, small requests around it work', async () => {
    const { port, frames } = await server10();
    const c = client(port);
    const [before, large, after] = await Promise.allSettled([c.set('a', '1'), c.set('big', patterned(100_000)), c.set('b', '2')]);
    expect(before).toEqual({ status: 'fulfilled', value: true });
    expect(after).toEqual({ status: 'fulfilled', value: true });
    const err = (large as PromiseRejectedResult).reason as ConduitError;
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toContain('1.0');
    expect(await c.getString('a')).toBe('1');
    expect(await c.getString('b')).toBe('2');
    expect(await c.capabilities()).toMatchObject({ minor: 0, fragments: false });
    expect(frames.filter((op) => op >= 0x80)).toEqual([]); // no fragment was ever sent to it
    expect(frames[0]).toBe(Opcode.CAPS);
  });
});
