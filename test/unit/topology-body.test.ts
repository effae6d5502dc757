// spec §3.14: TOPOLOGY's OK body and MOVED's body round trip, and every malformed body
// decodes to a typed BAD_REQUEST error, never a throw.
import { describe, expect, it } from 'vitest';
import { ConduitError, ProtocolError } from '../../src/protocol/errors.js';
import { assignSlots, SLOT_COUNT } from '../../src/protocol/slots.js';
import { decodeMovedBody, decodeTopologyBody, encodeMovedBody, encodeTopologyBody, SLOT_SCHEME, STANDALONE } from '../../src/protocol/topology-body.js';

const nodes = ['127.0.0.1:7171', '127.0.0.1:7172'];
const group = { scheme: SLOT_SCHEME, self: 1, epoch: 7, nodes, table: assignSlots(nodes) };
const standalone = { scheme: SLOT_SCHEME, self: STANDALONE, epoch: 0, nodes: [], table: new Uint8Array(0) };

function badRequest(result: unknown): void {
  expect(result).toBeInstanceOf(ProtocolError);
  expect((result as ProtocolError).code).toBe('BAD_REQUEST');
}

describe('TOPOLOGY body (spec §3.14)', () => {
  it('round trips a group and a standalone server', () => {
    const body = encodeTopologyBody(group);
    expect(body).toHaveLength(7 + nodes.reduce((n, name) => n + 1 + name.length, 0) + SLOT_COUNT);
    expect(decodeTopologyBody(body)).toEqual(group);
    const alone = encodeTopologyBody(standalone);
    expect(alone.toString('hex')).toBe('01ff0000000000');
    expect(decodeTopologyBody(alone)).toEqual(standalone);
    const unicode = ['[::1]:7171', '/run/conduit/é.sock'];
    const other = { scheme: SLOT_SCHEME, self: 0, epoch: 0xffff_ffff, nodes: unicode, table: assignSlots(unicode) };
    expect(decodeTopologyBody(encodeTopologyBody(other))).toEqual(other);
  });

  it('decodes every malformed body to BAD_REQUEST, never a throw', () => {
    const body = encodeTopologyBody(group);
    for (let cut = 0; cut < 7 + 2 * 16; cut++) badRequest(decodeTopologyBody(body.subarray(0, cut)));
    badRequest(decodeTopologyBody(body.subarray(0, body.length - 1))); // table one short
    badRequest(decodeTopologyBody(Buffer.concat([body, Buffer.of(0)]))); // table one long
    const mutate = (at: number, value: number): Buffer => {
      const copy = Buffer.from(body);
      copy[at] = value;
      return copy;
    };
    badRequest(decodeTopologyBody(mutate(0, 2))); // unknown scheme
    badRequest(decodeTopologyBody(mutate(1, 2))); // self past the list
    badRequest(decodeTopologyBody(mutate(6, 65))); // more than 64 servers
    badRequest(decodeTopologyBody(mutate(7, 0))); // an empty name
    badRequest(decodeTopologyBody(mutate(7, 255))); // a name past the end
    badRequest(decodeTopologyBody(mutate(body.length - 1, 2))); // the table names server 2 of 2
    badRequest(decodeTopologyBody(Buffer.from('01000000000000', 'hex'))); // no servers but not standalone
    badRequest(decodeTopologyBody(Buffer.from('01ff000000000000', 'hex'))); // standalone with a byte more
  });

  it('refuses to encode a map that breaks §3.14 with a typed error', () => {
    const bad = [
      { ...group, scheme: 2 },
      { ...group, self: 2 },
      { ...group, epoch: -1 },
      { ...group, epoch: 2 ** 32 },
      { ...group, table: group.table.subarray(1) },
      { ...group, table: new Uint8Array(SLOT_COUNT).fill(2) },
      { ...group, nodes: ['', 'b'] },
      { ...group, nodes: ['x'.repeat(256), 'b'] },
      { ...standalone, self: 0 },
    ];
    for (const topology of bad) {
      expect(() => encodeTopologyBody(topology)).toThrow(ConduitError);
    }
  });
});

describe('MOVED body (spec §3.14)', () => {
  it('round trips', () => {
    const moved = { slot: 12182, node: 1, epoch: 1, name: '127.0.0.1:7172' };
    const body = encodeMovedBody(moved);
    expect(body.subarray(0, 7).toString('hex')).toBe('2f960100000001');
    expect(decodeMovedBody(body)).toEqual(moved);
    const last = { slot: SLOT_COUNT - 1, node: 63, epoch: 0xffff_ffff, name: '/tmp/c.sock' };
    expect(decodeMovedBody(encodeMovedBody(last))).toEqual(last);
  });

  it('decodes a body under 8 bytes or a slot past 16,383 to BAD_REQUEST, never a throw', () => {
    const body = encodeMovedBody({ slot: 1, node: 0, epoch: 1, name: 'a:1' });
    for (let cut = 0; cut < 8; cut++) badRequest(decodeMovedBody(body.subarray(0, cut)));
    const past = Buffer.from(body);
    past.writeUInt16BE(SLOT_COUNT, 0);
    badRequest(decodeMovedBody(past));
    past.writeUInt16BE(0xffff, 0);
    badRequest(decodeMovedBody(past));
  });
});
