/**
 * The oracle of the RESP permission tables (issue 25; test/unit/resp-permissions.test.ts,
 * test/integration/resp-access.test.ts): every command of the RESP table with sample
 * arguments and the classes it needs, written out by hand from docs/RESP.md "Users and
 * permissions" (not read from src/server/resp/permissions.ts), and the identities the
 * tables run them as. Redis 7.0.15's NOPERM texts.
 */
import type { AccessClass } from '../../src/protocol/access.js';

/** Redis 7.0.15's reply to a key outside the user's patterns. */
export const NOPERM_KEYS = '-NOPERM this user has no permissions to access one of the keys used as arguments\r\n';

/** Redis 7.0.15's reply to a command the user may not run (its full name: `set`, `acl|load`). */
export const noperm = (name: string): string => `-NOPERM this user has no permissions to run the '${name}' command\r\n`;

/** The key inside the prefix `app1:` and the one outside it. */
export const IN = 'app1:k';
export const OUT = 'app2:k';

/**
 * Every command of the table with sample arguments (`K` is the key under test) and the
 * classes it needs: the oracle of the table test. `keyed`: its K is checked against the prefixes.
 */
export const SAMPLES: readonly { args: readonly string[]; name: string; needs: readonly AccessClass[]; keyed: boolean }[] = [
  { args: ['GET', 'K'], name: 'get', needs: ['read'], keyed: true },
  { args: ['SET', 'K', 'v'], name: 'set', needs: ['write'], keyed: true },
  { args: ['SET', 'K', 'v', 'EX', '100'], name: 'set', needs: ['write'], keyed: true },
  { args: ['SET', 'K', 'v', 'GET'], name: 'set', needs: ['read', 'write'], keyed: true },
  { args: ['SET', 'K', 'v', 'px', '100', 'get'], name: 'set', needs: ['read', 'write'], keyed: true },
  { args: ['SETNX', 'K', 'v'], name: 'setnx', needs: ['write'], keyed: true },
  { args: ['SETEX', 'K', '100', 'v'], name: 'setex', needs: ['write'], keyed: true },
  { args: ['PSETEX', 'K', '100000', 'v'], name: 'psetex', needs: ['write'], keyed: true },
  { args: ['GETEX', 'K'], name: 'getex', needs: ['read', 'write'], keyed: true },
  { args: ['GETDEL', 'K'], name: 'getdel', needs: ['read', 'write'], keyed: true },
  { args: ['MGET', 'K'], name: 'mget', needs: ['read'], keyed: true },
  { args: ['MSET', 'K', 'v'], name: 'mset', needs: ['write'], keyed: true },
  { args: ['MSETNX', 'K', 'v'], name: 'msetnx', needs: ['write'], keyed: true },
  { args: ['APPEND', 'K', 'v'], name: 'append', needs: ['write'], keyed: true },
  { args: ['STRLEN', 'K'], name: 'strlen', needs: ['read'], keyed: true },
  { args: ['INCR', 'K'], name: 'incr', needs: ['write'], keyed: true },
  { args: ['DECR', 'K'], name: 'decr', needs: ['write'], keyed: true },
  { args: ['INCRBY', 'K', '2'], name: 'incrby', needs: ['write'], keyed: true },
  { args: ['DECRBY', 'K', '2'], name: 'decrby', needs: ['write'], keyed: true },
  { args: ['DEL', 'K'], name: 'del', needs: ['write'], keyed: true },
  { args: ['UNLINK', 'K'], name: 'unlink', needs: ['write'], keyed: true },
  { args: ['EXISTS', 'K'], name: 'exists', needs: ['read'], keyed: true },
  { args: ['TYPE', 'K'], name: 'type', needs: ['read'], keyed: true },
  { args: ['KEYS', '*'], name: 'keys', needs: ['read'], keyed: false },
  { args: ['SCAN', '0'], name: 'scan', needs: ['read'], keyed: false },
  { args: ['DBSIZE'], name: 'dbsize', needs: ['admin'], keyed: false },
  { args: ['FLUSHDB'], name: 'flushdb', needs: ['admin'], keyed: false },
  { args: ['FLUSHALL'], name: 'flushall', needs: ['admin'], keyed: false },
  { args: ['EXPIRE', 'K', '100'], name: 'expire', needs: ['write'], keyed: true },
  { args: ['PEXPIRE', 'K', '100000'], name: 'pexpire', needs: ['write'], keyed: true },
  { args: ['EXPIREAT', 'K', '99999999999'], name: 'expireat', needs: ['write'], keyed: true },
  { args: ['PEXPIREAT', 'K', '99999999999000'], name: 'pexpireat', needs: ['write'], keyed: true },
  { args: ['TTL', 'K'], name: 'ttl', needs: ['read'], keyed: true },
  { args: ['PTTL', 'K'], name: 'pttl', needs: ['read'], keyed: true },
  { args: ['PERSIST', 'K'], name: 'persist', needs: ['write'], keyed: true },
  { args: ['EXPIRETIME', 'K'], name: 'expiretime', needs: ['read'], keyed: true },
  { args: ['PEXPIRETIME', 'K'], name: 'pexpiretime', needs: ['read'], keyed: true },
  { args: ['PING'], name: 'ping', needs: [], keyed: false },
  { args: ['ECHO', 'K'], name: 'echo', needs: [], keyed: false },
  { args: ['SELECT', '0'], name: 'select', needs: [], keyed: false },
  { args: ['QUIT'], name: 'quit', needs: [], keyed: false },
  { args: ['HELLO'], name: 'hello', needs: [], keyed: false },
  { args: ['AUTH', 'default', 'x'], name: 'auth', needs: [], keyed: false },
  { args: ['CLIENT', 'SETNAME', 'me'], name: 'client|setname', needs: [], keyed: false },
  { args: ['CLIENT', 'GETNAME'], name: 'client|getname', needs: [], keyed: false },
  { args: ['CLIENT', 'ID'], name: 'client|id', needs: [], keyed: false },
  { args: ['CLIENT', 'HELP'], name: 'client|help', needs: [], keyed: false },
  { args: ['CLIENT', 'SETINFO', 'LIB-NAME', 'x'], name: 'client|setinfo', needs: [], keyed: false },
  { args: ['INFO'], name: 'info', needs: [], keyed: false },
  { args: ['COMMAND', 'COUNT'], name: 'command|count', needs: [], keyed: false },
  { args: ['COMMAND', 'INFO', 'get'], name: 'command|info', needs: [], keyed: false },
  { args: ['COMMAND', 'DOCS', 'get'], name: 'command|docs', needs: [], keyed: false },
  { args: ['COMMAND', 'LIST'], name: 'command|list', needs: [], keyed: false },
  { args: ['COMMAND', 'HELP'], name: 'command|help', needs: [], keyed: false },
  { args: ['CONFIG', 'GET', 'maxmemory'], name: 'config|get', needs: ['admin'], keyed: false },
  { args: ['CONFIG', 'SET', 'maxmemory', '1'], name: 'config|set', needs: ['admin'], keyed: false },
  { args: ['CONFIG', 'RESETSTAT'], name: 'config|resetstat', needs: ['admin'], keyed: false },
  { args: ['CONFIG', 'REWRITE'], name: 'config|rewrite', needs: ['admin'], keyed: false },
  { args: ['CONFIG', 'HELP'], name: 'config|help', needs: ['admin'], keyed: false },
  { args: ['ACL', 'WHOAMI'], name: 'acl|whoami', needs: [], keyed: false },
  { args: ['ACL', 'LOAD'], name: 'acl|load', needs: ['admin'], keyed: false },
];

/** The identities of the table: each class alone, none, all three, each limited to `app1:`. */
export const IDENTITIES: readonly { label: string; allow: readonly AccessClass[] }[] = [
  { label: 'read', allow: ['read'] },
  { label: 'write', allow: ['write'] },
  { label: 'admin', allow: ['admin'] },
  { label: 'read+write', allow: ['read', 'write'] },
  { label: 'nothing', allow: [] },
  { label: 'all classes', allow: ['read', 'write', 'admin'] },
];
