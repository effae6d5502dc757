// LEASE and lease sets on a real server, raw frames (spec §3.16, protocol 1.3): every
// state and what wins, plaintext and secure (frames sealed alone); each request written
// whole, byte by byte and split at every offset; a HIT over one frame is TOO_LARGE
// without fragments and fragmented with them (spec §2.4), as GET's is.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_LEASES_PER_OWNER } from '../../src/server/leases.js';
import { ConduitClient, decodeLeaseAnswer, encodeRequest, Feature, generateKey, LeaseState, Status, type LeaseAnswer, type PreSharedKey, type Request } from '../../src/index.js';
import { chunkings } from '../support/chunking.js';
import { Reassembler, type Message } from '../support/fragments.js';
import type { RawClient } from '../support/raw-client.js';
import { secureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';

const secret: PreSharedKey = { id: 'lease', secret: Buffer.from(generateKey(), 'base64') };
const modes = [
  ['plaintext', false],
  ['secure mode', true],
] as const;

const lease = (key: string, staleOk = false, leaseMs = 10_000): Request => ({ op: 'LEASE', key: Buffer.from(key), leaseMs, staleOk });
const set = (key: string, value: string | Buffer, leaseToken?: bigint): Request => ({
  op: 'SET',
  key: Buffer.from(key),
  value: Buffer.from(value),
  ttlMs: 0,
  nx: false,
  xx: false,
  keepTtl: false,
  ...(leaseToken === undefined ? {} : { leaseToken }),
});

/** One raw connection, plaintext or secure: each request framed (and sealed) with the next identifier; answers reassembled and opened. */
interface Conn {
  raw: RawClient;
  /** The bytes of `request` as the next frame. */
  frame(request: Request): Buffer;
  /** Writes `chunks` one write each, letting each leave before the next (answers counted by the caller). */
  write(chunks: readonly Buffer[]): Promise<void>;
  /** The `n`th answer (1-based, counted over the connection), waiting for it. */
  answer(n: number): Promise<Message>;
  /** Sends `request` whole and returns its answer. */
  ask(request: Request): Promise<Message>;
}

async function connect(port: number, secure: boolean): Promise<Conn> {
  let nextId = 1n;
  let asked = 0;
  const s = secure ? await secureRaw(port, secret) : undefined;
  const raw = s?.raw ?? (await rawClient(port));
  const reassembler = new Reassembler(s?.session.receive);
  const conn: Conn = {
    raw,
    frame: (request) => (s === undefined ? Buffer.concat(encodeRequest(nextId++, request)) : s.seal(nextId++, request)),
    async write(chunks) {
      for (const chunk of chunks) {
        raw.socket.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async answer(n) {
      await raw.until(() => reassembler.take(raw.frames).length >= n, 10_000, `answer ${n}`);
      return reassembler.messages[n - 1] as Message;
    },
    async ask(request) {
      raw.write(conn.frame(request));
      asked += 1;
      return conn.answer(asked);
    },
  };
  return conn;
}

function leaseOf(message: Message): LeaseAnswer {
  expect(message.status).toBe(Status.OK);
  const answer = decodeLeaseAnswer(message.body);
  if (!('state' in answer)) throw new Error(`not a LEASE answer: ${answer.message}`);
  return answer;
}

describe.each(modes)('LEASE on a real server, %s (spec §3.16)', (_name, secure) => {
  it('every state, and what wins: a stale set loses to any change made while its lease was out', async () => {
    const { port, server } = await startServer(secure ? { keys: [secret] } : {});
    const c = await connect(port, secure);

    const first = leaseOf(await c.ask(lease('user:1', true)));
    expect(first.state).toBe(LeaseState.GRANTED);
    expect(first.token).not.toBe(0n);
    // A live lease: the others wait; no previous value is kept for a key no lease set filled.
    expect((await c.ask(lease('user:1'))).body.toString('hex')).toBe('020000000000000000');
    expect(leaseOf(await c.ask(lease('user:1', true))).state).toBe(LeaseState.WAIT);
    expect((await c.ask(set('user:1', 'v1', first.token))).status).toBe(Status.OK);
    expect((await c.ask(lease('user:1'))).body).toEqual(Buffer.concat([Buffer.alloc(9), Buffer.from('v1')])); // HIT, token 0
    expect((await c.ask(set('user:1', 'again', first.token))).status).toBe(Status.NOT_STORED); // the lease ended with its set

    // DELETE of a lease-filled key keeps its value: STALE for callers that welcome it while the next holder computes.
    expect((await c.ask({ op: 'DELETE', key: Buffer.from('user:1') })).status).toBe(Status.OK);
    const second = leaseOf(await c.ask(lease('user:1')));
    expect(second.state).toBe(LeaseState.GRANTED);
    expect(second.token).not.toBe(first.token);
    const stale = leaseOf(await c.ask(lease('user:1', true)));
    expect(stale.state).toBe(LeaseState.STALE);
    expect(stale.value.toString()).toBe('v1');
    expect(leaseOf(await c.ask(lease('user:1'))).state).toBe(LeaseState.WAIT);

    // A plain SET while the lease is out revokes it: the holder's set is a stale set and the newer value stays.
    expect((await c.ask(set('user:1', 'v2'))).status).toBe(Status.OK);
    expect((await c.ask(set('user:1', 'computed', second.token))).status).toBe(Status.NOT_STORED);
    expect((await c.ask({ op: 'GET', key: Buffer.from('user:1') })).body.toString()).toBe('v2');

    // INCR and a lapsed lease's takeover.
    const third = leaseOf(await c.ask(lease('n', false, 1)));
    expect(third.state).toBe(LeaseState.GRANTED);
    await new Promise((resolve) => setTimeout(resolve, 5)); // lease_ms 1 has passed
    const taker = leaseOf(await c.ask(lease('n')));
    expect(taker.state).toBe(LeaseState.GRANTED);
    expect((await c.ask(set('n', '1', third.token))).status).toBe(Status.NOT_STORED);
    expect((await c.ask({ op: 'INCR', key: Buffer.from('n'), delta: 5n, ttlMs: 0 })).status).toBe(Status.OK);
    expect((await c.ask(set('n', '1', taker.token))).status).toBe(Status.NOT_STORED); // INCR revoked it

    expect(server.leases.stats()).toMatchObject({ outstanding: 0, granted: 4, waits: 3, stale_served: 1, fulfilled: 1, refused: 4, expired: 1, revoked: 2 });
    const stats = JSON.parse((await c.ask({ op: 'STATS' })).body.toString()) as { leases: Record<string, number> };
    expect(stats.leases).toMatchObject({ granted: 4, fulfilled: 1, refused: 4 });
  });

  it('LEASE and lease sets written whole, byte by byte and split at every offset', async () => {
    const { port } = await startServer(secure ? { keys: [secret] } : {});
    const c = await connect(port, secure);
    let answers = 0;
    const count = chunkings(c.frame(lease('c:000'))).length; // the frame used up identifier 1: fine, identifiers only rise
    for (let i = 0; i < count; i += 1) {
      const key = `c:${String(i).padStart(3, '0')}`;
      await c.write(chunkings(c.frame(lease(key)))[i]?.chunks ?? []);
      const granted = leaseOf(await c.answer(++answers));
      expect(granted.state, `${key} LEASE`).toBe(LeaseState.GRANTED);
      await c.write(chunkings(c.frame(set(key, `value ${i}`, granted.token)))[i]?.chunks ?? []); // a longer frame: split at i too
      expect((await c.answer(++answers)).status, `${key} SET`).toBe(Status.OK);
      await c.write(chunkings(c.frame(lease(key)))[i]?.chunks ?? []);
      const hit = leaseOf(await c.answer(++answers));
      expect([hit.state, hit.value.toString()], `${key} HIT`).toEqual([LeaseState.HIT, `value ${i}`]);
    }
    expect(count).toBeGreaterThan(secure ? 30 : 15);
  });

  it('a HIT over one frame is TOO_LARGE without fragments; with them it comes fragmented', async () => {
    const MiB = 1024 * 1024;
    const { port, server } = await startServer({ maxMemory: 64 * MiB, ...(secure ? { keys: [secret] } : {}) });
    const maxBody = secure ? 65_508 : 65_524;
    const value = randomBytes(maxBody - 4); // a GET answer fits one frame; the LEASE answer (9 more bytes) does not
    server.store.set(Buffer.from('big'), value);
    const c = await connect(port, secure);
    expect((await c.ask({ op: 'GET', key: Buffer.from('big') })).body.equals(value)).toBe(true);
    const refused = await c.ask(lease('big'));
    expect(refused.status).toBe(Status.TOO_LARGE);
    expect(refused.body.toString()).toMatch(/does not fit in one frame/);
    expect((await c.ask({ op: 'CAPS', features: Feature.FRAGMENTS })).status).toBe(Status.OK);
    const hit = await c.ask(lease('big'));
    expect(hit.frames).toBeGreaterThan(1);
    const answer = leaseOf(hit);
    expect(answer.state).toBe(LeaseState.HIT);
    expect(answer.value.equals(value)).toBe(true);
  });
});

describe('CAPS (spec §3.13) and BUSY', () => {
  it('a server says it supports leases', async () => {
    const { port } = await startServer();
    const c = await connect(port, false);
    const caps = await c.ask({ op: 'CAPS', features: 0 });
    expect(caps.body.readUInt32BE(2) & Feature.LEASES).toBe(Feature.LEASES);
  });

  it('/metrics exports the lease counters (conduit_leases_total by outcome, outstanding, stale bytes)', async () => {
    const { port, httpPort } = await startServer({ httpPort: 0 });
    const c = await connect(port, false);
    const granted = leaseOf(await c.ask(lease('m')));
    expect(leaseOf(await c.ask(lease('m'))).state).toBe(LeaseState.WAIT);
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(text).toMatch(/^conduit_leases_total\{outcome="granted"\} 1$/m);
    expect(text).toMatch(/^conduit_leases_total\{outcome="wait"\} 1$/m);
    expect(text).toMatch(/^conduit_leases_outstanding 1$/m);
    expect(text).toMatch(/^conduit_leases_stale_bytes 0$/m);
    expect((await c.ask(set('m', 'v', granted.token))).status).toBe(Status.OK);
    const after = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(after).toMatch(/^conduit_leases_total\{outcome="fulfilled"\} 1$/m);
    expect(after).toMatch(/^conduit_leases_outstanding 0$/m);
  });

  it('a DELETE over HTTP revokes a lease as one over the protocol does', async () => {
    const { port, httpPort } = await startServer({ httpPort: 0 });
    const c = await connect(port, false);
    const granted = leaseOf(await c.ask(lease('h')));
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/keys/h`, { method: 'DELETE' });
    expect(response.status).toBe(404); // absent, as a leased key is
    expect((await c.ask(set('h', 'late', granted.token))).status).toBe(Status.NOT_STORED);
  });

  it('a flood of leases from one connection leaves another\'s getOrSet working, and ends when it closes (attack review)', async () => {
    const { port, server } = await startServer();
    const flood = await connect(port, false);
    // 1,100 LEASEs on distinct keys for 2^32 - 1 ms, pipelined: 1,024 (its share) granted, the rest BUSY.
    const n = 1_100;
    flood.raw.write(Buffer.concat(Array.from({ length: n }, (_, i) => flood.frame(lease(`flood:${i}`, false, 0xffff_ffff)))));
    await flood.answer(n);
    const statuses = flood.raw.frames.map((f) => f.opcode);
    expect(statuses.filter((s) => s === Status.OK)).toHaveLength(MAX_LEASES_PER_OWNER);
    expect(statuses.filter((s) => s === Status.BUSY)).toHaveLength(n - MAX_LEASES_PER_OWNER);
    expect(server.leases.stats()).toMatchObject({ outstanding: MAX_LEASES_PER_OWNER, busy: n - MAX_LEASES_PER_OWNER });

    // Another connection still fills a cold key.
    const c = new ConduitClient({ port });
    await c.connect();
    try {
      expect((await c.getOrSet('cold', () => 'computed', { waitMs: 5_000 })).toString()).toBe('computed');
      // The flood's close ends its leases at once: one of its keys is granted to another caller.
      flood.raw.socket.destroy();
      await new Promise<void>((resolve) => flood.raw.socket.once('close', () => resolve()));
      let computes = 0;
      const value = await c.getOrSet('flood:0', () => ((computes += 1), 'freed'), { waitMs: 5_000 });
      expect(value.toString()).toBe('freed');
      expect(computes).toBe(1);
      expect(server.leases.stats()).toMatchObject({ outstanding: 0, revoked: MAX_LEASES_PER_OWNER });
    } finally {
      c.destroy();
    }
  });

  it('a quiet lease set is answered only when refused', async () => {
    const { port } = await startServer();
    const c = await connect(port, false);
    const granted = leaseOf(await c.ask(lease('q')));
    c.raw.write(c.frame({ ...set('q', 'v', granted.token), quiet: true } as Request)); // OK: not answered
    c.raw.write(c.frame({ ...set('q', 'w', granted.token), quiet: true } as Request)); // spent token: NOT_STORED
    expect((await c.answer(2)).status).toBe(Status.NOT_STORED);
    expect((await c.answer(2)).id).toBe(3n);
  });
});
