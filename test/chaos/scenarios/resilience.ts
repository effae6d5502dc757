// Scenario 9 of issue 9: client resilience. ConduitClient loops SET then GET
// of their own keys while the server is killed with SIGKILL and started again
// on the same port, more than once, and then frozen (SIGSTOP) for longer than
// the request timeout, so requests time out and their answers arrive late:
// every promise settles within the request timeout + 50 ms, no reply reaches
// the wrong caller (every GET reply is checked against its own request's
// unique key and value), and the client serves again after each restart and thaw.
import { ConduitClient, ConduitError } from '../../../src/index.js';
import type { ServerProcess } from '../../support/cli.js';
import { count, freePort, serve, sleep, type Findings, type Scenario } from '../harness.js';

const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));

/** The calls the loops make: ConduitClient has them, and so does the deliberately broken client of its test. */
export interface LoopClient {
  set(key: string, value: string): Promise<boolean>;
  getString(key: string): Promise<string | undefined>;
}

/** What the loops saw. */
export interface LoopStats {
  issued: number;
  settled: number;
  /** Promises that settled later than the timeout + 50 ms. */
  late: number;
  worst: number;
  /** Round trips where the SET succeeded and the GET returned its value. */
  succeeded: number;
  /** GET replies checked against their own request (every one that carried a value). */
  checked: number;
  /** GET replies carrying a value other than their own key's: another request's reply. */
  misdelivered: number;
  failures: Map<string, number>;
}

/**
 * Runs `loops` loops of SET then GET through `client` until `stop()`. Every
 * request has its own key, and its value names the key, so each GET reply is
 * checked against its own request: the only right answers are that value or
 * NOT_FOUND (the SET failed, or a restart lost it). Any other value is a reply
 * that belongs to another request, whether or not anything before it failed
 * (issue 24 item 3: the old check only looked after a successful SET, so late
 * replies landing right after timeouts were invisible).
 */
export function startLoops(client: LoopClient, loops: number, timeoutMs: number): { stats: LoopStats; stop(): Promise<void> } {
  const stats: LoopStats = { issued: 0, settled: 0, late: 0, worst: 0, succeeded: 0, checked: 0, misdelivered: 0, failures: new Map() };
  let stopped = false;
  const timed = async <T>(p: Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    stats.issued += 1;
    try {
      return await p;
    } catch (err) {
      stats.failures.set(code(err), (stats.failures.get(code(err)) ?? 0) + 1);
      return undefined;
    } finally {
      const took = performance.now() - started;
      stats.worst = Math.max(stats.worst, took);
      if (took > timeoutMs + 50) stats.late += 1;
      stats.settled += 1;
    }
  };
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`; // keys of an earlier run never match
  const workers = Array.from({ length: loops }, async (_, loop) => {
    for (let i = 0; !stopped && i < 1_000_000; i += 1) {
      const key = `${run}:${loop}:${i}`;
      const value = `value of ${key}`;
      const stored = await timed(client.set(key, value));
      const got = await timed(client.getString(key));
      if (got !== undefined) {
        stats.checked += 1;
        if (got !== value) stats.misdelivered += 1;
        else if (stored === true) stats.succeeded += 1;
      }
    }
  });
  return {
    stats,
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** The delivery check of the scenario, shared with the test that proves it catches a broken client. */
export function expectRightCallers(stats: LoopStats, f: Findings): void {
  f.expect(`0 replies to the wrong caller (${stats.misdelivered} of ${count(stats.checked)} GET replies checked against their own key)`, stats.misdelivered === 0 && stats.checked > 0);
}

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
    const running = startLoops(client, loops, timeoutMs);
    const { stats } = running;
    const servedAfter: number[] = [];
    try {
      await sleep(500);
      for (let r = 0; r < restarts; r += 1) {
        server.child.kill('SIGKILL');
        await server.exited;
        await sleep(300);
        server = await serve(size, ['--port', String(port)]);
        const before = stats.succeeded;
        await sleep(1_500);
        servedAfter.push(stats.succeeded - before);
      }
      // Frozen, not dead: the connection stays up, requests time out, the answers come late.
      const pid = server.child.pid ?? 0;
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(timeoutMs * 1.5);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const before = stats.succeeded;
      await sleep(1_500);
      servedAfter.push(stats.succeeded - before);
    } finally {
      await running.stop();
      client.destroy();
    }
    const { settled, issued, worst, late, failures } = stats;
    const failed = [...failures.entries()].map(([k, n]) => `${count(n)} ${k}`).join(', ');
    f.figure(
      `${loops} loops of SET then GET through one ConduitClient (timeout ${timeoutMs} ms), server killed with SIGKILL and restarted ${restarts}×, then frozen ${timeoutMs * 1.5} ms: ` +
        `${count(settled)}/${count(issued)} promises settled, the slowest in ${worst.toFixed(0)} ms, ${late} later than timeout + 50 ms; ` +
        `failures ${failed || 'none'}; ${stats.misdelivered} of ${count(stats.checked)} GET replies (each checked against its own key) to the wrong caller; ${reconnects} reconnects; ` +
        `${servedAfter.map(count).join(', ')} good round trips in the 1.5 s after each restart and after the thaw`,
    );
    f.expect(`every promise settles (${settled}/${issued})`, settled === issued && settled > 1_000);
    f.expect(`the freeze made requests time out (${failures.get('TIMEOUT') ?? 0} TIMEOUT)`, (failures.get('TIMEOUT') ?? 0) > 0);
    // A timing bound: a busy CI machine can delay the client's own timers, so short runs only report it.
    f.expectTiming(`every promise settles within timeout + 50 ms (${late} later; slowest ${worst.toFixed(0)} ms)`, late === 0);
    expectRightCallers(stats, f);
    f.expect(`failures are only CONNECTION_LOST or TIMEOUT (${failed})`, [...failures.keys()].every((k) => k === 'CONNECTION_LOST' || k === 'TIMEOUT'));
    f.expect(
      `the client serves again after every restart and the thaw (${servedAfter.join(', ')})`,
      servedAfter.length === restarts + 1 && servedAfter.every((n) => n > 0),
    );
  },
};
