/**
 * Redis's keyspace commands over the store (docs/RESP.md): DEL, UNLINK,
 * EXISTS, TYPE, KEYS, SCAN, DBSIZE, FLUSHDB and FLUSHALL. KEYS is bounded
 * (it answers everything or an error, never a part); SCAN walks the store's
 * own cursor (spec §3.10), MATCH's literal prefix narrowing the walk.
 *
 * @example
 * ```ts
 * KEYSPACE_COMMANDS.del([Buffer.from('DEL'), Buffer.from('a'), Buffer.from('b')], ctx, out); // ':2\r\n'
 * ```
 * @module
 */
import { MAX_KEY_SIZE } from '../../protocol/constants.js';
import type { RespWriter } from '../../protocol/resp-writer.js';
import { checkKey, checkKeys, ERR_NOT_INTEGER, ERR_SYNTAX, isLive, isWord, parseInteger } from './args.js';
import { ERR_PATTERN_TOO_COMPLEX, globTest, literalPrefix } from './glob.js';
import type { Handler } from './handler.js';
import { keyFilter } from './permissions.js';
import type { RespContext } from './resp-context.js';

/** KEYS refuses a store holding more keys than this (it would examine them all in one turn). */
export const KEYS_MAX_EXAMINED = 1_000_000;
/** The cursor bytes before the keys in a store SCAN body (spec §3.10). */
const CURSOR_BYTES = 8;
/** Bytes of keys one SCAN call gathers at most before MATCH filters them. */
const SCAN_MAX_BYTES = 1024 * 1024;
/** Entries asked of the store per call while KEYS walks it (the store bounds a call at 2,048 anyway). */
const KEYS_STEP = 2048;
const U64_MAX = (1n << 64n) - 1n;

/**
 * The keys of a store SCAN body (cursor u64, then `key_len u8, key` each)
 * that match `pattern` (all when undefined), passed to `take` as views;
 * false when the pattern is too complex to test.
 */
function eachKey(body: Buffer, pattern: Uint8Array | undefined, take: (key: Buffer) => void): boolean {
  let at = CURSOR_BYTES;
  while (at < body.length) {
    const length = body[at] as number;
    const key = body.subarray(at + 1, at + 1 + length);
    at += 1 + length;
    const matched = pattern === undefined || globTest(pattern, key);
    if (matched === 'too_complex') return false;
    if (matched) take(key);
  }
  return true;
}

/** A MATCH pattern as the store's prefix and the glob left to check (undefined when the prefix says it all). */
function narrow(pattern: Uint8Array): { prefix: Uint8Array; glob: Uint8Array | undefined } {
  const { prefix, exact } = literalPrefix(pattern);
  if (exact) return { prefix, glob: pattern };
  // 'abc*' needs no check past the prefix; anything else does.
  const rest = pattern.subarray(prefix.length);
  const starOnly = rest.every((c) => c === 0x2a);
  return { prefix, glob: starOnly ? undefined : pattern };
}

/**
 * KEYS pattern: every match, or an error when the store is too large to walk in one turn
 * or the answer too large to send. A session limited to some prefixes (issue 25) sees
 * only the keys inside them (Redis would refuse KEYS to a user with key patterns).
 */
function keys(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const { store } = ctx;
  const pattern = args[1] as Buffer;
  const filter = keyFilter(ctx.session);
  const items = store.stats().curr_items;
  if (items > KEYS_MAX_EXAMINED) return out.error(`ERR KEYS would examine more than ${KEYS_MAX_EXAMINED} keys: use SCAN`);
  // A pattern without glob characters names one key: no walk.
  if (literalPrefix(pattern).exact) {
    const found = pattern.length >= 1 && pattern.length <= MAX_KEY_SIZE && (filter === undefined || filter(pattern, 0, pattern.length)) && isLive(store, pattern);
    out.array(found ? 1 : 0);
    if (found) out.bulk(pattern);
    return;
  }
  const { prefix, glob } = narrow(pattern);
  const maxReply = ctx.server.options.maxOutputBuffer;
  const found: Buffer[] = [];
  let replyBytes = 0;
  let cursor = 0n;
  do {
    const body = store.scan(cursor, KEYS_STEP, prefix, SCAN_MAX_BYTES, filter);
    cursor = body.readBigUInt64BE(0);
    const tested = eachKey(body, glob, (key) => {
      found.push(Buffer.from(key));
      replyBytes += key.length + 10; // '$NNN\r\n' + key + '\r\n'
    });
    if (!tested) return out.error(ERR_PATTERN_TOO_COMPLEX);
    if (replyBytes > maxReply) return out.error(`ERR KEYS reply would pass ${maxReply} bytes (--max-output-buffer): use SCAN`);
  } while (cursor !== 0n);
  out.array(found.length);
  for (const key of found) out.bulk(key);
}

/**
 * Redis's parseScanCursorOrReply, which is C's strtoul: decimal digits of a
 * u64 after an optional sign (`-n` wraps to 2^64 − n); nothing at all is 0.
 */
function parseCursor(raw: Buffer): bigint | undefined {
  const match = /^([+-]?)([0-9]*)$/.exec(raw.toString('latin1'));
  if (match === null) return undefined;
  const digits = match[2] as string;
  if (digits === '' && match[1] !== '') return undefined;
  const value = digits === '' ? 0n : BigInt(digits);
  if (value > U64_MAX) return undefined;
  return match[1] === '-' && value !== 0n ? (1n << 64n) - value : value;
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: `[next cursor, [keys…]]`; only keys inside the session's prefixes (issue 25). */
function scan(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const cursor = parseCursor(args[1] as Buffer);
  if (cursor === undefined) return out.error('ERR invalid cursor');
  let count = 10n;
  let pattern: Buffer | undefined;
  let type: Buffer | undefined;
  for (let j = 2; j < args.length; j += 2) {
    const opt = args[j] as Buffer;
    const value = args[j + 1];
    if (value === undefined) return out.error(ERR_SYNTAX);
    if (isWord(opt, 'count')) {
      const n = parseInteger(value);
      if (n === undefined) return out.error(ERR_NOT_INTEGER);
      if (n < 1n) return out.error(ERR_SYNTAX);
      count = n;
    } else if (isWord(opt, 'match')) pattern = value;
    else if (isWord(opt, 'type')) type = value;
    else return out.error(ERR_SYNTAX);
  }
  const { prefix, glob } = pattern === undefined ? { prefix: Buffer.alloc(0), glob: undefined } : narrow(pattern);
  const body = ctx.store.scan(cursor, Number(count > 1_000_000n ? 1_000_000n : count), prefix, SCAN_MAX_BYTES, keyFilter(ctx.session));
  // Every key is a string: another TYPE matches none (Redis 7.0 filters by name, unknown names too).
  const strings = type === undefined || isWord(type, 'string');
  const found: Buffer[] = [];
  if (strings && !eachKey(body, glob, (key) => found.push(key))) return out.error(ERR_PATTERN_TOO_COMPLEX);
  out.array(2);
  out.bulk(body.readBigUInt64BE(0).toString());
  out.array(found.length);
  for (const key of found) out.bulk(key);
}

/** FLUSHDB / FLUSHALL [ASYNC | SYNC]: both empty the one database at once. */
function flush(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  if (args.length > 2 || (args.length === 2 && !isWord(args[1], 'sync') && !isWord(args[1], 'async'))) return out.error(ERR_SYNTAX);
  ctx.store.flush();
  out.simple('OK');
}

/** DEL / UNLINK key [key …]: how many were removed. */
function del(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  if (!checkKeys(args, 1, 1, out)) return;
  let removed = 0;
  for (let i = 1; i < args.length; i++) if (ctx.store.delete(args[i] as Buffer)) removed++;
  out.integer(removed);
}


/**
 * The keyspace commands by lower-case name.
 *
 * @example
 * ```ts
 * KEYSPACE_COMMANDS.dbsize([Buffer.from('DBSIZE')], ctx, out); // ':0\r\n'
 * ```
 */
export const KEYSPACE_COMMANDS: Readonly<Record<string, Handler>> = {
  del,
  unlink: del,
  exists: (args, ctx, out) => {
    if (!checkKeys(args, 1, 1, out)) return;
    let count = 0;
    for (let i = 1; i < args.length; i++) if (isLive(ctx.store, args[i] as Buffer)) count++;
    out.integer(count);
  },
  type: (args, ctx, out) => {
    if (checkKey(args[1] as Buffer, out)) out.simple(isLive(ctx.store, args[1] as Buffer) ? 'string' : 'none');
  },
  keys,
  scan,
  dbsize: (_args, ctx, out) => out.integer(ctx.store.stats().curr_items),
  flushdb: flush,
  flushall: flush,
};
