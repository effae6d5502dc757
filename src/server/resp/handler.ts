/**
 * The shape of one RESP command's code (docs/RESP.md): the table in
 * `commands.ts` maps each name to one of these. Apart from the table so the
 * command files can name it without importing the table (no cycle).
 *
 * @example
 * ```ts
 * const echo: Handler = (args, _ctx, out) => out.bulk(args[1]);
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import type { RespAfter, RespContext } from './resp-context.js';

/**
 * Runs a command whose arity is already checked (`args[0]` is its name,
 * `args.length` fits the table's arity) and queues its reply in `out`.
 * Synchronous, so a command is atomic. Returns what the connection does next
 * (`undefined`: go on).
 */
export type Handler = (args: readonly Buffer[], ctx: RespContext, out: RespWriter) => RespAfter | void;
