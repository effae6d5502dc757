import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, type ClientOptions } from '../../src/index.js';
import { startServer } from '../support/server.js';

// The heap check below measures what stays live, after a collection: heapUsed alone also counts
// garbage not yet collected, which put the same client at 247–315 MiB from run to run.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const clients: ConduitClient[] = [];
function client(port: number, options: ClientOptions = {}): ConduitClient {
  const c = new ConduitClient({ port, ...options });
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function rejection(promise: Promise<unknown>): Promise<ConduitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConduitError);
    return err as ConduitError;
  }
  throw new Error('expected a rejection');
}

describe('ConduitClient against conduit-server', () => {
  it('every method', async () => {
    const { port } = await startServer({ allowShutdown: false });
    const c = client(port);
    await c.connect();
    expect(await c.set('greeting', 'hello')).toBe(true);
    expect(await c.getString('greeting')).toBe('hello');
    expect((await c.get('greeting'))?.toString()).toBe('hello');
    expect(await c.get('missing')).toBeUndefined();
    expect(await c.getString('missing')).toBeUndefined();
    expect(await c.set('greeting', 'again', { nx: true })).toBe(false);
    expect(await c.set('absent', 'x', { xx: true })).toBe(false);
    expect(await c.set('greeting', 'bye', { xx: true, keepTtl: true })).toBe(true);
    expect(await c.ttl('greeting')).toBe(-1);
    expect(await c.renew('greeting', 60_000)).toBe(true);
    expect(await c.ttl('greeting')).toBeGreaterThan(59_000);
    expect(await c.renew('missing', 10)).toBe(false);
    expect(await c.ttl('missing')).toBeUndefined();
    expect(await c.incr('hits')).toBe(1n);
    expect(await c.incr('hits', 41)).toBe(42n);
    expect(await c.incr('hits', -2n)).toBe(40n);
    expect(await c.incr('fresh', 5n, { ttlMs: 10_000 })).toBe(5n);
    expect(await c.ttl('fresh')).toBeGreaterThan(9_000);
    expect((await rejection(c.incr('greeting'))).code).toBe('NOT_INTEGER');
    const listed = await c.list('g');
    expect(listed).toEqual({ keys: [Buffer.from('greeting')], truncated: false });
    expect((await c.list('', 1)).truncated).toBe(true);
    expect(await c.delete('greeting')).toBe(true);
    expect(await c.delete('greeting')).toBe(false);
    const processed = (await c.stats()).total_commands_processed as number;
    const roundTrip = await c.health();
    expect(Number.isFinite(roundTrip)).toBe(true);
    expect((await c.stats()).total_commands_processed).toBe(processed + 2); // the HEALTH and the STATS before it
    const stats = await c.stats();
    expect(stats).toMatchObject({ curr_items: 2, connected_clients: 1 });
    await c.flush();
    expect(await c.get('hits')).toBeUndefined();
    // Protocol 1.1 (spec §2.4): over one frame goes in fragments; over the server's --max-value-size
    // (1 MiB by default, from CAPS) it is refused before it is sent.
    expect(await c.set('k', Buffer.alloc(70_000))).toBe(true);
    const tooLarge = await rejection(c.set('k', Buffer.alloc(2 * 1_048_576)));
    expect([tooLarge.code, tooLarge.status]).toEqual(['TOO_LARGE', undefined]);
    expect((await rejection(c.set('', 'v'))).code).toBe('BAD_REQUEST');
    expect(c.pending).toEqual({ inflight: 0, queued: 0 });
  });

  it('server errors carry the status byte and the server’s message', async () => {
    const { port } = await startServer({ maxMemory: 16 * 1024, shards: 1, eviction: 'none' });
    const c = client(port);
    const full = await rejection(c.set('k', Buffer.alloc(20_000)));
    expect([full.code, full.status]).toEqual(['TOO_LARGE', 0x43]);
    expect(full.message).toMatch(/memory budget/);
  });

  it('binary keys and values, every byte value', async () => {
    const { port } = await startServer();
    const c = client(port);
    const key = Buffer.from(Array.from({ length: 250 }, (_, i) => (i * 7) % 256));
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await c.set(key, value);
    expect((await c.get(new Uint8Array(key)))?.equals(value)).toBe(true);
    expect((await c.list(key.subarray(0, 3))).keys[0]?.equals(key)).toBe(true);
  });

  it('pipelines 100,000 requests with Promise.all, each answer to its own caller', async () => {
    const { port } = await startServer();
    const c = client(port, { maxQueued: 200_000 });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => c.set(`k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 100_000 }, (_, i) => c.getString(`k${i % 1000}`)));
    expect(values.every((v, i) => v === `v${i % 1000}`)).toBe(true);
  }, 30_000);

  it('1,000,000 requests issued without awaiting: QUEUE_FULL past the bound, no crash, heap bounded', async () => {
    const { port } = await startServer();
    const c = client(port, { maxInflight: 1024, maxQueued: 10_000, requestTimeoutMs: 120_000 });
    await c.connect();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    let full = 0;
    let ok = 0;
    let maxPending = 0;
    const last: Promise<void>[] = [];
    // Bursts of 50,000 calls, yielding between bursts but never awaiting the calls.
    for (let burst = 0; burst < 20; burst += 1) {
      for (let i = 0; i < 50_000; i += 1) {
        const p = c.get('k').then(
          () => {
            ok += 1;
          },
          (err: ConduitError) => {
            if (err.code !== 'QUEUE_FULL') throw err;
            full += 1;
          },
        );
        if (burst === 19) last.push(p);
      }
      maxPending = Math.max(maxPending, c.pending.inflight + c.pending.queued);
      gc(); // the calls of this burst still queued or in flight stay live; the settled ones go
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(last);
    await c.health();
    expect(maxPending).toBeLessThanOrEqual(1024 + 10_000);
    expect(full).toBeGreaterThan(500_000);
    expect(full + ok).toBe(1_000_000);
    expect(heapPeak - heapBefore).toBeLessThan(128 * 1024 * 1024); // live (46 MiB measured, the last burst's 50,000 calls held), not the million calls
  }, 60_000);

  it('close() waits for what is in flight, then rejects new calls with CLOSED', async () => {
    const { port } = await startServer();
    const c = client(port);
    const pending = Array.from({ length: 1000 }, (_, i) => c.set(`k${i}`, 'v'));
    const closed = c.close();
    expect((await rejection(c.get('k1'))).code).toBe('CLOSED');
    expect((await Promise.all(pending)).every(Boolean)).toBe(true);
    await closed;
  });

  it('destroy() rejects everything outstanding with CLOSED at once', async () => {
    const { port } = await startServer();
    const c = client(port);
    await c.connect();
    const pending = Array.from({ length: 100 }, () => c.get('k'));
    c.destroy();
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as ConduitError).code === 'CLOSED')).toBe(true);
  });

  it('connect() rejects with CONNECT_FAILED when nothing listens, and queued calls with it', async () => {
    const { port, server } = await startServer();
    await server.close();
    const c = client(port, { reconnect: false });
    const call = c.get('k');
    const error = await rejection(c.connect());
    expect(error.code).toBe('CONNECT_FAILED');
    expect((await rejection(call)).code).toBe('CONNECT_FAILED');
  });

  it('validates options with messages naming the option', () => {
    expect(() => new ConduitClient({ port: 0 })).toThrow(/port option/);
    expect(() => new ConduitClient({ maxInflight: 0 })).toThrow(/maxInflight option/);
    expect(() => new ConduitClient({ reconnect: { baseDelayMs: 100, maxDelayMs: 10 } })).toThrow(/reconnect.maxDelayMs/);
  });
});
