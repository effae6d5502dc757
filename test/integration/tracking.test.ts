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
