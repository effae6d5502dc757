import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError } from '../../src/index.js';
import { startServerProcess, type ServerProcess } from '../support/cli.js';

/**
 * A pool whose server is killed (SIGKILL) under load (issue 20): real
 * `conduit-server` processes, so one can die without closing its sockets.
 * 'fail': only the dead server's keys fail, with connection errors, at once
 * (requestTimeoutMs is far longer than the test could wait); 'eject': it
 * leaves the ring, every key is served, and it rejoins when restarted.
 */

const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const KEYS = Array.from({ length: 3_000 }, (_, i) => `load:${i}`);
const CONNECTION_ERRORS = ['CONNECTION_LOST', 'CONNECT_FAILED'];
const outcome = (p: Promise<unknown>): Promise<unknown> => p.catch((err: unknown) => (err instanceof ConduitError ? { code: err.code } : { code: String(err) }));

async function three(): Promise<{ procs: ServerProcess[]; names: string[] }> {
  const procs = await Promise.all([0, 1, 2].map(() => startServerProcess(['--port', '0', '--host', '127.0.0.1'])));
  return { procs, names: procs.map((p) => `127.0.0.1:${p.port}`) };
}

function pool(names: string[], options: ConstructorParameters<typeof ConduitClient>[0]): ConduitClient {
  const c = new ConduitClient({
    servers: names,
    requestTimeoutMs: 30_000,
    connectTimeoutMs: 30_000,
    reconnect: { maxAttempts: Infinity, baseDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
  clients.push(c);
  return c;
}

describe('a pool with a server killed under load', () => {
  it("'fail': only the dead server's keys fail, with connection errors, and nothing is misdelivered", async () => {
    const { procs, names } = await three();
    const c = pool(names, { failurePolicy: 'fail' });
    const dead = names[1] as string;
    const written = new Map<string, string>();
    for (let round = 0; round < 6; round++) {
      const writes = KEYS.map((k) => outcome(c.set(k, `${k}=${round}`)));
      if (round === 2) procs[1]?.child.kill('SIGKILL'); // mid-round: some of its writes are in flight
      const results = await Promise.all(writes);
      KEYS.forEach((k, i) => {
        const r = results[i];
        if (r === true) written.set(k, `${k}=${round}`);
        else if (c.serverFor(k) !== dead || round < 2) expect.fail(`${k} on ${c.serverFor(k)}: ${JSON.stringify(r)}`);
        else expect(CONNECTION_ERRORS).toContain((r as { code: string }).code);
      });
      if (round > 2) for (const k of KEYS) if (c.serverFor(k) === dead) expect(results[KEYS.indexOf(k)]).not.toBe(true);
      const reads = await Promise.all(KEYS.map((k) => outcome(c.getString(k))));
      KEYS.forEach((k, i) => {
        const r = reads[i];
        if (typeof r === 'string') {
          expect(r.startsWith(`${k}=`)).toBe(true); // never another key's value
          if (c.serverFor(k) !== dead) expect(r).toBe(written.get(k));
        } else if (c.serverFor(k) === dead && round >= 2) {
          expect(CONNECTION_ERRORS).toContain((r as { code: string }).code);
        } else expect.fail(`read ${k} on ${c.serverFor(k)}: ${JSON.stringify(r)}`);
      });
    }
    const deadKeys = KEYS.filter((k) => c.serverFor(k) === dead).length;
    expect(deadKeys).toBeGreaterThan(500);
  }, 60_000);

  it("'eject': the dead server leaves the ring, every key is served, and it rejoins when restarted", async () => {
    const { procs, names } = await three();
    const c = pool(names, { failurePolicy: 'eject', ejectAfter: 3, ejectRetryMs: 200 });
    const events: { event: string; payload: Record<string, unknown> }[] = [];
    for (const event of ['server-down', 'server-up', 'ring-changed']) c.on(event, (payload: Record<string, unknown>) => events.push({ event, payload }));
    const down = new Promise((resolve) => c.once('server-down', resolve));
    const dead = names[1] as string;
    const deadKeys = KEYS.filter((k) => c.serverFor(k) === dead);
    expect((await Promise.all(KEYS.map((k) => c.set(k, `${k}=0`)))).every((r) => r)).toBe(true);

    procs[1]?.child.kill('SIGKILL');
    let ejected = false;
    void down.then(() => (ejected = true));
    for (let round = 1; !ejected && round < 200; round++) {
      const results = await Promise.all(KEYS.map((k) => outcome(c.getString(k))));
      results.forEach((r, i) => {
        if (typeof r !== 'string' && r !== undefined) expect(CONNECTION_ERRORS).toContain((r as { code: string }).code);
        if (typeof r === 'string') expect(r).toBe(`${KEYS[i]}=0`);
      });
    }
    expect(ejected).toBe(true);
    expect(events.filter((e) => e.event === 'server-down')).toHaveLength(1);
    expect(events.find((e) => e.event === 'server-down')?.payload).toMatchObject({ server: dead, error: expect.any(ConduitError) as unknown });
    expect(events.find((e) => e.event === 'ring-changed')?.payload).toEqual({ servers: names.filter((n) => n !== dead) });

    // Every key is served now: the dead server's keys as misses, the others' as written.
    for (const k of deadKeys) expect(c.serverFor(k)).not.toBe(dead);
    const reads = await Promise.all(KEYS.map((k) => c.getString(k)));
    KEYS.forEach((k, i) => expect(reads[i]).toBe(deadKeys.includes(k) ? undefined : `${k}=0`));
    expect((await Promise.all(KEYS.map((k) => c.set(k, `${k}=1`)))).every((r) => r)).toBe(true);
    expect(await Promise.all(KEYS.map((k) => c.getString(k)))).toEqual(KEYS.map((k) => `${k}=1`));

    // Restarted on its port, it passes a HEALTH check and rejoins with its own slots.
    const up = new Promise((resolve) => c.once('server-up', resolve));
    const port = Number(dead.split(':')[1]);
    await startServerProcess(['--port', String(port), '--host', '127.0.0.1']);
    expect(await up).toEqual({ server: dead });
    expect(events.at(-1)).toEqual({ event: 'ring-changed', payload: { servers: names } });
    for (const k of deadKeys) expect(c.serverFor(k)).toBe(dead);
    expect((await Promise.all(KEYS.map((k) => c.set(k, `${k}=2`)))).every((r) => r)).toBe(true);
    expect(await Promise.all(KEYS.map((k) => c.getString(k)))).toEqual(KEYS.map((k) => `${k}=2`));
    const stats = (await c.stats()).servers as Record<string, { curr_items: number }>;
    expect(stats[dead]?.curr_items).toBe(deadKeys.length);
  }, 60_000);
});
