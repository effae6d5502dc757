/**
 * Commands about the connection itself (docs/RESP.md): PING, ECHO, SELECT,
 * QUIT, HELLO, AUTH and CLIENT's SETNAME / GETNAME / ID / SETINFO, with
 * Redis 7.0's replies and texts (server.c helloCommand, acl.c authCommand,
 * networking.c clientCommand). Users are the access table's (issue 25):
 * `default` (--resp-password) and the key file's `[[tokens]]` ids.
 *
 * @example
 * ```ts
 * CONNECTION_COMMANDS.hello([Buffer.from('HELLO'), Buffer.from('3')], ctx, out); // switches ctx.session and out to RESP3
 * ```
 * @module
 */
import type { RespWriter } from '../../protocol/resp-writer.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGPASS, isWord, parseInteger } from './args.js';
import type { Handler } from './handler.js';
import type { RespContext } from './resp-context.js';

/** The Redis version Conduit answers as (HELLO, INFO `redis_version`). */
export const REDIS_VERSION = '7.0.0';

const ERR_NO_PASSWORD =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
const ERR_HELLO_NOAUTH =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';
const DEFAULT_USER = Buffer.from('default');
const ERR_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/**
 * The longest client name, LIB-NAME or LIB-VER a connection may set (Redis
 * has no limit): without one, each connection could hold a value as long as
 * --max-value-size, and a few hundred connections hundreds of megabytes.
 */
export const MAX_CLIENT_ATTR_BYTES = 512;
const ERR_NAME_TOO_LONG = `ERR Client name is longer than ${MAX_CLIENT_ATTR_BYTES} bytes`;

/**
 * AUTH's and HELLO AUTH's check (Redis's ACLAuthenticateUser over the access
 * table, issue 25): the session takes the identity of `user` / `password`
 * (`default` and --resp-password: every right; a `[[tokens]]` id and its
 * token: that entry's rights) and is authenticated; false for WRONGPASS, the
 * session unchanged. Where no AUTH is required, `default` is Redis's `nopass`
 * user: any password logs in and the session keeps what it had (every right,
 * or a client certificate's rights: AUTH never widens them).
 */
function logIn(user: Buffer | undefined, password: Buffer, ctx: RespContext): boolean {
  const { session, server } = ctx;
  if (!server.authRequired && (user === undefined || DEFAULT_USER.equals(user))) {
    session.authenticated = true; // user names are case-sensitive, as in Redis
    return true;
  }
  const identity = server.login(user, password);
  if (identity === undefined) return false;
  session.rights = identity.rights;
  session.credential = identity.credential;
  session.counters = identity.counters;
  session.authenticated = true;
  return true;
}

/** Redis's validateClientName: printable ASCII without spaces (`!` to `~`). */
function validName(name: Uint8Array): boolean {
  for (const c of name) if (c < 0x21 || c > 0x7e) return false;
  return true;
}

/** AUTH [username] password. */
function auth(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  if (args.length > 3) return out.error(ERR_SYNTAX);
  // Redis: the one-argument form when the default user is `nopass` (no AUTH required here).
  if (args.length === 2 && !ctx.server.authRequired) return out.error(ERR_NO_PASSWORD);
  const [user, password] = args.length === 2 ? [undefined, args[1] as Buffer] : [args[1] as Buffer, args[2] as Buffer];
  if (!logIn(user, password, ctx)) return out.error(ERR_WRONGPASS);
  out.simple('OK');
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]]: the server's map, in the new protocol. */
function hello(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  let version: 2 | 3 | undefined;
  if (args.length >= 2) {
    const n = parseInteger(args[1] as Buffer);
    if (n === undefined) return out.error('ERR Protocol version is not an integer or out of range');
    if (n !== 2n && n !== 3n) return out.error('NOPROTO unsupported protocol version');
    version = n === 2n ? 2 : 3;
  }
  let credentials: [Buffer, Buffer] | undefined;
  let name: Buffer | undefined;
  for (let j = 2; j < args.length; j++) {
    const opt = args[j] as Buffer;
    const more = args.length - 1 - j;
    if (isWord(opt, 'auth') && more >= 2) {
      credentials = [args[j + 1] as Buffer, args[j + 2] as Buffer];
      j += 2;
    } else if (isWord(opt, 'setname') && more >= 1) {
      name = args[j + 1] as Buffer;
      if (name.length > MAX_CLIENT_ATTR_BYTES) return out.error(ERR_NAME_TOO_LONG);
      if (!validName(name)) return out.error(ERR_CLIENT_NAME);
      j += 1;
    } else {
      return out.error(`ERR Syntax error in HELLO option '${opt.toString('latin1')}'`);
    }
  }
  const { session } = ctx;
  if (credentials !== undefined && !logIn(credentials[0], credentials[1], ctx)) return out.error(ERR_WRONGPASS);
  if (!session.authenticated) return out.error(ERR_HELLO_NOAUTH);
  if (name !== undefined) session.name = name.length === 0 ? undefined : name.toString('latin1');
  if (version !== undefined) {
    session.protocol = version;
    out.protocol = version;
  }
  out.map(7);
  out.bulk('server');
  out.bulk('redis');
  out.bulk('version');
  out.bulk(REDIS_VERSION);
  out.bulk('proto');
  out.integer(session.protocol);
  out.bulk('id');
  out.integer(session.id);
  out.bulk('mode');
  out.bulk('standalone');
  out.bulk('role');
  out.bulk('master');
  out.bulk('modules');
  out.array(0);
}

/** CLIENT SETNAME name: an empty name removes it. */
function setName(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const name = args[2] as Buffer;
  if (name.length > MAX_CLIENT_ATTR_BYTES) return out.error(ERR_NAME_TOO_LONG);
  if (!validName(name)) return out.error(ERR_CLIENT_NAME);
  ctx.session.name = name.length === 0 ? undefined : name.toString('latin1');
  out.simple('OK');
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2's). */
function setInfo(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const attr = args[2] as Buffer;
  const value = args[3] as Buffer;
  const lib = isWord(attr, 'lib-name') ? 'libName' : isWord(attr, 'lib-ver') ? 'libVersion' : undefined;
  if (lib === undefined) return out.error(`ERR Unrecognized option '${attr.toString('latin1')}'`);
  if (value.length > MAX_CLIENT_ATTR_BYTES) {
    return out.error(`ERR ${attr.toString('latin1')} is longer than ${MAX_CLIENT_ATTR_BYTES} bytes`);
  }
  // Redis 7.2's validateClientAttr: the same characters as a name.
  if (!validName(value)) return out.error(`ERR ${attr.toString('latin1')} cannot contain spaces, newlines or special characters.`);
  ctx.session[lib] = value.length === 0 ? undefined : value.toString('latin1');
  out.simple('OK');
}

/**
 * The connection commands by lower-case name; CLIENT's subcommands as
 * `client|setname` and so on (Redis's full names).
 *
 * @example
 * ```ts
 * CONNECTION_COMMANDS.ping([Buffer.from('PING')], ctx, out); // '+PONG\r\n'
 * ```
 */
export const CONNECTION_COMMANDS: Readonly<Record<string, Handler>> = {
  ping: (args, _ctx, out) => {
    if (args.length > 2) return out.error("ERR wrong number of arguments for 'ping' command");
    if (args.length === 2) out.bulk(args[1]);
    else out.simple('PONG');
  },
  echo: (args, _ctx, out) => out.bulk(args[1]),
  select: (args, _ctx, out) => {
    const n = parseInteger(args[1] as Buffer);
    if (n === undefined) return out.error(ERR_NOT_INTEGER);
    // Redis reads the index as an int (getIntFromObjectOrReply), with its own text for a long.
    if (n < -(2n ** 31n) || n >= 2n ** 31n) return out.error('ERR value is out of range, value must between -2147483648 and 2147483647');
    if (n !== 0n) return out.error('ERR DB index is out of range');
    out.simple('OK');
  },
  quit: (_args, _ctx, out) => {
    out.simple('OK');
    return 'close';
  },
  hello,
  auth,
  'client|setname': setName,
  'client|getname': (_args, ctx, out) => out.bulk(ctx.session.name),
  'client|id': (_args, ctx, out) => out.integer(ctx.session.id),
  'client|setinfo': setInfo,
};
