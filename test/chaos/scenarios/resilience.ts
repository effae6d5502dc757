// Scenario 9 of issue 9: client resilience. ConduitClient loops SET then GET
// of their own keys while the server is killed with SIGKILL and started again
// on the same port, more than once, and then frozen (SIGSTOP) for longer than
// the request timeout, so requests time out and their answers arrive late:
// every promise settles within the request timeout + 50 ms, no reply reaches
// the wrong caller, and the client serves again after each restart and thaw.
import { ConduitClient, ConduitError } from '../../../src/index.js';
import type { ServerProcess } from '../../support/cli.js';
import { count, freePort, serve, sleep, type Scenario } from '../harness.js';

const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));

export const resilience: Scenario = {
  number: 9,
  id: 'resilience',
  title: 'Client resilience',
  budgetMs: 90_000,
  async run(size, f) {
    const port = await freePort();
    const timeoutMs = 1_000;
    const restarts = size.quick ? 1 : 3;
    const loops = size.quick ? 20 : 100;
    let server: ServerProcess = await serve(size, ['--port', String(port)]);
    const client = new ConduitClient({ port, requestTimeoutMs: timeoutMs, reconnect: { maxAttempts: 1_000, baseDelayMs: 20, maxDelayMs: 200 } });
    await client.connect();
    let reconnects = 0;
    client.on('reconnecting', () => (reconnects += 1));
    client.on('error', () => {}); // each failure also reaches its caller; counted there
    let stop = false;
    let issued = 0;
    let settled = 0;
    let late = 0;
    let worst = 0;
    let succeeded = 0;
    let misdelivered = 0;
    const failures = new Map<string, number>();
    const timed = async <T>(p: Promise<T>): Promise<T | undefined> => {
      const started = performance.now();
      issued += 1;
      try {
        return await p;
      } catch (err) {
        failures.set(code(err), (failures.get(code(err)) ?? 0) + 1);
        return undefined;
      } finally {
        const took = performance.now() - started;
        worst = Math.max(worst, took);
        if (took > timeoutMs + 50) late += 1;
        settled += 1;
      }
    };
    const workers = Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; !stop && i < 1_000_000; i += 1) {
        const key = `loop${loop}`;
        const value = `${loop}:${i}`;
        const stored = await timed(client.set(key, value));
        const got = await timed(client.getString(key));
        if (stored === true && got !== undefined) {
          succeeded += 1;
          if (got !== value) misdelivered += 1;
        }
      }
    });
    const servedAfter: number[] = [];
    try {
      await sleep(500);
      for (let r = 0; r < restarts; r += 1) {
        server.child.kill('SIGKILL');
        await server.exited;
        await sleep(300);
        server = await serve(size, ['--port', String(port)]);
        const before = succeeded;
        await sleep(1_500);
        servedAfter.push(succeeded - before);
      }
      // Frozen, not dead: the connection stays up, requests time out, the answers come late.
      const pid = server.child.pid ?? 0;
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(timeoutMs * 1.5);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const before = succeeded;
      await sleep(1_500);
      servedAfter.push(succeeded - before);
    } finally {
      stop = true;
      await Promise.all(workers);
      client.destroy();
    }
    const failed = [...failures.entries()].map(([k, n]) => `${count(n)} ${k}`).join(', ');
    f.figure(
      `${loops} loops of SET then GET through one ConduitClient (timeout ${timeoutMs} ms), server killed with SIGKILL and restarted ${restarts}×, then frozen ${timeoutMs * 1.5} ms: ` +
        `${count(settled)}/${count(issued)} promises settled, the slowest in ${worst.toFixed(0)} ms, ${late} later than timeout + 50 ms; ` +
        `failures ${failed || 'none'}; ${misdelivered} replies to the wrong caller; ${reconnects} reconnects; ` +
        `${servedAfter.map(count).join(', ')} good round trips in the 1.5 s after each restart and after the thaw`,
    );
    f.expect(`every promise settles (${settled}/${issued})`, settled === issued && settled > 1_000);
    f.expect(`the freeze made requests time out (${failures.get('TIMEOUT') ?? 0} TIMEOUT)`, (failures.get('TIMEOUT') ?? 0) > 0);
    // A timing bound: a busy CI machine can delay the client's own timers, so short runs only report it.
    f.expectTiming(`every promise settles within timeout + 50 ms (${late} later; slowest ${worst.toFixed(0)} ms)`, late === 0);
    f.expect(`0 replies to the wrong caller (${misdelivered})`, misdelivered === 0);
    f.expect(`failures are only CONNECTION_LOST or TIMEOUT (${failed})`, [...failures.keys()].every((k) => k === 'CONNECTION_LOST' || k === 'TIMEOUT'));
    f.expect(
      `the client serves again after every restart and the thaw (${servedAfter.join(', ')})`,
      servedAfter.length === restarts + 1 && servedAfter.every((n) => n > 0),
    );
  },
};
