// Scenario 21 (issue 23): the RESP port under attack. Malformed RESP of every class Redis names
// and at every byte offset of a pipeline, lengths past the bounds, a 1M-element array, a client
// that never reads 200,000 GETs of 100 KiB, and half-sent commands, against a conduit-server
// child process, with a healthy RESP client timed throughout.
import { respLimits } from '../../../src/protocol/resp-parser.js';
import { RawClient } from '../../support/raw-client.js';
import { RespRaw } from '../../support/resp-raw.js';
import { encodeResp, parseOutcome } from '../../support/resp.js';
import type { ServerProcess } from '../../support/cli.js';
import { count, ms, percentile, pidOf, rssMiB, serve, sleep, statsOf, until, watchRss, type Scenario } from '../harness.js';

const cmd = (...args: (string | Buffer)[]): Buffer => encodeResp(args);

/** The RESP port from the start line's `resp` field ("host:port"). */
function respPortOf(server: ServerProcess): number {
  const line = server.logs().find((l) => l.msg === 'conduit-server listening');
  return Number(String(line?.resp).split(':').at(-1));
}

/** A healthy RESP client: SET then GET of its own key, one at a time, timed, until stopped. */
class RespHealthy {
  readonly latencies: number[] = [];
  wrong = 0;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  #failure: string | undefined;

  private constructor(readonly raw: RespRaw) {}

  static async start(port: number): Promise<RespHealthy> {
    const h = new RespHealthy(await RespRaw.connect(port));
    h.#done = h.#loop().catch((err: unknown) => {
      h.#failure = (err as Error).message;
    });
    return h;
  }

  async #loop(): Promise<void> {
    const c = this.raw;
    for (let i = 0; !this.#stopped; i += 1) {
      const value = `healthy-${i}`;
      const expected = `+OK\r\n$${value.length}\r\n${value}\r\n`;
      const before = c.bytes;
      const started = performance.now();
      c.write(Buffer.concat([cmd('SET', 'healthy', value), cmd('GET', 'healthy')]));
      await c.until(() => c.bytes >= before + expected.length || c.ended, 10_000);
      this.latencies.push(performance.now() - started);
      if (c.text.slice(before) !== expected) this.wrong += 1;
    }
  }

  async stop(): Promise<{ p50: number; p99: number; count: number; wrong: number; failure: string | undefined }> {
    this.#stopped = true;
    await this.#done;
    this.raw.destroy();
    const sorted = [...this.latencies].sort((x, y) => x - y);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: sorted.length, wrong: this.wrong, failure: this.#failure };
  }

  /** p99 over `durationMs` of a fresh healthy client. */
  static async measure(port: number, durationMs: number): Promise<{ p99: number; wrong: number }> {
    const h = await RespHealthy.start(port);
    await sleep(durationMs);
    const r = await h.stop();
    return { p99: r.p99, wrong: r.wrong + (r.failure === undefined ? 0 : 1) };
  }
}

/** Sends `bytes` on a fresh connection and waits for the server to end it (or `timeoutMs`). */
async function attack(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<{ text: string; ended: boolean }> {
  const c = await RespRaw.connect(port);
  c.write(bytes);
  await c.waitEnded(timeoutMs).catch(() => {});
  const result = { text: c.text, ended: c.ended };
  c.destroy();
  return result;
}

export const resp: Scenario = {
  number: 21,
  id: 'resp',
  title: 'RESP port under attack',
  budgetMs: 120_000,
  async run(size, f) {
    const maxValueSize = 1024 * 1024;
    const frameTimeout = size.quick ? 1_000 : 2_000;
    const maxOutputBuffer = 16 * 1024 * 1024;
    const server = await serve(size, ['--resp-port', '0', '--max-memory', '64mb', '--frame-timeout', `${frameTimeout}ms`, '--max-connections', '5000']);
    const port = respPortOf(server);
    const pid = pidOf(server);
    const admin = await RawClient.connect(server.port);
    const before = await RespHealthy.measure(port, size.quick ? 500 : 2_000);
    const healthy = await RespHealthy.start(port);

    // 1. Malformed RESP: each class Redis 7.0 names, and a pipeline broken at every byte offset.
    const limits = respLimits(maxValueSize);
    const classes: [string, string][] = [
      ['*abc\r\n', 'Protocol error: invalid multibulk length'],
      ['*1048577\r\n', 'Protocol error: invalid multibulk length'],
      ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
      [`*1\r\n$${maxValueSize + 1}\r\n`, 'Protocol error: invalid bulk length'],
      ['*1\r\n$2000000000\r\n', 'Protocol error: invalid bulk length'],
      ['*1\r\nfoo\r\n', "Protocol error: expected '$', got 'f'"],
      [`*${'1'.repeat(70_000)}`, 'Protocol error: too big mbulk count string'],
      [`*1\r\n$${'1'.repeat(70_000)}`, 'Protocol error: too big bulk count string'],
      ['SET "a b\r\n', 'Protocol error: unbalanced quotes in request'],
      [`ECHO ${'x'.repeat(65_532)}\r\n`, 'Protocol error: too big inline request'],
      [`*7\r\n$4\r\nMSET\r\n$1\r\na\r\n$${maxValueSize}\r\n${'v'.repeat(maxValueSize)}\r\n$1\r\nb\r\n$${maxValueSize}\r\n${'v'.repeat(maxValueSize)}\r\n$1\r\nc\r\n$${maxValueSize}\r\n`, `Protocol error: command larger than ${limits.maxCommandBytes} bytes`],
    ];
    let classesOk = 0;
    for (const [bytes, message] of classes) {
      const got = await attack(port, Buffer.from(bytes, 'latin1'));
      if (got.ended && got.text === `-ERR ${message}\r\n`) classesOk += 1;
    }
    const pipeline = Buffer.concat([cmd('SET', 'k', 'v'), cmd('GET', 'k'), Buffer.from('PING\r\n'), cmd('MGET', 'k', 'x'), cmd('DEL', 'k')]);
    let broken = 0;
    let brokenOk = 0;
    for (let at = 0; at < pipeline.length; at += 1) {
      await Promise.all(
        [0x78, 0x0d, 0x22, 0x2a].map(async (byte) => {
          const bytes = Buffer.from(pipeline);
          bytes[at] = byte;
          const expected = parseOutcome(bytes, maxValueSize);
          if (expected.error === undefined) return;
          broken += 1;
          const got = await attack(port, bytes);
          if (got.ended && got.text.endsWith(`-ERR ${expected.error}\r\n`)) brokenOk += 1;
        }),
      );
    }

    // 2. A 1M-element array: refused once its bytes pass the command bound, its memory bounded by it.
    const rss0 = rssMiB(pid);
    const rssArray = watchRss(pid);
    const big = await RespRaw.connect(port);
    big.write('*1000000\r\n');
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => Buffer.from('$1\r\na\r\n')));
    for (let i = 0; i < 100 && !big.ended; i += 1) {
      big.write(batch);
      if (i % 10 === 9) await sleep(1);
    }
    await big.waitEnded(20_000).catch(() => {});
    const arrayText = big.text;
    big.destroy();
    const arrayGrowth = rssArray.stop() - rss0;

    // 3. A client that sends 200,000 GETs of a 100 KiB value and reads nothing.
    const setup = await RespRaw.connect(port);
    setup.write(cmd('SET', 'v', Buffer.alloc(100 * 1024, 0x76)));
    await setup.until('+OK\r\n');
    setup.destroy();
    const rss1 = rssMiB(pid);
    const rssSink = watchRss(pid);
    const total0 = stat0(await statsOf(admin), 'total_commands_processed');
    const pairs0 = healthy.latencies.length;
    const sink = await RespRaw.connect(port);
    sink.socket.pause();
    const gets = Buffer.concat(Array.from({ length: 10_000 }, () => cmd('GET', 'v')));
    for (let i = 0; i < 20; i += 1) sink.socket.write(gets);
    await sleep(size.quick ? 1_000 : 5_000);
    const sinkStats = await statsOf(admin);
    // The sink's own: all commands run meanwhile, less the healthy client's two per pair (±1 pair in flight).
    const sinkCommands = stat0(sinkStats, 'total_commands_processed') - total0 - 2 * (healthy.latencies.length - pairs0);
    const sinkGrowth = rssSink.stop() - rss1;
    const sinkOpen = !sink.ended;
    sink.destroy();

    // 4. Slowloris: half-sent commands of both kinds, closed by --frame-timeout.
    const n = size.quick ? 50 : 500;
    const halves = ['*2\r\n$3\r\nGET\r\n$1', 'GET k', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc', '*1\r\n'];
    const slow: { c: RespRaw; opened: number; closed: number }[] = [];
    for (let i = 0; i < n; i += 100) {
      const opened = await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => RespRaw.connect(port)));
      opened.forEach((c, j) => {
        const entry = { c, opened: performance.now(), closed: 0 };
        c.socket.on('close', () => (entry.closed = performance.now()));
        c.write(halves[(i + j) % halves.length] ?? '');
        slow.push(entry);
      });
    }
    await until(() => slow.every((e) => e.closed > 0), frameTimeout + 10_000, 'the half-sent commands to be closed').catch(() => {});
    const closedSlow = slow.filter((e) => e.closed > 0).length;
    const off = Math.max(...slow.filter((e) => e.closed > 0).map((e) => Math.abs(e.closed - e.opened - frameTimeout)));
    for (const e of slow) e.c.destroy();

    const during = await healthy.stop();
    const stats = await statsOf(admin);
    admin.destroy();
    const disconnects = stats.disconnects;
    const alive = server.child.exitCode === null;
    const expectedArray = `-ERR Protocol error: command larger than ${limits.maxCommandBytes} bytes\r\n`;
    f.figure(
      `${classesOk}/${classes.length} malformed classes (every protocol error Redis 7.0 names, lengths past --max-value-size 1 MiB, ` +
        `a 65,537-byte inline line, a command past ${count(limits.maxCommandBytes)} bytes) got Redis's reply and the end; ` +
        `a ${pipeline.length}-byte pipeline broken at every offset: ${brokenOk}/${broken} breakages answered as the parser predicts, then ended; ` +
        `protocol_error disconnects ${count(disconnects.protocol_error ?? 0)}`,
    );
    f.figure(
      `*1000000 of \`$1 a\`: ${arrayText === expectedArray ? 'refused' : 'NOT refused'} at ${count(limits.maxCommandBytes)} bytes; server RSS grew ${arrayGrowth.toFixed(1)} MiB at most`,
    );
    f.figure(
      `200,000 pipelined GETs of 100 KiB (19.5 GiB of replies), nothing read, --max-output-buffer 16 MiB: ` +
        `${sinkOpen ? 'paused, still connected' : 'disconnected'} after ≈ ${count(sinkCommands)} of its GETs ran; ` +
        `queued output ${mib(stat0(sinkStats, 'output_memory'))} MiB (peak ${mib(stat0(sinkStats, 'output_memory_peak'))} MiB); server RSS grew ${sinkGrowth.toFixed(1)} MiB at most`,
    );
    f.figure(
      `${count(n)} half-sent commands (RESP and inline, a bulk cut short, a bare header): ${count(closedSlow)} closed by the ${frameTimeout} ms frame timeout ` +
        `within ±${off.toFixed(0)} ms; frame_timeout counter ${count(disconnects.frame_timeout ?? 0)}`,
    );
    f.figure(
      `healthy RESP client p99 ${ms(before.p99)} before, ${ms(during.p99)} during all of it (${count(during.count)} SET+GET pairs, ${during.wrong} wrong); server ${alive ? 'alive' : 'exited'}`,
    );
    f.expect(`every malformed class gets its reply and the end (${classesOk}/${classes.length})`, classesOk === classes.length);
    f.expect(`every breakage of the pipeline gets the predicted reply and the end (${brokenOk}/${broken})`, brokenOk === broken && broken > pipeline.length);
    f.expect(`protocol_error counts every one (${disconnects.protocol_error ?? 0} = ${classes.length + broken + 1})`, disconnects.protocol_error === classes.length + broken + 1);
    f.expect(`the 1M-element array is refused at the command bound (${JSON.stringify(arrayText)})`, arrayText === expectedArray);
    // Its wire bytes, and an 8-byte position per argument (≥ 6 wire bytes each) in a table that doubles: under 4× the bound.
    f.expect(`the 1M-element array grows RSS by at most 4 × the command bound (${arrayGrowth.toFixed(1)} MiB)`, arrayGrowth <= (4 * limits.maxCommandBytes) / 1024 / 1024);
    f.expect(
      `the non-reader is paused with its queued output within --max-output-buffer (peak ${mib(stat0(sinkStats, 'output_memory_peak'))} MiB) and not disconnected`,
      sinkOpen && stat0(sinkStats, 'output_memory_peak') <= maxOutputBuffer && (disconnects.output_buffer ?? 0) === 0,
    );
    f.expect(`the non-reader grows RSS by at most 2 × --max-output-buffer + 8 MiB (${sinkGrowth.toFixed(1)} MiB)`, sinkGrowth <= 40);
    f.expect(`every half-sent command is closed by the frame timeout, counted (${closedSlow}/${n}, counter ${disconnects.frame_timeout ?? 0})`, closedSlow === n && disconnects.frame_timeout === n);
    f.expect(`the healthy client's answers are all correct (${during.wrong} wrong${during.failure === undefined ? '' : `, failed: ${during.failure}`})`, during.wrong === 0 && during.failure === undefined && during.count > 0 && before.wrong === 0);
    f.expect('the server stays alive', alive);
    f.expect(`the non-reader ran a small part of its 200,000 GETs before it was paused (≈ ${count(sinkCommands)})`, sinkCommands < 100_000);
    f.expectTiming(`the frame timeout fires within ±1 s (off by ${off.toFixed(0)} ms)`, off <= 1_000);
    f.expectTiming(`healthy p99 during (${ms(during.p99)}) within 2× of before (${ms(before.p99)})`, during.p99 <= 2 * before.p99);
  },
};

const stat0 = (stats: Record<string, unknown>, name: string): number => (typeof stats[name] === 'number' ? (stats[name] as number) : Number.NaN);
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);
