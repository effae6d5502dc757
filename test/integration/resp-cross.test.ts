// Issue 23, one store behind three front doors: a key written over RESP (ioredis) reads back
// over the Conduit protocol (ConduitClient) and the HTTP gateway byte for byte, with the same
// TTL (within 1 s), and the reverse; keys and values with every byte value.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { ConduitClient } from '../../src/index.js';
import { startServer } from '../support/server.js';

const BIN = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** Two 250-byte keys (Conduit's longest) that between them hold all 256 byte values. */
const BIN_KEYS = [BIN.subarray(0, 250), BIN.subarray(6, 256)];
const VALUES: { name: string; value: Buffer }[] = [
  { name: 'text', value: Buffer.from('hello world') },
  { name: 'all 256 byte values', value: BIN },
  { name: 'CR LF and NUL', value: Buffer.from('\r\n\0$3\r\n*1\r\n') },
  { name: 'empty', value: Buffer.alloc(0) },
  { name: '512 KiB', value: Buffer.alloc(512 * 1024, 0xab) },
];

/** `/v1/keys/<key>` with every byte percent-encoded (binary keys). */
const pathOf = (key: Buffer): string => `/v1/keys/${[...key].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`;

let resp: IORedis;
let conduit: ConduitClient;
let base: string;

beforeEach(async () => {
  const { port, httpPort, respPort } = await startServer({ respPort: 0, httpPort: 0 });
  if (respPort === undefined || httpPort === undefined) throw new Error('the server did not report its RESP and HTTP ports');
  base = `http://127.0.0.1:${httpPort}`;
  resp = new IORedis({ host: '127.0.0.1', port: respPort, protocol: 2, maxRetriesPerRequest: 0, retryStrategy: () => null });
  resp.on('error', () => {});
  conduit = new ConduitClient({ host: '127.0.0.1', port });
  await conduit.connect();
});

afterEach(async () => {
  resp.disconnect();
  await conduit.close();
});

/** The value and TTL (ms; -1 none; undefined: absent) of `key` over HTTP. */
async function overHttp(key: Buffer): Promise<{ value: Buffer | undefined; ttlMs: number | undefined }> {
  const got = await fetch(`${base}${pathOf(key)}`);
  const value = got.status === 404 ? undefined : Buffer.from(await got.arrayBuffer());
  if (got.status !== 404) expect(got.status).toBe(200);
  const ttl = await fetch(`${base}${pathOf(key)}/ttl`);
  if (ttl.status === 404) return { value, ttlMs: undefined };
  return { value, ttlMs: ((await ttl.json()) as { ttl_ms: number }).ttl_ms };
}

describe('RESP ⇄ Conduit protocol ⇄ HTTP: one store', () => {
  it('written over RESP with EX: the Conduit protocol and HTTP read the same bytes and the same TTL', { timeout: 30_000 }, async () => {
    for (const [i, { name, value }] of VALUES.entries()) {
      const key = BIN_KEYS[i % 2] ?? BIN;
      expect(await resp.set(key, value, 'EX', 100), name).toBe('OK');
      const pttl = await resp.pttl(key);
      expect((await conduit.get(key))?.equals(value), name).toBe(true);
      expect(Math.abs(((await conduit.ttl(key)) ?? 0) - pttl), name).toBeLessThanOrEqual(1_000);
      const http = await overHttp(key);
      expect(http.value?.equals(value), name).toBe(true);
      expect(Math.abs((http.ttlMs ?? 0) - pttl), name).toBeLessThanOrEqual(1_000);
      expect(pttl).toBeGreaterThan(99_000);
      expect(pttl).toBeLessThanOrEqual(100_000);
    }
  });

  it('written over RESP with PX, PXAT, KEEPTTL and no expiry: the TTL each side reads agrees', { timeout: 30_000 }, async () => {
    const k = Buffer.from('ttl-key');
    await resp.set(k, 'v', 'PX', 250_000);
    expect(Math.abs(((await conduit.ttl(k)) ?? 0) - 250_000)).toBeLessThanOrEqual(1_000);
    await resp.call('SET', k, 'w', 'PXAT', String(Date.now() + 30_000));
    expect(Math.abs(((await conduit.ttl(k)) ?? 0) - 30_000)).toBeLessThanOrEqual(1_000);
    expect(Math.abs(((await overHttp(k)).ttlMs ?? 0) - 30_000)).toBeLessThanOrEqual(1_000);
    await resp.call('SET', k, 'x', 'KEEPTTL');
    expect(Math.abs(((await conduit.ttl(k)) ?? 0) - 30_000)).toBeLessThanOrEqual(1_000);
    expect((await conduit.getString(k))).toBe('x');
    await resp.set(k, 'y');
    expect(await conduit.ttl(k)).toBe(-1);
    expect((await overHttp(k)).ttlMs).toBe(-1);
    expect(await resp.ttl(k)).toBe(-1);
    await resp.expire(k, 40);
    expect(Math.abs(((await conduit.ttl(k)) ?? 0) - 40_000)).toBeLessThanOrEqual(1_000);
    await resp.persist(k);
    expect(await conduit.ttl(k)).toBe(-1);
  });

  it('written over the Conduit protocol: RESP reads the same bytes, TTL and PTTL', { timeout: 30_000 }, async () => {
    for (const [i, { name, value }] of VALUES.entries()) {
      const key = BIN_KEYS[(i + 1) % 2] ?? BIN;
      expect(await conduit.set(key, value, { ttlMs: 100_000 }), name).toBe(true);
      expect((await resp.getBuffer(key))?.equals(value), name).toBe(true);
      expect(await resp.strlen(key), name).toBe(value.length);
      const pttl = await resp.pttl(key);
      expect(Math.abs(pttl - ((await conduit.ttl(key)) ?? 0)), name).toBeLessThanOrEqual(1_000);
      expect(await resp.ttl(key), name).toBeGreaterThanOrEqual(99);
      expect(await resp.ttl(key), name).toBeLessThanOrEqual(100);
      const expiretime = Number(await resp.call('PEXPIRETIME', key));
      expect(Math.abs(expiretime - (Date.now() + pttl)), name).toBeLessThanOrEqual(1_000);
    }
    await conduit.set('plain', 'v');
    expect(await resp.ttl('plain')).toBe(-1);
    expect(await resp.call('EXPIRETIME', 'plain')).toBe(-1);
  });

  it('written over HTTP: RESP reads the same bytes and TTL; deleted over RESP: gone for HTTP and the Conduit protocol', { timeout: 30_000 }, async () => {
    for (const [i, { name, value }] of VALUES.entries()) {
      const key = BIN_KEYS[i % 2] ?? BIN;
      const put = await fetch(`${base}${pathOf(key)}?ttl=100s`, { method: 'PUT', body: value });
      expect(put.status, name).toBe(204);
      expect((await resp.getBuffer(key))?.equals(value), name).toBe(true);
      expect(Math.abs((await resp.pttl(key)) - 100_000), name).toBeLessThanOrEqual(1_000);
      expect(await resp.del(key), name).toBe(1);
      expect(await conduit.get(key), name).toBeUndefined();
      expect((await overHttp(key)).value, name).toBeUndefined();
      expect(await resp.exists(key), name).toBe(0);
    }
  });

  it('counters and expiry cross over: INCRBY over RESP, incr over the protocol and HTTP, one value; a PX expiry ends the key everywhere', { timeout: 30_000 }, async () => {
    expect(await resp.incrby('hits', 40)).toBe(40);
    expect(await conduit.incr('hits', 2)).toBe(42n);
    const viaHttp = await fetch(`${base}/v1/keys/hits/incr?by=-2`, { method: 'POST' });
    expect(await viaHttp.json()).toEqual({ value: '40' });
    expect(await resp.get('hits')).toBe('40');
    await resp.set('short', 'v', 'PX', 200);
    expect(await conduit.getString('short')).toBe('v');
    await new Promise((r) => setTimeout(r, 400));
    expect(await conduit.get('short')).toBeUndefined();
    expect((await overHttp(Buffer.from('short'))).value).toBeUndefined();
    expect(await resp.exists('short')).toBe(0);
    // FLUSHALL over RESP empties the one store.
    await conduit.set('x', '1');
    expect(await resp.call('FLUSHALL')).toBe('OK');
    expect(await conduit.get('x')).toBeUndefined();
    expect(await resp.dbsize()).toBe(0);
  });
});
