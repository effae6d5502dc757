// Scenarios 3–5 of issue 9: slowloris, connection flood, slow consumer.
// Each attacks one of the server's per-connection limits (spec §5.1).
import { readFileSync } from 'node:fs';
import { ConduitClient, generateKey, SERVER_ID_BASE, Status, type PreSharedKey } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { secureRaw } from '../../support/secure-client.js';
import { b, count, fds, frame, HealthyClient, ms, pidOf, rssMiB, serve, sleep, stat, statsOf, until, watchRss, type Scenario, type Size } from '../harness.js';

/** Opens `n` raw connections, `batch` at a time, so the server accepts them all before any timeout can fire. */
async function openMany(port: number, n: number, batch = 100): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => RawClient.connect(port)))));
  }
  return out;
}

export const flood: Scenario = {
  number: 4,
  id: 'flood',
  title: 'Connection flood',
  budgetMs: 60_000,
  async run(size, f) {
    const max = size.quick ? 50 : 1_000;
    const server = await serve(size, ['--max-connections', String(max)]);
    const pid = pidOf(server);
    const baseline = fds(pid);
    const kept = await openMany(server.port, max);
    await sleep(200);
    const extra = await openMany(server.port, 100);
    await until(() => extra.every((c) => c.closed), 10_000, 'the extra connections to be closed');
    const busy = extra.filter((c) => c.frames.length === 1 && c.frames[0]?.opcode === Status.BUSY && c.frames[0].id === SERVER_ID_BASE);
    const stats = await statsOf(kept[0] as RawClient);
    for (const c of [...kept, ...extra]) c.destroy();
    await until(() => fds(pid) <= baseline, 10_000, 'file descriptors to return to the baseline');
    const rejected = stat(stats, 'rejected_connections');
    f.figure(
      `--max-connections ${count(max)} + 100: ${busy.length}/100 extra got BUSY (identifier 2^63) and a close; ` +
        `rejected counter ${rejected}; file descriptors ${baseline} before, ${fds(pid)} after`,
    );
    f.expect(`all 100 extra connections get BUSY with identifier 2^63 (got ${busy.length})`, busy.length === 100);
    f.expect(`rejected_connections reads 100 (got ${rejected})`, rejected === 100);
  },
};

export const slowloris: Scenario = {
  number: 3,
  id: 'slowloris',
  title: 'Slowloris',
  budgetMs: 90_000,
  async run(size, f) {
    const n = size.quick ? 50 : 1_000;
    const frameTimeout = size.quick ? 1_000 : 2_000;
    const idleTimeout = size.quick ? 1_500 : 3_000;
    const server = await serve(size, ['--frame-timeout', `${frameTimeout}ms`, '--idle-timeout', `${idleTimeout}ms`, '--max-connections', '5000']);
    const pid = pidOf(server);
    const before = await HealthyClient.measure(server.port, 1_000);
    const rss0 = rssMiB(pid);
    const partial: { c: RawClient; opened: number; closed: number }[] = [];
    const silent: { c: RawClient; opened: number; closed: number }[] = [];
    const track = (list: typeof partial) => (c: RawClient) => {
      const entry = { c, opened: performance.now(), closed: 0 };
      c.socket.on('close', () => (entry.closed = performance.now()));
      list.push(entry);
    };
    for (let i = 0; i < n; i += 100) {
      const batch = Math.min(100, n - i);
      const slow = await openMany(server.port, batch);
      slow.forEach(track(partial));
      for (const c of slow) c.write(frame(1, { op: 'GET', key: b('k') }).subarray(0, 11)); // 11 of the 12 header bytes
      (await openMany(server.port, batch)).forEach(track(silent));
    }
    const rssPer = ((rssMiB(pid) - rss0) * 1024 * 1024) / (2 * n);
    const during = await HealthyClient.measure(server.port, 1_000);
    await until(() => [...partial, ...silent].every((e) => e.closed > 0), idleTimeout + 10_000, 'slowloris connections to be closed');
    const off = (list: typeof partial, setting: number): number => Math.max(...list.map((e) => Math.abs(e.closed - e.opened - setting)));
    const frameOff = off(partial, frameTimeout);
    const idleOff = off(silent, idleTimeout);
    // The server's own account: each was closed by the timeout meant for it, not by anything else.
    const admin = await RawClient.connect(server.port);
    const { disconnects } = await statsOf(admin);
    admin.destroy();
    f.figure(
      `${count(n)} connections sending 11 header bytes closed by the ${frameTimeout} ms frame timeout within ±${frameOff.toFixed(0)} ms; ` +
        `${count(n)} silent ones by the ${idleTimeout} ms idle timeout within ±${idleOff.toFixed(0)} ms; ` +
        `≈ ${count(rssPer)} bytes of server RSS per connection; healthy client p99 ${ms(before.p99)} before, ${ms(during.p99)} during; ` +
        `server counters: ${count(disconnects.frame_timeout ?? 0)} frame_timeout, ${count(disconnects.idle ?? 0)} idle disconnects`,
    );
    f.expect(`every slowloris connection is closed by the server`, [...partial, ...silent].every((e) => e.closed > 0));
    f.expect(
      `the server counts ${n} frame_timeout and ${n} idle disconnects (got ${disconnects.frame_timeout ?? 0} and ${disconnects.idle ?? 0})`,
      disconnects.frame_timeout === n && disconnects.idle === n,
    );
    f.expectTiming(`frame timeout fires within ±1 s (off by ${frameOff.toFixed(0)} ms)`, frameOff <= 1_000);
    f.expectTiming(`idle timeout fires within ±1 s (off by ${idleOff.toFixed(0)} ms)`, idleOff <= 1_000);
    f.expectTiming(`healthy p99 during (${ms(during.p99)}) within 2× of before (${ms(before.p99)})`, during.p99 <= 2 * before.p99);
  },
};

/**
 * One slow consumer against a fresh server: `n` pipelined GETs of a 60 KiB
 * value, nothing read. In secure mode every answer is sealed into its own
 * buffer, so output really accumulates; in plaintext the answers share the
 * stored value, which is why both run.
 */
async function slowConsumer(
  size: Size,
  n: number,
  limitMiB: number,
  secure: boolean,
): Promise<{ counter: number; growth: number; heldMiB: number }> {
  const key: PreSharedKey = { id: 'consumer', secret: Buffer.from(generateKey(), 'base64') };
  const env: Record<string, string> = secure ? { CONDUIT_KEY: `${key.id}:${key.secret.toString('base64')}` } : {};
  const server = await serve(size, ['--max-output-buffer', `${limitMiB}mb`, '--max-inflight', '100000'], env);
  const pid = pidOf(server);
  const admin = new ConduitClient({ port: server.port, ...(secure ? { key } : {}), reconnect: false });
  try {
    await admin.connect();
    await admin.set('big', Buffer.alloc(60 * 1024, 0x61));
    const rss0 = rssMiB(pid);
    const rss = watchRss(pid);
    let c: RawClient;
    let requests: Buffer[];
    if (secure) {
      const s = await secureRaw(server.port, key);
      c = s.raw;
      requests = Array.from({ length: n }, (_, i) => s.seal(BigInt(i + 1), { op: 'GET', key: b('big') }));
    } else {
      c = await RawClient.connect(server.port);
      requests = Array.from({ length: n }, (_, i) => frame(i, { op: 'GET', key: b('big') }));
    }
    c.socket.pause(); // reads nothing
    c.write(Buffer.concat(requests));
    // A paused socket does not notice its close, so ask the server instead.
    let counter = 0;
    const deadline = performance.now() + 15_000;
    while (counter === 0 && performance.now() < deadline) {
      counter = ((await admin.stats()) as { disconnects: Record<string, number> }).disconnects.output_buffer ?? 0;
      await sleep(50);
    }
    await sleep(300);
    const growth = rss.stop() - rss0;
    // The server's own count of output it held (queued, or written and not yet taken by the kernel).
    const heldMiB = ((await admin.stats()) as { output_memory_peak: number }).output_memory_peak / 1024 / 1024;
    c.destroy();
    return { counter, growth, heldMiB };
  } finally {
    await admin.close();
  }
}

export const consumer: Scenario = {
  number: 5,
  id: 'consumer',
  title: 'Slow consumer',
  budgetMs: 90_000,
  async run(size, f) {
    const limitMiB = 16;
    const n = size.quick ? 1_000 : 10_000;
    // What the server holds is bounded exactly: its own count of output held stays within the
    // limit plus the answer that crossed it. RSS grows further by garbage: answers already
    // handed to the kernel (at most its send buffer, the largest auto-tuned size) and buffers
    // freed between turns that V8 and the allocator have not returned yet. Since a connection
    // yields between turns (issue 15 item 5) that garbage is several MiB in secure mode, where
    // every answer is a fresh ciphertext, so RSS is bounded at twice the limit plus the buffer.
    const socketMiB = Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2]) / 1024 / 1024;
    const answerMiB = (60 * 1024 + 12 + 16) / 1024 / 1024;
    for (const secure of [false, true]) {
      const { counter, growth, heldMiB } = await slowConsumer(size, n, limitMiB, secure);
      const mode = secure ? 'secure mode (each answer sealed into its own buffer)' : 'plaintext';
      const rssBound = 2 * limitMiB + socketMiB;
      f.figure(
        `${mode}: ${count(n)} pipelined GETs of 60 KiB (${count(n * 60 / 1024)} MiB of answers), nothing read: disconnected for its output buffer (counter ${counter}); ` +
          `output held by the server at most ${heldMiB.toFixed(2)} MiB for a ${limitMiB} MiB limit; server RSS grew ${growth.toFixed(1)} MiB at most ` +
          `(bound ${rssBound.toFixed(1)} MiB: twice the limit + ${socketMiB.toFixed(1)} MiB of socket send buffer)`,
      );
      f.expect(`${mode}: the consumer is disconnected and the output_buffer counter reads 1 (got ${counter})`, counter === 1);
      f.expect(
        `${mode}: output held ${heldMiB.toFixed(2)} MiB ≤ limit + one answer (${(limitMiB + answerMiB).toFixed(2)} MiB)`,
        heldMiB <= limitMiB + answerMiB,
      );
      f.expect(`${mode}: RSS growth ${growth.toFixed(1)} MiB ≤ ${rssBound.toFixed(1)} MiB`, growth <= rssBound);
    }
  },
};
