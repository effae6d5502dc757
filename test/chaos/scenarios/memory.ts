// Scenario 6 of issue 9: memory. Sustained SETs writing 10× --max-memory in
// distinct keys keep the charged bytes within the budget plus one item (the
// store evicts, spec §3.3); the figure is peak RSS over the budget. With
// --eviction none the writes past the budget get OUT_OF_MEMORY and reads of
// what was stored keep working.
import { ENTRY_OVERHEAD, Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, pidOf, serve, setRequest, stat, statsOf, watchRss, type Findings, type Scenario, type Size } from '../harness.js';

const MiB = 1024 * 1024;
/** Value sizes cycle through this many steps from 100 B up to 32 KiB, so entries of many sizes compete. */
const SIZES = Array.from({ length: 16 }, (_, i) => 100 + i * 2_176);
const LARGEST_ITEM = 16 + Math.max(...SIZES) + ENTRY_OVERHEAD;
const values = SIZES.map((n) => Buffer.alloc(n, 0x6d));

/**
 * Writes distinct keys `m<n>` from `connections` pipelining connections until
 * `totalBytes` of values are sent. Each batch's answers are counted by status;
 * `onBatch` runs after each (to sample STATS).
 */
async function writeKeys(
  port: number,
  totalBytes: number,
  onBatch: () => Promise<void>,
): Promise<{ written: number; keys: number; statuses: Map<number, number> }> {
  const statuses = new Map<number, number>();
  let next = 0;
  let written = 0;
  const loop = async (): Promise<void> => {
    const c = await RawClient.connect(port);
    try {
      while (written < totalBytes) {
        const batch: Buffer[] = [];
        for (let i = 0; i < 64; i += 1, next += 1) {
          const value = values[next % values.length] as Buffer;
          batch.push(frame(next, setRequest(`m${next}`, value)));
          written += value.length;
        }
        c.write(batch);
        await c.waitFrames(batch.length, 30_000);
        for (const f of c.frames) statuses.set(f.opcode, (statuses.get(f.opcode) ?? 0) + 1);
        c.frames.length = 0;
        await onBatch();
      }
    } finally {
      c.destroy();
    }
  };
  await Promise.all(Array.from({ length: 4 }, loop));
  return { written, keys: next, statuses };
}

async function evicting(size: Size, f: Findings, limitMiB: number): Promise<void> {
  const server = await serve(size, ['--max-memory', `${limitMiB}mb`, '--eviction', 'lru']);
  const limit = limitMiB * MiB;
  const rss = watchRss(pidOf(server));
  const observer = await RawClient.connect(server.port);
  let maxCharged = 0;
  let batches = 0;
  const sample = async (): Promise<void> => {
    batches += 1;
    if (batches % 8 !== 0) return;
    observer.frames.length = 0;
    maxCharged = Math.max(maxCharged, stat(await statsOf(observer), 'bytes'));
  };
  const started = performance.now();
  const { written, keys, statuses } = await writeKeys(server.port, 10 * limit, sample);
  const seconds = (performance.now() - started) / 1_000;
  observer.frames.length = 0;
  const stats = await statsOf(observer);
  maxCharged = Math.max(maxCharged, stat(stats, 'bytes'));
  const peak = rss.stop();
  observer.destroy();
  const ok = statuses.get(Status.OK) ?? 0;
  f.figure(
    `--max-memory ${limitMiB} MiB, eviction lru: ${count(keys)} SETs wrote ${(written / MiB).toFixed(0)} MiB (${(written / limit).toFixed(1)}× the budget) in ${seconds.toFixed(1)} s; ` +
      `charged bytes at most ${(maxCharged / MiB).toFixed(2)} MiB (limit + one item = ${((limit + LARGEST_ITEM) / MiB).toFixed(2)} MiB), ${count(stat(stats, 'evictions'))} evictions; ` +
      `peak RSS ${peak.toFixed(0)} MiB = ${(peak / limitMiB).toFixed(2)}× the budget`,
  );
  f.expect(`${limitMiB} MiB: every SET stored (${ok} of ${keys})`, ok === keys);
  f.expect(`${limitMiB} MiB: 10× the budget written (${(written / limit).toFixed(1)}×)`, written >= 10 * limit);
  f.expect(`${limitMiB} MiB: charged bytes ${maxCharged} ≤ limit + one item ${limit + LARGEST_ITEM}`, maxCharged <= limit + LARGEST_ITEM);
  f.expect(`${limitMiB} MiB: evictions made the room`, stat(stats, 'evictions') > 0);
}

async function refusing(size: Size, f: Findings): Promise<void> {
  const limitMiB = size.quick ? 8 : 64;
  const limit = limitMiB * MiB;
  const server = await serve(size, ['--max-memory', `${limitMiB}mb`, '--eviction', 'none']);
  const { keys, statuses } = await writeKeys(server.port, 2 * limit, async () => {});
  const stored = statuses.get(Status.OK) ?? 0;
  const refused = statuses.get(Status.OUT_OF_MEMORY) ?? 0;
  // Read back a sample of keys: each either has its value or was refused; the stored ones must read.
  const c = await RawClient.connect(server.port);
  const sample = Math.min(2_000, keys);
  const reads = Array.from({ length: sample }, (_, i) => Math.floor((i * keys) / sample));
  c.write(reads.map((k, i) => frame(i, { op: 'GET', key: b(`m${k}`) })));
  await c.waitFrames(sample, 30_000);
  let good = 0;
  let found = 0;
  for (const [i, k] of reads.entries()) {
    const reply = c.frames[i];
    if (reply?.opcode === Status.OK) {
      found += 1;
      if (reply.body.equals(values[k % values.length] as Buffer)) good += 1;
    } else if (reply?.opcode === Status.NOT_FOUND) good += 1;
  }
  c.frames.length = 0;
  const stats = await statsOf(c);
  c.destroy();
  f.figure(
    `--max-memory ${limitMiB} MiB, eviction none, 2× the budget written: ${count(stored)} SETs stored, ${count(refused)} refused with OUT_OF_MEMORY, ` +
      `0 evictions (counter ${stat(stats, 'evictions')}); ${count(sample)} reads afterwards: ${count(found)} found with their value, ${count(sample - good)} wrong`,
  );
  f.expect(`eviction none: writes past the budget get OUT_OF_MEMORY (${refused})`, refused > 0 && stored + refused === keys);
  f.expect(`eviction none: nothing evicted, charged bytes within the limit`, stat(stats, 'evictions') === 0 && stat(stats, 'bytes') <= limit);
  f.expect(`eviction none: reads keep working (${sample - good} wrong, ${found} found)`, good === sample && found > 0);
}

export const memory: Scenario = {
  number: 6,
  id: 'memory',
  title: 'Memory',
  budgetMs: 400_000,
  async run(size, f) {
    for (const limitMiB of size.quick ? [8] : [64, 1_024]) await evicting(size, f, limitMiB);
    await refusing(size, f);
  },
};
