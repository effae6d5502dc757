// Issue 25's table: every operation × every set of classes × a key inside / outside the
// identity's prefix → OK or FORBIDDEN, through ConduitClient (binary, secure mode), the HTTP
// gateway (bearer tokens) and the RESP port (AUTH user token). The expected answer of each row
// is computed from ACCESS_NEEDS (spec §3.17), never written per row; every refusal is checked to
// have changed nothing, through an unlimited admin identity.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposedServer } from '../../src/cli/compose.js';
import { ConduitClient, ConduitError, Status, TrackingMode, type Request } from '../../src/index.js';
import type { AccessToken } from '../../src/crypto/keys.js';
import type { PreSharedKey } from '../../src/crypto/handshake.js';
import { ACCESS_NEEDS, type AccessClass, type AccessNeed, type AccessRule, type ForbiddenReason } from '../../src/protocol/access.js';
import { Rights } from '../../src/server/access/rights.js';
import { RespWire } from '../support/resp-wire.js';

type Op = keyof typeof ACCESS_NEEDS;

/** Every set of classes: none, each alone, each pair, all three; each limited to `app1:`. */
const SUBSETS: AccessClass[][] = [[], ['read'], ['write'], ['admin'], ['read', 'write'], ['read', 'admin'], ['write', 'admin'], ['read', 'write', 'admin']];
const nameOf = (classes: readonly AccessClass[]): string => (classes.length === 0 ? 'none' : classes.map((c) => c[0]).join(''));
const ruleOf = (classes: readonly AccessClass[]): AccessRule => ({ prefixes: [Buffer.from('app1:')], allow: new Set(classes) });

const INSIDE = 'app1:k';
/** Outside the prefix: another app's key, and a key that is the prefix's start without its colon. */
const OUTSIDE = ['app2:k', 'app1'];
/** What every row starts from: two keys inside, two outside (counters, so INCR runs). */
const SEED: Record<string, string> = { 'app1:k': '10', 'app1:other': '11', 'app2:k': '20', app1: '30' };
const INSIDE_KEYS = Object.keys(SEED).filter((k) => k.startsWith('app1:')).sort();

const adminKey: PreSharedKey = { id: 'admin', secret: randomBytes(32) };
const keys: PreSharedKey[] = [adminKey, ...SUBSETS.map((classes) => ({ id: `k-${nameOf(classes)}`, secret: randomBytes(32), rule: ruleOf(classes) }))];
const tokens: AccessToken[] = SUBSETS.map((classes) => ({ id: `t-${nameOf(classes)}`, token: `token-${nameOf(classes)}-${randomBytes(8).toString('hex')}`, rule: ruleOf(classes) }));
const HTTP_ADMIN = `http-admin-${randomBytes(8).toString('hex')}`;
const RESP_ADMIN = `resp-admin-${randomBytes(8).toString('hex')}`;

/** What a row expects: ran (`undefined`), or refused FORBIDDEN for `reason`. */
type Expected = ForbiddenReason | 'allow-shutdown' | undefined;

/**
 * The answer spec §3.17 gives `need` for an identity with `classes` limited to `app1:`: the
 * first class it lacks, else `prefix` when its one key (or TRACKING prefix) is outside (STATS:
 * read or admin).
 */
function expectedOf(need: AccessNeed, classes: readonly AccessClass[], inside: boolean): Expected {
  // spec §3.17: STATS needs read, or admin (which answers the server-wide object whether or not it has read).
  if (need.orAdmin && classes.includes('admin')) return undefined;
  const missing = need.classes.find((c) => !classes.includes(c));
  if (missing !== undefined) return missing;
  if ((need.keys === 'key' || need.keys === 'prefixes') && !inside) return 'prefix';
  return undefined;
}

let composed: ComposedServer;
let port = 0;
let httpPort = 0;
let respPort = 0;
let admin: ConduitClient;
const clients: ConduitClient[] = [];

beforeAll(async () => {
  composed = new ComposedServer({
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    respPort: 0,
    shutdownTimeoutMs: 2_000,
    keys,
    tokens,
    httpToken: HTTP_ADMIN,
    respPassword: RESP_ADMIN,
    // RELOAD re-reads the same credentials: an admin's RELOAD is OK and closes nothing.
    reloadAccess: () => ({ keys, tokens, certificates: [] }),
  });
  ({ port, httpPort: httpPort = 0, respPort: respPort = 0 } = await composed.listen());
  admin = connect(adminKey);
  await admin.connect();
}, 30_000);

afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await composed.close();
}, 30_000);

function connect(key: PreSharedKey): ConduitClient {
  const c = new ConduitClient({ host: '127.0.0.1', port, key: { id: key.id, secret: key.secret } });
  clients.push(c);
  return c;
}

/** Every key with its value and expiry, as the admin sees them. */
async function snapshot(): Promise<string> {
  const listed = (await admin.list('', 1000)).keys.map((k) => k.toString('latin1')).sort();
  const rows = await Promise.all(listed.map(async (k) => `${k}=${(await admin.getString(k)) ?? '∅'} ttl=${(await admin.ttl(k)) === undefined ? '∅' : 'set'}`));
  return rows.join('\n');
}

/** The store as each row starts it: exactly {@link SEED}, no expiry. */
async function reseed(): Promise<void> {
  await admin.flush();
  await Promise.all(Object.entries(SEED).map(([k, v]) => admin.set(k, v)));
}

/** The answer of a raw request through the client's lower layer, thrown as its error when not OK. */
async function exchange(c: ConduitClient, request: Request): Promise<Buffer> {
  const { status, body } = await c.exchange(request);
  if (status === Status.FORBIDDEN) throw new ConduitError('FORBIDDEN', body.toString('utf8'), status);
  return body;
}

/** A result as text for a failure message (bigints and buffers included). */
const show = (x: unknown): string =>
  x instanceof Error ? x.message : (JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(x)).slice(0, 160);
const isForbidden = (err: unknown): err is ConduitError => err instanceof ConduitError && err.code === 'FORBIDDEN';
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * One binary row: `op`'s need, how to send it with `key` (inside or outside), and what an
 * allowed answer must show (`undefined`: fine). `keyless` rows run once.
 */
interface BinaryCase {
  op: Op;
  label: string;
  keyless?: boolean;
  run(c: ConduitClient, key: string, id: string): Promise<unknown>;
  check?(result: unknown, id: string, classes: readonly AccessClass[]): string | undefined;
}

const keysOf = (list: readonly Buffer[]): string[] => list.map((k) => k.toString('latin1')).sort();
const onlyInside = (list: string[], prefix: string): string | undefined => {
  const expected = INSIDE_KEYS.filter((k) => k.startsWith(prefix));
  return JSON.stringify(list) === JSON.stringify(expected) ? undefined : `listed ${JSON.stringify(list)}, expected ${JSON.stringify(expected)}`;
};

const BINARY: BinaryCase[] = [
  { op: 'GET', label: 'get', run: (c, k) => c.get(k) },
  { op: 'GETS', label: 'getWithVersion', run: (c, k) => c.getWithVersion(k) },
  { op: 'TTL', label: 'ttl', run: (c, k) => c.ttl(k) },
  { op: 'SET', label: 'set', run: (c, k) => c.set(k, 'new') },
  { op: 'SET', label: 'set nx', run: (c, k) => c.set(k, 'new', { nx: true }) },
  { op: 'SET', label: 'set with a CAS version', run: (c, k) => c.set(k, 'new', { version: 1n }) },
  { op: 'SET', label: 'set quiet', run: (c, k) => Promise.all([c.set(k, 'new', { quiet: true }), c.health()]) },
  { op: 'SET', label: 'SET with a lease token', run: (c, k) => exchange(c, { op: 'SET', key: b(k), value: b('new'), ttlMs: 0, nx: false, xx: false, keepTtl: false, leaseToken: 7n }) },
  { op: 'DELETE', label: 'delete', run: (c, k) => c.delete(k) },
  { op: 'DELETE', label: 'delete quiet', run: (c, k) => Promise.all([c.delete(k, { quiet: true }), c.health()]) },
  { op: 'INCR', label: 'incr', run: (c, k) => c.incr(k, 5n) },
  { op: 'RENEW', label: 'renew', run: (c, k) => c.renew(k, 60_000) },
  { op: 'RENEW', label: 'renew quiet', run: (c, k) => Promise.all([c.renew(k, 60_000, { quiet: true }), c.health()]) },
  { op: 'GAT', label: 'getAndTouch', run: (c, k) => c.getAndTouch(k, 60_000) },
  { op: 'LEASE', label: 'LEASE', run: (c, k) => exchange(c, { op: 'LEASE', key: b(k), leaseMs: 1_000, staleOk: false }) },
  {
    op: 'LIST',
    label: 'list',
    // Inside: the whole keyspace ("" prefix) answers only app1: keys; outside: app2: answers none.
    run: async (c, k) => keysOf((await c.list(k === INSIDE ? '' : k.slice(0, 4), 1000)).keys),
    check: (r) => (Array.isArray(r) && r.every((k: string) => k.startsWith('app1:')) ? undefined : `LIST showed ${JSON.stringify(r)}`),
  },
  { op: 'LIST', label: 'list app1:', keyless: true, run: async (c) => keysOf((await c.list('app1:', 1000)).keys), check: (r) => onlyInside(r as string[], 'app1:') },
  { op: 'LIST', label: 'list ""', keyless: true, run: async (c) => keysOf((await c.list('', 1000)).keys), check: (r) => onlyInside(r as string[], '') },
  {
    op: 'SCAN',
    label: 'scan (every page)',
    keyless: true,
    run: async (c) => {
      const seen: Buffer[] = [];
      for await (const key of c.scan({ count: 2 })) seen.push(key);
      return [...new Set(keysOf(seen))];
    },
    check: (r) => onlyInside(r as string[], ''),
  },
  {
    op: 'SCAN',
    label: 'scanPage',
    run: async (c, k) => keysOf((await c.scanPage(0n, { prefix: k === INSIDE ? '' : k, count: 1000 })).keys),
    check: (r) => (Array.isArray(r) && r.every((k: string) => k.startsWith('app1:')) ? undefined : `SCAN showed ${JSON.stringify(r)}`),
  },
  {
    op: 'TRACKING',
    label: 'TRACKING PREFIXES',
    run: async (c, k) => {
      try {
        return await exchange(c, { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [b(k === INSIDE ? 'app1:' : k.slice(0, 4))] });
      } finally {
        await c.exchange({ op: 'TRACKING', mode: TrackingMode.OFF });
      }
    },
  },
  {
    op: 'STATS',
    label: 'stats',
    keyless: true,
    run: (c) => c.stats(),
    // decision 3: admin gets the server's STATS with `access`; read alone its own counters.
    check: (r, id, classes) => {
      const stats = r as Record<string, unknown>;
      if (classes.includes('admin')) return typeof stats.curr_items === 'number' && typeof stats.access === 'object' ? undefined : 'admin STATS without curr_items/access';
      return stats.scope === 'identity' && stats.key_id === id && stats.curr_items === undefined ? undefined : `scoped STATS expected, got ${JSON.stringify(stats).slice(0, 200)}`;
    },
  },
  { op: 'FLUSH', label: 'flush', keyless: true, run: (c) => c.flush() },
  { op: 'SHUTDOWN', label: 'SHUTDOWN', keyless: true, run: (c) => exchange(c, { op: 'SHUTDOWN' }) },
  {
    op: 'RELOAD',
    label: 'reload',
    keyless: true,
    run: (c) => c.reload(),
    check: (r) => (JSON.stringify(r) === JSON.stringify({ keys: keys.length, tokens: tokens.length, certificates: 0, closed: 0 }) ? undefined : `reload answered ${show(r)}`),
  },
  { op: 'HEALTH', label: 'health', keyless: true, run: (c) => c.health() },
  { op: 'CAPS', label: 'capabilities', keyless: true, run: (c) => c.capabilities() },
  { op: 'TOPOLOGY', label: 'TOPOLOGY', keyless: true, run: (c) => c.exchange({ op: 'TOPOLOGY' }) },
];

describe('the table through ConduitClient (secure mode; spec §3.17)', () => {
  it('covers every operation of ACCESS_NEEDS (HELLO: each client connects with it)', () => {
    const covered = new Set<string>([...BINARY.map((c) => c.op), 'HELLO']);
    expect([...covered].sort()).toEqual(Object.keys(ACCESS_NEEDS).sort());
  });

  for (const classes of SUBSETS) {
    const id = `k-${nameOf(classes)}`;
    it(`${id}: allow ${JSON.stringify(classes)}, prefixes ["app1:"]`, async () => {
      const key = keys.find((k) => k.id === id) as PreSharedKey;
      const c = connect(key);
      await c.connect(); // HELLO needs no class
      const rights = composed.server.access.table.forKey(id) as Rights;
      const wrong: string[] = [];
      let rows = 0;
      for (const row of BINARY) {
        for (const target of row.keyless === true ? [INSIDE] : [INSIDE, ...OUTSIDE]) {
          const inside = target === INSIDE;
          let expected = expectedOf(ACCESS_NEEDS[row.op], classes, inside);
          // SHUTDOWN also needs --allow-shutdown, checked after the class (decision 2): still FORBIDDEN.
          if (row.op === 'SHUTDOWN' && expected === undefined) expected = 'allow-shutdown';
          await reseed();
          const before = await snapshot();
          const where = `${id} ${row.label} ${JSON.stringify(target)}`;
          rows += 1;
          let result: unknown;
          let refusal: ConduitError | undefined;
          try {
            result = await row.run(c, target, id);
          } catch (err) {
            if (!isForbidden(err)) result = err; // NOT_FOUND, NOT_INTEGER, …: it ran
            else refusal = err;
          }
          if (expected === undefined) {
            if (refusal !== undefined) wrong.push(`${where}: expected it to run, got FORBIDDEN ${refusal.message}`);
            else {
              const problem = row.check?.(result, id, classes);
              if (problem !== undefined) wrong.push(`${where}: ${problem}`);
            }
            continue;
          }
          if (refusal === undefined) {
            wrong.push(`${where}: expected FORBIDDEN (${expected}), got ${show(result)}`);
            continue;
          }
          if (expected !== 'allow-shutdown' && refusal.message !== rights.message(expected)) wrong.push(`${where}: message ${JSON.stringify(refusal.message)}, expected ${JSON.stringify(rights.message(expected))}`);
          const after = await snapshot();
          if (after !== before) wrong.push(`${where}: refused, but the store changed:\n${before}\n→\n${after}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(rows).toBeGreaterThan(40);
      // Each refusal was counted for the key id (decision 3).
      const counted = composed.server.access.counters.of(id);
      expect(counted.requests).toBeGreaterThan(0);
      if (classes.length < 3) expect(Object.values(counted.forbidden).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
      c.destroy();
    }, 60_000);
  }
});

/** One HTTP route: its operation's need, method and path, and whether it carries a body. */
interface HttpCase {
  op: Op;
  method: string;
  path(key: string): string;
  body?: string;
  keyless?: boolean;
}

const enc = encodeURIComponent;
const HTTP: HttpCase[] = [
  { op: 'GET', method: 'GET', path: (k) => `/v1/keys/${enc(k)}` },
  { op: 'GET', method: 'HEAD', path: (k) => `/v1/keys/${enc(k)}` },
  { op: 'TTL', method: 'GET', path: (k) => `/v1/keys/${enc(k)}/ttl` },
  { op: 'SET', method: 'PUT', path: (k) => `/v1/keys/${enc(k)}`, body: 'new' },
  { op: 'SET', method: 'PUT', path: (k) => `/v1/keys/${enc(k)}?nx=1&ttl=60000`, body: 'new' },
  { op: 'DELETE', method: 'DELETE', path: (k) => `/v1/keys/${enc(k)}` },
  { op: 'INCR', method: 'POST', path: (k) => `/v1/keys/${enc(k)}/incr?by=5` },
  { op: 'STATS', method: 'GET', path: () => '/v1/stats', keyless: true },
];

async function http(method: string, path: string, token: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { method, headers: { authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

describe('the table through the HTTP gateway (bearer tokens)', () => {
  for (const classes of SUBSETS) {
    const token = tokens.find((t) => t.id === `t-${nameOf(classes)}`) as AccessToken;
    it(`${token.id}: allow ${JSON.stringify(classes)}, prefixes ["app1:"]`, async () => {
      const rights = composed.server.access.table.forToken(token.token) as Rights;
      expect(rights.id).toBe(token.id);
      const wrong: string[] = [];
      for (const row of HTTP) {
        for (const target of row.keyless === true ? [INSIDE] : [INSIDE, ...OUTSIDE]) {
          const expected = expectedOf(ACCESS_NEEDS[row.op], classes, target === INSIDE) as ForbiddenReason | undefined;
          await reseed();
          const before = await snapshot();
          const where = `${token.id} ${row.method} ${row.path(target)}`;
          const got = await http(row.method, row.path(target), token.token, row.body);
          if (expected === undefined) {
            if (got.status === 403 || got.status === 401) wrong.push(`${where}: expected it to run, got ${got.status} ${got.text}`);
            if (row.op === 'STATS' && got.status === 200) {
              const stats = JSON.parse(got.text) as Record<string, unknown>;
              const scoped = stats.scope === 'identity' && stats.key_id === token.id;
              if (classes.includes('admin') ? typeof stats.curr_items !== 'number' : !scoped) wrong.push(`${where}: STATS ${got.text.slice(0, 200)}`);
            }
            continue;
          }
          if (got.status !== 403) {
            wrong.push(`${where}: expected 403 (${expected}), got ${got.status} ${got.text.slice(0, 120)}`);
            continue;
          }
          // HEAD has no body; the others carry the gateway's error body (decision 9).
          if (row.method !== 'HEAD' && got.text !== JSON.stringify({ error: 'FORBIDDEN', message: rights.message(expected) })) wrong.push(`${where}: body ${got.text}`);
          const after = await snapshot();
          if (after !== before) wrong.push(`${where}: refused, but the store changed:\n${before}\n→\n${after}`);
        }
      }
      expect(wrong).toEqual([]);
    }, 60_000);
  }

  it('the --http-token bearer keeps every right; a wrong token is 401', async () => {
    await reseed();
    expect((await http('GET', `/v1/keys/${enc('app2:k')}`, HTTP_ADMIN)).text).toBe('20');
    expect((await http('GET', `/v1/keys/${enc('app2:k')}`, 'no-such-token-0123456789')).status).toBe(401);
  });

  it('/metrics counts the refusals by key id and reason', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    expect(metrics).toMatch(/conduit_forbidden_total\{key_id="t-r",reason="write"\} [1-9]/);
    expect(metrics).toMatch(/conduit_forbidden_total\{key_id="k-w",reason="read"\} [1-9]/);
  });
});

/**
 * One RESP command: the ACCESS_NEEDS entry whose need it has (the RESP brief's classes: a
 * read-only command → GET's, a write → SET's, GETEX/GETDEL read and write → GAT's, DBSIZE and
 * FLUSHALL → admin as FLUSH, INFO → none as HEALTH), Redis's full name for NOPERM, and its
 * arguments for a key inside or outside.
 */
interface RespCase {
  like: Op;
  name: string;
  args(key: string): string[];
  keyless?: boolean;
  check?(reply: string): string | undefined;
}

const RESP: RespCase[] = [
  { like: 'GET', name: 'get', args: (k) => ['GET', k] },
  { like: 'GET', name: 'mget', args: (k) => ['MGET', INSIDE, k] },
  { like: 'SET', name: 'set', args: (k) => ['SET', k, 'new'] },
  { like: 'DELETE', name: 'del', args: (k) => ['DEL', k] },
  { like: 'INCR', name: 'incr', args: (k) => ['INCR', k] },
  { like: 'RENEW', name: 'expire', args: (k) => ['EXPIRE', k, '60'] },
  { like: 'GAT', name: 'getex', args: (k) => ['GETEX', k, 'EX', '60'] },
  { like: 'GAT', name: 'getdel', args: (k) => ['GETDEL', k] },
  { like: 'TTL', name: 'ttl', args: (k) => ['TTL', k] },
  { like: 'GET', name: 'exists', args: (k) => ['EXISTS', k] },
  {
    like: 'LIST',
    name: 'keys',
    keyless: true,
    args: () => ['KEYS', '*'],
    check: (reply) => (reply === `*${INSIDE_KEYS.length}\r\n${INSIDE_KEYS.map((k) => `$${k.length}\r\n${k}\r\n`).join('')}` || sameKeys(reply) ? undefined : `KEYS * answered ${JSON.stringify(reply)}`),
  },
  { like: 'SCAN', name: 'scan', keyless: true, args: () => ['SCAN', '0', 'MATCH', '*', 'COUNT', '1000'], check: (reply) => (OUTSIDE.concat('app2').some((k) => reply.includes(`\r\n${k}\r\n`)) ? `SCAN answered ${JSON.stringify(reply)}` : undefined) },
  { like: 'FLUSH', name: 'dbsize', keyless: true, args: () => ['DBSIZE'] },
  { like: 'FLUSH', name: 'flushall', keyless: true, args: () => ['FLUSHALL'] },
  { like: 'HEALTH', name: 'info', keyless: true, args: () => ['INFO', 'keyspace'] },
];

/** Whether a KEYS reply lists exactly the inside keys, in any order. */
function sameKeys(reply: string): boolean {
  const names = reply.split('\r\n').filter((_, i) => i > 0 && i % 2 === 0);
  return JSON.stringify(names.sort()) === JSON.stringify(INSIDE_KEYS);
}

describe('the table through the RESP port (AUTH user token; Redis 7.0.15 NOPERM texts)', () => {
  for (const classes of SUBSETS) {
    const token = tokens.find((t) => t.id === `t-${nameOf(classes)}`) as AccessToken;
    it(`${token.id}: allow ${JSON.stringify(classes)}, prefixes ["app1:"]`, async () => {
      const wire = await RespWire.connect(respPort);
      try {
        expect((await wire.command(['AUTH', token.id, token.token])).toString()).toBe('+OK\r\n');
        const wrong: string[] = [];
        for (const row of RESP) {
          for (const target of row.keyless === true ? [INSIDE] : [INSIDE, ...OUTSIDE]) {
            const expected = expectedOf(ACCESS_NEEDS[row.like], classes, target === INSIDE);
            await reseed();
            const before = await snapshot();
            const args = row.args(target);
            const where = `${token.id} ${args.join(' ')}`;
            const reply = (await wire.command(args)).toString('latin1');
            if (expected === undefined) {
              if (reply.startsWith('-NOPERM')) wrong.push(`${where}: expected it to run, got ${reply.trim()}`);
              else {
                const problem = row.check?.(reply);
                if (problem !== undefined) wrong.push(`${where}: ${problem}`);
              }
              // INFO without admin: only the server section (ioredis's ready check reads it).
              if (row.name === 'info' && !classes.includes('admin') && reply.includes('# Keyspace')) wrong.push(`${where}: INFO showed the keyspace without admin`);
              continue;
            }
            const text =
              expected === 'prefix'
                ? '-NOPERM this user has no permissions to access one of the keys used as arguments\r\n'
                : `-NOPERM this user has no permissions to run the '${row.name}' command\r\n`;
            if (reply !== text) wrong.push(`${where}: ${JSON.stringify(reply)}, expected ${JSON.stringify(text)}`);
            const after = await snapshot();
            if (after !== before) wrong.push(`${where}: refused, but the store changed:\n${before}\n→\n${after}`);
          }
        }
        expect(wrong).toEqual([]);
      } finally {
        wire.destroy();
      }
    }, 60_000);
  }

  it('the default user (--resp-password) keeps every right; a wrong password is WRONGPASS', async () => {
    await reseed();
    const wire = await RespWire.connect(respPort);
    try {
      expect((await wire.command(['AUTH', 't-r', 'not-the-token-0123456789'])).toString()).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      expect((await wire.command(['AUTH', RESP_ADMIN])).toString()).toBe('+OK\r\n');
      expect((await wire.command(['GET', 'app2:k'])).toString()).toBe('$2\r\n20\r\n');
      expect((await wire.command(['DBSIZE'])).toString()).toBe(':4\r\n');
    } finally {
      wire.destroy();
    }
  });
});
