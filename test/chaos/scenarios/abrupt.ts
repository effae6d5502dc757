// Scenario 7 of issue 9: abrupt clients. A client process is killed with
// SIGKILL mid-header, mid-body of a SET, and with 1,000 responses pending;
// the server must free its connection within 1 s, never apply the cut-off
// SET (spec §4.3), and keep serving.
import { Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { agent, b, fds, frame, pidOf, serve, setRequest, stat, statsOf, until, type Scenario } from '../harness.js';

const MODES = ['header', 'body', 'pending'] as const;

export const abrupt: Scenario = {
  number: 7,
  id: 'abrupt',
  title: 'Abrupt clients',
  budgetMs: 120_000,
  async run(size, f) {
    const rounds = size.quick ? 2 : 10;
    // 1,000 answers of 32 KiB (31 MiB) are more than the socket buffers hold, so most of them still
    // wait in the server when the client dies; the output bound is raised so it is not what closes it.
    const server = await serve(size, ['--max-output-buffer', '64mb']);
    const pid = pidOf(server);
    const observer = await RawClient.connect(server.port);
    observer.write(frame(1, setRequest('pending-value', Buffer.alloc(32 * 1024, 0x70))));
    await observer.waitFrames(1);
    const baselineFds = fds(pid);
    const clients = async (): Promise<number> => {
      observer.frames.length = 0;
      return stat(await statsOf(observer), 'connected_clients');
    };
    const freedMs: Record<(typeof MODES)[number], number[]> = { header: [], body: [], pending: [] };
    let applied = 0;
    for (let round = 0; round < rounds; round += 1) {
      for (const mode of MODES) {
        const key = mode === 'pending' ? 'pending-value' : `abrupt-${mode}-${round}`;
        const a = agent(size, 'abrupt', { port: server.port, mode, key }, 40_000);
        await until(() => a.stdout().includes('ready'), 10_000, `the ${mode} client to be ready`);
        const connected = await clients();
        const killed = performance.now();
        a.child.kill('SIGKILL');
        await a.done;
        await until(() => fds(pid) <= baselineFds, 10_000, `the ${mode} client's connection to be freed`, 2);
        const freed = performance.now() - killed;
        if ((await clients()) !== 1 || connected !== 2) throw new Error(`connected_clients ${connected} with the client, not 1 after`);
        freedMs[mode].push(freed);
        if (mode === 'body') {
          observer.frames.length = 0;
          observer.write(frame(2, { op: 'GET', key: b(key) }));
          await observer.waitFrames(1);
          if (observer.frames[0]?.opcode !== Status.NOT_FOUND) applied += 1;
        }
      }
    }
    const worst = (mode: (typeof MODES)[number]): number => Math.max(...freedMs[mode]);
    f.figure(
      `${rounds} client processes killed with SIGKILL in each state: connection freed (file descriptors back to baseline, connected_clients back to 1) ` +
        `within ${worst('header').toFixed(0)} ms mid-header, ${worst('body').toFixed(0)} ms mid-body, ${worst('pending').toFixed(0)} ms with 1,000 responses of 32 KiB unread, most still queued in the server (the worst of each); ` +
        `truncated SETs applied: ${applied}; server crashes: ${server.child.exitCode === null ? 0 : 1}`,
    );
    f.expectTiming(`state freed within 1 s (worst ${Math.max(...MODES.map(worst)).toFixed(0)} ms)`, MODES.every((m) => worst(m) <= 1_000));
    f.expect(`no truncated SET applied (${applied})`, applied === 0);
    f.expect('the server still runs', server.child.exitCode === null);
    observer.destroy();
  },
};
