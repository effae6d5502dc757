// Compare-and-set and get-and-touch on real sockets (issue 19 items 2 and 4,
// spec §3.11, §3.12, protocol 1.1): ConduitClient in plaintext, in secure
// mode with sealed envelopes and with frames sealed alone; and a 1.0 SET
// (no CAS flag) on a key that has a version is unchanged.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Opcode, Status } from '../../src/index.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const modes = [
  ['plaintext', {}],
  ['secure mode, sealed envelopes', { key }],
  ['secure mode, frames sealed alone', { key, sealing: 'frames' as const }],
] as const;

async function client(secure: boolean, extra: object): Promise<ConduitClient> {
  const { port } = await startServer(secure ? { keys: [key] } : {});
  const c = new ConduitClient({ port, ...extra });
  clients.push(c);
  await c.connect();
  return c;
}

describe.each(modes)('CAS and GAT over ConduitClient, %s', (_name, extra) => {
  const secure = 'key' in extra;

  it('getWithVersion: a version that changes on every write (SET, INCR), not on GAT or RENEW; undefined when absent', async () => {
    const c = await client(secure, extra);
    expect(await c.getWithVersion('n')).toBeUndefined();
    await c.set('n', '1');
    const first = await c.getWithVersion('n');
    expect(first?.value.toString()).toBe('1');
    expect(first?.version).toBeGreaterThan(0n);
    expect((await c.getWithVersion('n'))?.version).toBe(first?.version); // a read changes nothing
    await c.getAndTouch('n', 60_000);
    await c.renew('n', 0);
    expect((await c.getWithVersion('n'))?.version).toBe(first?.version);
    await c.set('n', '1'); // the same bytes: still a write
    const second = await c.getWithVersion('n');
    expect(second!.version).not.toBe(first!.version);
    await c.incr('n', 1n);
    const third = await c.getWithVersion('n');
    expect(third?.value.toString()).toBe('2');
    expect(third!.version).not.toBe(second!.version);
  });

  it('set with a version: stores on a match, false on another version or a missing key; a plain SET ignores versions', async () => {
    const c = await client(secure, extra);
    expect(await c.set('k', 'a', { version: 1n })).toBe(false); // NOT_FOUND: no key, so nothing created
    expect(await c.get('k')).toBeUndefined();
    await c.set('k', 'a');
    const read = (await c.getWithVersion('k'))!;
    expect(await c.set('k', 'b', { version: read.version + 1000n })).toBe(false); // EXISTS
    expect((await c.get('k'))?.toString()).toBe('a');
    expect(await c.set('k', 'b', { version: read.version, ttlMs: 60_000 })).toBe(true);
    expect((await c.get('k'))?.toString()).toBe('b');
    expect(await c.ttl('k')).toBeGreaterThan(0);
    expect(await c.set('k', 'c', { version: read.version })).toBe(false); // the version moved on with the write
    await c.delete('k');
    await c.set('k', 'a'); // re-created: a new version, never the old one back
    expect(await c.set('k', 'z', { version: read.version })).toBe(false);
    expect(await c.set('k', 'plain')).toBe(true);
  });

  it('getAndTouch: the value, with the expiry set (or removed by 0); undefined when absent', async () => {
    const c = await client(secure, extra);
    expect(await c.getAndTouch('s', 1000)).toBeUndefined();
    await c.set('s', 'token');
    expect(await c.ttl('s')).toBe(-1);
    expect((await c.getAndTouch('s', 60_000))?.toString()).toBe('token');
    const ttl = (await c.ttl('s'))!;
    expect(ttl).toBeGreaterThan(30_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect((await c.getAndTouch('s', 0))?.toString()).toBe('token');
    expect(await c.ttl('s')).toBe(-1);
  });

  it('update: reads, applies fn and writes with the version; creates an absent key; 50 concurrent updates lose none', async () => {
    const c = await client(secure, extra);
    expect((await c.update('u', (old) => String(Number(old ?? 0) + 1))).toString()).toBe('1');
    await Promise.all(Array.from({ length: 50 }, () => c.update('u', (old) => String(Number(old ?? 0) + 1), { attempts: 1000 })));
    expect((await c.get('u'))?.toString()).toBe('51');
  });
});

describe('CAS options checked by ConduitClient before sending', () => {
  it('version 0n, a number, a negative or a u64 overflow are BAD_REQUEST naming the option, and nothing is written', async () => {
    const c = await client(false, {});
    await c.set('v', 'kept');
    for (const bad of [0n, -1n, 1n << 64n, 5 as unknown as bigint]) {
      const err = await c.set('v', 'lost', { version: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConduitError);
      expect((err as ConduitError).code).toBe('BAD_REQUEST');
      expect((err as ConduitError).message).toMatch(/version option/);
    }
    expect(await c.set('absent', 'x', { version: 0n }).catch((e: ConduitError) => e.code)).toBe('BAD_REQUEST');
    expect(await c.get('absent')).toBeUndefined();
    expect((await c.get('v'))?.toString()).toBe('kept');
    const read = (await c.getWithVersion('v'))!;
    expect(await c.set('v', 'x', { version: read.version, nx: true }).catch((e: ConduitError) => e.message)).toMatch(/nx and version/);
  });

  it('update keeps the expiry unless ttlMs is given, which sets it; a created key gets ttlMs', async () => {
    const c = await client(false, {});
    await c.set('s', '1', { ttlMs: 60_000 });
    await c.update('s', (old) => String(Number(old) + 1));
    expect((await c.get('s'))?.toString()).toBe('2');
    const kept = await c.ttl('s');
    expect(kept).toBeGreaterThan(50_000);
    await c.update('s', (old) => String(Number(old) + 1), { ttlMs: 0 });
    expect(await c.ttl('s')).toBe(-1);
    await c.update('s', (old) => String(Number(old) + 1), { ttlMs: 5_000 });
    expect(await c.ttl('s')).toBeLessThanOrEqual(5_000);
    await c.update('fresh', () => 'a', { ttlMs: 7_000 });
    const fresh = await c.ttl('fresh');
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThanOrEqual(7_000);
  });
});

describe('CAS and GAT on the wire', () => {
  it('update gives up with EXISTS after its attempts when every write loses the race', async () => {
    const c = await client(false, {});
    await c.set('busy', '0');
    let n = 0;
    const err = await c
      .update('busy', async (old) => {
        await c.set('busy', `other ${(n += 1)}`); // another writer gets in between every time
        return `${old?.toString()}!`;
      }, { attempts: 3 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConduitError);
    expect((err as ConduitError).code).toBe('EXISTS');
    expect(n).toBe(3);
    await expect(c.update('busy', () => 'x', { attempts: 0 })).rejects.toThrow(/attempts option must be an integer from 1 to 1000, got 0/);
  });

  it('raw frames: GETS answers version then value, a stale CAS SET is EXISTS (0x03), a missing key NOT_FOUND; a 1.0 SET is unchanged', async () => {
    const { port } = await startServer();
    const raw = await rawClient(port);
    const k = Buffer.from('user:42');
    raw.write(Buffer.concat(encodeRequest(1n, { op: 'SET', key: k, value: Buffer.from('v1'), ttlMs: 0, nx: false, xx: false, keepTtl: false })));
    raw.write(Buffer.concat(encodeRequest(2n, { op: 'GETS', key: k })));
    await raw.waitFrames(2);
    const answers = raw.frames;
    expect(answers.map((f) => [f.opcode, f.body.length])).toEqual([[Status.OK, 0], [Status.OK, 10]]);
    const version = answers[1]!.body.readBigUInt64BE(0);
    expect(answers[1]!.body.subarray(8).toString()).toBe('v1');
    raw.write(Buffer.concat(encodeRequest(3n, { op: 'SET', key: k, value: Buffer.from('v2'), ttlMs: 0, nx: false, xx: false, keepTtl: false, version: version + 1n })));
    raw.write(Buffer.concat(encodeRequest(4n, { op: 'SET', key: Buffer.from('absent'), value: Buffer.from('v2'), ttlMs: 0, nx: false, xx: false, keepTtl: false, version })));
    raw.write(Buffer.concat(encodeRequest(5n, { op: 'SET', key: k, value: Buffer.from('v3'), ttlMs: 0, nx: false, xx: false, keepTtl: false, version })));
    raw.write(Buffer.concat(encodeRequest(6n, { op: 'GAT', key: k, ttlMs: 5000 })));
    await raw.waitFrames(6);
    expect(raw.frames.slice(2).map((f) => [String(f.id), f.opcode, f.body.toString()])).toEqual([
      ['3', Status.EXISTS, ''],
      ['4', Status.NOT_FOUND, ''],
      ['5', Status.OK, ''],
      ['6', Status.OK, 'v3'],
    ]);
    expect(Opcode.GETS).toBe(0x0b);
    expect(Opcode.GAT).toBe(0x0c);
  });
});
