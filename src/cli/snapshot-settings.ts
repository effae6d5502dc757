// conduit-server's snapshot settings (issue 22, docs/SNAPSHOT.md): --snapshot, --snapshot-interval,
// --snapshot-strict and --snapshot-key, from any source, checked together with messages naming
// what the user wrote; and how the start-up line shows them (never the key).
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  const file = resolve(worker === undefined ? v.snapshot : `${v.snapshot}.${worker}`);
  checkDirectory(file, v.originOf('snapshot'));
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
