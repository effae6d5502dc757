// Scenario 8 of issue 9: shutdown under load. SIGTERM while 50 clients
// pipeline: the listener closes at once, every request the server read is
// answered (OK, or BUSY once draining, spec §5.3), each client sees a clean
// end of stream, and the process exits 0 within --shutdown-timeout. Two
// edge cases follow on a second server: a connection whose reading is paused
// by --max-inflight, and connections still in the accept backlog at SIGTERM.
import { connect, type Socket } from 'node:net';
import { SERVER_ID_BASE, Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, pidOf, serve, setRequest, sleep, until, type Findings, type Scenario, type Size } from '../harness.js';

/**
 * Opens a connection to 127.0.0.1:`port` every 2 ms, without waiting for the
 * previous one (a SYN caught by the closing listener can wait a second for its
 * retransmission), and resolves with the ms after `since` at which the first
 * one was refused, or NaN after `timeoutMs`. Accepted ones are closed at once.
 */
function firstRefusal(port: number, since: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const open = new Set<Socket>();
    const finish = (ms: number): void => {
      clearInterval(timer);
      for (const s of open) s.destroy();
      resolve(ms);
    };
    const timer = setInterval(() => {
      if (performance.now() - since > timeoutMs) return finish(Number.NaN);
      const s = connect({ host: '127.0.0.1', port });
      open.add(s);
      s.once('connect', () => s.destroy());
      s.once('close', () => open.delete(s));
      s.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') finish(performance.now() - since);
      });
    }, 2);
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
  check(): { inOrder: boolean; ok: number; busy: number; anomaly: string | undefined } {
    const frames = this.raw.frames;
    let ok = 0;
    let busy = 0;
    let anomaly: string | undefined;
    for (const [i, f] of frames.entries()) {
      if (f.id !== BigInt(i)) anomaly ??= `answer ${i} has identifier ${f.id}`;
      if (f.opcode === Status.OK) {
        ok += 1;
        // applied exactly once, in order
        if (busy > 0) anomaly ??= `OK at ${i} after ${busy} BUSY`;
        else if (f.body.readBigInt64BE(0) !== BigInt(ok)) anomaly ??= `answer ${i} counts ${f.body.readBigInt64BE(0)}, not ${ok}`;
      } else if (f.opcode === Status.BUSY) busy += 1;
      else anomaly ??= `answer ${i} has status 0x${f.opcode.toString(16)}: ${f.body.toString()}`;
    }
    return { inOrder: anomaly === undefined, ok, busy, anomaly };
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
    // The server accepts one connection per event-loop turn: on a busy machine some may still wait in
    // its backlog (and would be refused at SIGTERM, correctly). The scenario is about served clients.
    await until(() => raws.every((r) => r.frames.length > 0), 10_000, 'every pipelining client to be served');
    await sleep(size.quick ? 300 : 1_500);
    const answeredBefore = raws.reduce((n, r) => n + r.frames.length, 0);
    const signalled = performance.now();
    const killedAt = Date.now();
    server.child.kill('SIGTERM');
    const listenerClosedMs = await firstRefusal(port, signalled, 5_000);
    const exit = await server.exited;
    const exitedMs = performance.now() - signalled;
    const stopped = server.logs().find((l) => l.msg === 'stopped listening') ?? {};
    // Log times are wall-clock ms on this machine: how long the signal waited for the server's event loop.
    const draining = server.logs().find((l) => l.msg === 'shutting down: draining connections') ?? {};
    const noticedMs = Number(draining.time) - killedAt;
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
      `SIGTERM after ${count(answeredBefore)} answers to 50 pipelining clients (256 in flight each): listener refused connections ${listenerClosedMs.toFixed(1)} ms later ` +
        `(the server's log: drain began ${noticedMs} ms after the signal, listener closed ${String(stopped.ms)} ms into the drain, after answering BUSY to ${String(stopped.refused)} connections that arrived meanwhile, the probes included); ` +
        `exit code ${exit.code} after ${exitedMs.toFixed(0)} ms (grace ${graceMs} ms); ${clean}/50 clients saw a clean end of stream, ${resets} a reset; ` +
        `${count(ok)} OK and ${count(busy)} BUSY answers in order with no gap, every OK INCR applied once; ${count(unanswered)} requests (the clients' last windows) were not read before the server ended their streams, so were discarded unexecuted (§5.3)`,
    );
    f.expectTiming(`listener closed within 100 ms (${listenerClosedMs.toFixed(1)} ms)`, listenerClosedMs <= 100);
    f.expect(`exit code 0 within the grace period (code ${exit.code}, ${exitedMs.toFixed(0)} ms)`, exit.code === 0 && exitedMs <= graceMs);
    f.expect(`every client sees a clean end of stream, never a reset (${clean} clean, ${resets} reset)`, clean === 50 && resets === 0);
    const anomaly = results.find((r) => r.anomaly !== undefined)?.anomaly;
    f.expect(`every answer in order, each received request answered once (${disordered} clients out of order${anomaly === undefined ? '' : `, e.g. ${anomaly}`})`, disordered === 0);
    await pausedAndBacklog(size, f);
  },
};

/**
 * SIGTERM reaching a server that holds (a) a connection paused by
 * --max-inflight, with ~1 MB of requests it has not read, and (b) 20
 * connections the kernel completed while the server was stopped (SIGSTOP),
 * so they wait in the accept backlog. Both must end cleanly: (a) answered in
 * order up to the drain, then BUSY; (b) BUSY at 2^63 or an answer, never a reset.
 */
async function pausedAndBacklog(size: Size, f: Findings): Promise<void> {
  const graceMs = 10_000;
  const server = await serve(size, ['--shutdown-timeout', `${graceMs}ms`, '--max-inflight', '8', '--max-output-buffer', '256mb']);
  const pid = pidOf(server);
  const setup = await RawClient.connect(server.port);
  setup.write(frame(0, setRequest('shutdown-big', Buffer.alloc(4_000, 7))));
  await setup.waitFrames(1);
  const gets = 40_000;
  const paused = await RawClient.connect(server.port);
  paused.socket.pause();
  paused.write(Array.from({ length: gets }, (_, i) => frame(i, { op: 'GET', key: b('shutdown-big') })));
  await sleep(300);
  process.kill(pid, 'SIGSTOP');
  let backlog: RawClient[];
  try {
    backlog = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.port)));
    for (const c of backlog) c.write(frame(0, { op: 'INCR', key: b('shutdown-backlog'), delta: 1n, ttlMs: 0 }));
    await sleep(50);
    process.kill(pid, 'SIGTERM');
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const signalled = performance.now();
  paused.socket.resume();
  const exit = await server.exited;
  const exitedMs = performance.now() - signalled;
  await until(() => paused.closed && backlog.every((c) => c.closed), 5_000, 'the paused and backlog clients to see the end');
  const statuses = paused.frames.map((x) => x.opcode);
  const firstBusy = statuses.indexOf(Status.BUSY);
  const okRun = firstBusy < 0 ? statuses.length : firstBusy;
  const pausedInOrder =
    paused.frames.every((x, i) => x.id === BigInt(i)) &&
    statuses.slice(0, okRun).every((st) => st === Status.OK) &&
    statuses.slice(okRun).every((st) => st === Status.BUSY);
  const pausedClean = paused.ended && paused.error === undefined;
  const refusedBusy = backlog.filter((c) => c.frames.length === 1 && c.frames[0]?.id === SERVER_ID_BASE && c.frames[0].opcode === Status.BUSY).length;
  const answered = backlog.filter((c) => c.frames.length === 1 && c.frames[0]?.id === 0n).length;
  const backlogClean = backlog.filter((c) => c.ended && c.error === undefined).length;
  f.figure(
    `Paused by --max-inflight 8 with ${count(gets)} GETs of 4,000 B sent and unread: after SIGTERM it got ${count(okRun)} OK then ${count(statuses.length - okRun)} BUSY in order, ` +
      `${pausedClean ? 'a clean end' : `no clean end (${paused.error?.message ?? 'no end'})`}; 20 connections in the accept backlog at SIGTERM: ${refusedBusy} BUSY at 2^63, ${answered} answered, ` +
      `${backlogClean}/20 clean ends${backlogClean < 20 ? ` (${[...new Set(backlog.map((c) => c.error?.message ?? (c.ended ? 'clean' : 'no end')))].join(', ')})` : ''}; exit code ${exit.code} after ${exitedMs.toFixed(0)} ms`,
  );
  f.expect(
    `the paused connection is read again and drained: answers in order, then a clean end (${okRun} OK, ${pausedClean ? 'clean' : 'not clean'})`,
    pausedInOrder && pausedClean && okRun > 8,
  );
  f.expect(
    `backlog connections get BUSY at 2^63 or their answer, and a clean end, never a reset (${refusedBusy + answered}/20 answered, ${backlogClean}/20 clean)`,
    refusedBusy + answered === 20 && backlogClean === 20,
  );
  f.expect(`exit code 0 well within the grace period (code ${exit.code}, ${exitedMs.toFixed(0)} ms of ${graceMs})`, exit.code === 0 && exitedMs < graceMs / 2);
}
