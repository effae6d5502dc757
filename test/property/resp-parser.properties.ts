/**
 * fast-check properties of the RESP request parser, shared by the property
 * test (a fixed number of runs in `npm test`) and `just fuzz` (as many runs
 * as fit in its share of FUZZ_SECONDS).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { RespLimits } from '../../src/protocol/resp-parser.js';
import { DEFAULT_LIMITS, encodeInline, encodeResp, parseChunks, type Parsed } from '../support/resp.js';

/** Tight limits, so random input reaches every bound. */
const TIGHT: RespLimits = { maxArgs: 3, maxBulkLength: 16, maxInlineLength: 32, maxCommandBytes: 64 };

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const arg = fc.oneof({ weight: 6, arbitrary: bytes(24) }, { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((s) => Buffer.from(s)) }, { weight: 1, arbitrary: bytes(3000) });

/** A command and the way it goes on the wire (RESP when its inline line would pass the 64 KiB bound). */
const command = fc
  .record({
    args: fc.array(arg, { minLength: 1, maxLength: 8 }),
    form: fc.constantFrom('resp' as const, 'resp' as const, 'inline' as const, 'inline-lf' as const),
  })
  .map(({ args, form }) => ({ args, form: form !== 'resp' && encodeInline(args).length > DEFAULT_LIMITS.maxInlineLength ? ('resp' as const) : form }));

/** What Redis skips between commands: empty inline lines and empty or null arrays. */
const filler = fc.constantFrom('', '', '', '\r\n', '\n', ' \t \r\n', '*0\r\n', '*-1\r\n');

/** `stream` cut at the (wrapped) positions `at`: the chunks a socket might deliver. */
export function cutAt(stream: Buffer, at: readonly number[]): Buffer[] {
  if (stream.length === 0) return [];
  const points = [...new Set(at.map((p) => p % stream.length))].filter((p) => p > 0).sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

/** The parts of a result two parses of the same stream must share. */
const outcome = (parsed: Parsed): unknown => ({
  commands: parsed.commands.map((c) => [c.args.map((a) => a.toString('hex')), c.inline, c.bytes]),
  error: parsed.error,
  midCommand: parsed.midCommand,
});

/** Bytes biased towards RESP's own: types, digits, CR, LF, quotes, backslashes. */
const token = fc.oneof(
  { weight: 4, arbitrary: bytes(6) },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom('*', '$', '\r\n', '\r', '\n', '0', '1', '2', '3', '-', '-1', '9999999999', '"', "'", '\\', '\\x4', ' ', 'PING', '\0', '*1\r\n$4\r\nPING\r\n', '*2\r\n', '$3\r\n')
      .map((s) => Buffer.from(s, 'latin1')),
  },
);
const noise = fc.array(token, { maxLength: 40 }).map((parts) => Buffer.concat(parts));

/** Every property of the parser, by name. */
export const respParserProperties: Record<string, fc.IProperty<unknown[]>> = {
  'resp parser: random commands as RESP or inline, cut anywhere, parse back equal': fc.property(
    fc.array(fc.tuple(filler, command), { minLength: 1, maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 12 }),
    (items, at) => {
      const wire: Buffer[] = [];
      for (const [skip, { args, form }] of items) {
        wire.push(Buffer.from(skip, 'latin1'));
        wire.push(form === 'resp' ? encodeResp(args) : encodeInline(args, form === 'inline-lf'));
      }
      const stream = Buffer.concat(wire);
      const parsed = parseChunks(cutAt(stream, at), DEFAULT_LIMITS);
      if (parsed.error !== undefined || parsed.midCommand) return false;
      const expected = items.map(([, { args, form }]) => ({
        args: args.map((a) => a.toString('hex')),
        inline: form !== 'resp',
        bytes: (form === 'resp' ? encodeResp(args) : encodeInline(args, form === 'inline-lf')).length,
      }));
      const got = parsed.commands.map((c) => ({ args: c.args.map((a) => a.toString('hex')), inline: c.inline, bytes: c.bytes }));
      return isDeepStrictEqual(got, expected);
    },
  ),
  'resp parser: any bytes never throw, give at most one error, and parse the same however cut': fc.property(
    noise,
    fc.array(fc.nat(), { maxLength: 12 }),
    fc.boolean(),
    (stream, at, tight) => {
      const limits = tight ? TIGHT : DEFAULT_LIMITS;
      // parseChunks throws on a second error or on anything after the first.
      const whole = parseChunks([stream], limits);
      const cut = parseChunks(cutAt(stream, at), limits);
      const bytewise = parseChunks([...stream].map((x) => Buffer.from([x])), limits);
      return isDeepStrictEqual(outcome(whole), outcome(cut)) && isDeepStrictEqual(outcome(whole), outcome(bytewise));
    },
  ),
  // Its own property (not a flag on the one above), so that saved counterexamples of that one replay exactly.
  'resp parser: before AUTH, any bytes never throw and parse the same however cut; no array over 10 or bulk over 16 KiB gets through': fc.property(
    fc.oneof(noise, fc.array(command, { minLength: 1, maxLength: 3 }).map((cs) => Buffer.concat(cs.map(({ args }) => encodeResp(args))))),
    fc.array(fc.nat(), { maxLength: 12 }),
    (stream, at) => {
      const whole = parseChunks([stream], DEFAULT_LIMITS, true);
      const cut = parseChunks(cutAt(stream, at), DEFAULT_LIMITS, true);
      const small = whole.commands.every((c) => c.inline || (c.args.length <= 10 && c.args.every((a) => a.length <= 16 * 1024)));
      return small && isDeepStrictEqual(outcome(whole), outcome(cut));
    },
  ),
  'resp parser: a valid pipeline with bytes overwritten never throws and parses the same however cut': fc.property(
    fc.array(command, { minLength: 1, maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    (commands, edits, at) => {
      const stream = Buffer.concat(commands.map(({ args, form }) => (form === 'resp' ? encodeResp(args) : encodeInline(args, form === 'inline-lf'))));
      for (const [where, byte] of edits) stream[where % stream.length] = byte;
      return isDeepStrictEqual(outcome(parseChunks([stream])), outcome(parseChunks(cutAt(stream, at))));
    },
  ),
};
