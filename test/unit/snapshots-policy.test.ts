// Issue 22 (docs/SNAPSHOT.md "Bad files", "Saving"): the policy around the snapshot file, with
// the file side (saveSnapshot / loadSnapshot) replaced by fakes, so each rule is seen alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/config/logger.js';
import { SnapshotError, type LoadResult, type SaveResult } from '../../src/server/snapshot/index.js';
import { corruptName, Snapshots, type SnapshotsOptions } from '../../src/server/snapshot/snapshots.js';
import { Store } from '../../src/store/store.js';
import { resolveServerOptions } from '../../src/server/options.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'conduit-snapshots-'));
  store = new Store({ maxMemory: 4 * 1024 * 1024, activeExpiry: false });
});
afterEach(() => {
  vi.useRealTimers();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every line logged, as [level, message, fields]. */
function recorder(): { logger: Logger; lines: [string, string, object][] } {
  const lines: [string, string, object][] = [];
  const at = (level: string) => (fields: object, message: string): void => void lines.push([level, message, fields]);
  return { logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') }, lines };
}

const loadResult = (file: string, result: LoadResult['result'], message?: string): LoadResult => ({
  result,
  file,
  time: 1_764_626_709_000,
  durationMs: 12.34,
  bytes: result === 'loaded' ? 2_000_000 : 100,
  records: result === 'loaded' ? 10 : 0,
  loaded: result === 'loaded' ? 7 : 0,
  expired: result === 'loaded' ? 2 : 0,
  evicted: result === 'loaded' ? 1 : 0,
  skipped: 0,
  ...(message === undefined ? {} : { message }),
});

const saveResult = (file: string, n: number): SaveResult => ({ file, time: 1_000 * n, durationMs: 5, bytes: 100 * n, items: n, sections: 1, longestSliceMs: 1.5, syncMs: 1 });

/** A save that settles when the test says: each call is recorded with its options. */
function controlledSave(): {
  save: NonNullable<NonNullable<SnapshotsOptions['io']>['save']>;
  calls: { options: { key?: Uint8Array; sliceMs?: number } | undefined; resolve: (n: number) => void; reject: (err: Error) => void }[];
  inFlight: () => number;
  most: () => number;
} {
  const calls: ReturnType<typeof controlledSave>['calls'] = [];
  let inFlight = 0;
  let most = 0;
  const save = (_store: Store, file: string, options?: { key?: Uint8Array; sliceMs?: number }): Promise<SaveResult> => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    return new Promise<SaveResult>((resolve, reject) => {
      calls.push({
        options,
        resolve: (n) => {
          inFlight -= 1;
          resolve(saveResult(file, n));
        },
        reject: (err) => {
          inFlight -= 1;
          reject(err);
        },
      });
    });
  };
  return { save, calls, inFlight: () => inFlight, most: () => most };
}

function policy(options: Partial<SnapshotsOptions> & { io: SnapshotsOptions['io'] }, logger: Logger): Snapshots {
  return new Snapshots({ file: join(dir, 'cache.snap'), intervalMs: 0, strict: false, maxValueLength: 1 << 20, logger, ...options });
}

describe('load: bad files (docs/SNAPSHOT.md "Bad files")', () => {
  it('a corrupt file is moved to FILE.corrupt-<YYYYMMDDTHHMMSSZ> (UTC), with one warn line naming both', async () => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'not a snapshot');
    const { logger, lines } = recorder();
    const now = Date.UTC(2026, 11, 1, 22, 5, 9, 750);
    const snapshots = policy({ io: { load: async (_s, f) => loadResult(f, 'corrupt', 'section 3 payload checksum mismatch'), now: () => now } }, logger);
    const result = await snapshots.load(store);
    expect(result.result).toBe('corrupt');
    expect(corruptName(file, now)).toBe(`${file}.corrupt-20261201T220509Z`);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.corrupt-20261201T220509Z`)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[0]).toBe('warn');
    expect(lines[0]?.[1]).toBe(
      `snapshot ${file} is corrupt: section 3 payload checksum mismatch; starting empty, the file was moved to ${file}.corrupt-20261201T220509Z`,
    );
  });

  it.each(['wrong_key', 'sealed', 'unsealed', 'newer_version'] as const)('a %s file is moved aside too', async (kind) => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const { logger, lines } = recorder();
    await policy({ io: { load: async (_s, f) => loadResult(f, kind, `why ${kind}`), now: () => 0 } }, logger).load(store);
    expect(readdirSync(dir)).toEqual(['cache.snap.corrupt-19700101T000000Z']);
    expect(lines.map(([level]) => level)).toEqual(['warn']);
    expect(lines[0]?.[1]).toContain(`why ${kind}`);
  });

  it('an unreadable file is reported and left where it is (it is not corrupt)', async () => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const { logger, lines } = recorder();
    await policy({ io: { load: async (_s, f) => loadResult(f, 'unreadable', 'EACCES') } }, logger).load(store);
    expect(readdirSync(dir)).toEqual(['cache.snap']);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[1]).toBe(`snapshot ${file} cannot be read: EACCES; starting empty (the file is left in place)`);
  });

  it.each(['corrupt', 'unreadable', 'wrong_key', 'newer_version'] as const)('strict: %s throws SnapshotError naming the file, and leaves it in place', async (kind) => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const { logger } = recorder();
    const snapshots = policy({ strict: true, io: { load: async (_s, f) => loadResult(f, kind, 'what was wrong') } }, logger);
    const err = await snapshots.load(store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('what was wrong');
    expect((err as Error).message).not.toContain('\n');
    expect(readdirSync(dir)).toEqual(['cache.snap']);
  });

  it('strict: loaded and missing are fine', async () => {
    const { logger, lines } = recorder();
    for (const kind of ['loaded', 'missing'] as const) {
      const result = await policy({ strict: true, io: { load: async (_s, f) => loadResult(f, kind) } }, logger).load(store);
      expect(result.result).toBe(kind);
    }
    expect(lines.map(([level]) => level)).toEqual(['info', 'info']);
    expect(lines[0]?.[1]).toMatch(/loaded: 7 items \(2 expired, 1 evicted to fit, 0 too large\), 2\.0 MB in 12 ms \(162 MB\/s\); the file is used once: removed when the server listens/);
  });
});

describe('load: leftovers of a save that did not finish', () => {
  it('removes FILE.tmp-<pid> files and nothing else', async () => {
    // Pids above the kernel's largest (2^22): no process has them.
    const names = ['cache.snap', 'cache.snap.tmp-2147483001', 'cache.snap.tmp-2147483002', 'cache.snap.tmp-abc', 'cache.snap.tmp-', 'cache.snap.tmpx-1', 'cache.snap.0.tmp-5', 'other.snap.tmp-1', 'xcache.snap.tmp-2', 'cache.snap.corrupt-20260101T000000Z'];
    for (const name of names) writeFileSync(join(dir, name), 'x');
    const { logger, lines } = recorder();
    await policy({ io: { load: async (_s, f) => loadResult(f, 'loaded') } }, logger).load(store);
    expect(readdirSync(dir).sort()).toEqual(names.filter((n) => n !== 'cache.snap.tmp-2147483001' && n !== 'cache.snap.tmp-2147483002').sort());
    expect(lines.filter(([, message]) => message.startsWith('removed '))).toHaveLength(2);
  });

  it('runs before the load, so the load never sees them', async () => {
    writeFileSync(join(dir, 'cache.snap.tmp-2147483003'), 'x');
    let seen: string[] = [];
    await policy({ io: { load: async (_s, f) => ((seen = readdirSync(dir)), loadResult(f, 'missing')) } }, recorder().logger).load(store);
    expect(seen).toEqual([]);
  });
});

describe('load: a file used once without --snapshot-interval (docs/SNAPSHOT.md §Loading)', () => {
  it('without an interval, start() removes the file it loaded; a server that never served keeps it', async () => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const never = policy({ io: { load: async (_s, f) => loadResult(f, 'loaded') } }, recorder().logger);
    await never.load(store);
    expect(await never.saveAtShutdown(store)).toBeUndefined(); // stopped before it served
    expect(existsSync(file)).toBe(true);
    const snapshots = policy({ io: { load: async (_s, f) => loadResult(f, 'loaded') } }, recorder().logger);
    await snapshots.load(store);
    expect(existsSync(file)).toBe(true);
    snapshots.start(store);
    expect(existsSync(file)).toBe(false);
  });

  it('with an interval, the file stays (crash recovery) and the load line says so', async () => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const { logger, lines } = recorder();
    const snapshots = policy({ intervalMs: 60_000, io: { load: async (_s, f) => loadResult(f, 'loaded'), save: async (_s, f) => saveResult(f, 1) } }, logger);
    await snapshots.load(store);
    snapshots.start(store);
    expect(existsSync(file)).toBe(true);
    expect(lines[0]?.[1]).toMatch(/the file stays for crash recovery \(--snapshot-interval\)/);
    await snapshots.saveAtShutdown(store);
  });

  it('a missing or bad file is not removed by start()', async () => {
    const file = join(dir, 'cache.snap');
    writeFileSync(file, 'x');
    const snapshots = policy({ io: { load: async (_s, f) => loadResult(f, 'unreadable', 'is a directory') } }, recorder().logger);
    await snapshots.load(store);
    snapshots.start(store);
    expect(existsSync(file)).toBe(true);
  });
});

describe('load: a leftover of a running process is kept (two servers on one FILE)', () => {
  it('keeps FILE.tmp-<pid> of a live process, removes a dead one and its own pid', async () => {
    const live = `cache.snap.tmp-${process.ppid}`;
    const own = `cache.snap.tmp-${process.pid}`;
    const dead = 'cache.snap.tmp-2147483004';
    for (const name of [live, own, dead]) writeFileSync(join(dir, name), 'x');
    const { logger, lines } = recorder();
    await policy({ io: { load: async (_s, f) => loadResult(f, 'missing') } }, logger).load(store);
    expect(readdirSync(dir)).toEqual([live]);
    expect(lines.find(([level]) => level === 'warn')?.[1]).toMatch(new RegExp(`kept .*${live}: process ${process.ppid} is running`));
  });
});

describe('saving', () => {
  it('the periodic save never overlaps: the next interval starts when a save ends', async () => {
    vi.useFakeTimers();
    const io = controlledSave();
    const snapshots = policy({ intervalMs: 1_000, io: { save: io.save } }, recorder().logger);
    snapshots.start(store);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(io.calls).toHaveLength(1);
    expect(snapshots.stats().saving).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000); // ten intervals pass while it runs
    expect(io.calls).toHaveLength(1);
    io.calls[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(snapshots.stats().saving).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(io.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(io.calls).toHaveLength(2);
    expect(io.calls[1]?.options?.sliceMs).toBeUndefined(); // the default: short slices beside the traffic
    expect(io.most()).toBe(1);
  });

  it('a failed periodic save logs one line and the next interval tries again', async () => {
    vi.useFakeTimers();
    const io = controlledSave();
    const { logger, lines } = recorder();
    const snapshots = policy({ intervalMs: 1_000, io: { save: io.save } }, logger);
    snapshots.start(store);
    await vi.advanceTimersByTimeAsync(1_000);
    io.calls[0]?.reject(new SnapshotError(`cannot save snapshot ${snapshots.file}: ENOSPC`));
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.filter(([level]) => level === 'error')).toEqual([
      ['error', `periodic snapshot failed: cannot save snapshot ${snapshots.file}: ENOSPC; the next one in 1000 ms`, expect.anything()],
    ]);
    expect(snapshots.stats()).toMatchObject({ saves: 0, save_failures: 1, saving: false, last_save: null });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(io.calls).toHaveLength(2);
    io.calls[1]?.resolve(4);
    await vi.advanceTimersByTimeAsync(0);
    expect(snapshots.stats()).toMatchObject({ saves: 1, save_failures: 1, last_save: { time: 4_000, items: 4, bytes: 400, duration_ms: 5, longest_slice_ms: 1.5 } });
  });

  it('interval 0: no periodic save', async () => {
    vi.useFakeTimers();
    const io = controlledSave();
    policy({ intervalMs: 0, io: { save: io.save } }, recorder().logger).start(store);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(io.calls).toHaveLength(0);
  });

  it('the shutdown save waits for a running save, then saves once with sliceMs Infinity; the timer stops', async () => {
    vi.useFakeTimers();
    const io = controlledSave();
    const snapshots = policy({ intervalMs: 1_000, io: { save: io.save } }, recorder().logger);
    snapshots.start(store);
    await vi.advanceTimersByTimeAsync(1_000);
    const shutdown = snapshots.saveAtShutdown(store);
    await vi.advanceTimersByTimeAsync(0);
    expect(io.calls).toHaveLength(1);
    io.calls[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(io.calls).toHaveLength(2);
    expect(io.calls[1]?.options?.sliceMs).toBe(Number.POSITIVE_INFINITY);
    io.calls[1]?.resolve(2);
    expect((await shutdown)?.items).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(io.calls).toHaveLength(2);
    expect(io.most()).toBe(1);
    expect(snapshots.stats()).toMatchObject({ saves: 2, save_failures: 0 });
  });

  it('a failed shutdown save rejects with the SnapshotError', async () => {
    const snapshots = policy({ io: { save: async () => Promise.reject(new SnapshotError('cannot save snapshot x: EACCES')) } }, recorder().logger);
    snapshots.start(store);
    await expect(snapshots.saveAtShutdown(store)).rejects.toThrow(/EACCES/);
    expect(snapshots.stats().save_failures).toBe(1);
  });

  it('a server stopped before it served saves nothing (FILE is what it loaded)', async () => {
    const io = controlledSave();
    const snapshots = policy({ io: { save: io.save } }, recorder().logger);
    expect(await snapshots.saveAtShutdown(store)).toBeUndefined();
    expect(io.calls).toHaveLength(0);
  });

  it('the key goes to every save and load', async () => {
    const key = new Uint8Array(32).fill(7);
    const keys: (Uint8Array | undefined)[] = [];
    const snapshots = policy(
      {
        key,
        io: {
          load: async (_s, f, o) => ((keys.push(o.key), loadResult(f, 'missing'))),
          save: async (_s, f, o) => ((keys.push(o?.key), saveResult(f, 1))),
        },
      },
      recorder().logger,
    );
    await snapshots.load(store);
    snapshots.start(store);
    await snapshots.saveAtShutdown(store);
    expect(keys).toEqual([key, key]);
  });
});

describe('stats (STATS snapshot, spec §5.2)', () => {
  it('null saves and loads at first, then the last of each', async () => {
    const snapshots = policy({ intervalMs: 5_000, io: { load: async (_s, f) => loadResult(f, 'loaded'), save: async (_s, f) => saveResult(f, 3) } }, recorder().logger);
    expect(snapshots.stats()).toEqual({ file: join(dir, 'cache.snap'), interval_ms: 5_000, saves: 0, save_failures: 0, saving: false, last_save: null, last_load: null });
    await snapshots.load(store);
    snapshots.start(store);
    await snapshots.saveAtShutdown(store);
    expect(snapshots.stats()).toEqual({
      file: join(dir, 'cache.snap'),
      interval_ms: 5_000,
      saves: 1,
      save_failures: 0,
      saving: false,
      last_save: { time: 3_000, duration_ms: 5, bytes: 300, items: 3, longest_slice_ms: 1.5 },
      last_load: { result: 'loaded', time: 1_764_626_709_000, duration_ms: 12.3, bytes: 2_000_000, records: 10, loaded: 7, expired: 2, evicted: 1, skipped: 0 },
    });
  });
});

describe('ServerOptions.snapshot is validated with messages naming the option', () => {
  const file = '/var/lib/conduit/cache.snap';
  it.each([
    [{ file: '', intervalMs: 0, strict: false }, 'snapshot option: file must be a file path'],
    [{ file, intervalMs: 999, strict: false }, 'snapshot option: intervalMs (0 = at shutdown only) must be an integer from 1000 to 2147483647, got 999'],
    [{ file, intervalMs: 1.5, strict: false }, 'snapshot option: intervalMs (0 = at shutdown only) must be an integer from 1000 to 2147483647, got 1.5'],
    [{ file, intervalMs: 0, strict: 'yes' }, 'snapshot option: strict must be true or false'],
    [{ file, intervalMs: 0, strict: false, key: new Uint8Array(16) }, 'snapshot option: key must be 32 bytes'],
  ])('%o', (snapshot, message) => {
    expect(() => resolveServerOptions({ snapshot: snapshot as never })).toThrow(new TypeError(message));
  });
  it('a good one passes, and none is the default', () => {
    expect(resolveServerOptions({ snapshot: { file, intervalMs: 60_000, strict: true, key: new Uint8Array(32) } }).snapshot?.intervalMs).toBe(60_000);
    expect(resolveServerOptions({}).snapshot).toBeUndefined();
  });
});

describe('the file side is loaded only by a server with a snapshot', () => {
  it('importing the server does not load @node-rs/crc32 (RSS and start-up of every server, docs/STORAGE.md "Process RSS")', () => {
    const probe =
      "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" +
      "const loaded = () => Object.keys(require.cache).some((k) => k.includes('@node-rs'));" +
      "await import('./dist/server/server.js'); const before = loaded();" +
      "await import('./dist/server/snapshot/index.js'); console.log(JSON.stringify([before, loaded()]));";
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', timeout: 15_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual([false, true]);
  });
});
