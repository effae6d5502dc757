/**
 * runCommand against a model: random sequences of SET / GET / DEL / INCR /
 * APPEND / EXPIRE / PEXPIRE / PERSIST / PTTL / MSET / MGET, with the clock
 * moving between them, give the replies a plain Map with expiry times gives,
 * byte for byte, in RESP2 and RESP3. And any arguments at all never make
 * runCommand throw or write anything but whole RESP replies.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../support/resp-harness.js';

const harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

/** The reference: values and absolute expiry times on the fake clock (0: none). */
class Model {
  readonly map = new Map<string, { value: Buffer; expiresAt: number }>();
  constructor(readonly now: () => number) {}
  live(key: string): { value: Buffer; expiresAt: number } | undefined {
    const entry = this.map.get(key);
    if (entry !== undefined && entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return entry;
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** RESP bytes of the model's answers. */
function replies(protocol: 2 | 3) {
  return {
    nil: protocol === 3 ? '_\r\n' : '$-1\r\n',
    ok: '+OK\r\n',
    int: (n: number | bigint) => `:${n}\r\n`,
    bulk: (b: Buffer) => `$${b.length}\r\n${b.toString('latin1')}\r\n`,
    err: (t: string) => `-${t}\r\n`,
  };
}

const keyArb = fc.constantFrom('a', 'b', '\u0000\u00ff');
const valueArb = fc.oneof(
  fc.constantFrom('0', '1', '-7', '9223372036854775807', '-9223372036854775808', '007', 'x', ''),
  fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')),
);

type Op =
  | { kind: 'cmd'; args: string[] }
  | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc
    .tuple(keyArb, valueArb, fc.constantFrom('', 'NX', 'XX'), fc.boolean(), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })))
    .map(([k, v, cond, get, px]) => ({
      kind: 'cmd' as const,
      args: ['SET', k, v, ...(cond === '' ? [] : [cond]), ...(get ? ['GET'] : []), ...(px > 0 ? ['PX', String(px)] : [])],
    })),
  keyArb.map((k) => ({ kind: 'cmd' as const, args: ['GET', k] })),
  fc.array(keyArb, { minLength: 1, maxLength: 3 }).map((ks) => ({ kind: 'cmd' as const, args: ['DEL', ...ks] })),
  keyArb.map((k) => ({ kind: 'cmd' as const, args: ['INCR', k] })),
  fc.tuple(keyArb, valueArb).map(([k, v]) => ({ kind: 'cmd' as const, args: ['APPEND', k, v] })),
  fc.tuple(keyArb, fc.integer({ min: -2, max: 3 })).map(([k, s]) => ({ kind: 'cmd' as const, args: ['EXPIRE', k, String(s)] })),
  fc.tuple(keyArb, fc.integer({ min: -100, max: 3000 })).map(([k, ms]) => ({ kind: 'cmd' as const, args: ['PEXPIRE', k, String(ms)] })),
  keyArb.map((k) => ({ kind: 'cmd' as const, args: ['PERSIST', k] })),
  keyArb.map((k) => ({ kind: 'cmd' as const, args: ['PTTL', k] })),
  fc
    .array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 3 })
    .map((pairs) => ({ kind: 'cmd' as const, args: ['MSET', ...pairs.flat()] })),
  fc.array(keyArb, { minLength: 1, maxLength: 4 }).map((ks) => ({ kind: 'cmd' as const, args: ['MGET', ...ks] })),
  fc.integer({ min: 0, max: 2000 }).map((ms) => ({ kind: 'advance' as const, ms })),
);

/** The model's reply to `args` (and its change of state). */
function modelRun(m: Model, args: string[], r: ReturnType<typeof replies>): string {
  const [name, key = '', ...rest] = args;
  const now = m.now();
  const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
  switch (name) {
    case 'SET': {
      const old = m.live(key);
      const nx = rest.includes('NX');
      const xx = rest.includes('XX');
      const get = rest.includes('GET');
      const pxAt = rest.indexOf('PX');
      const px = pxAt < 0 ? 0 : Number(rest[pxAt + 1]);
      const reply = get ? (old === undefined ? r.nil : r.bulk(old.value)) : undefined;
      if ((nx && old !== undefined) || (xx && old === undefined)) return reply ?? r.nil;
      m.map.set(key, { value: bytes(rest[0] as string), expiresAt: px > 0 ? now + px : 0 });
      return reply ?? r.ok;
    }
    case 'GET': {
      const e = m.live(key);
      return e === undefined ? r.nil : r.bulk(e.value);
    }
    case 'DEL': {
      let n = 0;
      for (const k of [key, ...rest]) if (m.live(k) !== undefined && m.map.delete(k)) n++;
      return r.int(n);
    }
    case 'INCR': {
      const e = m.live(key);
      const text = e?.value.toString('latin1') ?? '0';
      if (!/^(0|-?[1-9][0-9]{0,18})$/.test(text) || BigInt(text) < I64_MIN || BigInt(text) > I64_MAX) {
        return r.err('ERR value is not an integer or out of range');
      }
      const next = BigInt(text) + 1n;
      if (next > I64_MAX) return r.err('ERR increment or decrement would overflow');
      m.map.set(key, { value: bytes(next.toString()), expiresAt: e?.expiresAt ?? 0 });
      return r.int(next);
    }
    case 'APPEND': {
      const e = m.live(key);
      const value = Buffer.concat([e?.value ?? Buffer.alloc(0), bytes(rest[0] as string)]);
      m.map.set(key, { value, expiresAt: e?.expiresAt ?? 0 });
      return r.int(value.length);
    }
    case 'EXPIRE':
    case 'PEXPIRE': {
      const e = m.live(key);
      if (e === undefined) return r.int(0);
      const ms = Number(rest[0]) * (name === 'EXPIRE' ? 1000 : 1);
      if (ms <= 0) m.map.delete(key);
      else e.expiresAt = now + ms;
      return r.int(1);
    }
    case 'PERSIST': {
      const e = m.live(key);
      if (e === undefined || e.expiresAt === 0) return r.int(0);
      e.expiresAt = 0;
      return r.int(1);
    }
    case 'PTTL': {
      const e = m.live(key);
      if (e === undefined) return r.int(-2);
      return r.int(e.expiresAt === 0 ? -1 : e.expiresAt - now);
    }
    case 'MSET': {
      const pairs = [key, ...rest];
      for (let i = 0; i < pairs.length; i += 2) m.map.set(pairs[i] as string, { value: bytes(pairs[i + 1] as string), expiresAt: 0 });
      return r.ok;
    }
    case 'MGET': {
      const keys = [key, ...rest];
      return `*${keys.length}\r\n${keys.map((k) => {
        const e = m.live(k);
        return e === undefined ? r.nil : r.bulk(e.value);
      }).join('')}`;
    }
    default:
      throw new Error(`no model for ${String(name)}`);
  }
}

describe('RESP commands against a Map model', () => {
  it('give the same replies for any sequence, in RESP2 and RESP3', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.constantFrom(2 as const, 3 as const), fc.array(opArb, { maxLength: 80, size: 'max' }), (protocol, ops) => {
        const h = makeHarness({ protocol });
        harnesses.push(h);
        const model = new Model(() => h.clock.now);
        const r = replies(protocol);
        for (const op of ops) {
          if (op.kind === 'advance') {
            h.clock.advance(op.ms);
            continue;
          }
          expect(h.run(...op.args), op.args.join(' ')).toBe(modelRun(model, op.args, r));
        }
        h.close();
      }),
      { numRuns: 300 },
    );
  });
});

/** The length of the one whole RESP reply at `at` of `s`, or -1 if it is not one. */
function replyEnd(s: string, at: number): number {
  const eol = s.indexOf('\r\n', at);
  if (eol < 0) return -1;
  const type = s[at] as string;
  const line = s.slice(at + 1, eol);
  let next = eol + 2;
  if ('+-#,_'.includes(type)) return /[\r\n]/.test(line) ? -1 : next;
  if (!/^-?[0-9]+$/.test(line)) return -1;
  const n = Number(line);
  if (type === ':') return next;
  if (type === '$' || type === '=') {
    if (n < 0) return next;
    return s.slice(next + n, next + n + 2) === '\r\n' ? next + n + 2 : -1;
  }
  if (!'*%~'.includes(type)) return -1;
  const count = type === '%' ? 2 * n : Math.max(n, 0);
  for (let i = 0; i < count; i++) {
    next = replyEnd(s, next);
    if (next < 0) return -1;
  }
  return next;
}

const NAMES = [
  'GET', 'SET', 'SETNX', 'SETEX', 'PSETEX', 'GETEX', 'GETDEL', 'MGET', 'MSET', 'MSETNX', 'DEL', 'UNLINK', 'EXISTS', 'INCR', 'DECR',
  'INCRBY', 'DECRBY', 'APPEND', 'STRLEN', 'EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT', 'TTL', 'PTTL', 'PERSIST', 'EXPIRETIME',
  'PEXPIRETIME', 'TYPE', 'KEYS', 'SCAN', 'DBSIZE', 'FLUSHDB', 'PING', 'ECHO', 'SELECT', 'HELLO', 'AUTH', 'CLIENT', 'INFO', 'COMMAND',
  'CONFIG', 'nope',
];
const WORDS = ['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'GT', 'LT', 'GET', 'KEEPTTL', 'PERSIST', 'MATCH', 'COUNT', 'TYPE', 'AUTH', 'SETNAME',
  'GETNAME', 'SETINFO', 'ID', 'INFO', 'DOCS', 'LIST', 'FILTERBY', 'HELP', 'default', '0', '1', '-1', '2', '3', '*', 'a*', '[', '\\',
  '9223372036854775807', '-9223372036854775808', '18446744073709551615', ''];
const argArb = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
);

describe('runCommand on any input', () => {
  it('never throws, logs nothing, and writes only whole RESP replies', { timeout: 60_000 }, () => {
    const h = makeHarness({ password: 'pw' });
    harnesses.push(h);
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.array(argArb, { maxLength: 6, size: 'max' }), fc.boolean(), (name, args, auth) => {
        h.session.authenticated = auth;
        const reply = h.run(name, ...args);
        let at = 0;
        while (at < reply.length) {
          const end = replyEnd(reply, at);
          expect(end, JSON.stringify(reply.slice(at, at + 200))).toBeGreaterThan(at);
          at = end;
        }
        if (h.session.protocol !== 2) h.run('HELLO', '2');
      }),
      { numRuns: 3000 },
    );
    expect(h.server.logged).toEqual([]);
  });
});
