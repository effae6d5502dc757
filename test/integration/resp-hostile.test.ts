// Attacks on the RESP port (issue 23) over real sockets: malformed RESP at every byte offset, lengths
// past the limits, a 1M-element array, 64 KiB inline lines, a client that never reads, and
// half-sent commands. Each ends only the attacker's connection, with Redis's reply where there is
// one, and the server keeps serving a healthy client meanwhile.
import { describe, expect, it } from 'vitest';
import { respLimits } from '../../src/protocol/resp-parser.js';
import { RespRaw } from '../support/resp-raw.js';
import { encodeResp, parseOutcome } from '../support/resp.js';
import { rawClient, startServer } from '../support/server.js';

const cmd = (...args: (string | Buffer)[]): Buffer => encodeResp(args);
const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How many whole top-level RESP2 replies `text` holds (the replies before an error must all be there). */
function countReplies(text: string): number {
  let at = 0;
  const one = (): boolean => {
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) return false;
    const type = text[at];
    const n = Number(text.slice(at + 1, eol));
    at = eol + 2;
    if (type === '$') {
      if (n >= 0) at += n + 2;
      return at <= text.length;
    }
    if (type === '*') {
      for (let i = 0; i < n; i += 1) if (!one()) return false;
    }
    return true;
  };
  let count = 0;
  while (at < text.length && one()) count += 1;
  return count;
}

/**
 * A well-behaved client beside the attacks: SET then GET of its own key, one at a time,
 * until stopped; counts wrong answers. Resolves with how many pairs it completed.
 */
function healthy(port: number): { stop(): Promise<{ pairs: number; wrong: number; failed: string | undefined }> } {
  let stopped = false;
  let pairs = 0;
  let wrong = 0;
  let failed: string | undefined;
  const done = (async () => {
    const c = await RespRaw.connect(port);
    for (let i = 0; !stopped; i += 1) {
      const value = `healthy-${i}`;
      const expected = `+OK\r\n$${value.length}\r\n${value}\r\n`;
      const before = c.bytes;
      c.write(Buffer.concat([cmd('SET', 'healthy', value), cmd('GET', 'healthy')]));
      await c.until(() => c.bytes >= before + expected.length || c.ended, 10_000);
      if (c.text.slice(before) !== expected) wrong += 1;
      pairs += 1;
    }
    c.destroy();
  })().catch((err: unknown) => {
    failed = (err as Error).message;
  });
  return {
    async stop() {
      stopped = true;
      await done;
      return { pairs, wrong, failed };
    },
  };
}

describe('hostile RESP clients', () => {
  it('malformed RESP at every byte offset of a small pipeline: the replies before it, -ERR Protocol error…, the end; others served', { timeout: 120_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0 });
    const port = respPort ?? 0;
    const pipeline = Buffer.concat([cmd('SET', 'k', 'v'), cmd('GET', 'k'), Buffer.from('PING\r\n'), cmd('DEL', 'k')]);
    const good = healthy(port);
    let broken = 0;
    const seen = new Set<string>();
    for (let at = 0; at < pipeline.length; at += 1) {
      // Bytes that break the framing wherever they land: a letter, a CR, a quote.
      await Promise.all(
        [0x78, 0x0d, 0x22].map(async (byte) => {
          const bytes = Buffer.from(pipeline);
          bytes[at] = byte;
          const expected = parseOutcome(bytes);
          if (expected.error === undefined) return; // still valid (a value byte) or waiting for more
          broken += 1;
          seen.add(expected.error);
          const c = await RespRaw.connect(port);
          c.write(bytes);
          await c.waitEnded(10_000);
          const text = c.text;
          const tail = `-ERR ${expected.error}\r\n`;
          expect(text.endsWith(tail), `byte ${at} = ${byte}: ${JSON.stringify(text)}`).toBe(true);
          expect(countReplies(text.slice(0, text.length - tail.length)), `byte ${at} = ${byte}`).toBe(expected.commands);
          c.destroy();
        }),
      );
    }
    const h = await good.stop();
    expect(broken).toBeGreaterThan(pipeline.length); // most offsets break it with at least one byte
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(['Protocol error: expected \'$\', got \'x\'', 'Protocol error: invalid bulk length', 'Protocol error: invalid multibulk length', 'Protocol error: unbalanced quotes in request']),
    );
    expect(server.counters.disconnects.protocol_error).toBe(broken);
    expect(h).toEqual({ pairs: h.pairs, wrong: 0, failed: undefined });
    expect(h.pairs).toBeGreaterThan(0);
  });

  it('$ lengths past --max-value-size are refused at the header, before any body byte; at the limit they are stored', { timeout: 30_000 }, async () => {
    const maxValueSize = 100_000;
    const { respPort, server } = await startServer({ respPort: 0, maxValueSize, maxMemory: 64 * 1024 * 1024 });
    const port = respPort ?? 0;
    const value = Buffer.alloc(maxValueSize, 0x61);
    const ok = await RespRaw.connect(port);
    ok.write(Buffer.concat([cmd('SET', 'big', value), cmd('STRLEN', 'big')]));
    await ok.until(`+OK\r\n:${maxValueSize}\r\n`);
    for (const length of [maxValueSize + 1, 2_000_000_000, Number.MAX_SAFE_INTEGER]) {
      const c = await RespRaw.connect(port);
      c.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${length}\r\n`); // the header alone: no body follows
      await c.waitEnded();
      expect(c.text).toBe('-ERR Protocol error: invalid bulk length\r\n');
    }
    // A command whose values are each allowed but together pass 2 × --max-value-size + 1 MiB.
    const limit = respLimits(maxValueSize).maxCommandBytes;
    const mset = ['MSET'];
    for (let i = 0; i * maxValueSize <= limit; i += 1) mset.push(`k${i}`, 'x'.repeat(maxValueSize));
    const c = await RespRaw.connect(port);
    c.write(cmd(...mset));
    await c.waitEnded();
    expect(c.text).toBe(`-ERR Protocol error: command larger than ${limit} bytes\r\n`);
    expect(server.counters.disconnects.protocol_error).toBe(4);
    ok.write(cmd('PING'));
    await ok.until('+PONG\r\n');
  });

  it('a 1M-element array (*1000000 of $1 a): refused once its bytes pass the command bound; others served', { timeout: 60_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0 });
    const port = respPort ?? 0;
    const good = healthy(port);
    const c = await RespRaw.connect(port);
    c.write('*1000000\r\n');
    const element = Buffer.from('$1\r\na\r\n');
    const batch = Buffer.concat(Array.from({ length: 10_000 }, () => element)); // 70 KB
    for (let i = 0; i < 100 && !c.ended; i += 1) {
      c.write(batch);
      if (i % 10 === 9) await sleep(1);
    }
    await c.waitEnded(20_000);
    expect(c.text).toBe(`-ERR Protocol error: command larger than ${respLimits(1024 * 1024).maxCommandBytes} bytes\r\n`);
    const h = await good.stop();
    expect([h.wrong, h.failed]).toEqual([0, undefined]);
    expect(server.counters.disconnects.protocol_error).toBe(1);
  });

  it('before AUTH (--resp-password), arrays over 10 elements and bulks over 16 KiB are refused, as Redis 7.0 does; after it they pass', { timeout: 30_000 }, async () => {
    const { respPort, server } = await startServer({ respPort: 0, respPassword: 'pw' });
    const port = respPort ?? 0;
    for (const [bytes, reply] of [
      ['*11\r\n', '-ERR Protocol error: unauthenticated multibulk length\r\n'],
      ['*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n', '-ERR Protocol error: unauthenticated bulk length\r\n'],
      [cmd('AUTH', 'wrong').toString('latin1') + '*1\r\n$20000\r\n', '-WRONGPASS invalid username-password pair or user is disabled.\r\n-ERR Protocol error: unauthenticated bulk length\r\n'],
    ] as const) {
      const c = await RespRaw.connect(port);
      c.write(bytes);
      await c.waitEnded();
      expect(c.text).toBe(reply);
    }
    const ok = await RespRaw.connect(port);
    ok.write(Buffer.concat([cmd('GET', 'k'), cmd('AUTH', 'pw'), cmd('SET', 'k', 'v'.repeat(100_000)), cmd('STRLEN', 'k'), cmd('DEL', ...Array.from({ length: 20 }, (_, i) => `k${i}`))]));
    await ok.until('-NOAUTH Authentication required.\r\n+OK\r\n+OK\r\n:100000\r\n:0\r\n');
    expect(server.counters.disconnects.protocol_error).toBe(3);
  });

  it('inline lines: 65,536 bytes are one command, 65,537 are too big', { timeout: 30_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const port = respPort ?? 0;
    const line = (n: number): string => `ECHO ${'x'.repeat(n - 5)}`;
    const ok = await RespRaw.connect(port);
    ok.write(`${line(65_536)}\r\nPING\r\n`);
    await ok.until(`$65531\r\n${'x'.repeat(65_531)}\r\n+PONG\r\n`);
    const over = await RespRaw.connect(port);
    over.write(`PING\r\n${line(65_537)}\r\n`);
    await over.waitEnded();
    expect(over.text).toBe('+PONG\r\n-ERR Protocol error: too big inline request\r\n');
    // Without any LF the line is refused as soon as it passes the bound.
    const endless = await RespRaw.connect(port);
    endless.write('x'.repeat(200_000));
    await endless.waitEnded();
    expect(endless.text).toBe('-ERR Protocol error: too big inline request\r\n');
  });

  it('a client sending 200,000 GETs of a 100 KiB value and reading nothing holds bounded output; others are served', { timeout: 60_000 }, async () => {
    const maxOutputBuffer = 16 * 1024 * 1024;
    const { respPort, server } = await startServer({ respPort: 0, maxOutputBuffer, maxMemory: 64 * 1024 * 1024 });
    const port = respPort ?? 0;
    const setup = await RespRaw.connect(port);
    const value = Buffer.alloc(100 * 1024, 0x76);
    setup.write(cmd('SET', 'v', value));
    await setup.until('+OK\r\n');
    const sink = await RespRaw.connect(port);
    sink.socket.pause(); // reads nothing
    const gets = Buffer.concat(Array.from({ length: 10_000 }, () => cmd('GET', 'v')));
    for (let i = 0; i < 20; i += 1) sink.socket.write(gets); // 200,000 GETs; Node queues what the kernel does not take
    const good = healthy(port);
    await sleep(1_500);
    const h = await good.stop();
    const output = server.outputMemory;
    const executed = server.counters.total_commands_processed;
    // Paused at a quarter of the bound (plus one turn's replies): far below 200,000 × 100 KiB.
    expect(output.peak).toBeLessThanOrEqual(maxOutputBuffer);
    expect(output.now).toBeGreaterThan(0); // the sink's replies are still held: it is paused, not gone
    expect(server.counters.disconnects.output_buffer).toBe(0);
    expect(sink.ended).toBe(false);
    expect(executed).toBeLessThan(200_000); // most GETs wait unread
    expect([h.wrong, h.failed]).toEqual([0, undefined]);
    expect(h.pairs).toBeGreaterThan(0);
    sink.destroy();
    // Gone with its connection: its output is released and its slot freed.
    await setup.until(() => server.outputMemory.now === 0 && server.counters.connected_clients === 1, 10_000);
  });

  it('half-sent commands (slowloris) are closed by --frame-timeout, trickling ones too; others served', { timeout: 30_000 }, async () => {
    const frameTimeoutMs = 600;
    const { respPort, server } = await startServer({ respPort: 0, frameTimeoutMs });
    const port = respPort ?? 0;
    const good = healthy(port);
    const halves = ['*2\r\n$3\r\nGET\r\n$1', '*1\r\n', 'GET k', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc'];
    const attackers = await Promise.all(halves.map(async (half) => {
      const c = await RespRaw.connect(port);
      c.write(half);
      return c;
    }));
    // One more sends a byte of a never-ending value every 100 ms: bytes alone do not reset the timer.
    const trickler = await RespRaw.connect(port);
    trickler.write('*2\r\n$4\r\nECHO\r\n$1000000\r\n');
    const timer = setInterval(() => {
      if (!trickler.ended) trickler.write('a');
    }, 100);
    try {
      await Promise.all([...attackers, trickler].map((c) => c.waitEnded(10_000)));
    } finally {
      clearInterval(timer);
    }
    const h = await good.stop();
    expect(attackers.map((c) => c.text)).toEqual(halves.map(() => ''));
    expect(server.counters.disconnects.frame_timeout).toBe(halves.length + 1);
    expect([h.wrong, h.failed]).toEqual([0, undefined]);
    expect(h.pairs).toBeGreaterThan(0);
  });

  it('COMMAND DOCS / INFO naming set 340,000 times stop at --max-output-buffer; INFO all × 340,000 is one INFO; others served, memory bounded', { timeout: 60_000 }, async () => {
    const maxOutputBuffer = 16 * 1024 * 1024;
    const { respPort } = await startServer({ respPort: 0, maxOutputBuffer });
    const port = respPort ?? 0;
    // A PING client beside it (not healthy(): its text grows for the whole test, and reading it is quadratic).
    let stopped = false;
    const pinger = await RespRaw.connect(port);
    const pings = (async () => {
      let n = 0;
      for (; !stopped && !pinger.ended; n += 1) {
        pinger.write('PING\r\n');
        await pinger.until(() => pinger.bytes >= 7 * (n + 1) || pinger.ended, 30_000);
      }
      return n;
    })();
    const refused = `-ERR COMMAND reply would pass ${maxOutputBuffer} bytes (--max-output-buffer)\r\n`;
    // The requests are built before RSS is read: this process is the client too.
    const requests = ([['DOCS', 340_000], ['INFO', 300_000]] as const).map(([sub, n]) => encodeResp(['COMMAND', sub, ...Array.from({ length: n }, () => 'set')]));
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    // Found by an outside attack: COMMAND DOCS built a 500 MB reply before it was refused.
    for (const request of requests) {
      const c = await RespRaw.connect(port);
      c.write(request);
      await c.until(refused, 30_000);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      c.write('PING\r\n');
      await c.until(`${refused}+PONG\r\n`, 10_000);
      c.destroy();
    }
    // The reply is built up to the bound and one entry past it, then dropped. Before the fix COMMAND DOCS
    // grew RSS by 500 MB; the bound leaves room for the parsed request and the test runner beside it.
    expect(rssPeak - rssBefore).toBeLessThan(16 * maxOutputBuffer);
    const info = await RespRaw.connect(port);
    info.write(encodeResp(['INFO', ...Array.from({ length: 340_000 }, () => 'all')]));
    await info.until(() => info.text.includes('# Keyspace'), 30_000);
    const single = await RespRaw.connect(port);
    single.write(cmd('INFO', 'all'));
    await single.until(() => single.text.includes('# Keyspace'), 10_000);
    const sections = (text: string): string[] => text.split('\r\n').filter((line) => line.startsWith('# '));
    expect(sections(info.text)).toEqual(sections(single.text));
    stopped = true;
    const n = await pings;
    expect(pinger.ended).toBe(false);
    expect(n).toBeGreaterThan(0);
    expect(pinger.text).toBe('+PONG\r\n'.repeat(n));
  });

  it('40 unauthenticated 1 MiB SETs (--resp-password) are refused at their header; an authenticated 500 KB SET and a Conduit client are served', { timeout: 60_000 }, async () => {
    const { respPort, port: conduitPort, server } = await startServer({ respPort: 0, respPassword: 'pw' });
    const port = respPort ?? 0;
    // Found by an outside attack: 40 such peers filled the server-wide input budget (BUSY for everyone).
    const attackers = await Promise.all(Array.from({ length: 40 }, () => RespRaw.connect(port)));
    const body = Buffer.alloc(1_048_000, 0x61);
    for (const c of attackers) {
      c.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${1024 * 1024}\r\n`);
      c.write(body);
    }
    await Promise.all(attackers.map((c) => c.waitEnded(20_000)));
    expect(new Set(attackers.map((c) => c.text))).toEqual(new Set(['-ERR Protocol error: unauthenticated bulk length\r\n']));
    expect(server.counters.disconnects.protocol_error).toBe(40);
    const ok = await RespRaw.connect(port);
    ok.write(Buffer.concat([cmd('AUTH', 'pw'), cmd('SET', 'big', Buffer.alloc(500_000, 0x62)), cmd('STRLEN', 'big')]));
    await ok.until('+OK\r\n+OK\r\n:500000\r\n', 10_000);
    const conduit = await rawClient(conduitPort);
    expect(conduit).toBeDefined(); // the Conduit port still accepts connections
  });

  it('with --resp-password a connection not authenticated within --handshake-timeout is closed; without a password none is', { timeout: 30_000 }, async () => {
    const handshakeTimeoutMs = 500;
    const secured = await startServer({ respPort: 0, respPassword: 'pw', handshakeTimeoutMs });
    const silent = await RespRaw.connect(secured.respPort ?? 0);
    const chatty = await RespRaw.connect(secured.respPort ?? 0);
    chatty.write('PING\r\n'); // commands before AUTH do not extend the deadline
    const authed = await RespRaw.connect(secured.respPort ?? 0);
    authed.write(cmd('AUTH', 'pw'));
    await authed.until('+OK\r\n');
    await Promise.all([silent.waitEnded(10_000), chatty.waitEnded(10_000)]);
    expect([silent.text, chatty.text]).toEqual(['', '-NOAUTH Authentication required.\r\n']);
    expect(secured.server.counters.disconnects.handshake_timeout).toBe(2);
    await sleep(handshakeTimeoutMs + 600); // past the deadline and at least one sweep more
    authed.write('PING\r\n');
    await authed.until('+OK\r\n+PONG\r\n');
    expect(authed.ended).toBe(false);
    expect(secured.server.counters.disconnects.handshake_timeout).toBe(2);

    const open = await startServer({ respPort: 0, handshakeTimeoutMs });
    const idle = await RespRaw.connect(open.respPort ?? 0);
    await sleep(handshakeTimeoutMs + 600);
    idle.write('PING\r\n');
    await idle.until('+PONG\r\n');
    expect(idle.ended).toBe(false);
    expect(open.server.counters.disconnects.handshake_timeout).toBe(0);
  });

  it('a NUL byte in an inline command is a protocol error: SET nulk v\\0 EX 10 never runs', { timeout: 30_000 }, async () => {
    const { respPort } = await startServer({ respPort: 0 });
    const port = respPort ?? 0;
    const c = await RespRaw.connect(port);
    c.write('PING\r\nSET nulk v\0 EX 10\r\nPING\r\n');
    await c.waitEnded();
    expect(c.text).toBe('+PONG\r\n-ERR Protocol error: NUL byte in inline request\r\n');
    const check = await RespRaw.connect(port);
    check.write(Buffer.concat([cmd('EXISTS', 'nulk'), b('*1\r\n$5\r\nPING\0\r\n')]));
    await check.until(":0\r\n-ERR unknown command 'PING', with args beginning with: \r\n");
  });
});
