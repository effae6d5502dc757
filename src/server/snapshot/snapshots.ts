// The policy around the snapshot file (issue 22, docs/SNAPSHOT.md): what the server does with
// it and when (load before listening, leftovers, bad files, the periodic save, the save at
// shutdown) and what STATS `snapshot` and /metrics report. The file itself (format, sealing,
// the atomic write) is save.ts and load.ts; the server only calls this class.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../config/logger.js';
import type { Store } from '../../store/store.js';
import type { loadSnapshot, LoadResult, saveSnapshot, SaveResult } from './index.js';
import { SnapshotError } from './snapshot-error.js';

/**
 * The file side, loaded when a server with a snapshot first loads or saves: its native CRC32C
 * and the sealing AEADs would otherwise be in every server's RSS and start-up, as prom-client
 * and node:tls are kept out (docs/STORAGE.md, "Process RSS").
 */
const fileSide = async (): Promise<{ save: typeof saveSnapshot; load: typeof loadSnapshot }> => {
  const { saveSnapshot: save, loadSnapshot: load } = await import('./index.js');
  return { save, load };
};

/**
 * What a {@link Snapshots} does. `file`, `intervalMs`, `strict` and `key` are the server's
 * `snapshot` option (`--snapshot`, `--snapshot-interval`, `--snapshot-strict`, `--snapshot-key`).
 */
export interface SnapshotsOptions {
  /** The snapshot file: loaded at start, written at shutdown (and every `intervalMs`). */
  file: string;
  /** Milliseconds between periodic saves, each counted from the end of the last; 0 = at shutdown only. */
  intervalMs: number;
  /** A bad file stops the start (throws {@link SnapshotError}) instead of being moved aside. */
  strict: boolean;
  /** 32 bytes: seal the file (docs/SNAPSHOT.md §Sealing); the file must then be sealed with it. */
  key?: Uint8Array;
  /** Records with a longer value are skipped at load (the server's `maxValueSize`). */
  maxValueLength: number;
  logger: Logger;
  /** Tests: the file side (default saveSnapshot / loadSnapshot) and the wall clock (default Date.now). */
  io?: { save?: typeof saveSnapshot; load?: typeof loadSnapshot; now?: () => number };
}

/** STATS `snapshot` (spec §5.2): the policy's settings and the last save and load; times in Unix ms. */
export interface SnapshotStats {
  file: string;
  interval_ms: number;
  saves: number;
  save_failures: number;
  /** A save is running now (periodic or at shutdown). */
  saving: boolean;
  last_save: { time: number; duration_ms: number; bytes: number; items: number; longest_slice_ms: number } | null;
  last_load: {
    result: LoadResult['result'];
    time: number;
    duration_ms: number;
    bytes: number;
    records: number;
    loaded: number;
    expired: number;
    evicted: number;
    skipped: number;
  } | null;
}

/** How a bad file's one log line says what it is, by load result. */
const PROBLEM: Record<Exclude<LoadResult['result'], 'loaded' | 'missing'>, string> = {
  corrupt: 'is corrupt',
  unreadable: 'cannot be read',
  wrong_key: 'cannot be opened',
  unsealed: 'cannot be used',
  sealed: 'cannot be opened',
  newer_version: 'cannot be read',
};

/** `FILE.corrupt-<YYYYMMDDTHHMMSSZ>` (UTC), where a bad file is moved so that the next save keeps it. */
export function corruptName(file: string, wallMs: number): string {
  const stamp = new Date(wallMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${file}.corrupt-${stamp}`;
}

/** Whether a process other than this one has `pid` (kill 0: EPERM means it runs as another user). */
function processRuns(pid: number): boolean {
  if (pid === process.pid || !Number.isSafeInteger(pid) || pid <= 0 || pid > 0x7fff_ffff) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Milliseconds with one decimal, for log fields. */
const ms = (value: number): number => Math.round(value * 10) / 10;

/**
 * The server's snapshots: `load()` once before it listens, `start()` once it does,
 * `saveAtShutdown()` after its drain. Saves never overlap: the periodic timer is armed
 * again only when a save has ended, and the shutdown save waits for a running one.
 *
 * @example
 * ```ts
 * const snapshots = new Snapshots({ file: '/var/lib/conduit/cache.snap', intervalMs: 300_000, strict: false, maxValueLength, logger });
 * await snapshots.load(store);   // before listening; throws SnapshotError only when strict
 * snapshots.start(store);        // the periodic save (intervalMs > 0)
 * // … on SIGTERM, after the drain:
 * await snapshots.saveAtShutdown(store); // throws SnapshotError if the file could not be written
 * ```
 */
export class Snapshots {
  readonly #o: SnapshotsOptions;
  readonly #save: typeof saveSnapshot;
  readonly #load: typeof loadSnapshot;
  readonly #now: () => number;
  /** 'idle' until start(), 'serving' from then (the timer runs when intervalMs > 0), 'stopped' from saveAtShutdown() on. */
  #state: 'idle' | 'serving' | 'stopped' = 'idle';
  #timer: NodeJS.Timeout | undefined;
  /** The load, while it runs: a close() meanwhile waits for it rather than save a half-loaded store. */
  #loading: Promise<unknown> | undefined;
  /** The save running now, if any; settles (never rejects) when it ends. */
  #running: Promise<void> | undefined;
  #saves = 0;
  #saveFailures = 0;
  #lastSave: SaveResult | undefined;
  #lastLoad: LoadResult | undefined;

  constructor(options: SnapshotsOptions) {
    this.#o = options;
    const io = options.io;
    this.#save = io?.save ?? (async (...args) => (await fileSide()).save(...args));
    this.#load = io?.load ?? (async (...args) => (await fileSide()).load(...args));
    this.#now = options.io?.now ?? Date.now;
  }

  /** The snapshot file. */
  get file(): string {
    return this.#o.file;
  }

  /**
   * At start, before the server listens: removes this file's `FILE.tmp-<pid>` leftovers, loads
   * FILE into the (empty) store and logs one line. A bad file is moved to `FILE.corrupt-<time>`
   * (a file that cannot be read stays where it is) and the store stays empty; with `strict`
   * any result but loaded/missing throws a {@link SnapshotError} instead and the file stays.
   *
   * @example
   * ```ts
   * const result = await snapshots.load(server.store); // result.result: 'loaded', 'missing', 'corrupt', …
   * ```
   */
  async load(store: Store): Promise<LoadResult> {
    const { file, logger } = this.#o;
    this.#removeLeftovers();
    const loading = this.#load(store, file, { key: this.#o.key, maxValueLength: this.#o.maxValueLength });
    this.#loading = loading.catch(() => {});
    const result = await loading;
    this.#lastLoad = result;
    const fields = { file, result: result.result, ms: ms(result.durationMs), bytes: result.bytes };
    if (result.result === 'loaded') {
      const mbPerSecond = result.durationMs > 0 ? Math.round(result.bytes / 1e6 / (result.durationMs / 1000)) : undefined;
      const { records, loaded, expired, evicted, skipped } = result;
      logger.info(
        { ...fields, records, loaded, expired, evicted, skipped, mbPerSecond },
        `snapshot ${file} loaded: ${loaded} items (${expired} expired, ${evicted} evicted to fit, ${skipped} too large), ` +
          `${(result.bytes / 1e6).toFixed(1)} MB in ${Math.round(result.durationMs)} ms${mbPerSecond === undefined ? '' : ` (${mbPerSecond} MB/s)`}; ` +
          (this.#o.intervalMs === 0
            ? 'the file is used once: removed when the server listens, so a crash before the next clean stop starts empty'
            : 'the file stays for crash recovery (--snapshot-interval): keys deleted after a save come back if the server dies'),
      );
      return result;
    }
    if (result.result === 'missing') {
      logger.info(fields, `snapshot ${file} does not exist yet: starting empty`);
      return result;
    }
    const what = `snapshot ${file} ${PROBLEM[result.result]}: ${result.message ?? result.result}`;
    if (this.#o.strict) throw new SnapshotError(`${what} (--snapshot-strict: not starting; the file is left in place)`);
    if (result.result === 'unreadable') {
      logger.warn({ ...fields, reason: result.message }, `${what}; starting empty (the file is left in place)`);
      return result;
    }
    const aside = corruptName(file, this.#now());
    try {
      renameSync(file, aside);
      logger.warn({ ...fields, reason: result.message, movedTo: aside }, `${what}; starting empty, the file was moved to ${aside}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      logger.warn({ ...fields, reason: result.message }, `${what}; starting empty, and it could not be moved to ${aside} (${code}): the next save replaces it`);
    }
    return result;
  }

  /**
   * Starts the periodic save (nothing when `intervalMs` is 0). The timer does not keep the
   * process alive, and is armed again only when a save has ended: never two saves at once.
   *
   * @example
   * ```ts
   * await server.listen(); snapshots.start(server.store);
   * ```
   */
  start(store: Store): void {
    if (this.#state !== 'idle') return;
    this.#state = 'serving';
    if (this.#o.intervalMs === 0 && this.#lastLoad?.result === 'loaded') this.#removeLoaded();
    this.#arm(store);
  }

  /**
   * Without periodic saves a file is used once (docs/SNAPSHOT.md §Loading): once the server
   * serves, the file it loaded goes, so only a clean stop's save is ever loaded. A crash
   * (kill -9, a worker restarted by its primary) then starts empty instead of bringing back
   * the keys deleted since the file was written. Removed only now: a server whose listen
   * fails, or that is stopped during its load, still has the file for its next start.
   */
  #removeLoaded(): void {
    const { file, logger } = this.#o;
    try {
      unlinkSync(file);
      const dir = openSync(dirname(file), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      logger.warn({ file }, `cannot remove ${file} after loading it (${code}): a crash before the next clean stop would load it again`);
    }
  }

  /**
   * The exact save after the drain: stops the timer, waits for a running save, then saves
   * without yielding between slices (no client is left to serve). Throws the save's
   * {@link SnapshotError} (FILE is then as it was) so the server's close() rejects. A server
   * stopped before it served (start() not called: stopped during its load, or its listen
   * failed) saves nothing: FILE is still what it loaded, and the store may be half loaded.
   *
   * @example
   * ```ts
   * await snapshots.saveAtShutdown(store); // SaveResult: items, bytes, durationMs
   * ```
   */
  async saveAtShutdown(store: Store): Promise<SaveResult | undefined> {
    const served = this.#state === 'serving';
    this.#state = 'stopped';
    await this.#loading;
    if (!served) return undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running !== undefined) await this.#running;
    let failure: unknown;
    let result: SaveResult | undefined;
    this.#running = this.#saveOnce(store, Number.POSITIVE_INFINITY).then(
      (r) => void (result = r),
      (err: unknown) => void (failure = err),
    );
    await this.#running;
    if (result === undefined) {
      const reason = failure instanceof Error ? failure.message : String(failure);
      throw new SnapshotError(`${reason}; ${this.#o.file} is unchanged (the previous snapshot, if any)`);
    }
    this.#o.logger.info(this.#saveFields(result), `snapshot ${this.#o.file} saved at shutdown: ${this.#saveLine(result)}`);
    return result;
  }

  /**
   * STATS `snapshot` (spec §5.2), also read by /metrics.
   *
   * @example
   * ```ts
   * snapshots.stats().last_save?.items; // items in the last file written
   * ```
   */
  stats(): SnapshotStats {
    const save = this.#lastSave;
    const load = this.#lastLoad;
    return {
      file: this.#o.file,
      interval_ms: this.#o.intervalMs,
      saves: this.#saves,
      save_failures: this.#saveFailures,
      saving: this.#running !== undefined,
      last_save:
        save === undefined
          ? null
          : { time: save.time, duration_ms: ms(save.durationMs), bytes: save.bytes, items: save.items, longest_slice_ms: ms(save.longestSliceMs) },
      last_load:
        load === undefined
          ? null
          : {
              result: load.result,
              time: load.time,
              duration_ms: ms(load.durationMs),
              bytes: load.bytes,
              records: load.records,
              loaded: load.loaded,
              expired: load.expired,
              evicted: load.evicted,
              skipped: load.skipped,
            },
    };
  }

  #arm(store: Store): void {
    if (this.#state !== 'serving' || this.#o.intervalMs === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#saveOnce(store, undefined).then(
        (result) => this.#o.logger.info(this.#saveFields(result), `snapshot ${this.#o.file} saved: ${this.#saveLine(result)}`),
        (err: unknown) => {
          // One line; FILE is still the previous snapshot, and the next interval tries again.
          const message = err instanceof Error ? err.message : String(err);
          this.#o.logger.error({ file: this.#o.file, reason: message }, `periodic snapshot failed: ${message}; the next one in ${this.#o.intervalMs} ms`);
        },
      );
      void this.#running.then(() => this.#arm(store));
    }, this.#o.intervalMs).unref();
  }

  /** One save, counted; `#running` is cleared when it ends. */
  async #saveOnce(store: Store, sliceMs: number | undefined): Promise<SaveResult> {
    try {
      const result = await this.#save(store, this.#o.file, { key: this.#o.key, ...(sliceMs === undefined ? {} : { sliceMs }) });
      this.#saves += 1;
      this.#lastSave = result;
      return result;
    } catch (err) {
      this.#saveFailures += 1;
      throw err;
    } finally {
      this.#running = undefined;
    }
  }

  #saveFields(r: SaveResult): object {
    return { file: r.file, items: r.items, bytes: r.bytes, ms: ms(r.durationMs), longestSliceMs: ms(r.longestSliceMs), syncMs: ms(r.syncMs), sections: r.sections };
  }

  #saveLine(r: SaveResult): string {
    return `${r.items} items, ${(r.bytes / 1e6).toFixed(1)} MB in ${Math.round(r.durationMs)} ms`;
  }

  /**
   * A crash during a save leaves `FILE.tmp-<pid>` (save.ts): removed at start. Only names
   * of exactly that shape (FILE's own name, `.tmp-`, digits) in FILE's directory, and only
   * when no process has that pid (or it is this one): a second server on the same FILE may
   * be saving into its own (two servers on one FILE is a mistake, but one that must not
   * break the first one's save).
   */
  #removeLeftovers(): void {
    const dir = dirname(this.#o.file);
    const prefix = `${basename(this.#o.file)}.tmp-`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // the load reports a directory it cannot read
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
      const pid = Number(name.slice(prefix.length));
      if (processRuns(pid)) {
        this.#o.logger.warn({ file: join(dir, name), pid }, `kept ${join(dir, name)}: process ${pid} is running (another server saving to ${this.#o.file}?)`);
        continue;
      }
      try {
        unlinkSync(join(dir, name));
        this.#o.logger.info({ file: join(dir, name) }, `removed ${join(dir, name)}, left by a save that did not finish`);
      } catch (err) {
        this.#o.logger.warn({ file: join(dir, name) }, `cannot remove ${join(dir, name)}, left by a save that did not finish: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }
}
