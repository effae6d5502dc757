// Regression tests for issue 15 item 3: the HTTP gateway answered any Host
// and any Origin, so a DNS-rebinding page (Host: attacker.example resolving to
// 127.0.0.1) had full read/write, and any page could POST .../incr cross-site.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConduitServer, ServerOptions } from '../../src/index.js';
import { runServerToExit, startServerProcess } from '../support/cli.js';
import { GATEWAY_MODES, startGateway, type GatewayMode } from '../support/gateway.js';

interface Reply {
  status: number;
  body: string;
}

/** One HTTP/1.1 request with exactly these headers (`host` included: node:http sends ours, not its own). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, setHost: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes and collects everything until the server closes (bounded by 5 s). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
    let reply = '';
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.on('error', () => {});
  });
}

/** The gateway in `mode` (both backends run these suites: the checks come before any request is run); `port` is its HTTP port. */
async function gateway(mode: GatewayMode, options: Partial<ServerOptions> = {}): Promise<{ port: number; server: ConduitServer }> {
  const { server, httpPort } = await startGateway(mode, options);
  return { port: httpPort, server };
}

const ROUTES: [string, string][] = [
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/v1/stats'],
  ['GET', '/v1/keys/k'],
  ['HEAD', '/v1/keys/k'],
  ['PUT', '/v1/keys/k'],
  ['DELETE', '/v1/keys/k'],
  ['POST', '/v1/keys/k/incr'],
  ['GET', '/v1/keys/k/ttl'],
  ['GET', '/no-such-route'],
];

describe.each(GATEWAY_MODES)('HTTP gateway refuses a Host it does not serve (DNS rebinding) (%s backend)', (mode) => {
    it('a rebinding Host gets 421 FORBIDDEN on every route, and nothing is read or written', async () => {
      const { port, server } = await gateway(mode);
      server.store.set(Buffer.from('k'), Buffer.from('41'), { ttlMs: 0, nx: false, xx: false, keepTtl: false });
      for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', '127.0.0.1.nip.io', '10.0.0.1']) {
        for (const [method, path] of ROUTES) {
          const reply = await send(port, method, path, { host, 'content-type': 'text/plain' }, method === 'PUT' ? 'overwritten' : undefined);
          expect([host, method, path, reply.status]).toEqual([host, method, path, 421]);
          if (method !== 'HEAD') expect(JSON.parse(reply.body)).toEqual({ error: 'FORBIDDEN', message: expect.stringContaining('--http-allowed-hosts') });
        }
      }
      expect(server.store.get(Buffer.from('k'))?.toString()).toBe('41');
    });

    it('malformed or empty Host headers get 421 too', async () => {
      const { port } = await gateway(mode);
      for (const host of ['', 'a b', '127.0.0.1:99999', '[::1', '[zz::1]:80', 'user@127.0.0.1', '::1']) {
        expect([host, (await send(port, 'GET', '/healthz', { host })).status]).toEqual([host, 421]);
      }
    });

    it('loopback literals and localhost are answered, any port, any case', async () => {
      const { port } = await gateway(mode);
      for (const host of [`127.0.0.1:${port}`, '127.0.0.1', '127.8.9.10:80', `localhost:${port}`, 'LocalHost', `[::1]:${port}`, '[::1]']) {
        expect([host, (await send(port, 'GET', '/healthz', { host })).status]).toEqual([host, 200]);
      }
    });

    it('names and addresses in httpAllowedHosts are answered; others still refused', async () => {
      const { port } = await gateway(mode, { httpAllowedHosts: ['cache.internal', '10.1.2.3', '[fd00::1]', 'Pod-IP.Example', 'FD00:0:0::2'] });
      for (const host of ['cache.internal', `cache.internal:${port}`, 'CACHE.INTERNAL', '10.1.2.3:7172', '[fd00::1]:7172', '[FD00:0::1]', '[fd00::2]', 'pod-ip.example']) {
        expect([host, (await send(port, 'GET', '/metrics', { host })).status]).toEqual([host, 200]);
      }
      for (const host of ['cache.internal.evil', '10.1.2.4', 'internal']) {
        expect([host, (await send(port, 'GET', '/metrics', { host })).status]).toEqual([host, 421]);
      }
    });

    it('a request without Host: HTTP/1.0 is answered (no browser sends it), HTTP/1.1 gets 400', async () => {
      const { port } = await gateway(mode);
      expect(await raw(port, 'GET /healthz HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nok\n$/);
      expect(await raw(port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    });

    it('httpAllowedHosts is validated with a message naming it', async () => {
      await expect(gateway(mode, { httpAllowedHosts: ['cache.internal:7172'] })).rejects.toThrow(/httpAllowedHosts option .* without a port, got 'cache.internal:7172'/);
      await expect(gateway(mode, { httpAllowedHosts: ['http://x'] })).rejects.toThrow(/httpAllowedHosts option/);
    });
});

describe.each(GATEWAY_MODES)('HTTP gateway refuses cross-origin requests (a browser page POSTing to it) (%s backend)', (mode) => {
    it('a simple cross-site POST .../incr with a foreign Origin gets 403 and does not count', async () => {
      const { port, server } = await gateway(mode);
      for (const origin of ['http://attacker.example', 'https://attacker.example', 'null', `http://localhost:${port + 1}`, `http://127.0.0.1:${port}.evil`, 'file://']) {
        const reply = await send(port, 'POST', '/v1/keys/hits/incr', { host: `127.0.0.1:${port}`, origin, 'content-type': 'text/plain' }, 'x');
        expect([origin, reply.status, JSON.parse(reply.body).error]).toEqual([origin, 403, 'FORBIDDEN']);
      }
      expect(server.store.get(Buffer.from('hits'))).toBeUndefined();
      const metrics = await send(port, 'GET', '/metrics', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' });
      expect(metrics.status).toBe(403);
    });

    it('a same-origin request (Origin equal to the Host it was sent to) is served; no Origin at all is served', async () => {
      const { port, server } = await gateway(mode, { httpAllowedHosts: ['cache.internal'] });
      const incr = (headers: Record<string, string>): Promise<Reply> => send(port, 'POST', '/v1/keys/hits/incr', headers);
      expect((await incr({ host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
      expect((await incr({ host: `localhost:${port}`, origin: `http://LOCALHOST:${port}` })).status).toBe(200);
      expect((await incr({ host: 'cache.internal', origin: 'https://cache.internal' })).status).toBe(200); // behind a TLS proxy
      expect((await incr({ host: 'cache.internal', origin: 'http://cache.internal:80' })).status).toBe(200);
      expect((await incr({ host: `127.0.0.1:${port}` })).status).toBe(200);
      expect((await incr({ host: `127.0.0.1:${port}`, origin: 'http://cache.internal' })).status).toBe(403); // allowed, but another origin
      expect(server.store.get(Buffer.from('hits'))?.toString()).toBe('5');
    });
});

describe.each(GATEWAY_MODES)('HTTP bearer scheme is case-insensitive (RFC 7235 §2.1) (%s backend)', (mode) => {
    it('bearer, BEARER and Bearer are accepted; another scheme or no space is AUTH_REQUIRED', async () => {
      const token = randomBytes(24).toString('base64url');
      const { port } = await gateway(mode, { keys: [{ id: 'app', secret: randomBytes(32) }], httpToken: token });
      const host = `127.0.0.1:${port}`;
      for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
        const reply = await send(port, 'PUT', '/v1/keys/k', { host, authorization: `${scheme} ${token}` }, 'v');
        expect([scheme, reply.status]).toEqual([scheme, 204]);
      }
      for (const authorization of [`Basic ${token}`, `Bearer${token}`, token]) {
        const reply = await send(port, 'GET', '/v1/keys/k', { host, authorization });
        expect([authorization, reply.status, JSON.parse(reply.body).error]).toEqual([authorization, 401, 'AUTH_REQUIRED']);
      }
      expect((await send(port, 'GET', '/v1/keys/k', { host, authorization: `bearer ${token}x` })).status).toBe(401);
    });
});

describe('conduit-server --http-allowed-hosts', () => {
  it('the flag, CONDUIT_HTTP_ALLOWED_HOSTS and the TOML http-allowed-hosts set the allowed hosts; a bad entry names the flag', async () => {
    const server = await startServerProcess(['--port', '0', '--http-port', '0', '--http-allowed-hosts', 'cache.internal, 10.1.2.3'], {
      env: { CONDUIT_HTTP_ALLOWED_HOSTS: 'ignored.example' },
    });
    const http = String(server.logs().find((l) => l.msg === 'conduit-server listening')?.http);
    const port = Number(http.split(':').at(-1));
    expect((await send(port, 'GET', '/healthz', { host: 'cache.internal' })).status).toBe(200);
    expect((await send(port, 'GET', '/healthz', { host: '10.1.2.3:80' })).status).toBe(200);
    expect((await send(port, 'GET', '/healthz', { host: 'ignored.example' })).status).toBe(421);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const env = await startServerProcess(['--port', '0', '--http-port', '0'], { env: { CONDUIT_HTTP_ALLOWED_HOSTS: 'from-env.example' } });
    const envPort = Number(String(env.logs().find((l) => l.msg === 'conduit-server listening')?.http).split(':').at(-1));
    expect((await send(envPort, 'GET', '/healthz', { host: 'from-env.example' })).status).toBe(200);
    env.child.kill('SIGTERM');
    expect((await env.exited).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'conduit-hosts-'));
    const config = join(dir, 'conduit.toml');
    writeFileSync(config, 'http-allowed-hosts = ["toml.example", "10.9.9.9"]\n');
    try {
      const fromFile = await startServerProcess(['--port', '0', '--http-port', '0', '--config', config]);
      const filePort = Number(String(fromFile.logs().find((l) => l.msg === 'conduit-server listening')?.http).split(':').at(-1));
      expect((await send(filePort, 'GET', '/healthz', { host: 'toml.example' })).status).toBe(200);
      expect((await send(filePort, 'GET', '/healthz', { host: '10.9.9.9' })).status).toBe(200);
      fromFile.child.kill('SIGTERM');
      expect((await fromFile.exited).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = await runServerToExit(['--port', '0', '--http-port', '0', '--http-allowed-hosts', 'cache.internal:7172']);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, expect.stringMatching(/^conduit-server: --http-allowed-hosts .*'cache\.internal:7172'$/)]);
  }, 30_000);
});
