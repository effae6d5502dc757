// Issue 23: conduit-server's RESP settings (--resp-port, --resp-host, --resp-socket,
// --resp-password; CONDUIT_RESP_*; resp_* in the --config file) and the refusals at start.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runServerToExit, startServerProcess, stopServer, type ServerProcess } from '../support/cli.js';
import { RespRaw } from '../support/resp-raw.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-cli-resp-'));
const key = `app:${randomBytes(32).toString('base64')}`;

/** The RESP port from the start line's `resp` field ("host:port"). */
function respPortOf(server: ServerProcess): number {
  const line = server.logs().find((l) => l.msg === 'conduit-server listening');
  return Number(String(line?.resp).split(':').at(-1));
}

/** Expects exit 1 with exactly one line on stderr, matching `message`. */
async function refused(args: string[], env: Record<string, string>, message: RegExp): Promise<void> {
  const { code, stderr } = await runServerToExit(args, env);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(message);
  expect(code).toBe(1);
}

describe('conduit-server --resp-port', () => {
  it('serves RESP on the port named in the start line, and drains on SIGTERM', { timeout: 20_000 }, async () => {
    const server = await startServerProcess(['--port', '0', '--resp-port', '0']);
    const line = server.logs().find((l) => l.msg === 'conduit-server listening');
    expect(line?.resp).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = await RespRaw.connect(respPortOf(server));
    c.write('SET a b\r\nGET a\r\n');
    await c.until('+OK\r\n$1\r\nb\r\n');
    expect(await stopServer(server)).toBe(0);
    await c.waitEnded();
  });

  it('reads CONDUIT_RESP_PORT and CONDUIT_RESP_PASSWORD, and never logs the password', { timeout: 20_000 }, async () => {
    const server = await startServerProcess(['--port', '0'], { env: { CONDUIT_RESP_PORT: '0', CONDUIT_RESP_PASSWORD: 'sesame-sesame' } });
    const line = server.logs().find((l) => l.msg === 'conduit-server listening');
    expect((line?.settings as Record<string, unknown>).respPassword).toBe('(set)');
    expect(server.stderr()).not.toContain('sesame-sesame');
    const c = await RespRaw.connect(respPortOf(server));
    c.write('GET a\r\nAUTH sesame-sesame\r\nPING\r\n');
    await c.until('-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n');
    expect(await stopServer(server)).toBe(0);
  });

  it('reads resp_port, resp_host, resp_socket and resp_password from the --config file', { timeout: 20_000 }, async () => {
    const file = join(dir, 'resp.toml');
    const socket = join(dir, 'resp.sock');
    writeFileSync(file, `resp_port = 0\nresp_host = "127.0.0.1"\nresp_socket = "${socket}"\nresp_password = "from-the-file"\n`);
    const server = await startServerProcess(['--port', '0', '--config', file]);
    const line = server.logs().find((l) => l.msg === 'conduit-server listening');
    expect(line?.respSocket).toBe(socket);
    for (const where of [respPortOf(server), socket]) {
      const c = await RespRaw.connect(where);
      c.write('AUTH from-the-file\r\nPING\r\n');
      await c.until('+OK\r\n+PONG\r\n');
    }
    expect(await stopServer(server)).toBe(0);
  });

  it('lists the RESP settings in --help', { timeout: 10_000 }, async () => {
    const { stdout, code } = await runServerToExit(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--resp-port <port>', '--resp-host <host>', '--resp-socket <path>', '--resp-password <password>']) expect(stdout).toContain(flag);
  });
});

describe('conduit-server refuses a RESP setting it cannot honour, in one line naming it', () => {
  it('a port that is not one', { timeout: 10_000 }, async () => {
    await refused(['--port', '0', '--resp-port', 'abc'], {}, /--resp-port must be a whole number, got 'abc'/);
    await refused(['--port', '0'], { CONDUIT_RESP_PORT: '70000' }, /CONDUIT_RESP_PORT must be an integer from 0 to 65535, got '70000'/);
  });

  it('the Conduit port twice', { timeout: 10_000 }, async () => {
    await refused(['--port', '7399', '--resp-port', '7399'], {}, /--resp-port must differ from --port, both are 7399/);
  });

  it('--resp-password without a RESP listener', { timeout: 10_000 }, async () => {
    await refused(['--port', '0', '--resp-password', 'x'], {}, /--resp-password needs --resp-port or --resp-socket/);
  });

  it('protected mode: a public --resp-host without --resp-password', { timeout: 10_000 }, async () => {
    await refused(['--port', '0', '--resp-port', '0', '--resp-host', '0.0.0.0'], {}, /refusing to serve RESP on 0\.0\.0\.0 \(--resp-port\): .*protected mode/);
  });

  it('protected mode is lifted by --resp-password', { timeout: 20_000 }, async () => {
    const server = await startServerProcess(['--port', '0', '--resp-port', '0', '--resp-host', '0.0.0.0', '--resp-password', 'lifted-by-this']);
    const c = await RespRaw.connect(respPortOf(server));
    c.write('AUTH lifted-by-this\r\n');
    await c.until('+OK\r\n');
    expect(await stopServer(server)).toBe(0);
  });

  it('secure mode: RESP without --resp-password or client certificates, even on loopback', { timeout: 10_000 }, async () => {
    await refused(['--port', '0', '--resp-port', '0'], { CONDUIT_KEY: key }, /refusing --resp-port: secure mode .*--resp-password/);
    await refused(['--port', '0', '--resp-port', '0', '--allow-insecure-public'], { CONDUIT_KEY: key }, /refusing --resp-port: secure mode/);
  });

  it('secure mode with --resp-password starts', { timeout: 20_000 }, async () => {
    const server = await startServerProcess(['--port', '0', '--resp-port', '0'], { env: { CONDUIT_KEY: key, CONDUIT_RESP_PASSWORD: 'secure-mode-pass' } });
    const c = await RespRaw.connect(respPortOf(server));
    c.write('PING\r\nAUTH secure-mode-pass\r\nPING\r\n');
    await c.until('-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n');
    expect(await stopServer(server)).toBe(0);
  });

  it('--workers above 1', { timeout: 10_000 }, async () => {
    await refused(['--port', '0', '--resp-port', '0', '--workers', '2'], {}, /--resp-port cannot be used with --workers 2/);
  });
});
