// Issue 15 items 2 and 14: how conduit-server reads CONDUIT_* variables and
// the --config file, and that every startup error names what the user wrote.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status } from '../../src/index.js';
import { runServerToExit, startServerProcess } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-settings-'));
let files = 0;
/** Writes a config file and returns its path. */
function config(text: string): string {
  files += 1;
  const file = join(dir, `conduit-${files}.toml`);
  writeFileSync(file, text);
  return file;
}

/** The settings the server logged at start with `args` and `env`; stops it. */
async function settingsOf(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const server = await startServerProcess(['--port', '0', ...args], { env });
  const start = server.logs().find((l) => l.msg === 'conduit-server listening');
  server.child.kill('SIGTERM');
  await server.exited;
  return start?.settings as Record<string, unknown>;
}

/** A listener holding a TCP port on 127.0.0.1. */
async function blocker(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Expects exit 1 with exactly one line on stderr matching `message`. */
async function refused(args: string[], env: Record<string, string>, message: RegExp | string): Promise<void> {
  const { code, stderr } = await runServerToExit(args, env);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(stderr.trim()).toBe(`conduit-server: ${message}`);
  else expect(stderr).toMatch(message);
  expect(code).toBe(1);
}

const on = ['true', '1', 'yes', 'on', 'TRUE', ' Yes ', 'On'];
const off = ['false', '0', 'no', 'off', '', 'FALSE', ' No ', 'Off'];

describe('CONDUIT_* booleans mean what they say (issue 15 item 2)', () => {
  it('CONDUIT_ALLOW_SHUTDOWN: true/1/yes/on turn it on, false/0/no/off/"" leave it off (any case, trimmed)', async () => {
    const cases = [...on.map((v) => [v, true] as const), ...off.map((v) => [v, false] as const)];
    // Four processes at a time: all of them at once on 2 busy cores missed the 10 s start bound.
    const seen: unknown[] = [];
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4).map(async ([v]) => (await settingsOf([], { CONDUIT_ALLOW_SHUTDOWN: v })).allowShutdown);
      seen.push(...(await Promise.all(batch)));
    }
    expect(seen).toEqual(cases.map(([, want]) => want));
  }, 120_000);

  it('CONDUIT_ALLOW_SHUTDOWN=false: a SHUTDOWN request is FORBIDDEN and the server keeps serving', async () => {
    const server = await startServerProcess(['--port', '0'], { env: { CONDUIT_ALLOW_SHUTDOWN: 'false' } });
    const c = await RawClient.connect(server.port);
    c.write(Buffer.concat(encodeRequest(1n, { op: 'SHUTDOWN' })));
    c.write(Buffer.concat(encodeRequest(2n, { op: 'HEALTH' })));
    await c.waitFrames(2);
    expect([c.frames[0]?.opcode, c.frames[1]?.opcode]).toEqual([Status.FORBIDDEN, Status.OK]);
    c.destroy();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });

  it('CONDUIT_ALLOW_INSECURE_PUBLIC=false with --host 0.0.0.0 is refused (protected mode stays on)', async () => {
    for (const value of ['false', '0', 'no', '']) {
      await refused(['--host', '0.0.0.0', '--port', '0'], { CONDUIT_ALLOW_INSECURE_PUBLIC: value }, /protected mode/);
    }
  });

  it('CONDUIT_TCP=true listens on TCP beside the socket; CONDUIT_TCP=false is --no-tcp', async () => {
    const socket = join(dir, 'tcp-true.sock');
    const server = await startServerProcess(['--port', '0', '--socket', socket], { env: { CONDUIT_TCP: 'true' } });
    const c = await RawClient.connect(server.port);
    c.write(Buffer.concat(encodeRequest(1n, { op: 'HEALTH' })));
    await c.waitFrames(1);
    expect(c.frames[0]?.opcode).toBe(Status.OK);
    c.destroy();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const socketOnly = await settingsOf(['--socket', join(dir, 'tcp-false.sock')], { CONDUIT_TCP: 'false' });
    expect(socketOnly.tcp).toBe(false);
  });

  it('a value that is no boolean is one line naming the variable, exit 1', async () => {
    await refused([], { CONDUIT_ALLOW_SHUTDOWN: 'maybe' }, 'CONDUIT_ALLOW_SHUTDOWN must be true/1/yes/on or false/0/no/off, got "maybe"');
    await refused([], { CONDUIT_TCP: 'yep' }, /^conduit-server: CONDUIT_TCP must be true/);
  });

  it('the config file takes a TOML boolean or the same words; anything else names the file and setting', async () => {
    expect((await settingsOf(['--config', config('allow-shutdown = "yes"\n')])).allowShutdown).toBe(true);
    expect((await settingsOf(['--config', config('allow-shutdown = true\n')])).allowShutdown).toBe(true);
    expect((await settingsOf(['--config', config('allow_shutdown = "off"\n')])).allowShutdown).toBe(false);
    const file = config('allow-shutdown = "maybe"\n');
    await refused(['--config', file], {}, `allow-shutdown in ${file} must be true/1/yes/on or false/0/no/off, got "maybe"`);
    const notBoolean = config('max-memory = true\n');
    await refused(['--config', notBoolean], {}, `max-memory in ${notBoolean} must be a value, got true`);
  });

  it('a flag beats the variable, which beats the file', async () => {
    const file = config('allow-shutdown = true\nmax-memory = "2mb"\n');
    expect(await settingsOf(['--config', file], { CONDUIT_ALLOW_SHUTDOWN: 'no' })).toMatchObject({ allowShutdown: false, maxMemory: 2 * 1024 ** 2 });
    expect(await settingsOf(['--config', file, '--allow-shutdown'], { CONDUIT_ALLOW_SHUTDOWN: 'no' })).toMatchObject({ allowShutdown: true });
  });
});

describe('startup errors name what the user wrote, in their unit (issue 15 item 14)', () => {
  it('a busy TCP port is reported as that host:port, not the socket path', async () => {
    const { server, port } = await blocker();
    try {
      await refused(['--port', String(port), '--socket', join(dir, 'busy-tcp.sock')], {}, `cannot listen on 127.0.0.1:${port}: it is already in use`);
    } finally {
      server.close();
    }
  });

  it('a busy HTTP port is reported as the HTTP listener', async () => {
    const { server, port } = await blocker();
    try {
      await refused(['--port', '0', '--http-port', String(port)], {}, `cannot listen on HTTP 127.0.0.1:${port} (--http-port): it is already in use`);
    } finally {
      server.close();
    }
  });

  it('a socket in a missing directory names the path, not 127.0.0.1:7171 permission denied', async () => {
    const path = join(dir, 'missing', 'conduit.sock');
    await refused(['--port', '0', '--socket', path], {}, `cannot listen on socket ${path} (--socket): directory ${join(dir, 'missing')} does not exist`);
  });

  it('--frame-timeout 1000h names --frame-timeout and the limit in hours', async () => {
    await refused(['--frame-timeout', '1000h'], {}, "--frame-timeout must be at most 596h (2147483647 ms), got '1000h'");
    await refused([], { CONDUIT_IDLE_TIMEOUT: '30d' }, "CONDUIT_IDLE_TIMEOUT must be at most 24d (2147483647 ms), got '30d'");
    await refused(['--max-output-buffer', '1kb'], {}, "--max-output-buffer must be at least 64kb (65536 bytes), got '1kb'");
    await refused(['--frame-timeout', '0s'], {}, "--frame-timeout must be at least 1 ms, got '0s'");
  });

  it('--max-value-size (spec §2.4) names the flag, variable or file setting and its range, and is held to --max-memory', async () => {
    await refused(['--max-memory', '1gb', '--max-value-size', '65mb'], {}, "--max-value-size must be at most 64mb (67108864 bytes), from the largest one-frame value to 64 MiB, got '65mb'");
    await refused([], { CONDUIT_MAX_VALUE_SIZE: '1kb' }, "CONDUIT_MAX_VALUE_SIZE must be at least 65517 bytes, from the largest one-frame value to 64 MiB, got '1kb'");
    await refused(['--max-memory', '4mb', '--max-value-size', '8mb'], {}, /^conduit-server: --max-value-size must not exceed --max-memory \(4mb\)/);
  });

  it('log-level = "loud" names the file and setting, with the same choices as the flag, no pino internals', async () => {
    const file = config('log-level = "loud"\n');
    await refused(['--config', file], {}, `log-level in ${file} must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'`);
    await refused([], { CONDUIT_LOG_LEVEL: 'loud' }, "CONDUIT_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
  });

  it('an invalid file value is an error even when a flag overrides it', async () => {
    const file = config('frame-timeout = "soon"\n');
    await refused(['--config', file, '--frame-timeout', '5s'], {}, `frame-timeout in ${file} must be a duration like 10s, 500ms or 5m, got 'soon'`);
    await refused(['--port', '0'], { CONDUIT_MAX_MEMORY: 'lots' }, /^conduit-server: CONDUIT_MAX_MEMORY must be a size/);
  });

  it('--no-tcp (or CONDUIT_TCP=0) without a socket names what was written', async () => {
    await refused(['--no-tcp'], {}, '--no-tcp needs --socket: otherwise nothing would listen');
    await refused([], { CONDUIT_TCP: '0' }, 'CONDUIT_TCP needs --socket: otherwise nothing would listen');
  });

  it('a bad --key or --http-token names the flag, or the variable it came from', async () => {
    await refused(['--key', 'app:bad'], {}, /^conduit-server: --key: key must be 32 bytes/);
    await refused([], { CONDUIT_KEY: 'app:bad' }, /^conduit-server: CONDUIT_KEY: key must be 32 bytes/);
    await refused(['--port', '0', '--http-port', '0'], { CONDUIT_HTTP_TOKEN: 'short' }, 'CONDUIT_HTTP_TOKEN must be at least 16 characters');
  });

  it('--host "" names --host', async () => {
    await refused(['--host', ''], {}, '--host must not be empty');
    await refused([], { CONDUIT_HOST: ' ' }, 'CONDUIT_HOST must not be empty');
  });

  it('a range error from the server names the source, not the internal field', async () => {
    await refused(['--shards', '3'], {}, /^conduit-server: --shards must be a power of two/);
    await refused([], { CONDUIT_SHARDS: '3' }, /^conduit-server: CONDUIT_SHARDS must be a power of two/);
  });
});

describe('combinations refused up front', () => {
  // Regression: a 232-byte path was cut to 107 bytes by the kernel, the cut file outlived the
  // server and the next start failed with "already in use".
  it('a --socket path longer than a Unix socket path may be names --socket, its length and the limit', async () => {
    const path = join(dir, 's'.repeat(232 - dir.length - 1));
    const limit = process.platform === 'linux' ? 107 : 103;
    await refused(['--port', '0', '--socket', path], {}, `--socket is 232 bytes long, more than the ${limit} bytes a Unix socket path may have here: choose a shorter path`);
  });

  // Regression: this failed as "cannot listen on 127.0.0.1:P: it is already in use" with nothing else on P.
  it('--port equal to --http-port names both flags', async () => {
    await refused(['--port', '17171', '--http-port', '17171'], {}, '--http-port and --port are both 17171: give the HTTP gateway a port of its own');
    await refused(['--http-port', '17171'], { CONDUIT_PORT: '17171' }, '--http-port and CONDUIT_PORT are both 17171: give the HTTP gateway a port of its own');
  });
});

describe('range errors quote what the user wrote, with the limit in their unit', () => {
  // Regression: these reached ServerOptions' own check, which reported the parsed number
  // ("got 1" for 1.5, "got 0" with no unit) instead of the text that was written.
  const file = config('max-memory = 1.5\n');
  const handshakeFile = config('max-handshakes-per-second = 2.5\n');
  const trackingFile = config('tracking-max-keys = 0\n');
  const cases: [string, string[], Record<string, string>, string][] = [
    ['CONDUIT_MAX_MEMORY=1.5', [], { CONDUIT_MAX_MEMORY: '1.5' }, "CONDUIT_MAX_MEMORY must be at least 1kb (1024 bytes), 1 KiB per shard, got '1.5'"],
    ["CONDUIT_MAX_MEMORY=' 5'", [], { CONDUIT_MAX_MEMORY: ' 5' }, "CONDUIT_MAX_MEMORY must be at least 1kb (1024 bytes), 1 KiB per shard, got ' 5'"],
    ['max-memory = 1.5 in the file', ['--config', file], {}, `max-memory in ${file} must be at least 1kb (1024 bytes), 1 KiB per shard, got '1.5'`],
    ['--max-memory below 1 KiB per shard', ['--max-memory', '4kb'], {}, "--max-memory must be at least 16kb (16384 bytes), 1 KiB for each of --shards 16, got '4kb'"],
    ['CONDUIT_HANDSHAKE_TIMEOUT=0', [], { CONDUIT_HANDSHAKE_TIMEOUT: '0' }, "CONDUIT_HANDSHAKE_TIMEOUT must be at least 1 ms, got '0'"],
    ['CONDUIT_HANDSHAKE_TIMEOUT=0ms', [], { CONDUIT_HANDSHAKE_TIMEOUT: '0ms' }, "CONDUIT_HANDSHAKE_TIMEOUT must be at least 1 ms, got '0ms'"],
    ['--handshake-timeout 30d', ['--handshake-timeout', '30d'], {}, "--handshake-timeout must be at most 24d (2147483647 ms), got '30d'"],
    ['--max-output-memory 1b', ['--max-output-memory', '1b'], {}, "--max-output-memory must be at least 64kb (65536 bytes), got '1b'"],
    // Issue 18: the HELLO rate limit, from each source.
    ['--max-handshakes-per-second many', ['--max-handshakes-per-second', 'many'], {}, "--max-handshakes-per-second must be a whole number, got 'many'"],
    ['CONDUIT_MAX_HANDSHAKES_PER_SECOND=1000001', [], { CONDUIT_MAX_HANDSHAKES_PER_SECOND: '1000001' }, "CONDUIT_MAX_HANDSHAKES_PER_SECOND must be an integer from 0 to 1000000, got '1000001'"],
    ['max-handshakes-per-second = 2.5 in the file', ['--config', handshakeFile], {}, `max-handshakes-per-second in ${handshakeFile} must be a whole number, got '2.5'`],
    // Issue 21: the tracking table's bound, from each source.
    ['--tracking-max-keys lots', ['--tracking-max-keys', 'lots'], {}, "--tracking-max-keys must be a whole number, got 'lots'"],
    ['CONDUIT_TRACKING_MAX_KEYS=100000001', [], { CONDUIT_TRACKING_MAX_KEYS: '100000001' }, "CONDUIT_TRACKING_MAX_KEYS must be an integer from 1 to 100000000, got '100000001'"],
    ['tracking-max-keys = 0 in the file', ['--config', trackingFile], {}, `tracking-max-keys in ${trackingFile} must be an integer from 1 to 100000000, got '0'`],
    ['--shards 3', ['--shards', '3'], {}, "--shards must be a power of two from 1 to 1024, got '3'"],
    ['CONDUIT_SHARDS=2048', [], { CONDUIT_SHARDS: '2048' }, "CONDUIT_SHARDS must be an integer from 1 to 1024, got '2048'"],
  ];
  for (const [name, args, env, message] of cases) {
    it(name, async () => {
      await refused(args, env, message);
    });
  }
});

describe('output bounds larger than the memory budget are warned about at start', () => {
  /** The warn-level (40) lines the server logged at start with `args`; stops it. */
  async function warnings(args: string[], env: Record<string, string> = {}): Promise<string[]> {
    const server = await startServerProcess(['--port', '0', ...args], { env });
    server.child.kill('SIGTERM');
    await server.exited;
    return server.logs().filter((l) => l.level === 40).map((l) => String(l.msg));
  }

  // Regression: --max-output-buffer 1gb with --max-memory 64mb started silently, and the
  // server-wide output bound then defaulted to 2 GiB, 32 times the memory budget.
  it('--max-output-buffer 1gb with --max-memory 64mb: both warnings name the flags and numbers', async () => {
    expect(await warnings(['--max-output-buffer', '1gb', '--max-memory', '64mb'])).toEqual([
      "--max-output-buffer '1gb' is more than a quarter of --max-memory '64mb': each client that does not read its answers may hold that much output on top of the store",
      "--max-output-memory (twice --max-output-buffer by default) 2gb (2147483648 bytes) is more than --max-memory '64mb': clients that do not read their answers may together hold that much output on top of the store",
    ]);
  });

  it('CONDUIT_MAX_OUTPUT_MEMORY above --max-memory is named as the variable', async () => {
    expect(await warnings(['--max-memory', '64mb'], { CONDUIT_MAX_OUTPUT_MEMORY: '1gb' })).toEqual([
      "CONDUIT_MAX_OUTPUT_MEMORY '1gb' is more than --max-memory '64mb': clients that do not read their answers may together hold that much output on top of the store",
    ]);
  });

  it('the defaults warn about nothing', async () => {
    expect(await warnings([])).toEqual([]);
  });
});
