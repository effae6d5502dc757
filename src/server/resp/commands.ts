/**
 * The RESP command table and its dispatcher (docs/RESP.md): Redis 7.0's
 * checks in Redis's order (server.c processCommand): QUIT, the command's
 * existence, its arity, the AUTH gate, then the session's rights (issue 25,
 * permissions.ts: NOPERM); then the command itself.
 * Names and subcommand names are matched in any case.
 *
 * @example
 * ```ts
 * const after = runCommand([Buffer.from('GET'), Buffer.from('k')], ctx, out);
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import { ACL_COMMANDS } from './acl.js';
import { ERR_NOAUTH, wrongArity } from './args.js';
import { COMMAND_COMMANDS } from './command-info.js';
import { COMMAND_TABLE, type CommandSpec } from './command-table.js';
import { CONNECTION_COMMANDS } from './connection-commands.js';
import { EXPIRY_COMMANDS } from './expiry.js';
import type { Handler } from './handler.js';
import { HELP_COMMANDS } from './help.js';
import { INFO_COMMANDS } from './info.js';
import { KEYSPACE_COMMANDS } from './keyspace.js';
import { admitted, commandAccess, type CommandAccess } from './permissions.js';
import type { RespAfter, RespContext } from './resp-context.js';
import { STRING_COMMANDS } from './strings.js';

/** A command ready to run: its table entry, its code, and its subcommands by name. */
interface Runnable {
  readonly spec: CommandSpec;
  readonly run: Handler | undefined;
  readonly subcommands: ReadonlyMap<string, Runnable> | undefined;
  /** Runs before AUTH (Redis's `no_auth` flag): AUTH, HELLO, QUIT. */
  readonly noAuth: boolean;
  /** What it needs of a session with rights (issue 25). */
  readonly access: CommandAccess;
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  ...STRING_COMMANDS,
  ...KEYSPACE_COMMANDS,
  ...EXPIRY_COMMANDS,
  ...CONNECTION_COMMANDS,
  ...INFO_COMMANDS,
  ...COMMAND_COMMANDS,
  ...HELP_COMMANDS,
  ...ACL_COMMANDS,
};

/** The table entry `spec` with its handler (a container has none of its own). */
function runnable(spec: CommandSpec): Runnable {
  const subcommands = spec.subcommands === undefined ? undefined : new Map(spec.subcommands.map((s) => [s.name, runnable(s)]));
  const run = HANDLERS[spec.name];
  if (run === undefined && subcommands === undefined) throw new Error(`RESP command ${spec.name} has no handler`);
  return { spec, run, subcommands, noAuth: spec.flags.includes('no_auth'), access: commandAccess(spec) };
}

const COMMANDS: ReadonlyMap<string, Runnable> = new Map(COMMAND_TABLE.map((spec) => [spec.name, runnable(spec)]));

/**
 * A number unique to a name of 1 to 10 ASCII letters in any case (5 bits a letter, so it stays
 * under 2^53), or -1 for anything else: the hot commands are found without making a string.
 */
function letterCode(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 0 || n > 10) return -1;
  let code = 0;
  for (let i = 0; i < n; i++) {
    const b = (bytes[i] as number) | 0x20; // a letter of either case, and only a letter, lands in a..z
    if (b < 0x61 || b > 0x7a) return -1;
    code = code * 32 + (b & 0x1f);
  }
  return code;
}

/** The commands whose names {@link letterCode} encodes, by that code. */
const BY_LETTER_CODE: ReadonlyMap<number, Runnable> = new Map(
  [...COMMANDS].filter(([name]) => letterCode(Buffer.from(name, 'latin1')) >= 0).map(([name, command]) => [letterCode(Buffer.from(name, 'latin1')), command]),
);

/** `bytes` in lower case ASCII (other bytes as Latin-1), for the table's names. */
function lowerName(bytes: Buffer): string {
  return bytes.toString('latin1').toLowerCase();
}

/**
 * Redis's `%.128s`: at most 128 bytes of `bytes`, and none from its first NUL
 * on (printf reads a C string), so a NUL byte is never echoed in the reply.
 */
function head(bytes: Uint8Array, max = 128): Buffer {
  const nul = bytes.indexOf(0);
  const length = Math.min(nul === -1 ? bytes.length : nul, max);
  return Buffer.from(bytes.buffer, bytes.byteOffset, length);
}

/** Redis 7.0's text for an unknown command: its name and up to 128 bytes of quoted arguments. */
function unknownCommand(args: readonly Buffer[]): string {
  const parts: Buffer[] = [Buffer.from("ERR unknown command '"), head(args[0] as Buffer), Buffer.from("', with args beginning with: ")];
  let length = 0;
  for (let i = 1; i < args.length && length < 128; i++) {
    const arg = head(args[i] as Buffer, 128 - length);
    parts.push(Buffer.from("'"), arg, Buffer.from("' "));
    length += arg.length + 3;
  }
  return Buffer.concat(parts).toString();
}

/**
 * Runs one command (args[0] is its name, any case) and queues its reply(ies)
 * in `out`. Never throws for any input: a failure inside a command is an
 * `-ERR` reply and a log line.
 *
 * @example
 * ```ts
 * const out = new RespWriter();
 * runCommand([Buffer.from('PING')], ctx, out); // undefined; out holds '+PONG\r\n'
 * runCommand([Buffer.from('QUIT')], ctx, out); // 'close'
 * ```
 */
export function runCommand(args: Buffer[], ctx: RespContext, out: RespWriter): RespAfter {
  if (args.length === 0) return undefined;
  const code = letterCode(args[0] as Buffer);
  let command = code < 0 ? undefined : BY_LETTER_CODE.get(code);
  let name: string;
  if (command !== undefined) name = command.spec.name;
  else {
    name = lowerName(args[0] as Buffer);
    // Cross-protocol scripting (an HTTP request sent to the port): Redis closes at once.
    if (name === 'host:' || name === 'post') return 'drop';
    command = COMMANDS.get(name);
    if (command === undefined) {
      out.error(unknownCommand(args));
      return undefined;
    }
  }
  if (command.subcommands !== undefined && args.length >= 2) {
    const sub = command.subcommands.get(`${name}|${lowerName(args[1] as Buffer)}`);
    if (sub === undefined) {
      out.error(`ERR unknown subcommand '${head(args[1] as Buffer).toString()}'. Try ${name.toUpperCase()} HELP.`);
      return undefined;
    }
    command = sub;
  }
  const { arity } = command.spec;
  if ((arity > 0 && args.length !== arity) || args.length < -arity || command.run === undefined) {
    out.error(wrongArity(command.spec.name));
    return undefined;
  }
  if (!ctx.session.authenticated && !command.noAuth) {
    out.error(ERR_NOAUTH);
    return undefined;
  }
  // Issue 25: one test for a session without rights (no AUTH needed, no client certificate).
  if (ctx.session.rights !== undefined && !admitted(command.access, args, ctx, out)) return undefined;
  try {
    return command.run(args, ctx, out) ?? undefined;
  } catch (error) {
    // A bug, not an input: the reply says so and the connection goes on.
    ctx.server.options.logger.error({ command: command.spec.name, error: (error as Error).stack ?? String(error) }, 'RESP command failed');
    out.error(`ERR internal error in '${command.spec.name}' command`);
    return undefined;
  }
}
