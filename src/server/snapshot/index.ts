/**
 * Snapshots (issue 22, docs/SNAPSHOT.md): the store written to a file and
 * read back at start, so a restart keeps the cache warm. `format.ts` (the
 * header, section and trailer bytes), `seal.ts` (XChaCha20-Poly1305 under
 * `--snapshot-key`), `save.ts` and `load.ts` (the file), `slices.ts` (a
 * save's time slices beside the traffic).
 *
 * @example
 * ```ts
 * import { loadSnapshot, saveSnapshot } from './snapshot/index.js';
 * const loaded = await loadSnapshot(store, 'cache.snap', { maxValueLength: 1 << 20 });
 * const saved = await saveSnapshot(store, 'cache.snap');
 * ```
 * @module
 */
export { FormatProblem, FORMAT_VERSION, type FormatProblemKind } from './format.js';
export { loadSnapshot, type LoadOptions, type LoadOutcome, type LoadResult } from './load.js';
export { DEFAULT_SLICE_MS, saveSnapshot, type SaveOptions, type SaveResult } from './save.js';
export { SNAPSHOT_KEY_SIZE } from './seal.js';
export { SnapshotError } from './snapshot-error.js';
