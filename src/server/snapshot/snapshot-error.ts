import { ConduitError } from '../../protocol/errors.js';

/**
 * A snapshot save that failed (no space, no permission, a directory where
 * the file should be), or a strict load that found a bad file: code
 * `SNAPSHOT_FAILED`, a message naming the file and the reason (the errno
 * code for a system error). docs/SNAPSHOT.md §Saving, §Bad files.
 *
 * @example
 * ```ts
 * try {
 *   await saveSnapshot(store, '/var/lib/conduit/cache.snap');
 * } catch (err) {
 *   if (err instanceof SnapshotError) log.error(err.message); // snapshot save to /var/lib/conduit/cache.snap failed: ENOSPC (no space left on device)
 * }
 * ```
 */
export class SnapshotError extends ConduitError {
  constructor(message: string) {
    super('SNAPSHOT_FAILED', message);
    this.name = 'SnapshotError';
  }
}
