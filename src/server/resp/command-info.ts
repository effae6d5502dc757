/**
 * COMMAND and its subcommands COUNT, LIST, INFO and DOCS (docs/RESP.md),
 * answered from Redis's own data in `command-table.ts` for the commands
 * Conduit runs, in Redis 7.0's reply shapes (server.c addReplyCommandInfo,
 * addReplyCommandDocs): redis-cli and client libraries read them.
 *
 * @example
 * ```ts
 * COMMAND_COMMANDS['command|count']([Buffer.from('COMMAND'), Buffer.from('COUNT')], ctx, out); // ':45\r\n'
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import { ERR_SYNTAX, isWord } from './args.js';
import { COMMAND_TABLE, type CommandSpec, type DocValue } from './command-table.js';
import { ERR_PATTERN_TOO_COMPLEX, globTest } from './glob.js';
import type { Handler } from './handler.js';

const BY_NAME: ReadonlyMap<string, CommandSpec> = new Map(COMMAND_TABLE.map((c) => [c.name, c]));

/** Every command and subcommand, containers first (COMMAND LIST). */
function everyName(): CommandSpec[] {
  return COMMAND_TABLE.flatMap((c) => [c, ...(c.subcommands ?? [])]);
}

/** A doc value: `flags` and `doc_flags` are sets of simple strings, `history` a set of pairs, the rest by shape. */
function writeDoc(out: RespWriter, field: string, value: DocValue): void {
  if (Array.isArray(value)) {
    const items = value as readonly DocValue[];
    if (field === 'flags' || field === 'doc_flags') {
      out.set(items.length);
      for (const item of items) out.simple(String(item));
    } else {
      if (field === 'history') out.set(items.length);
      else out.array(items.length);
      for (const item of items) writeDoc(out, '', item);
    }
  } else if (typeof value === 'number') out.integer(value);
  else if (typeof value === 'string') out.bulk(value);
  else writeMap(out, value as { readonly [field: string]: DocValue });
}

function writeMap(out: RespWriter, map: { readonly [field: string]: DocValue }): void {
  const fields = Object.entries(map);
  out.map(fields.length);
  for (const [name, value] of fields) {
    out.bulk(name);
    writeDoc(out, name, value);
  }
}

/** One command's COMMAND INFO entry: 10 fields, its subcommands' entries last (`~0` when it has none, as Redis). */
function writeInfo(out: RespWriter, c: CommandSpec): void {
  out.array(10);
  out.bulk(c.name);
  out.integer(c.arity);
  out.set(c.flags.length);
  for (const flag of c.flags) out.simple(flag);
  out.integer(c.firstKey);
  out.integer(c.lastKey);
  out.integer(c.step);
  out.set(c.acl.length);
  for (const category of c.acl) out.simple(category);
  out.set(c.tips.length);
  for (const tip of c.tips) out.bulk(tip);
  out.set(c.keySpecs.length);
  for (const spec of c.keySpecs) writeMap(out, spec);
  if (c.subcommands === undefined) out.set(0);
  else {
    out.array(c.subcommands.length);
    for (const sub of c.subcommands) writeInfo(out, sub);
  }
}

/** One command's COMMAND DOCS map, its subcommands' docs as a last `subcommands` map. */
function writeDocs(out: RespWriter, c: CommandSpec): void {
  const fields = Object.entries(c.docs);
  out.map(fields.length + (c.subcommands === undefined ? 0 : 1));
  for (const [name, value] of fields) {
    out.bulk(name);
    writeDoc(out, name, value);
  }
  if (c.subcommands !== undefined) {
    out.bulk('subcommands');
    out.map(c.subcommands.length);
    for (const sub of c.subcommands) {
      out.bulk(sub.name);
      writeDocs(out, sub);
    }
  }
}

/** The commands named by `args[from…]` (top-level names, any case; unknown ones undefined), or all. */
function named(args: readonly Buffer[], from: number): (CommandSpec | undefined)[] {
  if (args.length <= from) return [...COMMAND_TABLE];
  return args.slice(from).map((a) => BY_NAME.get(a.toString('latin1').toLowerCase()));
}

/**
 * True, after replacing the reply begun at `start` with an error, when it
 * has grown past `bound` (`--max-output-buffer`): COMMAND INFO and DOCS
 * may name the same command 100,000 times in one request.
 */
function overBound(out: RespWriter, start: number, bound: number): boolean {
  if (out.length - start <= bound) return false;
  out.truncate(start);
  out.error(`ERR COMMAND reply would pass ${bound} bytes (--max-output-buffer)`);
  return true;
}

/** COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]. */
function list(args: readonly Buffer[], _ctx: unknown, out: RespWriter): void {
  let names = everyName();
  if (args.length > 2) {
    const by = args[3];
    const value = args[4];
    if (args.length !== 5 || !isWord(args[2], 'filterby') || by === undefined || value === undefined) return out.error(ERR_SYNTAX);
    if (isWord(by, 'module')) names = [];
    else if (isWord(by, 'aclcat')) {
      const category = `@${value.toString('latin1').toLowerCase()}`;
      names = names.filter((c) => c.acl.includes(category));
    } else if (isWord(by, 'pattern')) {
      const pattern = Buffer.from(value.toString('latin1').toLowerCase(), 'latin1');
      const results = names.map((c) => globTest(pattern, Buffer.from(c.name, 'latin1')));
      if (results.includes('too_complex')) return out.error(ERR_PATTERN_TOO_COMPLEX);
      names = names.filter((_, i) => results[i] === true);
    } else return out.error(ERR_SYNTAX);
  }
  out.array(names.length);
  for (const c of names) out.bulk(c.name);
}

/**
 * COMMAND's code by full name (`command` itself: every entry, as COMMAND INFO).
 *
 * @example
 * ```ts
 * COMMAND_COMMANDS['command|info']([Buffer.from('COMMAND'), Buffer.from('INFO'), Buffer.from('get')], ctx, out);
 * ```
 */
export const COMMAND_COMMANDS: Readonly<Record<string, Handler>> = {
  command: (_args, _ctx, out) => {
    out.array(COMMAND_TABLE.length);
    for (const c of COMMAND_TABLE) writeInfo(out, c);
  },
  'command|count': (_args, _ctx, out) => out.integer(COMMAND_TABLE.length),
  'command|list': list,
  'command|info': (args, ctx, out) => {
    const found = named(args, 2);
    const start = out.length;
    out.array(found.length);
    for (const c of found) {
      if (c === undefined) out.bulk(null);
      else writeInfo(out, c);
      if (overBound(out, start, ctx.server.options.maxOutputBuffer)) return;
    }
  },
  'command|docs': (args, ctx, out) => {
    const found = named(args, 2).filter((c): c is CommandSpec => c !== undefined);
    const start = out.length;
    out.map(found.length);
    for (const c of found) {
      out.bulk(c.name);
      writeDocs(out, c);
      if (overBound(out, start, ctx.server.options.maxOutputBuffer)) return;
    }
  },
};
