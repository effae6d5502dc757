// Scenario 10 of issue 9: expiry. 100,000 keys with a 1 s TTL: no read
// returns a key after its expiry (spec §3.2), and the active sweep reclaims
// the rest without reads within its 1 s bound. Then the server's wall clock
// is stepped +1 h and −1 h (a preloaded Date shim, as an NTP step would):
// keys neither expire early nor live late, because TTLs run on the monotonic
// clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Status, type Frame } from '../../../src/index.js';
import type { ServerProcess } from '../../support/cli.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, serve, setRequest, sleep, stat, statsOf, until, type Findings, type Scenario, type Size } from '../harness.js';

const TTL = 1_000;
const clockShim = fileURLToPath(new URL('../agents/clock-jump.mjs', import.meta.url));

/** Sends `requests` in one write and resolves with their answers (the connection's frames are cleared first). */
async function round(c: RawClient, frames: Buffer[]): Promise<Frame[]> {
  c.frames.length = 0;
  c.write(frames);
  await c.waitFrames(frames.length, 30_000);
  return c.frames.splice(0);
}

async function ttlKeys(size: Size, f: Findings, server: ServerProcess): Promise<void> {
  const keys = size.quick ? 10_000 : 100_000;
  const batch = 1_000;
  const writer = await RawClient.connect(server.port);
  const reader = await RawClient.connect(server.port);
  const acked: { first: number; sentAt: number; ackedAt: number }[] = [];
  let expiredReads = 0;
  let liveReads = 0;
  let checkedAfterExpiry = 0;
  let id = 0;
  // Reads run beside the writes and past the expiry of the first batches, on keys of the first 10 %.
  const readUntil = performance.now() + 2 * TTL + 500;
  let stopReading = false;
  let readFailure: unknown;
  const reads = (async () => {
    while (!stopReading && performance.now() < readUntil) {
      const known = acked.filter((a) => a.first < keys / 10);
      if (known.length === 0) {
        await sleep(5);
        continue;
      }
      const picks = Array.from({ length: 100 }, (_, i) => known[(i * 7 + id) % known.length] as (typeof known)[number]);
      const sentAt = performance.now();
      const answers = await round(reader, picks.map((a, i) => frame(id++, { op: 'GET', key: b(`ttl-${a.first + (i % batch)}`) })));
      const answeredAt = performance.now();
      for (const [i, a] of picks.entries()) {
        const found = answers[i]?.opcode === Status.OK;
        if (sentAt >= a.ackedAt + TTL) {
          checkedAfterExpiry += 1;
          if (found) expiredReads += 1; // read after its expiry: must never happen
        } else if (answeredAt < a.sentAt + TTL && found) liveReads += 1;
      }
    }
  })().catch((err: unknown) => {
    readFailure = err; // reported below, after the writer stopped: never an unhandled rejection
  });
  let items = Number.POSITIVE_INFINITY;
  let bytes = Number.POSITIVE_INFINITY;
  let stats: Record<string, unknown> = {};
  let reclaimedMs = Number.NaN;
  try {
    for (let first = 0; first < keys; first += batch) {
      const sentAt = performance.now();
      const frames = Array.from({ length: batch }, (_, i) => frame(first + i, setRequest(`ttl-${first + i}`, Buffer.alloc(100, 0x74), TTL)));
      const answers = await round(writer, frames);
      if (!answers.every((a) => a.opcode === Status.OK)) throw new Error('a SET with a TTL was refused');
      acked.push({ first, sentAt, ackedAt: performance.now() });
    }
    const lastExpiry = (acked.at(-1)?.ackedAt ?? 0) + TTL;
    // The keys nobody reads must go by the sweep alone; watch for that beside the reads.
    while (items > 0 && performance.now() < lastExpiry + 10_000) {
      writer.frames.length = 0;
      stats = await statsOf(writer);
      items = stat(stats, 'curr_items');
      bytes = stat(stats, 'item_bytes'); // what the items occupy (bytes is what the store holds, pages kept)
      if (items > 0) await sleep(10);
    }
    reclaimedMs = performance.now() - lastExpiry;
    await reads;
  } finally {
    stopReading = true;
    await reads;
    writer.destroy();
    reader.destroy();
  }
  if (readFailure !== undefined) throw readFailure;
  f.figure(
    `${count(keys)} keys with a ${TTL} ms TTL: ${count(checkedAfterExpiry)} reads after a key's expiry, ${expiredReads} returned it; ` +
      `${count(liveReads)} reads before expiry found their key; every key reclaimed (items 0, item bytes ${bytes}) ${reclaimedMs.toFixed(0)} ms after the last expiry, ` +
      `${count(stat(stats, 'expired_swept'))} by the sweep and ${count(stat(stats, 'expired_lazy'))} on access`,
  );
  f.expect(`0 reads of an expired key (${expiredReads} of ${checkedAfterExpiry})`, expiredReads === 0 && checkedAfterExpiry > 0);
  f.expect(`live keys are found (${liveReads})`, liveReads > 0);
  f.expect(`every expired key reclaimed (${items} left, ${bytes} item bytes)`, items === 0 && bytes === 0);
  f.expectTiming(`reclaimed within the sweep's 1 s bound (${reclaimedMs.toFixed(0)} ms)`, reclaimedMs <= 1_000);
}

async function clockSteps(size: Size, f: Findings, server: ServerProcess, clockFile: string): Promise<void> {
  const keys = size.quick ? 1_000 : 10_000;
  const ttl = 3_000;
  const c = await RawClient.connect(server.port);
  const sentAt = performance.now();
  await round(c, Array.from({ length: keys }, (_, i) => frame(i, setRequest(`jump-${i}`, b('v'), ttl))));
  const found = async (): Promise<number> =>
    (await round(c, Array.from({ length: keys }, (_, i) => frame(i, { op: 'GET', key: b(`jump-${i}`) })))).filter((a) => a.opcode === Status.OK).length;
  const ttlLeft = async (): Promise<bigint> => (await round(c, [frame(0, { op: 'TTL', key: b('jump-0') })]))[0]?.body.readBigInt64BE(0) ?? -2n;
  /** Steps the server's wall clock and proves it moved: its next log line carries the new time. */
  const step = async (offsetMs: number): Promise<number> => {
    writeFileSync(clockFile, String(offsetMs));
    server.child.kill('SIGUSR2');
    await sleep(50);
    const bad = await RawClient.connect(server.port);
    bad.write(Buffer.from('GET / HTTP/1.1\r\n\r\n')); // logged at warn, with the server's idea of the time
    await bad.waitClosed();
    bad.destroy();
    await until(() => server.logs().some((l) => l.msg === 'closing connection: protocol error' && Math.abs(Number(l.time) - Date.now() - offsetMs) < 60_000), 5_000, 'the stepped log time');
    const last = server.logs().filter((l) => l.msg === 'closing connection: protocol error').at(-1);
    return Number(last?.time) - Date.now();
  };
  const forward = await step(3_600_000);
  const afterForward = await found();
  const ttlForward = await ttlLeft();
  const backward = await step(-3_600_000);
  const afterBackward = await found();
  const ttlBackward = await ttlLeft();
  const wait = sentAt + ttl + 200 - performance.now();
  if (wait > 0) await sleep(wait);
  const afterTtl = await found();
  c.destroy();
  const h = (ms: number): string => `${ms > 0 ? '+' : '−'}${(Math.abs(ms) / 3_600_000).toFixed(2)} h`;
  f.figure(
    `${count(keys)} keys with a ${ttl} ms TTL, server wall clock stepped ${h(forward)} then ${h(backward)} (seen in its log times): ` +
      `${count(afterForward)} found after the forward step (TTL left ${ttlForward} ms), ${count(afterBackward)} after the backward step (TTL left ${ttlBackward} ms), ` +
      `${count(afterTtl)} once ${ttl} ms had passed`,
  );
  f.expect(`the clock steps took effect in the server (${h(forward)}, ${h(backward)})`, Math.abs(forward - 3_600_000) < 60_000 && Math.abs(backward + 3_600_000) < 60_000);
  f.expect(`a +1 h step expires nothing early (${afterForward}/${keys} found)`, afterForward === keys && ttlForward > 0n && ttlForward <= BigInt(ttl));
  f.expect(`a −1 h step keeps nothing late (${afterBackward}/${keys} found before, ${afterTtl} after the TTL)`, afterBackward === keys && ttlBackward <= ttlForward && afterTtl === 0);
}

export const expiry: Scenario = {
  number: 10,
  id: 'expiry',
  title: 'Expiry',
  budgetMs: 90_000,
  async run(size, f) {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-clock-'));
    try {
      const clockFile = join(dir, 'offset');
      writeFileSync(clockFile, '0');
      const env = { NODE_OPTIONS: `--import ${clockShim}`, CHAOS_CLOCK_FILE: clockFile };
      const server = await serve(size, [], env);
      await ttlKeys(size, f, server);
      await clockSteps(size, f, server, clockFile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
