// Server-side tracking on real sockets (issue 21, spec §3.15, protocol 1.3): TRACKING in
// every mode, an INVALIDATE push for every way a key changes, in the holder's answer
// order, in plaintext and both secure session kinds (pushes sealed alone with a server
// identifier, or inside envelopes).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Status, type Request } from '../../src/index.js';
import { SERVER_ID_BASE, TrackingMode } from '../../src/protocol/constants.js';
import { decodeInvalidateBody } from '../../src/protocol/tracking-body.js';
import { peer, type Peer, type PeerFrame, type PeerMode } from '../support/tracking-peer.js';
import { startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const b = (s: string): Buffer => Buffer.from(s);
const set = (k: string, v: string, more: Partial<Extract<Request, { op: 'SET' }>> = {}): Request => ({
  op: 'SET',
  key: b(k),
  value: b(v),
  ttlMs: 0,
  nx: false,
  xx: false,
  keepTtl: false,
  ...more,
});
const get = (k: string): Request => ({ op: 'GET', key: b(k) });
const keysMode: Request = { op: 'TRACKING', mode: TrackingMode.KEYS };
const health: Request = { op: 'HEALTH' };

/** What a push says: the keys as text, or 'all'. Fails on an answer. */
function pushed(frame: PeerFrame | undefined): string[] | 'all' {
  expect(frame?.status).toBe(Status.INVALIDATE);
  expect(frame!.id >= SERVER_ID_BASE).toBe(true);
  const keys = decodeInvalidateBody(frame!.body);
  if (keys instanceof Error) throw keys;
  return keys === 'all' ? 'all' : keys.map((k) => k.toString('latin1'));
}

const pushes = (frames: readonly PeerFrame[]): PeerFrame[] => frames.filter((f) => f.status === Status.INVALIDATE);

async function serverFor(mode: PeerMode, options: Parameters<typeof startServer>[0] = {}): Promise<{ port: number; httpPort: number | undefined; open: () => Promise<Peer> }> {
  const { port, httpPort } = await startServer({ ...options, ...(mode === 'plaintext' ? {} : { keys: [key] }) });
  return { port, httpPort, open: () => peer(port, mode, key) };
}

describe('TRACKING and INVALIDATE end to end (spec §3.15)', () => {
  for (const mode of ['plaintext', 'per-frame', 'envelopes'] as const) {
    it(`${mode}: a read key's change is pushed to its holder before the answer to its next request, once`, async () => {
      const { open } = await serverFor(mode);
      const holder = await open();
      const writer = await open();
      expect((await writer.ask(set('k', 'v1'), set('other', 'x')))[0]?.status).toBe(Status.OK);
      const [tracking, read] = await holder.ask(keysMode, get('k'));
      expect(tracking?.status).toBe(Status.OK);
      expect(read?.body.toString()).toBe('v1');
      expect((await writer.ask(set('k', 'v2')))[0]?.status).toBe(Status.OK);
      expect(pushes(writer.frames)).toHaveLength(0); // the writer never read k with tracking on
      const next = await holder.ask(get('k'));
      expect(next).toHaveLength(2);
      expect(pushed(next[0])).toEqual(['k']);
      expect(next[1]?.body.toString()).toBe('v2');
      if (mode === 'per-frame') expect(next[0]?.sealed).toBe(true);
      if (mode === 'envelopes') expect(next[0]?.enveloped).toBe(true);
      // Forgotten once pushed, tracked again by the read just made: one more change, one more push.
      await writer.ask(set('other', 'y'));
      await writer.ask(set('k', 'v3'));
      const again = await holder.ask(health);
      expect(again.map((f) => f.status)).toEqual([Status.INVALIDATE, Status.OK]);
      expect(pushed(again[0])).toEqual(['k']);
      expect(again[0]!.id).toBeGreaterThan(next[0]!.id); // the connection's counter (spec §2.2)
      expect(pushes(holder.frames)).toHaveLength(2);
    });

    it(`${mode}: the writer gets its own push; FLUSH pushes ALL; OFF stops them`, async () => {
      const { open } = await serverFor(mode);
      const c = await open();
      await c.ask(keysMode, set('a', '1'), get('a'));
      const own = await c.ask(set('a', '2'));
      expect(own.map((f) => f.status)).toEqual([Status.INVALIDATE, Status.OK]);
      expect(pushed(own[0])).toEqual(['a']);
      const flushed = await c.ask({ op: 'FLUSH' });
      expect(flushed.map((f) => f.status)).toEqual([Status.INVALIDATE, Status.OK]);
      expect(pushed(flushed[0])).toBe('all');
      await c.ask(set('a', '3'), get('a'), { op: 'TRACKING', mode: TrackingMode.OFF });
      const after = await c.ask(set('a', '4'), { op: 'FLUSH' }, health);
      expect(after.map((f) => f.status)).toEqual([Status.OK, Status.OK, Status.OK]);
    });
  }
});

/** A plaintext server, a holder tracking in KEYS mode that read `keys`, and a writer that did not. */
async function holding(keys: string[], options: Parameters<typeof startServer>[0] = {}): Promise<{ holder: Peer; writer: Peer; httpPort: number | undefined; port: number }> {
  const { open, httpPort, port } = await serverFor('plaintext', options);
  const holder = await open();
  const writer = await open();
  await writer.ask(...keys.map((k) => set(k, `${k}-v`)));
  const read = await holder.ask(keysMode, ...keys.map(get));
  expect(read.slice(1).map((f) => f.body.toString())).toEqual(keys.map((k) => `${k}-v`));
  return { holder, writer, httpPort, port };
}

/** The keys the holder was pushed, after a fence (HEALTH) it sends now: whatever was pushed before it comes before its answer. */
async function pushedKeys(holder: Peer): Promise<(string[] | 'all')[]> {
  const frames = await holder.ask(health);
  expect(frames.at(-1)?.status).toBe(Status.OK);
  return frames.slice(0, -1).map(pushed);
}

describe('every way a key changes is pushed to its holder, and only its holder (spec §3.15)', () => {
  const cases: [string, Request[], (string[] | 'all')[]][] = [
    ['SET', [set('k', 'x')], [['k']]],
    ['quiet SET', [set('k', 'x', { quiet: true })], [['k']]],
    ['SET XX', [set('k', 'x', { xx: true })], [['k']]],
    ['SET KEEPTTL', [set('k', 'x', { keepTtl: true })], [['k']]],
    ['SET NX refused', [set('k', 'x', { nx: true })], []],
    ['SET XX of an unread key', [set('other', 'x', { xx: true })], []],
    ['DELETE', [{ op: 'DELETE', key: b('k') }], [['k']]],
    ['quiet DELETE', [{ op: 'DELETE', key: b('k'), quiet: true }], [['k']]],
    ['DELETE of a key the holder did not read', [{ op: 'DELETE', key: b('other') }], []],
    ['RENEW', [{ op: 'RENEW', key: b('k'), ttlMs: 60_000 }], [['k']]],
    ['GAT', [{ op: 'GAT', key: b('k'), ttlMs: 60_000 }], [['k']]],
    ['GET, GETS and TTL (reads)', [get('k'), { op: 'GETS', key: b('k') }, { op: 'TTL', key: b('k') }], []],
    ['FLUSH', [{ op: 'FLUSH' }], ['all']],
  ];
  for (const [name, requests, expected] of cases) {
    it(`${name} by another connection`, async () => {
      const { holder, writer } = await holding(['k']);
      await writer.ask(set('other', 'o'), ...requests, health);
      expect(await pushedKeys(holder)).toEqual(expected);
      expect(pushes(writer.frames)).toHaveLength(0);
    });
  }

  it('INCR, and SET with CAS (a mismatch pushes nothing)', async () => {
    const { holder, writer } = await holding(['n']);
    await writer.ask(set('n', '1'));
    expect(await pushedKeys(holder)).toEqual([['n']]);
    await holder.ask(get('n'));
    await writer.ask({ op: 'INCR', key: b('n'), delta: 1n, ttlMs: 0 });
    expect(await pushedKeys(holder)).toEqual([['n']]);
    const [gets] = await holder.ask({ op: 'GETS', key: b('n') });
    const version = gets!.body.readBigUInt64BE(0);
    expect(gets!.body.subarray(8).toString()).toBe('2');
    expect((await writer.ask(set('n', '9', { version: version + 1n })))[0]?.status).toBe(Status.EXISTS);
    expect(await pushedKeys(holder)).toEqual([]);
    expect((await writer.ask(set('n', '9', { version })))[0]?.status).toBe(Status.OK);
    expect(await pushedKeys(holder)).toEqual([['n']]); // GETS tracked it
  });

  it('GAT on the holder itself: its own push, and the GAT tracks the key again', async () => {
    const { holder, writer } = await holding(['k']);
    const own = await holder.ask({ op: 'GAT', key: b('k'), ttlMs: 60_000 });
    expect(own.map((f) => f.status)).toEqual([Status.INVALIDATE, Status.OK]);
    await writer.ask(set('k', 'y'));
    expect(await pushedKeys(holder)).toEqual([['k']]);
  });

  it('expiry: pushed with no request at all (the sweep), once, and a key read after it is not pushed again', async () => {
    const { holder, writer } = await holding([]);
    await writer.ask(set('t', 'v', { ttlMs: 1_000 }));
    const [read] = await holder.ask(get('t'));
    expect(read?.body.toString()).toBe('v');
    await holder.until(holder.frames.length + 1, 10_000); // the push arrives unasked
    expect(pushed(holder.frames.at(-1))).toEqual(['t']);
    await writer.ask(get('t'));
    expect(await pushedKeys(holder)).toEqual([['t']]); // the one above, nothing more
    expect(pushes(holder.frames)).toHaveLength(1);
  });

  it('expiry found on access (lazy) is pushed once', async () => {
    const { holder, writer } = await holding([]);
    await writer.ask(set('t', 'v', { ttlMs: 1_000 }));
    expect((await holder.ask(get('t')))[0]?.body.toString()).toBe('v');
    const deadline = Date.now() + 10_000;
    // Read until the key is gone; whichever of the read or the sweep found it expired, one push.
    while ((await writer.ask(get('t')))[0]?.status === Status.OK && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await holder.ask(health);
    expect(pushes(holder.frames).map(pushed)).toEqual([['t']]);
  });

  it('eviction under a small --max-memory is pushed', async () => {
    const { holder, writer, port } = await holding(['first'], { maxMemory: 1024 * 1024, shards: 1 });
    void port;
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 3000; i += 500) await writer.ask(...Array.from({ length: 500 }, (_, j) => set(`fill:${i + j}`, value)));
    const answer = await holder.ask(get('first'));
    expect(answer.map((f) => f.status)).toEqual([Status.INVALIDATE, Status.NOT_FOUND]);
    expect(pushed(answer[0])).toEqual(['first']);
    expect(pushes(holder.frames)).toHaveLength(1);
  });

  it('a PUT and a DELETE through the HTTP gateway are pushed', async () => {
    const { holder, httpPort } = await holding(['h'], { httpPort: 0 });
    expect((await fetch(`http://127.0.0.1:${httpPort}/v1/keys/h`, { method: 'PUT', body: 'new' })).status).toBe(204);
    expect(await pushedKeys(holder)).toEqual([['h']]);
    await holder.ask(get('h'));
    expect((await fetch(`http://127.0.0.1:${httpPort}/v1/keys/h`, { method: 'DELETE' })).status).toBe(204);
    expect(await pushedKeys(holder)).toEqual([['h']]);
  });

  it('PREFIXES: changes of matching keys only, with no reads; FLUSH is ALL', async () => {
    const { open } = await serverFor('plaintext');
    const watcher = await open();
    const writer = await open();
    expect((await watcher.ask({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('user:'), b('cfg')] }))[0]?.status).toBe(Status.OK);
    await writer.ask(set('user:1', 'a'), set('session:1', 'b'), set('cfg', 'c'), { op: 'DELETE', key: b('user:1') }, set('cf', 'd'));
    expect((await pushedKeys(watcher)).flat()).toEqual(['user:1', 'cfg', 'user:1']);
    await writer.ask({ op: 'FLUSH' });
    expect(await pushedKeys(watcher)).toEqual(['all']);
    expect(pushes(writer.frames)).toHaveLength(0);
  });

  it('a TRACKING request fed byte by byte and split at every offset is answered OK and takes effect', async () => {
    const { open } = await serverFor('plaintext');
    const writer = await open();
    const length = (await open()).bytesOf({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('s')] }).length;
    for (let split = 0; split < length; split += 1) {
      const c = await open();
      const bytes = c.bytesOf({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('s')] });
      if (split === 0) await c.raw.writeByteByByte(bytes);
      else {
        c.raw.write(bytes.subarray(0, split));
        await new Promise((r) => setTimeout(r, 1));
        c.raw.write(bytes.subarray(split));
      }
      await c.until(1);
      expect(c.frames[0]?.status).toBe(Status.OK);
      await writer.ask(set('s', String(split)));
      await c.until(2);
      expect(pushed(c.frames[1])).toEqual(['s']);
      c.raw.destroy();
    }
  });
});
