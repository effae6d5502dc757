import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Status, TrackingMode, type PreSharedKey, type Request } from '../../src/index.js';
import { readKeyFile } from '../../src/crypto/keys.js';
import { ACCESS_NEEDS } from '../../src/protocol/access.js';
import { makeCerts, type TestCerts } from '../support/certs.js';
import { freePort } from '../support/ports.js';
import { rawClient, startServer } from '../support/server.js';
import { assignSlots, slotOf } from '../../src/protocol/slots.js';

/**
 * Issue 25 on the binary port (spec §3.17): the rights of a secure-mode key id
 * (a key file with prefixes and allow), of a TLS client certificate without
 * secure mode, FORBIDDEN before anything runs, LIST/SCAN filtered, TRACKING
 * prefixes, STATS scoped, RELOAD and what a reload does to open sessions.
 */

const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const secret = (): string => randomBytes(32).toString('base64');

/** A key file entry: `[[keys]]` with id, key and optional prefixes/allow (TOML). */
interface Entry {
  id: string;
  key: string;
  prefixes?: string[];
  allow?: string[];
}

function toml(entries: readonly Entry[], extra = ''): string {
  const list = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  return (
    entries
      .map((e) => `[[keys]]\nid = ${JSON.stringify(e.id)}\nkey = ${JSON.stringify(e.key)}\n${e.prefixes ? `prefixes = ${list(e.prefixes)}\n` : ''}${e.allow ? `allow = ${list(e.allow)}\n` : ''}`)
      .join('\n') + extra
  );
}

/** Writes `entries` as a key file in a new temporary directory; returns its path. */
function writeKeyFile(entries: readonly Entry[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'conduit-access-')), 'keys.toml');
  writeFileSync(path, toml(entries));
  return path;
}

/** Writes the key file and starts a secure server on it, with SIGHUP's loader (readKeyFile) for RELOAD and metrics (httpPort). */
async function secureServer(entries: readonly Entry[], options: { allowShutdown?: boolean } = {}) {
  const path = writeKeyFile(entries);
  const file = readKeyFile(path);
  const started = await startServer({ keys: file.keys, tokens: file.tokens, certificates: file.certificates, reloadAccess: () => readKeyFile(path), httpPort: 0, ...options });
  return { ...started, path, rewrite: (next: readonly Entry[], extra = '') => writeFileSync(path, toml(next, extra)) };
}

function clientOf(port: number, entry: Entry, extra: Partial<ConstructorParameters<typeof ConduitClient>[0]> = {}): ConduitClient {
  const key: PreSharedKey = { id: entry.id, secret: Buffer.from(entry.key, 'base64') };
  const c = new ConduitClient({ port, key, reconnect: false, requestTimeoutMs: 5_000, ...extra });
  clients.push(c);
  return c;
}

const ADMIN: Entry = { id: 'admin', key: secret() };
const APP1: Entry = { id: 'app1', key: secret(), prefixes: ['app1:'], allow: ['read', 'write'] };
const READER: Entry = { id: 'reader', key: secret(), prefixes: ['app1:', 'shared:'], allow: ['read'] };
const WRITER: Entry = { id: 'writer', key: secret(), prefixes: ['app1:'], allow: ['write'] };
const NOBODY: Entry = { id: 'nobody', key: secret(), allow: [] };
const OPERATOR: Entry = { id: 'operator', key: secret(), prefixes: ['ops:'], allow: ['admin'] };

const b = (s: string): Buffer => Buffer.from(s);

/** One request of every opcode a client may send after HELLO, on `key`. */
function everyRequest(key: string): Request[] {
  const k = b(key);
  return [
    { op: 'GET', key: k },
    { op: 'GETS', key: k },
    { op: 'TTL', key: k },
    { op: 'LIST', prefix: b(''), limit: 10 },
    { op: 'SCAN', cursor: 0n, count: 10, prefix: b('') },
    { op: 'TRACKING', mode: TrackingMode.OFF },
    { op: 'STATS' },
    { op: 'SET', key: k, value: b('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false },
    { op: 'SET', key: k, value: b('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false, quiet: true },
    { op: 'SET', key: k, value: b('w'), ttlMs: 0, nx: false, xx: false, keepTtl: false, version: 123n },
    { op: 'DELETE', key: k },
    { op: 'INCR', key: b(`${key}n`), delta: 1n, ttlMs: 0 },
    { op: 'RENEW', key: k, ttlMs: 1000 },
    { op: 'GAT', key: k, ttlMs: 1000 },
    { op: 'LEASE', key: k, leaseMs: 1000, staleOk: false },
    { op: 'FLUSH' },
    { op: 'RELOAD' },
    { op: 'HEALTH' },
    { op: 'CAPS', features: 0 },
    { op: 'TOPOLOGY' },
  ];
}

/** What spec §3.17 says `entry` gets for `request` on a key inside (`inside`) or outside its prefixes: FORBIDDEN for a reason, or not. */
function expected(entry: Entry, request: Request, inside: boolean): string | undefined {
  const need = ACCESS_NEEDS[request.op];
  const allow = new Set(entry.allow ?? ['read', 'write', 'admin']);
  if (request.op === 'STATS' && allow.has('admin')) return undefined; // the server-wide STATS is admin's
  for (const cls of need.classes) if (!allow.has(cls)) return cls;
  if (need.keys === 'key' && !inside && entry.prefixes !== undefined) return 'prefix';
  return undefined;
}

describe('per-key rights on the binary port (issue 25, spec §3.17)', () => {
  it('answers every opcode × class × in/out of prefix OK or FORBIDDEN as the table says, before anything runs', async () => {
    const { port, server } = await secureServer([ADMIN, APP1, READER, WRITER, NOBODY, OPERATOR]);
    const admin = clientOf(port, ADMIN);
    for (const entry of [APP1, READER, WRITER, NOBODY, OPERATOR]) {
      const c = clientOf(port, entry);
      for (const inside of [true, false]) {
        const key = inside ? 'app1:k' : 'other:k';
        await admin.set(key, 'before');
        await admin.set(`${key}n`, '5');
        for (const request of everyRequest(key)) {
          const reason = expected(entry, request, inside);
          const answer = await c.exchange(request);
          const what = `${entry.id} ${request.op}${'quiet' in request && request.quiet ? ' quiet' : ''} ${inside ? 'inside' : 'outside'}`;
          if (reason === undefined) {
            expect(answer.status, what).not.toBe(Status.FORBIDDEN);
            continue;
          }
          expect(answer.status, what).toBe(Status.FORBIDDEN);
          const message = answer.body.toString();
          expect(message, what).toContain(`key '${entry.id}'`);
          if (reason === 'prefix') expect(message, what).toContain('may only touch keys starting with "app1:"');
          else expect(message, what).toContain(`may not ${reason}`);
        }
        // Refused writes changed nothing (the admin view): outside the prefixes, and for an identity without write (nor FLUSH).
        const allow = entry.allow ?? [];
        if (!allow.includes('admin') && (!inside || !allow.includes('write'))) expect(await admin.getString(key), `${entry.id} ${key}`).toBe('before');
      }
    }
    // Every refusal is counted for its identity: STATS access (admin view) and /metrics.
    const stats = (await admin.stats()) as { access: { identities: Record<string, { forbidden: Record<string, number>; requests: number }>; forbidden_total: number } };
    expect(stats.access.identities.app1?.forbidden.admin).toBeGreaterThan(0);
    expect(stats.access.identities.app1?.forbidden.prefix).toBeGreaterThan(0);
    expect(stats.access.identities.reader?.forbidden.write).toBeGreaterThan(0);
    expect(stats.access.identities.nobody?.forbidden.read).toBeGreaterThan(0);
    expect(stats.access.identities.operator?.forbidden.admin).toBe(0);
    expect(stats.access.forbidden_total).toBeGreaterThan(0);
    const metrics = await server.metrics?.registry.metrics();
    expect(metrics).toMatch(/conduit_forbidden_total\{key_id="app1",reason="prefix"\} [1-9]/);
    expect(metrics).toMatch(/conduit_forbidden_total\{key_id="reader",reason="write"\} [1-9]/);
    expect(metrics).toMatch(/conduit_disconnects_total\{cause="key_removed"\} 0/);
  }, 30_000);

  it('SHUTDOWN: the admin check comes first, then --allow-shutdown (an admin still gets that FORBIDDEN)', async () => {
    const { port } = await secureServer([ADMIN, APP1]);
    const app1 = clientOf(port, APP1);
    await expect(app1.exchange({ op: 'SHUTDOWN' })).resolves.toMatchObject({ status: Status.FORBIDDEN, body: b("key 'app1' may not admin (allow: read, write)") });
    const admin = clientOf(port, ADMIN);
    const answer = await admin.exchange({ op: 'SHUTDOWN' });
    expect(answer.status).toBe(Status.FORBIDDEN);
    expect(answer.body.toString()).toMatch(/--allow-shutdown/);
  });

  it('a limited key reads and writes inside its prefixes; counted per identity (requests, hits, misses, sets)', async () => {
    const { port } = await secureServer([ADMIN, APP1]);
    const app1 = clientOf(port, APP1);
    expect(await app1.set('app1:a', '1')).toBe(true);
    expect(await app1.getString('app1:a')).toBe('1');
    expect(await app1.get('app1:none')).toBeUndefined();
    expect(await app1.incr('app1:n', 2n)).toBe(2n);
    await expect(app1.set('app2:a', '1')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'key \'app1\' may only touch keys starting with "app1:"' });
    await expect(app1.get('app2:a')).rejects.toBeInstanceOf(ConduitError);
    const scoped = await app1.stats();
    expect(scoped).toMatchObject({ scope: 'identity', key_id: 'app1', kind: 'key', prefixes: ['app1:'], allow: ['read', 'write'], keyspace_hits: 1, keyspace_misses: 1, total_sets: 2 });
    expect(scoped.forbidden).toMatchObject({ prefix: 2, read: 0, write: 0, admin: 0 });
    expect(scoped.requests).toBeGreaterThanOrEqual(7); // CAPS, the six above, this STATS
    // The scoped STATS says nothing of the server or other identities.
    expect(scoped).not.toHaveProperty('curr_items');
    expect(scoped).not.toHaveProperty('access');
  });

  it('LIST and SCAN answer only keys inside the prefixes: a key outside never appears', async () => {
    const { port } = await secureServer([ADMIN, APP1]);
    const admin = clientOf(port, ADMIN);
    for (let i = 0; i < 200; i += 1) await admin.set(`${i % 2 === 0 ? 'app1:' : 'other:'}${i}`, 'v', { quiet: true });
    await admin.health();
    const app1 = clientOf(port, APP1);
    const listed = await app1.list('', 1000);
    expect(listed.keys.map(String).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `app1:${2 * i}`).sort());
    expect((await app1.list('other:', 1000)).keys).toEqual([]);
    const scanned: string[] = [];
    let cursor = 0n;
    do {
      const page = await app1.scanPage(cursor, { count: 7 });
      scanned.push(...page.keys.map(String));
      cursor = page.cursor;
    } while (cursor !== 0n);
    expect(scanned.every((k) => k.startsWith('app1:'))).toBe(true);
    expect(new Set(scanned).size).toBe(100);
    expect((await admin.list('', 1000)).keys).toHaveLength(200);
  });

  it('TRACKING PREFIXES must lie inside the prefixes; KEYS and OFF need read only', async () => {
    const { port } = await secureServer([ADMIN, APP1, WRITER]);
    const app1 = clientOf(port, APP1);
    expect((await app1.exchange({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('app1:users:'), b('app1:')] })).status).toBe(Status.OK);
    const refused = await app1.exchange({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('app1:'), b('')] });
    expect(refused).toMatchObject({ status: Status.FORBIDDEN });
    expect(refused.body.toString()).toContain('may only touch keys starting with "app1:"');
    expect((await app1.exchange({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b('app')] })).status).toBe(Status.FORBIDDEN);
    expect((await app1.exchange({ op: 'TRACKING', mode: TrackingMode.KEYS })).status).toBe(Status.OK);
    const writer = clientOf(port, WRITER);
    expect((await writer.exchange({ op: 'TRACKING', mode: TrackingMode.OFF })).status).toBe(Status.FORBIDDEN);
    // A near cache over a prefix outside the rights is refused and stays off; inside, it works.
    const outside = clientOf(port, APP1, { nearCache: { prefixes: ['other:'] } });
    const off = new Promise((resolve) => outside.once('near-cache-off', resolve));
    await outside.get('app1:x');
    await expect(off).resolves.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('FLUSH by a non-admin is refused and leaves every key; by the admin it empties the store', async () => {
    const { port } = await secureServer([ADMIN, APP1]);
    const admin = clientOf(port, ADMIN);
    for (const k of ['app1:a', 'app1:b', 'other:c']) await admin.set(k, 'v');
    const app1 = clientOf(port, APP1);
    await expect(app1.flush()).rejects.toMatchObject({ code: 'FORBIDDEN', message: "key 'app1' may not admin (allow: read, write)" });
    expect((await admin.list('', 100)).keys).toHaveLength(3);
    await admin.flush();
    expect((await admin.list('', 100)).keys).toHaveLength(0);
  });

  it('quiet writes outside the rights are answered FORBIDDEN (the only answer a quiet write gets when refused)', async () => {
    const { port } = await secureServer([ADMIN, APP1, READER]);
    const app1 = clientOf(port, APP1);
    const quiet = { ttlMs: 0, nx: false, xx: false, keepTtl: false, quiet: true } as const;
    const answers = await Promise.all([
      app1.exchange({ op: 'SET', key: b('app1:q'), value: b('v'), ...quiet }),
      app1.exchange({ op: 'SET', key: b('other:q'), value: b('v'), ...quiet }),
      app1.exchange({ op: 'DELETE', key: b('other:q'), quiet: true }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([Status.OK, Status.FORBIDDEN, Status.FORBIDDEN]);
    const reader = clientOf(port, READER);
    await expect(reader.set('app1:q', 'w', { quiet: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await clientOf(port, ADMIN).getString('app1:q')).toBe('v');
  });

  it('FORBIDDEN comes before MOVED: a key another server of the group owns is refused when outside the prefixes, MOVED when inside', async () => {
    const ports = [await freePort(), await freePort()];
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    const table = assignSlots(nodes);
    const file = readKeyFile(writeKeyFile([ADMIN, APP1]));
    const { port } = await startServer({ port: ports[0], keys: file.keys, group: { self: 0, epoch: 1, nodes, table } });
    const ownedByOther = (prefix: string): Buffer => {
      for (let i = 0; ; i += 1) {
        const key = b(`${prefix}${i}`);
        if (table[slotOf(key)] === 1) return key;
      }
    };
    const app1 = clientOf(port, APP1);
    expect((await app1.exchange({ op: 'GET', key: ownedByOther('app1:') })).status).toBe(Status.MOVED);
    expect((await app1.exchange({ op: 'GET', key: ownedByOther('other:') })).status).toBe(Status.FORBIDDEN);
  });

  it('STATS for an admin drops access.identities first when the body would not fit one frame', async () => {
    const { port, server } = await secureServer([ADMIN]);
    for (let i = 0; i < 2_000; i += 1) server.access.counters.of(`identity-with-a-long-name-${i}`);
    const stats = await clientOf(port, ADMIN).stats();
    expect(stats.access).toMatchObject({ keys: 1 });
    expect(stats.access).not.toHaveProperty('identities');
    expect(Array.isArray(stats.shards)).toBe(true);
  });

  it('STATS for an admin is the server-wide one with the access member, also for an admin without read', async () => {
    const { port } = await secureServer([ADMIN, APP1, OPERATOR]);
    expect(await clientOf(port, OPERATOR).stats()).toHaveProperty('curr_items');
    const stats = await clientOf(port, ADMIN).stats();
    expect(stats).toHaveProperty('curr_items');
    expect(stats.access).toMatchObject({ keys: 3, tokens: 0, certificates: 0, reloads: 0, reload_failures: 0, last_reload: null, forbidden_total: 0 });
    expect(stats.access).toHaveProperty('identities.admin.requests');
  });
});

describe('RELOAD (spec §3.17, protocol 1.4)', () => {
  it('CAPS says protocol 1.4 with the RELOAD feature', async () => {
    const { port } = await secureServer([ADMIN]);
    const caps = await clientOf(port, ADMIN).exchange({ op: 'CAPS', features: 0 });
    expect(caps.body[0]).toBe(4);
    expect(caps.body.readUInt32BE(2) & 0x80).toBe(0x80);
  });

  it('re-reads the key file: new sessions get the new rights, sessions of a kept key keep theirs, sessions of a removed key are closed', async () => {
    const { port, server, rewrite } = await secureServer([ADMIN, APP1, READER]);
    const admin = clientOf(port, ADMIN);
    const app1 = clientOf(port, APP1);
    const reader = clientOf(port, READER);
    await app1.set('app1:k', 'v');
    expect(await reader.getString('app1:k')).toBe('v');
    const lost = new Promise<unknown>((resolve) => reader.once('error', resolve));
    // app1 is narrowed to read only, reader is removed, app2 is new.
    const APP2: Entry = { id: 'app2', key: secret(), prefixes: ['app2:'] };
    rewrite([ADMIN, { ...APP1, allow: ['read'] }, APP2]);
    await expect(admin.reload()).resolves.toEqual({ keys: 3, tokens: 0, certificates: 0, closed: 1 });
    await lost;
    await expect(reader.get('app1:k')).rejects.toBeInstanceOf(ConduitError);
    // The open app1 session keeps the rights it started with until it reconnects.
    expect(await app1.set('app1:k', 'w')).toBe(true);
    expect(await admin.getString('app1:k')).toBe('w');
    // A new app1 session has the new ones; app2 is accepted; reader is refused at HELLO.
    await expect(clientOf(port, APP1).set('app1:k', 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await clientOf(port, APP2).set('app2:k', 'v')).toBe(true);
    await expect(clientOf(port, READER).get('app1:k')).rejects.toBeInstanceOf(ConduitError);
    expect(server.counters.disconnects.key_removed).toBe(1);
    expect(await server.metrics?.registry.metrics()).toMatch(/conduit_disconnects_total\{cause="key_removed"\} 1/);
    const stats = (await admin.stats()) as { access: { reloads: number; last_reload: { result: string; closed: number } } };
    expect(stats.access).toMatchObject({ reloads: 1, last_reload: { result: 'ok', closed: 1 } });
  });

  it('a changed secret under a kept id closes that id\'s sessions too', async () => {
    const { port, rewrite } = await secureServer([ADMIN, APP1]);
    const admin = clientOf(port, ADMIN);
    const app1 = clientOf(port, APP1);
    await app1.health();
    const lost = new Promise<unknown>((resolve) => app1.once('error', resolve));
    rewrite([ADMIN, { ...APP1, key: secret() }]);
    await expect(admin.reload()).resolves.toMatchObject({ closed: 1 });
    await lost;
    expect(await admin.health()).toBeGreaterThanOrEqual(0);
  });

  it('a bad file is refused NOT_STORED with the error line, and the old table stays', async () => {
    const { port, rewrite } = await secureServer([ADMIN, APP1]);
    const admin = clientOf(port, ADMIN);
    const app1 = clientOf(port, APP1);
    await app1.health();
    rewrite([ADMIN, APP1], '[[keys]]\nid = "broken"\n');
    const refused = await admin.reload().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ConduitError);
    expect(refused).toMatchObject({ code: 'NOT_STORED', status: Status.NOT_STORED });
    expect((refused as Error).message).toMatch(/keys\[2\]/);
    // A file without [[keys]] would turn secure mode off: refused too.
    rewrite([], '[[tokens]]\nid = "web"\ntoken = "0123456789abcdef-web"\n');
    await expect(admin.reload()).rejects.toMatchObject({ code: 'NOT_STORED', message: expect.stringMatching(/cannot turn secure mode off/) });
    // Nothing changed: both keys still work, on open and new sessions.
    expect(await app1.set('app1:k', 'v')).toBe(true);
    expect(await clientOf(port, APP1).getString('app1:k')).toBe('v');
    const stats = (await admin.stats()) as { access: { reload_failures: number; last_reload: { result: string } } };
    expect(stats.access).toMatchObject({ reload_failures: 2, last_reload: { result: 'refused' } });
  });

  it('RELOAD by a key without admin is FORBIDDEN and reloads nothing', async () => {
    const { port, rewrite } = await secureServer([ADMIN, APP1]);
    const app1 = clientOf(port, APP1);
    rewrite([ADMIN]);
    await expect(app1.reload()).rejects.toMatchObject({ code: 'FORBIDDEN', message: "key 'app1' may not admin (allow: read, write)" });
    expect(await app1.set('app1:k', 'v')).toBe(true);
    expect(await clientOf(port, APP1).getString('app1:k')).toBe('v');
  });

  it('a plaintext server without a key file answers NOT_STORED; RELOAD with a body is BAD_REQUEST', async () => {
    const { port } = await startServer();
    const c = new ConduitClient({ port, reconnect: false });
    clients.push(c);
    await expect(c.reload()).rejects.toMatchObject({ code: 'NOT_STORED', message: 'nothing to reload: the server was started without --key-file' });
    expect(await c.set('k', 'v')).toBe(true); // plaintext: every right, as before
    await c.flush();
    const raw = await rawClient(port);
    raw.write(Buffer.from('01140001000000000000005300', 'hex')); // spec §9.7: RELOAD with a body
    raw.write(Buffer.from('011400000000000000000054', 'hex'));
    await raw.waitFrames(2);
    expect(raw.frames.map((f) => f.opcode)).toEqual([Status.BAD_REQUEST, Status.NOT_STORED]);
  });
});

describe('TLS client certificates without secure mode (spec §3.17)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });

  const tlsClient = (port: number): ConduitClient => {
    const c = new ConduitClient({ port, reconnect: false, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    clients.push(c);
    return c;
  };

  it('maps the certificate CN to its [[certificates]] rule', async () => {
    const { port } = await startServer({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true },
      certificates: [{ id: 'test-client', subject: 'conduit test client', rule: { prefixes: [b('app1:')], allow: new Set(['read', 'write']) } }],
    });
    const c = tlsClient(port);
    expect(await c.set('app1:k', 'v')).toBe(true);
    await expect(c.set('other:k', 'v')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'certificate \'test-client\' may only touch keys starting with "app1:"' });
    await expect(c.flush()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await c.stats()).toMatchObject({ scope: 'identity', key_id: 'test-client', kind: 'certificate', total_sets: 1 });
  });

  it('in secure mode the HELLO key decides, not the certificate', async () => {
    const file = readKeyFile(writeKeyFile([ADMIN, APP1]));
    const { port } = await startServer({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true },
      keys: file.keys,
      certificates: [{ id: 'test-client', subject: 'conduit test client', rule: { prefixes: [b('cert:')], allow: new Set(['read']) } }],
    });
    const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const app1 = clientOf(port, APP1, { tls });
    expect(await app1.set('app1:k', 'v')).toBe(true);
    await expect(app1.get('cert:k')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'key \'app1\' may only touch keys starting with "app1:"' });
    await clientOf(port, ADMIN, { tls }).flush();
  });

  it('a certificate no rule names has no right; without [[certificates]] every certificate has every right', async () => {
    const ruled = await startServer({
      tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true },
      certificates: [{ id: 'someone', subject: 'someone else', rule: { prefixes: undefined, allow: new Set(['read']) } }],
    });
    const refused = tlsClient(ruled.port);
    await expect(refused.get('k')).rejects.toMatchObject({ code: 'FORBIDDEN', message: "certificate 'unmatched-certificate' may not read (allow: nothing)" });
    expect(await refused.health()).toBeGreaterThanOrEqual(0); // HEALTH needs no class
    const open = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true } });
    const c = tlsClient(open.port);
    expect(await c.set('k', 'v')).toBe(true);
    await c.flush();
    expect(await c.stats()).toHaveProperty('access.identities');
  });
});
