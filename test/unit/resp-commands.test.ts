/**
 * runCommand (src/server/resp/commands.ts) against a real Store: the exact
 * reply bytes of every command, option and error, in RESP2 and RESP3. The
 * expected texts are Redis 7.0.15's (checked against Debian's redis-server),
 * except the differences docs/RESP.md lists, which are named here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TTL_MS } from '../../src/protocol/constants.js';
import { RespWriter } from '../../src/protocol/resp-writer.js';
import { COMMAND_TABLE } from '../../src/server/resp/command-table.js';
import { makeHarness, type Harness } from '../support/resp-harness.js';

const harnesses: Harness[] = [];
function make(...a: Parameters<typeof makeHarness>): Harness {
  const h = makeHarness(...a);
  harnesses.push(h);
  return h;
}
/** Wall-clock time the tests pin (absolute expiries read Date.now()). */
const NOW = 1_800_000_000_000;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
  vi.useRealTimers();
});

const bulk = (s: string): string => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
const NIL = '$-1\r\n';
const OK = '+OK\r\n';
const int = (n: number | bigint): string => `:${n}\r\n`;
const err = (text: string): string => `-${text}\r\n`;
const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');
const KEY_LENGTH = err('ERR invalid key length: Conduit keys are 1 to 250 bytes');
const TTL_LIMIT = err(`ERR expire time exceeds Conduit's limit of ${MAX_TTL_MS} ms`);
const expireTime = (c: string): string => err(`ERR invalid expire time in '${c}' command`);
const arity = (c: string): string => err(`ERR wrong number of arguments for '${c}' command`);

/** Runs each row's command in order on `h` and checks its reply bytes. */
function rows(h: Harness, table: [string[], string][]): void {
  for (const [args, expected] of table) expect(h.run(...args), args.join(' ')).toBe(expected);
}

describe('dispatch', () => {
  it('answers unknown commands, subcommands and wrong arity as Redis 7.0 does', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['foo', 'a', 'b'], err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")],
      [['FOO'], err("ERR unknown command 'FOO', with args beginning with: ")],
      [['get'], arity('get')],
      [['GET', 'a', 'b'], arity('get')],
      [['CLIENT'], arity('client')],
      [['client', 'foo'], err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")],
      [['config', 'nope'], err("ERR unknown subcommand 'nope'. Try CONFIG HELP.")],
      [['client', 'setname'], arity('client|setname')],
      [['CLIENT', 'GETNAME', 'x'], arity('client|getname')],
      [['MSET', 'a'], arity('mset')],
      [['MSET', 'a', '1', 'b'], arity('mset')],
      [['MSETNX', 'a', '1', 'b'], arity('msetnx')],
      [['PING', 'a', 'b'], arity('ping')],
    ]);
  });

  it('quotes at most 128 bytes of a long unknown command, and CR LF become spaces', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('foo', 'a'.repeat(119), 'b'.repeat(25), 'c')).toBe(
      err(`ERR unknown command 'foo', with args beginning with: '${'a'.repeat(119)}' 'bbbbbb' `),
    );
    expect(h.run('x'.repeat(200))).toBe(err(`ERR unknown command '${'x'.repeat(128)}', with args beginning with: `));
    expect(h.run('foo', 'a\r\nb')).toBe(err("ERR unknown command 'foo', with args beginning with: 'a  b' "));
  });

  it('cuts the unknown command name and each quoted argument at its first NUL byte, as Redis\'s %.128s does', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('PING\0')).toBe(err("ERR unknown command 'PING', with args beginning with: "));
    expect(h.run('fo\0o', 'a\0bc', '\0', 'd')).toBe(err("ERR unknown command 'fo', with args beginning with: 'a' '' 'd' "));
    expect(h.run('foo', 'a\0bc')).not.toContain('\0');
  });

  it('drops a connection that sends an HTTP request (Host: or POST), without a reply', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('Host:', 'example.com')).toBe('');
    expect(h.after).toBe('drop');
    expect(h.run('POST', '/', 'HTTP/1.1')).toBe('');
    expect(h.after).toBe('drop');
    expect(h.run('GET', 'k')).toBe(NIL);
    expect(h.after).toBeUndefined();
  });

  it('QUIT answers +OK and closes, with any arguments and before AUTH', { timeout: 5000 }, () => {
    const h = make({ password: 'pw' });
    expect(h.run('QUIT', 'x')).toBe(OK);
    expect(h.after).toBe('close');
  });

  it('has a handler and a well-formed entry for every command in the table', { timeout: 5000 }, () => {
    const h = make();
    for (const c of COMMAND_TABLE.flatMap((c) => [c, ...(c.subcommands ?? [])])) {
      expect(c.name).toBe(c.name.toLowerCase());
      expect(Number.isInteger(c.arity) && c.arity !== 0).toBe(true);
      const [container, sub] = c.name.split('|') as [string, string | undefined];
      // One argument short of the arity: every command answers the arity error, none crashes.
      const words = sub === undefined ? [container] : [container, sub];
      const short = Math.abs(c.arity) - 1;
      if (short >= words.length) {
        expect(h.run(...words, ...Array.from({ length: short - words.length }, () => 'x'))).toBe(arity(c.name));
      }
    }
    expect(h.server.logged).toEqual([]);
  });
});

describe('AUTH and the password gate', () => {
  it('answers NOAUTH before AUTH, lets AUTH, HELLO AUTH and QUIT through, and checks arity and existence first', { timeout: 5000 }, () => {
    const h = make({ password: 'secret' });
    rows(h, [
      [['GET', 'k'], err('NOAUTH Authentication required.')],
      [['PING'], err('NOAUTH Authentication required.')],
      [['CLIENT', 'SETNAME', 'x'], err('NOAUTH Authentication required.')],
      [['foo', 'a'], err("ERR unknown command 'foo', with args beginning with: 'a' ")],
      [['GET'], arity('get')],
      [['client', 'foo'], err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")],
      [
        ['HELLO', '3'],
        err(
          'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
        ),
      ],
      [['HELLO', 'x'], err('ERR Protocol version is not an integer or out of range')],
      [['HELLO', '4'], err('NOPROTO unsupported protocol version')],
      [['HELLO', '3', 'AUTH', 'default', 'wrong'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['AUTH', 'wrong'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['AUTH', 'default', 'wrong'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['AUTH', 'other', 'secret'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['AUTH', 'DEFAULT', 'secret'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['AUTH', 'a', 'b', 'c'], SYNTAX],
      [['AUTH'], arity('auth')],
    ]);
    expect(h.session.authenticated).toBe(false);
    expect(h.run('AUTH', 'secret')).toBe(OK);
    expect(h.session.authenticated).toBe(true);
    expect(h.run('GET', 'k')).toBe(NIL);
    // A failed AUTH later does not log out (Redis).
    expect(h.run('AUTH', 'wrong')).toBe(err('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(h.run('GET', 'k')).toBe(NIL);
  });

  it('AUTH default <password> and HELLO AUTH log in', { timeout: 5000 }, () => {
    const a = make({ password: 'secret' });
    expect(a.run('AUTH', 'default', 'secret')).toBe(OK);
    const b = make({ password: 'secret' });
    expect(b.run('HELLO', '2', 'AUTH', 'default', 'secret', 'SETNAME', 'me')).toContain('$6\r\nserver\r\n');
    expect(b.session.authenticated).toBe(true);
    expect(b.session.name).toBe('me');
    expect(b.run('CLIENT', 'GETNAME')).toBe(bulk('me'));
  });

  it('without a password: AUTH <password> is Redis 7.0 error, AUTH default <anything> is OK, another user WRONGPASS', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [
        ['AUTH', 'x'],
        err('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'),
      ],
      [['AUTH', 'default', 'x'], OK],
      [['AUTH', 'bob', 'x'], err('WRONGPASS invalid username-password pair or user is disabled.')],
      [['HELLO', '2', 'AUTH', 'bob', 'x'], err('WRONGPASS invalid username-password pair or user is disabled.')],
    ]);
  });
});

describe('HELLO', () => {
  const helloMap = (proto: 2 | 3): string =>
    `${proto === 3 ? '%7' : '*14'}\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk('7.0.0')}${bulk('proto')}${int(proto)}${bulk('id')}${int(7)}${bulk('mode')}${bulk('standalone')}${bulk('role')}${bulk('master')}${bulk('modules')}*0\r\n`;

  it('answers the server map and switches the session and the writer', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('HELLO')).toBe(helloMap(2));
    expect(h.run('HELLO', '3')).toBe(helloMap(3));
    expect(h.session.protocol).toBe(3);
    expect(h.out.protocol).toBe(3);
    expect(h.run('HELLO')).toBe(helloMap(3));
    expect(h.run('GET', 'k')).toBe('_\r\n');
    expect(h.run('HELLO', '2')).toBe(helloMap(2));
    expect(h.session.protocol).toBe(2);
    expect(h.run('GET', 'k')).toBe(NIL);
  });

  it('refuses bad versions and options without changing anything', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['HELLO', '1'], err('NOPROTO unsupported protocol version')],
      [['HELLO', '-3'], err('NOPROTO unsupported protocol version')],
      [['HELLO', '3.0'], err('ERR Protocol version is not an integer or out of range')],
      [['HELLO', '3', 'FOO'], err("ERR Syntax error in HELLO option 'FOO'")],
      [['HELLO', '3', 'AUTH', 'default'], err("ERR Syntax error in HELLO option 'AUTH'")],
      [['HELLO', '3', 'SETNAME'], err("ERR Syntax error in HELLO option 'SETNAME'")],
      [['HELLO', '3', 'SETNAME', 'a b'], err('ERR Client names cannot contain spaces, newlines or special characters.')],
    ]);
    expect(h.session.protocol).toBe(2);
    expect(h.run('hello', '3', 'setname', 'app')).toBe(helloMap(3));
    expect(h.session.name).toBe('app');
  });
});

describe('GET, SET and their variants', () => {
  it('SET with NX, XX, GET', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['GET', 'k'], NIL],
      [['SET', 'k', 'hello'], OK],
      [['get', 'k'], bulk('hello')],
      [['SET', 'k', 'v2', 'GET'], bulk('hello')],
      [['SET', 'k', 'v3', 'NX'], NIL],
      [['SET', 'k', 'v3', 'nx', 'get'], bulk('v2')],
      [['GET', 'k'], bulk('v2')],
      [['SET', 'k', 'v3', 'XX', 'GET'], bulk('v2')],
      [['SET', 'new', 'v', 'XX'], NIL],
      [['SET', 'new', 'v', 'XX', 'GET'], NIL],
      [['SET', 'new', 'v', 'GET', 'GET'], NIL],
      [['GET', 'new'], bulk('v')],
      [['SET', 'k', 'v', 'NX', 'XX'], SYNTAX],
      [['SET', 'k', 'v', 'XX', 'NX'], SYNTAX],
      [['SET', 'k', 'v', 'NX', 'NX'], NIL],
      [['SET', 'k', 'v', 'foo'], SYNTAX],
      [['SET', 'k', 'v', 'PERSIST'], SYNTAX],
      [['SET', 'k', 'bin\r\n\0'], OK],
      [['GET', 'k'], bulk('bin\r\n\0')],
      [['SET', 'k', ''], OK],
      [['GET', 'k'], bulk('')],
    ]);
  });

  it('SET expiries: EX PX EXAT PXAT KEEPTTL, their conflicts and Redis 7.0 texts', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SET', 'k', 'v', 'EX'], SYNTAX],
      [['SET', 'k', 'v', 'EX', 'x'], NOT_INT],
      [['SET', 'k', 'v', 'EX', '1.5'], NOT_INT],
      [['SET', 'k', 'v', 'EX', '0'], expireTime('set')],
      [['SET', 'k', 'v', 'EX', '-1'], expireTime('set')],
      [['SET', 'k', 'v', 'PX', '0'], expireTime('set')],
      [['SET', 'k', 'v', 'EX', '9223372036854775807'], expireTime('set')],
      [['SET', 'k', 'v', 'PX', '9223372036854775807'], expireTime('set')],
      [['SET', 'k', 'v', 'EXAT', '0'], expireTime('set')],
      [['SET', 'k', 'v', 'EX', '9223372036854775808'], NOT_INT],
      [['SET', 'k', 'v', 'EX', '1', 'PX', '1'], SYNTAX],
      [['SET', 'k', 'v', 'EX', '1', 'EXAT', '1'], SYNTAX],
      [['SET', 'k', 'v', 'PXAT', '1', 'PX', '1'], SYNTAX],
      [['SET', 'k', 'v', 'KEEPTTL', 'EX', '10'], SYNTAX],
      [['SET', 'k', 'v', 'EX', '10', 'KEEPTTL'], SYNTAX],
      [['GET', 'k'], NIL],
      // The same option twice: the last value wins.
      [['SET', 'k', 'v', 'EX', '1', 'ex', '100'], OK],
      [['TTL', 'k'], int(100)],
      [['PTTL', 'k'], int(100_000)],
      [['SET', 'k', 'v', 'PX', '1500'], OK],
      [['PTTL', 'k'], int(1500)],
      [['TTL', 'k'], int(2)], // (1500 + 500) / 1000
      [['SET', 'k', 'v2', 'KEEPTTL'], OK],
      [['PTTL', 'k'], int(1500)],
      [['SET', 'k', 'v3'], OK],
      [['TTL', 'k'], int(-1)],
      [['SET', 'k', 'v', 'EXAT', String(NOW / 1000 + 50)], OK],
      [['TTL', 'k'], int(50)],
      [['SET', 'k', 'v', 'PXAT', String(NOW + 1234)], OK],
      [['PTTL', 'k'], int(1234)],
      [['PEXPIRETIME', 'k'], int(NOW + 1234)],
      [['EXPIRETIME', 'k'], int(Math.floor((NOW + 1234 + 500) / 1000))],
    ]);
  });

  it('SET with a time already past leaves the key absent (NX / XX / GET still apply)', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SET', 'k', 'v'], OK],
      [['SET', 'k', 'w', 'EXAT', '1'], OK],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['SET', 'k', 'w', 'PXAT', String(NOW), 'GET'], bulk('v')],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['SET', 'k', 'w', 'PXAT', '1', 'NX'], NIL],
      [['GET', 'k'], bulk('v')],
      [['SET', 'gone', 'w', 'PXAT', '1', 'XX'], NIL],
      [['SET', 'gone', 'w', 'PXAT', '1', 'NX'], OK],
      [['EXISTS', 'gone'], int(0)],
    ]);
  });

  it("refuses TTLs over the store's limit with Conduit's text (a difference: Redis takes any i64)", { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SET', 'k', 'v', 'PX', String(MAX_TTL_MS)], OK],
      [['PTTL', 'k'], int(MAX_TTL_MS)],
      [['SET', 'k', 'v', 'PX', String(MAX_TTL_MS + 1)], TTL_LIMIT],
      [['SET', 'k', 'v', 'EX', '4294968'], TTL_LIMIT],
      [['SET', 'k', 'v', 'PXAT', String(NOW + MAX_TTL_MS + 1)], TTL_LIMIT],
      [['SETEX', 'k', '4294968', 'v'], TTL_LIMIT],
      [['PSETEX', 'k', String(MAX_TTL_MS + 1), 'v'], TTL_LIMIT],
      [['GETEX', 'k', 'PX', String(MAX_TTL_MS + 1)], TTL_LIMIT],
      [['EXPIRE', 'k', '4294968'], TTL_LIMIT],
      [['PEXPIREAT', 'k', String(NOW + MAX_TTL_MS + 1)], TTL_LIMIT],
      [['PTTL', 'k'], int(MAX_TTL_MS)],
    ]);
  });

  it('refuses keys of 0 or more than 250 bytes (a difference)', { timeout: 5000 }, () => {
    const h = make();
    const long = 'k'.repeat(251);
    for (const args of [
      ['GET', ''],
      ['SET', long, 'v'],
      ['SET', '', 'v', 'EX', '0'],
      ['MGET', 'a', ''],
      ['MSET', 'a', '1', long, '2'],
      ['DEL', 'a', ''],
      ['EXISTS', long],
      ['INCR', ''],
      ['APPEND', '', 'x'],
      ['EXPIRE', '', '1'],
      ['TTL', ''],
      ['TYPE', ''],
      ['GETEX', '', 'PERSIST'],
      ['GETDEL', ''],
    ]) {
      expect(h.run(...args), args.join(' ')).toBe(KEY_LENGTH);
    }
    expect(h.run('SET', 'k'.repeat(250), 'v')).toBe(OK);
    expect(h.run('MGET', 'a')).toBe('*1\r\n$-1\r\n');
  });

  it('SETNX, SETEX, PSETEX', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SETNX', 'k', 'v'], int(1)],
      [['SETNX', 'k', 'w'], int(0)],
      [['GET', 'k'], bulk('v')],
      [['SETNX', 'k'], arity('setnx')],
      [['SETEX', 'k', '10', 'v'], OK],
      [['TTL', 'k'], int(10)],
      [['SETEX', 'k', '0', 'v'], expireTime('setex')],
      [['SETEX', 'k', '-5', 'v'], expireTime('setex')],
      [['SETEX', 'k', 'x', 'v'], NOT_INT],
      [['SETEX', 'k', '9223372036854775807', 'v'], expireTime('setex')],
      [['PSETEX', 'k', '1500', 'w'], OK],
      [['PTTL', 'k'], int(1500)],
      [['GET', 'k'], bulk('w')],
      [['PSETEX', 'k', '0', 'v'], expireTime('psetex')],
      [['PSETEX', 'k', '9223372036854775807', 'v'], expireTime('psetex')],
    ]);
  });

  it('GETEX with EX PX EXAT PXAT PERSIST; the key is looked up before the time is checked', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['GETEX', 'zz'], NIL],
      [['GETEX', 'zz', 'foo'], SYNTAX],
      [['GETEX', 'zz', 'EX', '0'], NIL],
      [['GETEX', 'zz', 'EX', 'x'], NIL],
      [['SET', 'k', 'v'], OK],
      [['GETEX', 'k'], bulk('v')],
      [['GETEX', 'k', 'EX', '100'], bulk('v')],
      [['TTL', 'k'], int(100)],
      [['GETEX', 'k', 'PX', '1500'], bulk('v')],
      [['PTTL', 'k'], int(1500)],
      [['GETEX', 'k', 'EXAT', String(NOW / 1000 + 30)], bulk('v')],
      [['TTL', 'k'], int(30)],
      [['GETEX', 'k', 'PXAT', String(NOW + 700)], bulk('v')],
      [['PTTL', 'k'], int(700)],
      [['GETEX', 'k', 'PERSIST'], bulk('v')],
      [['TTL', 'k'], int(-1)],
      [['GETEX', 'k', 'EX', '0'], expireTime('getex')],
      [['GETEX', 'k', 'EX', 'x'], NOT_INT],
      [['GETEX', 'k', 'EX'], SYNTAX],
      [['GETEX', 'k', 'KEEPTTL'], SYNTAX],
      [['GETEX', 'k', 'PX', '5000', 'PERSIST'], SYNTAX],
      [['GETEX', 'k', 'PERSIST', 'PX', '5000'], SYNTAX],
      [['GETEX', 'k', 'NX'], SYNTAX],
      [['GETEX', 'k', 'EXAT', '1'], bulk('v')],
      [['EXISTS', 'k'], int(0)],
    ]);
  });

  it('GETDEL, MGET, MSET, MSETNX', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SET', 'k', 'v'], OK],
      [['GETDEL', 'k'], bulk('v')],
      [['GETDEL', 'k'], NIL],
      [['MSET', 'a', '1', 'b', '2'], OK],
      [['MGET', 'a', 'nope', 'b'], `*3\r\n${bulk('1')}${NIL}${bulk('2')}`],
      [['MSETNX', 'a', '9', 'c', '3'], int(0)],
      [['GET', 'c'], NIL],
      [['MSETNX', 'c', '3', 'd', '4'], int(1)],
      [['MGET', 'c', 'd'], `*2\r\n${bulk('3')}${bulk('4')}`],
      [['MSET', 'a', 'x', 'a', 'y'], OK],
      [['GET', 'a'], bulk('y')],
      // Found by the differential run against Redis: a key named twice takes its last value.
      [['MSETNX', 'e', '1', 'e', '2'], int(1)],
      [['GET', 'e'], bulk('2')],
    ]);
  });

  it('MGET refuses a reply past --max-output-buffer whole, keeping the replies queued before it', { timeout: 5000 }, () => {
    const h = make({ server: { maxOutputBuffer: 64 * 1024, maxOutputMemory: 128 * 1024 } });
    expect(h.run('SET', 'big', 'x'.repeat(10_000))).toBe(OK);
    h.out.simple('EARLIER');
    const keys = Array.from({ length: 7 }, () => 'big');
    expect(h.run('MGET', ...keys)).toBe(`+EARLIER\r\n${err(`ERR MGET reply would pass ${64 * 1024} bytes (--max-output-buffer)`)}`);
    expect(h.run('MGET', ...keys.slice(1))).toBe(`*6\r\n${bulk('x'.repeat(10_000)).repeat(6)}`);
  });

  it('APPEND and STRLEN; APPEND keeps the TTL and stops at --max-value-size', { timeout: 5000 }, () => {
    const h = make({ store: { maxMemory: 4 * 1024 * 1024 } }); // room for a value of --max-value-size (1 MiB here)
    rows(h, [
      [['APPEND', 's', 'abc'], int(3)],
      [['APPEND', 's', 'def'], int(6)],
      [['GET', 's'], bulk('abcdef')],
      [['STRLEN', 's'], int(6)],
      [['STRLEN', 'nope'], int(0)],
      [['APPEND', 'empty', ''], int(0)],
      [['EXISTS', 'empty'], int(1)],
      [['PEXPIRE', 's', '5000'], int(1)],
      [['APPEND', 's', 'g'], int(7)],
      [['PTTL', 's'], int(5000)],
      [['GET', 's'], bulk('abcdefg')],
    ]);
    const max = h.server.options.maxValueSize;
    expect(h.run('SET', 'big', 'a'.repeat(max - 2))).toBe(OK);
    expect(h.run('APPEND', 'big', 'bc')).toBe(int(max));
    expect(h.run('APPEND', 'big', 'd')).toBe(err('ERR string exceeds maximum allowed size (--max-value-size)'));
    expect(h.run('STRLEN', 'big')).toBe(int(max));
  });

  it('INCR, DECR, INCRBY, DECRBY with Redis texts for non-integers and overflow', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['INCR', 'n'], int(1)],
      [['INCR', 'n'], int(2)],
      [['DECR', 'n'], int(1)],
      [['INCRBY', 'n', '10'], int(11)],
      [['DECRBY', 'n', '5'], int(6)],
      [['DECRBY', 'n', '-4'], int(10)],
      [['INCRBY', 'n', 'x'], NOT_INT],
      [['INCRBY', 'n', '1.5'], NOT_INT],
      [['INCRBY', 'n', '+1'], NOT_INT],
      [['INCRBY', 'n', ' 1'], NOT_INT],
      [['INCRBY', 'n', '01'], NOT_INT],
      [['INCRBY', 'n', '-0'], NOT_INT],
      [['INCRBY', 'n', '9223372036854775808'], NOT_INT],
      [['DECRBY', 'n', '-9223372036854775808'], err('ERR decrement would overflow')],
      [['INCRBY', 'n', '9223372036854775807'], err('ERR increment or decrement would overflow')],
      [['SET', 'n', '9223372036854775807'], OK],
      [['INCR', 'n'], err('ERR increment or decrement would overflow')],
      [['SET', 'n', '-9223372036854775808'], OK],
      [['DECR', 'n'], err('ERR increment or decrement would overflow')],
      [['INCRBY', 'fresh', '-9223372036854775808'], int(-9223372036854775808n)],
      [['SET', 'n', '007'], OK],
      [['INCR', 'n'], NOT_INT],
      [['SET', 'n', 'abc'], OK],
      [['INCR', 'n'], NOT_INT],
      [['SET', 'n', '99999999999999999999'], OK],
      [['INCR', 'n'], NOT_INT],
      [['SETEX', 't', '100', '5'], OK],
      [['INCR', 't'], int(6)],
      [['TTL', 't'], int(100)],
    ]);
  });

  it('answers the store refusals: too large for --max-memory, and OOM with eviction none', { timeout: 5000 }, () => {
    const h = make({ store: { maxMemory: 64 * 1024, eviction: 'none' }, server: { maxMemory: 64 * 1024, eviction: 'none' } });
    const huge = 'x'.repeat(70 * 1024);
    rows(h, [
      [['SET', 'k', huge], err('ERR value too large for --max-memory')],
      [['MSET', 'a', '1', 'b', huge], err('ERR value too large for --max-memory')],
      [['EXISTS', 'a'], int(0)],
      [['MSETNX', 'a', '1', 'b', huge], err('ERR value too large for --max-memory')],
    ]);
    const value = 'v'.repeat(1000);
    let reply = '';
    for (let i = 0; i < 200 && reply !== err("OOM command not allowed when used memory > 'maxmemory'."); i++) reply = h.run('SET', `key${i}`, value);
    expect(reply).toBe(err("OOM command not allowed when used memory > 'maxmemory'."));
    expect(h.run('INCR', 'counter-that-does-not-fit')).toBe(err("OOM command not allowed when used memory > 'maxmemory'."));
    // MSETNX is all or nothing: a refused pair removes the ones it wrote.
    expect(h.run('DEL', 'key0', 'key1')).toBe(int(2));
    expect(h.run('MSETNX', 'n1', value, 'n2', value, 'n3', value, 'n4', value)).toBe(err("OOM command not allowed when used memory > 'maxmemory'."));
    expect(h.run('EXISTS', 'n1', 'n2', 'n3', 'n4')).toBe(int(0));
  });

  it('counts keyspace hits and misses for reads as Redis does', { timeout: 5000 }, () => {
    const h = make();
    h.run('SET', 'k', 'v');
    const before = h.store.stats();
    h.run('GET', 'k');
    h.run('GET', 'nope');
    h.run('MGET', 'k', 'nope');
    const after = h.store.stats();
    expect(after.keyspace_hits - before.keyspace_hits).toBe(2);
    expect(after.keyspace_misses - before.keyspace_misses).toBe(2);
  });
});

describe('keyspace', () => {
  it('DEL, UNLINK, EXISTS, TYPE, DBSIZE, FLUSHDB, FLUSHALL', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['MSET', 'a', '1', 'b', '2', 'c', '3'], OK],
      [['DEL', 'a', 'nope', 'a'], int(1)],
      [['UNLINK', 'b', 'nope'], int(1)],
      [['EXISTS', 'c', 'c', 'nope'], int(2)],
      [['TYPE', 'c'], '+string\r\n'],
      [['TYPE', 'nope'], '+none\r\n'],
      [['DBSIZE'], int(1)],
      [['DBSIZE', 'x'], arity('dbsize')],
      [['FLUSHDB', 'x'], SYNTAX],
      [['FLUSHDB', 'sync', 'x'], SYNTAX],
      [['FLUSHALL', 'async', 'x'], SYNTAX],
      [['DBSIZE'], int(1)],
      [['FLUSHDB', 'ASYNC'], OK],
      [['DBSIZE'], int(0)],
      [['SET', 'a', '1'], OK],
      [['FLUSHALL', 'sync'], OK],
      [['FLUSHALL'], OK],
      [['DBSIZE'], int(0)],
    ]);
  });

  it('KEYS matches Redis globs and sorts nothing out', { timeout: 5000 }, () => {
    const h = make();
    h.run('MSET', 'user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'other', 'd', 'h*llo', 'e', 'hallo', 'f');
    const keysOf = (reply: string): string[] =>
      reply
        .split('\r\n')
        .filter((_, i) => i > 0 && i % 2 === 0)
        .sort();
    expect(keysOf(h.run('KEYS', '*'))).toEqual(['h*llo', 'hallo', 'other', 'user:1', 'user:10', 'user:2']);
    expect(keysOf(h.run('KEYS', 'user:*'))).toEqual(['user:1', 'user:10', 'user:2']);
    expect(keysOf(h.run('KEYS', 'user:?'))).toEqual(['user:1', 'user:2']);
    expect(keysOf(h.run('KEYS', 'user:[^1]'))).toEqual(['user:2']);
    expect(keysOf(h.run('KEYS', 'h\\*llo'))).toEqual(['h*llo']);
    expect(keysOf(h.run('KEYS', 'h[a-b]llo'))).toEqual(['hallo']);
    expect(h.run('KEYS', 'other')).toBe(`*1\r\n${bulk('other')}`);
    expect(h.run('KEYS', 'zz*')).toBe('*0\r\n');
    // A pattern without glob characters is one key (no walk); one no key can be matches nothing.
    expect(h.run('KEYS', 'nope')).toBe('*0\r\n');
    expect(h.run('KEYS', '')).toBe('*0\r\n');
    expect(h.run('KEYS', 'k'.repeat(251))).toBe('*0\r\n');
    expect(h.run('KEYS', 'a', 'b')).toBe(arity('keys'));
  });

  it('KEYS refuses an answer past --max-output-buffer instead of a part of it', { timeout: 5000 }, () => {
    const h = make({ server: { maxOutputBuffer: 64 * 1024, maxOutputMemory: 128 * 1024 } });
    for (let i = 0; i < 400; i++) h.run('SET', `${'k'.repeat(200)}${i}`, 'v');
    expect(h.run('KEYS', '*')).toBe(err(`ERR KEYS reply would pass ${64 * 1024} bytes (--max-output-buffer): use SCAN`));
    expect(h.run('KEYS', 'nothing*')).toBe('*0\r\n');
  });

  it('SCAN walks every key once with MATCH, COUNT and TYPE; the cursor is a decimal u64', { timeout: 5000 }, () => {
    const h = make();
    const all = new Set<string>();
    for (let i = 0; i < 300; i++) {
      h.run('SET', `key:${i}`, 'v');
      all.add(`key:${i}`);
    }
    h.run('SET', 'other', 'v');
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const reply = h.run('SCAN', cursor, 'MATCH', 'key:*', 'COUNT', '50');
      const lines = reply.split('\r\n');
      expect(lines[0]).toBe('*2');
      cursor = lines[2] as string;
      expect(cursor).toMatch(/^[0-9]+$/);
      for (let i = 5; i < lines.length; i += 2) if (lines[i] !== undefined && lines[i] !== '') seen.add(lines[i] as string);
      calls++;
    } while (cursor !== '0' && calls < 10_000);
    expect(seen).toEqual(all);
    // TYPE: every key is a string; another type matches none.
    const page = h.run('SCAN', '0', 'TYPE', 'hash', 'COUNT', '1000');
    expect(page).toMatch(/^\*2\r\n\$\d+\r\n\d+\r\n\*0\r\n$/);
  });

  it('SCAN errors as Redis 7.0', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SCAN', 'x'], err('ERR invalid cursor')],
      [['SCAN', ' 1'], err('ERR invalid cursor')],
      [['SCAN', '-'], err('ERR invalid cursor')],
      [['SCAN', '18446744073709551616'], err('ERR invalid cursor')],
      [['SCAN', '0', 'COUNT', '0'], SYNTAX],
      [['SCAN', '0', 'COUNT'], SYNTAX],
      [['SCAN', '0', 'COUNT', 'x'], NOT_INT],
      [['SCAN', '0', 'foo', 'x'], SYNTAX],
      [['SCAN'], arity('scan')],
    ]);
    expect(h.run('SCAN', '')).toBe(`*2\r\n${bulk('0')}*0\r\n`);
    expect(h.run('SCAN', '0')).toBe(`*2\r\n${bulk('0')}*0\r\n`);
  });
});

describe('expiry', () => {
  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT set TTLs; a time not in the future deletes', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['EXPIRE', 'nope', '10'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['EXPIRE', 'k', '10'], int(1)],
      [['TTL', 'k'], int(10)],
      [['PEXPIRE', 'k', '2500'], int(1)],
      [['PTTL', 'k'], int(2500)],
      [['TTL', 'k'], int(3)],
      [['EXPIREAT', 'k', String(NOW / 1000 + 40)], int(1)],
      [['TTL', 'k'], int(40)],
      [['PEXPIREAT', 'k', String(NOW + 999)], int(1)],
      [['PTTL', 'k'], int(999)],
      [['TTL', 'k'], int(1)],
      [['EXPIRE', 'k', '0'], int(1)],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['EXPIRE', 'k', '-5'], int(1)],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['PEXPIREAT', 'k', '1'], int(1)],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['EXPIREAT', 'k', String(NOW / 1000)], int(1)],
      [['EXISTS', 'k'], int(0)],
    ]);
  });

  it('EXPIRE options NX XX GT LT and errors as Redis 7.0', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['SET', 'k', 'v'], OK],
      [['EXPIRE', 'k', '10', 'nx', 'xx'], err('ERR NX and XX, GT or LT options at the same time are not compatible')],
      [['EXPIRE', 'k', '10', 'gt', 'lt'], err('ERR GT and LT options at the same time are not compatible')],
      [['EXPIRE', 'k', '10', 'foo'], err('ERR Unsupported option foo')],
      [['EXPIRE', 'nope', '1', 'foo'], err('ERR Unsupported option foo')],
      [['EXPIRE', 'nope', 'x'], NOT_INT],
      [['EXPIRE', 'k', '99999999999999999'], expireTime('expire')],
      [['EXPIRE', 'k', '-99999999999999999'], expireTime('expire')],
      [['EXPIRE', 'k', '9223372036854775'], expireTime('expire')],
      [['PEXPIRE', 'k', '9223372036854775807'], expireTime('pexpire')],
      [['EXPIREAT', 'k', '99999999999999999'], expireTime('expireat')],
      [['EXPIRE', 'k', '10', 'xx'], int(0)],
      [['EXPIRE', 'k', '10', 'gt'], int(0)],
      [['EXPIRE', 'k', '10', 'lt'], int(1)],
      [['TTL', 'k'], int(10)],
      [['EXPIRE', 'k', '100', 'nx'], int(0)],
      [['EXPIRE', 'k', '100', 'xx'], int(1)],
      [['EXPIRE', 'k', '50', 'gt'], int(0)],
      [['EXPIRE', 'k', '500', 'GT'], int(1)],
      [['TTL', 'k'], int(500)],
      [['EXPIRE', 'k', '1000', 'lt'], int(0)],
      [['EXPIRE', 'k', '50', 'LT'], int(1)],
      [['TTL', 'k'], int(50)],
      [['EXPIRE', 'k', '50', 'xx', 'gt'], int(0)],
      [['EXPIRE', 'k', '0', 'gt'], int(0)],
      [['EXISTS', 'k'], int(1)],
      [['EXPIRE', 'k', '0', 'lt'], int(1)],
      [['EXISTS', 'k'], int(0)],
      [['SET', 'k', 'v'], OK],
      [['EXPIRE', 'k', '10', 'nx', 'nx'], int(1)],
      [['EXPIRE', 'k'], arity('expire')],
    ]);
  });

  it('TTL rounds as Redis ((ms + 500) / 1000), PTTL in ms, -1 without expiry, -2 absent; a fake clock expires keys', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['TTL', 'nope'], int(-2)],
      [['PTTL', 'nope'], int(-2)],
      [['EXPIRETIME', 'nope'], int(-2)],
      [['PEXPIRETIME', 'nope'], int(-2)],
      [['SET', 'k', 'v'], OK],
      [['TTL', 'k'], int(-1)],
      [['PTTL', 'k'], int(-1)],
      [['EXPIRETIME', 'k'], int(-1)],
      [['PEXPIRETIME', 'k'], int(-1)],
      [['PEXPIRE', 'k', '1499'], int(1)],
      [['TTL', 'k'], int(1)],
      [['PEXPIRE', 'k', '1500'], int(1)],
      [['TTL', 'k'], int(2)],
      [['PEXPIRE', 'k', '499'], int(1)],
      [['TTL', 'k'], int(0)],
    ]);
    h.clock.advance(498);
    expect(h.run('PTTL', 'k')).toBe(int(1));
    h.clock.advance(1);
    expect(h.run('PTTL', 'k')).toBe(int(-2));
    expect(h.run('GET', 'k')).toBe(NIL);
  });

  it('PERSIST removes an expiry', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['PERSIST', 'nope'], int(0)],
      [['SET', 'k', 'v', 'EX', '10'], OK],
      [['PERSIST', 'k'], int(1)],
      [['PERSIST', 'k'], int(0)],
      [['TTL', 'k'], int(-1)],
      [['PERSIST'], arity('persist')],
    ]);
  });
});

describe('connection commands', () => {
  it('PING, ECHO, SELECT', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['PING'], '+PONG\r\n'],
      [['ping', 'hi'], bulk('hi')],
      [['ECHO', 'hello'], bulk('hello')],
      [['ECHO'], arity('echo')],
      [['ECHO', 'a', 'b'], arity('echo')],
      [['SELECT', '0'], OK],
      [['SELECT', '1'], err('ERR DB index is out of range')],
      [['SELECT', '-1'], err('ERR DB index is out of range')],
      [['SELECT', 'x'], NOT_INT],
      [['SELECT', '99999999999'], err('ERR value is out of range, value must between -2147483648 and 2147483647')],
    ]);
  });

  it('CLIENT SETNAME, GETNAME, ID, SETINFO, HELP', { timeout: 5000 }, () => {
    const h = make();
    rows(h, [
      [['CLIENT', 'GETNAME'], NIL],
      [['CLIENT', 'SETNAME', 'a b'], err('ERR Client names cannot contain spaces, newlines or special characters.')],
      [['CLIENT', 'SETNAME', 'caf\u00e9'], err('ERR Client names cannot contain spaces, newlines or special characters.')],
      [['client', 'setname', 'worker-1'], OK],
      [['CLIENT', 'GETNAME'], bulk('worker-1')],
      [['CLIENT', 'SETNAME', ''], OK],
      [['CLIENT', 'GETNAME'], NIL],
      [['CLIENT', 'ID'], int(7)],
      [['CLIENT', 'SETINFO', 'LIB-NAME', 'redis-py'], OK],
      [['CLIENT', 'SETINFO', 'lib-ver', '5.0.1'], OK],
      [['CLIENT', 'SETINFO', 'foo', 'x'], err("ERR Unrecognized option 'foo'")],
      [['CLIENT', 'SETINFO', 'lib-name', 'a b'], err('ERR lib-name cannot contain spaces, newlines or special characters.')],
      [['CLIENT', 'SETINFO', 'lib-name'], arity('client|setinfo')],
    ]);
    expect(h.session.libName).toBe('redis-py');
    expect(h.session.libVersion).toBe('5.0.1');
    const help = h.run('CLIENT', 'HELP');
    expect(help.startsWith('*13\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n')).toBe(true);
    expect(help.endsWith('+HELP\r\n+    Prints this help.\r\n')).toBe(true);
  });

  it('refuses a client name, LIB-NAME or LIB-VER over 512 bytes (a connection cannot hold megabytes in them)', { timeout: 5000 }, () => {
    const h = make();
    const ok = 'n'.repeat(512);
    const long = 'n'.repeat(513);
    rows(h, [
      [['CLIENT', 'SETNAME', long], err('ERR Client name is longer than 512 bytes')],
      [['CLIENT', 'SETNAME', 'x'.repeat(1 << 20)], err('ERR Client name is longer than 512 bytes')],
      [['CLIENT', 'GETNAME'], NIL],
      [['CLIENT', 'SETNAME', ok], OK],
      [['CLIENT', 'GETNAME'], bulk(ok)],
      [['CLIENT', 'SETINFO', 'LIB-NAME', long], err('ERR LIB-NAME is longer than 512 bytes')],
      [['CLIENT', 'SETINFO', 'lib-ver', long], err('ERR lib-ver is longer than 512 bytes')],
      [['HELLO', '2', 'SETNAME', long], err('ERR Client name is longer than 512 bytes')],
      [['CLIENT', 'GETNAME'], bulk(ok)],
    ]);
    expect(h.session.libName).toBeUndefined();
    expect(h.session.libVersion).toBeUndefined();
    rows(h, [[['CLIENT', 'SETINFO', 'LIB-VER', ok], OK]]);
    expect(h.session.libVersion).toBe(ok);
  });
});

describe('INFO and CONFIG', () => {
  it('INFO has Redis field names, conduit_version, and the sections asked for', { timeout: 5000 }, () => {
    const h = make();
    h.run('MSET', 'a', '1', 'b', '2');
    h.run('GET', 'a');
    const all = h.run('INFO');
    const text = all.slice(all.indexOf('\r\n') + 2, -2);
    expect(all.startsWith(`$${Buffer.byteLength(text)}\r\n`)).toBe(true);
    expect(text.split('\r\n\r\n').map((s) => s.split('\r\n')[0])).toEqual(['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# Keyspace']);
    expect(text).toContain('\r\nredis_version:7.0.0\r\n');
    expect(text).toMatch(/\r\nconduit_version:\d+\.\d+\.\d+/);
    expect(text).toContain('\r\ntcp_port:6380\r\n');
    expect(text).toContain('\r\nuptime_in_seconds:5\r\n');
    expect(text).toContain('\r\nconnected_clients:1\r\n');
    expect(text).toContain('\r\nmaxclients:10000\r\n');
    expect(text).toContain(`\r\nmaxmemory:${1024 * 1024}\r\n`);
    expect(text).toContain('\r\nmaxmemory_human:1.00M\r\n');
    expect(text).toContain('\r\nmaxmemory_policy:allkeys-lru\r\n');
    expect(text).toContain('\r\ntotal_commands_processed:42\r\n');
    expect(text).toContain('\r\nkeyspace_hits:1\r\n');
    expect(text).toContain('\r\ndb0:keys=2');
    expect(text).toContain('\r\n# Persistence\r\nloading:0\r\n');
    expect(text).toContain('\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n');
    expect(text.endsWith('db0:keys=2\r\n')).toBe(true);
    expect(h.run('INFO', 'default')).toMatch(/^\$\d+\r\n# Server\r\n/);
    expect(h.run('INFO', 'keyspace')).toBe(bulk('# Keyspace\r\ndb0:keys=2\r\n'));
    expect(h.run('INFO', 'KEYSPACE', 'keyspace', 'nope')).toBe(bulk('# Keyspace\r\ndb0:keys=2\r\n'));
    expect(h.run('INFO', 'nope')).toBe(bulk(''));
    const two = h.run('INFO', 'stats', 'clients');
    expect(two).toMatch(/^\$\d+\r\n# Clients\r\n[^#]*\r\n\r\n# Stats\r\n/);
    h.run('FLUSHALL');
    expect(h.run('INFO', 'keyspace')).toBe(bulk('# Keyspace\r\n'));
  });

  it('INFO is a verbatim string in RESP3', { timeout: 5000 }, () => {
    const h = make({ protocol: 3 });
    expect(h.run('INFO', 'keyspace')).toBe('=16\r\ntxt:# Keyspace\r\n\r\n');
  });

  it('CONFIG GET answers globs from the options, a map in RESP3; the rest is refused', { timeout: 5000 }, () => {
    const h = make({ server: { eviction: 'none' } });
    rows(h, [
      [['CONFIG', 'GET', 'maxmemory'], `*2\r\n${bulk('maxmemory')}${bulk(String(1024 * 1024))}`],
      [['CONFIG', 'GET', 'MAXMEMORY-*'], `*2\r\n${bulk('maxmemory-policy')}${bulk('noeviction')}`],
      [['CONFIG', 'GET', 'save', 'appendonly', 'sav?'], `*4\r\n${bulk('save')}${bulk('')}${bulk('appendonly')}${bulk('no')}`],
      [['CONFIG', 'GET', 'databases'], `*2\r\n${bulk('databases')}${bulk('1')}`],
      [['CONFIG', 'GET', 'nope'], '*0\r\n'],
      [['CONFIG', 'GET'], arity('config|get')],
      [['CONFIG', 'SET', 'maxmemory', '1'], err('ERR CONFIG SET is not supported by Conduit: it is configured by its command-line options')],
      [['CONFIG', 'RESETSTAT'], err('ERR CONFIG RESETSTAT is not supported by Conduit: it is configured by its command-line options')],
      [['CONFIG', 'REWRITE'], err('ERR CONFIG REWRITE is not supported by Conduit: it is configured by its command-line options')],
    ]);
    expect(h.run('CONFIG', 'GET', '*').startsWith('*18\r\n')).toBe(true);
    const h3 = make({ protocol: 3 });
    expect(h3.run('CONFIG', 'GET', 'maxmemory-policy')).toBe(`%1\r\n${bulk('maxmemory-policy')}${bulk('allkeys-lru')}`);
  });
});

describe('COMMAND', () => {
  it('COUNT, LIST, INFO and DOCS from the table, in Redis 7.0 shapes', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('COMMAND', 'COUNT')).toBe(int(COMMAND_TABLE.length));
    expect(h.run('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'get*')).toBe(`*3\r\n${bulk('get')}${bulk('getex')}${bulk('getdel')}`);
    expect(h.run('COMMAND', 'LIST', 'foo')).toBe(SYNTAX);
    expect(h.run('COMMAND', 'LIST', 'FILTERBY', 'module', 'x')).toBe('*0\r\n');
    expect(h.run('COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'keyspace')).toContain(bulk('del'));
    // Redis 7.0.15's own bytes for COMMAND INFO GET (and a null for an unknown name).
    expect(h.run('COMMAND', 'INFO', 'GET', 'nope')).toBe(
      '*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n$-1\r\n',
    );
    expect(h.run('COMMAND', 'DOCS', 'nope', 'ping')).toBe(
      '*2\r\n$4\r\nping\r\n*10\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n*1\r\n+optional\r\n',
    );
    expect(h.run('COMMAND').startsWith(`*${COMMAND_TABLE.length}\r\n*10\r\n$3\r\nget\r\n`)).toBe(true);
    expect(h.run('COMMAND', 'INFO').startsWith(`*${COMMAND_TABLE.length}\r\n`)).toBe(true);
    expect(h.run('COMMAND', 'HELP').startsWith('*17\r\n+COMMAND <subcommand>')).toBe(true);
  });

  it('COMMAND INFO and DOCS refuse a reply past --max-output-buffer whole', { timeout: 5000 }, () => {
    const h = make({ server: { maxOutputBuffer: 64 * 1024, maxOutputMemory: 128 * 1024 } });
    const many = Array.from({ length: 2000 }, () => 'set');
    expect(h.run('COMMAND', 'INFO', ...many)).toBe(err(`ERR COMMAND reply would pass ${64 * 1024} bytes (--max-output-buffer)`));
    expect(h.run('COMMAND', 'DOCS', ...many)).toBe(err(`ERR COMMAND reply would pass ${64 * 1024} bytes (--max-output-buffer)`));
    expect(h.run('COMMAND', 'INFO', 'get').startsWith('*1\r\n*10\r\n')).toBe(true);
  });

  it('RESP3 shapes: sets, maps, and SET key spec and history as Redis 7.0.15 writes them', { timeout: 5000 }, () => {
    const h = make({ protocol: 3 });
    expect(h.run('COMMAND', 'INFO', 'set')).toBe(
      '*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n~2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@write\r\n+@string\r\n+@slow\r\n~0\r\n~1\r\n%4\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n~4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n',
    );
    const docs = h.run('COMMAND', 'DOCS', 'set');
    expect(docs.startsWith('%1\r\n$3\r\nset\r\n%6\r\n$7\r\nsummary\r\n$29\r\nSet the string value of a key\r\n')).toBe(true);
    expect(docs).toContain('$7\r\nhistory\r\n~4\r\n*2\r\n$6\r\n2.6.12\r\n');
    expect(docs).toContain('$5\r\nflags\r\n~1\r\n+optional\r\n');
    expect(h.run('COMMAND', 'DOCS', 'client')).toContain('$11\r\nsubcommands\r\n%5\r\n$14\r\nclient|setname\r\n');
  });
});

describe('robustness', () => {
  it('a failing command answers an error and logs, and the next one runs', { timeout: 5000 }, () => {
    const h = make();
    const spy = vi.spyOn(h.store, 'getView').mockImplementation(() => {
      throw new Error('boom');
    });
    expect(h.run('GET', 'k')).toBe(err("ERR internal error in 'get' command"));
    expect(h.server.logged).toHaveLength(1);
    spy.mockRestore();
    expect(h.run('GET', 'k')).toBe(NIL);
  });

  it('an empty command does nothing', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run()).toBe('');
    expect(h.after).toBeUndefined();
  });
});

describe('RespWriter.truncate (added for MGET)', () => {
  it('drops only what came after the mark, and ignores marks outside what is queued', () => {
    const out = new RespWriter();
    out.simple('OK');
    const mark = out.length;
    out.array(2);
    out.bulk('x'.repeat(100_000)); // grows the buffer past its first 16 KiB
    out.truncate(mark);
    out.truncate(-1);
    out.truncate(1e9);
    out.truncate(1.5);
    out.integer(1);
    expect(out.take().toString()).toBe('+OK\r\n:1\r\n');
  });
});
