// Pool options and names the attack review of issue 20 got past the checks: holes, aliases of one
// IP literal, names over 255 bytes or with control characters, pool-only options on a single
// client, negative SCAN cursors, and a TOPOLOGY claiming both a list and standalone.
import { describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/client/client.js';
import { serverList } from '../../src/client/server-names.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { assignSlots } from '../../src/protocol/slots.js';
import { decodeTopologyBody, encodeTopologyBody, SLOT_SCHEME, STANDALONE } from '../../src/protocol/topology-body.js';

describe('pool options (attack review, issue 20)', () => {
  it('a hole in servers is refused when the client is built, not a TypeError at the first call', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(() => new ConduitClient({ servers: [, '127.0.0.1:7171'] as unknown as string[] })).toThrow(/servers option entries must be/);
  });

  it('one IP literal in two spellings is one server, listed twice', () => {
    expect(() => serverList(['[::1]:7171', '[0:0:0:0:0:0:0:1]:7171'])).toThrow(/names \[::1\]:7171 twice/);
    expect(serverList(['[0:0:0:0:0:0:0:1]:7171'])).toEqual(['[::1]:7171']);
    expect(serverList(['127.0.0.1:7171', 'cache-1:7171'])).toEqual(['127.0.0.1:7171', 'cache-1:7171']);
  });

  it('names over 255 bytes or with a control character are refused (spec §3.14)', () => {
    expect(() => serverList([`/${'s'.repeat(255)}`])).toThrow(/servers option entries must be/);
    expect(serverList([`/${'s'.repeat(254)}`])).toHaveLength(1);
    expect(() => serverList(['/tmp/x\0.sock'])).toThrow(/servers option entries must be/);
  });

  it('failurePolicy, ejectAfter and ejectRetryMs need a pool', () => {
    expect(() => new ConduitClient({ port: 7171, failurePolicy: 'eject' })).toThrow(/^failurePolicy option needs servers or discover: true/);
    expect(() => new ConduitClient({ port: 7171, ejectAfter: 2 })).toThrow(/^ejectAfter option needs servers/);
  });

  it('scanPage refuses a negative cursor with BAD_REQUEST, sending nothing', async () => {
    const client = new ConduitClient({ port: 1, reconnect: false });
    await expect(client.scanPage(-1n)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(client.pending).toEqual({ inflight: 0, queued: 0 });
    await client.close();
  });
});

describe('TOPOLOGY self (spec §3.14)', () => {
  it('0xFF with servers listed is neither a group member nor standalone: refused both ways', () => {
    const nodes = ['127.0.0.1:7171'];
    const table = assignSlots(nodes);
    expect(() => encodeTopologyBody({ scheme: SLOT_SCHEME, self: STANDALONE, epoch: 1, nodes, table })).toThrow(/self 255/);
    const body = encodeTopologyBody({ scheme: SLOT_SCHEME, self: 0, epoch: 1, nodes, table });
    body[1] = STANDALONE;
    expect(decodeTopologyBody(body)).toBeInstanceOf(ProtocolError);
  });
});
