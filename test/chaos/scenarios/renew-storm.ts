// Scenario 14 (issue 15 item 6): renew storm. 1M keys (short: 100k), 1% with
// a TTL; one client RENEWs the session keys in a tight pipelined loop (the
// sliding-session pattern, RENEW on every hit) while a healthy client does
// SET/GET. The same loop of GETs on the same keys runs first as the
// baseline. A RENEW must cost about what a GET costs (server CPU per request)
// and never stall the others: the expiry queue used to be rebuilt over every
// key (573 µs per RENEW, 2.3 s stalls at 1M keys). The expiry queue stays
// bounded, and every key that expires is reclaimed by the sweep, unread.
import { readFileSync } from 'node:fs';
import { Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { agent, count, frame, HealthyClient, ms, pidOf, serve, setRequest, sleep, stat, statsOf, until,  type Scenario, type Size } from '../harness.js';

/** CPU time (user + system) a process has used, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Sends `frames` over `c` in batches of 1,000 and checks every answer is OK. */
async function setAll(c: RawClient, frames: Buffer[]): Promise<void> {
  for (let i = 0; i < frames.length; i += 1_000) {
    const batch = frames.slice(i, i + 1_000);
    c.frames.length = 0;
    c.write(batch);
    await c.waitFrames(batch.length, 60_000);
    if (!c.frames.every((x) => x.opcode === Status.OK)) throw new Error('a SET of the fill was refused');
  }
  c.frames.length = 0;
}

interface Phase {
  op: 'GET' | 'RENEW';
  requests: number;
  ok: number;
  seconds: number;
  /** Server CPU µs per storm request. */
  cpuUs: number;
  healthy: { p50: number; p99: number; max: number; count: number; wrong: number };
  maxQueue: number;
}

/** Runs the storm agent with `op` for `seconds` beside a healthy client and a STATS poller. */
async function storm(size: Size, port: number, pid: number, op: 'GET' | 'RENEW', config: Record<string, unknown>, seconds: number): Promise<Phase> {
  const healthy = await HealthyClient.connect(port);
  const poller = await RawClient.connect(port);
  const cpu0 = cpuMs(pid);
  const load = agent(size, 'storm', { port, op, ...config, seconds }, seconds * 1_000 + 60_000);
  healthy.start(10_000_000, seconds * 1_000 + 30_000);
  let maxQueue = 0;
  let polling = true;
  const polls = (async () => {
    while (polling) {
      poller.frames.length = 0;
      maxQueue = Math.max(maxQueue, stat(await statsOf(poller), 'expiry_queue'));
      await sleep(50);
    }
  })();
  const { code } = await load.done;
  // 'exit' can come before the last of its stdout has been read: wait for the line.
  await until(() => load.stdout().endsWith('\n') || code !== 0, 5_000, `the ${op} storm agent's counts`);
  const stdout = load.stdout();
  const cpu = cpuMs(pid) - cpu0;
  const latencies = [...healthy.latencies];
  const wrong = healthy.wrong;
  const h = await healthy.stop();
  polling = false;
  await polls;
  poller.destroy();
  if (code !== 0) throw new Error(`the ${op} storm agent exited with ${code}`);
  const result = JSON.parse(stdout) as { answered: number; ok: number; seconds: number };
  return {
    op,
    requests: result.answered,
    ok: result.ok,
    seconds: result.seconds,
    cpuUs: (cpu * 1_000) / result.answered,
    healthy: { p50: h.p50, p99: h.p99, max: Math.max(...latencies), count: h.count, wrong },
    maxQueue,
  };
}

export const renewStorm: Scenario = {
  number: 14,
  id: 'renew-storm',
  title: 'Renew storm',
  budgetMs: 240_000,
  async run(size, f) {
    const keys = size.quick ? 100_000 : 1_000_000;
    const seconds = size.quick ? 2 : 10;
    const renewTtl = size.quick ? 1_000 : 2_000;
    // k<i>: i % 200 === 0 are sessions (their first RENEW gives them a TTL), i % 200 === 100 expire
    // unread during the RENEW storm, the rest have no TTL.
    const sessions = keys / 200;
    const expiring = keys / 200;
    const server = await serve(size, ['--max-memory', size.quick ? '256mb' : '1gb']);
    const pid = pidOf(server);
    const c = await RawClient.connect(server.port);
    const value = Buffer.alloc(10, 0x76);
    const fill: Buffer[] = [];
    for (let i = 0; i < keys; i += 1) if (i % 200 !== 100) fill.push(frame(i, setRequest(`k${i}`, value)));
    await setAll(c, fill);
    fill.length = 0;
    const config = { prefix: 'k', count: sessions, stride: 200, ttlMs: renewTtl, window: 512 };
    const get = await storm(size, server.port, pid, 'GET', config, seconds);
    // The keys that expire unread: half-way through the RENEW storm.
    await setAll(c, Array.from({ length: expiring }, (_, j) => frame(j, setRequest(`k${200 * j + 100}`, value, (seconds * 1_000) / 2))));
    const renew = await storm(size, server.port, pid, 'RENEW', config, seconds);
    const afterStorm = performance.now();
    // Every TTL key now expires (sessions renewTtl after their last RENEW); the sweep alone must reclaim them.
    let stats = await statsOf(c);
    const lasting = keys - sessions - expiring + 1; // + the healthy client's key
    while (stat(stats, 'curr_items') > lasting && performance.now() - afterStorm < renewTtl + 10_000) {
      await sleep(50);
      c.frames.length = 0;
      stats = await statsOf(c);
    }
    const reclaimedMs = performance.now() - afterStorm;
    c.destroy();
    const line = (p: Phase): string =>
      `${p.op} storm on ${count(sessions)} keys: ${count(p.requests)} in ${p.seconds.toFixed(1)} s (${count(p.requests / p.seconds)}/s), ` +
      `server CPU ${p.cpuUs.toFixed(2)} µs each; healthy client p50 ${ms(p.healthy.p50)}, p99 ${ms(p.healthy.p99)}, max ${ms(p.healthy.max)} over ${count(p.healthy.count)} requests; expiry queue at most ${count(p.maxQueue)}`;
    f.figure(`${count(keys)} keys, 1% with a TTL (${count(sessions)} sessions renewed to ${renewTtl} ms, ${count(expiring)} expiring unread)`);
    f.figure(line(get));
    f.figure(line(renew));
    f.figure(
      `RENEW / GET server CPU per request: ${(renew.cpuUs / get.cpuUs).toFixed(2)}×; after the storm every TTL key reclaimed in ${ms(reclaimedMs)}: ` +
        `expired_swept ${count(stat(stats, 'expired_swept'))}, expired_lazy ${stat(stats, 'expired_lazy')}, expiry queue ${stat(stats, 'expiry_queue')}`,
    );
    f.expect(`every storm GET found its key (${get.ok} of ${get.requests})`, get.ok === get.requests && get.requests > 0);
    f.expect(`every storm RENEW found its key (${renew.ok} of ${renew.requests})`, renew.ok === renew.requests && renew.requests > 0);
    f.expect(`the healthy client got only right answers (${get.healthy.wrong} + ${renew.healthy.wrong} wrong)`, get.healthy.wrong + renew.healthy.wrong === 0);
    // A RENEW that moves the expiry later pushes nothing: one pair per key with a TTL, however many RENEWs.
    f.expect(`expiry queue holds at most one pair per TTL key, ${count(sessions + expiring)} (at most ${count(renew.maxQueue)})`, renew.maxQueue <= sessions + expiring);
    f.expect(
      `every TTL key reclaimed by the sweep, unread (${stat(stats, 'expired_swept')} of ${sessions + expiring} swept, ${stat(stats, 'expired_lazy')} lazily; ${stat(stats, 'curr_items')} items left)`,
      stat(stats, 'curr_items') === lasting && stat(stats, 'expired_swept') === sessions + expiring && stat(stats, 'expired_lazy') === 0,
    );
    f.expect(`no pair left in the expiry queue (${stat(stats, 'expiry_queue')})`, stat(stats, 'expiry_queue') === 0);
    f.expectTiming(`a RENEW costs at most 2× a GET in server CPU (${(renew.cpuUs / get.cpuUs).toFixed(2)}×)`, renew.cpuUs <= 2 * get.cpuUs);
    f.expectTiming(`the healthy client's worst latency during the RENEW storm ≤ 250 ms (${ms(renew.healthy.max)})`, renew.healthy.max <= 250);
  },
};
