import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { nodeFlagsOf, runServerToExit, serverBin, startServerProcess, alive } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';

const b = (s: string): Buffer => Buffer.from(s);

/** Polls `check` every 10 ms until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const req = (id: bigint, r: Request): Buffer => Buffer.concat(encodeRequest(id, r));

describe('conduit-server command', () => {
  it('starts with no configuration, serves, and exits 0 on SIGTERM', async () => {
    const server = await startServerProcess([], { env: { CONDUIT_PORT: '0' } });
    const c = await RawClient.connect(server.port);
    c.write([
      req(1n, { op: 'SET', key: b('greeting'), value: b('hello'), ttlMs: 0, nx: false, xx: false, keepTtl: false }),
      req(2n, { op: 'GET', key: b('greeting') }),
    ]);
    await c.waitFrames(2);
    expect(c.frames[1]?.body.toString()).toBe('hello');
    c.destroy();
    const start = server.logs().find((l) => l.msg === 'conduit-server listening');
    expect(start).toMatchObject({ version: expect.any(String), settings: { maxMemory: 64 * 1024 * 1024, shards: 16 } });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  /** A peer that never ends its side on its own keeps the drain going (up to --frame-timeout). */
  const halfOpenPeer = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s)).once('error', reject);
      s.on('error', () => {});
      s.resume();
    });

  it('the tests and `just chaos` start it with the Node flags of its first line, as the shipped bin runs', async () => {
    const server = await startServerProcess(['--port', '0']);
    const argv = readFileSync(`/proc/${server.child.pid}/cmdline`, 'latin1').split('\0');
    const flags = nodeFlagsOf(serverBin);
    expect(flags).toContain('--max-semi-space-size=1');
    expect(argv.slice(1, 1 + flags.length + 1)).toEqual([...flags, serverBin]);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('a stop signal repeated at once (npx and Ctrl-C deliver it twice) is ignored: the drain goes on, exit 0', async () => {
    const server = await startServerProcess(['--port', '0', '--frame-timeout', '5s']);
    const peer = await halfOpenPeer(server.port);
    server.child.kill('SIGTERM');
    await until(() => server.logs().some((l) => l.msg === 'shutting down: draining connections'), 3_000);
    server.child.kill('SIGTERM'); // well within 1 s of the first, while the peer holds the drain open
    await new Promise((r) => setTimeout(r, 200));
    expect(server.child.exitCode).toBe(null);
    peer.end();
    expect((await server.exited).code).toBe(0);
    expect(server.logs().some((l) => l.msg === 'second stop request: exiting at once')).toBe(false);
    peer.destroy();
  });

  it('a second stop request more than a second later exits at once with code 1', async () => {
    const server = await startServerProcess(['--port', '0', '--frame-timeout', '5s']);
    const peer = await halfOpenPeer(server.port);
    server.child.kill('SIGTERM');
    await until(() => server.logs().some((l) => l.msg === 'shutting down: draining connections'), 3_000);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(server.child.exitCode).toBe(null);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(1);
    expect(server.logs().some((l) => l.msg === 'second stop request: exiting at once')).toBe(true);
    peer.destroy();
  });

  it('SIGHUP (a closed terminal) drains like SIGTERM: logged, requests answered, exit 0', async () => {
    const server = await startServerProcess(['--port', '0']);
    const c = await RawClient.connect(server.port);
    c.write(req(1n, { op: 'HEALTH' }));
    await c.waitFrames(1);
    server.child.kill('SIGHUP');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs().find((l) => l.msg === 'shutting down: draining connections')?.reason).toBe('SIGHUP');
    expect(server.logs().some((l) => l.msg === 'shutdown complete')).toBe(true);
    c.destroy();
  });

  it('started by npm (npx runs it under sh -c), a SIGTERM that kills only the shell still drains the server: no orphan', async () => {
    // What `kill <npx pid>` leaves: npm forwards SIGTERM to its `sh -c`, which dies without passing it on.
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${serverBin}" --port 0; exit $?`], {
      env: { ...process.env, npm_lifecycle_event: 'npx' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    shell.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const logs = (): Record<string, unknown>[] => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    try {
      await until(() => logs().some((l) => l.msg === 'conduit-server listening'), 10_000);
      const pid = Number(logs().find((l) => l.msg === 'conduit-server listening')?.pid);
      expect(pid).not.toBe(shell.pid);
      shell.kill('SIGTERM');
      await until(() => logs().some((l) => l.msg === 'shutdown complete'), 10_000);
      expect(logs().find((l) => l.msg === 'shutting down: draining connections')?.reason).toBe('parent process exited');
      await until(() => !alive(pid), 5_000);
    } finally {
      for (const l of logs()) if (l.msg === 'conduit-server listening' && alive(Number(l.pid))) process.kill(Number(l.pid), 'SIGKILL');
      shell.kill('SIGKILL');
    }
  });

  // Regression: SIGHUP (or SIGKILL) to npx's pid ended npm but not its `sh -c`, so the server's
  // parent stayed alive, nothing was noticed, and the server ran on holding the port.
  for (const signal of ['SIGHUP', 'SIGKILL'] as const) {
    it(`started by npx, a ${signal} that ends only npm (its sh -c lives on) still drains the server: exit 0, no orphan`, async () => {
      // npm → sh → server, as npx runs it: the outer sh stands in for npm, the inner one is npx's `sh -c`,
      // which reports the server's exit status since nobody else is left to read it.
      const inner = `"${process.execPath}" "${serverBin}" --port 0; echo "server exit $?" >&2`;
      const npm = spawn('sh', ['-c', `sh -c '${inner}'; exit $?`], {
        env: { ...process.env, npm_lifecycle_event: 'npx' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      npm.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const logs = (): Record<string, unknown>[] => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      let pid = 0;
      try {
        await until(() => logs().some((l) => l.msg === 'conduit-server listening'), 10_000);
        pid = Number(logs().find((l) => l.msg === 'conduit-server listening')?.pid);
        const shell = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
        expect(shell).not.toBe(npm.pid);
        npm.kill(signal);
        await until(() => stderr.includes('server exit'), 10_000);
        expect(stderr).toContain('server exit 0');
        expect(logs().find((l) => l.msg === 'shutting down: draining connections')?.reason).toBe('npm process exited');
        expect(logs().some((l) => l.msg === 'shutdown complete')).toBe(true);
        expect(alive(pid)).toBe(false);
      } finally {
        if (pid !== 0 && alive(pid)) process.kill(pid, 'SIGKILL');
        npm.kill('SIGKILL');
      }
    });
  }

  it('SHUTDOWN with --allow-shutdown answers OK and exits 0', async () => {
    const server = await startServerProcess(['--port', '0', '--allow-shutdown']);
    const c = await RawClient.connect(server.port);
    c.write(req(1n, { op: 'SHUTDOWN' }));
    await c.waitClosed();
    expect(c.frames[0]?.opcode).toBe(Status.OK);
    expect((await server.exited).code).toBe(0);
  });

  it('reads settings from flags over env over a TOML file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-'));
    const file = join(dir, 'conduit.toml');
    writeFileSync(file, 'max-memory = "1mb"\nshards = 2\nmax_inflight = 7\nport = 1\n');
    const server = await startServerProcess(['--config', file, '--port', '0'], { env: { CONDUIT_SHARDS: '4' } });
    const start = server.logs().find((l) => l.msg === 'conduit-server listening');
    expect(start?.settings).toMatchObject({ maxMemory: 1024 * 1024, shards: 4, maxInflight: 7, port: 0 });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('--help documents every option with its default', async () => {
    const { code, stdout } = await runServerToExit(['--help']);
    expect(code).toBe(0);
    const help = stdout.replace(/\s+/g, ' ');
    for (const [flag, fallback] of [
      ['--host', '"127.0.0.1"'], ['--port', '"7171"'], ['--max-memory', '"64mb"'], ['--shards', '"16"'],
      ['--eviction', '"lru"'], ['--max-connections', '"10000"'], ['--max-inflight', '"1024"'],
      ['--max-output-buffer', '"16mb"'], ['--idle-timeout', '"0"'], ['--frame-timeout', '"10s"'],
      ['--shutdown-timeout', '"10s"'], ['--log-level', '"info"'],
    ] as const) {
      expect(help).toMatch(new RegExp(`${flag} <[^>]+> .*?default: ${fallback}`));
    }
    for (const flag of ['--socket', '--allow-shutdown', '--allow-insecure-public', '--config']) expect(help).toContain(flag);
    expect(help).toContain('CONDUIT_MAX_MEMORY');
    // What a switch in CONDUIT_* or the file accepts, and what SIGHUP does (issue 15 items 2 and 16).
    expect(help).toContain('true/1/yes/on or false/0/no/off (CONDUIT_TCP=false is --no-tcp)');
    expect(help).toContain('SIGHUP (terminal closed) drain the connections and exit 0');
    expect(help).toContain('Give the process 1.1 × --max-memory + 112 MiB of RAM');
  });
});

describe('conduit-server startup errors: exit 1 with one line', () => {
  const cases: [string, string[], RegExp][] = [
    ['bad size', ['--max-memory', '12xb'], /--max-memory must be a size/],
    ['shards not a power of two', ['--shards', '3'], /--shards must be a power of two/],
    ['unknown eviction policy', ['--eviction', 'lfu'], /--eviction/],
    ['port not a number', ['--port', 'abc'], /--port must be a whole number/],
    ['port out of range', ['--port', '70000'], /--port must be an integer from 0 to 65535/],
    ['bad duration', ['--frame-timeout', 'soon'], /--frame-timeout must be a duration/],
    ['unknown option', ['--colour'], /unknown option/],
    ['non-loopback host without a key', ['--host', '0.0.0.0', '--port', '0'], /protected mode/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const { code, stderr } = await runServerToExit(args);
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runServerToExit(['--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/already in use/);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });
});

describe('conduit-server secure mode flags', () => {
  it('CONDUIT_KEY and --key-file turn on secure mode; a key lifts protected mode', async () => {
    const { ConduitClient, generateKey } = await import('../../src/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'conduit-keys-'));
    const fileKey = generateKey();
    const envKey = generateKey();
    writeFileSync(join(dir, 'keys.toml'), `[[keys]]\nid = "file"\nkey = "${fileKey}"\n`);
    const server = await startServerProcess(['--host', '0.0.0.0', '--port', '0', '--key-file', join(dir, 'keys.toml')], {
      env: { CONDUIT_KEY: `env:${envKey}` },
    });
    // Issue 18: the frame AEAD is named too (libsodium here, unless the run forces another).
    const aead = process.env.CONDUIT_AEAD || 'libsodium';
    const fallback = aead === 'libsodium' ? {} : { aeadFallback: `CONDUIT_AEAD=${aead}` };
    expect(server.logs().find((l) => l.msg === 'conduit-server listening')?.secure).toEqual({ keyIds: ['file', 'env'], aead, ...fallback });
    for (const [id, secret] of [['file', fileKey], ['env', envKey]] as const) {
      const c = new ConduitClient({ port: server.port, key: { id, secret }, reconnect: false });
      expect(await c.set('k', id)).toBe(true);
      await c.close();
    }
    const raw = await RawClient.connect(server.port);
    raw.write(req(1n, { op: 'HEALTH' }));
    await raw.waitClosed();
    expect(raw.frames[0]?.opcode).toBe(Status.AUTH_REQUIRED);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('refuses a malformed key with one line', async () => {
    const { code, stderr } = await runServerToExit(['--port', '0'], { CONDUIT_KEY: 'app:not-base64' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/CONDUIT_KEY: key must be 32 bytes in base64/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
