// A pool against a real two-server group (spec §3.14, protocol 1.2), both in
// this process: discover finds the group and routes by its table, so no
// request is answered MOVED; a pool whose map disagrees with the group's
// follows each MOVED once to the owner; a single-server client rejects MOVED
// naming the owner.
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError } from '../../src/index.js';
import { assignSlots } from '../../src/protocol/slots.js';
import { startServer } from '../support/server.js';
import { freePort } from '../support/ports.js';

const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
function client(options: ConstructorParameters<typeof ConduitClient>[0]): ConduitClient {
  const c = new ConduitClient(options);
  clients.push(c);
  return c;
}


/** Two servers in a group of epoch 1 whose slot table is `table` (default: the scheme's own). */
async function startGroup(table?: (names: string[]) => Uint8Array): Promise<{ names: string[]; ports: number[] }> {
  const ports = [await freePort(), await freePort()];
  const names = ports.map((port) => `127.0.0.1:${port}`);
  const slots = table?.(names) ?? assignSlots(names);
  for (const [self, port] of ports.entries()) await startServer({ port, group: { self, epoch: 1, nodes: names, table: slots } });
  return { names, ports };
}

const KEYS = Array.from({ length: 2_000 }, (_, i) => `group:${i}`);
const movedOf = async (port: number): Promise<number> => Number((await client({ port }).stats()).moved);

describe('a pool against a two-server group', () => {
  it('discover: TOPOLOGY gives the group; every key goes to its owner, and no request is answered MOVED', async () => {
    const { names, ports } = await startGroup();
    const c = client({ port: ports[1], discover: true });
    expect(await Promise.all(KEYS.map((k) => c.set(k, `v:${k}`)))).toEqual(KEYS.map(() => true));
    expect(await Promise.all(KEYS.map((k) => c.getString(k)))).toEqual(KEYS.map((k) => `v:${k}`));
    expect(new Set(KEYS.map((k) => c.serverFor(k)))).toEqual(new Set(names));
    const stats = await c.stats();
    expect(stats.curr_items).toBe(KEYS.length);
    expect(stats.moved).toBe(0);
    for (const [i, name] of names.entries()) {
      expect((stats.servers as Record<string, { curr_items: number }>)[name]?.curr_items).toBe(KEYS.filter((k) => c.serverFor(k) === name).length);
      expect(await movedOf(ports[i] as number)).toBe(0);
    }
    // A client with the same servers listed agrees with the group on every key.
    const listed = client({ servers: [...names].reverse() });
    for (const k of KEYS) if (listed.serverFor(k) !== c.serverFor(k)) expect.fail(k);
  });

  it('a map that disagrees with the group: each MOVED is followed once, to the owner, and every request succeeds', async () => {
    // The group gives every slot to its second server; the pool's own map splits them.
    const { names, ports } = await startGroup(() => new Uint8Array(16_384).fill(1));
    const c = client({ servers: names });
    const misrouted = KEYS.filter((k) => c.serverFor(k) === names[0]);
    expect(misrouted.length).toBeGreaterThan(500);
    expect(await Promise.all(KEYS.map((k) => c.set(k, `v:${k}`)))).toEqual(KEYS.map(() => true));
    expect(await Promise.all(KEYS.map((k) => c.getString(k)))).toEqual(KEYS.map((k) => `v:${k}`));
    expect(await movedOf(ports[0] as number)).toBe(2 * misrouted.length); // one MOVED per misrouted SET and GET
    expect(await movedOf(ports[1] as number)).toBe(0);
    const stats = (await c.stats()).servers as Record<string, { curr_items: number }>;
    expect(stats[names[0] as string]?.curr_items).toBe(0);
    expect(stats[names[1] as string]?.curr_items).toBe(KEYS.length);
  });

  it('discover against that group follows its table: no MOVED at all', async () => {
    const { names, ports } = await startGroup(() => new Uint8Array(16_384).fill(1));
    const c = client({ port: ports[0], discover: true });
    await Promise.all(KEYS.map((k) => c.set(k, 'v')));
    for (const k of KEYS) if (c.serverFor(k) !== names[1]) expect.fail(`${k} → ${c.serverFor(k)}`);
    expect(await movedOf(ports[0] as number)).toBe(0);
  });

  it('a single-server client rejects MOVED with the owner in its message; a pool without the owner too', async () => {
    const { names, ports } = await startGroup();
    const single = client({ port: ports[0] });
    const other = client({ servers: [names[0] as string] });
    const key = KEYS.find((k) => client({ servers: names }).serverFor(k) === names[1]) as string;
    for (const c of [single, other]) {
      const err = await c.set(key, 'v').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConduitError);
      expect(err).toMatchObject({ code: 'MOVED' });
      expect((err as Error).message).toContain(names[1]);
    }
  });
});
