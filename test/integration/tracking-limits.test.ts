// Tracking's bounds on real sockets (issue 21, spec §3.15): --tracking-max-keys from the
// command line, a tracking connection that never reads its pushes, a closed connection
// forgotten, and STATS/metrics `tracking`.
import { describe, expect, it } from 'vitest';
import { Status, type Request } from '../../src/index.js';
import { SERVER_ID_BASE, TrackingMode } from '../../src/protocol/constants.js';
import { decodeInvalidateBody } from '../../src/protocol/tracking-body.js';
import { startServerProcess } from '../support/cli.js';
import { peer, type Peer } from '../support/tracking-peer.js';
import { startServer } from '../support/server.js';
import type { TrackingStats } from '../../src/server/tracking.js';

const b = (s: string): Buffer => Buffer.from(s);
const set = (k: string, v: string): Request => ({ op: 'SET', key: b(k), value: b(v), ttlMs: 0, nx: false, xx: false, keepTtl: false });
const get = (k: string): Request => ({ op: 'GET', key: b(k) });
const name = (i: number): string => `key:${String(i).padStart(5, '0')}`;


async function statsOf(c: Peer): Promise<{ tracking: TrackingStats; disconnects: Record<string, number> }> {
  const frames = await c.ask({ op: 'STATS' });
  return JSON.parse(frames.at(-1)!.body.toString()) as { tracking: TrackingStats; disconnects: Record<string, number> };
}

/** Every key the peer was pushed so far, in order. */
function pushedKeys(c: Peer): string[] {
  return c.frames
    .filter((f) => f.status === Status.INVALIDATE)
    .flatMap((f) => {
      expect(f.id >= SERVER_ID_BASE).toBe(true);
      const keys = decodeInvalidateBody(f.body);
      if (!Array.isArray(keys)) throw new Error('not a KEYS push');
      return keys.map((k) => k.toString('latin1'));
    });
}

describe('the tracking bound (spec §3.15)', () => {
  it('--tracking-max-keys 1000: 20,000 distinct reads keep at most 1000 keys, the oldest pushed first', async () => {
    const server = await startServerProcess(['--port', '0', '--tracking-max-keys', '1000']);
    try {
      const writer = await peer(server.port, 'plaintext');
      const holder = await peer(server.port, 'plaintext');
      const n = 20_000;
      for (let i = 0; i < n; i += 1000) await writer.ask(...Array.from({ length: 1000 }, (_, j) => set(name(i + j), 'v')));
      await holder.ask({ op: 'TRACKING', mode: TrackingMode.KEYS });
      for (let i = 0; i < n; i += 1000) await holder.ask(...Array.from({ length: 1000 }, (_, j) => get(name(i + j))));
      const { tracking } = await statsOf(writer);
      expect(tracking.keys).toBeLessThanOrEqual(1000);
      expect(tracking.keys).toBe(1000);
      expect(tracking.overflow).toBe(n - 1000);
      expect(tracking.clients).toBe(1);
      await holder.ask({ op: 'HEALTH' });
      expect(pushedKeys(holder)).toEqual(Array.from({ length: n - 1000 }, (_, i) => name(i)));
      // The 1000 newest are still tracked: a change of one is pushed; of an older one, not.
      await writer.ask(set(name(n - 1), 'w'), set(name(0), 'w'));
      await holder.ask({ op: 'HEALTH' });
      expect(pushedKeys(holder).slice(n - 1000)).toEqual([name(n - 1)]);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('--tracking-max-keys 1000 bounds (key, connection) pairs: 5 connections × the same 400 keys hold at most 1000, the oldest pushed', async () => {
    const server = await startServerProcess(['--port', '0', '--tracking-max-keys', '1000']);
    try {
      const writer = await peer(server.port, 'plaintext');
      await writer.ask(...Array.from({ length: 400 }, (_, i) => set(name(i), 'v')));
      const holders: Peer[] = [];
      for (let c = 0; c < 5; c += 1) {
        const holder = await peer(server.port, 'plaintext');
        await holder.ask({ op: 'TRACKING', mode: TrackingMode.KEYS }, ...Array.from({ length: 400 }, (_, i) => get(name(i))));
        holders.push(holder);
      }
      const { tracking } = await statsOf(writer);
      expect(tracking.pairs).toBeLessThanOrEqual(1000);
      expect(tracking.pairs).toBeGreaterThan(995);
      expect(tracking.keys).toBeLessThanOrEqual(400);
      expect(tracking.overflow).toBeGreaterThan(0);
      for (const holder of holders) await holder.ask({ op: 'HEALTH' });
      // The oldest keys went first, pushed to every holder then: the first connection was told key 0 first.
      expect(pushedKeys(holders[0]!)[0]).toBe(name(0));
      expect(pushedKeys(holders[1]!)[0]).toBe(name(0));
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});

describe('connections that track (spec §3.15)', () => {
  it('one that never reads its pushes is closed by --max-output-buffer; the others are unaffected', async () => {
    const { port } = await startServer({ maxOutputBuffer: 65_536, maxOutputMemory: 1024 * 1024 });
    const writer = await peer(port, 'plaintext');
    const reader = await peer(port, 'plaintext');
    const sleeper = await peer(port, 'plaintext');
    await sleeper.ask({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('')] });
    await reader.ask({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('')] });
    sleeper.raw.socket.pause(); // it reads nothing more: its pushes pile up in the kernel, then the server
    const long = (i: number): string => `${String(i).padStart(8, '0')}`.padEnd(250, 'k');
    let sent = 0;
    for (let round = 0; round < 200 && !(sleeper.raw.closed || sleeper.raw.ended); round += 1) {
      await writer.ask(...Array.from({ length: 500 }, (_, j) => set(long(sent + j), 'v')));
      sent += 500;
      // A reader that reads gets every push (it is told of every change).
      await reader.until(reader.frames.length, 100);
    }
    // The server closed the sleeper (a reset may come only once it reads again).
    const stats = await statsOf(writer);
    expect((stats.disconnects.output_buffer ?? 0) + (stats.disconnects.output_memory ?? 0)).toBeGreaterThanOrEqual(1);
    expect(stats.tracking.prefix_clients).toBe(1);
    await reader.ask({ op: 'HEALTH' });
    expect(pushedKeys(reader)).toHaveLength(sent);
    expect((await writer.ask(get(long(0))))[0]?.body.toString()).toBe('v');
  }, 60_000);

  it('a closed connection is forgotten; STATS and /metrics count the keys, clients, pushes and invalidations', async () => {
    const { port, httpPort } = await startServer({ httpPort: 0 });
    const writer = await peer(port, 'plaintext');
    const holder = await peer(port, 'plaintext');
    const watcher = await peer(port, 'plaintext');
    await writer.ask(set('a', '1'), set('b', '2'));
    await holder.ask({ op: 'TRACKING', mode: TrackingMode.KEYS }, get('a'), get('b'), get('absent'));
    await watcher.ask({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('a')] });
    expect((await statsOf(writer)).tracking).toEqual({ keys: 2, pairs: 2, clients: 1, prefix_clients: 1, invalidations: 0, pushes: 0, overflow: 0 });
    await writer.ask(set('a', '3'));
    await holder.ask({ op: 'HEALTH' });
    await watcher.ask({ op: 'HEALTH' });
    expect((await statsOf(writer)).tracking).toEqual({ keys: 1, pairs: 1, clients: 1, prefix_clients: 1, invalidations: 2, pushes: 2, overflow: 0 });
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^conduit_tracking_keys 1$/m);
    expect(metrics).toMatch(/^conduit_invalidations_total 2$/m);
    expect(metrics).toMatch(/^conduit_invalidate_pushes_total 2$/m);
    holder.raw.destroy();
    watcher.raw.destroy();
    await writer.raw.until(() => false, 200).catch(() => undefined); // let the server see both close
    const after = (await statsOf(writer)).tracking;
    expect([after.clients, after.prefix_clients]).toEqual([0, 0]);
    await writer.ask(set('b', '4'), { op: 'FLUSH' });
    expect((await statsOf(writer)).tracking).toMatchObject({ keys: 0, invalidations: 2, pushes: 2 });
  });
});
