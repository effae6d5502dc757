// Issue 25: reload under load (spec §6.8). Clients of three keys pipeline requests without
// pause while the server's access table is reloaded: a rule change for key A (A's sessions
// keep their rights and their connections; a new A session gets the new rights), a bad file
// (refused, nothing changes), then key B removed (B's sessions closed at once, counted
// `key_removed`; the others see no error). Once in process (server.access.reload), once
// through RELOAD (client.reload()). Every loop is bounded in count and time.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError } from '../../src/index.js';
import type { PreSharedKey } from '../../src/crypto/handshake.js';
import type { AccessConfig } from '../../src/server/access/access-table.js';
import type { AccessClass } from '../../src/protocol/access.js';
import { startServer } from '../support/server.js';

const rule = (prefix: string, allow: AccessClass[]) => ({ prefixes: [Buffer.from(prefix)], allow: new Set(allow) });
const admin: PreSharedKey = { id: 'admin', secret: randomBytes(32) };
const keyA: PreSharedKey = { id: 'A', secret: randomBytes(32), rule: rule('a:', ['read', 'write']) };
const keyB: PreSharedKey = { id: 'B', secret: randomBytes(32), rule: rule('b:', ['read', 'write']) };
const keyC: PreSharedKey = { id: 'C', secret: randomBytes(32), rule: rule('c:', ['read', 'write']) };
const configOf = (keys: PreSharedKey[]): AccessConfig => ({ keys, tokens: [], certificates: [] });
/** A's rights after the change: read only. */
const keyAReadOnly: PreSharedKey = { ...keyA, rule: rule('a:', ['read']) };

const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function client(port: number, key: PreSharedKey): ConduitClient {
  const c = new ConduitClient({ host: '127.0.0.1', port, key: { id: key.id, secret: key.secret }, reconnect: false });
  clients.push(c);
  return c;
}

/** One client pipelining SET/GET of its own keys, 16 at a time, until stopped, `limit` requests or `deadline`. */
class Load {
  ok = 0;
  readonly errors: string[] = [];
  /** Connections lost or re-made: a kept key's must stay 0. */
  drops = 0;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly c: ConduitClient,
    readonly prefix: string,
    limit: number,
    deadlineMs: number,
  ) {
    c.on('reconnecting', () => (this.drops += 1));
    c.on('close', () => (this.drops += 1));
    c.on('error', () => {});
    this.done = this.#run(limit, performance.now() + deadlineMs);
  }

  async #run(limit: number, deadline: number): Promise<void> {
    for (let i = 0; i < limit && !this.#stopped && performance.now() < deadline; i += 16) {
      const batch = Array.from({ length: 16 }, (_, j) => {
        const key = `${this.prefix}${(i + j) % 64}`;
        return (j % 2 === 0 ? this.c.set(key, `v${i + j}`) : this.c.get(key)).then(
          () => void (this.ok += 1),
          (err: unknown) => void this.errors.push(err instanceof ConduitError ? `${err.code}: ${err.message}` : String(err)),
        );
      });
      await Promise.all(batch);
      if (this.errors.length > 0) return; // a closed session stops its loop
    }
  }

  /** Resolves once `n` more requests succeeded (bounded by `timeoutMs`). */
  async progress(n: number, timeoutMs = 10_000): Promise<void> {
    const target = this.ok + n;
    const deadline = performance.now() + timeoutMs;
    while (this.ok < target && this.errors.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.done;
  }
}

/** Runs the scenario with `reload`, the in-process call or RELOAD through an admin client. */
async function scenario(via: 'in-process' | 'RELOAD'): Promise<void> {
  let next: AccessConfig | Error = configOf([admin, keyA, keyB, keyC]);
  const { server, port } = await startServer({
    keys: [admin, keyA, keyB, keyC],
    reloadAccess: () => {
      if (next instanceof Error) throw next;
      return next;
    },
  });
  const adminClient = client(port, admin);
  await adminClient.connect();
  const reload = async (config: AccessConfig | Error): Promise<{ ok: boolean; closed?: number; error?: string }> => {
    next = config;
    if (via === 'in-process') {
      const out = config instanceof Error ? server.access.reload() : server.access.reload(config);
      return out.ok ? { ok: true, closed: out.closed } : { ok: false, error: out.error };
    }
    try {
      return { ok: true, ...(await adminClient.reload()) };
    } catch (err) {
      return { ok: false, error: `${(err as ConduitError).code}: ${(err as Error).message}` };
    }
  };

  const limit = 40_000;
  const deadline = 20_000;
  const sessions = { A: [keyA, keyA], B: [keyB, keyB], C: [keyC, keyC] } as const;
  const loads: Record<string, Load[]> = {};
  for (const [name, keys] of Object.entries(sessions)) {
    loads[name] = await Promise.all(
      keys.map(async (key) => {
        const c = client(port, key);
        await c.connect();
        return new Load(c, `${name.toLowerCase()}:`, limit, deadline);
      }),
    );
  }
  const all = Object.values(loads).flat();
  const [a1, a2] = loads.A as [Load, Load];
  const [b1, b2] = loads.B as [Load, Load];
  await Promise.all(all.map((l) => l.progress(200)));

  // 1. A becomes read-only: its open sessions keep their rights and their connections.
  const changed = await reload(configOf([admin, keyAReadOnly, keyB, keyC]));
  expect(changed).toMatchObject({ ok: true, closed: 0 });
  await Promise.all(all.map((l) => l.progress(200)));
  expect([a1.errors, a2.errors]).toEqual([[], []]);
  expect(await a1.c.set('a:kept', 'still writes')).toBe(true);
  const freshA = client(port, keyA);
  await freshA.connect();
  await expect(freshA.set('a:new', 'x')).rejects.toMatchObject({ code: 'FORBIDDEN', message: "key 'A' may not write (allow: read)" });
  expect(await freshA.getString('a:kept')).toBe('still writes');

  // 2. A bad file: refused, one error line's worth of outcome, the table and every session stay.
  const table = server.access.table;
  const bad = await reload(new TypeError('keys.toml: keys[2]: allow has "delete"; the classes are "read", "write" and "admin"'));
  expect(bad.ok).toBe(false);
  expect(bad.error).toContain('keys[2]: allow has "delete"');
  if (via === 'RELOAD') expect(bad.error).toMatch(/^NOT_STORED: /);
  expect(server.access.table).toBe(table);
  await Promise.all(all.map((l) => l.progress(200)));
  expect(all.flatMap((l) => l.errors)).toEqual([]);

  // 3. B removed: B's sessions are closed at once and counted; the others carry on.
  const removed = await reload(configOf([admin, keyAReadOnly, keyC]));
  expect(removed).toMatchObject({ ok: true, closed: 2 });
  await Promise.all([b1.done, b2.done]);
  for (const b of [b1, b2]) {
    expect(b.errors.length).toBeGreaterThan(0);
    expect(b.errors.every((e) => /^(CONNECTION_LOST|CLOSED|NOT_CONNECTED)/.test(e))).toBe(true);
  }
  expect(server.counters.disconnects.key_removed).toBe(2);
  await expect(client(port, keyB).connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  const others = [...(loads.A ?? []), ...(loads.C ?? [])];
  await Promise.all(others.map((l) => l.progress(200)));
  await Promise.all(all.map((l) => l.stop()));
  expect(others.flatMap((l) => l.errors)).toEqual([]);
  // No connection of a kept key was dropped or re-made.
  expect(others.map((l) => l.drops)).toEqual(others.map(() => 0));
  expect(others.every((l) => l.ok >= 600)).toBe(true);
  const stats = server.access.toJSON();
  expect(stats).toMatchObject({ reloads: 2, reload_failures: 1, keys: 3 });
}

describe('reload under load (spec §6.8)', () => {
  it('in process (server.access.reload): a rule change keeps the sessions, a bad file changes nothing, a removed key closes its sessions only', async () => {
    await scenario('in-process');
  }, 60_000);

  it('through RELOAD (client.reload())', async () => {
    await scenario('RELOAD');
  }, 60_000);
});
