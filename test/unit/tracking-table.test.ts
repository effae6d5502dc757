import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PUSH_BODY, TrackingMode } from '../../src/protocol/constants.js';
import { decodeInvalidateBody } from '../../src/protocol/tracking-body.js';
import { PendingInvalidations } from '../../src/server/invalidation-pushes.js';
import { TrackingTable, type InvalidationSink } from '../../src/server/tracking.js';

/** A sink recording what it is told. */
class Recorder implements InvalidationSink {
  readonly keys: string[] = [];
  alls = 0;
  invalidate(key: string): void {
    this.keys.push(key);
  }
  invalidateAll(): void {
    this.alls += 1;
  }
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const track = (table: TrackingTable, id: number, key: string): void => {
  const bytes = b(`..${key}`);
  table.track(id, bytes, 2, bytes.length - 2);
};

describe('TrackingTable (spec §3.15)', () => {
  it('refuses a bound outside 1 to 100,000,000', () => {
    expect(() => new TrackingTable(0)).toThrow(/trackingMaxKeys option must be an integer from 1 to 100,000,000, got 0/);
    expect(() => new TrackingTable(100_000_001)).toThrow(/trackingMaxKeys/);
    expect(() => new TrackingTable(1.5)).toThrow(/trackingMaxKeys/);
  });

  it('KEYS: a change is told to each holder once, then the pairs are forgotten', () => {
    const table = new TrackingTable(100);
    const a = new Recorder();
    const c = new Recorder();
    const idA = table.register(a, TrackingMode.KEYS, []);
    const idC = table.register(c, TrackingMode.KEYS, []);
    track(table, idA, 'k');
    track(table, idA, 'k'); // the same holder twice: one pair
    track(table, idC, 'k');
    track(table, idC, 'other');
    expect(table.stats()).toMatchObject({ keys: 2, clients: 2, prefix_clients: 0 });
    table.changed(b('k'));
    expect(a.keys).toEqual(['k']);
    expect(c.keys).toEqual(['k']);
    table.changed(b('k'));
    table.changed(b('unread'));
    expect(a.keys).toEqual(['k']);
    expect(c.keys).toEqual(['k']);
    expect(table.stats()).toMatchObject({ keys: 1, invalidations: 2, overflow: 0 });
  });

  it('a key byte outside ASCII is told back with the same bytes', () => {
    const table = new TrackingTable(10);
    const a = new Recorder();
    const id = table.register(a, TrackingMode.KEYS, []);
    const key = Buffer.from([0xff, 0x00, 0x80, 0x41]);
    table.track(id, key, 0, key.length);
    table.changed(key);
    expect(Buffer.from(a.keys[0]!, 'latin1').equals(key)).toBe(true);
  });

  it('an unregistered connection (OFF, another mode, closed) is told nothing, and its pairs go with their key', () => {
    const table = new TrackingTable(10);
    const a = new Recorder();
    const id = table.register(a, TrackingMode.KEYS, []);
    track(table, id, 'k');
    table.unregister(id);
    expect(table.stats().clients).toBe(0);
    table.changed(b('k'));
    expect(a.keys).toEqual([]);
    expect(table.stats().keys).toBe(0); // the last KEYS registration left: the table is dropped
    const c = new Recorder();
    const idC = table.register(c, TrackingMode.KEYS, []);
    const idA = table.register(a, TrackingMode.KEYS, []);
    track(table, idA, 'x');
    track(table, idC, 'y');
    table.unregister(idA);
    table.changed(b('x')); // a's pair, skipped and dropped with its key
    table.changed(b('y'));
    expect([a.keys, c.keys]).toEqual([[], ['y']]);
    expect(table.stats().keys).toBe(0);
    expect(table.register(a, TrackingMode.OFF, [])).toBe(0);
  });

  it('PREFIXES: every change under a prefix, nothing else, and no per-key memory', () => {
    const table = new TrackingTable(10);
    const p = new Recorder();
    const all = new Recorder();
    table.register(p, TrackingMode.PREFIXES, [b('user:'), b('ses')]);
    table.register(all, TrackingMode.PREFIXES, [b('')]);
    for (const key of ['user:1', 'session', 'other', 'use']) table.changed(b(key));
    expect(p.keys).toEqual(['user:1', 'session']);
    expect(all.keys).toEqual(['user:1', 'session', 'other', 'use']);
    expect(table.stats()).toMatchObject({ keys: 0, clients: 0, prefix_clients: 2, invalidations: 6 });
  });

  it('FLUSH tells every registration "all" and empties the table', () => {
    const table = new TrackingTable(10);
    const a = new Recorder();
    const p = new Recorder();
    track(table, table.register(a, TrackingMode.KEYS, []), 'k');
    table.register(p, TrackingMode.PREFIXES, [b('')]);
    table.all();
    expect([a.alls, p.alls]).toEqual([1, 1]);
    expect(table.stats().keys).toBe(0);
    table.changed(b('k'));
    expect(a.keys).toEqual([]);
  });

  // 3,000,000 distinct keys, not 10,000,000: on the shared 2-core machine (load 10+) one
  // track past the bound cost 3–5 µs, so 10M took over a minute; 3M still runs the table
  // through its bound twice over (2M oldest-first evictions).
  it('the bound: 3,000,000 distinct keys through a table of 1,000,000 keep it at most full, oldest out first', () => {
    const max = 1_000_000;
    const n = 3_000_000;
    const table = new TrackingTable(max);
    let told = 0;
    let inOrder = true;
    const sink: InvalidationSink = {
      invalidate(key) {
        // The oldest first: key i is told when key i + max is added (checked every 1,000th, cheaply).
        if (told % 1000 === 0 && key !== String(told + 1).padStart(8, '0')) inOrder = false;
        told += 1;
      },
      invalidateAll() {},
    };
    const id = table.register(sink, TrackingMode.KEYS, []);
    const key = Buffer.from('00000000', 'latin1');
    let over = false;
    for (let i = 1; i <= n; i += 1) {
      for (let d = 7; d >= 0; d -= 1) {
        if (key[d] === 0x39) key[d] = 0x30;
        else {
          key[d] = (key[d] as number) + 1;
          break;
        }
      }
      table.track(id, key, 0, 8);
      if (table.size > max) over = true;
      // Re-reading a key still in the table does not refresh it (the bound is by first read).
      if (i % 1_000_000 === 0) table.track(id, key, 0, 8);
    }
    expect(over).toBe(false);
    expect(table.size).toBe(max);
    expect(told).toBe(n - max);
    expect(inOrder).toBe(true);
    expect(table.stats()).toMatchObject({ keys: max, overflow: n - max, invalidations: n - max });
  }, 120_000);

  it('the bound counts (key, connection) pairs: 10 connections × the same 100 keys stay at most 250 pairs, the oldest keys pushed to all their holders', () => {
    const table = new TrackingTable(250);
    const sinks = Array.from({ length: 10 }, () => new Recorder());
    const ids = sinks.map((sink) => table.register(sink, TrackingMode.KEYS, []));
    let most = 0;
    for (let k = 0; k < 100; k += 1) {
      for (const id of ids) {
        track(table, id, `k${k}`);
        most = Math.max(most, table.stats().pairs);
      }
    }
    const stats = table.stats();
    expect(most).toBeLessThanOrEqual(250);
    expect(stats.pairs).toBeGreaterThan(240);
    expect(stats.keys).toBe(Math.ceil(stats.pairs / 10)); // the newest keys; the last one maybe partly held
    // k0 was evicted first, when the 251st pair came: every holder was told.
    for (const sink of sinks) expect(sink.keys[0]).toBe('k0');
    expect(stats.overflow).toBe(100 - stats.keys);
    // Every connection is told each evicted key once (a key held by all 10 counts 10).
    for (const sink of sinks) expect(sink.keys).toEqual(Array.from({ length: stats.overflow }, (_, k) => `k${k}`));
    expect(stats.invalidations).toBe(10 * stats.overflow);
    table.changed(b('k99'));
    expect(table.stats().pairs).toBe(stats.pairs - 10);
    table.all();
    expect(table.stats()).toMatchObject({ keys: 0, pairs: 0 });
  });

  it('a pair added to a key the bound evicts for it is still kept', () => {
    const table = new TrackingTable(2);
    const a = new Recorder();
    const c = new Recorder();
    const idA = table.register(a, TrackingMode.KEYS, []);
    const idC = table.register(c, TrackingMode.KEYS, []);
    track(table, idA, 'k');
    track(table, idA, 'j');
    track(table, idC, 'k'); // full: 'k' (oldest) goes, then (k, C) is added
    expect(a.keys).toEqual(['k']);
    expect(table.stats()).toMatchObject({ keys: 2, pairs: 2, overflow: 1 });
    table.changed(b('k'));
    expect(c.keys).toEqual(['k']);
    expect(a.keys).toEqual(['k']);
  });

  it('PREFIXES index: the connections told of a change are exactly a scan\'s, one push each (property)', () => {
    const byte = fc.constantFrom('a', 'b', '\u00ff', '\u0000');
    const text = (max: number) => fc.array(byte, { maxLength: max }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.array(fc.array(text(4), { maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(7), { maxLength: 4 }),
        fc.array(text(6), { minLength: 1, maxLength: 20 }),
        (prefixSets, leaving, keys) => {
          const table = new TrackingTable(10);
          const sinks = prefixSets.map(() => new Recorder());
          const ids = prefixSets.map((prefixes, i) => table.register(sinks[i]!, TrackingMode.PREFIXES, prefixes.map(b)));
          const gone = new Set(leaving.filter((i) => i < ids.length));
          for (const i of gone) table.unregister(ids[i]!);
          for (const key of keys) table.changed(b(key));
          prefixSets.forEach((prefixes, i) => {
            const expected = gone.has(i) ? [] : keys.filter((key) => prefixes.some((p) => key.startsWith(p)));
            expect(sinks[i]!.keys).toEqual(expected);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('PendingInvalidations (spec §3.15)', () => {
  it('gathers keys into as few bodies as fit 65,000 bytes, in order; ALL covers what came before', () => {
    const bodies: Buffer[] = [];
    let wakes = 0;
    const pending = new PendingInvalidations((body) => bodies.push(body), () => (wakes += 1));
    const keys = Array.from({ length: 600 }, (_, i) => `${String(i).padStart(4, '0')}`.padEnd(250, 'x'));
    for (const key of keys) pending.invalidate(key);
    expect(wakes).toBe(1);
    expect(pending.emit()).toBe(bodies.length);
    expect(bodies.length).toBe(3);
    expect(bodies.every((body) => body.length <= MAX_PUSH_BODY)).toBe(true);
    const decoded = bodies.flatMap((body) => decodeInvalidateBody(body) as Buffer[]).map((k) => k.toString('latin1'));
    expect(decoded).toEqual(keys);
    bodies.length = 0;
    pending.invalidate('a');
    pending.invalidateAll();
    pending.invalidate('b');
    expect(pending.emit()).toBe(1);
    expect(decodeInvalidateBody(bodies[0]!)).toBe('all');
    expect(pending.emit()).toBe(0);
    pending.stop();
    pending.invalidate('c');
    expect(pending.pending).toBe(false);
  });
});
