// conduit-cli --quiet (spec §2.5, protocol 1.1): piped set, del and renew lines as quiet writes.
import { describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/index.js';
import { runCli } from '../support/cli.js';
import { startServer } from '../support/server.js';

describe('conduit-cli --quiet', () => {
  it('piped set, del and renew print nothing, other lines print as before, a failed write is reported on stderr with its line', async () => {
    const { port } = await startServer();
    const r = await runCli(['--port', String(port), '--quiet'], 'set a 1\nset a 2 --nx\ndel missing\nrenew a 10s\nget a\nset b 1\nincr b\nrenew missing 1s\n');
    expect([r.code, r.stdout.toString(), r.stderr]).toEqual([1, '1\n2\n', 'line 2: (not stored)\n']);
  });

  it('20,000 piped quiet SETs with one failure in the middle report exactly that line; every other write is applied', async () => {
    const { server, port } = await startServer();
    const lines = Array.from({ length: 20_000 }, (_, i) => (i === 10_000 ? 'set k:0 again --nx' : `set k:${i} v${i}`));
    const r = await runCli(['--port', String(port), '--quiet'], `${lines.join('\n')}\n`);
    expect([r.code, r.stdout.toString(), r.stderr]).toEqual([1, '', 'line 10001: (not stored)\n']);
    expect(server.counters.quiet_suppressed).toBe(19_999);
    const c = new ConduitClient({ port });
    try {
      expect((await c.stats()).curr_items).toBe(19_999);
      expect(await c.getString('k:19999')).toBe('v19999');
      expect(await c.getString('k:0')).toBe('v0');
    } finally {
      await c.close();
    }
  });

  it('an error of a quiet write (a protocol error of the line, or the server refusing it) exits 2', async () => {
    const { port } = await startServer({ maxMemory: 64 * 1024 });
    const big = 'x'.repeat(65_000);
    const r = await runCli(['--port', String(port), '--quiet'], `set a 1\nset big ${big}\nget a\n`);
    expect(r.code).toBe(2);
    expect(r.stdout.toString()).toBe('1\n');
    expect(r.stderr).toMatch(/^line 2: TOO_LARGE: /);
  });
});
