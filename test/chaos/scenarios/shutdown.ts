// Scenario 8 of issue 9: shutdown under load. SIGTERM while 50 clients
// pipeline: the listener closes at once, every request the server read is
// answered (OK, or BUSY once draining, spec §5.3), each client sees a clean
// end of stream, and the process exits 0 within --shutdown-timeout.
import { connect } from 'node:net';
import { Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, serve, sleep, until, type Scenario } from '../harness.js';

/** Resolves true if a connection to 127.0.0.1:`port` is refused, false if it is accepted (and closed again). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** One pipelining client: INCRs of its own counter, up to `window` unanswered, until the server ends the stream. */
class Pipeliner {
  sent = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(readonly raw: RawClient, readonly index: number, window: number) {
    this.#timer = setInterval(() => {
      if (raw.ended || raw.closed) return clearInterval(this.#timer);
      const room = window - (this.sent - raw.frames.length);
      if (room < 16) return;
      const batch: Buffer[] = [];
      for (let i = 0; i < room; i += 1) batch.push(frame(this.sent++, { op: 'INCR', key: b(`shutdown-${index}`), delta: 1n, ttlMs: 0 }));
      raw.write(batch);
    }, 1);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Whether the answers are the sent identifiers in order, each OK answer the next count, then BUSY only. */
  check(): { inOrder: boolean; ok: number; busy: number } {
    const frames = this.raw.frames;
    let ok = 0;
    let busy = 0;
    let inOrder = true;
    for (const [i, f] of frames.entries()) {
      if (f.id !== BigInt(i)) inOrder = false;
      if (f.opcode === Status.OK) {
        ok += 1;
        if (busy > 0 || f.body.readBigInt64BE(0) !== BigInt(ok)) inOrder = false; // applied exactly once, in order
      } else if (f.opcode === Status.BUSY) busy += 1;
      else inOrder = false;
    }
    return { inOrder, ok, busy };
  }
}

export const shutdown: Scenario = {
  number: 8,
  id: 'shutdown',
  title: 'Shutdown under load',
  budgetMs: 60_000,
  async run(size, f) {
    const graceMs = 10_000;
    const server = await serve(size, ['--shutdown-timeout', `${graceMs}ms`, '--max-inflight', '4096']);
    const port = server.port;
    const raws = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(port)));
    const clients = raws.map((raw, i) => new Pipeliner(raw, i, 256));
    await sleep(size.quick ? 300 : 1_500);
    const answeredBefore = raws.reduce((n, r) => n + r.frames.length, 0);
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    let listenerClosedMs = Number.NaN;
    while (performance.now() - signalled < 5_000) {
      if (await refused(port)) {
        listenerClosedMs = performance.now() - signalled;
        break;
      }
    }
    const exit = await server.exited;
    const exitedMs = performance.now() - signalled;
    try {
      await until(() => raws.every((r) => r.closed), 5_000, 'every client to see the end of the stream');
    } finally {
      for (const c of clients) c.stop();
    }
    const results = clients.map((c) => ({ ...c.check(), sent: c.sent, raw: c.raw }));
    const resets = results.filter((r) => r.raw.error !== undefined).length;
    const clean = results.filter((r) => r.raw.ended && r.raw.error === undefined).length;
    const disordered = results.filter((r) => !r.inOrder).length;
    const ok = results.reduce((n, r) => n + r.ok, 0);
    const busy = results.reduce((n, r) => n + r.busy, 0);
    const unanswered = results.reduce((n, r) => n + r.sent - r.raw.frames.length, 0);
    f.figure(
      `SIGTERM after ${count(answeredBefore)} answers to 50 pipelining clients (256 in flight each): listener refused connections ${listenerClosedMs.toFixed(1)} ms later; ` +
        `exit code ${exit.code} after ${exitedMs.toFixed(0)} ms (grace ${graceMs} ms); ${clean}/50 clients saw a clean end of stream, ${resets} a reset; ` +
        `${count(ok)} OK and ${count(busy)} BUSY answers in order with no gap, every OK INCR applied once; ${count(unanswered)} requests (the clients' last windows) were still unread in socket buffers when the server ended the streams`,
    );
    f.expectTiming(`listener closed within 100 ms (${listenerClosedMs.toFixed(1)} ms)`, listenerClosedMs <= 100);
    f.expect(`exit code 0 within the grace period (code ${exit.code}, ${exitedMs.toFixed(0)} ms)`, exit.code === 0 && exitedMs <= graceMs);
    f.expect(`every client sees a clean end of stream, never a reset (${clean} clean, ${resets} reset)`, clean === 50 && resets === 0);
    f.expect(`every answer in order, each received request answered once (${disordered} clients out of order)`, disordered === 0);
  },
};
