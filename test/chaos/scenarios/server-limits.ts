// Scenarios 15, 16, 18 and 19 of issue 15: the server-wide limits. Output all
// connections hold together, unauthenticated connections holding slots, the
// cost of a HELLO naming an unknown key id, and running out of descriptors.
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { ConduitClient,  generateEphemeral, generateKey, HEADER_SIZE,  SERVER_ID_BASE, Status,  type PreSharedKey } from '../../../src/index.js';
import { startServerProcess } from '../../support/cli.js';
import { RawClient } from '../../support/raw-client.js';
import { secureRaw } from '../../support/secure-client.js';
import { helloFrame } from '../../../src/crypto/secure-channel.js';
import { b, count, frame, ms, percentile, pidOf, serve, sleep, until, watchRss, type Scenario } from '../harness.js';

const newKey = (id: string): PreSharedKey => ({ id, secret: Buffer.from(generateKey(), 'base64') });
const keyEnv = (key: PreSharedKey): Record<string, string> => ({ CONDUIT_KEY: `${key.id}:${key.secret.toString('base64')}` });

const hello = (keyId: string): Buffer => helloFrame(keyId, generateEphemeral().publicKey);

type Stats = Record<string, unknown> & { disconnects: Record<string, number> };
const statsOf = async (c: ConduitClient): Promise<Stats> => (await c.stats()) as Stats;

/**
 * A healthy secure client: SET then GET of its own key, one at a time, until
 * stopped; counts answers that are not what it stored and records latencies.
 */
function secureHealthy(port: number, key: PreSharedKey, deadlineMs: number): { stop(): Promise<{ p99: number; count: number; wrong: number; failed: string | undefined }> } {
  const client = new ConduitClient({ port, key, reconnect: false, requestTimeoutMs: 10_000 });
  const latencies: number[] = [];
  let wrong = 0;
  let stopped = false;
  let failed: string | undefined;
  const done = (async () => {
    await client.connect();
    const deadline = performance.now() + deadlineMs;
    for (let i = 0; !stopped && performance.now() < deadline; i += 1) {
      const value = `healthy-${i}`;
      const started = performance.now();
      await client.set('healthy-probe-key', value);
      const got = await client.getString('healthy-probe-key');
      latencies.push(performance.now() - started);
      if (got !== value) wrong += 1;
    }
  })().catch((err: unknown) => {
    failed = (err as Error).message;
  });
  return {
    async stop() {
      stopped = true;
      await done;
      client.destroy();
      const sorted = latencies.sort((x, y) => x - y);
      return { p99: percentile(sorted, 99), count: sorted.length, wrong, failed };
    },
  };
}

export const outputMemory: Scenario = {
  number: 15,
  id: 'output-memory',
  title: 'Output memory of many slow readers',
  budgetMs: 120_000,
  async run(size, f) {
    const n = size.quick ? 20 : 160;
    const perClient = 250;
    // Quick: fewer connections, and a lower budget, so that it is reached: the kernel's socket buffers (the
    // server's send buffer and each paused peer's receive buffer, several MiB on loopback) take the first
    // MiB of each connection's answers, and 20 × 50 answers (3 MiB each) could sit there entirely on a quiet machine.
    const budgetFlags = size.quick ? ['--max-output-memory', '1mb'] : [];
    const budget = size.quick ? 1024 * 1024 : 32 * 1024 * 1024; // full: the default, twice --max-output-buffer (a quarter of 64mb is less)
    const key = newKey('output');
    const server = await serve(size, ['--max-memory', '64mb', ...budgetFlags], keyEnv(key));
    const pid = pidOf(server);
    const admin = new ConduitClient({ port: server.port, key, reconnect: false });
    await admin.connect();
    const value = Buffer.alloc(60 * 1024, 0x61);
    await admin.set('big', value);
    const rss = watchRss(pid);
    const healthy = secureHealthy(server.port, key, 60_000);
    const readers: RawClient[] = [];
    for (let i = 0; i < n; i += 1) {
      const s = await secureRaw(server.port, key);
      s.raw.socket.pause(); // reads nothing
      s.raw.write(Buffer.concat(Array.from({ length: perClient }, (_, j) => s.seal(BigInt(j + 1), { op: 'GET', key: b('big') }))));
      readers.push(s.raw);
    }
    // A reading client fetching the same large value meanwhile.
    let bigWrong = 0;
    for (let i = 0; i < 50; i += 1) if ((await admin.get('big'))?.equals(value) !== true) bigWrong += 1;
    let stats = await statsOf(admin);
    const deadline = performance.now() + 20_000;
    while ((stats.output_memory as number) > budget / 2 && performance.now() < deadline) {
      await sleep(100);
      stats = await statsOf(admin);
    }
    const peakRss = rss.stop();
    const h = await healthy.stop();
    for (const c of readers) c.destroy();
    const shed = stats.disconnects.output_memory ?? 0;
    const peak = stats.output_memory_peak as number;
    const oneResponse = HEADER_SIZE + value.length + 16;
    f.figure(
      `${n} non-reading secure connections × ${perClient} GETs of 60 KiB (${count((n * perClient * 60) / 1024)} MiB of sealed answers), ` +
        `--max-memory 64mb, --max-output-memory ${budget / 1024 / 1024} MiB${size.quick ? '' : ' (default)'}: ` +
        `${shed} disconnected for output memory, ${stats.disconnects.output_buffer ?? 0} for their own buffer; ` +
        `queued output peaked at ${(peak / 1024 / 1024).toFixed(2)} MiB; server RSS peaked at ${peakRss.toFixed(0)} MiB; ` +
        `healthy secure client ${count(h.count)} SET+GET pairs, ${h.wrong} wrong, p99 ${ms(h.p99)}; reading client's 50 GETs of 60 KiB: ${50 - bigWrong} correct`,
    );
    f.expect(`queued output peak ${peak} ≤ budget + one response (${budget + oneResponse})`, peak <= budget + oneResponse);
    f.expect(`the budget was reached and slow readers were disconnected, counted (output_memory ${shed})`, shed > 0 && peak > budget);
    f.expect(`the healthy client's answers are all correct (${h.wrong} wrong${h.failed === undefined ? '' : `, failed: ${h.failed}`})`, h.wrong === 0 && h.failed === undefined && h.count > 0);
    f.expect(`the reading client got all 50 large values right and stayed connected (${bigWrong} wrong)`, bigWrong === 0 && (await admin.health()) !== undefined);
    await admin.close();
  },
};

export const loiterers: Scenario = {
  number: 16,
  id: 'loiterers',
  title: 'Unauthenticated loiterers',
  budgetMs: 60_000,
  async run(size, f) {
    const max = size.quick ? 50 : 200;
    const timeoutMs = size.quick ? 1_000 : 5_000;
    const key = newKey('loiter');
    const flags = ['--max-connections', String(max), ...(size.quick ? ['--handshake-timeout', `${timeoutMs}ms`] : [])];
    const server = await serve(size, flags, keyEnv(key));
    const loiterers: RawClient[] = [];
    for (let i = 0; i < max; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, max - i) }, () => RawClient.connect(server.port)));
      batch.forEach((c, j) => {
        if ((i + j) % 2 === 1) c.write(hello(key.id).subarray(0, 30)); // half a HELLO; the others send nothing
      });
      loiterers.push(...batch);
    }
    const full = performance.now();
    let refused = 0;
    let legit: ConduitClient | undefined;
    while (legit === undefined && performance.now() - full < timeoutMs + 10_000) {
      const c = new ConduitClient({ port: server.port, key, reconnect: false });
      try {
        await c.connect();
        legit = c;
      } catch (err) {
        c.destroy();
        if ((err as { code?: string }).code === 'BUSY') refused += 1;
        await sleep(100);
      }
    }
    const waited = performance.now() - full;
    if (legit === undefined) throw new Error('the legitimate client never got in');
    const answered = await legit.set('k', 'v');
    await until(() => loiterers.every((c) => c.closed || c.ended), 10_000, 'every loiterer to be closed');
    const stats = await statsOf(legit);
    const closed = stats.disconnects.handshake_timeout ?? 0;
    legit.destroy();
    for (const c of loiterers) c.destroy();
    f.figure(
      `--max-connections ${max} filled by ${max} connections (half silent, half with 30 bytes of a HELLO), --handshake-timeout ${timeoutMs} ms: ` +
        `the legitimate client was refused BUSY ${refused} times and served ${ms(waited)} after the slots filled; ` +
        `${loiterers.filter((c) => c.closed || c.ended).length}/${max} loiterers closed, handshake_timeout counter ${closed}`,
    );
    f.expect(`every loiterer is closed and counted (handshake_timeout ${closed} of ${max})`, closed === max && loiterers.every((c) => c.closed || c.ended));
    f.expect(`the legitimate client is served (SET answered ${String(answered)})`, answered === true);
    f.expectTiming(`served within the handshake timeout + 1 s (${ms(waited)} ≤ ${timeoutMs + 1_000} ms)`, waited <= timeoutMs + 1_000);
  },
};

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // fields after the name start at field 3; CLK_TCK is 100 on Linux
}

/** `loops` loops of connect–HELLO–close for `durationMs`; the statuses of the answers by name. */
async function helloLoops(port: number, keyId: string, loops: number, durationMs: number): Promise<{ attempts: number; statuses: Map<string, number>; elapsedMs: number }> {
  const statuses = new Map<string, number>();
  let attempts = 0;
  const started = performance.now();
  const end = started + durationMs;
  const bytes = hello(keyId);
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        const c = await RawClient.connect(port);
        c.write(bytes);
        await c.until(() => c.frames.length > 0 || c.closed, 5_000).catch(() => {});
        const reply = c.frames[0];
        const name = reply === undefined ? 'none' : `${Object.entries(Status).find(([, v]) => v === reply.opcode)?.[0] ?? reply.opcode} ${reply.opcode === Status.OK ? '' : reply.body.toString()}`.trim();
        statuses.set(name, (statuses.get(name) ?? 0) + 1);
        attempts += 1;
        c.destroy();
      }
    }),
  );
  // The loops' last attempts finish after `end`: what the rate limit saw is this long.
  return { attempts, statuses, elapsedMs: performance.now() - started };
}

export const handshakeCost: Scenario = {
  number: 18,
  id: 'handshake-cost',
  title: 'Handshake cost and handshake flood',
  budgetMs: 120_000,
  async run(size, f) {
    const loops = size.quick ? 16 : 64;
    const durationMs = size.quick ? 1_500 : 5_000;
    const seconds = durationMs / 1000;
    const key = newKey('known');
    const measure = async (
      server: Awaited<ReturnType<typeof serve>>,
      keyId: string,
    ): Promise<{ perAttempt: number; attempts: number; statuses: Map<string, number>; p99: number; wrong: number; elapsedMs: number }> => {
      const healthy = secureHealthy(server.port, key, durationMs + 10_000);
      await sleep(100);
      const cpu0 = cpuSeconds(pidOf(server));
      const result = await helloLoops(server.port, keyId, loops, durationMs);
      const cpu = cpuSeconds(pidOf(server)) - cpu0;
      const h = await healthy.stop();
      return { perAttempt: (cpu * 1e6) / result.attempts, attempts: result.attempts, statuses: result.statuses, p99: h.p99, wrong: h.wrong + (h.failed === undefined ? 0 : 1), elapsedMs: result.elapsedMs };
    };
    const quiet = async (port: number): Promise<number> => {
      const healthy = secureHealthy(port, key, 10_000);
      await sleep(size.quick ? 500 : 1_000);
      return (await healthy.stop()).p99;
    };

    // What a handshake costs: both kinds of attempt with the HELLO rate limit (issue 18) off, since
    // the loops come from one address and most would otherwise get BUSY and cost nothing.
    const unlimited = await serve(size, ['--max-handshakes-per-second', '0'], keyEnv(key)); // each attempt logs one warn line
    const before = await quiet(unlimited.port);
    const unknown = await measure(unlimited, 'nobody');
    const known = await measure(unlimited, key.id);

    // The flood under the default limit (issue 18: 500 a second per address, bursts of 500).
    const limited = await serve(size, [], keyEnv(key));
    const admin = new ConduitClient({ port: limited.port, key, reconnect: false });
    await admin.connect();
    const rejected = async (): Promise<number> => ((await admin.stats()) as { rejected_handshakes?: number }).rejected_handshakes ?? -1;
    const limitedBefore = await quiet(limited.port);
    const rejectedBefore = await rejected();
    const flood = await measure(limited, key.id);
    const rejectedDuring = (await rejected()) - rejectedBefore;
    await admin.close();

    const show = (m: Map<string, number>): string => [...m].map(([k, v]) => `${count(v)} ${k}`).join(', ');
    const perSecond = (n: number): string => count(Math.round(n / seconds));
    const knownOk = known.statuses.get('OK') ?? 0;
    const floodOk = flood.statuses.get('OK') ?? 0;
    const floodBusy = [...flood.statuses].filter(([k]) => k.startsWith('BUSY')).reduce((n, [, v]) => n + v, 0);
    const allowed = Math.floor((500 * flood.elapsedMs) / 1000) + 500; // the default rate over the flood as it ran, plus its burst
    f.figure(
      `${loops} loops of connect–HELLO–close from one address for ${seconds} s each. Limit off: unknown key id ${count(unknown.attempts)} attempts (${show(unknown.statuses)}), ` +
        `server CPU ${unknown.perAttempt.toFixed(0)} µs per attempt; known key id ${perSecond(knownOk)} handshakes/s forced (${count(known.attempts)} attempts), ${known.perAttempt.toFixed(0)} µs per attempt ` +
        `(key pair + X25519 + HKDF); healthy secure client p99 ${ms(before)} before, ${ms(unknown.p99)} during the unknown-id loops, ${ms(known.p99)} during the known-id ones. ` +
        `Default --max-handshakes-per-second (500): ${perSecond(floodOk)} handshakes/s forced (${count(flood.attempts)} attempts: ${show(flood.statuses)}; STATS rejected_handshakes +${count(rejectedDuring)}), ` +
        `${flood.perAttempt.toFixed(0)} µs of server CPU per attempt; healthy p99 ${ms(limitedBefore)} before, ${ms(flood.p99)} during`,
    );
    const authFailed = unknown.statuses.get('AUTH_FAILED authentication failed') ?? 0;
    f.expect(`every unknown-id HELLO gets AUTH_FAILED 'authentication failed' (${count(authFailed)} of ${count(unknown.attempts)})`, authFailed === unknown.attempts && authFailed > 0);
    f.expect(`with the limit off every known-id HELLO gets OK (${count(knownOk)} of ${count(known.attempts)})`, knownOk === known.attempts);
    f.expect(
      `under the default limit at most 500/s plus the burst get OK (${count(floodOk)} ≤ ${count(allowed)}), every other HELLO BUSY (${count(floodBusy)}), as STATS counts (+${count(rejectedDuring)})`,
      floodOk <= allowed && floodOk > 0 && floodOk + floodBusy === flood.attempts && rejectedDuring === floodBusy,
    );
    f.expect(`the healthy client's answers are all correct (${unknown.wrong + known.wrong + flood.wrong} wrong)`, unknown.wrong + known.wrong + flood.wrong === 0);
    f.expectTiming(
      `an unknown-id attempt costs the server less than a known-id one (${unknown.perAttempt.toFixed(0)} vs ${known.perAttempt.toFixed(0)} µs)`,
      unknown.perAttempt < known.perAttempt,
    );
  },
};

/** GET /readyz on 127.0.0.1:`port`: its status code, or the error's code. */
function readyz(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/readyz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

export const fdExhaustion: Scenario = {
  number: 19,
  id: 'fd-exhaustion',
  title: 'File-descriptor exhaustion',
  budgetMs: 60_000,
  async run(size, f) {
    const limit = 128;
    const n = size.quick ? 200 : 400;
    const server = await startServerProcess(['--port', '0', '--http-port', '0'], size.quick ? { openFiles: limit } : { openFiles: limit, core: 0 });
    const start = server.logs().find((l) => l.msg === 'conduit-server listening');
    const httpPort = Number(String(start?.http).split(':').at(-1));
    const warning = server.logs().find((l) => l.level === 40 && String(l.msg).includes('open-files limit'));
    const clients: RawClient[] = [];
    for (let i = 0; i < n; i += 1) {
      const c = await RawClient.connect(server.port).catch(() => undefined);
      if (c === undefined) continue;
      c.write(frame(1, { op: 'HEALTH' }));
      clients.push(c);
    }
    const settled = (c: RawClient): boolean => c.frames.length > 0 || c.closed || c.ended;
    await until(() => clients.every(settled), 10_000, 'every client to get an answer or a close').catch(() => {});
    const served = clients.filter((c) => c.frames[0]?.opcode === Status.OK).length;
    const busy = clients.filter((c) => c.frames[0]?.opcode === Status.BUSY && c.frames[0].id === SERVER_ID_BASE).length;
    const dropped = clients.filter((c) => c.frames.length === 0 && (c.closed || c.ended)).length;
    const hanging = clients.filter((c) => !settled(c)).length;
    await until(() => server.logs().some((l) => l.level === 50 && l.code === 'EMFILE'), 3_000, 'the EMFILE log line').catch(() => {});
    const emfile = server.logs().filter((l) => l.level === 50 && l.code === 'EMFILE');
    for (const c of clients) c.destroy();
    const left = performance.now();
    let ready: number | string = 'none';
    while (ready !== 200 && performance.now() - left < 10_000) {
      ready = await readyz(httpPort);
      if (ready !== 200) await sleep(100);
    }
    const readyAfter = performance.now() - left;
    const admin = await RawClient.connect(server.port);
    admin.write(frame(1n << 62n, { op: 'STATS' }));
    await admin.waitFrames(1);
    const stats = JSON.parse(admin.frames[0]?.body.toString() ?? '{}') as { accept_errors?: number };
    admin.destroy();
    const alive = server.child.exitCode === null;
    f.figure(
      `ulimit -n ${limit}, default --max-connections 10000, ${n} clients sending HEALTH: start-up warning ${warning === undefined ? 'missing' : 'logged'}; ` +
        `${served} served, ${busy} BUSY, ${dropped} closed unanswered by the OS (EMFILE), ${hanging} left hanging; ` +
        `${emfile.length} EMFILE error line(s) (rate-limited), accept_errors ${stats.accept_errors ?? '?'}; ` +
        `/readyz ${String(ready)} ${ms(readyAfter)} after the clients left; server ${alive ? 'alive' : 'exited'}`,
    );
    f.expect('the start-up warning names the limit and --max-connections', warning !== undefined && String(warning.msg).includes(`of ${limit}`) && String(warning.msg).includes('--max-connections 10000'));
    f.expect(`no client is left hanging (${hanging})`, hanging === 0);
    f.expect(`clients closed unanswered (${dropped}) come with a logged and counted EMFILE (${emfile.length} lines, accept_errors ${stats.accept_errors ?? '?'})`, dropped === 0 || (emfile.length > 0 && (stats.accept_errors ?? 0) > 0));
    f.expect(`/readyz answers 200 once the clients leave (${String(ready)})`, ready === 200);
    f.expect('the server stays alive', alive);
  },
};
