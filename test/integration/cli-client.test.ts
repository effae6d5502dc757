import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
