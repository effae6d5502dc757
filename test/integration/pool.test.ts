import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { ConduitClient, ConduitError, decodeListBody, encodeResponse, Opcode, Status } from '../../src/index.js';
import { encodeMovedBody, encodeTopologyBody, SLOT_SCHEME } from '../../src/protocol/topology-body.js';
import { assignSlots, slotOf } from '../../src/protocol/slots.js';
import { fakeServer, reply } from '../support/fake-server.js';
import { startServer } from '../support/server.js';

const clients: ConduitClient[] = [];
function pool(servers: string[], options: ConstructorParameters<typeof ConduitClient>[0] = {}): ConduitClient {
  const c = new ConduitClient({ servers, ...options });
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function servers(n: number): Promise<{ names: string[]; items: () => Promise<number[]> }> {
  const started = await Promise.all(Array.from({ length: n }, () => startServer({ maxMemory: 64 * 1024 * 1024 })));
  const names = started.map((s) => `127.0.0.1:${s.port}`);
  const items = async (): Promise<number[]> => {
    const c = pool(names);
    const stats = (await c.stats()).servers as Record<string, { curr_items: number }>;
    return names.map((name) => (stats[name] as { curr_items: number }).curr_items);
  };
  return { names, items };
}

const KEYS = 100_000;
const keyOf = (i: number): string => `key:${i}`;

describe('ConduitClient pool (servers)', () => {
  it('spreads 100,000 keys over three servers within ±15 % of a third each, and reads every one back', async () => {
    const { names, items } = await servers(3);
    const c = pool(names);
    const entries = Array.from({ length: KEYS }, (_, i) => [keyOf(i), `value:${i}`] as const);
    const results = await c.setMany(entries, { quiet: true });
    expect(results.every((r) => r === true)).toBe(true);
    const counts = await items();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(KEYS);
    for (const count of counts) expect(Math.abs(count - KEYS / 3)).toBeLessThanOrEqual(0.15 * (KEYS / 3));
    for (let i = 0; i < KEYS; i += 5_000) {
      const batch = await Promise.all(Array.from({ length: 5_000 }, (_, j) => c.getString(keyOf(i + j))));
      expect(batch).toEqual(Array.from({ length: 5_000 }, (_, j) => `value:${i + j}`));
    }
    // Each key is on the server serverFor names, and only there.
    const direct = names.map((name) => new ConduitClient({ port: Number(name.split(':')[1]) }));
    clients.push(...direct);
    const sample = Array.from({ length: 3_000 }, (_, i) => keyOf(i * 33));
    const found = await Promise.all(direct.map((d) => Promise.all(sample.map((k) => d.getString(k)))));
    const where = sample.map((_, i) => names.filter((_, s) => found[s]?.[i] !== undefined));
    expect(where).toEqual(sample.map((k) => [c.serverFor(k)]));
  }, 120_000);

  it('another order, and another process, map every key to the same server', async () => {
    const names = ['127.0.0.1:7001', '[::1]:7002', '/tmp/conduit-c.sock'];
    const a = pool(names);
    const b = pool([names[2], names[0], names[1]] as string[]);
    const mine = Array.from({ length: KEYS }, (_, i) => a.serverFor(keyOf(i)));
    for (let i = 0; i < KEYS; i++) if (b.serverFor(keyOf(i)) !== mine[i]) expect.fail(`key ${i}: ${b.serverFor(keyOf(i))} vs ${mine[i]}`);
    // A second process importing the built package (npm run build first, as npm test does).
    const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `${fileURLToPath(new URL('.', import.meta.url))}../../dist/pool-probe-${process.pid}.mjs`;
    writeFileSync(
      script,
      `import { ConduitClient } from ${JSON.stringify(dist)};
const c = new ConduitClient({ servers: ${JSON.stringify([...names].reverse())} });
const out = [];
for (let i = 0; i < ${KEYS}; i++) out.push(c.serverFor('key:' + i));
process.stdout.write(JSON.stringify(out));
c.destroy();`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    unlinkSync(script);
    expect(err).toBe('');
    expect(code).toBe(0);
    const theirs = JSON.parse(out) as string[];
    expect(theirs).toHaveLength(KEYS);
    let differ = 0;
    for (let i = 0; i < KEYS; i++) if (theirs[i] !== mine[i]) differ++;
    expect(differ).toBe(0);
  }, 60_000);

  it('a fourth server takes at most 30 % of the keys, only from the others; removing one moves only its keys', () => {
    const three = ['10.0.0.1:7171', '10.0.0.2:7171', '10.0.0.3:7171'];
    const before = pool(three);
    const after = pool([...three, '10.0.0.4:7171']);
    const fewer = pool(three.slice(0, 2));
    let moved = 0;
    const wrong: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const was = before.serverFor(keyOf(i));
      const now = after.serverFor(keyOf(i));
      if (now !== was) {
        moved++;
        if (now !== '10.0.0.4:7171') wrong.push(`${keyOf(i)} moved to ${now}`);
      }
      const without = fewer.serverFor(keyOf(i));
      if (was !== '10.0.0.3:7171' && without !== was) wrong.push(`${keyOf(i)} left ${was} for ${without}`);
    }
    expect(wrong).toEqual([]);
    expect(moved / KEYS).toBeLessThanOrEqual(0.3);
    expect(moved / KEYS).toBeGreaterThan(0.15);
  });

  it('fans out list, scan, stats, flush, health, capabilities and setMany across three servers', async () => {
    const { names } = await servers(3);
    const c = pool(names);
    await c.connect();
    const keys = Array.from({ length: 300 }, (_, i) => `fan:${i}`);
    expect(await c.setMany(keys.map((k) => [k, 'v'] as const))).toEqual(keys.map(() => true));
    expect(new Set(keys.map((k) => c.serverFor(k))).size).toBe(3);

    const listed = await c.list('fan:', 1000);
    expect(listed.truncated).toBe(false);
    expect(listed.keys.map(String).sort()).toEqual([...keys].sort());
    const cut = await c.list('fan:', 10);
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.keys).toHaveLength(10);

    const scanned: string[] = [];
    let pages = 0;
    for (let cursor = 0n; ; ) {
      const page = await c.scanPage(cursor, { prefix: 'fan:', count: 50 });
      scanned.push(...page.keys.map(String));
      pages++;
      cursor = page.cursor;
      if (cursor === 0n) break;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...new Set(scanned)].sort()).toEqual([...keys].sort());
    const iterated: string[] = [];
    for await (const key of c.scan({ prefix: 'fan:' })) iterated.push(String(key));
    expect([...new Set(iterated)].sort()).toEqual([...keys].sort());

    const stats = await c.stats();
    expect(stats.curr_items).toBe(300);
    expect(Object.keys(stats.servers as object).sort()).toEqual([...names].sort());
    expect(typeof (await c.health())).toBe('number');
    expect((await c.capabilities()).scan).toBe(true);
    expect((await c.exchange({ op: 'HEALTH' })).status).toBe(Status.OK);
    const viaExchange = await c.exchange({ op: 'STATS' });
    expect(viaExchange.status).toBe(Status.OK);
    expect(JSON.parse(viaExchange.body.toString())).toMatchObject({ curr_items: 300 });
    const listed2 = await c.exchange({ op: 'LIST', prefix: Buffer.from('fan:1'), limit: 1000 });
    expect(decodeListBody(listed2.body)).toMatchObject({ truncated: false, keys: expect.any(Array) as unknown });
    expect((decodeListBody(listed2.body) as { keys: Buffer[] }).keys).toHaveLength(keys.filter((k) => k.startsWith('fan:1')).length);
    await expect(c.exchange({ op: 'SCAN', cursor: 0n, count: 10, prefix: Buffer.alloc(0) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(c.pending).toEqual({ inflight: 0, queued: 0 });

    await c.flush();
    expect((await c.stats()).curr_items).toBe(0);
    expect(await c.getString('fan:1')).toBeUndefined();
  }, 30_000);

  it('update, incr and exchange go to the key\u2019s server', async () => {
    const { names } = await servers(2);
    const c = pool(names);
    expect(await c.incr('counter', 5)).toBe(5n);
    expect(String(await c.update('counter', (old) => String(Number(old) + 1)))).toBe('6');
    const got = await c.exchange({ op: 'GET', key: Buffer.from('counter') });
    expect(got).toEqual({ status: Status.OK, body: Buffer.from('6') });
    const one = new ConduitClient({ port: Number(c.serverFor('counter').split(':')[1]) });
    clients.push(one);
    expect(await one.getString('counter')).toBe('6');
  });

  it('flush and health reject naming the server that failed', async () => {
    const { names } = await servers(1);
    const dead = await fakeServer((frame, socket) => socket.destroy());
    const c = pool([...names, `127.0.0.1:${dead}`], { reconnect: false });
    const err = await c.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConduitError);
    expect((err as ConduitError).message).toContain(`127.0.0.1:${dead}`);
    await expect(c.flush()).rejects.toThrow(`127.0.0.1:${dead}`);
  });

  it('connect rejects CONNECT_FAILED naming the server; the other servers\u2019 keys still work', async () => {
    const { names } = await servers(2);
    const free = await startServer();
    const gone = `127.0.0.1:${free.port}`;
    await free.server.close();
    const c = pool([...names, gone]);
    await expect(c.connect()).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: expect.stringContaining(gone) as unknown });
    let ok = 0;
    for (let i = 0; i < 300; i++) {
      const key = keyOf(i);
      const outcome = await c.set(key, 'v').then(
        () => 'ok',
        (e: ConduitError) => e.code,
      );
      if (c.serverFor(key) === gone) expect(['CONNECT_FAILED', 'CONNECTION_LOST']).toContain(outcome);
      else {
        expect(outcome).toBe('ok');
        ok++;
      }
    }
    expect(ok).toBeGreaterThan(100);
  });
});

/** Answers MOVED with its binary body (reply() sends text). */
function moved(socket: Socket, id: bigint, body: Parameters<typeof encodeMovedBody>[0]): void {
  if (!socket.destroyed) socket.write(Buffer.concat(encodeResponse(id, Status.MOVED, encodeMovedBody(body))));
}

describe('MOVED (spec §3.14)', () => {
  it('a pool resends a MOVED request once, to the owner it names; a single client rejects MOVED naming it', async () => {
    const real = await startServer();
    const owner = `127.0.0.1:${real.port}`;
    let movedSent = 0;
    const redirector = await fakeServer((frame, socket) => {
      if (frame.opcode === Opcode.GET || frame.opcode === Opcode.SET) {
        movedSent++;
        const slot = frame.opcode === Opcode.GET ? slotOf(frame.body) : 0;
        moved(socket, frame.id, { slot, node: 1, epoch: 1, name: owner });
      } else reply(socket, frame.id);
    });
    const other = `127.0.0.1:${redirector}`;
    // A pool of both, with a key the pool sends to the redirector.
    const c = pool([owner, other]);
    let key = 'k';
    for (let i = 0; c.serverFor(key) !== other; i++) key = `k${i}`;
    const single = new ConduitClient({ port: redirector });
    clients.push(single);
    const err = await single.get(key).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MOVED' });
    expect((err as Error).message).toContain(owner);
    expect((await single.exchange({ op: 'GET', key: Buffer.from(key) })).status).toBe(Status.MOVED);
    movedSent = 0;
    expect(await c.getString(key)).toBeUndefined(); // answered by the owner
    expect(movedSent).toBe(1);
    const direct = new ConduitClient({ port: real.port });
    clients.push(direct);
    await direct.set(key, 'from-owner');
    expect(await c.getString(key)).toBe('from-owner');
    expect((await c.exchange({ op: 'GET', key: Buffer.from(key) })).body.toString()).toBe('from-owner');
  });

  it('a MOVED naming a server outside the pool, or a second MOVED, rejects MOVED', async () => {
    const answer = (name: string) => (frame: { opcode: number; id: bigint; body: Buffer }, socket: Socket): void =>
      moved(socket, frame.id, { slot: 0, node: 0, epoch: 1, name });
    const a = await fakeServer(answer('10.9.9.9:1'));
    const c = pool([`127.0.0.1:${a}`]);
    await expect(c.get('x')).rejects.toMatchObject({ code: 'MOVED', message: expect.stringContaining('10.9.9.9:1') as unknown });
    const b = await fakeServer(answer(`127.0.0.1:${a}`)); // b sends to a, a sends elsewhere: one resend only
    const d = pool([`127.0.0.1:${a}`, `127.0.0.1:${b}`]);
    let key = 'k';
    for (let i = 0; d.serverFor(key) !== `127.0.0.1:${b}`; i++) key = `k${i}`;
    await expect(d.get(key)).rejects.toMatchObject({ code: 'MOVED' });
  });
});

describe('discover (spec §3.14)', () => {
  it('a standalone server is a pool of one: the address given', async () => {
    const { port } = await startServer();
    const c = new ConduitClient({ port, discover: true });
    clients.push(c);
    await c.set('a', '1');
    expect(await c.getString('a')).toBe('1');
    expect(c.serverFor('a')).toBe(`127.0.0.1:${port}`);
    expect((await c.stats()).servers).toBeDefined();
  });

  it('a protocol 1.0 server (TOPOLOGY is UNKNOWN_OPCODE) is a pool of one', async () => {
    const port = await fakeServer((frame, socket) => {
      if (frame.opcode === Opcode.TOPOLOGY) reply(socket, frame.id, 'unknown opcode', Status.UNKNOWN_OPCODE);
      else if (frame.opcode === Opcode.GET) reply(socket, frame.id, 'v');
      else reply(socket, frame.id);
    });
    const c = new ConduitClient({ port, discover: true });
    clients.push(c);
    expect(await c.getString('k')).toBe('v');
    expect(c.serverFor('k')).toBe(`127.0.0.1:${port}`);
  });

  /** A TOPOLOGY answer for `nodes` (spec §3.14), as a group's server sends it. */
  function topology(socket: Socket, id: bigint, epoch: number, nodes: string[], self: number): void {
    const body = encodeTopologyBody({ scheme: SLOT_SCHEME, self, epoch, nodes, table: assignSlots(nodes) });
    socket.write(Buffer.concat(encodeResponse(id, Status.OK, body)));
  }

  it('a group: the pool is its servers (a wildcard host reached at the discovery host), routed by its table', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const nodes = [`0.0.0.0:${a.port}`, `127.0.0.1:${b.port}`];
    let asked = 0;
    const seed = await fakeServer((frame, socket) => {
      if (frame.opcode === Opcode.TOPOLOGY) {
        asked++;
        topology(socket, frame.id, 7, nodes, 0);
      } else socket.destroy(); // the seed is not in the group: nothing else may come here
    });
    const c = new ConduitClient({ port: seed, discover: true });
    clients.push(c);
    const changed: unknown[] = [];
    c.on('ring-changed', (e) => changed.push(e));
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.set(keyOf(i), `v${i}`)));
    expect(asked).toBe(1); // single-flight: 200 calls, one TOPOLOGY
    expect(changed).toEqual([{ servers: nodes }]);
    const table = assignSlots(nodes);
    for (let i = 0; i < 200; i++) expect(c.serverFor(keyOf(i))).toBe(nodes[table[slotOf(keyOf(i))] as number]);
    const onA = new ConduitClient({ port: a.port });
    clients.push(onA);
    for (let i = 0; i < 200; i++) {
      expect(await c.getString(keyOf(i))).toBe(`v${i}`);
      expect(await onA.getString(keyOf(i))).toBe(c.serverFor(keyOf(i)) === nodes[0] ? `v${i}` : undefined);
    }
    expect(Object.keys((await c.stats()).servers as object)).toEqual(nodes);
  });

  it('a MOVED from another epoch refreshes the map once (single-flight) and resends each request once', async () => {
    const a = await startServer();
    const owner = `127.0.0.1:${a.port}`;
    let topologies = 0;
    let moves = 0;
    const port = await fakeServer((frame, socket) => {
      if (frame.opcode === Opcode.TOPOLOGY) {
        topologies++;
        // Epoch 1: the group is this server and A; epoch 2: A alone.
        if (topologies === 1) topology(socket, frame.id, 1, [owner, `127.0.0.1:${port}`], 1);
        else topology(socket, frame.id, 2, [owner], 0);
      } else {
        moves++;
        moved(socket, frame.id, { slot: 0, node: 0, epoch: 2, name: owner });
      }
    });
    const c = new ConduitClient({ port, discover: true });
    clients.push(c);
    await c.connect();
    const mine = Array.from({ length: 2_000 }, (_, i) => keyOf(i)).filter((k) => c.serverFor(k) === `127.0.0.1:${port}`);
    expect(mine.length).toBeGreaterThan(500);
    const direct = new ConduitClient({ port: a.port });
    clients.push(direct);
    await Promise.all(mine.map((k) => direct.set(k, `a:${k}`)));
    expect(await Promise.all(mine.map((k) => c.getString(k)))).toEqual(mine.map((k) => `a:${k}`));
    expect(topologies).toBe(2);
    expect(moves).toBe(mine.length);
    for (const k of mine) expect(c.serverFor(k)).toBe(owner);
  });
});
