// Issue 22's snapshot benchmark (bench/snapshot.mjs) without a server: its
// data set (bench/snapshot-tools.mjs: every value different and checkable,
// the sample), the split of probe samples into "during a save" and "between
// saves", the reply parsers of the raw memcached connection, and the section
// bench/report.mjs renders from a run (bench/report-snapshot.mjs): the
// 500 MB/s and 10 ms goals judged from the figures beside them, never judged
// when the server had no --snapshot.
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_GOALS } from '../../bench/report-snapshot.mjs';
import { BENCHMARKS, renderResults, renderSection, targetsOf, type Run } from '../../bench/report.mjs';
import { VALUE_BYTES, keyOf, linesOf, memcachedStats, memcachedValue, sampleIndexes, splitBySaves, valueOf } from '../../bench/snapshot-tools.mjs';

describe('bench/snapshot-tools.mjs: data, sample, probe split, parsers', () => {
  it('makes 4 KiB values that differ per item and come out the same every time', () => {
    expect(VALUE_BYTES).toBe(4096);
    expect(keyOf(42)).toBe('snap:00000042');
    const a = valueOf(7);
    expect(a.length).toBe(4096);
    expect(a.equals(valueOf(7))).toBe(true);
    expect(a.equals(valueOf(8))).toBe(false);
    expect(a.readUInt32LE(0)).toBe(7);
    // Not one repeated byte: a value a compressor could shrink would flatter a system that compresses.
    expect(new Set(a.subarray(4, 64)).size).toBeGreaterThan(30);
  });

  it('samples the first, the last and distinct items between, the same for the same seed', () => {
    const s = sampleIndexes(262_144, 2000);
    expect(s).toHaveLength(2000);
    expect(new Set(s).size).toBe(2000);
    expect(s).toContain(0);
    expect(s).toContain(262_143);
    expect(s.every((i) => i >= 0 && i < 262_144)).toBe(true);
    expect(sampleIndexes(262_144, 2000)).toEqual(s);
    expect(sampleIndexes(10, 50)).toHaveLength(10);
  });

  it('counts a probe sample as during a save when its wait overlaps a save window, else between', () => {
    const sent = [0, 10, 20, 30, 40];
    const waits = [1, 5, 12, 1, 2];
    const split = splitBySaves({ sent, waits }, [[14, 25]]);
    // 10 + 5 = 15 overlaps [14, 25]; 20 … 32 overlaps; 0 … 1, 30 … 31, 40 … 42 do not.
    expect(split.during).toMatchObject({ samples: 2, maxMs: 12 });
    expect(split.between).toMatchObject({ samples: 3, maxMs: 2 });
    expect(splitBySaves({ sent, waits }, []).during).toEqual({ samples: 0, maxMs: null, p99Ms: null, p50Ms: null });
    expect(splitBySaves({ sent: [100], waits: [3] }, [[50, Infinity]]).during.samples).toBe(1);
  });

  it('parses memcached replies: n STORED lines, a value or a miss, stats up to END', () => {
    const stored = Buffer.from('STORED\r\nSTORED\r\nSTORED\r\n');
    expect(linesOf(2, 'STORED')(stored)).toEqual({ value: 2, used: 16 });
    expect(linesOf(4, 'STORED')(stored)).toBeNull();
    expect(() => linesOf(2, 'STORED')(Buffer.from('STORED\r\nSERVER_ERROR out of memory\r\n'))).toThrow(/SERVER_ERROR/);
    const hit = Buffer.from('VALUE k 0 3\r\nabc\r\nEND\r\nVALUE');
    const got = memcachedValue(hit);
    expect(got?.value?.toString()).toBe('abc');
    expect(got?.used).toBe(hit.length - 5);
    expect(memcachedValue(hit.subarray(0, 20))).toBeNull();
    expect(memcachedValue(Buffer.from('END\r\n'))).toEqual({ value: undefined, used: 5 });
    expect(memcachedStats(Buffer.from('STAT curr_items 5\r\nSTAT pid 1\r\nEND\r\n'))).toEqual({ value: { curr_items: '5', pid: '1' }, used: 36 });
    expect(memcachedStats(Buffer.from('STAT curr_items 5\r\n'))).toBeNull();
  });
});

const snapshot = BENCHMARKS.find((b) => b.id === 'snapshot')!;
const row = (markdown: string, start: string): string => markdown.split('\n').find((l) => l.startsWith(start)) ?? '';
const GiB = 2 ** 30;

/** A snapshot run whose Conduit saves at `saveMBps` and loads at `loadMBps` (file bytes = 1 GiB), with `stallMs` the longest wait during periodic saves. */
function snapshotRun(saveMBps: number, loadMBps: number, stallMs: number, mode: 'cli' | 'absent' = 'cli'): Run {
  const f = [0.9, 1, 1.1];
  const conduit = f.map((x, i) => ({
    emptyStartS: 0.2, fillS: 5, stored: 262_144,
    save: { exitS: 3, exitCode: 0, fileBytes: GiB, durationMs: (GiB / 1e6 / (saveMBps * x)) * 1000, bytes: GiB, items: 262_144, longestSliceMs: null },
    loadWarm: { cachedPercent: 100, toListeningS: 2.5, result: 'loaded', durationMs: (GiB / 1e6 / (loadMBps * x)) * 1000, bytes: GiB, loaded: 262_144, items: 262_144, sampled: 2000, matched: 2000 },
    loadCold: { cachedPercent: 0, toListeningS: 4, result: 'loaded', durationMs: (GiB / 1e6 / 250) * 1000, bytes: GiB, loaded: 262_144, items: 262_144, sampled: 2000, matched: 2000 },
    periodic: {
      probes: 15_000, probeSeconds: 16,
      during: { samples: 9000, maxMs: stallMs * x, p99Ms: 2, p50Ms: 0.2 }, between: { samples: 6000, maxMs: 3, p99Ms: 1, p50Ms: 0.2 },
      saves: [{ durationMs: 4000, bytes: GiB, items: 262_144, longestSliceMs: 5 + i }],
    },
  }));
  const disk = f.map(() => ({ bytes: GiB, writeS: 0.5, fsyncS: 2, readWarmS: 0.4, readColdS: 3, coldCachedPercent: 0 }));
  const redis = f.map((x) => ({
    fillS: 4, stored: 262_144, save: { seconds: 8 * x, fileBytes: 1.08e9 },
    bgsave: { seconds: 8.5, status: 'ok', forkUsec: 12_000, probes: 9000, during: { samples: 8000, maxMs: 14, p99Ms: 1, p50Ms: 0.2 }, between: { samples: 600, maxMs: 2, p99Ms: 1, p50Ms: 0.2 } },
    loadWarm: { cachedPercent: 100, toPingS: 5, loggedS: 4.9, keys: 262_144, sampled: 2000, matched: 2000 },
    loadCold: { cachedPercent: 0, toPingS: 7, loggedS: 6.9, keys: 262_144, sampled: 2000, matched: 2000 },
  }));
  const memcached = f.map(() => ({ fillS: 3, stored: 262_144, fileBytes: 1.5e9, stopS: 0.6, exitCode: 0, restart: { toServingS: 0.3, items: 262_144, sampled: 2000, matched: 2000 } }));
  return {
    benchmark: 'snapshot',
    command: 'npx just bench-snapshot',
    quick: false,
    durationSeconds: 300,
    date: '2026-12-02T00:00:00.000Z',
    commit: { hash: '0123456789abcdef0123456789abcdef01234567', dirty: false },
    machine: { cores: 2, cpu: 'Test CPU', memoryGiB: 24, pinned: true },
    versions: { node: 'v20', redis: '7.0.15', memcached: '1.6.18' },
    parameters: {
      bytes: GiB, items: 262_144, valueBytes: 4096, rounds: 3, probeMs: 15_000, interval: '2s', sample: 2000, fillBatch: 256,
      conduitMaxMemory: '1600mb', memcachedMiB: 1486, dataFilesystem: { type: 'ext4', device: '/dev/vda' }, memcachedFilesystem: { type: 'tmpfs', device: 'tmpfs' },
      systems: ['conduit', 'redis', 'memcached'],
    },
    conduitMode: mode,
    disk,
    conduit: mode === 'cli' ? conduit : [],
    redis,
    memcached,
    results: [],
  } as Run;
}

describe('bench report: snapshot (issue 22)', () => {
  it(`judges save and load against ${SNAPSHOT_GOALS.saveMBps} MB/s and the stall against ${SNAPSHOT_GOALS.stallMs} ms from the medians: 499 misses, 500 meets`, () => {
    expect(SNAPSHOT_GOALS).toEqual({ saveMBps: 500, loadMBps: 500, stallMs: 10 });
    const save = '| Conduit save at shutdown ≥ 500 MB/s (1,024 MiB of 4,096 B values, fsync included)';
    const load = '| Conduit load at start ≥ 500 MB/s (1,024 MiB of 4,096 B values, file in the page cache)';
    const stall = '| longest wait of a 1-GET-per-ms probe during a periodic save ≤ 10 ms';
    const missed = renderSection(snapshot, snapshotRun(499, 499, 10.5));
    expect(row(missed, save)).toContain('| 499.00 MB/s | **missed** |');
    expect(row(missed, load)).toContain('| 499.00 MB/s | **missed** |');
    expect(row(missed, stall)).toContain('| 10.50 ms | **missed** |');
    const met = renderSection(snapshot, snapshotRun(500, 800, 10));
    expect(row(met, save)).toContain('| 500.00 MB/s | met |');
    expect(row(met, load)).toContain('| 800.00 MB/s | met |');
    expect(row(met, stall)).toContain('| 10.00 ms | met |');
    expect(row(met, stall)).toContain("median of the rounds' longest (max 11.0 ms); the server's longest slice 6.0 (5.0–7.0) ms");
    expect(targetsOf(snapshotRun(612, 900, 4)).map((t) => t.value)).toEqual([612, 900, 4]);
  });

  it('renders the disk baseline, every system\'s save and load with items checked, and the stall table', () => {
    const md = renderSection(snapshot, snapshotRun(600, 900, 4));
    expect(md).toContain('## Warm restart: Conduit snapshot vs Redis RDB vs memcached -e (1 GiB of 4 KiB values)');
    expect(md).toContain('Files on ext4 on /dev/vda');
    expect(row(md, '| disk (this process) | fsync of it |')).toBe('| disk (this process) | fsync of it | 2.000 | 537 |  |');
    expect(row(md, '| Conduit | save at shutdown')).toContain('| 1.790 (1.627–1.988) | 600 (540–660) | file 1,074 MB; exit status 0 |');
    expect(row(md, '| Conduit | load at start, page cache')).toContain('| 900 (810–990) | 262,144 of 262,144 items, 2,000 of 2,000 values matched |');
    expect(row(md, '| Conduit | spawn → listening, page cache')).toContain("Node's own start with nothing to load: 0.200 s");
    expect(row(md, '| Redis | SAVE')).toContain('| 8.000 (7.200–8.800) | 135 (123–150) | RDB 1,080 MB |');
    expect(row(md, '| memcached | restart')).toContain('| 0.300 | — | 262,144 of 262,144 items restored, 2,000 of 2,000 values matched |');
    expect(row(md, '| Conduit, periodic save |')).toBe('| Conduit, periodic save | 4.0 (3.6–4.4) | 2.00 | 3.0 | 1.00 | 9,000 / 6,000 | longest slice 6.0 (5.0–7.0) ms (STATS) |');
    expect(row(md, '| Redis, BGSAVE |')).toContain('| fork 12.0 ms (INFO `latest_fork_usec`) |');
  });

  it("splits the fsync out with the save's own syncMs when it reports one, else with the disk baseline's fsync", () => {
    const estimated = renderSection(snapshot, snapshotRun(600, 900, 4));
    expect(row(estimated, '| Conduit | save without its fsync (estimate')).toContain('| fsync 2.000 s |');
    const own = snapshotRun(600, 900, 4);
    for (const r of own.conduit as { save: { syncMs: number | null } }[]) r.save.syncMs = 500;
    const md = renderSection(snapshot, own);
    expect(row(md, "| Conduit | save without its fsyncs (minus the save's own `syncMs`)")).toContain('| 1.290 (1.127–1.488) | 833 (721–953) | fsync 0.500 s |');
  });

  it('does not judge a run whose conduit-server had no --snapshot, and says so; a failed round is shown', () => {
    const run = snapshotRun(600, 900, 4, 'absent');
    const md = renderSection(snapshot, run);
    expect(md).toContain('**Conduit not measured in this run** (this conduit-server has no `--snapshot`)');
    expect(md).not.toContain('| Conduit | save');
    expect(targetsOf(run).map((t) => t.value)).toEqual([null, null, null]);
    const failed = snapshotRun(600, 900, 4);
    (failed.redis as unknown[])[1] = { error: 'redis-server exited' };
    expect(renderSection(snapshot, failed)).toContain('**Redis: 1 of 3 rounds failed**: redis-server exited');
  });

  it('renders as not measured when no run is saved', () => {
    expect(renderResults([])).toContain('## Warm restart: Conduit snapshot vs Redis RDB vs memcached -e (1 GiB of 4 KiB values) (`npx just bench-snapshot`)\n\n**Not measured');
  });
});
