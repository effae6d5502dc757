/**
 * Redis's expiry commands over the store (docs/RESP.md): EXPIRE, PEXPIRE,
 * EXPIREAT, PEXPIREAT (with Redis 7.0's NX / XX / GT / LT), TTL, PTTL,
 * PERSIST, EXPIRETIME and PEXPIRETIME. The store keeps TTLs on its monotonic
 * clock; absolute times are read and answered against `Date.now()`.
 *
 * @example
 * ```ts
 * EXPIRY_COMMANDS.ttl([Buffer.from('TTL'), Buffer.from('k')], ctx, out); // ':-2\r\n' when absent
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import { checkKey, isWord } from './args.js';
import { EXPIRED, type ExpireUnit, expireAt } from './expire-time.js';
import type { Handler } from './handler.js';
import type { RespContext } from './resp-context.js';

/** EXPIRE's condition flags, as Redis 7.0's parseExtendedExpireArgumentsOrReply reads them. */
interface Conditions {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
}

/** The flags from `args[3]` on, or the error text Redis gives. */
function conditions(args: readonly Buffer[]): Conditions | string {
  const c: Conditions = { nx: false, xx: false, gt: false, lt: false };
  for (let j = 3; j < args.length; j++) {
    const opt = args[j] as Buffer;
    if (isWord(opt, 'nx')) c.nx = true;
    else if (isWord(opt, 'xx')) c.xx = true;
    else if (isWord(opt, 'gt')) c.gt = true;
    else if (isWord(opt, 'lt')) c.lt = true;
    else return `ERR Unsupported option ${opt.toString()}`;
  }
  if (c.nx && (c.xx || c.gt || c.lt)) return 'ERR NX and XX, GT or LT options at the same time are not compatible';
  if (c.gt && c.lt) return 'ERR GT and LT options at the same time are not compatible';
  return c;
}

/**
 * EXPIRE-family: `:1` when the expiry was set (or the key deleted for a
 * time not in the future), `:0` when the key is absent or a condition
 * failed. With a condition, no expiry counts as infinite (Redis).
 */
function expireCommand(command: string, unit: ExpireUnit, absolute: boolean): Handler {
  return (args, ctx, out) => {
    const key = args[1] as Buffer;
    if (!checkKey(key, out)) return;
    const c = conditions(args);
    if (typeof c === 'string') return out.error(c);
    const now = Date.now();
    const asked = expireAt(args[2] as Buffer, unit, absolute, command, now);
    if ('error' in asked) return out.error(asked.error);
    const { store } = ctx;
    const ttl = store.ttl(key);
    if (ttl === undefined) return out.integer(0);
    if (c.nx || c.xx || c.gt || c.lt) {
      const current = ttl === -1 ? undefined : BigInt(now + ttl);
      if (c.nx && current !== undefined) return out.integer(0);
      if (c.xx && current === undefined) return out.integer(0);
      if (c.gt && (current === undefined || asked.at <= current)) return out.integer(0);
      if (c.lt && current !== undefined && asked.at >= current) return out.integer(0);
    }
    if (asked.ttl === EXPIRED) store.delete(key);
    else store.renew(key, asked.ttl);
    out.integer(1);
  };
}

/**
 * TTL / PTTL (`since` 0: the time remaining) and EXPIRETIME / PEXPIRETIME (`since` now: the
 * absolute Unix time of the expiry): -2 absent, -1 without expiry; seconds rounded as Redis
 * does ((ms + 500) / 1000).
 */
function expiryReply(unit: ExpireUnit, since: () => number): Handler {
  return (args, ctx, out) => {
    const key = args[1] as Buffer;
    if (!checkKey(key, out)) return;
    const ttl = ctx.store.ttl(key);
    if (ttl === undefined) return out.integer(-2);
    if (ttl === -1) return out.integer(-1);
    const at = since() + ttl;
    out.integer(unit === 'ms' ? at : Math.floor((at + 500) / 1000));
  };
}

const remaining = (): number => 0;
/** Read at each call (not `Date.now` itself), so a test's fake clock reaches it. */
const now = (): number => Date.now();

/** PERSIST key: `:1` when an expiry was removed. */
function persist(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const key = args[1] as Buffer;
  if (!checkKey(key, out)) return;
  const ttl = ctx.store.ttl(key);
  if (ttl === undefined || ttl === -1) return out.integer(0);
  ctx.store.renew(key, 0);
  out.integer(1);
}

/**
 * The expiry commands by lower-case name.
 *
 * @example
 * ```ts
 * EXPIRY_COMMANDS.expire([Buffer.from('EXPIRE'), Buffer.from('k'), Buffer.from('10')], ctx, out); // ':1\r\n'
 * ```
 */
export const EXPIRY_COMMANDS: Readonly<Record<string, Handler>> = {
  expire: expireCommand('expire', 'seconds', false),
  pexpire: expireCommand('pexpire', 'ms', false),
  expireat: expireCommand('expireat', 'seconds', true),
  pexpireat: expireCommand('pexpireat', 'ms', true),
  ttl: expiryReply('seconds', remaining),
  pttl: expiryReply('ms', remaining),
  expiretime: expiryReply('seconds', now),
  pexpiretime: expiryReply('ms', now),
  persist,
};
