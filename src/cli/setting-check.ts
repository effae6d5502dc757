// One value of one `conduit-server` setting, from one source (a flag, a CONDUIT_X
// variable, a --config file entry), checked the same way whatever the source, with a
// message that names the source as the user wrote it and the range in their unit.
import type { Option } from 'commander';
import { formatDurationLimit, formatSizeLimit, parseBytes, parseDuration } from '../config/units.js';

/** How an option's value reads, from the placeholder it was declared with (`<size>`, `<duration>`, `<n>`, …). */
type Kind = 'boolean' | 'size' | 'duration' | 'integer' | 'integer-or-auto' | 'choice' | 'list' | 'file' | 'text';

/** Longest timer Node keeps (2^31 - 1 ms): a longer one fires at once (setTimeout's overflow rule). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Ranges the command line checks itself, so that the message names the flag, variable or
 * file setting the user wrote, in their unit (`resolveServerOptions` checks them again).
 * Every `<duration>` is at most {@link MAX_TIMER_MS}.
 */
const limits: Record<string, { min: number; max: number; powerOfTwo?: true; why?: string; zeroOrAtLeast?: number }> = {
  port: { min: 0, max: 65_535 },
  'http-port': { min: 0, max: 65_535 },
  'resp-port': { min: 0, max: 65_535 },
  shards: { min: 1, max: 1024, powerOfTwo: true },
  // spec §3.14: a slot table names at most 64 servers (worker-plan.ts MAX_WORKERS).
  workers: { min: 1, max: 64 },
  // The store needs 1 KiB per shard; main() checks the winning value against --shards as well.
  'max-memory': { min: 1024, max: Number.MAX_SAFE_INTEGER, why: '1 KiB per shard' },
  'max-connections': { min: 1, max: 1_000_000 },
  'max-inflight': { min: 1, max: 1_000_000 },
  'max-output-buffer': { min: 65_536, max: Number.MAX_SAFE_INTEGER },
  'max-output-memory': { min: 65_536, max: Number.MAX_SAFE_INTEGER },
  // spec §2.4: every value a 1.0 SET frame carries (65,524 − 6 − 1) up to 64 MiB; main() checks it against --max-memory.
  'max-value-size': { min: 65_517, max: 64 * 1024 * 1024, why: 'from the largest one-frame value to 64 MiB' },
  'frame-timeout': { min: 1, max: MAX_TIMER_MS },
  'handshake-timeout': { min: 1, max: MAX_TIMER_MS },
  'max-handshakes-per-second': { min: 0, max: 1_000_000 },
  // spec §3.15: the tracking table's bound (the table costs about 100 bytes a key at the worst).
  'tracking-max-keys': { min: 1, max: 100_000_000 },
  // Issue 22: 0 turns the periodic save off; a save every few ms would only ever be saving.
  'snapshot-interval': { min: 0, max: MAX_TIMER_MS, zeroOrAtLeast: 1_000 },
};

/** The spellings of a boolean in `CONDUIT_*` variables and in the config file (case-insensitive, trimmed). */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off', ''];

function kindOf(o: Option): Kind {
  if (!o.required && !o.optional) return 'boolean';
  if (o.argChoices !== undefined) return 'choice';
  const placeholder = /<([\w|-]+)>/.exec(o.flags)?.[1];
  if (placeholder === 'size') return 'size';
  if (placeholder === 'duration') return 'duration';
  if (placeholder === 'n' || placeholder === 'port') return 'integer';
  if (placeholder === 'n|auto') return 'integer-or-auto';
  if (placeholder === 'hosts') return 'list';
  if (placeholder === 'file') return 'file';
  return 'text';
}

/**
 * Reads one value of `option` (named `setting` in the config file) from one source: a
 * flag without a value is a boolean (true/1/yes/on or false/0/no/off/""); the placeholder
 * says how any other is checked: `<size>`, `<duration>`, `<n>` or `<port>` (whole
 * numbers), `<n|auto>` (a whole number or `auto`), `<hosts>` (a list), `.choices()`, anything else a non-empty text. Returns the
 * checked text or boolean; throws a `TypeError` whose message names `label` (the flag,
 * `CONDUIT_X`, or "setting in file") and its range in the user's unit.
 *
 * @example
 * ```ts
 * checkSetting(new Option('--frame-timeout <duration>'), 'frame-timeout', '0', 'CONDUIT_FRAME_TIMEOUT');
 * // throws: CONDUIT_FRAME_TIMEOUT must be at least 1 ms, got '0'
 * ```
 */
export function checkSetting(option: Option, setting: string, raw: unknown, label: string): string | boolean {
  const kind = kindOf(option);
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const word = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : undefined;
    if (word !== undefined && TRUE_WORDS.includes(word)) return true;
    if (word !== undefined && FALSE_WORDS.includes(word)) return false;
    throw new TypeError(`${label} must be true/1/yes/on or false/0/no/off, got ${JSON.stringify(raw)}`);
  }
  // A list setting is comma-separated text on the command line and in CONDUIT_X, or a TOML array of strings.
  if (kind === 'list' && Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw.join(',');
  // A file's name is text: TOML `snapshot = 5` is a mistake, not a file named "5".
  if (kind === 'file' && typeof raw !== 'string') throw new TypeError(`${label} must be a file name (a string in quotes), got ${JSON.stringify(raw)}`);
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new TypeError(`${label} must be a value, got ${JSON.stringify(raw)}`);
  const text = String(raw);
  const limit = limits[setting];
  if (kind === 'choice') {
    const choices = option.argChoices ?? [];
    if (!choices.includes(text)) throw new TypeError(`${label} must be one of ${choices.join(', ')}, got '${text}'`);
  } else if (kind === 'size') {
    const bytes = parseBytes(text, label);
    const why = limit?.why === undefined ? '' : `, ${limit.why}`;
    if (limit !== undefined && bytes < limit.min) throw new TypeError(`${label} must be at least ${formatSizeLimit(limit.min)}${why}, got '${text}'`);
    if (limit !== undefined && bytes > limit.max) throw new TypeError(`${label} must be at most ${formatSizeLimit(limit.max)}${why}, got '${text}'`);
  } else if (kind === 'duration') {
    const ms = parseDuration(text, label);
    const { min, max } = limit ?? { min: 0, max: MAX_TIMER_MS };
    if (ms > max) throw new TypeError(`${label} must be at most ${formatDurationLimit(max, text, 'max')}, got '${text}'`);
    if (ms < min) throw new TypeError(`${label} must be at least ${formatDurationLimit(min, text, 'min')}, got '${text}'`);
    const floor = limit?.zeroOrAtLeast;
    if (floor !== undefined && ms !== 0 && ms < floor) {
      throw new TypeError(`${label} must be 0 (off) or at least ${formatDurationLimit(floor, text, 'min')}, got '${text}'`);
    }
  } else if (kind === 'integer-or-auto') {
    const { min, max } = limit ?? { min: 0, max: Number.MAX_SAFE_INTEGER };
    const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
    if (text.trim().toLowerCase() !== 'auto' && !(n >= min && n <= max)) {
      throw new TypeError(`${label} must be auto or a whole number from ${min} to ${max}, got '${text.trim()}'`);
    }
  } else if (kind === 'integer') {
    if (!/^\s*\d+\s*$/.test(text)) throw new TypeError(`${label} must be a whole number, got '${text}'`);
    const n = Number(text);
    if (limit !== undefined && (n < limit.min || n > limit.max)) {
      throw new TypeError(`${label} must be an integer from ${limit.min} to ${limit.max}, got '${text.trim()}'`);
    }
    if (limit?.powerOfTwo === true && (n & (n - 1)) !== 0) {
      throw new TypeError(`${label} must be a power of two from ${limit.min} to ${limit.max}, got '${text.trim()}'`);
    }
  } else if (text.trim() === '') {
    throw new TypeError(`${label} must not be empty`);
  }
  return text;
}
