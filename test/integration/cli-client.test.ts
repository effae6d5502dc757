import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/index.js';
import { runCli } from '../support/cli.js';
import { startServer } from '../support/server.js';

describe('conduit-cli', () => {
  it('set / get / del / ttl / renew / incr / list / stats / health / flush with their exit codes', async () => {
    const { port } = await startServer();
    const cli = (...args: string[]) => runCli(['--port', String(port), ...args]);
    expect(await cli('set', 'greeting', 'hello')).toMatchObject({ code: 0 });
    const got = await cli('get', 'greeting');
    expect([got.code, got.stdout.toString()]).toEqual([0, 'hello']);
    expect((await cli('get', 'missing')).code).toBe(1);
    expect((await cli('set', 'greeting', 'x', '--nx')).code).toBe(1);
    expect((await cli('set', 'greeting', 'x', '--xx', '--ttl', '10s')).code).toBe(0);
    const ttl = await cli('ttl', 'greeting');
    expect(Number(ttl.stdout.toString())).toBeGreaterThan(9_000);
    expect((await cli('ttl', 'missing')).stdout.toString()).toBe('-2\n');
    expect((await cli('renew', 'greeting', '0')).stdout.toString()).toBe('1\n');
    expect((await cli('ttl', 'greeting')).stdout.toString()).toBe('-1\n');
    expect((await cli('incr', 'n')).stdout.toString()).toBe('1\n');
    expect((await cli('incr', 'n', '-5')).stdout.toString()).toBe('-4\n');
    const notInteger = await cli('incr', 'greeting');
    expect([notInteger.code, notInteger.stderr.trim()]).toEqual([2, expect.stringMatching(/^error: NOT_INTEGER: /)]);
    expect((await cli('list', 'gr')).stdout.toString()).toBe('greeting\n');
    const stats = await cli('stats');
    expect(stats.stdout.toString()).toMatch(/^curr_items\s+2$/m);
    expect((await cli('health')).stdout.toString()).toMatch(/^OK \d+\.\d+ ms\n$/);
    expect((await cli('del', 'greeting')).stdout.toString()).toBe('1\n');
    expect((await cli('del', 'greeting')).stdout.toString()).toBe('0\n');
    expect((await cli('flush')).stdout.toString()).toBe('OK\n');
    expect((await cli('get', 'n')).code).toBe(1);
  });

  it('list walks with SCAN, so --limit may pass LIST\'s u16 (spec §3.5): 70,000 keys, all listed once', async () => {
    const { port } = await startServer({ maxMemory: 64 * 1024 * 1024 });
    const client = new ConduitClient({ port });
    try {
      for (let i = 0; i < 70_000; i += 1_000) {
        await Promise.all(Array.from({ length: 1_000 }, (_, j) => client.set(`many:${i + j}`, 'v')));
      }
    } finally {
      client.destroy();
    }
    const many = await runCli(['--port', String(port), 'list', 'many:', '--limit', '80000']);
    const keys = many.stdout.toString().trim().split('\n');
    expect([many.code, keys.length, new Set(keys).size, many.stderr.toString()]).toEqual([0, 70_000, 70_000, '']);
    const capped = await runCli(['--port', String(port), 'list', 'many:', '--limit', '66000']);
    expect([capped.code, capped.stdout.toString().trim().split('\n').length, capped.stderr.trim()]).toEqual([
      0,
      66_000,
      '(more keys match: raise --limit or narrow the prefix)',
    ]);
  });

  it('gets / set --version / gat (spec §3.11, §3.12): the version on the first line, a stale version exits 1', async () => {
    const { port } = await startServer();
    const cli = (...args: string[]) => runCli(['--port', String(port), ...args]);
    expect((await cli('gets', 'k')).code).toBe(1);
    expect((await cli('set', 'k', 'v1')).code).toBe(0);
    const gets = await cli('gets', 'k');
    const [version, value] = gets.stdout.toString().split('\n');
    expect([gets.code, value]).toEqual([0, 'v1']);
    expect(version).toMatch(/^[1-9]\d*$/);
    const stale = await cli('set', 'k', 'v2', '--version', String(BigInt(version!) + 1n));
    expect([stale.code, stale.stderr.trim()]).toEqual([1, '(not stored: the key has another version or is gone)']);
    expect((await cli('set', 'k', 'v2', '--version', version!)).code).toBe(0);
    expect((await cli('set', 'k', 'v3', '--version', version!)).code).toBe(1);
    expect((await cli('set', 'k', 'v3', '--version', 'x')).code).toBe(2);
    const gat = await cli('gat', 'k', '10s');
    expect([gat.code, gat.stdout.toString()]).toEqual([0, 'v2']);
    expect(Number((await cli('ttl', 'k')).stdout.toString())).toBeGreaterThan(9_000);
    expect((await cli('gat', 'missing', '10s')).code).toBe(1);
  });

  it('values are binary-safe both ways (set KEY - reads stdin)', async () => {
    const { port } = await startServer();
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect((await runCli(['--port', String(port), 'set', 'bin', '-'], value)).code).toBe(0);
    const got = await runCli(['--port', String(port), 'get', 'bin']);
    expect(got.stdout.equals(value)).toBe(true);
  });

  it('errors are one line on stderr with exit code 2', async () => {
    const { port, server } = await startServer();
    const bad = await runCli(['--port', String(port), 'frobnicate']);
    expect([bad.code, bad.stderr.trim().split('\n')]).toEqual([2, [expect.stringMatching(/unknown command/)]]);
    const badTtl = await runCli(['--port', String(port), 'set', 'k', 'v', '--ttl', 'soon']);
    expect([badTtl.code, badTtl.stderr.trim().split('\n').length]).toEqual([2, 1]);
    // A non-zero TTL that rounds to 0 ms would mean "no expiry" (spec §3.3): refused, naming what the user wrote.
    for (const [args, label] of [
      [['set', 'k', 'v', '--ttl', '0.4'], '--ttl'],
      [['gat', 'k', '0.0001s'], '<ttl>'],
      [['renew', 'k', '0.49ms'], '<ttl>'],
    ] as const) {
      const small = await runCli(['--port', String(port), ...args]);
      expect([small.code, small.stderr.trim()], args.join(' ')).toEqual([2, expect.stringContaining(`${label} must be 0 (no expiry) or at least 1 ms`)]);
    }
    const bigVersion = await runCli(['--port', String(port), 'set', 'k', 'v', '--version', '18446744073709551616']);
    expect([bigVersion.code, bigVersion.stderr.trim()]).toEqual([2, expect.stringContaining('--version must be a version printed by gets')]);
    const bigLimit = await runCli(['--port', String(port), 'list', '--limit', '100000001']);
    expect([bigLimit.code, bigLimit.stderr.trim()]).toEqual([2, "--limit must be from 1 to 100000000, got '100000001'"]);
    await server.close();
    const down = await runCli(['--port', String(port), 'get', 'k']);
    expect([down.code, down.stderr.trim()]).toEqual([2, expect.stringMatching(/^error: CONNECT_FAILED: /)]);
  });

  it('without a command opens a prompt that runs commands and keeps history', async () => {
    const { port } = await startServer();
    const history = join(mkdtempSync(join(tmpdir(), 'conduit-cli-')), 'history');
    const session = await runCli(['--port', String(port)], 'set a 1\nget a\nincr a 41\nquit\n', {
      CONDUIT_CLI_INTERACTIVE: '1',
      CONDUIT_CLI_HISTORY: history,
    });
    expect(session.code).toBe(0);
    expect(session.stdout.toString()).toMatch(/OK\n[\s\S]*1\n[\s\S]*42\n/);
    expect(readFileSync(history, 'utf8')).toBe('set a 1\nget a\nincr a 41\n');
  });

  it('commands piped on stdin run one per line, one result line each, exit non-zero if one failed (not the help)', async () => {
    const { port } = await startServer();
    const ok = await runCli(['--port', String(port)], 'set a 1\nget a\n\nincr a 41\nget missing\n');
    expect([ok.code, ok.stdout.toString()]).toEqual([1, 'OK\n1\n42\n(nil)\n']);
    const bad = await runCli(['--port', String(port)], 'set b 2\nincr b x\nfrobnicate\nget b\n');
    expect([bad.code, bad.stdout.toString()]).toEqual([2, 'OK\n(error)\n(error)\n2\n']);
    expect(bad.stderr.trim().split('\n')).toEqual([
      "line 2: delta must be an integer, got 'x'",
      expect.stringMatching(/^line 3: .*unknown command 'frobnicate'/),
    ]);
    const all = await runCli(['--port', String(port)], 'set c 3\r\nget c\r\n');
    expect([all.code, all.stdout.toString(), all.stderr]).toEqual([0, 'OK\n3\n', '']);
  });

  it('a bad port names where it came from: --port or CONDUIT_PORT', async () => {
    const flag = await runCli(['--port', '70000', 'health']);
    expect([flag.code, flag.stderr]).toEqual([2, "error: --port must be from 1 to 65535, got '70000'\n"]);
    const env = await runCli(['health'], '', { CONDUIT_PORT: 'x' });
    expect([env.code, env.stderr]).toEqual([2, "error: CONDUIT_PORT must be from 1 to 65535, got 'x'\n"]);
  });

  it('help COMMAND prints that command\'s help, on the command line and in the prompt', async () => {
    const { port } = await startServer();
    const help = await runCli(['--port', String(port), 'help', 'set']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/^Usage: conduit-cli set \[options\] <key> <value>/);
    expect(help.stdout.toString()).toContain('--keepttl');
    expect(help.stdout.toString()).not.toContain('Commands: get, set');
    const prompt = await runCli(['--port', String(port)], 'help ttl\nquit\n', { CONDUIT_CLI_INTERACTIVE: '1', CONDUIT_CLI_HISTORY: join(mkdtempSync(join(tmpdir(), 'conduit-cli-')), 'h') });
    expect(prompt.stdout.toString()).toMatch(/Usage: ttl \[options\] <key>/);
    expect(prompt.stdout.toString()).not.toContain('renew');
  });

  it('the prompt escapes binary values as redis-cli does; get with stdout redirected stays raw', async () => {
    const { port } = await startServer();
    const value = Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]); // NUL, invalid UTF-8, ESC[2J (clear screen), newline
    expect((await runCli(['--port', String(port), 'set', 'bin', '-'], value)).code).toBe(0);
    expect((await runCli(['--port', String(port), 'set', 'text', 'héllo "x"'])).code).toBe(0);
    const history = join(mkdtempSync(join(tmpdir(), 'conduit-cli-')), 'history');
    const prompt = await runCli(['--port', String(port)], 'get bin\nget text\nlist bi\nquit\n', { CONDUIT_CLI_INTERACTIVE: '1', CONDUIT_CLI_HISTORY: history });
    const shown = prompt.stdout.toString('latin1');
    expect(shown).toContain('> "\\x00\\xff\\x1b[2J\\n"\n');
    expect(prompt.stdout.toString()).toContain('> héllo "x"\n');
    expect(prompt.stdout.includes(Buffer.from([0x1b]))).toBe(false);
    const raw = await runCli(['--port', String(port), 'get', 'bin']);
    expect(raw.stdout.equals(value)).toBe(true);
  });
});

describe('conduit-cli routing flags (issue 20)', () => {
  it('against a standalone server: the default (discover) and --no-discover both talk to that one server', async () => {
    const { port } = await startServer();
    expect(await runCli(['--port', String(port), 'set', 'k', 'v'])).toMatchObject({ code: 0 });
    const got = await runCli(['--port', String(port), '--no-discover', 'get', 'k']);
    expect([got.code, got.stdout.toString()]).toEqual([0, 'v']);
    const piped = await runCli(['--port', String(port)], 'get k\nstats\n');
    expect([piped.code, piped.stdout.toString()]).toEqual([0, expect.stringMatching(/^v\ncurr_items\s+1$/m)]);
  });

  it('a bad --servers, or --servers with --port, is one line on stderr naming the flag, exit 2, nothing sent', async () => {
    const bad = await runCli(['--servers', '127.0.0.1:7171,nope', 'get', 'k']);
    expect([bad.code, bad.stderr]).toEqual([2, 'error: --servers: "nope" is not host:port (IPv6 as [::1]:7171) or a socket path\n']);
    const both = await runCli(['--servers', '127.0.0.1:7171', '--port', '7171', 'get', 'k']);
    expect([both.code, both.stderr]).toEqual([2, 'error: --servers excludes --port: give the servers in --servers only\n']);
    const env = await runCli(['get', 'k'], '', { CONDUIT_SERVERS: 'a:99999' });
    expect([env.code, env.stderr]).toEqual([2, 'error: CONDUIT_SERVERS: "a:99999" has port 99999, not from 1 to 65535\n']);
  });
});
