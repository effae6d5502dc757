// Issue 23's benchmark as bench/report.mjs renders it (bench/report-resp.mjs): redis-benchmark
// against conduit-server --resp-port and redis-server, req/s, latency and server CPU per million
// requests per system, op and pipeline depth, and the ≥ 0.6× Redis target computed from the
// medians beside it (0.59× misses, 0.60× meets); a row where a GET missed is not valid.
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, renderResults, renderSection, targetsOf, type Run } from '../../bench/report.mjs';
import { RESP_SYSTEMS, RESP_VS_REDIS } from '../../bench/report-resp.mjs';

const resp = BENCHMARKS.find((b) => b.id === 'resp')!;
const row = (markdown: string, start: string): string => markdown.split('\n').find((l) => l.startsWith(start)) ?? '';

/** A RESP run: Conduit at `share` × Redis's req/s everywhere; `missed` GETs in Conduit's P = 1 GET rounds. */
function respRun(share: number, missed = 0): Run {
  const rounds = (rps: number, misses = 0) => [0.9, 1, 1.1].map((f) => ({ rps: rps * f, p50: 1.5 * f, p99: 3 * f, requests: 100_000, misses, cpuPerMillion: 4 * f }));
  const results = [16, 1].flatMap((pipeline) => ['SET', 'GET'].flatMap((op) => {
    const redis = pipeline === 16 ? 400_000 : 50_000;
    return [
      { system: RESP_SYSTEMS.conduit, op, pipeline, rounds: rounds(redis * share, op === 'GET' && pipeline === 1 ? missed : 0) },
      { system: RESP_SYSTEMS.redis, op, pipeline, rounds: rounds(redis) },
    ];
  }));
  return {
    machine: { cores: 2, cpu: 'Test CPU', memoryGiB: 4, pinned: true },
    commit: { hash: '0123456789abcdef0123456789abcdef01234567', dirty: false },
    versions: { node: 'v20', redis: '7.0.15', 'redis-benchmark': '7.0.15' },
    quick: false,
    durationSeconds: 200,
    date: '2026-12-02T03:35:00.000Z',
    benchmark: 'resp',
    command: 'npx just bench-resp',
    parameters: { rounds: 3, keys: 100_000, connections: 50, valueBytes: 100, pipelines: [16, 1], requests: { 16: 1_000_000, 1: 200_000 }, serverCores: 0, generatorCore: 1, mixed: 'not measured: no maintained generator' },
    results,
  } as Run;
}

describe('bench report: RESP listener (issue 23)', () => {
  it(`judges the RESP port against ${RESP_VS_REDIS}× Redis from the medians, GET and SET at P = 16 and P = 1: 0.59× misses, 0.60× meets`, () => {
    expect(RESP_VS_REDIS).toBe(0.6);
    const missed = targetsOf(respRun(0.59));
    expect(missed.map((t) => t.text)).toEqual([16, 1].flatMap((p) => ['GET', 'SET'].map((op) => `RESP port ≥ 0.6× redis-server (${op}, P = ${p}, redis-benchmark)`)));
    const md = renderSection(resp, respRun(0.59));
    expect(row(md, '| RESP port ≥ 0.6× redis-server (GET, P = 16')).toContain('| Conduit 236,000, Redis 400,000 req/s | 0.59× | **missed** |');
    const met = renderSection(resp, respRun(0.6));
    expect(row(met, '| RESP port ≥ 0.6× redis-server (SET, P = 1,')).toContain('| Conduit 30,000, Redis 50,000 req/s | 0.60× | met |');
  });

  it('renders req/s, p50 / p99, server CPU per million requests and the ratio to Redis, with the generator and the pinning', () => {
    const md = renderSection(resp, respRun(0.75));
    expect(md).toContain('## RESP listener: redis-benchmark against conduit-server --resp-port and redis-server (`npx just bench-resp`)');
    expect(row(md, `| ${RESP_SYSTEMS.conduit} | GET | 16 |`)).toBe(`| ${RESP_SYSTEMS.conduit} | GET | 16 | 300,000 (270,000–330,000) | 1.500 | 3.000 | 4.00 (3.60–4.40) | 0.75× |`);
    expect(row(md, `| ${RESP_SYSTEMS.redis} | SET | 1 |`)).toBe(`| ${RESP_SYSTEMS.redis} | SET | 1 | 50,000 (45,000–55,000) | 1.500 | 3.000 | 4.00 (3.60–4.40) | 1.00× |`);
    expect(md).toContain('redis-benchmark -t set,get -c 50 -d 100 -r 100,000 -P <P> -n <requests>');
    expect(md).toContain('servers pinned to core 0 and the load generator to core 1');
    expect(md).toContain('redis 7.0.15, redis-benchmark 7.0.15');
    expect(md).toContain('Mixed 1:10 SET:GET with Zipf keys: not measured: no maintained generator');
  });

  it('a row whose GETs missed is marked not valid and its target is not measured', () => {
    const run = respRun(0.8, 5);
    const md = renderSection(resp, run);
    expect(row(md, `| ${RESP_SYSTEMS.conduit} (**a GET missed: not valid**) | GET | 1 |`)).not.toBe('');
    const target = targetsOf(run).find((t) => t.text.includes('GET, P = 1,'));
    expect(target?.value).toBeNull();
    expect(row(md, '| RESP port ≥ 0.6× redis-server (GET, P = 1,')).toContain('| not measured | **not measured** |');
  });

  it('renders as not measured when no run is saved', () => {
    expect(renderResults([])).toContain('## RESP listener: redis-benchmark against conduit-server --resp-port and redis-server (`npx just bench-resp`)\n\n**Not measured');
  });
});
