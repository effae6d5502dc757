/**
 * ACL WHOAMI and ACL LOAD (issue 25, docs/RESP.md "Users and permissions"):
 * the only ACL subcommands Conduit runs; users and their rights live in the
 * key file (`[[tokens]]`), not in ACL SETUSER. Any other subcommand answers
 * Redis's unknown-subcommand error (the dispatcher's).
 *
 * @example
 * ```ts
 * ACL_COMMANDS['acl|whoami']([Buffer.from('ACL'), Buffer.from('WHOAMI')], ctx, out); // '$7\r\ndefault\r\n'
 * ```
 * @module
 */
import type { Handler } from './handler.js';

/**
 * The ACL subcommands by full name. WHOAMI answers the session's user: its
 * `[[tokens]]` id (or a client certificate rule's), else `default`. LOAD (admin)
 * re-reads the key file as SIGHUP does: `+OK`, or `-ERR` with the line that
 * says why the file was refused (the old rights stay).
 *
 * @example
 * ```ts
 * ACL_COMMANDS['acl|load']([Buffer.from('ACL'), Buffer.from('LOAD')], ctx, out); // '+OK\r\n'
 * ```
 */
export const ACL_COMMANDS: Readonly<Record<string, Handler>> = {
  'acl|whoami': (_args, ctx, out) => out.bulk(ctx.session.rights?.id ?? 'default'),
  'acl|load': (_args, ctx, out) => {
    const outcome = ctx.server.reloadAccess();
    if (outcome.ok) out.simple('OK');
    else out.error(`ERR ${outcome.error}`);
  },
};
