// Issue 21's near-cache benchmark (bench/near-cache.mjs) without a server: the
// Zipf(0.99) workload every system replays (bench/zipf.mjs: a seeded sequence,
// the same for the same arguments, with the hottest key's share and the SET
// share the distribution gives), the invalidation-delay bookkeeping
// (bench/invalidation-probe.mjs: which SETs must produce an invalidation, the
// delay from the writer's resolve, early arrivals, missing ones, re-reads), and
// the section bench/report.mjs renders from a run (bench/report-near.mjs): the
// ≥ 10× target judged from the medians beside it (9.99× misses, 10× meets),
// never judged when the near cache was absent or off.
import { describe, expect, it } from 'vitest';
import { InvalidationProbe } from '../../bench/invalidation-probe.mjs';
import { NEAR_SYSTEMS, NEAR_VS_IOREDIS } from '../../bench/report-near.mjs';
import { BENCHMARKS, renderResults, renderSection, targetsOf, type Run } from '../../bench/report.mjs';
import { SET_BIT, mulberry32, opSequences, sampleRank, zipfCdf } from '../../bench/zipf.mjs';

describe('bench/zipf.mjs: the near-cache workload', () => {
  it('builds a CDF that rises to exactly 1, with rank i weighted 1 / (i + 1)^s', () => {
    const cdf = zipfCdf(100_000, 0.99);
    expect(cdf.length).toBe(100_000);
    expect(cdf[cdf.length - 1]).toBe(1);
    let falls = 0;
    for (let i = 1; i < cdf.length; i++) if (!(cdf[i]! > cdf[i - 1]!)) falls += 1;
    expect(falls).toBe(0);
    let h = 0;
    for (let i = 1; i <= 100_000; i++) h += 1 / i ** 0.99;
    expect(cdf[0]).toBeCloseTo(1 / h, 12);
    expect(cdf[1]! - cdf[0]!).toBeCloseTo(1 / 2 ** 0.99 / h, 12);
    expect(() => zipfCdf(0, 0.99)).toThrow(RangeError);
  });

  it('samples the rank whose CDF interval holds u', () => {
    const cdf = zipfCdf(4, 1); // weights 1, 1/2, 1/3, 1/4 over 25/12: cdf 0.48, 0.72, 0.88, 1
    expect(sampleRank(cdf, 0)).toBe(0);
    expect(sampleRank(cdf, 0.47)).toBe(0);
    expect(sampleRank(cdf, 0.49)).toBe(1);
    expect(sampleRank(cdf, 0.8)).toBe(2);
    expect(sampleRank(cdf, 0.999)).toBe(3);
  });

  it('gives the same sequences for the same seed, others for another, with the shares Zipf(0.99) and 5 % SET give', () => {
    const cdf = zipfCdf(100_000, 0.99);
    const args = { loops: 4, length: 50_000, cdf, setFraction: 0.05, seed: 21 };
    const a = opSequences(args);
    const b = opSequences(args);
    expect(a).toHaveLength(4);
    for (let l = 0; l < 4; l++) expect(Buffer.from(a[l]!.buffer).equals(Buffer.from(b[l]!.buffer))).toBe(true);
    expect(Buffer.from(opSequences({ ...args, seed: 22 })[0]!.buffer).equals(Buffer.from(a[0]!.buffer))).toBe(false);
    let sets = 0;
    let hottest = 0;
    let max = 0;
    for (const seq of a) {
      for (const op of seq) {
        if ((op & SET_BIT) !== 0) sets += 1;
        const rank = op & ~SET_BIT;
        if (rank === 0) hottest += 1;
        max = Math.max(max, rank);
      }
    }
    const n = 4 * 50_000;
    expect(sets / n).toBeGreaterThan(0.045);
    expect(sets / n).toBeLessThan(0.055);
    expect(hottest / n).toBeGreaterThan(cdf[0]! * 0.9);
    expect(hottest / n).toBeLessThan(cdf[0]! * 1.1);
    expect(max).toBeLessThan(100_000);
    expect(max).toBeGreaterThan(50_000);
  });

  it('mulberry32 repeats its sequence for a seed and stays in [0, 1)', () => {
    const x = mulberry32(7);
    const y = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const v = x();
      expect(v).toBe(y());
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('bench/invalidation-probe.mjs: invalidation delay bookkeeping', () => {
  /** A probe on a fake clock whose re-reads resolve when the test says. */
  function probe() {
    let now = 0;
    const rereads: string[] = [];
    const pending: (() => void)[] = [];
    const p = new InvalidationProbe({
      reread: (k) => {
        rereads.push(k);
        return new Promise<void>((resolve) => pending.push(resolve));
      },
      now: () => now,
    });
    return { p, rereads, at: (t: number) => (now = t), resolveRereads: async () => {
      for (const r of pending.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    } };
  }

  it('times a SET to a held key from its resolve to the invalidation, then re-reads and holds the key again', async () => {
    const { p, rereads, at, resolveRereads } = probe();
    p.hold('a');
    at(10);
    const token = p.setStarted('a');
    expect(token).not.toBeNull();
    expect(p.outstanding).toBe(1);
    at(11);
    p.setResolved(token);
    at(11.25);
    p.invalidated(['a']);
    expect(p.outstanding).toBe(0);
    expect(rereads).toEqual(['a']);
    expect(p.holding).toBe(0);
    await resolveRereads();
    expect(p.holding).toBe(1);
    expect(p.summary()).toMatchObject({ expected: 1, seen: 1, missing: 0, timed: 1, early: 0, p50: 0.25, p99: 0.25, max: 0.25 });
  });

  it('does not count SETs to keys it does not hold; several SETs before the re-read expect one push, timed from the first resolve', () => {
    const { p } = probe();
    p.hold('a');
    expect(p.setStarted('b')).toBeNull();
    const first = p.setStarted('a');
    const second = p.setStarted('a');
    p.setResolved(second, 4);
    p.setResolved(first, 5);
    p.invalidated(['a'], 6);
    expect(p.setStarted('a')).toBeNull(); // not held until the re-read resolves
    expect(p.summary()).toMatchObject({ expected: 1, seen: 1, timed: 1, p99: 2 });
  });

  it('counts an invalidation that arrives before the writer resolves as early, with delay 0', () => {
    const { p } = probe();
    p.hold('a');
    const token = p.setStarted('a');
    p.invalidated(['a'], 3);
    expect(p.summary()).toMatchObject({ seen: 1, timed: 0, p99: null });
    p.setResolved(token, 4);
    expect(p.summary()).toMatchObject({ seen: 1, timed: 1, early: 1, p50: 0, max: 0 });
  });

  it('reports SETs whose invalidation never came as missing, and invalidations it could not match apart', () => {
    const { p } = probe();
    p.hold('a');
    p.hold('b');
    p.hold('c');
    p.setResolved(p.setStarted('a'), 1);
    p.setResolved(p.setStarted('b'), 1);
    p.invalidated(['b', 'c', 'z'], 2);
    expect(p.outstanding).toBe(1);
    expect(p.summary()).toMatchObject({ expected: 2, seen: 1, missing: 1, unrelated: 1, notHeld: 1 });
  });

  it('reads a key again when a push for it arrives while its read is on its way (the value read is already stale)', async () => {
    const { p, rereads, resolveRereads } = probe();
    const held = p.read('a');
    expect(rereads).toEqual(['a']);
    p.invalidated(['a'], 1); // the server changed 'a' after executing the read
    await resolveRereads();
    expect(rereads).toEqual(['a', 'a']);
    expect(p.holding).toBe(0);
    expect(p.setStarted('a')).toBeNull();
    await resolveRereads();
    await held;
    expect(p.holding).toBe(1);
    expect(p.summary()).toMatchObject({ staleReads: 1, notHeld: 0, expected: 0 });
    p.setResolved(p.setStarted('a'), 2);
    p.invalidated(['a'], 3);
    expect(p.summary()).toMatchObject({ expected: 1, seen: 1, missing: 0, p50: 1 });
  });

  it("takes 'all' as an invalidation of every held key, and stops re-reading once stopped", async () => {
    const { p, rereads, resolveRereads } = probe();
    p.hold('a');
    p.hold('b');
    p.setResolved(p.setStarted('a'), 1);
    p.invalidated('all', 3);
    expect(rereads.sort()).toEqual(['a', 'b']);
    expect(p.summary()).toMatchObject({ all: 1, expected: 1, seen: 1, unrelated: 1, p50: 2 });
    p.stop();
    await resolveRereads();
    expect(p.holding).toBe(0);
    p.hold('c');
    expect(p.holding).toBe(0);
  });
});

const base = {
  machine: { cores: 2, cpu: 'Test CPU', memoryGiB: 4, pinned: true },
  commit: { hash: '0123456789abcdef0123456789abcdef01234567', dirty: false },
  versions: { node: 'v20', redis: '7.0.15', ioredis: '6.0.0' },
  quick: false,
  durationSeconds: 90,
  date: '2026-12-01T00:00:00.000Z',
};
const near = BENCHMARKS.find((b) => b.id === 'near')!;
const row = (markdown: string, start: string): string => markdown.split('\n').find((l) => l.startsWith(start)) ?? '';

/** A near-cache run: the near cache at `q` × ioredis's ops/s, the plain client at 2×, with the near cache in `state`. */
function nearRun(q: number, state: 'on' | 'off' | 'absent' = 'on', missing = 0): Run {
  const f = [0.9, 1, 1.1];
  const invalidation = (p99: number) => ({
    expected: 400, seen: 400 - missing, missing, timed: 400 - missing, early: 3, unrelated: 0, notHeld: 0, all: 0, rereadFailures: 0,
    p50: 0.2, p99, max: p99 * 2, hotKeys: 1000, observerInvalidations: 400,
  });
  const nearRounds = f.map((x, i) => ({
    ops: 50_000 * q * x, done: 1, seconds: 3, exhaustedLoops: 0, cpuPerMillion: 1.5, nearCache: state,
    ...(state === 'on' ? { hits: 900, misses: 100, hitRate: 0.9 + i * 0.01, invalidations: 50, drops: 0, entries: 10_000, bytes: 1e6, invalidation: invalidation([1.2, 1.5, 3][i]!) } : {}),
  }));
  return {
    ...base,
    benchmark: 'near',
    command: 'npx just bench-near',
    parameters: {
      seconds: 3, warmupSeconds: 1, rounds: 3, loops: 50, clients: 1, keys: 100_000, valueBytes: 100, zipf: 0.99, getFraction: 0.95, setFraction: 0.05,
      seed: 21, opsPerLoop: 200_000, hotKeys: 1000, nearCache: { maxEntries: 100_000, maxBytes: 64 * 2 ** 20 }, nearCacheFilled: true,
    },
    results: [
      { system: NEAR_SYSTEMS.near, rounds: nearRounds },
      { system: NEAR_SYSTEMS.plain, rounds: f.map((x) => ({ ops: 100_000 * x, cpuPerMillion: 8 })) },
      { system: NEAR_SYSTEMS.ioredis, rounds: f.map((x) => ({ ops: 50_000 * x, cpuPerMillion: 10 })) },
    ],
  } as Run;
}

describe('bench report: near cache (issue 21)', () => {
  it(`judges the near cache against ${NEAR_VS_IOREDIS}× ioredis from the medians, with the invalidation delay p99 beside it: 9.99× misses, 10× meets`, () => {
    expect(NEAR_VS_IOREDIS).toBe(10);
    const target = '| ConduitClient with a near cache ≥ 10× ioredis + Redis (Zipf 0.99 over 100,000 keys, 95 % GET / 5 % SET, 50 loops)';
    expect(row(renderSection(near, nearRun(9.99)), target)).toContain('| near cache 499,500, ioredis 50,000 ops/s; invalidation delay p99 1.50 ms | 9.99× | **missed** |');
    expect(row(renderSection(near, nearRun(10)), target)).toContain('| 10.00× | met |');
    expect(targetsOf(nearRun(12))[0]!.value).toBeCloseTo(12, 9);
  });

  it('renders ops/s, the ratios to ioredis, the hit rate, server CPU, and the invalidation delay with seen / expected', () => {
    const md = renderSection(near, nearRun(12));
    expect(md).toContain('## Near cache: ConduitClient with and without nearCache vs ioredis');
    expect(md).toContain('servers pinned to core 0 and the load generator to core 1');
    expect(md).toContain('The near cache: `{ maxEntries: 100,000, maxBytes: 67,108,864 }`, filled by reading every key once before the warm-up');
    expect(row(md, `| ${NEAR_SYSTEMS.near} |`)).toBe(`| ${NEAR_SYSTEMS.near} | 600,000 (540,000–660,000) | 12.00× | 91.0 % (90.0 %–92.0 %) | 1.50 (1.50–1.50) |`);
    expect(row(md, `| ${NEAR_SYSTEMS.plain} |`)).toBe(`| ${NEAR_SYSTEMS.plain} | 100,000 (90,000–110,000) | 2.00× | — | 8.00 (8.00–8.00) |`);
    expect(row(md, `| ${NEAR_SYSTEMS.ioredis} |`)).toBe(`| ${NEAR_SYSTEMS.ioredis} | 50,000 (45,000–55,000) |  | — | 10.00 (10.00–10.00) |`);
    expect(row(md, '| 0.200 (0.200–0.200) |')).toBe('| 0.200 (0.200–0.200) | 1.50 (1.20–3.00) | 6.00 | 1,200 / 1,200 | 9 |');
    const missing = renderSection(near, nearRun(12, 'on', 2));
    expect(row(missing, '| 0.200 (0.200–0.200) |')).toContain('| 1,194 / 1,200 (**6 missing**) |');
  });

  it('does not judge a run whose client had no near cache (or had it off), and says so', () => {
    for (const state of ['absent', 'off'] as const) {
      const md = renderSection(near, nearRun(12, state));
      expect(row(md, `| ${NEAR_SYSTEMS.near} (near cache ${state}) |`)).toContain('| 12.00× | — |');
      expect(row(md, '| ConduitClient with a near cache ≥ 10×')).toContain('| not measured | **not measured** |');
      expect(md).not.toContain('Invalidation delay');
      expect(targetsOf(nearRun(12, state))[0]!.value).toBeNull();
    }
    expect(renderSection(near, nearRun(12, 'absent'))).toContain('**This ConduitClient has no near cache**');
    expect(renderSection(near, nearRun(12, 'off'))).toContain('**The near cache was off in this run**');
  });

  it('renders as not measured when no run is saved', () => {
    expect(renderResults([])).toContain('## Near cache: ConduitClient with and without nearCache vs ioredis (Zipf 0.99, 95 % GET) (`npx just bench-near`)\n\n**Not measured');
  });
});
