// The harness's large-value part (issue 19, bench/large-values.mjs) as
// bench/report.mjs renders it: MB/s beside Redis's, the ≥ 0.8× target per op
// and size computed from the figures, a row whose requests failed (a server
// without fragments) shown with why and its target not measured.
import { describe, expect, it } from 'vitest';
import { BOUNDS, renderSection, targetsOf, type Run } from '../../bench/report.mjs';

const MiB = 2 ** 20;
const bench = { id: 'harness', script: 'harness.mjs', recipe: 'npx just bench', title: 'Conduit vs Redis vs memcached' };

/** A BENCH_ONLY=large harness run: Conduit at `ratio` × Redis's MB/s, or failing when `error` is given. */
function largeRun(ratio: number, error?: string): Run {
  const rounds = (mbps: number) => [0.9, 1, 1.1].map((f) => (error === undefined ? { mbps: mbps * f, ops: 100, seconds: 1 } : { error }));
  const results = [];
  for (const size of [MiB, 16 * MiB]) {
    for (const op of ['SET', 'GET']) {
      results.push({ system: 'Conduit · ConduitClient', server: 'conduit', op, size, rounds: rounds(500 * ratio) });
      results.push({ system: 'Redis · ioredis', server: 'redis', op, size, rounds: [0.9, 1, 1.1].map((f) => ({ mbps: 500 * f, ops: 100, seconds: 1 })) });
    }
  }
  return {
    benchmark: 'harness', only: 'large', date: '2026-12-01T00:00:00.000Z', command: 'BENCH_ONLY=large npx just bench', quick: true,
    machine: { cores: 2, cpu: 'Test CPU', memoryGiB: 4, pinned: true }, versions: {}, parameters: {}, results: [],
    large: { parameters: { sizes: [MiB, 16 * MiB], rounds: 3, seconds: 2, pipeline: 4, keys: 4, maxOps: 2000 }, results },
  };
}

describe('bench report: large values (issue 19)', () => {
  it('one target per op and size at the 0.8× bound, met or missed from the medians beside it', () => {
    expect(BOUNDS.largeVsRedis).toBe(0.8);
    const met = targetsOf(largeRun(0.85));
    expect(met).toHaveLength(4);
    expect(met.map((t) => t.value?.toFixed(2))).toEqual(['0.85', '0.85', '0.85', '0.85']);
    const missed = renderSection(bench, largeRun(0.79));
    expect(missed).toContain('| large values: ConduitClient ≥ 0.8× Redis in MB/s (SET 16 MiB) | Conduit 395, Redis 500 MB/s | 0.79× | **missed** |');
    expect(missed).toContain('| Conduit · ConduitClient | GET | 1 MiB | 395 (356–435) | 100.0 | 0.79× |');
  });

  it('a row whose requests failed says why, and its target is not measured', () => {
    const text = renderSection(bench, largeRun(1, 'TOO_LARGE: a request body of 1048597 bytes does not fit one frame'));
    expect(text).toContain('| Conduit · ConduitClient | SET | 1 MiB | failed: TOO_LARGE: a request body of 1048597 bytes does not fit one frame | | |');
    expect(targetsOf(largeRun(1, 'x')).every((t) => t.value === null)).toBe(true);
  });
});
