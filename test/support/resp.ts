import { RespParser, RespProtocolError, respLimits, type RespLimits } from '../../src/protocol/resp-parser.js';

/** One command as a test keeps it: its arguments copied out of the parser's views. */
export interface ParsedCommand {
  args: Buffer[];
  inline: boolean;
  bytes: number;
}

/** What a parser made of a stream. */
export interface Parsed {
  commands: ParsedCommand[];
  /** The error's message (the reply after `-ERR `), if the stream ended in one. */
  error: string | undefined;
  /** midCommand once everything was pushed. */
  midCommand: boolean;
  /** The largest pendingBytes seen after a take() that returned nothing. */
  peakPending: number;
}

/** Limits of the default `--max-value-size` (1 MiB). */
export const DEFAULT_LIMITS: RespLimits = respLimits(1024 * 1024);

/**
 * Feeds `chunks` to a fresh parser (before AUTH when `unauthenticated`), draining it after
 * every push as a socket handler does; fails the test on a second error or on anything after the first.
 */
export function parseChunks(chunks: readonly Buffer[], limits: RespLimits = DEFAULT_LIMITS, unauthenticated = false): Parsed {
  const parser = new RespParser(limits);
  parser.unauthenticated = unauthenticated;
  const commands: ParsedCommand[] = [];
  let error: string | undefined;
  let peakPending = 0;
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let item = parser.take(); item !== undefined; item = parser.take()) {
      if (error !== undefined) throw new Error('the parser gave something after its error');
      if (item instanceof RespProtocolError) {
        if (item.code !== 'PROTOCOL_ERROR') throw new Error(`unexpected code ${item.code}`);
        error = item.message;
      } else {
        commands.push({ args: item.args.map((a) => Buffer.from(a)), inline: item.inline, bytes: item.bytes });
      }
    }
    peakPending = Math.max(peakPending, parser.pendingBytes);
    if (parser.buffered !== 0) throw new Error(`drained parser still buffers ${parser.buffered} bytes`);
  }
  return { commands, error, midCommand: parser.midCommand, peakPending };
}

/** A command as RESP: an array of bulk strings. */
export function encodeResp(args: readonly (Buffer | string)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Bytes an inline argument may hold bare: printable, no quote, backslash or space. */
const BARE = /^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]+$/;

/**
 * A command as an inline line Redis's sdssplitargs reads back into the same
 * arguments: bare when it can be, else in double quotes with `\xHH` escapes.
 * `lf` ends it with a lone LF instead of CRLF.
 */
export function encodeInline(args: readonly Buffer[], lf = false): Buffer {
  const words = args.map((arg, i) => {
    const text = arg.toString('latin1');
    // A line whose first byte is '*' would be read as a RESP array.
    if (BARE.test(text) && !(i === 0 && text.startsWith('*'))) return text;
    let quoted = '"';
    for (const byte of arg) {
      if (byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c) quoted += String.fromCharCode(byte);
      else quoted += `\\x${byte.toString(16).padStart(2, '0')}`;
    }
    return `${quoted}"`;
  });
  return Buffer.from(`${words.join(' ')}${lf ? '\n' : '\r\n'}`, 'latin1');
}

/**
 * What the parser makes of `bytes` under `--max-value-size` `maxValueSize`, pushed in one
 * piece: the commands before an error, and the error's text (or none). The oracle the hostile
 * tests and chaos scenario 21 hold the server's replies to.
 */
export function parseOutcome(bytes: Buffer, maxValueSize = 1024 * 1024): { commands: number; error: string | undefined } {
  const parser = new RespParser(respLimits(maxValueSize));
  parser.push(bytes);
  let commands = 0;
  for (let item = parser.take(); item !== undefined; item = parser.take()) {
    if (item instanceof RespProtocolError) return { commands, error: item.message };
    commands += 1;
  }
  return { commands, error: undefined };
}
