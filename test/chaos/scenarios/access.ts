// Scenario 22 (issue 25): a key limited to `app1:` attacks everything outside its prefix, through
// all three surfaces of a conduit-server child process started with a key file: every binary
// opcode on outside keys (quiet writes, CAS, lease tokens included), LIST and SCAN with every
// one-byte prefix and full SCAN iterations, TRACKING "", FLUSH, SHUTDOWN, RELOAD, STATS; HTTP
// routes with `../` and %-encoded keys sent unnormalised; RESP MGET/KEYS/SCAN MATCH * and AUTH
// guesses; floods of forbidden requests; and reloads (RELOAD, a bad file, SIGHUP) meanwhile. A
// healthy client of its own prefix checks its keys throughout. Every outside key is compared,
// through an admin key, before and after; no answer may carry an outside key's name or value.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConduitClient, ConduitError, generateKey, Status, TrackingMode, type Request } from '../../../src/index.js';
import { decodeListBody } from '../../../src/protocol/messages.js';
import { decodeScanBody, type ScanPage } from '../../../src/protocol/scan-body.js';
import { RespWire, decodeReply, type RespValue } from '../../support/resp-wire.js';
import type { ServerProcess } from '../../support/cli.js';
import { count, pidOf, rssMiB, serve, sleep, type Scenario } from '../harness.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const PREFIX = b('app1:');
const isInside = (key: Buffer): boolean => key.length >= PREFIX.length && key.subarray(0, PREFIX.length).equals(PREFIX);

/** The port of a listener from the start line's `http` / `resp` field ("host:port"). */
function portOf(server: ServerProcess, field: 'http' | 'resp'): number {
  const line = server.logs().find((l) => l.msg === 'conduit-server listening');
  return Number(String(line?.[field]).split(':').at(-1));
}

interface Credentials {
  admin: string;
  attacker: string;
  healthy: string;
  token: string;
  adminToken: string;
}

/** The key file: an admin key, the attacker limited to app1: (read, write), a healthy app on healthy:, a token for HTTP and RESP. */
function keyFile(c: Credentials, extra = ''): string {
  return [
    '[[keys]]', 'id = "admin"', `key = "${c.admin}"`, '',
    '[[keys]]', 'id = "attacker"', `key = "${c.attacker}"`, 'prefixes = ["app1:"]', 'allow = ["read", "write"]', '',
    '[[keys]]', 'id = "healthy"', `key = "${c.healthy}"`, 'prefixes = ["healthy:"]', 'allow = ["read", "write"]', '',
    '[[tokens]]', 'id = "web-attacker"', `token = "${c.token}"`, 'prefixes = ["app1:"]', 'allow = ["read", "write"]', '',
    '[[tokens]]', 'id = "web-admin"', `token = "${c.adminToken}"`, '',
    extra,
  ].join('\n');
}

/** One HTTP request with its path sent as written (no `..` normalisation), with a bearer token. */
function http(port: number, method: string, path: string, token: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Every bulk string in a RESP reply. */
function bulks(value: RespValue): Buffer[] {
  if (value.type === '$') return value.value === null ? [] : [value.value];
  if ((value.type === '*' || value.type === '~') && value.value !== null) return value.value.flatMap(bulks);
  return [];
}

export const access: Scenario = {
  number: 22,
  id: 'access',
  title: 'A limited key attacks outside its prefix',
  budgetMs: 120_000,
  async run(size, f) {
    const outsideCount = size.quick ? 100 : 2_000;
    const floodCount = size.quick ? 5_000 : 200_000;
    const dir = mkdtempSync(join(tmpdir(), 'conduit-chaos-access-'));
    const creds: Credentials = {
      admin: generateKey(),
      attacker: generateKey(),
      healthy: generateKey(),
      token: `attacker-${randomBytes(12).toString('hex')}`,
      adminToken: `admin-${randomBytes(12).toString('hex')}`,
    };
    const path = join(dir, 'keys.toml');
    writeFileSync(path, keyFile(creds));
    const server = await serve(size, ['--key-file', path, '--http-port', '0', '--resp-port', '0', '--max-memory', '128mb', '--max-handshakes-per-second', '0']);
    const pid = pidOf(server);
    const port = server.port;
    const httpPort = portOf(server, 'http');
    const respPort = portOf(server, 'resp');
    const keyOf = (id: string, base64: string) => ({ id, secret: Buffer.from(base64, 'base64') });
    const clients: ConduitClient[] = [];
    const connect = async (id: string, base64: string): Promise<ConduitClient> => {
      const c = new ConduitClient({ host: '127.0.0.1', port, key: keyOf(id, base64), reconnect: false });
      c.on('error', () => {});
      clients.push(c);
      await c.connect();
      return c;
    };
    let stopHealthy = false;
    let stopReloads = false;
    let healthyDone: Promise<void> = Promise.resolve();
    let reloadsDone: Promise<void> = Promise.resolve();
    try {
      const admin = await connect('admin', creds.admin);

      // The outside keys: another app's, near misses of the prefix, binary ones; each with a distinctive value.
      const outside: Buffer[] = [b('app1'), b('APP1:x'), b('app1;x'), b('app10:x'), b('app:1x'), b('a'), Buffer.from([0x61, 0x70, 0x70, 0x31, 0x00, 0x3a]), Buffer.from([0xff])];
      for (let i = outside.length; i < outsideCount; i += 1) outside.push(b(`${['app2', 'shared', 'zz', 'bill'][i % 4]}:secret-${i}`));
      const values = outside.map((_, i) => b(`OUTSIDE-VALUE-${i}-${randomBytes(4).toString('hex')}`));
      await Promise.all(outside.map((k, i) => admin.set(k, values[i] as Buffer, i % 5 === 0 ? { ttlMs: 3_600_000 } : {})));
      await Promise.all(Array.from({ length: 20 }, (_, i) => admin.set(`app1:own-${i}`, `inside-${i}`)));
      const snapshot = async (): Promise<string[]> =>
        Promise.all(
          outside.map(async (k) => {
            const got = await admin.getWithVersion(k);
            const ttl = await admin.ttl(k);
            return `${got === undefined ? 'absent' : `${got.value.toString('latin1')} v${got.version}`} ttl:${ttl === undefined ? 'absent' : ttl === -1 ? 'none' : 'set'}`;
          }),
        );
      const before = await snapshot();
      const distinctive = outside.filter((k) => k.length >= 6 && !isInside(k));
      // Fast paths: every value holds VALUE_MARK, every numbered name SECRET_MARK; the rest are few.
      const VALUE_MARK = b('OUTSIDE-VALUE-');
      const SECRET_MARK = b(':secret-');
      const numbered = distinctive.filter((k) => k.includes(SECRET_MARK));
      const others = distinctive.filter((k) => !k.includes(SECRET_MARK));
      let revealed = 0;
      const revealedWhat: string[] = [];
      const found = (where: string, what: string): void => {
        revealed += 1;
        if (revealedWhat.length < 5) revealedWhat.push(`${where}: ${what}`);
      };
      /** Counts what in `answer` reveals an outside key (its name only when `asked` did not name it). */
      const inspect = (answer: Buffer, asked: Buffer, where: string): void => {
        if (answer.includes(VALUE_MARK)) for (const v of values) if (answer.includes(v)) found(where, 'a value');
        const names = answer.includes(SECRET_MARK) ? [...others, ...numbered] : others;
        for (const name of names) if (answer.includes(name) && !asked.includes(name)) found(where, name.toString('latin1'));
      };
      const rss0 = rssMiB(pid);
      /** How long each part took (a figure; and where a slow full run spends its time). */
      const phases: string[] = [];
      let phaseName = '';
      let phaseAt = performance.now();
      const phase = (name: string): void => {
        if (phaseName !== '') phases.push(`${phaseName} ${((performance.now() - phaseAt) / 1000).toFixed(1)} s`);
        if (process.env.CHAOS_TRACE === '1') console.error(`[access] ${name}`);
        phaseName = name;
        phaseAt = performance.now();
      };

      // The healthy client: SET then GET of its own keys, one pair at a time, through the whole attack.
      const healthy = await connect('healthy', creds.healthy);
      let healthyPairs = 0;
      let healthyErrors = 0;
      const healthyErrorsSeen: string[] = [];
      healthyDone = (async () => {
        const deadline = performance.now() + 200_000;
        for (let i = 0; !stopHealthy && performance.now() < deadline; i += 1) {
          const value = `h-${i}`;
          try {
            await healthy.set(`healthy:${i % 32}`, value);
            if ((await healthy.getString(`healthy:${i % 32}`)) !== value) healthyErrors += 1;
            healthyPairs += 1;
          } catch (err) {
            healthyErrors += 1;
            if (healthyErrorsSeen.length < 3) healthyErrorsSeen.push((err as Error).message);
            await sleep(10);
          }
        }
      })();

      // Reloads during the attack: RELOAD by the admin with a changed file, a bad file, SIGHUP.
      let reloadsOk = 0;
      let reloadsRefused = 0;
      reloadsDone = (async () => {
        for (let i = 0; !stopReloads && i < 1_000; i += 1) {
          await sleep(size.quick ? 100 : 250);
          const kind = i % 4;
          if (kind === 1) {
            writeFileSync(path, keyFile(creds, '[[keys]]\nid = "attacker2"\nallow = ["flush"]\n'));
          } else {
            writeFileSync(path, keyFile(creds, kind === 2 ? `[[tokens]]\nid = "temp"\ntoken = "temp-${randomBytes(12).toString('hex')}"\n` : ''));
          }
          if (kind === 3) {
            // SIGHUP: the next file is written only once the server has counted this reload.
            const reloadsOf = async (): Promise<number> => {
              const a = ((await admin.stats()) as { access?: { reloads?: number; reload_failures?: number } }).access;
              return (a?.reloads ?? 0) + (a?.reload_failures ?? 0);
            };
            const before = await reloadsOf();
            process.kill(pid, 'SIGHUP');
            for (let wait = 0; wait < 500 && (await reloadsOf()) === before; wait += 1) await sleep(10);
            reloadsOk += 1; // checked at the end against STATS access.reloads
            continue;
          }
          try {
            await admin.reload();
            reloadsOk += 1;
          } catch (err) {
            if (err instanceof ConduitError && err.code === 'NOT_STORED') reloadsRefused += 1;
            else throw err;
          }
        }
        writeFileSync(path, keyFile(creds));
      })();

      phase('binary');
      // 1. Every binary opcode against every outside key (quiet, CAS and lease-token writes too).
      const attacker = await connect('attacker', creds.attacker);
      let binarySent = 0;
      let binaryForbidden = 0;
      const send = async (request: Request): Promise<{ status: number; body: Buffer }> => {
        binarySent += 1;
        const quiet = 'quiet' in request && request.quiet === true;
        const [reply] = await Promise.all([attacker.exchange(request), quiet ? attacker.health() : undefined]);
        if (reply.status === Status.FORBIDDEN) binaryForbidden += 1;
        // LIST and SCAN answers are names, each checked to be inside app1: below.
        const asked = 'key' in request ? request.key : request.op === 'LIST' || request.op === 'SCAN' ? reply.body : Buffer.alloc(0);
        inspect(reply.body, asked, request.op);
        if (reply.status === Status.OK && request.op === 'LIST') {
          const list = decodeListBody(reply.body);
          if (!(list instanceof Error)) for (const k of list.keys) if (!isInside(k)) revealed += 1;
        }
        return reply;
      };
      const set = (key: Buffer, extra: Partial<Extract<Request, { op: 'SET' }>> = {}): Request => ({ op: 'SET', key, value: b('pwned'), ttlMs: 0, nx: false, xx: false, keepTtl: false, ...extra });
      const perKey = (key: Buffer): Request[] => [
        { op: 'GET', key },
        { op: 'GETS', key },
        { op: 'TTL', key },
        set(key),
        set(key, { xx: true, ttlMs: 1 }),
        set(key, { version: 1n }),
        set(key, { leaseToken: 1n }),
        set(key, { quiet: true }),
        { op: 'DELETE', key },
        { op: 'DELETE', key, quiet: true },
        { op: 'INCR', key, delta: 1n, ttlMs: 0 },
        { op: 'RENEW', key, ttlMs: 1 },
        { op: 'RENEW', key, ttlMs: 0, quiet: true },
        { op: 'GAT', key, ttlMs: 1 },
        { op: 'LEASE', key, leaseMs: 60_000, staleOk: true },
      ];
      for (let i = 0; i < outside.length; i += 16) {
        await Promise.all(outside.slice(i, i + 16).flatMap((key) => perKey(key).map(send)));
      }
      phase('list/scan');
      // LIST and SCAN with every one-byte prefix and the outside prefixes; whole SCAN iterations of "".
      const prefixes = [Buffer.alloc(0), ...Array.from({ length: 256 }, (_, i) => Buffer.from([i])), b('app'), b('app1'), b('app2:'), b('shared:'), b('zz:')];
      for (const prefix of prefixes) {
        await send({ op: 'LIST', prefix, limit: 65_535 });
        let cursor = 0n;
        for (let calls = 0; calls < 10_000; calls += 1) {
          const reply = await send({ op: 'SCAN', cursor, count: 1_000, prefix });
          if (reply.status !== Status.OK) break;
          const page = decodeScanBody(reply.body) as ScanPage;
          for (const k of page.keys) if (!isInside(k)) revealed += 1;
          cursor = page.cursor;
          if (cursor === 0n) break;
        }
      }
      phase('tracking');
      // TRACKING "" and outside prefixes (each followed by OFF: this client has no near cache to take pushes).
      let trackingForbidden = 0;
      for (const p of [Buffer.alloc(0), b('app'), b('app2:'), b('app1')]) {
        if ((await send({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes: [p] })).status === Status.FORBIDDEN) trackingForbidden += 1;
        await send({ op: 'TRACKING', mode: TrackingMode.OFF });
      }
      const adminOnly: Request[] = [{ op: 'FLUSH' }, { op: 'SHUTDOWN' }, { op: 'RELOAD' }];
      let adminRefused = 0;
      for (const r of adminOnly) if ((await send(r)).status === Status.FORBIDDEN) adminRefused += 1;
      const scoped = await send({ op: 'STATS' });
      const scopedOk = scoped.status === Status.OK && (JSON.parse(scoped.body.toString()) as { scope?: string }).scope === 'identity';
      await attacker.health();

      phase('flood');
      // 2. Floods of forbidden requests, 256 in flight.
      const floodStarted = performance.now();
      for (let i = 0; i < floodCount; i += 256) {
        await Promise.all(
          Array.from({ length: Math.min(256, floodCount - i) }, (_, j) => {
            const key = outside[(i + j) % outside.length] as Buffer;
            const r: Request = (i + j) % 3 === 0 ? { op: 'GET', key } : (i + j) % 3 === 1 ? set(key) : { op: 'FLUSH' };
            return send(r);
          }),
        );
      }
      const floodMs = performance.now() - floodStarted;

      phase('http');
      // 3. HTTP: every route on outside keys, `../` and %-encoded names sent as written, token guesses.
      let httpSent = 0;
      let http403 = 0;
      let http401 = 0;
      const enc = (k: Buffer): string => [...k].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
      /** A path's bytes with %XX decoded (any bytes, not only UTF-8), for what an answer may echo. */
      const pct = (p: string): Buffer => Buffer.from(p.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      const routes = [['GET', '', undefined], ['HEAD', '', undefined], ['GET', '/ttl', undefined], ['PUT', '', 'pwned'], ['PUT', '?nx=1', 'pwned'], ['DELETE', '', undefined], ['POST', '/incr?by=1', undefined]] as const;
      // Outside keys, %-encoded byte by byte: every route must be 403.
      const plain = outside.slice(0, Math.min(outside.length, size.quick ? 40 : 400)).map((k) => `/v1/keys/${enc(k)}`);
      // Traversal and encoding tricks: each is 403, a 4xx for a malformed path, or a key that is inside app1: (never an outside one).
      const tricks = [
        '/v1/keys/app1:/../app2:secret-8',
        '/v1/keys/app1:%2F..%2F..%2Fapp2:secret-8',
        '/v1/keys/..%2Fapp2:secret-8',
        '/v1/keys/%2e%2e/app2:secret-8',
        '/v1/keys/app1%3a/../../v1/keys/app2:secret-8',
        '/v1/keys/%61%70%70%32%3asecret-8',
        '/v1/keys/app2%3Asecret-8',
        '/v1/keys/app1:%00app2:secret-8',
        '/v1/keys/./app2:secret-8',
        '/v1/keys/app1%3A%ZZ',
        '/v1/keys/%2Fapp2:secret-8',
        '//v1/keys/app2:secret-8',
      ];
      let plainRefused = 0;
      const trickStatuses = new Map<number, number>();
      for (const p of [...plain, ...tricks]) {
        for (const [method, suffix, body] of routes) {
          const got = await http(httpPort, method, `${p}${suffix}`, creds.token, body);
          httpSent += 1;
          if (got.status === 403) http403 += 1;
          if (plain.includes(p)) {
            if (got.status === 403) plainRefused += 1;
          } else trickStatuses.set(got.status, (trickStatuses.get(got.status) ?? 0) + 1);
          inspect(b(got.text), pct(p), `HTTP ${method} ${p}`);
        }
      }
      const httpStats = await http(httpPort, 'GET', '/v1/stats', creds.token);
      httpSent += 1;
      inspect(b(httpStats.text), Buffer.alloc(0), 'HTTP /v1/stats');
      for (let i = 0; i < (size.quick ? 50 : 500); i += 1) {
        // The token's last character changed to a letter that is never hex: a digit could be the token's own
        // last character (5 of 50 "guesses" were the token itself in 5 of 16 runs).
        const guess = i % 2 === 0 ? `${creds.token.slice(0, -1)}${'ghijklmnop'[i % 10] ?? 'g'}` : `guess-${randomBytes(12).toString('hex')}`;
        const got = await http(httpPort, 'GET', '/v1/keys/app2:secret-8', guess);
        httpSent += 1;
        if (got.status === 401) http401 += 1;
        inspect(b(got.text), Buffer.alloc(0), 'HTTP guess');
      }

      phase('resp');
      // 4. RESP: AUTH guesses, then as the token's user every command that could reach outside.
      let respSent = 0;
      let noperm = 0;
      let wrongpass = 0;
      const guesses = await RespWire.connect(respPort);
      for (let i = 0; i < (size.quick ? 50 : 500); i += 1) {
        const args = i % 3 === 0 ? ['AUTH', 'web-attacker', `${creds.token}x`] : i % 3 === 1 ? ['AUTH', 'default', `guess-${i}`] : ['AUTH', `guess-${i}`];
        const reply = (await guesses.command(args)).toString('latin1');
        respSent += 1;
        if (reply.startsWith('-WRONGPASS')) wrongpass += 1;
        if (reply === '+OK\r\n') revealed += 1; // a guess got in
        const got = await guesses.command(['GET', 'app2:secret-8']);
        respSent += 1;
        inspect(got, Buffer.alloc(0), 'RESP unauthenticated GET');
      }
      guesses.destroy();
      const wire = await RespWire.connect(respPort);
      const authOk = (await wire.command(['AUTH', 'web-attacker', creds.token])).toString() === '+OK\r\n';
      const respCommand = async (args: (string | Buffer)[]): Promise<Buffer> => {
        const reply = await wire.command(args);
        respSent += 1;
        if (reply.toString('latin1').startsWith('-NOPERM')) noperm += 1;
        // KEYS and SCAN list names: each is checked to be inside app1: below (an inside key may hold an
        // outside name, e.g. the HTTP tricks' "app1:/../../app2:secret-8"); their values are checked here.
        const listing = args[0] === 'KEYS' || args[0] === 'SCAN';
        inspect(reply, listing ? reply : Buffer.concat(args.slice(1).map((a) => (typeof a === 'string' ? b(a) : a))), `RESP ${String(args[0])}`);
        return reply;
      };
      for (let i = 0; i < outside.length; i += 8) {
        const chunk = outside.slice(i, i + 8);
        await respCommand(['MGET', 'app1:own-1', ...chunk]);
        await respCommand(['DEL', ...chunk]);
        await respCommand(['EXISTS', ...chunk]);
        for (const k of chunk.slice(0, 2)) {
          for (const args of [['GET', k], ['SET', k, 'pwned'], ['SET', k, 'pwned', 'GET'], ['GETDEL', k], ['GETEX', k, 'PX', '1'], ['INCR', k], ['EXPIRE', k, '1'], ['PERSIST', k], ['TTL', k], ['APPEND', k, 'x'], ['RENAME', k, 'app1:stolen'], ['COPY', k, 'app1:stolen'], ['MSET', 'app1:x', '1', k, '2']] as (string | Buffer)[][]) {
            await respCommand(args);
          }
        }
      }
      phase('resp keys/scan');
      for (const pattern of ['*', 'app*', '*secret*', '?pp2*', '[a-z]*', '\\a*']) {
        const keys = await respCommand(['KEYS', pattern]);
        for (const k of bulks(decodeReply(keys))) if (!isInside(k)) revealed += 1;
        let cursor = '0';
        for (let calls = 0; calls < 10_000; calls += 1) {
          const reply = decodeReply(await respCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']));
          if (reply.type !== '*' || reply.value === null) break;
          const [next, page] = reply.value;
          for (const k of page === undefined ? [] : bulks(page)) if (!isInside(k)) revealed += 1;
          cursor = next?.type === '$' && next.value !== null ? next.value.toString() : '0';
          if (cursor === '0') break;
        }
      }
      for (const args of [['FLUSHALL'], ['FLUSHDB'], ['DBSIZE'], ['RANDOMKEY'], ['INFO', 'keyspace'], ['CONFIG', 'SET', 'maxmemory', '1'], ['ACL', 'LOAD'], ['ACL', 'WHOAMI']]) await respCommand(args);
      wire.destroy();

      phase('end');
      // The end: stop the reloads and the healthy client; compare every outside key.
      stopReloads = true;
      await reloadsDone;
      await sleep(200);
      stopHealthy = true;
      await healthyDone;
      await attacker.health().catch(() => {});
      const after = await snapshot();
      const changed = after.filter((s, i) => s !== before[i]).length;
      const stats = (await admin.stats()) as { access?: { reloads?: number; reload_failures?: number; identities?: Record<string, { requests: number; forbidden: Record<string, number> }> } };
      const mine = stats.access?.identities?.attacker;
      const web = stats.access?.identities?.['web-attacker'];
      const rss1 = rssMiB(pid);
      const alive = server.child.exitCode === null;
      const attackerAlive = await attacker.health().then(
        () => true,
        () => false,
      );

      const reasons = (x: { forbidden: Record<string, number> } | undefined): string =>
        x === undefined ? 'n/a' : `read ${count(x.forbidden.read ?? 0)}, write ${count(x.forbidden.write ?? 0)}, admin ${count(x.forbidden.admin ?? 0)}, prefix ${count(x.forbidden.prefix ?? 0)}`;
      f.figure(
        `binary (secure mode, key limited to app1: read+write): ${count(binarySent)} requests (15 kinds on each of ${count(outside.length)} outside keys, LIST and whole SCANs with ${prefixes.length} prefixes, TRACKING "", FLUSH, SHUTDOWN, RELOAD, STATS; ` +
          `a flood of ${count(floodCount)} forbidden GET/SET/FLUSH in ${(floodMs / 1000).toFixed(1)} s), ${count(binaryForbidden)} FORBIDDEN; server's count for the key: ${reasons(mine)}`,
      );
      f.figure(
        `HTTP (token limited to app1:): ${count(httpSent)} requests (every route on outside keys, ${tricks.length} ../ and %-encoded paths sent unnormalised × ${routes.length} routes → ${[...trickStatuses].sort(([x], [y]) => x - y).map(([st, n]) => `${n} × ${st}`).join(', ')}; ${size.quick ? 50 : 500} token guesses): ${count(http403)} × 403, ${count(http401)} × 401; ` +
          `RESP: ${count(respSent)} commands (MGET/DEL/EXISTS/SET GET/RENAME/COPY/MSET with outside keys, KEYS and SCAN MATCH over 6 patterns, FLUSHALL, CONFIG, ACL LOAD, ${size.quick ? 50 : 500} AUTH guesses): ${count(noperm)} NOPERM, ${count(wrongpass)} WRONGPASS; server's count for the token: ${reasons(web)}`,
      );
      f.figure(
        `reloads during the attack: ${reloadsOk} (RELOAD and SIGHUP; server counted ${stats.access?.reloads ?? 'n/a'}), ${reloadsRefused} bad files refused (server counted ${stats.access?.reload_failures ?? 'n/a'}); the attacker's session ${attackerAlive ? 'kept' : 'LOST'}`,
      );
      f.figure(
        `outside keys: ${count(outside.length)}; changed ${changed}; names or values revealed ${revealed}${revealedWhat.length === 0 ? '' : ` (${revealedWhat.join('; ')})`}; ` +
          `healthy client ${count(healthyPairs)} SET+GET pairs, ${healthyErrors} errors; server RSS ${rss0.toFixed(1)} MiB before, ${rss1.toFixed(1)} MiB after; server ${alive ? 'alive' : 'exited'}`,
      );
      f.figure(`time: ${phases.join(', ')}`);
      f.expect(`no outside key changed (${changed} of ${outside.length})`, changed === 0);
      f.expect(`no outside name or value revealed (${revealed}${revealedWhat.length === 0 ? '' : `: ${revealedWhat.join('; ')}`})`, revealed === 0);
      f.expect(`the healthy client saw no error (${healthyErrors}${healthyErrorsSeen.length === 0 ? '' : `: ${healthyErrorsSeen.join('; ')}`}) over ${healthyPairs} pairs`, healthyErrors === 0 && healthyPairs > 0);
      f.expect(`FLUSH, SHUTDOWN and RELOAD refused (${adminRefused}/3); TRACKING "", app, app2:, app1 refused (${trackingForbidden}/4)`, adminRefused === 3 && trackingForbidden === 4);
      f.expect('STATS answered the key its own scoped counters', scopedOk);
      f.expect(`every outside-key request was refused: the flood's ${count(floodCount)} all FORBIDDEN (${count(binaryForbidden)} FORBIDDEN in all)`, binaryForbidden >= floodCount + outside.length * 15);
      f.expect(`the server counted the key's refusals (${reasons(mine)})`, mine !== undefined && Object.values(mine.forbidden).reduce((x, y) => x + y, 0) === binaryForbidden);
      f.expect(`every HTTP route on an outside key was 403 (${plainRefused} of ${plain.length * routes.length}) and every guess 401 (${http401})`, plainRefused === plain.length * routes.length && http401 === (size.quick ? 50 : 500));
      f.expect(`RESP: AUTH succeeded with the token (${authOk}), every guess WRONGPASS (${wrongpass})`, authOk && wrongpass === (size.quick ? 50 : 500));
      f.expect(`the reloads went through (${reloadsOk}) and the bad files were refused (${reloadsRefused})`, reloadsOk > 0 && reloadsRefused > 0 && stats.access?.reload_failures === reloadsRefused);
      f.expect("the attacker's session survived the reloads (its key was kept)", attackerAlive);
      f.expect('the server stays alive', alive);
      f.expect(`RSS grew by at most 128 MiB (${(rss1 - rss0).toFixed(1)} MiB)`, rss1 - rss0 <= 128);
    } finally {
      stopReloads = true;
      stopHealthy = true;
      await Promise.all([reloadsDone.catch(() => {}), healthyDone.catch(() => {})]);
      for (const c of clients) c.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
