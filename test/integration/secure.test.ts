import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConduitClient,
  encodeRequest,
  HEADER_SIZE,
  Status,
  writeHeader,
  type Request,
} from '../../src/index.js';
import { observeNonces } from '../../src/crypto/nonce-audit.js';
import { secureRaw } from '../support/secure-client.js';
import { openFrame } from '../../src/crypto/secure-channel.js';
import { aeadChoice } from '../../src/crypto/aead-choice.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const setGreeting: Request = { op: 'SET', key: Buffer.from('greeting'), value: Buffer.from('hello'), ttlMs: 0, nx: false, xx: false, keepTtl: false };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
function client(port: number, options: ConstructorParameters<typeof ConduitClient>[0] = {}): ConduitClient {
  const c = new ConduitClient({ port, key, ...options });
  clients.push(c);
  return c;
}

describe('secure mode end to end (spec §6)', () => {
  it('ConduitClient with the key works; every frame after HELLO is encrypted', async () => {
    const { port } = await startServer({ keys: [key] });
    const c = client(port);
    await c.connect();
    expect(await c.set('greeting', 'hello')).toBe(true);
    expect(await c.getString('greeting')).toBe('hello');
    expect(await c.incr('n', 41n)).toBe(41n);
    expect(await c.list('gr')).toEqual({ keys: [Buffer.from('greeting')], truncated: false });
    const big = randomBytes(65_524 - 16 - 6 - 3);
    expect(await c.set('big', big)).toBe(true);
    expect((await c.get('big'))?.equals(big)).toBe(true);
    // Protocol 1.1 (spec §2.4): a value past one secure frame goes as fragments, each sealed with its number.
    const larger = randomBytes(65_524 - 6 - 3);
    expect(await c.set('larger', larger)).toBe(true);
    expect((await c.get('larger'))?.equals(larger)).toBe(true);
    await expect(c.set('big', randomBytes(1_048_577))).rejects.toMatchObject({ code: 'TOO_LARGE' }); // over --max-value-size
    // On the wire, the value never appears in the clear.
    const s = await secureRaw(port, key);
    s.raw.write(s.seal(1n, { op: 'GET', key: Buffer.from('greeting') }));
    await s.raw.waitFrames(1);
    const frame = s.raw.frames[0];
    expect(frame?.body.includes(Buffer.from('hello'))).toBe(false);
    expect(frame === undefined ? undefined : openFrame(s.session.receive, frame)?.body.toString()).toBe('hello');
  });

  it('a wrong key fails connect() with AUTH_FAILED; an unknown key id too', async () => {
    const { port, server } = await startServer({ keys: [key] });
    await expect(client(port, { key: { id: 'app', secret: randomBytes(32) }, reconnect: false }).connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(client(port, { key: { id: 'nobody', secret: key.secret }, reconnect: false }).connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.counters.disconnects.auth).toBeGreaterThanOrEqual(1);
  });

  it('a client with a key refuses a plaintext server', async () => {
    const { port } = await startServer();
    await expect(client(port, { reconnect: false }).connect()).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/not in secure mode/) });
  });

  it('a plaintext request to a secure server gets AUTH_REQUIRED and a close', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const raw = await rawClient(port);
    raw.write(Buffer.concat(encodeRequest(1n, setGreeting)));
    await raw.waitClosed();
    expect(raw.frames.map((f) => f.opcode)).toEqual([Status.AUTH_REQUIRED]);
    expect(server.store.stats().curr_items).toBe(0);
    expect(server.counters.disconnects.auth).toBe(1);
  });

  it('a response-direction frame reflected to the server gets BAD_VERSION and a close', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const s = await secureRaw(port, key);
    s.raw.write(s.seal(1n, { op: 'HEALTH' }));
    await s.raw.waitFrames(1);
    const reflected = s.raw.frames[0];
    const bytes = Buffer.alloc(HEADER_SIZE + (reflected?.body.length ?? 0));
    writeHeader(bytes, 0, 0x81, reflected?.opcode ?? 0, reflected?.length ?? 0, 2n);
    reflected?.body.copy(bytes, HEADER_SIZE);
    s.raw.write(bytes);
    await s.raw.waitClosed();
    expect(s.raw.frames.at(-1)?.opcode).toBe(Status.BAD_VERSION);
    expect(server.counters.total_commands_processed).toBe(1);
  });

  it('replay on the same connection is REPLAY; on a new connection AUTH_FAILED; identifiers going backwards REPLAY', async () => {
    const { port, server } = await startServer({ keys: [key] });
    const first = await secureRaw(port, key);
    const captured = first.seal(5n, setGreeting);
    first.raw.write(captured);
    await first.raw.waitFrames(1);
    first.raw.write(captured);
    await first.raw.waitClosed();
    expect(first.raw.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.REPLAY]);

    const second = await secureRaw(port, key);
    second.raw.write(captured);
    await second.raw.waitClosed();
    expect(second.raw.frames.map((f) => f.opcode)).toEqual([Status.AUTH_FAILED]);

    const third = await secureRaw(port, key);
    third.raw.write(Buffer.concat([third.seal(9n, { op: 'HEALTH' }), third.seal(3n, setGreeting)]));
    await third.raw.waitClosed();
    expect(third.raw.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.REPLAY]);
    expect(server.store.stats().total_sets).toBe(1);
    expect(server.counters.disconnects.auth).toBe(3);
  });

  // 10^6 frames on libsodium and node:crypto; 10^5 on the pure-JS noble (the aead-noble test
  // project), whose 10^6 would take about a minute of the suite for the same check.
  const audited = aeadChoice().implementation === 'noble' ? 100_000 : 1_000_000;
  it(`no (key, nonce) pair repeats over ${audited.toLocaleString('en-US')} frames sealed alone, in both directions (${aeadChoice().implementation})`, async () => {
    const { port } = await startServer({ keys: [key] });
    const seen = new Map<string, { prefix: string; ids: Set<bigint> }>();
    let sealed = 0;
    let repeats = 0;
    const stop = observeNonces((k, nonce) => {
      sealed += 1;
      let entry = seen.get(k);
      if (entry === undefined) {
        entry = { prefix: nonce.subarray(0, 16).toString('hex'), ids: new Set() };
        seen.set(k, entry);
      }
      const id = nonce.readBigUInt64BE(16);
      if (entry.prefix !== nonce.subarray(0, 16).toString('hex') || entry.ids.has(id)) repeats += 1;
      entry.ids.add(id);
    });
    // A batch of 5,000 queued requests may wait seconds on a loaded machine (noble seals in JS):
    // the per-request timeout is not what this test is about.
    const options = { maxQueued: 100_000, sealing: 'frames', requestTimeoutMs: 60_000 } as const;
    const c = client(port, options);
    try {
      await c.connect();
      const connections = [c, client(port, options)];
      for (let batch = 0; batch < audited / 20_000; batch += 1) {
        await Promise.all(connections.flatMap((cc) => Array.from({ length: 5_000 }, (_, i) => cc.set(`k${i % 100}`, 'v'))));
      }
    } finally {
      stop(); // a failure here must not leave the observer to the next test
    }
    expect(sealed).toBeGreaterThanOrEqual(audited);
    expect(repeats).toBe(0);
    expect(seen.size).toBe(4); // two sessions × two directions (the key confirmation is the first s2c seal)
  }, 120_000);
  it('sealed envelopes (spec §6.7): one seal per envelope, identifiers 2^63, 2^63 + 1, … per direction, never a frame identifier', async () => {
    const { port } = await startServer({ keys: [key] });
    const nonces = new Map<string, bigint[]>();
    const stop = observeNonces((k, nonce) => {
      const ids = nonces.get(k) ?? [];
      ids.push(nonce.readBigUInt64BE(16));
      nonces.set(k, ids);
    });
    const c = client(port, { maxQueued: 100_000 });
    await c.connect();
    const requests = 20_000;
    for (let batch = 0; batch < 4; batch += 1) {
      const answers = await Promise.all(Array.from({ length: requests / 4 }, (_, i) => c.set(`k${i % 100}`, 'v')));
      expect(answers.every((a) => a === true)).toBe(true);
    }
    expect(await c.get('k7')).toEqual(Buffer.from('v'));
    stop();
    expect(nonces.size).toBe(2); // one session, two directions
    for (const sealed of nonces.values()) {
      // Every envelope's nonce is the next envelope identifier: none repeats, none is a frame's.
      const ids = sealed.filter((id) => id >= 1n << 63n);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual(ids.map((_, i) => (1n << 63n) + BigInt(i)));
    }
    // Fewer seals than frames: 20,000 requests and their 20,000 answers went out many to an envelope.
    const seals = [...nonces.values()].reduce((n, ids) => n + ids.length, 0);
    expect(seals).toBeLessThan(requests);
  });

});

describe('ConduitClient keyFile option', () => {
  it('reads the key from a TOML key file, by id or the first', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const other = { id: 'other', secret: randomBytes(32) };
    const file = join(mkdtempSync(join(tmpdir(), 'conduit-keyfile-')), 'keys.toml');
    writeFileSync(file, [key, other].map((k) => `[[keys]]\nid = "${k.id}"\nkey = "${k.secret.toString('base64')}"\n`).join('\n'));
    const { port } = await startServer({ keys: [key, other] });
    for (const keyId of [undefined, 'other']) {
      const c = new ConduitClient({ port, keyFile: file, ...(keyId === undefined ? {} : { keyId }) });
      clients.push(c);
      expect(await c.set('k', 'v')).toBe(true);
    }
    expect(() => new ConduitClient({ keyFile: file, keyId: 'missing' })).toThrow(/keyId option/);
  });
});
