/**
 * Redis's string commands over the store (docs/RESP.md): GET, SET and its
 * variants, GETEX, GETDEL, MGET, MSET, MSETNX, APPEND, STRLEN and the INCR
 * family, with Redis 7.0's option rules and error texts (t_string.c). Each
 * runs synchronously: nothing else touches the store in between.
 *
 * @example
 * ```ts
 * STRING_COMMANDS.get(args, ctx, out); // '$5\r\nhello\r\n' or '$-1\r\n'
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import type { SetOptions, Store } from '../../store/store.js';
import {
  checkKey,
  isLive,
  checkKeys,
  ERR_NOT_INTEGER,
  ERR_SYNTAX,
  isWord,
  LLONG_MIN,
  parseInteger,
  refused,
  wrongArity,
} from './args.js';
import { EXPIRED, type ExpireUnit, setExpiry } from './expire-time.js';
import type { Handler } from './handler.js';
import { countRead, countSets } from './permissions.js';
import type { RespContext } from './resp-context.js';

/** APPEND past `--max-value-size` (Redis says `proto-max-bulk-len`). */
export const ERR_APPEND_SIZE = 'ERR string exceeds maximum allowed size (--max-value-size)';
const ERR_OVERFLOW = 'ERR increment or decrement would overflow';
const ERR_DECREMENT_OVERFLOW = 'ERR decrement would overflow';

/** The expiry option SET or GETEX was given, as Redis's OBJ_EX … flags. */
type ExpireOption = 'ex' | 'px' | 'exat' | 'pxat';

const UNIT: Record<ExpireOption, ExpireUnit> = { ex: 'seconds', px: 'ms', exat: 'seconds', pxat: 'ms' };

/** SET / GETEX's options after the syntax pass, or the syntax error. */
interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expire: ExpireOption | undefined;
  expireArg: Buffer | undefined;
}

/**
 * Redis 7.0's parseExtendedStringArgumentsOrReply: options from `args[from]`
 * on, each allowed only beside the ones Redis allows it with (NX with XX is a
 * syntax error, EX with PX too; the same option twice is fine, the last
 * value wins). `set` says which command's options these are.
 */
function parseOptions(args: readonly Buffer[], from: number, set: boolean): StringOptions | undefined {
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false, expire: undefined, expireArg: undefined };
  for (let j = from; j < args.length; j++) {
    const opt = args[j];
    const next = j === args.length - 1 ? undefined : args[j + 1];
    const expireFree = (mine: ExpireOption): boolean => !o.keepTtl && !o.persist && (o.expire === undefined || o.expire === mine);
    if (set && isWord(opt, 'nx') && !o.xx) o.nx = true;
    else if (set && isWord(opt, 'xx') && !o.nx) o.xx = true;
    else if (set && isWord(opt, 'get')) o.get = true;
    else if (set && isWord(opt, 'keepttl') && !o.persist && o.expire === undefined) o.keepTtl = true;
    else if (!set && isWord(opt, 'persist') && o.expire === undefined && !o.keepTtl) o.persist = true;
    else {
      const kind = (['ex', 'px', 'exat', 'pxat'] as const).find((k) => isWord(opt, k));
      if (kind === undefined || !expireFree(kind) || next === undefined) return undefined;
      o.expire = kind;
      o.expireArg = next;
      j++;
    }
  }
  return o;
}

/** The TTL asked by an expiry option (ms from now, 0 without one, or EXPIRED), or undefined after queuing its error. */
function ttlOf(o: StringOptions, command: string, out: RespWriter): number | undefined {
  if (o.expire === undefined || o.expireArg === undefined) return 0;
  const absolute = o.expire === 'exat' || o.expire === 'pxat';
  const ttl = setExpiry(o.expireArg, UNIT[o.expire], absolute, command, Date.now());
  if (typeof ttl === 'number') return ttl;
  out.error(ttl.error);
  return undefined;
}


/** The store options of a SET without options: no TTL, unconditional. */
const PLAIN_SET: SetOptions = Object.freeze({ ttlMs: 0 });

/**
 * SET key value [NX | XX] [GET] [EX s | PX ms | EXAT t | PXAT t | KEEPTTL].
 * A time already past (EXAT/PXAT) leaves the key absent, as in Redis.
 */
function set(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const key = args[1] as Buffer;
  const value = args[2] as Buffer;
  if (!checkKey(key, out)) return;
  if (args.length === 3) {
    // No options (most SETs): what the general path below does for them, without its option objects.
    const outcome = ctx.store.set(key, value, PLAIN_SET);
    if (refused(outcome, out)) return;
    if (outcome === 'stored') {
      out.simple('OK');
      countSets(ctx.session);
    } else out.bulk(null);
    return;
  }
  const o = parseOptions(args, 3, true);
  if (o === undefined) return out.error(ERR_SYNTAX);
  const ttl = ttlOf(o, 'set', out);
  if (ttl === undefined) return;
  const { store } = ctx;
  // GET's answer is the value before the write (a copy: the write may reuse its chunk).
  const old = o.get ? store.get(key) : undefined;
  if (ttl === EXPIRED) {
    const found = isLive(store, key);
    if ((o.nx && found) || (o.xx && !found)) return o.get ? out.bulk(old) : out.bulk(null);
    store.delete(key);
    return o.get ? out.bulk(old) : out.simple('OK');
  }
  const outcome = store.set(key, value, { ttlMs: ttl, nx: o.nx, xx: o.xx, keepTtl: o.keepTtl });
  if (refused(outcome, out)) return;
  if (outcome === 'stored') countSets(ctx.session);
  if (o.get) out.bulk(old);
  else if (outcome === 'stored') out.simple('OK');
  else out.bulk(null);
}

/** SETEX / PSETEX key time value. */
function setWithExpiry(command: string, unit: ExpireUnit): Handler {
  return (args, ctx, out) => {
    const key = args[1] as Buffer;
    if (!checkKey(key, out)) return;
    const ttl = setExpiry(args[2] as Buffer, unit, false, command, Date.now());
    if (typeof ttl !== 'number') return out.error(ttl.error);
    if (refused(ctx.store.set(key, args[3] as Buffer, { ttlMs: ttl }), out)) return;
    countSets(ctx.session);
    out.simple('OK');
  };
}

/** GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]: the value, then the expiry changed. */
function getex(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const key = args[1] as Buffer;
  if (!checkKey(key, out)) return;
  const o = parseOptions(args, 2, false);
  if (o === undefined) return out.error(ERR_SYNTAX);
  const { store } = ctx;
  // Redis 7.0 looks the key up before it reads the expiry: an absent key is nil whatever the time says.
  const live = isLive(store, key);
  countRead(ctx.session, live);
  if (!live) return out.bulk(store.getView(key));
  const ttl = ttlOf(o, 'getex', out);
  if (ttl === undefined) return;
  if (o.persist) return out.bulk(store.getAndTouch(key, 0));
  if (o.expire === undefined) return out.bulk(store.getView(key));
  if (ttl !== EXPIRED) return out.bulk(store.getAndTouch(key, ttl));
  const value = store.get(key);
  if (value !== undefined) store.delete(key);
  out.bulk(value);
}

/** MSET / MSETNX's checks: pairs, keys, and no value too large for the budget (so no write is refused halfway for that). */
function checkPairs(args: readonly Buffer[], command: string, store: Store, out: RespWriter): boolean {
  if (args.length % 2 === 0) {
    out.error(wrongArity(command));
    return false;
  }
  if (!checkKeys(args, 1, 2, out)) return false;
  for (let i = 1; i < args.length; i += 2) {
    if ((args[i + 1] as Buffer).length > store.largestValue((args[i] as Buffer).length)) return !refused('too_large', out);
  }
  return true;
}

/** MSET k v [k v …]. With eviction off, an OOM refusal can leave the earlier pairs written (docs/RESP.md). */
function mset(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  if (!checkPairs(args, 'mset', ctx.store, out)) return;
  for (let i = 1; i < args.length; i += 2) {
    if (refused(ctx.store.set(args[i] as Buffer, args[i + 1] as Buffer), out)) return;
    countSets(ctx.session);
  }
  out.simple('OK');
}

/** MSETNX k v [k v …]: all or none; a refused write removes the pairs this command wrote (they were absent before). */
function msetnx(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const { store } = ctx;
  if (!checkPairs(args, 'msetnx', store, out)) return;
  for (let i = 1; i < args.length; i += 2) {
    if (isLive(store, args[i] as Buffer)) return out.integer(0);
  }
  for (let i = 1; i < args.length; i += 2) {
    // Not NX: a key named twice takes its last value, as in Redis (all were absent a moment ago).
    const outcome = store.set(args[i] as Buffer, args[i + 1] as Buffer);
    if (refused(outcome, out)) {
      for (let k = 1; k < i; k += 2) store.delete(args[k] as Buffer);
      return;
    }
  }
  countSets(ctx.session, (args.length - 1) / 2);
  out.integer(1);
}

/** APPEND key value: the new length; the key keeps its expiry. */
function append(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const key = args[1] as Buffer;
  const suffix = args[2] as Buffer;
  if (!checkKey(key, out)) return;
  const { store } = ctx;
  const current = store.getView(key);
  if (current === undefined) {
    if (refused(store.set(key, suffix), out)) return;
    countSets(ctx.session);
    out.integer(suffix.length);
    return;
  }
  const length = current.length + suffix.length;
  if (length > ctx.server.options.maxValueSize) return out.error(ERR_APPEND_SIZE);
  // Joined before the write: the view is valid until then.
  const joined = Buffer.concat([current, suffix], length);
  if (refused(store.set(key, joined, { keepTtl: true }), out)) return;
  countSets(ctx.session);
  out.integer(length);
}

/**
 * MGET key [key …]. Its reply is bounded by `--max-output-buffer`: one key
 * named many times could otherwise make a reply of thousands of values from
 * a 3 MiB command; past the bound it is refused whole (docs/RESP.md).
 */
function mget(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  if (!checkKeys(args, 1, 1, out)) return;
  const start = out.length;
  const bound = ctx.server.options.maxOutputBuffer;
  out.array(args.length - 1);
  // Each view is copied by the writer before the next read.
  for (let i = 1; i < args.length; i++) {
    const value = ctx.store.getView(args[i] as Buffer);
    countRead(ctx.session, value !== undefined);
    out.bulk(value);
    if (out.length - start > bound) {
      out.truncate(start);
      return out.error(`ERR MGET reply would pass ${bound} bytes (--max-output-buffer)`);
    }
  }
}

/** INCR / DECR / INCRBY / DECRBY's common part: `delta` added, the new value or the store's refusal. */
function addTo(key: Buffer, delta: bigint, ctx: RespContext, out: RespWriter): void {
  const result = ctx.store.incr(key, delta);
  if (typeof result === 'bigint') {
    countSets(ctx.session);
    out.integer(result);
  }
  else if (result === 'not_integer') out.error(ERR_NOT_INTEGER);
  else if (result === 'overflow') out.error(ERR_OVERFLOW);
  else refused(result, out);
}

/** INCR / DECR: a fixed step. */
function step(delta: bigint): Handler {
  return (args, ctx, out) => {
    if (checkKey(args[1] as Buffer, out)) addTo(args[1] as Buffer, delta, ctx, out);
  };
}

/** INCRBY / DECRBY key n. */
function by(sign: 1n | -1n): Handler {
  return (args, ctx, out) => {
    const key = args[1] as Buffer;
    if (!checkKey(key, out)) return;
    const n = parseInteger(args[2] as Buffer);
    if (n === undefined) return out.error(ERR_NOT_INTEGER);
    // Redis: -LLONG_MIN is not an i64.
    if (sign === -1n && n === LLONG_MIN) return out.error(ERR_DECREMENT_OVERFLOW);
    addTo(key, sign * n, ctx, out);
  };
}

/**
 * The string commands by lower-case name.
 *
 * @example
 * ```ts
 * STRING_COMMANDS.set([Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')], ctx, out); // '+OK\r\n'
 * ```
 */
export const STRING_COMMANDS: Readonly<Record<string, Handler>> = {
  get: (args, ctx, out) => {
    if (!checkKey(args[1] as Buffer, out)) return;
    const value = ctx.store.getView(args[1] as Buffer);
    countRead(ctx.session, value !== undefined);
    out.bulk(value);
  },
  set,
  setnx: (args, ctx, out) => {
    if (!checkKey(args[1] as Buffer, out)) return;
    const outcome = ctx.store.set(args[1] as Buffer, args[2] as Buffer, { nx: true });
    if (refused(outcome, out)) return;
    if (outcome === 'stored') countSets(ctx.session);
    out.integer(outcome === 'stored' ? 1 : 0);
  },
  setex: setWithExpiry('setex', 'seconds'),
  psetex: setWithExpiry('psetex', 'ms'),
  getex,
  getdel: (args, ctx, out) => {
    const key = args[1] as Buffer;
    if (!checkKey(key, out)) return;
    const value = ctx.store.get(key);
    if (value !== undefined) ctx.store.delete(key);
    countRead(ctx.session, value !== undefined);
    out.bulk(value);
  },
  mget,
  mset,
  msetnx,
  append,
  strlen: (args, ctx, out) => {
    if (checkKey(args[1] as Buffer, out)) out.integer(ctx.store.getView(args[1] as Buffer)?.length ?? 0);
  },
  incr: step(1n),
  decr: step(-1n),
  incrby: by(1n),
  decrby: by(-1n),
};
