// Issue 20's benchmarks as bench/report.mjs renders them (bench/report-scale.mjs):
// the key → server schemes of bench/ring-choice.mjs (balance, keys moved, build
// and lookup cost per scheme), and bench/scale.mjs's one server vs `--workers 2`
// and pooled vs plain client, whose ≥ 0.9× target is computed from the medians
// beside it (0.89× misses, 0.90× meets), with CPU per million requests.
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, renderResults, renderSection, targetsOf, type Run } from '../../bench/report.mjs';
import { POOL_VS_PLAIN, SCALE_SYSTEMS } from '../../bench/report-scale.mjs';

const base = {
  machine: { cores: 2, cpu: 'Test CPU', memoryGiB: 4, pinned: true },
  commit: { hash: '0123456789abcdef0123456789abcdef01234567', dirty: false },
  versions: { node: 'v20' },
  quick: false,
  durationSeconds: 60,
  date: '2026-12-01T00:00:00.000Z',
};
const ring = BENCHMARKS.find((b) => b.id === 'ring')!;
const scale = BENCHMARKS.find((b) => b.id === 'scale')!;
const row = (markdown: string, start: string): string => markdown.split('\n').find((l) => l.startsWith(start)) ?? '';

function ringRun(): Run {
  const scheme = (name: string, movedOnAdd: number, movedOnRemoveFromOthers: number) => ({
    scheme: name,
    balance3: { min: 0.977, max: 1.02 },
    balance4: { min: 0.976, max: 1.016 },
    movedOnAdd,
    movedOnAddBetweenOld: movedOnAdd - 0.25,
    movedOnRemove: 0.25 + movedOnRemoveFromOthers,
    removedServerShare: 0.25,
    movedOnRemoveFromOthers,
    buildMs: { 3: 0.57, 4: 0.69, 8: 1.18 },
  });
  return {
    ...base,
    benchmark: 'ring',
    command: 'npx just bench-ring',
    parameters: { keys: 100_000, rounds: 7, servers: ['a:1', 'b:1', 'c:1', 'd:1'], removed: 'b:1' },
    results: [scheme('Redis slots + rendezvous', 0.25, 0), scheme('modulo (FNV-1a mod N)', 0.748, 0.497)],
    slots: { balance3: { min: 0.99, max: 1.01 }, balance4: { min: 0.985, max: 1.012 } },
    lookups: { 'slotOf(Buffer)': { median: 91.2, min: 87, max: 186 } },
  } as Run;
}

/** A scale run: the pooled client at `pooled` × the plain client's ops/s, the workers at 1.4×. */
function scaleRun(pooled: number): Run {
  const rounds = (ops: number, cpuPerMillion: number) => [0.9, 1, 1.1].map((f) => ({ ops: ops * f, requests: ops * f * 3, cpu: 1, cpuPerMillion: cpuPerMillion * f }));
  const results = ['GET', 'SET'].flatMap((op) => [
    { system: SCALE_SYSTEMS.plain, op, rounds: rounds(100_000, 4) },
    { system: SCALE_SYSTEMS.pooled, op, rounds: rounds(100_000 * pooled, 4) },
    { system: SCALE_SYSTEMS.workers, op, rounds: rounds(140_000, 5.5) },
  ]);
  return {
    ...base,
    benchmark: 'scale',
    command: 'npx just bench-scale',
    parameters: { seconds: 3, rounds: 3, connections: 50, pipeline: 16, keys: 100_000, valueBytes: 100, workers: 2, serverCores: '0', generatorCore: 1, sharedCore: true },
    results,
  } as Run;
}

describe('bench report: key → server schemes (issue 20)', () => {
  it('renders balance, keys moved (and moved needlessly), build cost per scheme, the slot balance and lookup cost', () => {
    const md = renderSection(ring, ringRun());
    expect(md).toContain('## Key → server schemes');
    expect(row(md, '| Redis slots + rendezvous |')).toBe('| Redis slots + rendezvous | 0.977–1.020 | 0.976–1.016 | 25.0 % | 0.0 % | 25.0 % (25.0 %) | 0.0 % | 0.57 / 0.69 / 1.18 |');
    expect(row(md, '| modulo (FNV-1a mod N) |')).toContain('| 74.8 % | 49.8 % | 74.7 % (25.0 %) | 49.7 % |');
    expect(md).toContain('16,384 slots ÷ its fair share is 0.990–1.010 with 3 servers, 0.985–1.012 with 4');
    expect(row(md, '| slotOf(Buffer) |')).toBe('| slotOf(Buffer) | 91 (87–186) |');
    expect(targetsOf(ringRun())).toEqual([]);
  });
});

describe('bench report: scale-out (issue 20)', () => {
  it(`judges the pooled client against ${POOL_VS_PLAIN}× the plain one from the medians: 0.89× misses, 0.90× meets`, () => {
    expect(POOL_VS_PLAIN).toBe(0.9);
    const missed = renderSection(scale, scaleRun(0.89));
    expect(row(missed, '| pooled ConduitClient with one server ≥ 0.9× a plain one (GET')).toContain('pooled 89,000, plain 100,000 ops/s | 0.89× | **missed** |');
    const met = renderSection(scale, scaleRun(0.9));
    expect(row(met, '| pooled ConduitClient with one server ≥ 0.9× a plain one (SET')).toContain('| 0.90× | met |');
  });

  it('renders ops/s, CPU per million requests summed over the server processes, the ratio to one server, and how the cores were shared', () => {
    const md = renderSection(scale, scaleRun(0.95));
    expect(row(md, `| ${SCALE_SYSTEMS.workers} | GET |`)).toBe(`| ${SCALE_SYSTEMS.workers} | GET | 140,000 (126,000–154,000) | 5.50 (4.95–6.05) | 1.40× |`);
    expect(row(md, `| ${SCALE_SYSTEMS.plain} | SET |`)).toBe(`| ${SCALE_SYSTEMS.plain} | SET | 100,000 (90,000–110,000) | 4.00 (3.60–4.40) |  |`);
    expect(md).toContain('the two workers share one core');
    expect(md).toContain('servers pinned to core 0 and the load generator to core 1');
  });

  it('renders both benchmarks as not measured when no run is saved, and counts them', () => {
    const md = renderResults([]);
    expect(md).toContain('## Scale-out: one server vs --workers 2, pooled vs plain client (`npx just bench-scale`)\n\n**Not measured');
    expect(md).toContain('11 of 11 benchmarks have no saved run');
  });
});
