// Sizes and durations as people write them in flags, variables, config files and
// query strings. Below every other folder: the server, the gateway and both
// command lines read them.

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/**
 * Parses a size like `64mb`, `512kb`, `1gb` or `1048576` (binary units, as
 * in redis.conf); throws a `TypeError` naming `what` when it is not one.
 *
 * @example
 * ```ts
 * parseBytes('64mb', '--max-memory'); // 67108864
 * ```
 */
export function parseBytes(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = BYTE_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (match === null || unit === undefined) {
    throw new TypeError(`${what} must be a size like 64mb, 512kb or 1gb, got '${text}'`);
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new TypeError(`${what} is too large: '${text}'`);
  return bytes;
}

const TIME_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration like `10s`, `500ms`, `5m`, `1h`, `1d` or `0`; a bare number is
 * milliseconds. Throws a `TypeError` naming `what` otherwise.
 *
 * @example
 * ```ts
 * parseDuration('10s', '--frame-timeout'); // 10000
 * ```
 */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|)\s*$/i.exec(text);
  const unit = TIME_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (match === null || unit === undefined) {
    throw new TypeError(`${what} must be a duration like 10s, 500ms or 5m, got '${text}'`);
  }
  return Math.round(Number(match[1]) * unit);
}

/**
 * `limit` ms written in the unit of `text` (what the user wrote), for a message about a
 * range: a maximum rounds down; a minimum that is no whole number of that unit stays in ms.
 *
 * @example
 * ```ts
 * formatDurationLimit(2_147_483_647, '900h', 'max'); // '596h (2147483647 ms)'
 * ```
 */
export function formatDurationLimit(limit: number, text: string, bound: 'min' | 'max'): string {
  const unit = /(ms|s|m|h|d)\s*$/i.exec(text)?.[1]?.toLowerCase() ?? 'ms';
  const per = TIME_UNITS[unit] ?? 1;
  if (unit === 'ms' || (bound === 'min' && limit % per !== 0)) return `${limit} ms`;
  return `${Math.floor(limit / per)}${unit} (${limit} ms)`;
}

/**
 * `limit` bytes in the largest binary unit it fills, for a message about a range.
 *
 * @example
 * ```ts
 * formatSizeLimit(65_536); // '64kb (65536 bytes)'
 * ```
 */
export function formatSizeLimit(limit: number): string {
  for (const [unit, per] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) {
    if (limit >= per && limit % per === 0) return `${limit / per}${unit} (${limit} bytes)`;
  }
  return `${limit} bytes`;
}
