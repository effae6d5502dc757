// bench/report.mjs renders bench/RESULTS.md from saved runs: verdicts follow
// the numbers beside them, a benchmark without data says so, quick runs and
// unchecked redis-benchmark rows never count (issue 24, items 1, 2 and 5);
// the harness's memory part and issue 17's targets (items under 64 MiB,
// RSS under churn at every sample, SET 4 KiB capacity, SET p99.9) render
// with verdicts that miss when a figure passes its bound.
// bench/redis-benchmark.mjs names the keys redis-benchmark -r reads.
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, BOUNDS, churnBoundMiB, renderResults, renderSection, targetsOf, verdict, type Run } from '../../bench/report.mjs';
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
    expect(md).toContain('10 of 11 benchmarks have no saved run');
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

  it('renders the handshake rows of a codec run as µs per handshake, server and client, with the ratio to the first X25519 (issue 18)', () => {
    const handshakes = 2000;
    const rounds = (us: number[]) => us.map((u) => ({ seconds: (u * handshakes) / 1e6 }));
    const codec = {
      ...base,
      benchmark: 'codec',
      command: 'npx just bench-codec',
      date: '2026-12-01T00:00:00.000Z',
      parameters: { rounds: 3, streamBytes: 2 ** 26, chunkBytes: 65536, sizes: [100], handshakes },
      results: [{ op: 'decode', size: 100, frames: 1000, rounds: rounds([1, 1, 1]) }],
      handshake: [
        { implementation: 'libsodium', side: 'server', handshakes, rounds: rounds([80, 70, 90]) },
        { implementation: 'libsodium', side: 'client', handshakes, rounds: rounds([85, 80, 95]) },
        { implementation: 'node:crypto', side: 'server', handshakes, rounds: rounds([160, 150, 170]) },
        { implementation: 'node:crypto', side: 'client', handshakes, rounds: rounds([170, 160, 180]) },
      ],
    } as Run;
    const md = renderSection(BENCHMARKS[1]!, codec);
    expect(md).toContain('### Handshake: µs per handshake (spec §6.2–6.3)');
    expect(md).toContain('| side | libsodium µs | node:crypto µs | node:crypto ÷ libsodium |');
    expect(row(md, '| server |')).toBe('| server | 80 (70–90) | 160 (150–170) | 2.00× |');
    expect(row(md, '| client |')).toBe('| client | 85 (80–95) | 170 (160–180) | 2.00× |');
    const { handshake: _, ...older } = codec as Run & { handshake: unknown };
    expect(renderSection(BENCHMARKS[1]!, older as Run)).not.toContain('### Handshake');
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

/** One measurement round of the memory part (bench/memory.mjs's figures). */
function memoryRound(items: number, maxSampleMiB: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { writes: 1_500_000, bytes: 150_000_000, failed: 0, failures: {}, items, seconds: 9.8, rssMiB: maxSampleMiB - 1, maxSampleMiB, hwmMiB: maxSampleMiB + 1, idleRssMiB: 55, sampleCount: 151, ...extra };
}

interface MemoryFigures { items?: Record<string, number>; churn64?: number[]; churn1024?: number; extra?: Record<string, unknown> }

/** The harness's memory part: items under 64 MiB per server, and the max RSS samples of the churn rounds (64 MiB: one per round). */
function memoryPart({ items = { conduit: 369_334, redis: 322_692, memcached: 349_504 }, churn64 = [117, 118, 119], churn1024 = 1_150, extra = {} }: MemoryFigures = {}) {
  const servers = ['conduit', 'redis', 'memcached'];
  const churn = (budgetMiB: number, conduit: number[]) => ({
    budgetMiB,
    servers: Object.fromEntries(servers.map((s) => [s, conduit.map((m) => memoryRound(20_000, s === 'conduit' ? m : 80, s === 'conduit' ? extra : {}))])),
  });
  return {
    parameters: { items: { budgetMiB: 64, keys: 1_500_000, valueBytes: 100, rounds: 1 }, churn: { budgets: [{ budgetMiB: 64, rounds: churn64.length }, { budgetMiB: 1024, rounds: 1 }], factor: 10, keySpace: 4_000_000, seed: 17 }, sampleEvery: 10_000, window: 1_000 },
    items: Object.fromEntries(servers.map((s) => [s, [memoryRound(items[s]!, 100, s === 'conduit' ? extra : {})]])),
    churn: [churn(64, churn64), churn(1024, [churn1024])],
  };
}

/** A harness run: raw frames and raw RESP rows (Conduit at `ratios` × Redis's ops/s and `p999` × its p99.9), plus a memory part (`null`: none, as before issue 17). */
function harnessRun({ ratios = {}, p999 = {}, memory = memoryPart(), ...extra }: { ratios?: Record<string, number>; p999?: Record<number, number>; memory?: unknown } & Partial<Run> = {}): Run {
  const results: Record<string, unknown>[] = [];
  for (const size of [100, 4096]) {
    for (const op of ['GET', 'SET']) {
      for (const pipeline of [1, 16]) {
        const w = { op, size, pipeline };
        const q = ratios[`${op} ${size}`] ?? 1;
        const p = op === 'SET' ? (p999[size] ?? 1) : 1;
        results.push({ system: 'Conduit · raw frames', server: 'conduit', ...w, rounds: [1, 1, 1].map(() => ({ ops: 100_000 * q, p50: 0.5, p99: 1, p999: 2 * p, cpu: 3, rss: 140 })) });
        results.push({ system: 'Redis · raw RESP', server: 'redis', ...w, rounds: [1, 1, 1].map(() => ({ ops: 100_000, p50: 0.5, p99: 1, p999: 2, cpu: 3, rss: 80 })) });
      }
    }
  }
  return {
    ...base,
    benchmark: 'harness',
    command: 'npx just bench',
    date: '2026-12-01T00:00:00.000Z',
    parameters: { seconds: 3, rounds: 3, connections: 50, keys: 100_000, sizes: [100, 4096], pipelines: [1, 16] },
    keyspace: { keys: 100_000, sizes: [100, 4096], keyBytes: 17, redisKeys: 200_000 },
    rssAfterFill: { conduit: 140, redis: 80, memcached: 70 },
    results,
    ...(memory === null ? {} : { memory }),
    ...extra,
  } as Run;
}

describe('bench/report.mjs: the harness and issue 17', () => {
  it('states the bounds once: 0.8× Redis\'s items, 1.15 × budget + 48 MiB, 3× Redis\'s p99.9', () => {
    expect([BOUNDS.itemsVsRedis, BOUNDS.churnRssPerBudget, BOUNDS.churnRssSlackMiB, BOUNDS.p999VsRedis]).toEqual([0.8, 1.15, 48, 3]);
    expect(churnBoundMiB(64)).toBeCloseTo(121.6, 9);
    expect(churnBoundMiB(1024)).toBeCloseTo(1225.6, 9);
  });

  it('judges items under 64 MiB against 0.8× Redis\'s: 258,153 of 322,692 misses, 258,154 meets', () => {
    const items = (conduit: number) => row(renderSection(BENCHMARKS[0]!, harnessRun({ memory: memoryPart({ items: { conduit, redis: 322_692, memcached: 349_504 } }) })), '| items kept under a 64 MiB budget');
    expect(items(258_153)).toContain('Conduit 258,153, Redis 322,692, memcached 349,504 items | 0.799998× | **missed** |');
    expect(items(258_154)).toContain('| 0.80× | met |');
  });

  it('judges RSS under churn by its largest sample over every round, not the median (121.7 MiB in one round of three misses 121.6)', () => {
    const churn = (churn64: number[]) => row(renderSection(BENCHMARKS[0]!, harnessRun({ memory: memoryPart({ churn64 }) })), '| conduit-server RSS under churn ≤ 1.15 × 64 MiB + 48 MiB = 121.6 MiB');
    expect(churn([118, 121.7, 119])).toContain('| 121.70 MiB | **missed** |');
    expect(churn([118, 121.6, 119])).toContain('| 121.60 MiB | met |');
    expect(churn([118, 121.6, 119])).toContain('largest sample of 3 rounds; VmHWM 122.6 MiB (**over** the bound); largest samples of redis-server 80, memcached 80 MiB');
    expect(row(renderSection(BENCHMARKS[0]!, harnessRun()), '| conduit-server RSS under churn ≤ 1.15 × 1024 MiB + 48 MiB = 1225.6 MiB')).toContain('VmHWM 1151.0 MiB (within the bound)');
  });

  it('renders a table per measurement with every server beside Redis and memcached, refused writes by reason', () => {
    const md = renderSection(BENCHMARKS[0]!, harnessRun({ memory: memoryPart({ extra: { failed: 3, failures: { OUT_OF_MEMORY: 3 } } }) }));
    expect(md).toContain('### Items kept under a 64 MiB budget');
    expect(row(md, '| conduit-server | 369,334 |')).toContain('| 369,334 | 1.14× | 1.06× | 3 (OUT_OF_MEMORY: 3) | 99.0 | 101.0 | 55.0 | 9.8 |');
    expect(row(md, '| redis-server | 322,692 |')).toContain('| 1.00× | 0.92× | 0 |');
    expect(md).toContain('#### 64 MiB budget (3 rounds; bound 121.6 MiB)');
    expect(md).toContain('#### 1024 MiB budget (1 round; bound 1225.6 MiB)');
    // 64 MiB: median of the rounds' largest samples (118) with min–max, ÷ Redis's 80.
    const section64 = md.slice(md.indexOf('#### 64 MiB'), md.indexOf('#### 1024 MiB'));
    expect(row(section64, '| conduit-server |')).toContain('| 1,500,000 | 20,000 | 118.0 (117.0–119.0) | 119.0 (118.0–120.0) | 1.48× | 1.48× | 9 (OUT_OF_MEMORY: 9) |');
  });

  it('adds the capacity target for SET 4 KiB and the SET p99.9 targets against Redis (P = 16)', () => {
    const md = renderSection(BENCHMARKS[0]!, harnessRun({ ratios: { 'SET 4096': 0.59 }, p999: { 100: 3.1, 4096: 2.9 } }));
    expect(row(md, '| server capacity ≥ 0.6× Redis (raw frames vs raw RESP, SET 4096 B, P = 16)')).toContain('| 0.59× | **missed** |');
    expect(row(md, '| server capacity ≥ 0.6× Redis (raw frames vs raw RESP, GET 100 B, P = 16)')).toContain('| 1.00× | met |');
    expect(row(md, "| SET p99.9 ≤ 3× Redis's (raw frames vs raw RESP, SET 100 B, P = 16)")).toContain('Conduit 6.20 ms, Redis 2.00 ms');
    expect(row(md, "| SET p99.9 ≤ 3× Redis's (raw frames vs raw RESP, SET 100 B, P = 16)")).toContain('| 3.10× | **missed** |');
    expect(row(md, "| SET p99.9 ≤ 3× Redis's (raw frames vs raw RESP, SET 4096 B, P = 16)")).toContain('| 2.90× | met |');
  });

  it('renders a memory-only run (BENCH_ONLY=memory) with its targets only, and a run without the memory part as not measured', () => {
    const only = renderSection(BENCHMARKS[0]!, harnessRun({ only: 'memory', results: [] }));
    expect(only).toContain('The memory part alone (`BENCH_ONLY=memory`)');
    expect(only).not.toContain('server capacity');
    expect(targetsOf(harnessRun({ only: 'memory', results: [] })).map((t) => t.bound)).toEqual([0.8, churnBoundMiB(64), churnBoundMiB(1024)]);
    const before = renderSection(BENCHMARKS[0]!, harnessRun({ memory: null }));
    expect(before).toContain('Not measured in this run: it predates the harness\'s memory part.');
    expect(row(before, '| items kept under a 64 MiB budget')).toContain('| not measured | **not measured** |');
    expect(row(before, '| conduit-server RSS under churn ≤ 1.15 × 1024 MiB')).toContain('| not measured | **not measured** |');
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

describe('bench/report.mjs: the harness\'s scan part (issue 19 item 3)', () => {
  const store = (cpuWorstMs: number) => ({
    'SCAN count 1000': { calls: 2_001, medianMs: 0.4, p99Ms: 0.8, worstMs: 9.5, cpuP99Ms: 0.66, cpuWorstMs, totalMs: 470 },
    'LIST limit 65535': { calls: 200, medianMs: 0.49, p99Ms: 2.6, worstMs: 9.8, cpuP99Ms: 2.58, cpuWorstMs: 9.6 },
  });
  const scan = (cpuWorstMs: number) => ({
    parameters: { keys: 1_000_000, rounds: 3, listCalls: 200, counts: [1_000] },
    store: store(cpuWorstMs),
    wire: { 'SCAN count 1000: every key': { totalMs: 2_140, serverWorstStallMs: 7.7, worstGcMs: 1.2 }, 'GET for 2,140 ms (control)': { totalMs: 2_141, serverWorstStallMs: 12.8, worstGcMs: 6.8 } },
  });

  it('judges the worst SCAN call by its CPU time against 5 ms (LIST rows are shown, not judged): 5.01 misses, 5 meets', () => {
    const target = (cpu: number) => row(renderSection(BENCHMARKS[0]!, harnessRun({ scan: scan(cpu) })), "| each SCAN call holds the server's event loop ≤ 5 ms (1,000,000 keys");
    expect(target(5.01)).toContain('| 5.01 ms | **missed** |');
    expect(target(5)).toContain('| 5.00 ms | met |');
    expect(target(4.62)).toContain('SCAN count 1000: CPU worst 4.62 ms, wall median 0.40 / p99 0.80 / worst 9.50 ms');
  });

  it('renders per-call and over-the-wire tables, and says when a run has no scan part', () => {
    const md = renderSection(BENCHMARKS[0]!, harnessRun({ scan: scan(4.62) }));
    expect(md).toContain('### SCAN vs LIST over 1,000,000 keys (issue 19)');
    expect(row(md, '| SCAN count 1000 | 2,001 |')).toBe('| SCAN count 1000 | 2,001 | 0.40 | 0.80 | 9.50 | 0.66 | 4.62 | 470 |');
    expect(row(md, '| LIST limit 65535 |')).toBe('| LIST limit 65535 | 200 | 0.49 | 2.60 | 9.80 | 2.58 | 9.60 | — (one bounded slice per call) |');
    expect(row(md, '| GET for 2,140 ms (control) |')).toBe('| GET for 2,140 ms (control) | 2,141 | 12.80 | 6.80 |');
    const old = renderSection(BENCHMARKS[0]!, harnessRun());
    expect(old).toContain("Not measured in this run: it predates the harness's scan part.");
    expect(row(old, "| each SCAN call holds the server's event loop ≤ 5 ms")).toContain('| not measured |');
  });
});
