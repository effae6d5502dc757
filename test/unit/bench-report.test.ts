// bench/report.mjs renders bench/RESULTS.md from saved runs: verdicts follow
// the numbers beside them, a benchmark without data says so, quick runs and
// unchecked redis-benchmark rows never count (issue 24, items 1, 2 and 5).
// bench/redis-benchmark.mjs names the keys redis-benchmark -r reads.
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, BOUNDS, renderResults, renderSection, targetsOf, verdict, type Run } from '../../bench/report.mjs';
import { RAND_INT_DIGITS, redisBenchmarkArgs, redisBenchmarkKey } from '../../bench/redis-benchmark.mjs';

const machine = { cores: 2, cpu: 'Test CPU', memoryGiB: 4, pinned: true };
const commit = { hash: '0123456789abcdef0123456789abcdef01234567', dirty: false };
const base = { machine, commit, versions: { node: 'v20' }, quick: false, durationSeconds: 60 };

/** An e2e run where Conduit does `ratios[op][pipeline]` × Redis's ops/s, over three rounds. */
function e2eRun(ratios: Record<string, Record<number, number>>, extra: Partial<Run> = {}): Run {
  const results: Record<string, unknown>[] = [];
  for (const op of ['GET', 'SET']) {
    for (const pipeline of [1, 16]) {
      const redis = [100_000, 100_000, 100_000];
      const q = ratios[op]?.[pipeline] ?? 1;
      results.push({ system: 'Conduit (Node load generator)', op, pipeline, rounds: redis.map((ops) => ({ ops: ops * q, p50: 0.5, p99: 2.5, cpu: 2.9, rss: 300 })) });
      results.push({ system: 'Redis (Node load generator)', op, pipeline, rounds: redis.map((ops) => ({ ops, p50: 0.4, p99: 0.9, cpu: 2.6, rss: 50 })) });
      results.push({
        system: 'Redis (redis-benchmark)', op, pipeline,
        rounds: redis.map((ops) => ({ ops, p50: 0.3, p99: 0.5, requests: 1000, hits: op === 'GET' ? 1000 : 0, misses: 0, keys: 100 })),
      });
    }
  }
  return {
    ...base,
    benchmark: 'e2e',
    command: 'npx just bench-e2e',
    date: '2026-12-01T00:00:00.000Z',
    parameters: { seconds: 3, rounds: 3, connections: 50, keys: 100, valueBytes: 100, pipelines: [1, 16] },
    keyspace: { keys: 100, sizes: [100], keyBytes: 17 },
    rssAfterFill: { conduit: 300, redis: 50 },
    results,
    ...extra,
  } as Run;
}

const row = (markdown: string, start: string): string => markdown.split('\n').find((l) => l.startsWith(start)) ?? '';

describe('bench/report.mjs verdicts', () => {
  it('computes met or missed from the ratio beside it (GET 0.61× met, SET 0.59× missed at P = 16)', () => {
    const md = renderSection(BENCHMARKS[3]!, e2eRun({ GET: { 16: 0.61 }, SET: { 16: 0.59 } }));
    expect(row(md, '| P = 16: conduit-server ≥ 0.6× Redis (GET')).toContain('| 0.61× | met |');
    expect(row(md, '| P = 16: conduit-server ≥ 0.6× Redis (SET')).toContain('| 0.59× | **missed** |');
    expect(row(md, '| P = 16: conduit-server ≥ 0.6× Redis (SET')).toContain('Conduit 59,000, Redis 100,000 ops/s');
  });

  it('never prints a figure that rounds onto the bound next to "missed" (0.5996× is not shown as 0.60×)', () => {
    expect(verdict(0.5996, '>=', 0.6)).toEqual({ shown: '0.5996×', verdict: 'missed' });
    expect(verdict(0.6, '>=', 0.6)).toEqual({ shown: '0.60×', verdict: 'met' });
    expect(verdict(3.004, '<=', 3, 'ms')).toEqual({ shown: '3.004 ms', verdict: 'missed' });
    expect(verdict(null, '>=', 0.6)).toEqual({ shown: 'not measured', verdict: 'not measured' });
  });

  it('judges the active-expiry stall by the figure: an 11.4 ms stall misses the few-ms target', () => {
    const store = {
      ...base,
      benchmark: 'store',
      command: 'npx just bench-store',
      date: '2026-12-01T00:00:00.000Z',
      parameters: { keys: 1_000_000, rounds: 1, keyBytes: 16, valueBytes: 100 },
      entryOverhead: 352,
      keyStringNs: 61,
      results: ['sharded Store (16 shards)', 'bare LRUCache', 'Map'].flatMap((contender) =>
        ['off', '1 h'].map((ttl) => ({ contender, ttl, rounds: [{ set: contender === 'bare LRUCache' ? 138_000 : 100_000, get: 100_000, perEntry: 300 }] })),
      ),
      expiry: { entries: 1_000_000, reclaimedMs: 914, maxStallMs: 11.4, p99StallMs: 6.8 },
    } as Run;
    const md = renderSection(BENCHMARKS[2]!, store);
    expect(BOUNDS.expiryStallMs).toBeLessThan(11.4);
    expect(row(md, '| longest event-loop stall meanwhile')).toContain('| 11.40 ms | **missed** |');
    expect(row(md, '| active expiry reclaims 1,000,000 entries')).toContain('| 914.00 ms | met |');
    expect(row(md, '| sharded Store ≤ 1.3× a bare LRUCache per SET (TTL off)')).toContain('| 1.38× | **missed** |');
    expect(md).toContain('longest event-loop stall meanwhile 11.4 ms (p99 6.8 ms)');
    expect(md).not.toMatch(/few ms|never blocked/);
  });

  it('compares RSS after the fill with the same keyspace, not at the end of a row (871 vs 547 MiB is 1.59×)', () => {
    // The rows' RSS (300 vs 50) include what the timed rows wrote; only rssAfterFill is like for like.
    const md = renderSection(BENCHMARKS[3]!, e2eRun({}, { rssAfterFill: { conduit: 871, redis: 547 } }));
    expect(row(md, '| server RSS within 2× of Redis')).toContain('Conduit 871 MiB, Redis 547 MiB | 1.59× | met |');
    const old = renderSection(BENCHMARKS[3]!, e2eRun({}, { rssAfterFill: undefined }));
    expect(row(old, '| server RSS within 2× of Redis')).toContain('| not measured | **not measured** |');
  });
});

describe('bench/report.mjs sections', () => {
  it('renders a benchmark with no saved run as "not measured since <commit>", with no figures', () => {
    const md = renderResults([e2eRun({})], { lastChange: (script) => (script === 'codec.mjs' ? 'abcdef1234567890' : null) });
    const codec = md.slice(md.indexOf('## Codec micro-benchmark'), md.indexOf('## Store benchmark'));
    expect(codec).toContain('**Not measured since `abcdef1234`** (the last change to `bench/codec.mjs`)');
    expect(codec).not.toMatch(/\d,\d{3}/);
    expect(md).toContain('5 of 6 benchmarks have no saved run');
  });

  it('renders the frame AEAD rows of a codec run as µs per frame with ratios to the first implementation (issue 18)', () => {
    const frames = 1000;
    const rounds = (us: number[]) => us.map((u) => ({ seconds: (u * frames) / 1e6 }));
    const codec = {
      ...base,
      benchmark: 'codec',
      command: 'npx just bench-codec',
      date: '2026-12-01T00:00:00.000Z',
      parameters: { rounds: 3, streamBytes: 2 ** 26, chunkBytes: 65536, sizes: [100] },
      results: [{ op: 'decode', size: 100, frames, rounds: rounds([1, 1, 1]) }],
      aead: [
        { implementation: 'libsodium', size: 100, frames, rounds: rounds([2.5, 2, 3]) },
        { implementation: 'noble', size: 100, frames, rounds: rounds([25, 20, 30]) },
        { implementation: 'node:crypto', size: 100, frames, rounds: rounds([12, 10, 11]) },
        { implementation: 'libsodium', size: 61440, frames, rounds: rounds([100, 90, 110]) },
        { implementation: 'noble', size: 61440, frames, rounds: rounds([1500, 1400, 1600]) },
        { implementation: 'node:crypto', size: 61440, frames, rounds: rounds([150, 140, 160]) },
      ],
    } as Run;
    const md = renderSection(BENCHMARKS[1]!, codec);
    expect(md).toContain('| body bytes | libsodium µs | noble µs | node:crypto µs | noble ÷ libsodium | node:crypto ÷ libsodium |');
    expect(row(md, '| 100 |')).toBe('| 100 | 2.50 (2.00–3.00) | 25 (20–30) | 11 (10–12) | 10.00× | 4.40× |');
    expect(row(md, '| 61440 |')).toBe('| 61440 | 100 (90–110) | 1,500 (1,400–1,600) | 150 (140–160) | 15.00× | 1.50× |');
    const { aead: _, ...older } = codec as Run & { aead: unknown };
    expect(renderSection(BENCHMARKS[1]!, older as Run)).toContain('The frame AEAD was not measured in this run');
  });

  it('names the commit each section measured and how many commits to src/ came after it', () => {
    const md = renderResults([e2eRun({})], { srcCommitsSince: () => 3 });
    expect(md).toContain('at commit `0123456789` (3 commits to src/ since)');
  });

  it('ignores quick runs, even newer ones', () => {
    const full = e2eRun({ GET: { 16: 0.7 } });
    const quick = e2eRun({ GET: { 16: 0.1 } }, { quick: true, date: '2026-12-02T00:00:00.000Z' });
    expect(renderResults([quick, full])).toContain('| 0.70× | met |');
    expect(renderResults([quick])).toContain('## End-to-end: conduit-server vs redis-server (`npx just bench-e2e`)\n\n**Not measured');
  });

  it('shows a redis-benchmark row whose hits were not checked as not valid (the rows that read unwritten key:… names)', () => {
    const run = e2eRun({});
    for (const r of run.results) if (r['system'] === 'Redis (redis-benchmark)') r['rounds'] = r['rounds'].map((x: Record<string, unknown>) => ({ ops: 1_242_236, p50: 0.1, p99: 0.2 }));
    const md = renderSection(BENCHMARKS[3]!, run);
    expect(row(md, '| Redis (redis-benchmark) | GET | 16')).toContain('not valid');
    expect(md).not.toContain('1,242,236');
  });

  it('counts a redis-benchmark GET row with a miss as not valid', () => {
    const run = e2eRun({});
    const rb = run.results.find((r) => r['system'] === 'Redis (redis-benchmark)' && r['op'] === 'GET')!;
    rb['rounds'][1].hits = 999;
    rb['rounds'][1].misses = 1;
    expect(row(renderSection(BENCHMARKS[3]!, run), '| Redis (redis-benchmark) | GET | 1 |')).toContain('not valid');
  });

  it('states every target against a bound from BOUNDS', () => {
    const targets = targetsOf(e2eRun({}));
    const { serverVsRedis, p99AtP1Ms, rssVsRedis } = BOUNDS;
    expect(targets.map((t) => t.bound)).toEqual([serverVsRedis, serverVsRedis, serverVsRedis, serverVsRedis, p99AtP1Ms, p99AtP1Ms, rssVsRedis]);
    expect([serverVsRedis, p99AtP1Ms, rssVsRedis]).toEqual([0.6, 3, 2]);
  });
});

describe('redis-benchmark keys', () => {
  /** What redis-benchmark 7 does to `__rand_int__` for a random r (randomizeClientKey): 12 digits, written from the last. */
  function randomizeClientKey(template: string, r: number): string {
    const at = template.indexOf('__rand_int__');
    const chars = [...template];
    for (let j = 0, p = at + 11; j < 12; j += 1, p -= 1) {
      chars[p] = String(r % 10);
      r = Math.floor(r / 10);
    }
    return chars.join('');
  }

  it('fills exactly the keys that -r N reads, with the value size the row claims', () => {
    const keys = 1_000;
    const value = Buffer.alloc(4096, 0x76);
    const get = redisBenchmarkArgs({ port: 1, op: 'GET', prefix: 'k4096:', keys, value, connections: 50, pipeline: 16, requests: 10_000 });
    const set = redisBenchmarkArgs({ port: 1, op: 'SET', prefix: 'k4096:', keys, value, connections: 50, pipeline: 16, requests: 10_000 });
    expect(get[get.indexOf('-r') + 1]).toBe(String(keys));
    expect(get.slice(-2)).toEqual(['GET', 'k4096:__rand_int__']);
    expect(set.slice(-3, -1)).toEqual(['SET', 'k4096:__rand_int__']);
    expect(set.at(-1)).toHaveLength(4096);
    expect(get).not.toContain('-t');
    expect(get).not.toContain('-d');
    const read = new Set(Array.from({ length: keys }, (_, r) => randomizeClientKey(get.at(-1)!, r)));
    const filled = new Set(Array.from({ length: keys }, (_, i) => redisBenchmarkKey('k4096:', i)));
    expect(read).toEqual(filled);
    expect(redisBenchmarkKey('k100:', 12_345)).toBe('k100:000000012345');
    expect(RAND_INT_DIGITS).toBe(12);
  });
});
