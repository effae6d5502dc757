// Issue 23: Conduit's RESP port against a real redis-server (Debian's 7.0.15), through
// real clients — ioredis, node-redis (`redis`), redis-cli — and a bare socket that sees the
// exact bytes, each in RESP2 and RESP3. Every row of the table runs through every client
// against both servers in the same test, from an empty keyspace, and the replies must be
// equal: value, type and error text. Rows that read a clock (TTL, PTTL, EXPIRETIME) allow
// the few milliseconds between the two runs; KEYS is compared as a set (each server has its
// own order); HELLO and CLIENT ID mask the connection id and the version. What Conduit
// answers differently on purpose is listed at the end (DIFFERENCES), each with its reason,
// and checked on both sides: the difference is exactly the documented one (docs/RESP.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { redisCli, requireRedisTools, startRedisServer, type RedisServer } from '../support/redis.js';
import { CLIENTS, closeEnough, connectRunner, libValue, type ClientKind, type Cmd, type Runner, type Shape } from '../support/resp-compare.js';
import { encodeCommand, RespWire } from '../support/resp-wire.js';
import { ComposedServer } from '../../src/cli/compose.js';

const MiB = 1024 * 1024;
const MAX_MEMORY = 256 * MiB;
const MAX_VALUE = MiB; // Conduit's default --max-value-size

/** A row of the table: commands run in order on an empty keyspace; every reply is compared. */
interface Row extends Shape {
  readonly name: string;
  readonly cmds: readonly Cmd[] | (() => readonly Cmd[]);
  /** Integers may differ by this much (TTLs read on two servers a few ms apart). */
  readonly tol?: number;
  /** Only these clients (rows that change the connection's protocol or close it). */
  readonly clients?: readonly ClientKind[];
  /** A new connection for this row (HELLO, AUTH: the state must not leak into later rows). */
  readonly fresh?: boolean;
}

const WIRE_AND_CLI: readonly ClientKind[] = ['raw', 'raw3', 'redis-cli', 'redis-cli3'];
const BIN = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const KEY250 = Buffer.from(Array.from({ length: 250 }, (_, i) => (i * 7 + 1) % 256));
const BIG = Buffer.alloc(MAX_VALUE - 4096, 0x61);
const now = (): number => Math.floor(Date.now() / 1000);
const ID_AND_VERSION = [
  /\{"[$+]":"(?:id|version)"\},\{"[:$+]":"[^"]*"\}/g, // raw / raw3, decoded
  /"(?:id|version)" => (?:\(integer\) \d+|"[^"]*")/g, // redis-cli, a map (RESP3)
  /"(?:id|version)"\n\s*\d+\) (?:\(integer\) \d+|"[^"]*")/g, // redis-cli, a flat array (RESP2)
];
const INTEGERS = [/\d+/g];

const c = (...args: (string | Buffer)[]): Cmd => args;

const ROWS: Row[] = [
  // ---- GET / SET and its options
  { name: 'SET then GET', cmds: [c('SET', 'k', 'v'), c('GET', 'k'), c('GET', 'missing')] },
  { name: 'SET binary value (all 256 byte values) and binary key', cmds: [c('SET', BIN.subarray(1, 200), BIN), c('GET', BIN.subarray(1, 200)), c('STRLEN', BIN.subarray(1, 200))] },
  { name: 'SET a 250-byte key (Conduit\'s longest)', cmds: [c('SET', KEY250, 'v'), c('GET', KEY250), c('EXISTS', KEY250)] },
  { name: 'SET an empty value', cmds: [c('SET', 'k', ''), c('GET', 'k'), c('STRLEN', 'k')] },
  { name: 'SET a value near --max-value-size', cmds: [c('SET', 'k', BIG), c('STRLEN', 'k'), c('GET', 'k')] },
  { name: 'SET EX then TTL (rounded), PTTL', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('TTL', 'k'), c('PTTL', 'k')], tol: 1000 },
  // Rounded, not truncated: (ms + 500) / 1000. Each answer holds for 400 ms of delay or more.
  { name: 'TTL rounds to the nearest second: PX 1900 → 2, PX 1200 → 1, PX 2900 → 3', cmds: [c('SET', 'a', 'v', 'PX', '1900'), c('SET', 'b', 'v', 'PX', '1200'), c('SET', 'c', 'v', 'PX', '2900'), c('TTL', 'a'), c('TTL', 'b'), c('TTL', 'c')] },
  { name: 'TTL / PTTL of a key without expiry (-1) and a missing key (-2)', cmds: [c('SET', 'k', 'v'), c('TTL', 'k'), c('PTTL', 'k'), c('TTL', 'missing'), c('PTTL', 'missing')] },
  { name: 'SET PX', cmds: [c('SET', 'k', 'v', 'PX', '50000'), c('PTTL', 'k')], tol: 1000 },
  { name: 'SET PX at Conduit\'s limit (2^32-1 ms)', cmds: [c('SET', 'k', 'v', 'PX', '4294967295'), c('TTL', 'k')], tol: 2 },
  { name: 'SET EXAT / PXAT in the future', cmds: () => [c('SET', 'a', 'v', 'EXAT', String(now() + 100)), c('SET', 'b', 'v', 'PXAT', String(Date.now() + 100_000)), c('TTL', 'a'), c('TTL', 'b'), c('EXPIRETIME', 'a')], tol: 2 },
  { name: 'SET EXAT / PXAT in the past: OK and gone', cmds: [c('SET', 'a', 'v', 'EXAT', '1'), c('SET', 'b', 'v', 'PXAT', '1'), c('GET', 'a'), c('EXISTS', 'a', 'b'), c('DBSIZE')] },
  { name: 'SET EX 0, EX -1, PX 0: invalid expire time', cmds: [c('SET', 'k', 'v', 'EX', '0'), c('SET', 'k', 'v', 'EX', '-1'), c('SET', 'k', 'v', 'PX', '0'), c('SET', 'k', 'v', 'EXAT', '0'), c('SET', 'k', 'v', 'PXAT', '-5'), c('EXISTS', 'k')] },
  { name: 'SET EX overflow: invalid expire time', cmds: [c('SET', 'k', 'v', 'EX', '9223372036854775807'), c('SET', 'k', 'v', 'PX', '9223372036854775807'), c('SET', 'k', 'v', 'EXAT', '9223372036854775807'), c('SET', 'k', 'v', 'EX', '9223372036854776')] },
  { name: 'SET EX not an integer', cmds: [c('SET', 'k', 'v', 'EX', 'abc'), c('SET', 'k', 'v', 'EX', '1.5'), c('SET', 'k', 'v', 'PX', ''), c('SET', 'k', 'v', 'EX', '9223372036854775808')] },
  { name: 'SET EX without a number: syntax error', cmds: [c('SET', 'k', 'v', 'EX'), c('SET', 'k', 'v', 'PX')] },
  { name: 'SET conflicting options: syntax error', cmds: [c('SET', 'k', 'v', 'NX', 'XX'), c('SET', 'k', 'v', 'EX', '10', 'PX', '10'), c('SET', 'k', 'v', 'KEEPTTL', 'EX', '10'), c('SET', 'k', 'v', 'EX', '10', 'KEEPTTL'), c('SET', 'k', 'v', 'FOO'), c('SET', 'k', 'v', 'EX', '10', 'EX', '10'), c('SET', 'k', 'v', 'NX', 'NX')] },
  { name: 'SET options in any case', cmds: [c('set', 'k', 'v', 'ex', '100', 'nx'), c('SeT', 'k', 'w', 'xX', 'gEt'), c('GET', 'k')] },
  { name: 'SET NX on missing and existing', cmds: [c('SET', 'k', 'v', 'NX'), c('SET', 'k', 'w', 'NX'), c('GET', 'k')] },
  { name: 'SET XX on missing and existing', cmds: [c('SET', 'k', 'v', 'XX'), c('GET', 'k'), c('SET', 'k', 'v'), c('SET', 'k', 'w', 'XX'), c('GET', 'k')] },
  { name: 'SET GET returns the old value', cmds: [c('SET', 'k', 'v', 'GET'), c('SET', 'k', 'w', 'GET'), c('GET', 'k')] },
  { name: 'SET NX GET and XX GET (Redis 7.0)', cmds: [c('SET', 'k', 'v', 'NX', 'GET'), c('SET', 'k', 'w', 'NX', 'GET'), c('SET', 'k', 'x', 'XX', 'GET'), c('SET', 'm', 'x', 'XX', 'GET'), c('GET', 'k'), c('EXISTS', 'm')] },
  { name: 'SET KEEPTTL keeps the expiry; plain SET drops it', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('SET', 'k', 'w', 'KEEPTTL'), c('TTL', 'k'), c('SET', 'k', 'x'), c('TTL', 'k'), c('GET', 'k')], tol: 1 },
  { name: 'SET wrong arity', cmds: [c('SET'), c('SET', 'k')] },
  { name: 'GET wrong arity', cmds: [c('GET'), c('GET', 'a', 'b')] },
  { name: 'SETNX', cmds: [c('SETNX', 'k', 'v'), c('SETNX', 'k', 'w'), c('GET', 'k'), c('SETNX', 'k')] },
  { name: 'SETEX and PSETEX', cmds: [c('SETEX', 'k', '100', 'v'), c('TTL', 'k'), c('PSETEX', 'p', '100000', 'v'), c('TTL', 'p'), c('GET', 'p')], tol: 1 },
  { name: 'SETEX / PSETEX invalid expire times', cmds: [c('SETEX', 'k', '0', 'v'), c('SETEX', 'k', '-1', 'v'), c('PSETEX', 'k', '0', 'v'), c('SETEX', 'k', 'abc', 'v'), c('SETEX', 'k', '9223372036854775807', 'v'), c('SETEX', 'k', '10'), c('EXISTS', 'k')] },
  // ---- GETEX, GETDEL
  { name: 'GETEX without options', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('GETEX', 'k'), c('TTL', 'k')], tol: 1 },
  { name: 'GETEX EX / PX / EXAT / PXAT', cmds: () => [c('SET', 'k', 'v'), c('GETEX', 'k', 'EX', '100'), c('TTL', 'k'), c('GETEX', 'k', 'PX', '200000'), c('TTL', 'k'), c('GETEX', 'k', 'EXAT', String(now() + 300)), c('TTL', 'k'), c('GETEX', 'k', 'PXAT', String(Date.now() + 400_000)), c('TTL', 'k')], tol: 2 },
  { name: 'GETEX PERSIST', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('GETEX', 'k', 'PERSIST'), c('TTL', 'k')] },
  { name: 'GETEX EXAT in the past deletes', cmds: [c('SET', 'k', 'v'), c('GETEX', 'k', 'EXAT', '1'), c('EXISTS', 'k')] },
  { name: 'GETEX on a missing key ignores a bad expiry', cmds: [c('GETEX', 'missing', 'EX', '0'), c('GETEX', 'missing', 'PERSIST')] },
  { name: 'GETEX errors', cmds: [c('SET', 'k', 'v'), c('GETEX', 'k', 'EX', '0'), c('GETEX', 'k', 'EX', '10', 'PX', '10'), c('GETEX', 'k', 'PERSIST', 'EX', '10'), c('GETEX', 'k', 'EX'), c('GETEX', 'k', 'FOO'), c('GETEX', 'k', 'EX', 'abc'), c('GETEX'), c('TTL', 'k')] },
  { name: 'GETDEL', cmds: [c('SET', 'k', BIN), c('GETDEL', 'k'), c('GETDEL', 'k'), c('EXISTS', 'k'), c('GETDEL'), c('GETDEL', 'a', 'b')] },
  // ---- MGET, MSET, MSETNX
  { name: 'MGET with missing keys', cmds: [c('SET', 'a', '1'), c('SET', 'c', BIN), c('MGET', 'a', 'b', 'c', 'a'), c('MGET')] },
  { name: 'MSET', cmds: [c('MSET', 'a', '1', 'b', '2', 'a', '3'), c('MGET', 'a', 'b'), c('MSET', 'a'), c('MSET', 'a', '1', 'b'), c('MSET')] },
  { name: 'MSET drops expiries', cmds: [c('SET', 'a', 'v', 'EX', '100'), c('MSET', 'a', 'w'), c('TTL', 'a')] },
  { name: 'MSETNX', cmds: [c('MSETNX', 'a', '1', 'b', '2'), c('MSETNX', 'b', '3', 'c', '4'), c('MGET', 'a', 'b', 'c'), c('MSETNX', 'a'), c('MSETNX', 'x', '1', 'y')] },
  // ---- DEL, UNLINK, EXISTS
  { name: 'DEL / UNLINK count what they removed', cmds: [c('MSET', 'a', '1', 'b', '2', 'c', '3'), c('DEL', 'a', 'b', 'x', 'a'), c('UNLINK', 'c', 'c', 'y'), c('DBSIZE'), c('DEL'), c('UNLINK')] },
  { name: 'EXISTS counts repeats', cmds: [c('SET', 'a', '1'), c('EXISTS', 'a', 'a', 'b', 'a'), c('EXISTS', 'b'), c('EXISTS')] },
  // ---- INCR family
  { name: 'INCR / DECR / INCRBY / DECRBY', cmds: [c('INCR', 'n'), c('INCR', 'n'), c('DECR', 'n'), c('INCRBY', 'n', '100'), c('DECRBY', 'n', '-50'), c('INCRBY', 'n', '-1000'), c('GET', 'n'), c('DECR', 'm'), c('INCRBY', 'o', '0')] },
  { name: 'INCR keeps the expiry', cmds: [c('SET', 'n', '5', 'EX', '100'), c('INCR', 'n'), c('TTL', 'n'), c('GET', 'n')], tol: 1 },
  { name: 'INCR on a non-integer', cmds: [c('SET', 'a', 'abc'), c('INCR', 'a'), c('SET', 'b', ' 1'), c('INCR', 'b'), c('SET', 'c', '01'), c('INCR', 'c'), c('SET', 'd', ''), c('INCR', 'd'), c('SET', 'e', '1.5'), c('INCR', 'e'), c('SET', 'f', '-0'), c('INCR', 'f'), c('SET', 'g', '+1'), c('INCR', 'g'), c('SET', 'h', BIN), c('INCR', 'h'), c('MGET', 'a', 'c', 'f')] },
  { name: 'INCR at the edges of a signed 64-bit integer', cmds: [c('SET', 'n', '9223372036854775806'), c('INCR', 'n'), c('INCR', 'n'), c('GET', 'n'), c('SET', 'm', '-9223372036854775807'), c('DECR', 'm'), c('DECR', 'm'), c('INCRBY', 'm', '-1'), c('GET', 'm'), c('SET', 'o', '9223372036854775808'), c('INCR', 'o'), c('SET', 'p', '0'), c('DECRBY', 'p', '-9223372036854775808'), c('INCRBY', 'p', '-9223372036854775808'), c('GET', 'p')] },
  { name: 'INCRBY / DECRBY with a bad increment', cmds: [c('INCRBY', 'n', 'abc'), c('INCRBY', 'n', '1.5'), c('INCRBY', 'n', '9223372036854775808'), c('DECRBY', 'n', ''), c('INCRBY', 'n'), c('INCR'), c('DECR', 'a', 'b'), c('EXISTS', 'n')] },
  // ---- APPEND, STRLEN
  { name: 'APPEND and STRLEN', cmds: [c('APPEND', 'k', 'ab'), c('APPEND', 'k', BIN), c('APPEND', 'k', ''), c('STRLEN', 'k'), c('GET', 'k'), c('STRLEN', 'missing'), c('APPEND', 'k'), c('STRLEN')] },
  { name: 'APPEND keeps the expiry', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('APPEND', 'k', 'w'), c('TTL', 'k')], tol: 1 },
  // ---- EXPIRE family
  { name: 'EXPIRE / PEXPIRE then TTL', cmds: [c('SET', 'k', 'v'), c('EXPIRE', 'k', '100'), c('TTL', 'k'), c('PEXPIRE', 'k', '200000'), c('TTL', 'k'), c('EXPIRE', 'missing', '10')], tol: 1 },
  { name: 'EXPIREAT / PEXPIREAT then EXPIRETIME / PEXPIRETIME', cmds: () => [c('SET', 'k', 'v'), c('EXPIREAT', 'k', String(now() + 100)), c('EXPIRETIME', 'k'), c('PEXPIREAT', 'k', String(Date.now() + 200_000)), c('PEXPIRETIME', 'k'), c('EXPIRETIME', 'k')], tol: 2_000 },
  { name: 'EXPIRETIME / PEXPIRETIME of no expiry (-1) and a missing key (-2)', cmds: [c('SET', 'k', 'v'), c('EXPIRETIME', 'k'), c('PEXPIRETIME', 'k'), c('EXPIRETIME', 'x'), c('PEXPIRETIME', 'x'), c('EXPIRETIME'), c('PEXPIRETIME', 'a', 'b')] },
  { name: 'EXPIRE 0 and negative delete the key', cmds: [c('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'), c('EXPIRE', 'a', '0'), c('PEXPIRE', 'b', '-5'), c('EXPIREAT', 'c', '1'), c('PEXPIREAT', 'd', '0'), c('DBSIZE')] },
  { name: 'EXPIRE NX / XX / GT / LT', cmds: [c('SET', 'k', 'v'), c('EXPIRE', 'k', '100', 'XX'), c('EXPIRE', 'k', '100', 'GT'), c('EXPIRE', 'k', '100', 'LT'), c('EXPIRE', 'k', '200', 'NX'), c('EXPIRE', 'k', '300', 'NX'), c('EXPIRE', 'k', '50', 'GT'), c('EXPIRE', 'k', '500', 'GT'), c('EXPIRE', 'k', '600', 'LT'), c('EXPIRE', 'k', '400', 'lt'), c('EXPIRE', 'k', '450', 'XX'), c('TTL', 'k')], tol: 1 },
  { name: 'PEXPIRE / EXPIREAT / PEXPIREAT with NX XX GT LT', cmds: () => [c('SET', 'k', 'v'), c('PEXPIRE', 'k', '100000', 'NX'), c('PEXPIRE', 'k', '50000', 'GT'), c('EXPIREAT', 'k', String(now() + 500), 'GT'), c('PEXPIREAT', 'k', String(Date.now() + 1_000_000), 'LT'), c('EXPIREAT', 'k', String(now() + 50), 'LT'), c('TTL', 'k')], tol: 1 },
  { name: 'EXPIRE option errors', cmds: [c('SET', 'k', 'v'), c('EXPIRE', 'k', '100', 'NX', 'XX'), c('EXPIRE', 'k', '100', 'GT', 'LT'), c('EXPIRE', 'k', '100', 'NX', 'GT'), c('EXPIRE', 'k', '100', 'FOO'), c('EXPIRE', 'k', 'abc'), c('EXPIRE', 'k'), c('PEXPIRE', 'k', '1.5'), c('TTL', 'k')] },
  { name: 'EXPIRE overflow: invalid expire time', cmds: [c('SET', 'k', 'v'), c('EXPIRE', 'k', '9223372036854775807'), c('PEXPIRE', 'k', '9223372036854775807'), c('EXPIREAT', 'k', '9223372036854775807'), c('EXPIRE', 'k', '-9223372036854775808'), c('TTL', 'k')] },
  { name: 'PERSIST', cmds: [c('SET', 'k', 'v', 'EX', '100'), c('PERSIST', 'k'), c('PERSIST', 'k'), c('TTL', 'k'), c('PERSIST', 'missing'), c('PERSIST')] },
  { name: 'TTL / PTTL wrong arity', cmds: [c('TTL'), c('PTTL', 'a', 'b'), c('EXPIRE'), c('PEXPIREAT', 'k')] },
  // ---- TYPE, KEYS, DBSIZE, FLUSH*
  { name: 'TYPE', cmds: [c('SET', 'k', 'v'), c('TYPE', 'k'), c('TYPE', 'missing'), c('TYPE')] },
  { name: 'KEYS globs', sort: true, cmds: [c('MSET', 'hello', '1', 'hallo', '2', 'hxllo', '3', 'hllo', '4', 'heeeello', '5', 'h*llo', '6', 'other', '7'), c('KEYS', '*'), c('KEYS', 'h?llo'), c('KEYS', 'h*llo'), c('KEYS', 'h[ae]llo'), c('KEYS', 'h[^e]llo'), c('KEYS', 'h[a-b]llo'), c('KEYS', 'h\\*llo'), c('KEYS', 'nothing*'), c('KEYS')] },
  { name: 'KEYS with binary keys', sort: true, cmds: [c('SET', BIN.subarray(0, 10), '1'), c('SET', BIN.subarray(200, 250), '2'), c('KEYS', '*')] },
  { name: 'DBSIZE, FLUSHDB, FLUSHALL', cmds: [c('MSET', 'a', '1', 'b', '2'), c('DBSIZE'), c('FLUSHDB'), c('DBSIZE'), c('SET', 'c', '3'), c('FLUSHALL', 'ASYNC'), c('DBSIZE'), c('FLUSHALL', 'SYNC'), c('FLUSHDB', 'async'), c('FLUSHALL', 'FOO'), c('FLUSHALL', 'SYNC', 'ASYNC'), c('DBSIZE', 'x')] },
  // ---- connection and server commands
  { name: 'PING and ECHO', cmds: [c('PING'), c('PING', 'hello'), c('PING', BIN), c('PING', 'a', 'b'), c('ECHO', BIN), c('ECHO'), c('ECHO', 'a', 'b')] },
  { name: 'SELECT (Redis started with --databases 1)', cmds: [c('SELECT', '0'), c('SELECT', '1'), c('SELECT', '-1'), c('SELECT', 'abc'), c('SELECT')] },
  { name: 'CLIENT SETNAME / GETNAME', cmds: [c('CLIENT', 'GETNAME'), c('CLIENT', 'SETNAME', 'conduit-test'), c('CLIENT', 'GETNAME'), c('CLIENT', 'SETNAME', 'a b'), c('CLIENT', 'SETNAME', 'a\nb'), c('CLIENT', 'SETNAME', ''), c('CLIENT', 'GETNAME'), c('CLIENT', 'SETNAME'), c('CLIENT', 'GETNAME', 'x')], fresh: true },
  { name: 'CLIENT ID is an integer', cmds: [c('CLIENT', 'ID'), c('CLIENT', 'ID', 'x')], mask: INTEGERS },
  { name: 'CLIENT with an unknown subcommand', cmds: [c('CLIENT', 'FOO'), c('CLIENT', 'foo', 'bar'), c('CLIENT')] },
  { name: 'CONFIG GET the parameters tools ask for', cmds: [c('CONFIG', 'GET', 'maxmemory'), c('CONFIG', 'GET', 'maxmemory-policy'), c('CONFIG', 'GET', 'save'), c('CONFIG', 'GET', 'appendonly'), c('CONFIG', 'GET', 'databases'), c('CONFIG', 'GET', 'no-such-parameter'), c('CONFIG', 'GET'), c('CONFIG', 'GET', 'SAVE'), c('CONFIG', 'GET', 'MaxMemory'), c('CONFIG', 'GET', 'save', 'SAVE'), c('CONFIG', 'GET', 'appendonl?')] },
  { name: 'AUTH without a configured password', cmds: [c('AUTH', 'secret'), c('AUTH'), c('AUTH', 'a', 'b', 'c')], fresh: true },
  { name: 'unknown commands, worded as Redis 7.0 does', cmds: [c('FOO'), c('foo', 'a', 'b'), c('NOPE', 'x'.repeat(200)), c('nope', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh', 'ii', 'jj', 'kk')] },
  // ---- HELLO (changes the protocol of the connection: bare sockets and redis-cli, each on a new connection)
  { name: 'HELLO without a version', cmds: [c('HELLO')], clients: WIRE_AND_CLI, fresh: true, mask: ID_AND_VERSION },
  { name: 'HELLO 3 then RESP3 replies', cmds: [c('HELLO', '3'), c('SET', 'k', 'v'), c('GET', 'k'), c('GET', 'missing'), c('MGET', 'k', 'missing'), c('TTL', 'k'), c('CONFIG', 'GET', 'save'), c('FOO')], clients: WIRE_AND_CLI, fresh: true, mask: ID_AND_VERSION },
  { name: 'HELLO 2 after HELLO 3', cmds: [c('HELLO', '3'), c('HELLO', '2'), c('GET', 'missing'), c('CONFIG', 'GET', 'databases')], clients: WIRE_AND_CLI, fresh: true, mask: ID_AND_VERSION },
  { name: 'HELLO SETNAME', cmds: [c('HELLO', '3', 'SETNAME', 'via-hello'), c('CLIENT', 'GETNAME')], clients: WIRE_AND_CLI, fresh: true, mask: ID_AND_VERSION },
  { name: 'HELLO errors', cmds: [c('HELLO', '4'), c('HELLO', '1'), c('HELLO', 'abc'), c('HELLO', '3', 'FOO'), c('HELLO', '3', 'AUTH', 'default'), c('HELLO', '3', 'SETNAME'), c('GET', 'missing')], clients: WIRE_AND_CLI, fresh: true, mask: ID_AND_VERSION },
];

/** Replies Conduit gives on purpose where Redis answers otherwise (docs/RESP.md, "Differences from Redis"). */
interface Difference {
  readonly name: string;
  readonly reason: string;
  readonly cmds: readonly Cmd[];
  /** The last command's exact reply from Conduit (a RegExp where Conduit's own wording is free). */
  readonly conduit: string | RegExp;
  /** The last command's exact reply from redis-server 7.0.15; `null`: not sent to Redis (it would stop or change it). */
  readonly redis: string | RegExp | null;
}

const DIFFERENCES: Difference[] = [
  { name: 'an empty key', reason: 'Conduit keys are 1 to 250 bytes (spec §2); Redis takes any key up to 512 MB',
    cmds: [c('SET', '', 'v')], conduit: '-ERR invalid key length: Conduit keys are 1 to 250 bytes\r\n', redis: '+OK\r\n' },
  { name: 'a 251-byte key', reason: 'Conduit keys are 1 to 250 bytes',
    cmds: [c('GET', 'k'.repeat(251))], conduit: '-ERR invalid key length: Conduit keys are 1 to 250 bytes\r\n', redis: '$-1\r\n' },
  { name: 'a TTL past 2^32-1 ms', reason: 'the store keeps expiries up to MAX_TTL_MS (about 49.7 days)',
    cmds: [c('SET', 'k', 'v', 'PX', '4294967296')], conduit: "-ERR expire time exceeds Conduit's limit of 4294967295 ms\r\n", redis: '+OK\r\n' },
  { name: 'EXPIRE past 2^32-1 ms', reason: 'the store keeps expiries up to MAX_TTL_MS',
    cmds: [c('SET', 'k', 'v'), c('EXPIRE', 'k', '4294968')], conduit: "-ERR expire time exceeds Conduit's limit of 4294967295 ms\r\n", redis: ':1\r\n' },
  { name: 'APPEND past --max-value-size', reason: 'a value is at most --max-value-size (1 MiB by default); Redis allows 512 MB',
    cmds: [c('SET', 'k', Buffer.alloc(MAX_VALUE, 0x61)), c('APPEND', 'k', 'x')], conduit: '-ERR string exceeds maximum allowed size (--max-value-size)\r\n', redis: `:${MAX_VALUE + 1}\r\n` },
  { name: 'CLIENT SETINFO', reason: 'Conduit has Redis 7.2\'s CLIENT SETINFO (clients send it on connect); Redis 7.0.15 does not',
    cmds: [c('CLIENT', 'SETINFO', 'LIB-NAME', 'x')], conduit: '+OK\r\n', redis: "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n" },
  { name: 'a list command', reason: 'only strings: the cache subset of Redis\'s commands',
    cmds: [c('LPUSH', 'l', 'a')], conduit: "-ERR unknown command 'LPUSH', with args beginning with: 'l' 'a' \r\n", redis: ':1\r\n' },
  { name: 'MULTI', reason: 'no transactions: every command is atomic on its own',
    cmds: [c('MULTI')], conduit: "-ERR unknown command 'MULTI', with args beginning with: \r\n", redis: '+OK\r\n' },
  { name: 'SUBSCRIBE', reason: 'no pub/sub (Conduit has key tracking on its own protocol instead)',
    cmds: [c('SUBSCRIBE', 'ch')], conduit: "-ERR unknown command 'SUBSCRIBE', with args beginning with: 'ch' \r\n", redis: /^\*3\r\n\$9\r\nsubscribe\r\n/ },
  { name: 'INCRBYFLOAT', reason: 'the INCR family is the store\'s ASCII-decimal 64-bit integer',
    cmds: [c('INCRBYFLOAT', 'n', '1.5')], conduit: "-ERR unknown command 'INCRBYFLOAT', with args beginning with: 'n' '1.5' \r\n", redis: '$3\r\n1.5\r\n' },
  { name: 'RENAME', reason: 'not in the cache subset (no atomic rename in the store)',
    cmds: [c('SET', 'a', 'v'), c('RENAME', 'a', 'b')], conduit: "-ERR unknown command 'RENAME', with args beginning with: 'a' 'b' \r\n", redis: '+OK\r\n' },
  { name: 'CONFIG SET', reason: 'settings are command-line options; nothing changes at run time',
    cmds: [c('CONFIG', 'SET', 'maxmemory', String(MAX_MEMORY))], conduit: /^-ERR [^\r\n]*\r\n$/, redis: '+OK\r\n' },
  { name: 'SHUTDOWN', reason: 'a RESP client cannot stop the server (the Conduit port\'s SHUTDOWN needs --allow-shutdown)',
    cmds: [c('SHUTDOWN')], conduit: "-ERR unknown command 'SHUTDOWN', with args beginning with: \r\n", redis: null },
];

let redis: RedisServer;
// One Conduit for the whole file (test/support/server.ts's startServer stops its servers after each test).
let conduit: ComposedServer | undefined;
let conduitPort: number;
const ports = (): { name: string; port: number }[] => [{ name: 'redis', port: redis.port }, { name: 'conduit', port: conduitPort }];

beforeAll(async () => {
  requireRedisTools();
  // The same budget, policy and one database on both, so CONFIG GET and SELECT agree.
  redis = await startRedisServer(['--maxmemory', String(MAX_MEMORY), '--maxmemory-policy', 'allkeys-lru', '--databases', '1']);
  conduit = new ComposedServer({ host: '127.0.0.1', port: 0, respPort: 0, maxMemory: MAX_MEMORY, eviction: 'lru', shutdownTimeoutMs: 2_000 });
  const { respPort } = await conduit.listen();
  if (respPort === undefined) throw new Error('the server did not report a RESP port');
  conduitPort = respPort;
}, 600_000);

afterAll(async () => {
  await redis?.stop();
  await conduit?.close();
});

/** FLUSHALL on both servers through a connection of its own. */
async function flushBoth(): Promise<void> {
  for (const { port } of ports()) {
    const wire = await RespWire.connect(port);
    try {
      expect((await wire.command(['FLUSHALL'])).toString()).toBe('+OK\r\n');
    } finally {
      wire.destroy();
    }
  }
}

describe('RESP compatibility: the same replies as redis-server 7.0.15 through every client', () => {
  const runners = new Map<string, Runner>();
  const runnerFor = async (kind: ClientKind, server: string, port: number, fresh: boolean): Promise<Runner> => {
    if (fresh) return connectRunner(kind, port);
    const id = `${kind}@${server}`;
    let r = runners.get(id);
    if (r === undefined) {
      r = await connectRunner(kind, port);
      runners.set(id, r);
    }
    return r;
  };
  afterAll(async () => {
    await Promise.all([...runners.values()].map((r) => r.close()));
  });

  for (const row of ROWS) {
    it(row.name, { timeout: 60_000 }, async () => {
      const mismatches: string[] = [];
      for (const kind of row.clients ?? CLIENTS) {
        const replies: Record<string, string[]> = {};
        await flushBoth();
        // The same commands (absolute times computed once) to both servers, one right after the other.
        const cmds = typeof row.cmds === 'function' ? row.cmds() : row.cmds;
        for (const { name, port } of ports()) {
          const runner = await runnerFor(kind, name, port, row.fresh === true);
          try {
            replies[name] = await runner.run(cmds, row);
          } finally {
            if (row.fresh === true) await runner.close();
          }
        }
        const r = replies.redis ?? [];
        const q = replies.conduit ?? [];
        for (let i = 0; i < Math.max(r.length, q.length); i += 1) {
          if (!closeEnough(r[i] ?? '<none>', q[i] ?? '<none>', row.tol ?? 0)) {
            mismatches.push(`${kind}, reply ${i + 1}:\n  redis:   ${JSON.stringify(r[i])}\n  conduit: ${JSON.stringify(q[i])}`);
          }
        }
      }
      expect(mismatches.join('\n')).toBe('');
    });
  }
});

describe('RESP compatibility: deliberate differences from Redis, each exactly as documented', () => {
  for (const d of DIFFERENCES) {
    it(`${d.name} (${d.reason})`, { timeout: 30_000 }, async () => {
      await flushBoth();
      for (const { name, port } of ports()) {
        const expected = name === 'redis' ? d.redis : d.conduit;
        if (expected === null) continue;
        const wire = await RespWire.connect(port);
        try {
          let last = '';
          for (const cmd of d.cmds) last = (await wire.command(cmd)).toString('latin1');
          if (typeof expected === 'string') expect(`${name}: ${last}`).toBe(`${name}: ${expected}`);
          else expect(`${name}: ${last}`).toMatch(new RegExp(`^${name}: ${expected.source.replace(/^\^/, '')}`));
        } finally {
          wire.destroy();
        }
      }
    });
  }
});

describe('RESP compatibility: commands whose replies are the server\'s own, compared by what must agree', () => {
  it('SCAN: a full iteration with MATCH / COUNT / TYPE yields the same keys; cursor errors agree', { timeout: 60_000 }, async () => {
    await flushBoth();
    const keys = Array.from({ length: 1_000 }, (_, i) => `${i % 3 === 0 ? 'user' : 'item'}:${i}`);
    const found: Record<string, string[][]> = {};
    for (const { name, port } of ports()) {
      const client = new IORedis({ host: '127.0.0.1', port, protocol: 2, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        for (let i = 0; i < keys.length; i += 100) await client.mset(...keys.slice(i, i + 100).flatMap((k) => [k, 'v']));
        const sets: string[][] = [];
        for (const args of [[], ['MATCH', 'user:*'], ['MATCH', 'item:1?'], ['COUNT', '7'], ['MATCH', '*:5*', 'COUNT', '1000'], ['TYPE', 'string'], ['TYPE', 'list'], ['MATCH', 'none*']]) {
          const seen = new Set<string>();
          let cursor = '0';
          let rounds = 0;
          do {
            const [next, batch] = (await client.call('SCAN', cursor, ...args)) as [string, string[]];
            for (const k of batch) seen.add(k);
            cursor = next;
            rounds += 1;
          } while (cursor !== '0' && rounds < 10_000);
          sets.push([...seen].sort());
        }
        const errors: string[] = [];
        for (const args of [['abc'], ['0', 'COUNT', '0'], ['0', 'COUNT', 'x'], ['0', 'FOO', 'bar'], ['0', 'MATCH'], []]) {
          errors.push(await client.call('SCAN', ...args).then((x) => JSON.stringify(x), (e: Error) => e.message));
        }
        sets.push(errors);
        // node-redis's own SCAN loop over RESP3 sees the same keys.
        const nr = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: 3 });
        nr.on('error', () => {});
        await nr.connect();
        try {
          const seen = new Set<string>();
          for await (const batch of nr.scanIterator({ MATCH: 'item:*', COUNT: 50 })) for (const k of batch as unknown as string[]) seen.add(k);
          sets.push([...seen].sort());
        } finally {
          nr.destroy();
        }
        found[name] = sets;
      } finally {
        client.disconnect();
      }
    }
    expect(found.conduit).toEqual(found.redis);
    expect(found.redis?.[0]).toHaveLength(1_000);
    expect(found.redis?.at(-1)).toHaveLength(666);
  });

  it('COMMAND INFO: the same arity and key positions for every supported command; COMMAND COUNT and COMMAND DOCS answer', { timeout: 30_000 }, async () => {
    const names = ['get', 'set', 'setnx', 'setex', 'psetex', 'getex', 'getdel', 'mget', 'mset', 'msetnx', 'del', 'unlink', 'exists', 'incr', 'decr', 'incrby', 'decrby', 'append', 'strlen',
      'expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl', 'persist', 'expiretime', 'pexpiretime', 'type', 'keys', 'scan', 'dbsize', 'flushdb', 'flushall', 'ping', 'echo', 'select',
      'quit', 'hello', 'auth', 'client', 'info', 'command', 'config'];
    const info: Record<string, unknown[]> = {};
    for (const { name, port } of ports()) {
      const client = new IORedis({ host: '127.0.0.1', port, protocol: 2, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        const rows = (await client.call('COMMAND', 'INFO', ...names, 'nosuchcommand')) as unknown[][];
        // name, arity, first key, last key, step: what clients (and cluster routing) use.
        info[name] = rows.map((r) => (r === null ? null : [r[0], r[1], r[3], r[4], r[5]]));
        const count = (await client.call('COMMAND', 'COUNT')) as number;
        expect(count).toBeGreaterThanOrEqual(names.length);
        const docs = (await client.call('COMMAND', 'DOCS', 'set')) as unknown[];
        expect(docs[0]).toBe('set');
        const fields = docs[1] as unknown[];
        for (const field of ['summary', 'since', 'group', 'complexity', 'arguments']) expect(fields).toContain(field);
      } finally {
        client.disconnect();
      }
    }
    expect(info.conduit).toEqual(info.redis);
  });

  it('INFO: each section and the fields tools read, in Redis\'s format; INFO keyspace counts the keys', { timeout: 30_000 }, async () => {
    await flushBoth();
    const fields: Record<string, Record<string, string>> = {};
    for (const { name, port } of ports()) {
      const wire = await RespWire.connect(port);
      try {
        await wire.command(['MSET', 'a', '1', 'b', '2', 'c', '3']);
        await wire.command(['SET', 'e', '1', 'EX', '100']);
        const all = (await wire.command(['INFO'])).toString('latin1');
        expect(all).toMatch(/^\$\d+\r\n# Server\r\n/);
        const map: Record<string, string> = {};
        for (const line of all.split('\r\n')) {
          const m = /^([a-z_0-9]+):(.*)$/.exec(line);
          if (m !== null) map[m[1] ?? ''] = m[2] ?? '';
          if (line.startsWith('# ')) map[line] = 'section';
        }
        fields[name] = map;
        const keyspace = (await wire.command(['INFO', 'keyspace'])).toString('latin1');
        // A deliberate difference: the store does not count keys with an expiry, so Conduit shows
        // `keys=` alone rather than made-up `expires=` and `avg_ttl=` (docs/RESP.md).
        if (name === 'redis') expect(keyspace).toMatch(/# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=\d+\r\n/);
        else expect(keyspace).toBe('$24\r\n# Keyspace\r\ndb0:keys=4\r\n\r\n');
        expect((await wire.command(['INFO', 'nosuchsection'])).toString('latin1')).toBe('$0\r\n\r\n');
      } finally {
        wire.destroy();
      }
    }
    const conduit = fields.conduit ?? {};
    const redisFields = fields.redis ?? {};
    for (const section of ['# Server', '# Clients', '# Memory', '# Stats', '# Keyspace']) {
      expect(redisFields[section]).toBe('section');
      expect(conduit[section], section).toBe('section');
    }
    // Every field Conduit shows is one Redis has (its own extra: conduit_version), with the same kind of value.
    for (const [key, value] of Object.entries(conduit)) {
      if (key === 'conduit_version' || key.startsWith('# ')) continue;
      expect(redisFields, `INFO field ${key}`).toHaveProperty(key);
      if (/^-?\d+$/.test(redisFields[key] ?? '')) expect(value, `INFO field ${key}`).toMatch(/^-?\d+$/);
    }
    for (const key of ['redis_version', 'redis_mode', 'tcp_port', 'uptime_in_seconds', 'connected_clients', 'used_memory', 'maxmemory', 'maxmemory_policy',
      'total_connections_received', 'total_commands_processed', 'keyspace_hits', 'keyspace_misses', 'expired_keys', 'evicted_keys', 'db0']) {
      expect(conduit, `INFO field ${key}`).toHaveProperty(key);
    }
    expect(conduit.redis_version).toBe('7.0.0');
    expect(conduit.conduit_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(conduit.maxmemory).toBe(redisFields.maxmemory);
    expect(conduit.maxmemory_policy).toBe(redisFields.maxmemory_policy);
    expect(conduit.tcp_port).toBe(String(conduitPort));
  });

  it('QUIT answers +OK and closes, over a bare socket and redis-cli', { timeout: 30_000 }, async () => {
    for (const { name, port } of ports()) {
      const wire = await RespWire.connect(port);
      expect(`${name}: ${(await wire.command(['QUIT'])).toString()}`).toBe(`${name}: +OK\r\n`);
      expect(await wire.waitClosed()).toBe(true);
      wire.destroy();
    }
  });

  it('inline commands (telnet / nc) get the same replies', { timeout: 30_000 }, async () => {
    await flushBoth();
    const inline = 'SET greeting "hello world"\r\nGET greeting\r\nSET bin "a\\x00b\\n"\r\nSTRLEN bin\r\n\r\nPING\nECHO \'single quoted\'\r\nINCR greeting\r\nGET\r\n';
    const replies: Record<string, string> = {};
    for (const { name, port } of ports()) {
      const wire = await RespWire.connect(port);
      try {
        replies[name] = Buffer.concat(await wire.send(Buffer.from(inline, 'latin1'), 8)).toString('latin1');
      } finally {
        wire.destroy();
      }
    }
    expect(replies.conduit).toBe(replies.redis);
    expect(replies.redis).toContain('$11\r\nhello world\r\n');
  });

  it('a bulk longer than --max-value-size is a protocol error and a close; others are still served', { timeout: 30_000 }, async () => {
    const wire = await RespWire.connect(conduitPort);
    const replies = await wire.send(Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${MAX_VALUE + 1}\r\n`), 1);
    expect(replies.map(String)).toEqual(['-ERR Protocol error: invalid bulk length\r\n']);
    expect(await wire.waitClosed()).toBe(true);
    wire.destroy();
    const other = await RespWire.connect(conduitPort);
    expect((await other.command(['PING'])).toString()).toBe('+PONG\r\n');
    other.destroy();
  });
});

/** One pipelined batch of `n` mixed commands, with errors among them. */
function pipelineCommands(n: number): Cmd[] {
  const cmds: Cmd[] = [];
  for (let i = 0; i < n; i += 1) {
    const k = `p:${i % 997}`;
    switch (i % 10) {
      case 0: cmds.push(['SET', k, Buffer.from([i % 256, 0, 255, 13, 10])]); break;
      case 1: cmds.push(['GET', k]); break;
      case 2: cmds.push(['INCR', `n:${i % 13}`]); break;
      case 3: cmds.push(['APPEND', `a:${i % 5}`, 'x']); break;
      case 4: cmds.push(['DEL', k, `p:${(i + 1) % 997}`]); break;
      case 5: cmds.push(['EXISTS', k, k]); break;
      case 6: cmds.push(['INCR', k]); break; // an error when k holds the binary value
      case 7: cmds.push(['MGET', k, `n:${i % 13}`, 'missing']); break;
      case 8: cmds.push(['GET']); break; // wrong arity
      default: cmds.push(['STRLEN', `a:${i % 5}`]);
    }
  }
  return cmds;
}

describe('RESP compatibility: pipelines', () => {
  const N = 10_000;
  const cmds = pipelineCommands(N);

  it('10,000 commands in one write over a bare socket: the same bytes', { timeout: 60_000 }, async () => {
    await flushBoth();
    const bytes = Buffer.concat(cmds.map(encodeCommand));
    const out: Record<string, Buffer> = {};
    for (const { name, port } of ports()) {
      const wire = await RespWire.connect(port);
      try {
        const replies = await wire.send(bytes, N, 30_000);
        expect(replies).toHaveLength(N);
        out[name] = Buffer.concat(replies);
      } finally {
        wire.destroy();
      }
    }
    expect(out.conduit?.equals(out.redis ?? Buffer.alloc(0))).toBe(true);
  });

  it('10,000 commands through an ioredis pipeline (RESP2 and RESP3): the same results', { timeout: 60_000 }, async () => {
    for (const protocol of [2, 3] as const) {
      await flushBoth();
      const out: Record<string, string> = {};
      for (const { name, port } of ports()) {
        const client = new IORedis({ host: '127.0.0.1', port, protocol, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => {});
        try {
          const pipeline = client.pipeline();
          for (const [cmd, ...args] of cmds) pipeline.callBuffer(String(cmd), ...args);
          const results = (await pipeline.exec()) ?? [];
          expect(results).toHaveLength(N);
          out[name] = JSON.stringify(results.map(([err, value]) => libValue(err ?? value)));
        } finally {
          client.disconnect();
        }
      }
      expect(out.conduit, `protocol ${protocol}`).toBe(out.redis);
    }
  });

  it('10,000 commands sent by node-redis without awaiting each (its automatic pipelining, RESP2 and RESP3): the same results', { timeout: 60_000 }, async () => {
    for (const RESP of [2, 3] as const) {
      await flushBoth();
      const out: Record<string, string> = {};
      for (const { name, port } of ports()) {
        const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP });
        client.on('error', () => {});
        await client.connect();
        try {
          const typed = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as unknown as { sendCommand(a: (string | Buffer)[]): Promise<unknown> };
          const results = await Promise.all(cmds.map((cmd) => typed.sendCommand([...cmd]).catch((e: unknown) => e)));
          out[name] = JSON.stringify(results.map(libValue));
        } finally {
          client.destroy();
        }
      }
      expect(out.conduit, `RESP${RESP}`).toBe(out.redis);
    }
  });

  it('redis-cli --pipe mass insert of 100,000 SETs: the same counts, and DBSIZE agrees', { timeout: 120_000 }, async () => {
    await flushBoth();
    const parts: Buffer[] = [];
    for (let i = 0; i < 100_000; i += 1) parts.push(encodeCommand(['SET', `mass:${i}`, `value-${i}`]));
    // Three wrong commands among them: redis-cli counts the errors.
    parts.splice(500, 0, encodeCommand(['SET', 'only-a-key']));
    parts.splice(50_000, 0, encodeCommand(['INCR', 'mass:1']));
    parts.splice(90_000, 0, encodeCommand(['NOSUCHCOMMAND']));
    const input = Buffer.concat(parts);
    const summary: Record<string, string> = {};
    for (const { name, port } of ports()) {
      const { code, stdout } = await redisCli(port, ['--pipe'], input, 100_000);
      // redis-cli --pipe exits 1 when any reply was an error.
      expect(code, `${name}: ${stdout}`).toBe(1);
      summary[name] = /errors: \d+, replies: \d+/.exec(stdout)?.[0] ?? stdout;
      const dbsize = await redisCli(port, ['DBSIZE']);
      expect(`${name}: ${dbsize.stdout.trim()}`).toBe(`${name}: 100000`);
    }
    expect(summary.redis).toBe('errors: 3, replies: 100003');
    expect(summary.conduit).toBe(summary.redis);
  });
});

describe('RESP compatibility: a password (Conduit --resp-password, Redis --requirepass) and a full store (--eviction none, noeviction)', () => {
  const PASSWORD = 's3cret-πass';

  it('AUTH, HELLO AUTH and NOAUTH: the same replies; ioredis, node-redis and redis-cli log in with the password', { timeout: 60_000 }, async () => {
    const secured = await startRedisServer(['--requirepass', PASSWORD, '--databases', '1']);
    const server = new ComposedServer({ host: '127.0.0.1', port: 0, respPort: 0, respPassword: PASSWORD, shutdownTimeoutMs: 2_000 });
    try {
      const { respPort } = await server.listen();
      const targets = [{ name: 'redis', port: secured.port }, { name: 'conduit', port: respPort ?? 0 }];
      const sequences: Cmd[][] = [
        [c('GET', 'k'), c('PING'), c('SET', 'k', 'v'), c('CLIENT', 'ID'), c('AUTH', 'wrong'), c('AUTH', 'default', 'wrong'), c('AUTH', 'nobody', PASSWORD), c('GET', 'k'), c('AUTH', PASSWORD), c('SET', 'k', 'v'), c('GET', 'k')],
        [c('HELLO', '3'), c('HELLO', '3', 'AUTH', 'default', 'wrong'), c('GET', 'k'), c('HELLO', '2', 'AUTH', 'default', PASSWORD), c('GET', 'k')],
        [c('AUTH', 'default', PASSWORD), c('GET', 'k'), c('FOO')],
        [c('FOO', 'bar'), c('QUIT')],
        // Before AUTH, Redis 7.0 refuses big requests outright (then closes).
        [c('MGET', ...Array.from({ length: 10 }, (_, i) => `k${i}`))],
        [c('SET', 'k', Buffer.alloc(16 * 1024 + 1, 0x61))],
      ];
      const wire: Record<string, string[]> = {};
      for (const { name, port } of targets) {
        const replies: string[] = [];
        for (const cmds of sequences) {
          const conn = await RespWire.connect(port);
          try {
            for (const cmd of cmds) {
              const reply = (await conn.command(cmd)).toString('latin1');
              replies.push(cmd[0] === 'HELLO' && reply.startsWith('*') ? 'the HELLO map' : reply);
            }
          } finally {
            conn.destroy();
          }
        }
        wire[name] = replies;
      }
      expect(wire.conduit).toEqual(wire.redis);
      expect(wire.redis?.[0]).toBe('-NOAUTH Authentication required.\r\n');
      expect(wire.redis?.slice(-2)).toEqual(['-ERR Protocol error: unauthenticated multibulk length\r\n', '-ERR Protocol error: unauthenticated bulk length\r\n']);
      const refusedCli: Record<string, string> = {};

      for (const { name, port } of targets) {
        const io = new IORedis({ host: '127.0.0.1', port, password: PASSWORD, maxRetriesPerRequest: 0, retryStrategy: () => null });
        io.on('error', () => {});
        try {
          expect(`${name}: ${await io.set('via-ioredis', 'a')}`).toBe(`${name}: OK`);
        } finally {
          io.disconnect();
        }
        const nr = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password: PASSWORD, RESP: 3 });
        nr.on('error', () => {});
        await nr.connect();
        try {
          expect(`${name}: ${await nr.get('via-ioredis')}`).toBe(`${name}: a`);
        } finally {
          nr.destroy();
        }
        const cli = await redisCli(port, ['-a', PASSWORD, '--no-auth-warning', 'GET', 'via-ioredis']);
        expect(`${name}: ${cli.stdout}`).toBe(`${name}: a\n`);
        refusedCli[name] = (await redisCli(port, ['GET', 'via-ioredis'])).stdout;
      }
      expect(refusedCli.redis).toContain('NOAUTH Authentication required.');
      expect(refusedCli.conduit).toBe(refusedCli.redis);
    } finally {
      await server.close();
      await secured.stop();
    }
  });

  it('a full store without eviction: the same -OOM text from both', { timeout: 60_000 }, async () => {
    const budget = 8 * MiB;
    const server = new ComposedServer({ host: '127.0.0.1', port: 0, respPort: 0, maxMemory: budget, eviction: 'none', shutdownTimeoutMs: 2_000 });
    // Redis's own overhead counts against its maxmemory: give it its baseline plus the same budget.
    const probe = await startRedisServer();
    const baseline = Number(/used_memory:(\d+)/.exec((await redisCli(probe.port, ['INFO', 'memory'])).stdout)?.[1] ?? 0);
    await probe.stop();
    const full = await startRedisServer(['--maxmemory', String(baseline + budget), '--maxmemory-policy', 'noeviction']);
    try {
      const { respPort } = await server.listen();
      const firstError: Record<string, string> = {};
      for (const { name, port } of [{ name: 'redis', port: full.port }, { name: 'conduit', port: respPort ?? 0 }]) {
        const wire = await RespWire.connect(port);
        try {
          const value = Buffer.alloc(16 * 1024, 0x61);
          for (let i = 0; i < 4_000 && firstError[name] === undefined; i += 1) {
            const reply = (await wire.command(['SET', `fill:${i}`, value])).toString('latin1');
            if (reply !== '+OK\r\n') firstError[name] = reply;
          }
          // Reads and deletes still work when full.
          expect(`${name}: ${(await wire.command(['GET', 'fill:0'])).subarray(0, 8).toString('latin1')}`).toBe(`${name}: $16384\r\n`);
          expect(`${name}: ${(await wire.command(['DEL', 'fill:0'])).toString('latin1')}`).toBe(`${name}: :1\r\n`);
        } finally {
          wire.destroy();
        }
      }
      expect(firstError.redis).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
      expect(firstError.conduit).toBe(firstError.redis);
    } finally {
      await server.close();
      await full.stop();
    }
  });
});
