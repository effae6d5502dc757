/**
 * Users and permissions on the RESP port over real sockets (issue 25,
 * docs/RESP.md "Users and permissions"): AUTH user token against the key
 * file's `[[tokens]]`, every command × class × key in/out of the prefix,
 * multi-key refusals, KEYS/SCAN filtered, ACL WHOAMI/LOAD with a real key
 * file, a reload closing the sessions of a removed token, TLS client
 * certificate rights, ioredis and node-redis logging in with username and
 * password, and the same NOPERM / WRONGPASS bytes as redis-server 7.0.15
 * configured with the equivalent `ACL SETUSER`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKeyFile } from '../../src/crypto/keys.js';
import type { AccessClass } from '../../src/protocol/access.js';
import { ALL_RIGHTS, parseAccessRule } from '../../src/protocol/access.js';
import type { ServerOptions } from '../../src/server/options.js';
import { makeCerts } from '../support/certs.js';
import { requireRedisTools, startRedisServer, type RedisServer } from '../support/redis.js';
import { IDENTITIES, IN, NOPERM_KEYS, noperm, OUT, SAMPLES } from '../support/resp-access.js';
import { RespWire } from '../support/resp-wire.js';
import { startServer } from '../support/server.js';

const OK = '+OK\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
const PASSWORD = 'default-password-0123';

/** A token per identity of the table (`t-read`, …), each limited to `app1:`. */
const tokenOf = (label: string): string => `token-for-${label.replace(/[^a-z]/g, '-')}-0123456789`;
const idOf = (label: string): string => `t-${label.replace(/[^a-z]/g, '-')}`;
const TABLE_TOKENS = IDENTITIES.map(({ label, allow }) => ({ id: idOf(label), token: tokenOf(label), rule: parseAccessRule({ prefixes: ['app1:'], allow: [...allow] }, 'test') }));

const wires: RespWire[] = [];
const libs: { disconnect(): void }[] = [];
afterEach(() => {
  for (const w of wires.splice(0)) w.destroy();
  for (const c of libs.splice(0)) c.disconnect();
});

async function wire(port: number): Promise<RespWire> {
  const w = await RespWire.connect(port);
  wires.push(w);
  return w;
}

/** A raw RESP connection logged in as `user` (the `default` user: the one-argument AUTH). */
async function login(port: number, user: string, password: string): Promise<RespWire> {
  const w = await wire(port);
  const reply = await w.command(user === 'default' ? ['AUTH', password] : ['AUTH', user, password]);
  expect(reply.toString()).toBe(OK);
  return w;
}

const text = async (w: RespWire, ...args: string[]): Promise<string> => (await w.command(args)).toString('latin1');

function ioredis(port: number, options: RedisOptions): Redis {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true, ...options });
  r.on('error', () => {});
  libs.push(r);
  return r;
}

async function server(options: Partial<ServerOptions> = {}): Promise<{ port: number; server: Awaited<ReturnType<typeof startServer>>['server'] }> {
  const started = await startServer({ respPort: 0, respPassword: PASSWORD, ...options });
  return { port: started.respPort ?? 0, server: started.server };
}

describe('RESP users and permissions over sockets', () => {
  it('every command × class × key in/out of the prefix answers as the table says, in RESP2 and RESP3', { timeout: 60_000 }, async () => {
    const { port, server: s } = await server({ tokens: TABLE_TOKENS });
    const seed = await login(port, 'default', PASSWORD);
    for (const protocol of [2, 3] as const) {
      for (const identity of IDENTITIES) {
        const id = idOf(identity.label);
        let w = await login(port, id, tokenOf(identity.label));
        if (protocol === 3) expect(await text(w, 'HELLO', '3')).toMatch(/^%7\r\n/);
        for (const sample of SAMPLES) {
          for (const key of [IN, OUT]) {
            await seed.command(['MSET', IN, '1', OUT, '1']);
            const refusedBefore = { ...s.access.counters.of(id).forbidden };
            const args = sample.args.map((a) => (a === 'K' ? key : a));
            const reply = await text(w, ...args);
            const lacking = sample.needs.find((c) => !identity.allow.includes(c));
            const where = `RESP${protocol} ${identity.label}: ${args.join(' ')}`;
            if (lacking !== undefined) {
              expect(reply, where).toBe(noperm(sample.name));
              expect(s.access.counters.of(id).forbidden[lacking], where).toBe(refusedBefore[lacking] + 1);
            } else if (sample.keyed && key === OUT) {
              expect(reply, where).toBe(NOPERM_KEYS);
            } else {
              expect(reply, where).not.toMatch(/^-NOPERM/);
            }
            if (sample.keyed && key === OUT) expect((await seed.command(['GET', OUT])).toString(), where).toBe('$1\r\n1\r\n');
            if (sample.name === 'quit') {
              w = await login(port, id, tokenOf(identity.label));
              if (protocol === 3) await text(w, 'HELLO', '3');
            }
          }
        }
      }
    }
    // Each refusal was counted under its identity and reason.
    const reader = s.access.counters.of(idOf('read'));
    expect(reader.forbidden.write).toBeGreaterThan(0);
    expect(reader.forbidden.admin).toBeGreaterThan(0);
    expect(reader.forbidden.prefix).toBeGreaterThan(0);
    expect(s.access.counters.of(idOf('nothing')).forbidden.prefix).toBe(0); // no class: refused before its keys
  });

  it('a multi-key command with one key outside is refused whole; KEYS * and SCAN never show a key outside', { timeout: 20_000 }, async () => {
    const { port } = await server({ tokens: [{ id: 'app1', token: 'app1-token-0123456789', rule: parseAccessRule({ prefixes: ['app1:', 'shared:'] }, 'test') }] });
    const admin = await login(port, 'default', PASSWORD);
    const keys: string[] = [];
    for (let i = 0; i < 500; i++) keys.push(`${['app1', 'app2', 'shared', 'other'][i % 4] as string}:${i}`);
    for (let i = 0; i < keys.length; i += 100) await admin.command(['MSET', ...keys.slice(i, i + 100).flatMap((k) => [k, 'v'])]);
    const w = await login(port, 'app1', 'app1-token-0123456789');
    expect(await text(w, 'MGET', 'app1:0', 'app2:1')).toBe(NOPERM_KEYS);
    expect(await text(w, 'MSET', 'app1:new', 'x', 'app2:new', 'x')).toBe(NOPERM_KEYS);
    expect(await text(w, 'DEL', 'app1:0', 'other:3')).toBe(NOPERM_KEYS);
    expect(await text(admin, 'MGET', 'app1:0', 'app1:new', 'app2:new', 'other:3')).toBe('*4\r\n$1\r\nv\r\n$-1\r\n$-1\r\n$1\r\nv\r\n');

    const r = ioredis(port, { username: 'app1', password: 'app1-token-0123456789' });
    const all = (await r.keys('*')).sort();
    expect(all).toEqual(keys.filter((k) => k.startsWith('app1:') || k.startsWith('shared:')).sort());
    expect(await r.keys('app2:*')).toEqual([]);
    const scanned: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = r.scanStream({ count: 37 });
      stream.on('data', (batch: string[]) => scanned.push(...batch));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(scanned.sort()).toEqual(all);
    const matched: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', 'other:*', 'COUNT', 100);
      matched.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    expect(matched).toEqual([]);
  });

  it('ioredis and node-redis log in with username and password (RESP2 and RESP3) and get NOPERM as errors', { timeout: 20_000 }, async () => {
    const token = 'reader-token-0123456789';
    const { port } = await server({ tokens: [{ id: 'reader', token, rule: parseAccessRule({ prefixes: ['app1:'], allow: ['read'] }, 'test') }] });
    const admin = await login(port, 'default', PASSWORD);
    await admin.command(['MSET', 'app1:a', '1', 'app2:b', '2']);

    const r = ioredis(port, { username: 'reader', password: token });
    expect(await r.get('app1:a')).toBe('1');
    await expect(r.get('app2:b')).rejects.toThrow('NOPERM this user has no permissions to access one of the keys used as arguments');
    await expect(r.set('app1:a', 'x')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
    await expect(r.flushall()).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
    expect(await r.call('ACL', 'WHOAMI')).toBe('reader');
    // The ready check's INFO was answered (server section only): the client is usable.
    expect(String(await r.info('keyspace'))).toMatch(/^# Server\r\n/);

    const bad = ioredis(port, { username: 'reader', password: 'wrong-token-0123456789', lazyConnect: true });
    const errors: string[] = [];
    bad.on('error', (e: Error) => errors.push(e.message));
    await expect(bad.connect()).rejects.toThrow();
    expect(errors.join('\n')).toContain('WRONGPASS invalid username-password pair or user is disabled.');
    const badNode = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, username: 'reader', password: 'wrong-token-0123456789' });
    badNode.on('error', () => {});
    await expect(badNode.connect()).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
    badNode.destroy();

    for (const RESP of [2, 3] as const) {
      const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, username: 'reader', password: token, RESP });
      client.on('error', () => {});
      await client.connect();
      libs.push({ disconnect: () => void client.destroy() });
      expect(await client.get('app1:a')).toBe('1');
      await expect(client.get('app2:b')).rejects.toThrow('NOPERM this user has no permissions to access one of the keys used as arguments');
      await expect(client.mGet(['app1:a', 'app2:b'])).rejects.toThrow('NOPERM');
      expect(await client.sendCommand(['ACL', 'WHOAMI'])).toBe('reader');
    }
  });

  it('without AUTH a client gets NOAUTH; the per-identity counters count what each user did', { timeout: 20_000 }, async () => {
    const token = 'app1-token-0123456789';
    const { port, server: s } = await server({ respPassword: undefined, tokens: [{ id: 'app1', token, rule: parseAccessRule({ prefixes: ['app1:'] }, 'test') }] });
    const anon = await wire(port);
    expect(await text(anon, 'GET', 'app1:a')).toBe('-NOAUTH Authentication required.\r\n');
    expect(await text(anon, 'AUTH', token)).toBe(WRONGPASS); // no --resp-password: no default user
    const w = await login(port, 'app1', token);
    await w.command(['SET', 'app1:a', '1']);
    await w.command(['GET', 'app1:a']);
    await w.command(['GET', 'app1:b']);
    await w.command(['GET', 'app2:a']);
    expect(s.access.toJSON()).toMatchObject({
      forbidden_total: 1,
      identities: { app1: { requests: 4, keyspace_hits: 1, keyspace_misses: 1, total_sets: 1, forbidden: { read: 0, write: 0, admin: 0, prefix: 1 } } },
    });
  });

  it('a TLS client certificate without AUTH gets its [[certificates]] rule at accept', { timeout: 20_000 }, async () => {
    const certs = makeCerts();
    const tls = { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true };
    const { port, server: s } = await server({
      respPassword: undefined,
      tls,
      certificates: [{ id: 'batch', subject: 'conduit test client', rule: parseAccessRule({ prefixes: ['app1:'], allow: ['read'] }, 'test') }],
    });
    s.store.set(Buffer.from('app1:a'), Buffer.from('1'));
    const r = ioredis(port, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, servername: 'localhost' } });
    expect(await r.get('app1:a')).toBe('1');
    await expect(r.get('app2:a')).rejects.toThrow('NOPERM this user has no permissions to access one of the keys used as arguments');
    await expect(r.set('app1:a', '2')).rejects.toThrow("NOPERM this user has no permissions to run the 'set' command");
    expect(await r.call('ACL', 'WHOAMI')).toBe('batch');
    // AUTH default never widens a certificate's rights.
    expect(await r.call('AUTH', 'default', 'anything')).toBe('OK');
    await expect(r.set('app1:a', '2')).rejects.toThrow('NOPERM');
    expect(s.access.counters.of('batch').forbidden).toEqual({ read: 0, write: 2, admin: 0, prefix: 1 });

    // A certificate no rule names has no right at all; where AUTH is required the certificate is not consulted.
    const clientTls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, servername: 'localhost' };
    const other = await server({ respPassword: undefined, tls, certificates: [{ id: 'batch', subject: 'another client', rule: ALL_RIGHTS }] });
    const unmatched = ioredis(other.port, { tls: clientTls });
    expect(await unmatched.ping()).toBe('PONG');
    expect(await unmatched.call('ACL', 'WHOAMI')).toBe('unmatched-certificate');
    await expect(unmatched.get('app1:a')).rejects.toThrow("NOPERM this user has no permissions to run the 'get' command");
    const withTokens = await server({ tls, certificates: [{ id: 'batch', subject: 'conduit test client', rule: ALL_RIGHTS }] });
    const noAuth = ioredis(withTokens.port, { tls: clientTls, enableReadyCheck: false });
    await expect(noAuth.get('app1:a')).rejects.toThrow(/^NOAUTH /);
  });
});

describe('ACL LOAD and reloads', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'conduit-resp-access-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (id: string, token: string, allow: readonly AccessClass[], prefixes?: readonly string[]): string =>
    `[[tokens]]\nid = "${id}"\ntoken = "${token}"\nallow = [${allow.map((a) => `"${a}"`).join(', ')}]\n${prefixes === undefined ? '' : `prefixes = [${prefixes.map((p) => `"${p}"`).join(', ')}]\n`}\n`;
  const OPS = ['ops', 'ops-token-0123456789', ['read', 'write', 'admin']] as const;
  const APP1 = ['app1', 'app1-token-0123456789', ['read', 'write'], ['app1:']] as const;
  const READER = ['reader', 'reader-token-0123456789', ['read'], ['app1:']] as const;

  it('ACL LOAD needs admin, re-reads the key file, refuses a bad one with -ERR, and closes the sessions of a removed or changed token', { timeout: 30_000 }, async () => {
    const path = join(dir, 'keys.toml');
    writeFileSync(path, entry(...OPS) + entry(...APP1) + entry(...READER));
    const file = readKeyFile(path);
    const { port, server: s } = await server({ tokens: file.tokens, reloadAccess: () => readKeyFile(path) });
    const ops = await login(port, 'ops', OPS[1]);
    const app1 = await login(port, 'app1', APP1[1]);
    const reader = await login(port, 'reader', READER[1]);
    const byPassword = await login(port, 'default', PASSWORD);
    const r = ioredis(port, { username: 'reader', password: READER[1] });
    expect(await r.get('app1:x')).toBeNull();

    expect(await text(app1, 'ACL', 'LOAD')).toBe(noperm('acl|load'));
    expect(await text(ops, 'ACL', 'LOAD')).toBe(OK);

    writeFileSync(path, `${entry(...OPS)}[[tokens]]\nid = "app1"\ntoken = "short"\n`);
    const refused = await text(ops, 'ACL', 'LOAD');
    expect(refused).toMatch(/^-ERR .*keys\.toml: tokens\[1\]: token must be at least 16 bytes/);
    expect(await text(reader, 'GET', 'app1:x')).toBe('$-1\r\n'); // nothing changed

    // reader removed, app1's token changed: both sessions closed; ops and default stay.
    writeFileSync(path, entry(...OPS) + entry('app1', 'app1-new-token-0123456789', ['read', 'write'], ['app1:']));
    expect(await text(ops, 'ACL', 'LOAD')).toBe(OK);
    expect(await reader.waitClosed()).toBe(true);
    expect(await app1.waitClosed()).toBe(true);
    await expect(r.get('app1:x')).rejects.toThrow();
    expect(await text(ops, 'PING')).toBe('+PONG\r\n');
    expect(await text(byPassword, 'PING')).toBe('+PONG\r\n');
    expect(s.counters.disconnects.key_removed).toBe(3);
    // New logins follow the new file.
    const again = await wire(port);
    expect(await text(again, 'AUTH', 'reader', READER[1])).toBe(WRONGPASS);
    expect(await text(again, 'AUTH', 'app1', APP1[1])).toBe(WRONGPASS);
    expect(await text(again, 'AUTH', 'app1', 'app1-new-token-0123456789')).toBe(OK);
    expect(s.access.toJSON()).toMatchObject({ tokens: 2, reloads: 2, reload_failures: 1 });
  });

  it('a reload that narrows a kept token\'s rights leaves its open sessions as they were until they reconnect', { timeout: 20_000 }, async () => {
    const path = join(dir, 'narrow.toml');
    writeFileSync(path, entry(...OPS) + entry(...APP1));
    const { port } = await server({ tokens: readKeyFile(path).tokens, reloadAccess: () => readKeyFile(path) });
    const ops = await login(port, 'ops', OPS[1]);
    const app1 = await login(port, 'app1', APP1[1]);
    writeFileSync(path, entry(...OPS) + entry('app1', APP1[1], ['read'], ['app1:']));
    expect(await text(ops, 'ACL', 'LOAD')).toBe(OK);
    expect(await text(app1, 'SET', 'app1:k', 'v')).toBe(OK); // the rights it started with
    const fresh = await login(port, 'app1', APP1[1]);
    expect(await text(fresh, 'SET', 'app1:k', 'v')).toBe(noperm('set'));
  });
});

describe('the same replies as redis-server 7.0.15 with the equivalent ACL SETUSER', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    requireRedisTools();
    redis = await startRedisServer(['--requirepass', PASSWORD]);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  const TOKEN = 'app1-token-0123456789';
  const WRITER = 'writer-token-0123456789';
  const rows: readonly (readonly string[])[] = [
    ['GET', 'app2:k'],
    ['GET', 'app1:k'],
    ['SET', 'app1:k', 'v'],
    ['FLUSHALL'],
    ['MGET', 'app1:k', 'app2:k'],
    ['MGET', 'app1:k', 'app1:j'],
    ['EXISTS', 'app1:k', 'app2:k'],
    ['CONFIG', 'GET', 'maxmemory'],
    ['FLUSHDB'],
    ['ACL', 'LOAD'],
    ['ACL', 'NOSUCH'],
    ['GET'],
  ];
  const writerRows: readonly (readonly string[])[] = [
    ['SET', 'app2:k', 'v'],
    ['MSET', 'app1:k', '1', 'app2:k', '2'],
    ['DEL', 'app1:k', 'app2:k'],
    ['INCR', 'app1:n'],
    ['GET', 'app1:k'],
  ];

  /** The replies of `user` to `cmds`, in RESP2 then after HELLO 3, plus the login failures. */
  async function replies(port: number, user: string, token: string, cmds: readonly (readonly string[])[]): Promise<string[]> {
    const out: string[] = [];
    const w = await wire(port);
    out.push(await text(w, 'AUTH', user, 'wrong-token-0123456789'));
    out.push(await text(w, 'AUTH', 'nosuchuser', token));
    out.push(await text(w, 'AUTH', user, token));
    for (const c of cmds) out.push(await text(w, ...c));
    const w3 = await wire(port);
    out.push(await text(w3, 'HELLO', '3', 'AUTH', user, 'wrong-token-0123456789'));
    expect(await text(w3, 'HELLO', '3', 'AUTH', user, token)).toMatch(/^%7\r\n/);
    for (const c of cmds) out.push(await text(w3, ...c));
    return out;
  }

  it('NOPERM for a key outside, a class not granted, FLUSHALL, MGET mixed; WRONGPASS for a wrong password', { timeout: 30_000 }, async () => {
    const r = redis as RedisServer;
    const admin = await login(r.port, 'default', PASSWORD);
    // `~app1:*` is a glob where Conduit has a prefix: the same keys for these commands.
    expect(await text(admin, 'ACL', 'SETUSER', 'app1', 'on', `>${TOKEN}`, '~app1:*', '+@read')).toBe(OK);
    expect(await text(admin, 'ACL', 'SETUSER', 'writer', 'on', `>${WRITER}`, '~app1:*', '+@write')).toBe(OK);
    const { port } = await server({
      tokens: [
        { id: 'app1', token: TOKEN, rule: parseAccessRule({ prefixes: ['app1:'], allow: ['read'] }, 'test') },
        { id: 'writer', token: WRITER, rule: parseAccessRule({ prefixes: ['app1:'], allow: ['write'] }, 'test') },
        { id: 'ops', token: 'ops-token-0123456789', rule: ALL_RIGHTS },
      ],
    });
    for (const p of [port, r.port]) {
      const seed = await login(p, 'default', PASSWORD);
      await seed.command(['MSET', 'app1:k', '1', 'app2:k', '2']);
    }
    expect(await replies(port, 'app1', TOKEN, rows)).toEqual(await replies(r.port, 'app1', TOKEN, rows));
    expect(await replies(port, 'writer', WRITER, writerRows)).toEqual(await replies(r.port, 'writer', WRITER, writerRows));
  });
});
