/**
 * The RESP request parser (docs/RESP.md): the commands a Redis client sends,
 * as RESP arrays of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or as
 * inline lines (`GET k\r\n`), split and bounded the way Redis 7.0 does it
 * (networking.c, processMultibulkBuffer / processInlineBuffer; sds.c,
 * sdssplitargs), with Redis's error texts.
 *
 * @module
 */
import { ConduitError } from './errors.js';

/**
 * The bounds a {@link RespParser} enforces; {@link respLimits} derives them from `--max-value-size`.
 *
 * @example
 * ```ts
 * const tight: RespLimits = { maxArgs: 16, maxBulkLength: 1024, maxInlineLength: 256, maxCommandBytes: 4096 };
 * ```
 */
export interface RespLimits {
  /** The most elements a RESP array may declare (Redis: `*` above it is `invalid multibulk length`). */
  maxArgs: number;
  /** The longest bulk string (`$N`); a longer one is `invalid bulk length` (Redis's proto-max-bulk-len). */
  maxBulkLength: number;
  /** The longest inline line, and the longest `*N` / `$N` line without its CR (Redis's PROTO_INLINE_MAX_SIZE). */
  maxInlineLength: number;
  /** The most wire bytes one command may take, checked at each `$N` before its bytes are gathered. */
  maxCommandBytes: number;
}

/** Redis 7.0 (authRequired): before AUTH, an array may have at most 10 elements and a bulk 16 KiB. */
const UNAUTHENTICATED_ARGS = 10;
const UNAUTHENTICATED_BULK = 16 * 1024;
/** Redis's PROTO_INLINE_MAX_SIZE. */
const INLINE_MAX = 64 * 1024;
/** Redis 7.0 allows up to INT_MAX elements; Conduit keeps its older 1024 × 1024 bound (a 1M-element array is plenty for MSET). */
const MAX_ARGS = 1024 * 1024;

/**
 * The limits of a RESP listener for a server's `--max-value-size`: a bulk
 * may be as long as a value, a command as long as two values (a key and a
 * value, or APPEND's) plus 1 MiB for its other arguments.
 *
 * @example
 * ```ts
 * respLimits(1024 * 1024); // { maxArgs: 1048576, maxBulkLength: 1048576, maxInlineLength: 65536, maxCommandBytes: 3145728 }
 * ```
 */
export function respLimits(maxValueSize: number): RespLimits {
  return { maxArgs: MAX_ARGS, maxBulkLength: maxValueSize, maxInlineLength: INLINE_MAX, maxCommandBytes: 2 * maxValueSize + 1024 * 1024 };
}

/**
 * One whole command, as {@link RespParser.take} hands it out.
 *
 * @example
 * ```ts
 * const command = parser.take() as RespCommand; // from `*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`
 * command.args.map(String); // ['GET', 'k']; command.inline false; command.bytes 22
 * ```
 */
export interface RespCommand {
  /** Its arguments, `args[0]` the command name in any case; views valid until the parser's next push() or take(). */
  readonly args: Buffer[];
  /** True for an inline line, false for a RESP array. */
  readonly inline: boolean;
  /** Wire bytes of the command, from its first byte to its last (its CRLF or LF included). */
  readonly bytes: number;
}

/**
 * A request that breaks RESP: the connection answers `-ERR ` + `message`
 * and closes, as Redis does (the framing is lost). `code` is always
 * `'PROTOCOL_ERROR'`; `message` is Redis's text, e.g.
 * `Protocol error: invalid bulk length`.
 *
 * @example
 * ```ts
 * const item = parser.take();
 * if (item instanceof RespProtocolError) { writer.error(`ERR ${item.message}`); close(); }
 * ```
 */
export class RespProtocolError extends ConduitError {
  constructor(message: string) {
    super('PROTOCOL_ERROR', message);
    this.name = 'RespProtocolError';
  }
}

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);
/** Arguments a parser has room for before its position table grows (it doubles). */
const INITIAL_PLACES = 16;
/** Redis's LONG_STR_SIZE: string2ll refuses a length string of 21 bytes or more. */
const LENGTH_DIGITS = 21;

/**
 * Where the parser is in the stream (ws's receiver states):
 *
 * ```text
 *   command ──'*'──▶ arrayLength ──CR──▶ skip(1) ──▶ bulkPrefix ──'$'──▶ bulkLength ──CR──▶ skip(1) ──▶ bulkData
 *      ▲  │            │ N ≤ 0: skip(1), back to command                      ▲                              │
 *      │  │            ▼                                                      └──── skip(2) ◀── not the last ─┤
 *      │  └─other──▶ inline ──LF──▶ (a command, or an empty line skipped)                                    │
 *      └──────────────────────────────────────── skip(2) ◀── the last argument: the command is whole ───────┘
 * ```
 *
 * `skip` passes over the bytes Redis does not read: the one after a length's
 * CR (its LF) and the two after an argument (its CRLF). `failed` is final.
 */
type Phase = 'command' | 'arrayLength' | 'bulkPrefix' | 'bulkLength' | 'bulkData' | 'skip' | 'inline' | 'failed';
/** Where a `skip` leads. */
type AfterSkip = 'command' | 'bulkPrefix' | 'bulkData' | 'complete';

/**
 * A streaming parser of RESP requests. Push socket chunks with
 * {@link RespParser.push}, then call {@link RespParser.take} until it
 * returns `undefined`.
 *
 * - Split and coalesced input: a command may be cut at any byte, many may
 *   share a chunk; the work is linear in the bytes pushed however they are cut
 *   (each byte is looked at once; a line is never re-scanned).
 * - Views where possible: an argument inside one chunk is a view of it; one
 *   that spans chunks is copied once, into a buffer of its declared length
 *   allocated when its first piece arrives ({@link pendingBytes} counts it
 *   whole from then on, so a server-wide budget sees the memory it holds).
 * - Bounded before buffering: an array's length is checked against
 *   `maxArgs` and a bulk's against `maxBulkLength` and `maxCommandBytes` the
 *   moment its CR arrives, before one byte of its body is kept; a length line
 *   or an inline line longer than `maxInlineLength` fails without being kept.
 * - Never throws on input: a malformed stream makes `take()` return one
 *   {@link RespProtocolError}; the parser is then dead, drops what it is
 *   pushed and returns nothing more.
 *
 * Like Redis, it skips an empty inline line and an array of length 0 or less
 * (`*0`, `*-1`), does not check the byte after a length's CR nor the two
 * bytes after a bulk (Redis skips them unread), and splits inline lines with
 * sdssplitargs's rules: quotes, `\xHH` and `\n`-style escapes in double
 * quotes, a closing quote followed by a space or the end. Unlike Redis, a
 * NUL byte in an inline line is a protocol error (`Protocol error: NUL byte
 * in inline request`): Redis reads the line as a C string and runs what is
 * before the NUL, so `SET k v\0 EX 10` would store without its expiry.
 *
 * @example
 * ```ts
 * const parser = new RespParser(respLimits(options.maxValueSize));
 * socket.on('data', (chunk) => {
 *   parser.push(chunk);
 *   for (let item = parser.take(); item !== undefined; item = parser.take()) {
 *     if (item instanceof RespProtocolError) return fail(`ERR ${item.message}`);
 *     run(item.args);
 *   }
 * });
 * ```
 */
export class RespParser {
  readonly #limits: RespLimits;
  /** Pushed chunks from `#head` on are unconsumed; `#offset` bytes of the head one are consumed. */
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  #phase: Phase = 'command';
  /** Bytes consumed of the command being gathered. */
  #commandBytes = 0;
  /** The first {@link LENGTH_DIGITS} bytes of a `*N` / `$N` line, after its type byte. */
  readonly #digits = Buffer.allocUnsafe(LENGTH_DIGITS);
  /** Bytes of the current length line or inline line so far. */
  #lineLength = 0;
  /** An inline line that spans chunks, gathered (bounded by maxInlineLength + 1). */
  #line: Buffer | undefined;
  /** The last byte of the inline line so far (a CR before its LF is dropped), or -1. */
  #lineLast = -1;
  /** The array's declared length. */
  #argCount = 0;
  /**
   * The arguments read so far, as positions rather than Buffer views: a view costs ~100 bytes
   * of heap, so a million one-byte arguments held as views took 16 times the bytes they came in
   * (50 MiB for a 3 MiB command). Argument i is `#places[2i + 1]` bytes from `#places[2i]` in
   * its source; the views are made when the command is whole.
   */
  #places = new Uint32Array(2 * INITIAL_PLACES);
  #argsRead = 0;
  /**
   * The buffers the arguments lie in (the chunks they were views of, and the buffers of spanning
   * ones), in order; `#sourceFrom[j]` is the first argument in `#sources[j]`. A source per chunk, not per argument.
   */
  readonly #sources: Buffer[] = [];
  readonly #sourceFrom: number[] = [];
  /** Bytes of the current bulk still to come, and its buffer once it spans chunks. */
  #bulkLeft = 0;
  #bulk: Buffer | undefined;
  #skipLeft = 0;
  #afterSkip: AfterSkip = 'command';
  #unauthenticated = false;

  constructor(limits: RespLimits) {
    for (const name of ['maxArgs', 'maxBulkLength', 'maxInlineLength', 'maxCommandBytes'] as const) {
      const value = limits[name];
      if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} limit must be a positive integer, got ${String(value)}`);
    }
    this.#limits = { ...limits };
  }

  /**
   * True while the peer must still AUTH (a password is configured and not yet given): as in
   * Redis 7.0, an array of more than 10 elements (`Protocol error: unauthenticated multibulk
   * length`) or a bulk of more than 16,384 bytes (`Protocol error: unauthenticated bulk length`)
   * is then refused, so a peer without the password cannot make the server gather large
   * commands. Set it before each take(): a command parsed after AUTH ran is not restricted.
   *
   * @example
   * ```ts
   * parser.unauthenticated = !session.authenticated;
   * const item = parser.take();
   * ```
   */
  get unauthenticated(): boolean {
    return this.#unauthenticated;
  }

  set unauthenticated(value: boolean) {
    this.#unauthenticated = value;
  }

  /** Bytes pushed and not yet consumed. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True while a command has begun and is not whole (the frame timeout runs). */
  get midCommand(): boolean {
    if (this.#phase === 'failed') return false;
    return this.#phase !== 'command' || this.#buffered > 0;
  }

  /** Bytes the command being gathered holds now: those consumed, and a spanning bulk's buffer at its full length. */
  get pendingBytes(): number {
    if (this.#phase === 'failed') return 0;
    return this.#commandBytes + (this.#bulk === undefined ? 0 : this.#bulkLeft);
  }

  /**
   * Adds a chunk from the socket; it is parsed by {@link take}. A dead parser drops it.
   *
   * @example
   * ```ts
   * parser.push(chunk);
   * ```
   */
  push(chunk: Buffer): void {
    if (this.#phase === 'failed' || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next whole command; the {@link RespProtocolError} that ended the
   * stream (returned once: reply `-ERR ` + its message, then close); or
   * `undefined` when more bytes are needed or the parser is dead. A
   * command's `args` are views valid until the next push() or take():
   * copy what is kept.
   *
   * @example
   * ```ts
   * const item = parser.take();
   * if (item !== undefined && !(item instanceof RespProtocolError)) runCommand(item.args, ctx, out);
   * ```
   */
  take(): RespCommand | RespProtocolError | undefined {
    while (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head] as Buffer;
      const from = this.#offset;
      const item = this.#parse(chunk, from);
      if (item instanceof RespProtocolError) return item; // #fail emptied the queue
      this.#buffered -= this.#offset - from;
      if (this.#offset === chunk.length) {
        this.#chunks[this.#head] = EMPTY; // consumed: let it be collected unless an argument views it
        this.#head += 1;
        this.#offset = 0;
      }
      if (item !== undefined) return item;
    }
    this.#chunks.length = 0;
    this.#head = 0;
    return undefined;
  }

  /**
   * Parses `chunk` from `from` until a command is whole or the chunk is
   * used up; leaves `#offset` where it stopped.
   */
  #parse(chunk: Buffer, from: number): RespCommand | RespProtocolError | undefined {
    const end = chunk.length;
    let at = from;
    let item: RespCommand | undefined;
    parse: while (item === undefined) {
      switch (this.#phase) {
        case 'command': {
          if (at === end) break parse;
          this.#commandBytes = 0;
          this.#lineLength = 0;
          // Redis decides per command on its first byte: '*' is RESP, anything else an inline line.
          if (chunk[at] === STAR) {
            at += 1;
            this.#commandBytes = 1;
            this.#phase = 'arrayLength';
          } else {
            this.#lineLast = -1;
            this.#phase = 'inline';
          }
          break;
        }
        case 'arrayLength':
        case 'bulkLength': {
          if (at === end) break parse;
          // A byte loop, not indexOf + copy: these lines are a few bytes long and a call per line
          // cost more than the whole line (most of a pipelined GET's parse). Bounded by the check below.
          const digits = this.#digits;
          const bound = this.#limits.maxInlineLength - 1; // Redis: the type byte counts
          let line = this.#lineLength;
          let stop = at;
          while (stop < end && line <= bound) {
            const byte = chunk[stop] as number;
            if (byte === CR) break;
            if (line < LENGTH_DIGITS) digits[line] = byte;
            line += 1;
            stop += 1;
          }
          this.#lineLength = line;
          this.#commandBytes += stop - at;
          at = stop;
          // Redis: no CR in more than PROTO_INLINE_MAX_SIZE bytes. Checked whether or not the CR
          // is in this chunk, so the outcome does not depend on where the stream is cut.
          if (line > bound) {
            return this.#fail(this.#phase === 'arrayLength' ? 'Protocol error: too big mbulk count string' : 'Protocol error: too big bulk count string');
          }
          if (at === end) break parse;
          at += 1;
          this.#commandBytes += 1;
          const length = parseLength(this.#digits, this.#lineLength);
          if (this.#phase === 'arrayLength') {
            if (length === undefined || length > this.#limits.maxArgs) return this.#fail('Protocol error: invalid multibulk length');
            if (length > UNAUTHENTICATED_ARGS && this.#unauthenticated) return this.#fail('Protocol error: unauthenticated multibulk length');
            if (length <= 0) {
              this.#skip(1, 'command'); // `*0`, `*-1`: Redis ignores an empty or null array
              break;
            }
            this.#argCount = length;
            this.#argsRead = 0;
            this.#skip(1, 'bulkPrefix');
            break;
          }
          if (length === undefined || length < 0 || length > this.#limits.maxBulkLength) return this.#fail('Protocol error: invalid bulk length');
          if (length > UNAUTHENTICATED_BULK && this.#unauthenticated) return this.#fail('Protocol error: unauthenticated bulk length');
          // The LF, the body and its CRLF are still to come: refuse now, before gathering any of it.
          if (this.#commandBytes + 1 + length + 2 > this.#limits.maxCommandBytes) {
            return this.#fail(`Protocol error: command larger than ${this.#limits.maxCommandBytes} bytes`);
          }
          this.#bulkLeft = length;
          this.#skip(1, 'bulkData');
          break;
        }
        case 'bulkPrefix': {
          if (at === end) break parse;
          const type = chunk[at] as number;
          // Redis checks this once the line's CR is in; the first byte already tells.
          if (type !== DOLLAR) return this.#fail(`Protocol error: expected '$', got '${type === CR || type === LF ? ' ' : String.fromCharCode(type)}'`);
          at += 1;
          this.#commandBytes += 1;
          this.#lineLength = 0;
          this.#phase = 'bulkLength';
          break;
        }
        case 'bulkData': {
          let bulk = this.#bulk;
          if (bulk === undefined) {
            const left = this.#bulkLeft;
            if (end - at >= left) {
              // The whole argument is in this chunk: a view, no copy.
              this.#commandBytes += left;
              this.#argument(chunk, at, left);
              at += left;
              break;
            }
            if (at === end) break parse;
            bulk = Buffer.allocUnsafe(left);
            this.#bulk = bulk;
          }
          if (at === end) break parse;
          const n = Math.min(end - at, this.#bulkLeft);
          chunk.copy(bulk, bulk.length - this.#bulkLeft, at, at + n);
          at += n;
          this.#bulkLeft -= n;
          this.#commandBytes += n;
          if (this.#bulkLeft === 0) {
            this.#bulk = undefined;
            this.#argument(bulk, 0, bulk.length);
          }
          break;
        }
        case 'skip': {
          if (this.#skipLeft > 0) {
            if (at === end) break parse;
            const n = Math.min(end - at, this.#skipLeft);
            at += n;
            this.#skipLeft -= n;
            this.#commandBytes += n;
            if (this.#skipLeft > 0) break parse;
          }
          const next = this.#afterSkip;
          if (next === 'complete') {
            item = { args: this.#takeArguments(), inline: false, bytes: this.#commandBytes };
            this.#commandBytes = 0;
            this.#phase = 'command';
          } else {
            this.#phase = next;
          }
          break;
        }
        case 'inline': {
          if (at === end) break parse;
          const lf = chunk.indexOf(LF, at);
          const stop = lf === -1 ? end : lf;
          const total = this.#lineLength + (stop - at);
          const last = stop > at ? (chunk[stop - 1] as number) : this.#lineLast;
          // The line without a CR before its LF may be maxInlineLength bytes; checked before it is kept.
          if (total - (last === CR ? 1 : 0) > this.#limits.maxInlineLength) return this.#fail('Protocol error: too big inline request');
          if (lf === -1) {
            this.#appendLine(chunk, at, end);
            this.#lineLast = last;
            this.#commandBytes += end - at;
            at = end;
            break parse;
          }
          let line: Buffer;
          if (this.#line === undefined) line = chunk.subarray(at, lf);
          else {
            this.#appendLine(chunk, at, lf);
            line = this.#line.subarray(0, total);
          }
          this.#commandBytes += lf + 1 - at;
          at = lf + 1;
          const bytes = this.#commandBytes;
          this.#line = undefined; // a long line's buffer is not kept for the connection's life
          this.#commandBytes = 0;
          this.#phase = 'command';
          // Redis reads the line as a C string and would run the part before a NUL (`SET k v\0 EX 10`
          // stored without its expiry): a NUL in an inline line is refused instead.
          if (line.indexOf(0) !== -1) return this.#fail('Protocol error: NUL byte in inline request');
          const args = splitInline(last === CR ? line.subarray(0, line.length - 1) : line);
          if (args === undefined) return this.#fail('Protocol error: unbalanced quotes in request');
          if (args.length > 0) item = { args, inline: true, bytes }; // Redis skips an empty line
          break;
        }
        case 'failed':
          break parse;
      }
    }
    this.#offset = at;
    return item;
  }

  /** Appends `chunk[from, to)` to the inline line, growing its buffer by doubling (its size is bounded by the check before). */
  #appendLine(chunk: Buffer, from: number, to: number): void {
    const needed = this.#lineLength + (to - from);
    let line = this.#line;
    if (line === undefined || line.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * (line?.length ?? 0), 256));
      if (line !== undefined) line.copy(grown, 0, 0, this.#lineLength);
      line = grown;
      this.#line = grown;
    }
    chunk.copy(line, this.#lineLength, from, to);
    this.#lineLength = needed;
  }

  /** Records an argument of `length` bytes at `start` in `source`. */
  #argument(source: Buffer, start: number, length: number): void {
    const sources = this.#sources;
    if (sources[sources.length - 1] !== source) {
      sources.push(source);
      this.#sourceFrom.push(this.#argsRead);
    }
    let places = this.#places;
    const at = 2 * this.#argsRead;
    if (at === places.length) {
      const grown = new Uint32Array(2 * places.length);
      grown.set(places);
      places = grown;
      this.#places = grown;
    }
    places[at] = start;
    places[at + 1] = length;
    this.#argsRead += 1;
    this.#skip(2, this.#argsRead === this.#argCount ? 'complete' : 'bulkPrefix');
  }

  /** The whole command's arguments as views, and the positions forgotten. */
  #takeArguments(): Buffer[] {
    const n = this.#argsRead;
    const places = this.#places;
    const sources = this.#sources;
    const from = this.#sourceFrom;
    const args = new Array<Buffer>(n);
    let j = 0;
    let source = sources[0] as Buffer;
    for (let i = 0; i < n; i += 1) {
      if (j + 1 < from.length && from[j + 1] === i) source = sources[++j] as Buffer;
      const start = places[2 * i] as number;
      const length = places[2 * i + 1] as number;
      args[i] = length === 0 ? EMPTY : source.subarray(start, start + length);
    }
    this.#forgetArguments();
    return args;
  }

  #forgetArguments(): void {
    this.#argsRead = 0;
    // Emptied in place, not replaced: two arrays fewer per command (the references go all the same).
    this.#sources.length = 0;
    this.#sourceFrom.length = 0;
    // A huge array's table is not kept for the connection's life.
    if (this.#places.length > 2 * INITIAL_PLACES * 64) this.#places = new Uint32Array(2 * INITIAL_PLACES);
  }

  #skip(bytes: number, then: AfterSkip): void {
    this.#skipLeft = bytes;
    this.#afterSkip = then;
    this.#phase = 'skip';
  }

  #fail(message: string): RespProtocolError {
    this.#phase = 'failed';
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#buffered = 0;
    this.#commandBytes = 0;
    this.#forgetArguments();
    this.#bulk = undefined;
    this.#line = undefined;
    return new RespProtocolError(message);
  }
}

/**
 * Redis's string2ll over `digits[0, length)`: an optional '-', then "0" alone
 * or a digit 1–9 and more digits, within a signed 64-bit integer; shorter
 * than 21 bytes. `undefined` when it is not one. Exact up to 2^53; beyond,
 * the sign and magnitude are right, which is all a limit check needs.
 */
function parseLength(digits: Buffer, length: number): number | undefined {
  if (length === 0 || length >= LENGTH_DIGITS) return undefined;
  const negative = digits[0] === 0x2d;
  let at = negative ? 1 : 0;
  if (at === length) return undefined;
  const first = digits[at] as number;
  if (first === 0x30) return length === 1 ? 0 : undefined; // "0" only: no "-0", no leading zeros
  if (first < 0x31 || first > 0x39) return undefined;
  let value = first - 0x30;
  for (at += 1; at < length; at += 1) {
    const d = digits[at] as number;
    if (d < 0x30 || d > 0x39) return undefined;
    value = value * 10 + (d - 0x30);
  }
  const significant = length - (negative ? 1 : 0);
  if (significant <= 15) return negative ? -value : value; // exact: below 2^53
  const text = digits.toString('latin1', 0, length);
  const big = BigInt(text);
  if (big > 0x7fff_ffff_ffff_ffffn || big < -0x8000_0000_0000_0000n) return undefined;
  return Number(big);
}

/** C's isspace in the C locale: space, \t, \n, \v, \f, \r. */
function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || (byte !== undefined && byte >= 0x09 && byte <= 0x0d);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}

function hexValue(byte: number): number {
  return byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x61 + 10;
}

/** The byte a backslash escape in double quotes stands for (sdssplitargs: \n \r \t \b \a, any other byte itself). */
function unescape(byte: number): number {
  switch (byte) {
    case 0x6e:
      return 0x0a; // \n
    case 0x72:
      return 0x0d; // \r
    case 0x74:
      return 0x09; // \t
    case 0x62:
      return 0x08; // \b
    case 0x61:
      return 0x07; // \a
    default:
      return byte;
  }
}

/**
 * An inline line split into arguments by sdssplitargs's rules (Redis's
 * sds.c), or `undefined` for its error (`unbalanced quotes`). The line ends
 * at its first NUL byte, as the C string Redis reads. The arguments are
 * views of one new buffer.
 *
 * @example
 * ```ts
 * splitInline(Buffer.from('SET "a b" \'c\\\'d\' "\\x41"'))?.map(String); // ['SET', 'a b', "c'd", 'A']
 * splitInline(Buffer.from('GET "a')); // undefined: Protocol error: unbalanced quotes in request
 * ```
 */
export function splitInline(source: Buffer): Buffer[] | undefined {
  const nul = source.indexOf(0);
  const line = nul === -1 ? source : source.subarray(0, nul);
  const end = line.length;
  const out = Buffer.allocUnsafe(end); // unescaping never lengthens
  const args: Buffer[] = [];
  let w = 0;
  let p = 0;
  for (;;) {
    while (p < end && isSpace(line[p])) p += 1;
    if (p === end) return args;
    const start = w;
    let quote: 'none' | 'double' | 'single' = 'none';
    token: for (;;) {
      if (p === end) {
        if (quote !== 'none') return undefined; // unterminated quotes
        break;
      }
      const c = line[p] as number;
      if (quote === 'double') {
        if (c === 0x5c && line[p + 1] === 0x78 && isHex(line[p + 2]) && isHex(line[p + 3])) {
          out[w++] = hexValue(line[p + 2] as number) * 16 + hexValue(line[p + 3] as number);
          p += 4;
        } else if (c === 0x5c && p + 1 < end) {
          out[w++] = unescape(line[p + 1] as number);
          p += 2;
        } else if (c === 0x22) {
          // A closing quote must be followed by a space or nothing at all.
          if (p + 1 < end && !isSpace(line[p + 1])) return undefined;
          p += 1;
          break token;
        } else {
          out[w++] = c;
          p += 1;
        }
      } else if (quote === 'single') {
        if (c === 0x5c && line[p + 1] === 0x27) {
          out[w++] = 0x27;
          p += 2;
        } else if (c === 0x27) {
          if (p + 1 < end && !isSpace(line[p + 1])) return undefined;
          p += 1;
          break token;
        } else {
          out[w++] = c;
          p += 1;
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        p += 1; // the separator ends the token and is used up
        break token;
      } else if (c === 0x22) {
        quote = 'double';
        p += 1;
      } else if (c === 0x27) {
        quote = 'single';
        p += 1;
      } else {
        out[w++] = c;
        p += 1;
      }
    }
    args.push(out.subarray(start, w));
  }
}
