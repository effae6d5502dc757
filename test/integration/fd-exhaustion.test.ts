// Issue 15 item 11: under a small open-files limit the server warns at start, logs
// and counts EMFILE when the descriptors run out, stays up, and serves again after.
import { describe, expect, it } from 'vitest';
import { SERVER_ID_BASE, Status } from '../../src/index.js';
import { frame, statsOf } from '../chaos/harness.js';
import { startServerProcess } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';

describe('file-descriptor exhaustion is not silent (issue 15 item 11)', () => {
  it('conduit-server under ulimit -n 64 with 150 clients: start-up warning, EMFILE logged and counted, alive, serving once they leave', async () => {
    const server = await startServerProcess(['--port', '0', '--http-port', '0'], { openFiles: 64 });
    const warning = server.logs().find((l) => l.level === 40 && String(l.msg).includes('exceed the soft open-files limit (RLIMIT_NOFILE) of 64'));
    expect(warning?.msg).toMatch(/^--max-connections 10000 \+ 256 HTTP connections \+ 64 spare file descriptors = 10320 exceed .* it is too small to serve connections reliably; .* Raise it \(ulimit -n 10320; hard limit 64\)$/);
    const clients: RawClient[] = [];
    for (let i = 0; i < 150; i += 1) clients.push(await RawClient.connect(server.port));
    const deadline = Date.now() + 5_000;
    const emfile = (): Record<string, unknown> | undefined => server.logs().find((l) => l.level === 50 && l.code === 'EMFILE');
    while (emfile() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(String(emfile()?.msg)).toMatch(/^cannot accept connections: out of file descriptors \(EMFILE\)/);
    // Every client got an outcome: served (its connection stays open) or closed by the OS's refusal; none got a wrong answer.
    expect(clients.some((c) => c.closed)).toBe(true);
    expect(clients.flatMap((c) => c.frames).filter((f) => !(f.opcode === Status.BUSY && f.id === SERVER_ID_BASE))).toEqual([]);
    for (const c of clients) c.destroy();
    expect(server.child.exitCode).toBe(null);
    // Once they leave, the server answers again.
    let admin: RawClient | undefined;
    while (admin === undefined && Date.now() < deadline + 5_000) {
      const c = await RawClient.connect(server.port);
      c.write(frame(1, { op: 'HEALTH' }));
      await c.until(() => c.frames.length > 0 || c.closed, 2_000).catch(() => {});
      if (c.frames[0]?.opcode === Status.OK) admin = c;
      else c.destroy();
    }
    if (admin === undefined) throw new Error('the server did not serve again');
    const stats = await statsOf(admin);
    expect(stats.accept_errors).toBeGreaterThanOrEqual(1);
    admin.destroy();
    expect(server.child.exitCode).toBe(null);
  }, 30_000);
});
