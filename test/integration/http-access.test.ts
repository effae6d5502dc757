// Issue 25 over HTTP (spec §3.17): bearer tokens with rights. Every key route × the class it needs ×
// a key inside or outside the token's prefixes answers 2xx or 403 FORBIDDEN naming the class or the
// prefix rule; /v1/stats is the server's for admin and the token's own for read; refusals are counted
// per identity and in conduit_forbidden_total; a reload applies from the next request, keep-alive or not.
import { Agent, request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/config/logger.js';
import { ForwardingBackend, gatewayAccess } from '../../src/http/forwarding.js';
import { ForwardingMetrics } from '../../src/http/gateway-metrics.js';
import { HttpGateway } from '../../src/http/gateway.js';
import type { AccessToken } from '../../src/crypto/keys.js';
import { parseAccessRule, type AccessClass } from '../../src/protocol/access.js';
import type { AccessConfig } from '../../src/server/access/access-table.js';
import { forwardingClient } from '../support/gateway.js';
import { startServer } from '../support/server.js';

const ADMIN = randomBytes(24).toString('base64url'); // --http-token: every right, id http-token

/** A `[[tokens]]` entry limited to `prefixes` (null: every key) and `allow`. */
function token(id: string, allow: readonly AccessClass[], prefixes: readonly string[] | null = ['app1:']): AccessToken {
  return { id, token: `${id}-${randomBytes(12).toString('base64url')}`, rule: parseAccessRule({ prefixes: prefixes ?? undefined, allow }, `tokens.${id}`) };
}

/** The tokens of the table below: the data classes on `app1:`, and admin with or without read on every key. */
const TOKENS: readonly AccessToken[] = [
  token('rw', ['read', 'write']),
  token('ro', ['read']),
  token('wo', ['write']),
  token('ops', ['admin'], null),
  token('audit', ['read', 'admin'], null),
];

function tokenOf(id: string): string {
  const found = TOKENS.find((t) => t.id === id);
  if (found === undefined) throw new Error(`no token ${id}`);
  return found.token;
}

const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

/** One HTTP answer: the status and the JSON body (or the text). */
async function answer(url: string, init: RequestInit = {}): Promise<[number, unknown]> {
  const res = await fetch(url, init);
  const text = await res.text();
  return [res.status, res.headers.get('content-type')?.startsWith('application/json') === true ? JSON.parse(text) : text];
}

/** The value of one series of `conduit_forbidden_total` in a /metrics text (0 when absent). */
function forbiddenMetric(text: string, id: string, reason: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`conduit_forbidden_total{key_id="${id}",reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** One key route: what it sends, the class it needs (spec §3.17), and the status it answers when it runs. */
interface Route {
  readonly name: string;
  readonly needs: AccessClass;
  readonly ok: number;
  send(base: string, key: string, headers: Record<string, string>): Promise<Response>;
}

const ROUTES: readonly Route[] = [
  { name: 'GET', needs: 'read', ok: 200, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { headers: h }) },
  { name: 'HEAD', needs: 'read', ok: 200, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { method: 'HEAD', headers: h }) },
  { name: 'GET …/ttl', needs: 'read', ok: 200, send: (b, k, h) => fetch(`${b}/v1/keys/${k}/ttl`, { headers: h }) },
  { name: 'PUT', needs: 'write', ok: 204, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { method: 'PUT', body: '7', headers: h }) },
  // If-Match reads the version first; the route still needs write only.
  { name: 'PUT If-Match', needs: 'write', ok: 204, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { method: 'PUT', body: '7', headers: { ...h, 'if-match': '*' } }) },
  { name: 'DELETE', needs: 'write', ok: 204, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { method: 'DELETE', headers: h }) },
  { name: 'DELETE If-Match', needs: 'write', ok: 204, send: (b, k, h) => fetch(`${b}/v1/keys/${k}`, { method: 'DELETE', headers: { ...h, 'if-match': '*' } }) },
  { name: 'POST …/incr', needs: 'write', ok: 200, send: (b, k, h) => fetch(`${b}/v1/keys/${k}/incr?by=2`, { method: 'POST', headers: h }) },
];

/** What token `t` is answered on a key inside (`app1:`) or outside (`app2:`) its prefixes: the status and, for a 403, the message. */
function expected(t: AccessToken, route: Route, inside: boolean): [number, string | undefined] {
  const allow = (['read', 'write', 'admin'] as const).filter((c) => t.rule.allow.has(c));
  if (!t.rule.allow.has(route.needs)) return [403, `token '${t.id}' may not ${route.needs} (allow: ${allow.length === 0 ? 'nothing' : allow.join(', ')})`];
  if (!inside && t.rule.prefixes !== undefined) return [403, `token '${t.id}' may only touch keys starting with "app1:"`];
  return [route.ok, undefined];
}

describe('HTTP tokens with rights (issue 25, spec §3.17)', () => {
  it('every key route × token × key inside or outside its prefixes: 2xx, or 403 FORBIDDEN naming the class or the prefix; a refusal changes nothing', async () => {
    const { server, httpPort } = await startServer({ httpPort: 0, httpToken: ADMIN, tokens: TOKENS });
    const base = `http://127.0.0.1:${httpPort ?? 0}`;
    const seed = async (key: string): Promise<void> => {
      expect((await fetch(`${base}/v1/keys/${key}`, { method: 'PUT', body: '5', headers: bearer(ADMIN) })).status).toBe(204);
    };
    const read = async (key: string): Promise<string> => (await fetch(`${base}/v1/keys/${key}`, { headers: bearer(ADMIN) })).text();
    let cases = 0;
    for (const t of TOKENS) {
      for (const route of ROUTES) {
        for (const inside of [true, false]) {
          const key = inside ? 'app1:k' : 'app2:k';
          await seed(key);
          const res = await route.send(base, key, bearer(t.token));
          const [status, message] = expected(t, route, inside);
          const body = route.name === 'HEAD' || res.status === 204 ? undefined : await res.text();
          expect([route.name, t.id, key, res.status], body).toEqual([route.name, t.id, key, status]);
          if (message !== undefined && route.name !== 'HEAD') expect(JSON.parse(body ?? '')).toEqual({ error: 'FORBIDDEN', message });
          if (status === 403) expect(await read(key)).toBe('5'); // refused before it ran: the value is as seeded
          cases += 1;
        }
      }
    }
    expect(cases).toBe(TOKENS.length * ROUTES.length * 2);

    // Each identity's counters (STATS access.identities): every request it sent, its refusals by reason.
    const identities = server.access.toJSON().identities as Record<string, { requests: number; forbidden: Record<string, number> }>;
    expect(identities.ro?.requests).toBe(ROUTES.length * 2);
    expect(identities.ro?.forbidden).toEqual({ read: 0, write: 10, admin: 0, prefix: 3 });
    expect(identities.wo?.forbidden).toEqual({ read: 6, write: 0, admin: 0, prefix: 5 });
    expect(identities.rw?.forbidden).toEqual({ read: 0, write: 0, admin: 0, prefix: 8 });
    expect(identities.ops?.forbidden).toEqual({ read: 6, write: 10, admin: 0, prefix: 0 });
    expect(identities.audit?.forbidden).toEqual({ read: 0, write: 10, admin: 0, prefix: 0 });
    expect(identities['http-token']?.forbidden).toEqual({ read: 0, write: 0, admin: 0, prefix: 0 });
  });

  it('counts each identity\'s hits, misses and sets; refusals are FORBIDDEN in conduit_requests_total and in conduit_forbidden_total', async () => {
    const { server, httpPort } = await startServer({ httpPort: 0, httpToken: ADMIN, tokens: TOKENS });
    const base = `http://127.0.0.1:${httpPort ?? 0}`;
    const rw = bearer(tokenOf('rw'));
    expect((await fetch(`${base}/v1/keys/app1:a`, { method: 'PUT', body: '1', headers: rw })).status).toBe(204);
    expect((await fetch(`${base}/v1/keys/app1:a/incr`, { method: 'POST', headers: rw })).status).toBe(200);
    expect((await fetch(`${base}/v1/keys/app1:a`, { headers: rw })).status).toBe(200);
    expect((await fetch(`${base}/v1/keys/app1:a`, { method: 'HEAD', headers: rw })).status).toBe(200);
    expect((await fetch(`${base}/v1/keys/app1:none`, { headers: rw })).status).toBe(404);
    expect((await fetch(`${base}/v1/keys/app1:a`, { method: 'PUT', body: '1', headers: { ...rw, 'if-match': '"123456789"' } })).status).toBe(412); // not stored
    expect((await fetch(`${base}/v1/keys/app2:a`, { headers: rw })).status).toBe(403);
    expect((await fetch(`${base}/v1/keys/app1:a`, { method: 'DELETE', headers: bearer(tokenOf('ro')) })).status).toBe(403);
    const counted = (server.access.toJSON().identities as Record<string, unknown>).rw;
    expect(counted).toEqual({ requests: 7, keyspace_hits: 2, keyspace_misses: 1, total_sets: 2, forbidden: { read: 0, write: 0, admin: 0, prefix: 1 } });

    const metrics = await (await fetch(`${base}/metrics`)).text(); // unauthenticated, as before
    expect(metrics).toMatch(/^conduit_requests_total\{opcode="GET",status="FORBIDDEN"\} 1$/m);
    expect(metrics).toMatch(/^conduit_requests_total\{opcode="DELETE",status="FORBIDDEN"\} 1$/m);
    expect(forbiddenMetric(metrics, 'rw', 'prefix')).toBe(1);
    expect(forbiddenMetric(metrics, 'ro', 'write')).toBe(1);
  });

  it('/v1/stats needs read or admin: the server\'s STATS for --http-token and the admin tokens, the token\'s own for read only, 403 without either', async () => {
    const { httpPort } = await startServer({ httpPort: 0, httpToken: ADMIN, tokens: TOKENS });
    const base = `http://127.0.0.1:${httpPort ?? 0}`;
    await fetch(`${base}/v1/keys/app1:x`, { headers: bearer(tokenOf('ro')) }); // a miss
    for (const secret of [ADMIN, tokenOf('audit'), tokenOf('ops')]) {
      const [status, stats] = await answer(`${base}/v1/stats`, { headers: bearer(secret) });
      expect(status).toBe(200);
      expect(stats).toHaveProperty('max_value_size');
      expect(stats).toHaveProperty('access.identities.ro'); // every identity's counters (spec §5.2)
      expect(stats).not.toHaveProperty('scope');
    }
    const [status, scoped] = await answer(`${base}/v1/stats`, { headers: bearer(tokenOf('ro')) });
    expect(status).toBe(200);
    expect(scoped).toEqual({
      scope: 'identity',
      key_id: 'ro',
      kind: 'token',
      prefixes: ['app1:'],
      allow: ['read'],
      requests: 2,
      keyspace_hits: 0,
      keyspace_misses: 1,
      total_sets: 0,
      forbidden: { read: 0, write: 0, admin: 0, prefix: 0 },
    });
    expect(await answer(`${base}/v1/stats`, { headers: bearer(tokenOf('wo')) })).toEqual([403, { error: 'FORBIDDEN', message: "token 'wo' may not read (allow: write)" }]);
  });

  it('401 without a token or for a wrong one; probes and /metrics need none', async () => {
    const { httpPort } = await startServer({ httpPort: 0, tokens: TOKENS }); // [[tokens]] alone make the data routes need one
    const base = `http://127.0.0.1:${httpPort ?? 0}`;
    const missing = await fetch(`${base}/v1/keys/app1:k`);
    expect([missing.status, missing.headers.get('www-authenticate'), ((await missing.json()) as { error: string }).error]).toEqual([401, 'Bearer', 'AUTH_REQUIRED']);
    expect(await answer(`${base}/v1/keys/app1:k`, { headers: bearer(`${tokenOf('rw')}x`) })).toEqual([401, { error: 'AUTH_FAILED', message: 'wrong token' }]);
    expect(await answer(`${base}/v1/stats`, { headers: bearer(ADMIN) })).toEqual([401, { error: 'AUTH_FAILED', message: 'wrong token' }]); // no --http-token here
    for (const open of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${base}${open}`)).status).toBe(200);
  });

  it('secure mode without any token: the data routes answer 403 naming --http-token and [[tokens]]', async () => {
    const { httpPort } = await startServer({ httpPort: 0, keys: [{ id: 'app', secret: randomBytes(32) }] });
    expect(await answer(`http://127.0.0.1:${httpPort ?? 0}/v1/keys/k`)).toEqual([
      403,
      { error: 'FORBIDDEN', message: 'the server is in secure mode: data routes need --http-token or a [[tokens]] entry in --key-file' },
    ]);
  });

  it('a reload applies from the next request on one keep-alive connection: new rights at once, a removed token 401', async () => {
    const { server, httpPort } = await startServer({ httpPort: 0, httpToken: ADMIN, tokens: TOKENS });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      /** One request on the agent's one connection: its status, its body, and whether it reused the connection. */
      const send = (method: string, path: string, secret: string, body?: string): Promise<[number, string, boolean]> =>
        new Promise((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: httpPort, method, path, agent, headers: bearer(secret) }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve([res.statusCode ?? 0, text, req.reusedSocket]));
          });
          req.on('error', reject);
          req.end(body);
        });
      const ro = tokenOf('ro');
      expect((await send('PUT', '/v1/keys/app2:k', ro, 'v'))[0]).toBe(403);
      expect((await send('GET', '/v1/keys/app1:k', tokenOf('wo')))[0]).toBe(403);

      // ro may now write, on app1: and app2:; wo is gone.
      const next: AccessConfig = {
        keys: [],
        tokens: [
          { id: 'ro', token: ro, rule: parseAccessRule({ prefixes: ['app1:', 'app2:'], allow: ['read', 'write'] }, 'tokens.ro') },
          ...TOKENS.filter((t) => t.id !== 'ro' && t.id !== 'wo'),
        ],
        certificates: [],
      };
      expect(server.access.reload(next)).toEqual({ ok: true, keys: 0, tokens: TOKENS.length - 1, certificates: 0, closed: 0 });
      expect(await send('PUT', '/v1/keys/app2:k', ro, 'v')).toEqual([204, '', true]);
      expect(await send('GET', '/v1/keys/app2:k', ro)).toEqual([200, 'v', true]);
      const [status, text, reused] = await send('GET', '/v1/keys/app1:k', tokenOf('wo'));
      expect([status, JSON.parse(text), reused]).toEqual([401, { error: 'AUTH_FAILED', message: 'wrong token' }, true]);
      // A refused reload keeps the table: ro still writes.
      expect(server.access.reload({ keys: [{ id: 'k', secret: randomBytes(32) }], tokens: [], certificates: [] }).ok).toBe(false);
      expect((await send('DELETE', '/v1/keys/app2:k', ro))[0]).toBe(204);
    } finally {
      agent.destroy();
    }
  });
});

describe('the forwarding gateway (the --workers primary) with an access control of its own', () => {
  it('checks tokens before forwarding, scopes /v1/stats, counts conduit_forbidden_total in its own metrics, and reloads', async () => {
    const { server, port } = await startServer(); // a worker: plaintext, every right for the primary's client
    const config: AccessConfig = { keys: [], tokens: TOKENS, certificates: [] };
    const access = gatewayAccess(config, { httpToken: ADMIN, logger: silentLogger, load: undefined });
    const metrics = new ForwardingMetrics({ access });
    const gateway = new HttpGateway(new ForwardingBackend(forwardingClient({ port })), metrics, {
      host: '127.0.0.1',
      port: 0,
      token: undefined,
      access,
      secure: false,
      bodyTimeoutMs: 10_000,
      maxValueSize: 1024 * 1024,
    });
    const base = `http://127.0.0.1:${(await gateway.listen()).port}`;
    try {
      const rw = bearer(tokenOf('rw'));
      expect((await fetch(`${base}/v1/keys/app1:k`, { method: 'PUT', body: 'v', headers: rw })).status).toBe(204);
      expect(await answer(`${base}/v1/keys/app2:k`, { method: 'PUT', body: 'v', headers: rw })).toEqual([
        403,
        { error: 'FORBIDDEN', message: `token 'rw' may only touch keys starting with "app1:"` },
      ]);
      expect(server.store.get(Buffer.from('app2:k'))).toBeUndefined(); // never forwarded
      expect(await answer(`${base}/v1/keys/app1:k`, { method: 'DELETE', headers: bearer(tokenOf('ro')) })).toEqual([
        403,
        { error: 'FORBIDDEN', message: "token 'ro' may not write (allow: read)" },
      ]);
      expect((await answer(`${base}/v1/stats`, { headers: bearer(tokenOf('ro')) }))[1]).toMatchObject({ scope: 'identity', key_id: 'ro', requests: 2 });
      expect((await answer(`${base}/v1/stats`, { headers: bearer(ADMIN) }))[1]).toHaveProperty('max_value_size'); // the worker's

      const text = await (await fetch(`${base}/metrics`)).text();
      expect(forbiddenMetric(text, 'rw', 'prefix')).toBe(1);
      expect(forbiddenMetric(text, 'ro', 'write')).toBe(1);
      expect(text).toMatch(/^conduit_requests_total\{opcode="SET",status="FORBIDDEN"\} 1$/m);

      expect(access.reload({ ...config, tokens: TOKENS.filter((t) => t.id !== 'rw') }).ok).toBe(true);
      expect(await answer(`${base}/v1/keys/app1:k`, { headers: rw })).toEqual([401, { error: 'AUTH_FAILED', message: 'wrong token' }]);
    } finally {
      await gateway.close();
    }
  });
});
