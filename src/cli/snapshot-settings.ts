// conduit-server's snapshot settings (issue 22, docs/SNAPSHOT.md): --snapshot, --snapshot-interval,
// --snapshot-strict and --snapshot-key, from any source, checked together with messages naming
// what the user wrote; and how the start-up line shows them (never the key).
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDuration } from '../config/units.js';
import type { ServerSnapshotOptions } from '../server/options.js';

/** The settled values of the four options (program.opts()), and how messages name each. */
export interface SnapshotSettingValues {
  snapshot: unknown;
  snapshotInterval: unknown;
  snapshotStrict: unknown;
  snapshotKey: unknown;
  /** Whether the option was given by any source (not a default). */
  given: (attribute: 'snapshotInterval' | 'snapshotStrict' | 'snapshotKey') => boolean;
  /** The flag, variable or file setting the value came from ("--snapshot-key", "CONDUIT_SNAPSHOT_KEY", …). */
  originOf: (attribute: string) => string;
  /**
   * The server's other files (`--config`, `--key-file`, `--tls-cert`, …) with the setting that
   * names each: FILE must be none of them, as a save would move it aside and replace it.
   */
  otherFiles?: { origin: string; path: string }[];
}

/** A snapshot key: 32 bytes, in canonical base64 (whitespace ignored). */
const KEY_SIZE = 32;

/**
 * The server's `snapshot` option from the settled settings, or `undefined` without
 * `--snapshot`; throws a `TypeError` of one line naming the source (a key is never echoed).
 * With `worker` (a `--workers` worker's index) the file is `FILE.<worker>`.
 *
 * @example
 * ```ts
 * snapshotOption({ snapshot: '/var/lib/conduit/cache.snap', snapshotInterval: '5m', snapshotStrict: false, snapshotKey: undefined, given, originOf });
 * // { file: '/var/lib/conduit/cache.snap', intervalMs: 300000, strict: false }
 * ```
 */
export function snapshotOption(v: SnapshotSettingValues, worker?: number): ServerSnapshotOptions | undefined {
  if (typeof v.snapshot !== 'string') {
    // Strict=false and an interval of 0 say nothing; anything else would be silently ignored.
    const stray = (['snapshotKey', 'snapshotStrict', 'snapshotInterval'] as const).find(
      (a) => v.given(a) && (a === 'snapshotKey' || (a === 'snapshotStrict' ? v.snapshotStrict === true : parseDuration(String(v.snapshotInterval), v.originOf(a)) !== 0)),
    );
    if (stray !== undefined) throw new TypeError(`${v.originOf(stray)} needs --snapshot (CONDUIT_SNAPSHOT): there is no snapshot file to apply it to`);
    return undefined;
  }
  if (v.snapshot.endsWith('/')) throw new TypeError(`${v.originOf('snapshot')} ${v.snapshot} ends with a slash: it names the snapshot file, not a directory`);
  const file = resolve(worker === undefined ? v.snapshot : `${v.snapshot}.${worker}`);
  checkDirectory(file, v.originOf('snapshot'));
  checkNotOtherFile(file, v.originOf('snapshot'), v.otherFiles ?? []);
  const intervalMs = parseDuration(String(v.snapshotInterval ?? '0'), v.originOf('snapshotInterval'));
  const key = typeof v.snapshotKey === 'string' ? keyOf(v.snapshotKey, v.originOf('snapshotKey')) : undefined;
  return { file, intervalMs, strict: v.snapshotStrict === true, ...(key === undefined ? {} : { key }) };
}

/**
 * The start-up line's `snapshot` setting: file, interval, strict and whether the file is sealed,
 * never the key. `workers` (a `--workers` primary, `snapshot` its unsuffixed file): each worker's is `FILE.<i>`.
 *
 * @example
 * ```ts
 * snapshotField({ file: '/data/c.snap', intervalMs: 0, strict: false }); // { file: '/data/c.snap', interval: 0, strict: false, sealed: false }
 * ```
 */
export function snapshotField(snapshot: ServerSnapshotOptions | undefined, workers?: number): unknown {
  if (snapshot === undefined) return undefined;
  const file = workers === undefined ? snapshot.file : `${snapshot.file}.<i>`;
  const files = workers === undefined ? undefined : Array.from({ length: workers }, (_, i) => `${snapshot.file}.${i}`);
  return { file, files, interval: snapshot.intervalMs, strict: snapshot.strict, sealed: snapshot.key !== undefined };
}

function keyOf(text: string, where: string): Uint8Array {
  const compact = text.replace(/\s/g, '');
  const key = Buffer.from(compact, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || key.toString('base64') !== compact) {
    throw new TypeError(`${where} must be base64 (32 random bytes: openssl rand -base64 32); it is not valid base64`);
  }
  if (key.length !== KEY_SIZE) throw new TypeError(`${where} must be ${KEY_SIZE} bytes in base64 (openssl rand -base64 32), got ${key.length} bytes`);
  return key;
}

/** Where `path` really is: the realpath of what exists (a symlink followed), else of its directory. */
function canonical(path: string): string {
  try {
    if (existsSync(path)) return realpathSync(path);
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

/**
 * FILE must not be the config file, the key file or a TLS file: a bad-file load would move it
 * aside and the next save replace it, and the next start would fail without it.
 */
function checkNotOtherFile(file: string, where: string, others: { origin: string; path: string }[]): void {
  const real = canonical(file);
  for (const other of others) {
    if (canonical(resolve(other.path)) === real) {
      throw new TypeError(`${where} ${file} is the file of ${other.origin} (${other.path}): a snapshot would replace it; give the snapshot a file of its own`);
    }
  }
}

/** The file's directory must exist and be writable now, not at the first save (maybe hours later). */
function checkDirectory(file: string, where: string): void {
  const dir = dirname(file);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new TypeError(`${where} ${file}: directory ${dir} does not exist`);
  }
  if (!isDirectory) throw new TypeError(`${where} ${file}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new TypeError(`${where} ${file}: directory ${dir} is not writable by this process`);
  }
}

/**
 * Snapshot files a start with `workers` workers (1: a single server, which uses FILE) will not
 * load: `FILE.<i>` for i ≥ workers, FILE itself with workers > 1, `FILE.<i>` without workers.
 * Left by a run with another worker count; the start warns in one line (their items are not
 * loaded, and a later run with that count would load them, stale).
 *
 * @example
 * ```ts
 * unusedSnapshotFiles('/data/c.snap', 2); // ['/data/c.snap.2'] after a run with --workers 3
 * ```
 */
export function unusedSnapshotFiles(file: string, workers: number): string[] {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const unused: string[] = [];
  for (const name of names) {
    if (name === base) {
      if (workers > 1) unused.push(join(dir, name));
      continue;
    }
    if (!name.startsWith(`${base}.`)) continue;
    const suffix = name.slice(base.length + 1);
    if (!/^\d+$/.test(suffix)) continue;
    if (workers === 1 || Number(suffix) >= workers) unused.push(join(dir, name));
  }
  return unused.sort();
}
