/**
 * Rights per RESP command (issue 25, docs/RESP.md "Users and permissions"):
 * what each command of the table needs of the session's identity, derived
 * from Redis's own data in `command-table.ts` (flags and key positions), and
 * the check the dispatcher makes before a command runs, with Redis 7.0.15's
 * NOPERM texts. A session without rights (no AUTH needed, no client
 * certificate) and one with every right are not checked.
 *
 * ```text
 *   class  from the flags: readonly → read, write → write, admin → admin;
 *          GETEX, GETDEL, SET … GET → read + write; FLUSHDB, FLUSHALL, DBSIZE,
 *          CONFIG * → admin; INFO, PING, ECHO, SELECT, QUIT, HELLO, AUTH,
 *          CLIENT *, COMMAND *, ACL WHOAMI → none
 *   keys   args[firstKey], args[firstKey + step], … up to lastKey (−1: the last
 *          argument); any one outside the prefixes refuses the whole command
 *   KEYS, SCAN  need read; answer only the keys inside the prefixes (a filter)
 * ```
 *
 * @example
 * ```ts
 * const access = commandAccess(spec);
 * if (session.rights !== undefined && !admitted(access, args, ctx, out)) return; // NOPERM queued
 * ```
 * @module
 */
import type { AccessClass, ForbiddenReason } from '../../protocol/access.js';
import type { RespWriter } from '../../protocol/resp-writer.js';
import type { KeyFilter } from '../../store/list.js';
import type { Rights } from '../access/rights.js';
import { isWord } from './args.js';
import type { CommandSpec } from './command-table.js';
import type { RespContext, RespSession } from './resp-context.js';

/** Redis 7.0.15's NOPERM for a key outside the user's patterns (server.c processCommand, acl.c). */
export const ERR_NOPERM_KEYS = 'NOPERM this user has no permissions to access one of the keys used as arguments';

/**
 * Redis 7.0.15's NOPERM for a command the user may not run, naming it by its full name.
 *
 * @example
 * ```ts
 * noPermission('acl|load'); // "NOPERM this user has no permissions to run the 'acl|load' command"
 * ```
 */
export function noPermission(fullname: string): string {
  return `NOPERM this user has no permissions to run the '${fullname}' command`;
}

/**
 * What one command needs (issue 25): its classes, where its keys are, and
 * whether an option adds `read` (SET's GET). Built once per table entry.
 */
export interface CommandAccess {
  /** Redis's full name, for NOPERM (`set`, `config|get`). */
  readonly name: string;
  /** The classes it always needs (none for the connection commands and INFO). */
  readonly classes: readonly AccessClass[];
  /** The position of its first key (0: it names none), the last (−1: the last argument, −2 the one before…) and the step between them. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  /** SET: with its GET option it also reads (the value it replaces), so it needs read + write. */
  readonly readOption: boolean;
}

const NONE: readonly AccessClass[] = Object.freeze([]);
const READ: readonly AccessClass[] = Object.freeze(['read'] as const);
const WRITE: readonly AccessClass[] = Object.freeze(['write'] as const);
const READ_WRITE: readonly AccessClass[] = Object.freeze(['read', 'write'] as const);
const ADMIN: readonly AccessClass[] = Object.freeze(['admin'] as const);

/**
 * Where Conduit's classes are not the flags' (the rest follow `readonly` / `write` / `admin`):
 * commands that read a value and change the key need both (as GAT and LEASE on the Conduit
 * port, spec §3.17); the whole-server commands need admin; INFO and ACL WHOAMI need nothing
 * (INFO without admin answers its `server` section only, see info.ts).
 */
const OVERRIDES: Readonly<Record<string, readonly AccessClass[]>> = {
  getex: READ_WRITE,
  getdel: READ_WRITE,
  dbsize: ADMIN,
  flushdb: ADMIN,
  flushall: ADMIN,
  info: NONE,
  'acl|whoami': NONE,
};

/** The classes a table entry's flags give, before {@link OVERRIDES}. */
function classesOf(spec: CommandSpec): readonly AccessClass[] {
  const overridden = OVERRIDES[spec.name];
  if (overridden !== undefined) return overridden;
  // Every CONFIG subcommand is admin, its HELP too (Redis flags only GET, SET, RESETSTAT, REWRITE).
  if (spec.flags.includes('admin') || spec.name.startsWith('config|')) return ADMIN;
  if (spec.flags.includes('readonly')) return READ;
  if (spec.flags.includes('write')) return WRITE;
  return NONE;
}

/**
 * What the command of table entry `spec` needs.
 *
 * @example
 * ```ts
 * commandAccess(COMMAND_TABLE.find((c) => c.name === 'mset')!); // { classes: ['write'], firstKey: 1, lastKey: -1, step: 2, … }
 * ```
 */
export function commandAccess(spec: CommandSpec): CommandAccess {
  return Object.freeze({
    name: spec.name,
    classes: classesOf(spec),
    firstKey: spec.firstKey,
    lastKey: spec.lastKey,
    step: spec.step,
    readOption: spec.name === 'set',
  });
}

/** SET's options from args[3] on name GET (an expiry's value is skipped, so `EX get` is not the option). */
function setReads(args: readonly Buffer[]): boolean {
  for (let j = 3; j < args.length; j++) {
    const opt = args[j] as Buffer;
    if (isWord(opt, 'get')) return true;
    if (isWord(opt, 'ex') || isWord(opt, 'px') || isWord(opt, 'exat') || isWord(opt, 'pxat')) j++;
  }
  return false;
}

/** Queues NOPERM for `reason` and counts it for the session's identity. */
function refuse(reason: ForbiddenReason, access: CommandAccess, rights: Rights, ctx: RespContext, out: RespWriter): false {
  ctx.server.accessCounters.forbidden(rights, reason, ctx.session.counters);
  out.error(reason === 'prefix' ? ERR_NOPERM_KEYS : noPermission(access.name));
  return false;
}

/**
 * Whether the session (which has rights) may run the command `args` (spec §3.17 on the
 * RESP port): counts the request for its identity, then checks the classes, then every
 * key; false after queuing Redis's NOPERM and counting the refusal. Nothing runs and
 * nothing is partly done when it is false: a multi-key command with one key outside is
 * refused whole.
 *
 * @example
 * ```ts
 * if (ctx.session.rights !== undefined && !admitted(command.access, args, ctx, out)) return undefined;
 * ```
 */
export function admitted(access: CommandAccess, args: readonly Buffer[], ctx: RespContext, out: RespWriter): boolean {
  const { session } = ctx;
  const rights = session.rights as Rights;
  if (session.counters !== undefined) session.counters.requests += 1;
  if (rights.unrestricted) return true;
  const classes = access.readOption && setReads(args) ? READ_WRITE : access.classes;
  for (const cls of classes) if (!rights.may(cls)) return refuse(cls, access, rights, ctx, out);
  if (access.firstKey > 0 && !rights.everyKey) {
    const last = access.lastKey < 0 ? args.length + access.lastKey : Math.min(access.lastKey, args.length - 1);
    for (let i = access.firstKey; i <= last; i += access.step) {
      const key = args[i] as Buffer;
      if (!rights.keyAllowed(key, 0, key.length)) return refuse('prefix', access, rights, ctx, out);
    }
  }
  return true;
}

/**
 * The store filter of KEYS and SCAN for the session (issue 25): only keys inside its
 * prefixes; `undefined` (every key) without rights or with every key.
 *
 * @example
 * ```ts
 * store.scan(cursor, count, prefix, maxBytes, keyFilter(ctx.session));
 * ```
 */
export function keyFilter(session: RespSession): KeyFilter | undefined {
  return session.rights?.keyFilter;
}

/**
 * Counts a value read for the session's identity (STATS `keyspace_hits` / `keyspace_misses`).
 *
 * @example
 * ```ts
 * const value = store.getView(key);
 * countRead(ctx.session, value !== undefined);
 * ```
 */
export function countRead(session: RespSession, hit: boolean): void {
  const counters = session.counters;
  if (counters === undefined) return;
  if (hit) counters.keyspace_hits += 1;
  else counters.keyspace_misses += 1;
}

/**
 * Counts `n` keys stored for the session's identity (STATS `total_sets`).
 *
 * @example
 * ```ts
 * if (outcome === 'stored') countSets(ctx.session, 1);
 * ```
 */
export function countSets(session: RespSession, n = 1): void {
  if (session.counters !== undefined) session.counters.total_sets += n;
}
