// The RESP request parser (docs/RESP.md): every case fed whole, byte by byte and split at
// every offset; Redis 7.0's texts and edge cases (networking.c, sds.c's sdssplitargs).
import { describe, expect, it } from 'vitest';
import { ConduitError } from '../../src/index.js';
import { RespParser, RespProtocolError, respLimits, splitInline, type RespLimits } from '../../src/protocol/resp-parser.js';
import { chunkings, type Chunking } from '../support/chunking.js';
import { DEFAULT_LIMITS, encodeInline, encodeResp, parseChunks, type Parsed } from '../support/resp.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

interface Shown {
  commands: { args: string[]; inline: boolean; bytes: number }[];
  error: string | undefined;
  midCommand: boolean;
}

const show = (parsed: Parsed): Shown => ({
  commands: parsed.commands.map((c) => ({ args: c.args.map((a) => a.toString('latin1')), inline: c.inline, bytes: c.bytes })),
  error: parsed.error,
  midCommand: parsed.midCommand,
});

/** Whole, byte by byte and every split for small inputs; for large ones byte by byte and a spread of splits. */
function cuts(input: Buffer): Chunking[] {
  if (input.length <= 2000) return chunkings(input).slice(1);
  const out: Chunking[] = [{ name: 'byte by byte', chunks: [...input].map((x) => Buffer.from([x])) }];
  const step = Math.max(1, Math.floor(input.length / 97));
  for (let at = 1; at < input.length; at += at < 64 || input.length - at < 64 ? 1 : step) {
    out.push({ name: `split at ${at}`, chunks: [input.subarray(0, at), input.subarray(at)] });
  }
  return out;
}

/** Parses `input` every way; asserts they all agree and returns what they gave. */
function parseEveryWay(input: Buffer, limits: RespLimits = DEFAULT_LIMITS): Shown {
  const whole = show(parseChunks([input], limits));
  for (const { name, chunks } of cuts(input)) expect(show(parseChunks(chunks, limits)), name).toEqual(whole);
  return whole;
}

const argsOf = (shown: Shown): string[][] => shown.commands.map((c) => c.args);

describe('respLimits', () => {
  it('derives the bounds from --max-value-size', () => {
    expect(respLimits(1024 * 1024)).toEqual({ maxArgs: 1_048_576, maxBulkLength: 1_048_576, maxInlineLength: 65_536, maxCommandBytes: 3 * 1024 * 1024 });
    expect(respLimits(64 * 1024 * 1024).maxCommandBytes).toBe(129 * 1024 * 1024);
  });

  it('refuses limits that are not positive integers, naming the limit', () => {
    expect(() => new RespParser({ ...DEFAULT_LIMITS, maxArgs: 0 })).toThrow(/maxArgs limit must be a positive integer, got 0/);
    expect(() => new RespParser({ ...DEFAULT_LIMITS, maxCommandBytes: 1.5 })).toThrow(/maxCommandBytes/);
  });
});

describe('RESP arrays of bulk strings', () => {
  const cases: [string, Buffer, string[][]][] = [
    ['PING', b('*1\r\n$4\r\nPING\r\n'), [['PING']]],
    ['a pipeline', Buffer.concat([encodeResp(['SET', 'k', 'v']), encodeResp(['GET', 'k']), encodeResp(['DEL', 'k', 'x'])]), [['SET', 'k', 'v'], ['GET', 'k'], ['DEL', 'k', 'x']]],
    ['binary values holding CRLF, * and $', encodeResp(['SET', 'k', '\r\n*1\r\n$4\r\n\0\xff']), [['SET', 'k', '\r\n*1\r\n$4\r\n\0\xff']]],
    ['an empty bulk string', b('*2\r\n$4\r\nECHO\r\n$0\r\n\r\n'), [['ECHO', '']]],
    ['*0, *-1 and *-10 are skipped (Redis ignores them)', b('*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n'), [['PING']]],
    ['*-9223372036854775808 is skipped too', b('*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n'), [['PING']]],
    // Redis reads no byte after a length's CR and none of the two after a bulk: neither do we.
    ['the bytes Redis skips unread are not checked', b('*1\rx$4\ryPINGzz*1\r\n$4\r\nPING\r\n'), [['PING'], ['PING']]],
    ['a length of 0 as "0"', b('*1\r\n$0\r\n\r\n'), [['']]],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: fed whole, byte by byte and split at every offset`, () => {
      const shown = parseEveryWay(input);
      expect(argsOf(shown)).toEqual(expected);
      expect(shown.error).toBeUndefined();
      expect(shown.midCommand).toBe(false);
      expect(shown.commands.every((c) => !c.inline)).toBe(true);
    });
  }

  it('counts the wire bytes of each command, skipped arrays not included', () => {
    const shown = parseEveryWay(b('*0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'));
    expect(shown.commands.map((c) => c.bytes)).toEqual([14, 20]);
  });

  it('a value that spans many chunks arrives whole (100 KiB, sampled splits)', () => {
    const value = Buffer.alloc(100 * 1024, 0x61);
    value.write('\r\n*3\r\n', 500, 'latin1');
    const shown = parseEveryWay(Buffer.concat([encodeResp([b('SET'), b('big'), value]), encodeResp(['GET', 'big'])]));
    expect(shown.commands.map((c) => c.args.map((a) => a.length))).toEqual([[3, 3, value.length], [3, 3]]);
    expect(shown.commands[0]?.args[2]).toBe(value.toString('latin1'));
  });

  it('an argument inside one chunk is a view of it; one that spans chunks is one buffer of its own', () => {
    const input = encodeResp(['SET', 'key', 'value']);
    const parser = new RespParser(DEFAULT_LIMITS);
    parser.push(input);
    const whole = parser.take() as { args: Buffer[] };
    expect(whole.args[2]?.buffer).toBe(input.buffer);
    const cut = input.indexOf('value') + 2;
    parser.push(input.subarray(0, cut));
    expect(parser.take()).toBeUndefined();
    expect(parser.pendingBytes).toBe(cut + 3); // the spanning bulk's buffer is counted at its full length
    parser.push(input.subarray(cut));
    const spanned = parser.take() as { args: Buffer[] };
    expect(spanned.args.map(String)).toEqual(['SET', 'key', 'value']);
    input.fill(0); // the spanning argument is a copy, not a view of the chunks
    expect(spanned.args.map(String)).toEqual(['\0\0\0', '\0\0\0', 'value']);
    expect(parser.pendingBytes).toBe(0);
  });

  it('reports midCommand and pendingBytes while a command is gathered', () => {
    const parser = new RespParser(DEFAULT_LIMITS);
    expect(parser.midCommand).toBe(false);
    parser.push(b('*2\r\n$3\r\nGET\r\n$1\r'));
    expect(parser.buffered).toBe(16);
    expect(parser.take()).toBeUndefined();
    expect([parser.midCommand, parser.buffered, parser.pendingBytes]).toEqual([true, 0, 16]);
    parser.push(b('\nk\r\n'));
    expect((parser.take() as { args: Buffer[] }).args.map(String)).toEqual(['GET', 'k']);
    expect([parser.midCommand, parser.pendingBytes]).toEqual([false, 0]);
  });
});

describe('inline commands (sdssplitargs)', () => {
  const cases: [string, string, string[][]][] = [
    ['PING with CRLF', 'PING\r\n', [['PING']]],
    ['a lone LF ends a line', 'SET a b\nGET a\n', [['SET', 'a', 'b'], ['GET', 'a']]],
    ['blanks around and between', '  GET \t  "a b"   \r\n', [['GET', 'a b']]],
    ['empty lines are skipped', '\r\n\n \t\r\nPING\r\n', [['PING']]],
    ['double-quote escapes', 'ECHO "\\x41\\x4g\\n\\r\\t\\b\\a\\q\\\\\\""\r\n', [['ECHO', 'Ax4g\n\r\t\b\x07q\\"']]],
    ['\\xHH takes either case', 'ECHO "\\xAB\\xcd"\r\n', [['ECHO', '\xab\xcd']]],
    ['single quotes keep backslashes but for \\\'', "ECHO 'it\\'s \\n'\r\n", [['ECHO', "it's \\n"]]],
    ['a quote opens inside a bare word', 'ECHO a"b c" x\'y\'\r\n', [['ECHO', 'ab c', 'xy']]],
    ['empty quoted arguments', 'ECHO "" \'\'\r\n', [['ECHO', '', '']]],
    ['a CR inside the line separates', 'ECHO a\rb\r\n', [['ECHO', 'a', 'b']]],
    ['vertical tab: a blank between words, part of a bare word', 'ECHO \vx\vy "z"\v\r\n', [['ECHO', 'x\vy', 'z']]],
    ['mixed with RESP', 'PING\r\n*1\r\n$4\r\nPING\r\nECHO x\n', [['PING'], ['PING'], ['ECHO', 'x']]],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: fed whole, byte by byte and split at every offset`, () => {
      const shown = parseEveryWay(b(input));
      expect(argsOf(shown)).toEqual(expected);
      expect(shown.error).toBeUndefined();
      expect(shown.midCommand).toBe(false);
    });
  }

  it('marks inline commands and counts their bytes with the LF', () => {
    const shown = parseEveryWay(b('\r\nPING\r\nGET a\n'));
    expect(shown.commands.map((c) => [c.inline, c.bytes])).toEqual([[true, 6], [true, 6]]);
  });

  it('a line ended by CR alone is not ended: it waits', () => {
    const shown = parseEveryWay(b('PING\r'));
    expect(shown).toEqual({ commands: [], error: undefined, midCommand: true });
  });

  const unbalanced = ['ECHO "abc\r\n', "ECHO 'abc\r\n", 'ECHO "a"b\r\n', "ECHO 'a'b\r\n", 'ECHO "a\\"\r\n'];
  for (const input of unbalanced) {
    it(`${JSON.stringify(input)}: Protocol error: unbalanced quotes in request`, () => {
      expect(parseEveryWay(b(`PING\r\n${input}PING\r\n`))).toEqual({
        commands: [{ args: ['PING'], inline: true, bytes: 6 }],
        error: 'Protocol error: unbalanced quotes in request',
        midCommand: false,
      });
    });
  }

  // Redis reads an inline line as a C string and runs what is before a NUL: `SET k v\0 EX 10` would store
  // without its expiry. Conduit refuses the line instead (docs/RESP.md, Differences).
  const withNul = ['SET nulk v\0 EX 10\r\n', 'ECHO x\0 y "\r\n', '\0\r\n', 'PING\0\n', 'ECHO "a\0"\r\n', '\0'.repeat(3) + 'GET k\r\n'];
  for (const input of withNul) {
    it(`${JSON.stringify(input)}: Protocol error: NUL byte in inline request (whole, byte by byte, split)`, () => {
      expect(parseEveryWay(b(`PING\r\n${input}PING\r\n`))).toEqual({
        commands: [{ args: ['PING'], inline: true, bytes: 6 }],
        error: 'Protocol error: NUL byte in inline request',
        midCommand: false,
      });
    });
  }

  it('a NUL inside a RESP bulk is data, not an error', () => {
    const shown = parseEveryWay(encodeResp(['SET', 'nulk', 'v\0', 'EX', '10']));
    expect(shown.error).toBeUndefined();
    expect(argsOf(shown)).toEqual([['SET', 'nulk', 'v\0', 'EX', '10']]);
  });

  it('splitInline hands out views of one buffer', () => {
    const args = splitInline(b('SET "k" v')) as Buffer[];
    expect(args.map(String)).toEqual(['SET', 'k', 'v']);
    expect(new Set(args.map((a) => a.buffer)).size).toBe(1);
    expect(splitInline(b('   '))).toEqual([]);
  });

  describe('the inline size limit (65,536 bytes before the line end)', () => {
    const line = (n: number): Buffer => {
      const text = Buffer.alloc(n, 0x78);
      text.write('ECHO ', 0, 'latin1');
      return text;
    };
    for (const end of ['\r\n', '\n']) {
      it(`65,536 bytes then ${JSON.stringify(end)} is one command; byte by byte too`, { timeout: 60_000 }, () => {
        const shown = parseEveryWay(Buffer.concat([line(65_536), b(end), b('PING\r\n')]));
        expect(shown.error).toBeUndefined();
        expect(shown.commands.map((c) => [c.args.length, c.args[1]?.length, c.bytes])).toEqual([
          [2, 65_531, 65_536 + end.length],
          [1, undefined, 6],
        ]);
      });
      it(`65,537 bytes then ${JSON.stringify(end)}: Protocol error: too big inline request`, { timeout: 60_000 }, () => {
        const shown = parseEveryWay(Buffer.concat([b('PING\r\n'), line(65_537), b(end)]));
        expect(shown.error).toBe('Protocol error: too big inline request');
        expect(argsOf(shown)).toEqual([['PING']]);
      });
    }

    it('fails as soon as 65,537 bytes hold no LF, before any more is kept', () => {
      const parser = new RespParser(DEFAULT_LIMITS);
      parser.push(line(65_536));
      expect(parser.take()).toBeUndefined();
      parser.push(b('\r')); // may still be the CR of a CRLF
      expect(parser.take()).toBeUndefined();
      parser.push(b('x'));
      expect((parser.take() as RespProtocolError).message).toBe('Protocol error: too big inline request');
      const whole = new RespParser(DEFAULT_LIMITS);
      whole.push(Buffer.alloc(10 * 1024 * 1024, 0x61));
      expect((whole.take() as RespProtocolError).message).toBe('Protocol error: too big inline request');
    });
  });
});

describe('malformed requests: one RespProtocolError with Redis 7.0\'s text', () => {
  const big = DEFAULT_LIMITS.maxBulkLength;
  const cases: [string, string, string][] = [
    ['a non-number array length', '*abc\r\n', 'Protocol error: invalid multibulk length'],
    ['*1048577 (over maxArgs)', '*1048577\r\n', 'Protocol error: invalid multibulk length'],
    ['*9223372036854775807', '*9223372036854775807\r\n', 'Protocol error: invalid multibulk length'],
    ['*-9223372036854775809 (out of i64)', '*-9223372036854775809\r\n', 'Protocol error: invalid multibulk length'],
    ['a leading zero', '*01\r\n', 'Protocol error: invalid multibulk length'],
    ['-0', '*-0\r\n', 'Protocol error: invalid multibulk length'],
    ['a plus sign', '*+1\r\n', 'Protocol error: invalid multibulk length'],
    ['a space', '*1 \r\n', 'Protocol error: invalid multibulk length'],
    ['an empty length', '*\r\n', 'Protocol error: invalid multibulk length'],
    ['an LF-only array header reads up to the next CR', '*1\n$4\nPING\r\n', 'Protocol error: invalid multibulk length'],
    ['21 digits', `*${'1'.repeat(21)}\r\n`, 'Protocol error: invalid multibulk length'],
    ['$-1 inside a request', '*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['a bulk length with a leading zero', '*1\r\n$01\r\n', 'Protocol error: invalid bulk length'],
    ['a bulk over maxBulkLength', `*1\r\n$${big + 1}\r\n`, 'Protocol error: invalid bulk length'],
    ['$2000000000, refused before any body byte', '*1\r\n$2000000000\r\n', 'Protocol error: invalid bulk length'],
    ['something else than $', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', "Protocol error: expected '$', got 'f'"],
    ['a CR where $ goes (Redis writes it as a space)', '*1\r\n\r\n', "Protocol error: expected '$', got ' '"],
    ['an LF where $ goes', '*1\r\n\n', "Protocol error: expected '$', got ' '"],
  ];
  for (const [name, input, message] of cases) {
    it(`${name}: ${message}`, () => {
      const shown = parseEveryWay(b(`PING\r\n*1\r\n$4\r\nPING\r\n${input}PING\r\n`));
      expect(shown).toEqual({
        commands: [
          { args: ['PING'], inline: true, bytes: 6 },
          { args: ['PING'], inline: false, bytes: 14 },
        ],
        error: message,
        midCommand: false,
      });
    });
  }

  it('the error is a ConduitError with code PROTOCOL_ERROR; the parser is dead after it', () => {
    const parser = new RespParser(DEFAULT_LIMITS);
    parser.push(b('*1\r\n$x\r\n'));
    const error = parser.take();
    expect(error).toBeInstanceOf(RespProtocolError);
    expect(error).toBeInstanceOf(ConduitError);
    expect((error as RespProtocolError).code).toBe('PROTOCOL_ERROR');
    expect((error as RespProtocolError).name).toBe('RespProtocolError');
    parser.push(b('PING\r\n'));
    expect(parser.take()).toBeUndefined();
    expect([parser.buffered, parser.midCommand, parser.pendingBytes]).toEqual([0, false, 0]);
  });

  it('a length line of 65,536 bytes with no CR: too big mbulk / bulk count string; 65,535 waits', () => {
    const digits = (n: number): string => '1'.repeat(n);
    expect(parseEveryWay(b(`*${digits(65_535)}`))).toEqual({ commands: [], error: undefined, midCommand: true });
    expect(parseEveryWay(b(`*${digits(65_536)}`)).error).toBe('Protocol error: too big mbulk count string');
    expect(parseEveryWay(b(`*1\r\n$${digits(65_535)}`)).midCommand).toBe(true);
    expect(parseEveryWay(b(`*1\r\n$${digits(65_536)}`)).error).toBe('Protocol error: too big bulk count string');
    // Once its CR comes, a long line is simply not a number.
    expect(parseEveryWay(b(`*1\r\n$${digits(65_535)}\r\n`)).error).toBe('Protocol error: invalid bulk length');
  });

  // Regression (just fuzz, test/fuzz/counterexamples/resp-parser-any-bytes-…-573467125.json): a line past
  // the bound with its CR in the same chunk was `invalid multibulk length` whole but `too big mbulk count
  // string` byte by byte. The bound now holds whether or not the CR has arrived (Redis's answer depends on its reads).
  it('a length line past the bound is too big even when its CR is in the same chunk', () => {
    const tight: RespLimits = { maxArgs: 3, maxBulkLength: 16, maxInlineLength: 32, maxCommandBytes: 64 };
    expect(parseEveryWay(b(`*${'9'.repeat(32)}\r\n`), tight).error).toBe('Protocol error: too big mbulk count string');
    expect(parseEveryWay(b(`*${'9'.repeat(31)}\r\n`), tight).error).toBe('Protocol error: invalid multibulk length');
    expect(parseEveryWay(b(`*1\r\n$${'9'.repeat(32)}\r\n`), tight).error).toBe('Protocol error: too big bulk count string');
    expect(parseEveryWay(b(`*${'1'.repeat(65_536)}\r\n`)).error).toBe('Protocol error: too big mbulk count string');
  });
});

describe('bounds', () => {
  const small: RespLimits = { maxArgs: 4, maxBulkLength: 100, maxInlineLength: 64, maxCommandBytes: 200 };

  it('a bulk of exactly maxBulkLength is taken; one byte more is refused at its header', () => {
    const atLimit = encodeResp(['SET', 'k', 'v'.repeat(100)]);
    expect(argsOf(parseEveryWay(atLimit, small))).toEqual([['SET', 'k', 'v'.repeat(100)]]);
    expect(parseEveryWay(b('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$101\r\n'), small).error).toBe('Protocol error: invalid bulk length');
  });

  it('the default limits: a 1 MiB bulk is taken, 1 MiB + 1 refused', () => {
    const value = Buffer.alloc(1024 * 1024, 0x7a);
    const shown = parseChunks([encodeResp([b('SET'), b('k'), value])]);
    expect(shown.commands[0]?.args[2]?.equals(value)).toBe(true);
    expect(parseChunks([b(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${1024 * 1024 + 1}\r\n`)]).error).toBe('Protocol error: invalid bulk length');
  });

  it('maxArgs: *4 is taken, *5 refused', () => {
    expect(argsOf(parseEveryWay(encodeResp(['A', 'B', 'C', 'D']), small))).toEqual([['A', 'B', 'C', 'D']]);
    expect(parseEveryWay(b('*5\r\n'), small).error).toBe('Protocol error: invalid multibulk length');
  });

  it('*1048576 is accepted as a header; *1048577 is not', () => {
    expect(parseEveryWay(b('*1048576\r\n'))).toEqual({ commands: [], error: undefined, midCommand: true });
    expect(parseEveryWay(b('*1048577\r\n')).error).toBe('Protocol error: invalid multibulk length');
  });

  it('maxCommandBytes: a command of exactly the limit is taken; one byte more is refused at the $ that passes it', () => {
    const command = (last: number): Buffer => encodeResp(['SET', 'k'.repeat(90), 'v'.repeat(last)]);
    let last = 0;
    while (command(last + 1).length <= small.maxCommandBytes) last += 1;
    expect(command(last).length).toBe(200);
    expect(argsOf(parseEveryWay(command(last), small))[0]?.[2]?.length).toBe(last);
    const over = command(last + 1);
    const header = over.subarray(0, over.lastIndexOf(`$${last + 1}\r\n`) + `$${last + 1}\r\n`.length);
    expect(parseEveryWay(header, small).error).toBe('Protocol error: command larger than 200 bytes');
    const parser = new RespParser(small);
    parser.push(over.subarray(0, over.lastIndexOf(`$${last + 1}\r\n`) + `$${last + 1}\r`.length)); // refused at its CR
    expect((parser.take() as RespProtocolError).message).toBe('Protocol error: command larger than 200 bytes');
  });

  it('a 1M-element array (*1000000) under the default limits: refused once its bytes pass maxCommandBytes, memory bounded', { timeout: 60_000 }, () => {
    const element = b('$1\r\na\r\n');
    const stream = Buffer.concat([b('*1000000\r\n'), Buffer.concat(Array.from({ length: 1_000_000 }, () => element))]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 65_536) chunks.push(stream.subarray(at, at + 65_536));
    const shown = parseChunks(chunks);
    expect(shown.error).toBe(`Protocol error: command larger than ${DEFAULT_LIMITS.maxCommandBytes} bytes`);
    expect(shown.peakPending).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCommandBytes);
    // Element k (from 0) is refused when 10 + 7k + 7 > maxCommandBytes.
    const refusedAt = Math.ceil((DEFAULT_LIMITS.maxCommandBytes - 17 + 1) / 7);
    const parser = new RespParser(DEFAULT_LIMITS);
    parser.push(stream.subarray(0, 10 + 7 * refusedAt + 3)); // through the refused element's CR
    expect((parser.take() as RespProtocolError).message).toMatch(/command larger than/);
    const before = new RespParser(DEFAULT_LIMITS);
    before.push(stream.subarray(0, 10 + 7 * refusedAt + 2));
    expect(before.take()).toBeUndefined();
    expect(before.pendingBytes).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCommandBytes);
  });

  it('the same 1M-element array under --max-value-size 64 MiB is one command of 1,000,000 arguments', { timeout: 60_000 }, () => {
    const stream = Buffer.concat([b('*1000000\r\n'), Buffer.concat(Array.from({ length: 1_000_000 }, () => b('$1\r\na\r\n')))]);
    const parser = new RespParser(respLimits(64 * 1024 * 1024));
    for (let at = 0; at < stream.length; at += 65_536) parser.push(stream.subarray(at, at + 65_536));
    const command = parser.take() as { args: Buffer[]; bytes: number };
    expect(command.args.length).toBe(1_000_000);
    expect(command.bytes).toBe(stream.length);
  });
});

describe('before AUTH (Redis 7.0: a password is configured and not yet given)', () => {
  const run = (input: Buffer, unauthenticated: boolean, chunks: Buffer[] = [input]): Shown => {
    const parser = new RespParser(DEFAULT_LIMITS);
    parser.unauthenticated = unauthenticated;
    const commands: Shown['commands'] = [];
    let error: string | undefined;
    for (const chunk of chunks) {
      parser.push(chunk);
      for (let item = parser.take(); item !== undefined; item = parser.take()) {
        if (item instanceof RespProtocolError) error = item.message;
        else commands.push({ args: item.args.map((a) => a.toString('latin1')), inline: item.inline, bytes: item.bytes });
      }
    }
    return { commands, error, midCommand: parser.midCommand };
  };

  it('an array of 10 elements is taken, 11 refused; a bulk of 16,384 bytes taken, 16,385 refused: at the header, fed every way', () => {
    const ten = encodeResp(Array.from({ length: 10 }, () => 'a'));
    const bulk = (n: number): Buffer => encodeResp(['SET', 'k', 'v'.repeat(n)]);
    for (const [input, error] of [
      [ten, undefined],
      [b('*11\r\n'), 'Protocol error: unauthenticated multibulk length'],
      [bulk(16_384), undefined],
      [b('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n'), 'Protocol error: unauthenticated bulk length'],
      [b('*1048577\r\n'), 'Protocol error: invalid multibulk length'], // Redis's own bounds come first
      [b('*1\r\n$-1\r\n'), 'Protocol error: invalid bulk length'],
    ] as const) {
      for (const { name, chunks } of cuts(input)) expect(run(input, true, chunks).error, name).toBe(error);
      expect(run(input, false).error).toBe(error?.startsWith('Protocol error: unauthenticated') === true ? undefined : error);
    }
  });

  it('applies to what take() parses after it is set: AUTH then a large command in one write passes', () => {
    const parser = new RespParser(DEFAULT_LIMITS);
    parser.unauthenticated = true;
    parser.push(Buffer.concat([encodeResp(['AUTH', 'pw']), encodeResp(['SET', 'k', 'v'.repeat(20_000)]), b('*11\r\n')]));
    expect((parser.take() as { args: Buffer[] }).args.map(String)).toEqual(['AUTH', 'pw']);
    parser.unauthenticated = false; // the connection ran AUTH
    expect((parser.take() as { args: Buffer[] }).args[2]?.length).toBe(20_000);
    parser.unauthenticated = true; // e.g. AUTH with a wrong password again later
    expect((parser.take() as RespProtocolError).message).toBe('Protocol error: unauthenticated multibulk length');
  });

  it('inline lines are not restricted (their 64 KiB bound holds for all)', () => {
    expect(argsOf(run(b(`SET k ${'v'.repeat(20_000)} ${'a '.repeat(20)}\r\n`), true))[0]?.length).toBe(23);
  });
});

describe('never throws: a small pipeline broken at every byte offset', () => {
  const pipeline = Buffer.concat([encodeResp(['SET', 'k', 'v\r\n']), b('GET "k" x\r\n'), encodeResp(['MGET', 'a', 'b']), b('PING\n')]);
  const replacements = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x24, 0x2a, 0x2d, 0x30, 0x39, 0x78, 0xff];

  it('each corrupted byte gives commands, then one error or a wait, the same every way it is cut', () => {
    for (let at = 0; at < pipeline.length; at += 1) {
      for (const byte of replacements) {
        const broken = Buffer.from(pipeline);
        broken[at] = byte;
        const whole = show(parseChunks([broken]));
        expect(show(parseChunks([...broken].map((x) => Buffer.from([x])))), `byte ${at} = ${byte}`).toEqual(whole);
        const cut = Math.floor(broken.length / 2);
        expect(show(parseChunks([broken.subarray(0, cut), broken.subarray(cut)])), `byte ${at} = ${byte}`).toEqual(whole);
      }
    }
  });

  it('cut short at every offset, it waits with the commands before the cut', () => {
    const full = show(parseChunks([pipeline]));
    expect(full.commands.length).toBe(4);
    for (let at = 0; at < pipeline.length; at += 1) {
      const shown = show(parseChunks([pipeline.subarray(0, at)]));
      expect(shown.error).toBeUndefined();
      expect(full.commands.slice(0, shown.commands.length)).toEqual(shown.commands);
      expect(shown.midCommand).toBe(shown.commands.reduce((n, c) => n + c.bytes, 0) < at);
    }
  });

  it('an inline line of printable words round-trips through encodeInline', () => {
    const args = [b('SET'), b('a b'), b('\0\r\n"\\'), b(''), b('*x')];
    expect(argsOf(parseEveryWay(encodeInline(args)))).toEqual([args.map((a) => a.toString('latin1'))]);
  });
});

describe('linear work whatever the cut', () => {
  it('an 8 MiB bulk fed one byte at a time (a re-scan per chunk would not finish)', { timeout: 60_000 }, () => {
    const length = 8 * 1024 * 1024;
    const parser = new RespParser(respLimits(64 * 1024 * 1024));
    const stream = Buffer.concat([b(`*1\r\n$${length}\r\n`), Buffer.alloc(length, 0x61), b('\r\n')]);
    let command: unknown;
    for (let at = 0; at < stream.length; at += 1) {
      parser.push(stream.subarray(at, at + 1));
      command = parser.take();
      if (command !== undefined && at < stream.length - 1) throw new Error(`a command before the last byte (at ${at})`);
    }
    expect(parser.buffered).toBe(0);
    expect((command as { args: Buffer[] }).args[0]?.length).toBe(length);
  });
});
