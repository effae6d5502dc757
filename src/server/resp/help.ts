/**
 * CLIENT HELP, COMMAND HELP and CONFIG HELP (docs/RESP.md): Redis's
 * `addReplyHelp` layout (a title, the subcommands, then HELP, each line a
 * simple string), listing only the subcommands Conduit runs.
 *
 * @example
 * ```ts
 * HELP_COMMANDS['client|help'](args, ctx, out); // *10 +CLIENT <subcommand> … +HELP +    Prints this help.
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import type { Handler } from './handler.js';

/** Redis's addReplyHelp: the title line, `lines`, then HELP. */
function help(container: string, lines: readonly string[]): Handler {
  return (_args, _ctx, out: RespWriter) => {
    out.array(lines.length + 3);
    out.simple(`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
    for (const line of lines) out.simple(line);
    out.simple('HELP');
    out.simple('    Prints this help.');
  };
}

/**
 * The HELP subcommands by full name.
 *
 * @example
 * ```ts
 * Object.keys(HELP_COMMANDS); // ['client|help', 'command|help', 'config|help']
 * ```
 */
export const HELP_COMMANDS: Readonly<Record<string, Handler>> = {
  'client|help': help('CLIENT', [
    'GETNAME',
    '    Return the name of the current connection.',
    'ID',
    '    Return the ID of the current connection.',
    'SETINFO <option> <value>',
    '    Set client meta attr. Options are:',
    '    * LIB-NAME: the client lib name.',
    '    * LIB-VER: the client lib version.',
    'SETNAME <name>',
    '    Assign the name <name> to the current connection.',
  ]),
  'command|help': help('COMMAND', [
    '(no subcommand)',
    '    Return details about all Redis commands.',
    'COUNT',
    '    Return the total number of commands in this Redis server.',
    'LIST',
    '    Return a list of all commands in this Redis server.',
    'INFO [<command-name> ...]',
    '    Return details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'DOCS [<command-name> ...]',
    '    Return documentation details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
  ]),
  'config|help': help('CONFIG', [
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    '    (Conduit is configured by its command line: SET, RESETSTAT and REWRITE are refused.)',
  ]),
};
