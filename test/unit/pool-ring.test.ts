import { describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Status } from '../../src/index.js';
import { SLOT_COUNT } from '../../src/protocol/slots.js';
import { encodeMovedBody } from '../../src/protocol/topology-body.js';
import { movedError } from '../../src/client/commands.js';
import { commonCapabilities, joinCursor, mergeLists, mergeStats, splitCursor } from '../../src/client/fan-out.js';
import { resolvePoolOptions } from '../../src/client/options.js';
import { Ring } from '../../src/client/ring.js';
import { normaliseServerName, reachAt, serverList } from '../../src/client/server-names.js';

const owners = (ring: Ring): string[] => Array.from({ length: SLOT_COUNT }, (_, s) => ring.names[ring.ownerOf(s)] as string);
const NAMES = ['10.0.0.1:7171', '10.0.0.2:7171', '10.0.0.3:7171', '[::1]:7171', '/run/conduit.sock'];

describe('Ring (spec §3.14: slots → servers by rendezvous over names)', () => {
  it('gives every slot the same owner whatever the order of the names', () => {
    const a = owners(new Ring(NAMES));
    expect(owners(new Ring([...NAMES].reverse()))).toEqual(a);
    expect(owners(new Ring([NAMES[2], NAMES[0], NAMES[4], NAMES[1], NAMES[3]] as string[]))).toEqual(a);
    expect(new Set(a).size).toBe(NAMES.length);
  });

  it('ejecting a server moves only its slots, and restoring it moves them back', () => {
    const ring = new Ring(NAMES);
    const before = owners(ring);
    expect(ring.eject(1)).toBe(true);
    const after = owners(ring);
    let moved = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (before[s] === NAMES[1]) {
        expect(after[s]).not.toBe(NAMES[1]);
        moved++;
      } else {
        expect(after[s]).toBe(before[s]);
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(ring.live).toEqual(NAMES.filter((_, i) => i !== 1));
    // The others' table is exactly the one of a pool without that server.
    expect(after).toEqual(owners(new Ring(NAMES.filter((_, i) => i !== 1))));
    expect(ring.restore(1)).toBe(true);
    expect(owners(ring)).toEqual(before);
  });

  it('refuses to eject the last server in the ring, or one already out', () => {
    const ring = new Ring(['a:1', 'b:1']);
    expect(ring.eject(0)).toBe(true);
    expect(ring.eject(0)).toBe(false);
    expect(ring.eject(1)).toBe(false);
    expect(ring.live).toEqual(['b:1']);
    expect(ring.restore(1)).toBe(false);
  });
});

describe('server names and pool options', () => {
  it('normalises host:port, [v6]:port and socket paths', () => {
    expect(normaliseServerName('Cache-1.Example:7171')).toBe('cache-1.example:7171');
    expect(normaliseServerName('[::FFFF:1]:80')).toBe('[::ffff:1]:80');
    expect(normaliseServerName('/run/c.sock')).toBe('/run/c.sock');
    expect(reachAt('0.0.0.0:7172', '10.1.1.1')).toEqual({ host: '10.1.1.1', port: 7172 });
    expect(reachAt('[::]:7172', 'h')).toEqual({ host: 'h', port: 7172 });
  });

  it.each([
    ['7171', /servers option entries/],
    ['::1:7171', /servers option entries/],
    ['host:0', /servers option entries/],
    ['host:65536', /servers option entries/],
    ['[127.0.0.1]:1', /servers option entries/],
    ['relative.sock', /servers option entries/],
    [':7171', /servers option entries/],
  ])('rejects the servers entry %s', (entry, message) => {
    expect(() => serverList([entry])).toThrow(message);
  });

  it('rejects duplicates after normalisation, and 0 or more than 64 entries', () => {
    expect(() => serverList(['A:1', 'a:1'])).toThrow(/names a:1 twice/);
    expect(() => serverList([])).toThrow(/1 to 64/);
    expect(() => serverList(Array.from({ length: 65 }, (_, i) => `h:${i + 1}`))).toThrow(/1 to 64/);
    expect(serverList(Array.from({ length: 64 }, (_, i) => `h:${i + 1}`))).toHaveLength(64);
  });

  it('rejects servers with host, port or socket, and with discover; validates the policy options', () => {
    for (const extra of [{ host: 'h' }, { port: 1 }, { socket: '/s' }]) {
      expect(() => new ConduitClient({ servers: ['a:1'], ...extra })).toThrow(/servers option excludes host, port and socket/);
    }
    expect(() => new ConduitClient({ servers: ['a:1'], discover: true })).toThrow(/discover and servers options exclude each other/);
    expect(() => new ConduitClient({ servers: ['a:1'], failurePolicy: 'retry' as 'fail' })).toThrow(/failurePolicy option/);
    expect(() => new ConduitClient({ servers: ['a:1'], ejectAfter: 0 })).toThrow(/ejectAfter option/);
    expect(() => new ConduitClient({ servers: ['a:1'], ejectRetryMs: -1 })).toThrow(/ejectRetryMs option/);
    expect(() => new ConduitClient({ servers: ['a:1'], requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs option/);
    expect(() => new ConduitClient({ discover: true, port: 0 })).toThrow(/port option/);
    expect(resolvePoolOptions({ port: 7171 })).toBeUndefined();
    expect(resolvePoolOptions({ discover: true, port: 7172 })?.discover).toEqual({ host: '127.0.0.1', port: 7172 });
  });

  it('serverFor: a pool hashes (one server too); a single client names its address', () => {
    const one = new ConduitClient({ servers: ['LOCALHOST:7171'] });
    expect(one.serverFor('k')).toBe('localhost:7171');
    expect(new ConduitClient({ host: '::1', port: 7000 }).serverFor('k')).toBe('[::1]:7000');
    const a = new ConduitClient({ servers: NAMES });
    const b = new ConduitClient({ servers: [...NAMES].reverse() });
    for (let i = 0; i < 2_000; i++) expect(b.serverFor(`key:${i}`)).toBe(a.serverFor(`key:${i}`));
    // {hash tags} share a slot, so a server (spec §3.14).
    expect(a.serverFor('{user:42}:cart')).toBe(a.serverFor('{user:42}:profile'));
    for (const c of [one, a, b]) c.destroy();
  });
});

describe('fan-out merges', () => {
  it('SCAN cursors carry the server above bit 64; 0n is server 0 from its start', () => {
    expect(splitCursor(0n)).toEqual({ server: 0, cursor: 0n });
    expect(splitCursor(joinCursor(3, 0xffff_ffff_ffff_ffffn))).toEqual({ server: 3, cursor: 0xffff_ffff_ffff_ffffn });
    expect(joinCursor(0, 42n)).toBe(42n);
  });

  it('lists are cut at the limit; stats sum counts, keep the largest setting, and keep each server', () => {
    const k = (s: string): Buffer => Buffer.from(s);
    expect(mergeLists([{ keys: [k('a')], truncated: false }, { keys: [k('b')], truncated: false }], 5)).toEqual({ keys: [k('a'), k('b')], truncated: false });
    expect(mergeLists([{ keys: [k('a')], truncated: false }, { keys: [k('b')], truncated: false }], 1)).toEqual({ keys: [k('a')], truncated: true });
    expect(mergeLists([{ keys: [], truncated: true }], 1).truncated).toBe(true);
    const merged = mergeStats(['a:1', 'b:1'], [
      { curr_items: 2, max_value_size: 10, aead: 'x' },
      { curr_items: 3, max_value_size: 20, aead: 'y' },
    ]);
    expect(merged).toMatchObject({ curr_items: 5, max_value_size: 20, aead: 'x', servers: { 'a:1': { curr_items: 2 }, 'b:1': { curr_items: 3 } } });
  });

  it('capabilities: what every server supports', () => {
    const full = { minor: 1, fragments: true, versions: true, scan: true, quietWrites: true, maxValueSize: 100 };
    expect(commonCapabilities([full, { ...full, maxValueSize: 50, scan: false }])).toEqual({ ...full, maxValueSize: 50, scan: false });
    expect(commonCapabilities([full, { ...full, minor: 0, maxValueSize: undefined }])).toMatchObject({ minor: 0, maxValueSize: undefined });
  });

  it('a MOVED answer is an error whose message names the owner', () => {
    const err = movedError(encodeMovedBody({ slot: 7, node: 1, epoch: 3, name: '10.0.0.2:7171' }));
    expect(err).toBeInstanceOf(ConduitError);
    expect(err.code).toBe('MOVED');
    expect(err.status).toBe(Status.MOVED);
    expect(err.message).toContain('10.0.0.2:7171');
    expect(movedError(Buffer.from([1])).code).toBe('PROTOCOL_ERROR');
  });
});
