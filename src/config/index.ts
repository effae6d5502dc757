/**
 * What is neither protocol, store nor server: sizes and durations as people
 * write them, the logger type, TOML files.
 *
 * @example
 * ```ts
 * import { parseBytes } from 'conduit-cache';
 * parseBytes('64mb', '--max-memory'); // 67108864
 * ```
 * @module
 */
export { parseBytes, parseDuration } from './units.js';
export type { Logger } from './logger.js';
