// Issue 25 through the command line: `conduit-server --key-file` with rights (spec §3.17), SIGHUP
// reloads (spec §6.8), `conduit-cli admin reload` (RELOAD, spec §3.18), the start-up refusals and
// `--workers`. Real processes on 127.0.0.1, port 0.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, generateKey } from '../../src/index.js';
import { runCli, runServerToExit, startServerProcess, type ServerProcess } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-cli-access-'));
let files = 0;

/** The secrets of the ids the tests use; a test that changes one says so. */
const secrets = { ops: generateKey(), app1: generateKey(), app2: generateKey() } as const;

interface Entry {
  id: string;
  key?: string;
  prefixes?: string[];
  allow?: string[];
}

/** A key file of `[[keys]]` entries (each with its secret from {@link secrets} unless given), plus any raw TOML after. */
function keyFile(entries: Entry[], extra = ''): string {
  const path = join(dir, `keys-${++files}.toml`);
  writeKeyFile(path, entries, extra);
  return path;
}

function writeKeyFile(path: string, entries: Entry[], extra = ''): void {
  const toml = entries.map((e) => {
    const lines = ['[[keys]]', `id = "${e.id}"`, `key = "${e.key ?? secrets[e.id as keyof typeof secrets]}"`];
    if (e.prefixes !== undefined) lines.push(`prefixes = ${JSON.stringify(e.prefixes)}`);
    if (e.allow !== undefined) lines.push(`allow = ${JSON.stringify(e.allow)}`);
    return lines.join('\n');
  });
  writeFileSync(path, `${toml.join('\n\n')}\n${extra}`);
}

/** The usual table: `ops` may do everything, `app1` and `app2` read and write their own prefix. */
const TABLE: Entry[] = [
  { id: 'ops' },
  { id: 'app1', prefixes: ['app1:'], allow: ['read', 'write'] },
  { id: 'app2', prefixes: ['app2:'], allow: ['read', 'write'] },
];

const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => c.destroy())));
});

/** A connected client of key `id` (secret from {@link secrets}) that does not reconnect, so a closed session stays closed. */
async function clientOf(port: number, id: keyof typeof secrets): Promise<ConduitClient> {
  const c = new ConduitClient({ port, key: { id, secret: secrets[id] }, reconnect: false, requestTimeoutMs: 5_000 });
  c.on('error', () => {});
  clients.push(c);
  await c.connect();
  return c;
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The code a request rejects with. */
async function codeOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'OK';
  } catch (err) {
    return err instanceof ConduitError ? err.code : String(err);
  }
}

const reloads = (server: ServerProcess): Record<string, unknown>[] => server.logs().filter((l) => l.msg === 'access reloaded' || (typeof l.msg === 'string' && l.msg.startsWith('reload refused')));

/** Sends SIGHUP and waits for the reload's one log line (`count` lines in all so far). */
async function hangUp(server: ServerProcess, count: number): Promise<Record<string, unknown>> {
  server.child.kill('SIGHUP');
  await until(() => reloads(server).length >= count, 5_000, 'the reload log line');
  return reloads(server)[count - 1] ?? {};
}

const cli = (port: number, id: keyof typeof secrets, ...args: string[]) => runCli(['--port', String(port), ...args], '', { CONDUIT_KEY: `${id}:${secrets[id]}` });

describe('conduit-server --key-file with rights (issue 25)', () => {
  it('serves each key its prefixes and classes; the start-up line counts keys, tokens and certificates by id, never a secret', async () => {
    const path = keyFile(TABLE, '\n[[tokens]]\nid = "dashboard"\ntoken = "a-token-of-20-bytes!"\nallow = ["read"]\n');
    const server = await startServerProcess(['--port', '0', '--key-file', path]);
    const line = server.logs().find((l) => l.msg === 'conduit-server listening') ?? {};
    expect(line.access).toEqual({ keys: 3, tokens: 1, certificates: 0, keyIds: ['ops', 'app1', 'app2'], tokenIds: ['dashboard'], certificateIds: [], reloadable: true });
    expect(server.stderr()).not.toContain('a-token-of-20-bytes!');
    for (const secret of Object.values(secrets)) expect(server.stderr()).not.toContain(secret);
    const app1 = await clientOf(server.port, 'app1');
    expect(await app1.set('app1:x', 'mine')).toBe(true);
    expect(await codeOf(app1.set('app2:x', 'theirs'))).toBe('FORBIDDEN');
    expect(await codeOf(app1.flush())).toBe('FORBIDDEN');
    const ops = await clientOf(server.port, 'ops');
    expect((await ops.get('app1:x'))?.toString()).toBe('mine');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 20_000);

  it('SIGHUP reloads: new sessions get the new rights, a kept key keeps its session and rights, a removed key’s session is closed', async () => {
    const path = keyFile(TABLE);
    const server = await startServerProcess(['--port', '0', '--key-file', path]);
    const app1Before = await clientOf(server.port, 'app1');
    const app2Before = await clientOf(server.port, 'app2');
    expect(await app2Before.set('app2:x', '1')).toBe(true);
    // app1 becomes read-only; app2 goes.
    writeKeyFile(path, [{ id: 'ops' }, { id: 'app1', prefixes: ['app1:'], allow: ['read'] }]);
    const line = await hangUp(server, 1);
    expect(line).toMatchObject({ msg: 'access reloaded', keys: 2, tokens: 0, certificates: 0, closed: 1 });
    // The server kept running, and app2's session was closed (spec §6.8).
    expect(server.child.exitCode).toBe(null);
    expect(server.logs().some((l) => l.msg === 'closing connection' && l.cause === 'key_removed')).toBe(true);
    expect(await codeOf(app2Before.get('app2:x'))).not.toBe('OK');
    // app1's open session keeps the rights it authenticated with; a new one gets the new rights.
    expect(await app1Before.set('app1:still', 'writes')).toBe(true);
    const app1After = await clientOf(server.port, 'app1');
    expect(await codeOf(app1After.set('app1:y', 'no'))).toBe('FORBIDDEN');
    expect((await app1After.get('app1:still'))?.toString()).toBe('writes');
    // A HELLO naming the removed key is refused like any unknown key id.
    expect(await codeOf(clientOf(server.port, 'app2'))).toBe('AUTH_FAILED');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 20_000);

  it('a bad file on SIGHUP: exactly one log line, the old table stays, the server still serves', async () => {
    const path = keyFile(TABLE);
    const server = await startServerProcess(['--port', '0', '--key-file', path]);
    const app1 = await clientOf(server.port, 'app1');
    const before = server.logs().length;
    writeKeyFile(path, [{ id: 'ops' }, { id: 'app1', prefixes: ['app1:'], allow: ['read', 'rw'] }]);
    const line = await hangUp(server, 1);
    expect(line.msg).toBe('reload refused: the previous keys and rights stay');
    expect(String(line.error)).toContain(path);
    expect(String(line.error)).toContain('keys[1]');
    await new Promise((r) => setTimeout(r, 100)); // nothing else follows it
    expect(server.logs().slice(before)).toHaveLength(1);
    expect(server.child.exitCode).toBe(null);
    // Old table: app1 still writes in a new session, app2 still connects.
    expect(await app1.set('app1:a', '1')).toBe(true);
    const again = await clientOf(server.port, 'app1');
    expect(await again.set('app1:b', '2')).toBe(true);
    expect(await (await clientOf(server.port, 'app2')).set('app2:c', '3')).toBe(true);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 20_000);

  it('conduit-cli admin reload: OK with the counts, refused (exit 1, the reason), FORBIDDEN for a key without admin (exit 1)', async () => {
    const path = keyFile(TABLE);
    const server = await startServerProcess(['--port', '0', '--key-file', path]);
    const app2 = await clientOf(server.port, 'app2');
    writeKeyFile(path, [{ id: 'ops' }, { id: 'app1', prefixes: ['app1:'], allow: ['read', 'write'] }], '\n[[tokens]]\nid = "dashboard"\ntoken = "a-token-of-20-bytes!"\n');
    const ok = await cli(server.port, 'ops', 'admin', 'reload');
    expect(ok.stderr).toBe('');
    expect(ok.stdout.toString()).toBe('reloaded: 2 keys, 1 token, 0 certificates; closed 1 session\n');
    expect(ok.code).toBe(0);
    expect(await codeOf(app2.get('app2:x'))).not.toBe('OK');

    writeFileSync(path, 'not [ toml');
    const refused = await cli(server.port, 'ops', 'admin', 'reload');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^reload refused: .*cannot read key file /);
    expect(refused.stderr).toContain(path);

    const forbidden = await cli(server.port, 'app1', 'admin', 'reload');
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr.trim().split('\n')).toHaveLength(1);
    expect(forbidden.stderr).toContain('FORBIDDEN');
    expect(forbidden.stderr).toContain("key 'app1' may not admin");
    // Neither of them changed anything: the last table stays (app1 still writes).
    expect(await (await clientOf(server.port, 'app1')).set('app1:z', '1')).toBe(true);

    const help = await runCli(['admin', '--help']);
    expect(help.stdout.toString()).toContain('reload');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 30_000);

  it('SIGHUP without --key-file still stops the server (a closed terminal), CONDUIT_KEY or not', async () => {
    const server = await startServerProcess(['--port', '0'], { env: { CONDUIT_KEY: `ops:${secrets.ops}` } });
    server.child.kill('SIGHUP');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs().find((l) => l.msg === 'shutting down: draining connections')?.reason).toBe('SIGHUP');
  }, 20_000);

  it('CONDUIT_KEY joins the file with every right, and is kept by a reload; the same id in both is refused naming both', async () => {
    const extra = generateKey();
    const path = keyFile([{ id: 'app1', prefixes: ['app1:'], allow: ['read', 'write'] }]);
    const server = await startServerProcess(['--port', '0', '--key-file', path], { env: { CONDUIT_KEY: `boss:${extra}` } });
    const reload = await runCli(['--port', String(server.port), 'admin', 'reload'], '', { CONDUIT_KEY: `boss:${extra}` });
    expect(reload.stdout.toString()).toBe('reloaded: 2 keys, 0 tokens, 0 certificates; closed 0 sessions\n');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const clash = await runServerToExit(['--port', '0', '--key-file', path], { CONDUIT_KEY: `app1:${extra}` });
    expect(clash.code).toBe(1);
    expect(clash.stderr.trim().split('\n')).toHaveLength(1);
    expect(clash.stderr).toContain('CONDUIT_KEY');
    expect(clash.stderr).toContain(path);
    expect(clash.stderr).toContain("'app1'");
  }, 20_000);

  describe('start refusals: one line naming the file', () => {
    const cases: [string, () => string, RegExp][] = [
      ['an unknown class in allow', () => keyFile([{ id: 'app1', allow: ['read', 'rw'] }]), /keys\[0\]: allow has "rw"/],
      ['an unknown field', () => keyFile([{ id: 'app1' }], 'prefix = ["app1:"]\n'), /keys\[0\]: unknown field 'prefix'/],
      ['a reserved id', () => keyFile([{ id: 'default', key: generateKey() }]), /keys\[0\]: id 'default' is reserved/],
      ['[[certificates]] without --tls-client-auth', () => keyFile([{ id: 'ops' }], '\n[[certificates]]\nid = "batch"\nsubject = "batch.internal"\n'), /\[\[certificates\]\] need --tls-client-auth/],
    ];
    for (const [what, make, message] of cases) {
      it(what, async () => {
        const path = make();
        const { code, stderr } = await runServerToExit(['--port', '0', '--key-file', path]);
        expect(stderr.trim().split('\n')).toHaveLength(1);
        expect(stderr).toContain(path);
        expect(stderr).toMatch(message);
        expect(code).toBe(1);
      }, 20_000);
    }
  });

  it('--workers with --http-port needs a key of every right for the primary’s gateway: refused in one line naming the file', async () => {
    const path = keyFile([{ id: 'app1', prefixes: ['app1:'] }]);
    const { code, stderr } = await runServerToExit(['--port', '0', '--workers', '2', '--http-port', '0', '--key-file', path]);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(path);
    expect(stderr).toMatch(/add a key without them \(or set CONDUIT_KEY\)/);
    expect(code).toBe(1);
  }, 20_000);

  it('protected mode: [[tokens]] are the credential a public HTTP host needs', async () => {
    const path = join(dir, `tokens-${++files}.toml`);
    writeFileSync(path, '[[tokens]]\nid = "dashboard"\ntoken = "a-token-of-20-bytes!"\n');
    // 0.0.0.0 is not loopback: without a token it is refused, with [[tokens]] it is not.
    const bare = await runServerToExit(['--port', '0', '--http-port', '0', '--http-host', '0.0.0.0']);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('refusing to serve HTTP');
    const server = await startServerProcess(['--port', '0', '--http-port', '0', '--http-host', '0.0.0.0', '--key-file', path]);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 20_000);

  it('protected mode: [[tokens]] are RESP users, the credential the RESP port needs in secure mode (like --resp-password)', async () => {
    const keysOnly = keyFile([{ id: 'ops' }]);
    const bare = await runServerToExit(['--port', '0', '--resp-port', '0', '--key-file', keysOnly]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/needs --resp-password \(CONDUIT_RESP_PASSWORD\), \[\[tokens\]\] in --key-file or client certificates/);
    const withTokens = keyFile([{ id: 'ops' }], '\n[[tokens]]\nid = "dashboard"\ntoken = "a-token-of-20-bytes!"\n');
    const server = await startServerProcess(['--port', '0', '--resp-port', '0', '--key-file', withTokens]);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 20_000);

  it('--workers 2: the primary relays SIGHUP to every worker and reloads its own gateway; all keep serving', async () => {
    const path = keyFile(TABLE);
    const server = await startServerProcess(['--port', '0', '--workers', '2', '--http-port', '0', '--key-file', path], { timeoutMs: 20_000 });
    const start = server.logs().find((l) => l.msg === 'conduit-server listening') ?? {};
    const workers = (start.workers ?? []) as { worker: number; pid: number; address: string }[];
    expect(workers).toHaveLength(2);
    const http = `http://${String(start.http)}/v1/keys/app1:h`;
    try {
      // Secure mode and no token yet: the gateway's data routes are closed.
      expect((await fetch(http)).status).toBe(403);
      writeKeyFile(path, [{ id: 'ops' }, { id: 'app1', prefixes: ['app1:'], allow: ['read'] }], '\n[[tokens]]\nid = "dashboard"\ntoken = "a-token-of-20-bytes!"\nallow = ["read"]\n');
      server.child.kill('SIGHUP');
      const reloaded = (): Record<string, unknown>[] => server.logs().filter((l) => l.msg === 'access reloaded');
      await until(() => reloaded().length >= 3, 10_000, 'three reload lines');
      expect(reloaded().map((l) => l.worker ?? 'primary').sort()).toEqual([0, 1, 'primary']);
      for (const l of reloaded()) expect(l).toMatchObject({ keys: 2, tokens: 1, certificates: 0 });
      expect(server.child.exitCode).toBe(null);
      // The primary's gateway reloaded its own table: the token is now required, and a read-only one.
      expect((await fetch(http)).status).toBe(401);
      expect((await fetch(http, { headers: { authorization: 'Bearer a-token-of-20-bytes!' } })).status).toBe(404);
      expect((await fetch(http, { method: 'PUT', body: 'v', headers: { authorization: 'Bearer a-token-of-20-bytes!' } })).status).toBe(403);
      // Each worker serves with the new table: a new app1 session may no longer write.
      for (const w of workers) {
        const port = Number(w.address.split(':').at(-1));
        const c = new ConduitClient({ port, key: { id: 'app1', secret: secrets.app1 }, reconnect: false });
        c.on('error', () => {});
        clients.push(c);
        await c.connect();
        expect(await codeOf(c.set('app1:k', 'v'))).toBe('FORBIDDEN');
      }
    } finally {
      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(0);
      for (const w of workers) {
        try {
          process.kill(w.pid, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    }
  }, 40_000);
});
