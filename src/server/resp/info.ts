/**
 * INFO and CONFIG over the RESP port (docs/RESP.md). INFO speaks Redis's
 * field names for the sections server, clients, memory, persistence, stats,
 * replication and keyspace,
 * with `redis_version:7.0.0` and `conduit_version`; fields Conduit does not
 * track are left out rather than made up; an identity without admin sees
 * the server section only (issue 25). CONFIG GET answers the few
 * settings clients ask for, from Conduit's own options; every other CONFIG
 * subcommand is refused (Conduit is configured on its command line).
 *
 * @example
 * ```ts
 * INFO_COMMANDS.info([Buffer.from('INFO'), Buffer.from('keyspace')], ctx, out); // '$12\r\n# Keyspace\r\n\r\n' when empty
 * ```
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RespWriter } from '../../protocol/resp-writer.js';
import { REDIS_VERSION } from './connection-commands.js';
import { ERR_PATTERN_TOO_COMPLEX, globTest } from './glob.js';
import type { Handler } from './handler.js';
import type { RespContext } from './resp-context.js';

const CONDUIT_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Redis's run_id: 40 random hex characters, one per process. */
const RUN_ID = randomBytes(20).toString('hex');

/**
 * The sections Conduit writes, in Redis's order. Persistence and replication
 * hold only what clients check on connect (ioredis waits while `loading:1`;
 * master/replica-aware clients read `role`): a listening Conduit has loaded
 * its snapshot and has no replicas.
 */
const SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace'] as const;
type Section = (typeof SECTIONS)[number];

/** Redis's bytesToHuman: `1.70M`. */
function human(bytes: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (bytes < 1024) return `${bytes}B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)}${units[unit] as string}`;
}

/** The `maxmemory-policy` name of Conduit's `--eviction`. */
function policy(ctx: RespContext): string {
  return ctx.server.options.eviction === 'lru' ? 'allkeys-lru' : 'noeviction';
}

/** One section's `field:value` lines. */
function section(name: Section, ctx: RespContext): string[] {
  const { server } = ctx;
  const { options, counters } = server;
  switch (name) {
    case 'server': {
      const now = Date.now();
      const uptime = Math.floor((now - server.startedAt) / 1000);
      return [
        `redis_version:${REDIS_VERSION}`,
        `conduit_version:${CONDUIT_VERSION}`,
        'redis_mode:standalone',
        `os:${os.type()} ${os.release()} ${os.machine()}`,
        `arch_bits:${process.arch.endsWith('64') ? 64 : 32}`,
        `process_id:${process.pid}`,
        `run_id:${RUN_ID}`,
        `tcp_port:${server.respAddress.port ?? 0}`,
        `server_time_usec:${now * 1000}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86_400)}`,
      ];
    }
    case 'clients':
      return [`connected_clients:${counters.connected_clients}`, `maxclients:${options.maxConnections}`, 'blocked_clients:0'];
    case 'memory': {
      const stats = ctx.store.stats();
      const rss = process.memoryUsage.rss();
      return [
        `used_memory:${stats.bytes}`,
        `used_memory_human:${human(stats.bytes)}`,
        `used_memory_rss:${rss}`,
        `used_memory_rss_human:${human(rss)}`,
        `maxmemory:${options.maxMemory}`,
        `maxmemory_human:${human(options.maxMemory)}`,
        `maxmemory_policy:${policy(ctx)}`,
        `mem_clients_normal:${server.outputMemory.now}`,
      ];
    }
    case 'persistence':
      return ['loading:0'];
    case 'replication':
      return ['role:master', 'connected_slaves:0'];
    case 'stats': {
      const stats = ctx.store.stats();
      return [
        `total_connections_received:${counters.total_connections_received}`,
        `total_commands_processed:${counters.total_commands_processed}`,
        `rejected_connections:${counters.rejected_connections}`,
        `expired_keys:${stats.expired_keys}`,
        `evicted_keys:${stats.evictions}`,
        `keyspace_hits:${stats.keyspace_hits}`,
        `keyspace_misses:${stats.keyspace_misses}`,
      ];
    }
    case 'keyspace': {
      // Redis lists only databases that hold keys; Conduit does not count keys with an expiry (no `expires`, `avg_ttl`).
      const keys = ctx.store.stats().curr_items;
      return keys === 0 ? [] : [`db0:keys=${keys}`];
    }
  }
}

/** The sections INFO's arguments ask for (Redis 7.0: any number, any case; default/all/everything; unknown ones add nothing). */
function wanted(args: readonly Buffer[]): Set<Section> {
  if (args.length === 1) return new Set(SECTIONS);
  // A request may name `all` 300,000 times: the names are deduplicated first, so the
  // work is per distinct name, and it stops once every section is chosen.
  const names = new Set<string>();
  for (let i = 1; i < args.length; i++) names.add((args[i] as Buffer).toString('latin1'));
  const chosen = new Set<Section>();
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name === 'default' || name === 'all' || name === 'everything') for (const s of SECTIONS) chosen.add(s);
    else if ((SECTIONS as readonly string[]).includes(name)) chosen.add(name as Section);
    if (chosen.size === SECTIONS.length) break;
  }
  return chosen;
}

/** What an identity without admin is shown, whatever it asks (issue 25: ioredis's ready check reads INFO). */
const SERVER_ONLY: ReadonlySet<Section> = new Set(['server']);

/**
 * INFO [section …]: a verbatim string in RESP3, a bulk string in RESP2. An identity
 * without `admin` (issue 25) gets the `server` section only, whatever it asks: the
 * others tell about the whole store and every client.
 */
function info(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const rights = ctx.session.rights;
  const chosen = rights !== undefined && !rights.may('admin') ? SERVER_ONLY : wanted(args);
  const parts: string[] = [];
  for (const name of SECTIONS) {
    if (!chosen.has(name)) continue;
    const title = `# ${name[0]?.toUpperCase() ?? ''}${name.slice(1)}\r\n`;
    parts.push(title + section(name, ctx).map((line) => `${line}\r\n`).join(''));
  }
  out.verbatim(parts.join('\r\n'));
}

/** CONFIG GET's parameters: Redis's names, Conduit's values. */
function parameters(ctx: RespContext): [string, string][] {
  const { options } = ctx.server;
  return [
    ['maxmemory', String(options.maxMemory)],
    ['maxmemory-policy', policy(ctx)],
    ['maxclients', String(options.maxConnections)],
    ['proto-max-bulk-len', String(options.maxValueSize)],
    ['timeout', String(Math.floor(options.idleTimeoutMs / 1000))],
    ['port', String(ctx.server.respAddress.port ?? 0)],
    ['save', ''],
    ['appendonly', 'no'],
    ['databases', '1'],
  ];
}

/**
 * CONFIG GET pattern [pattern …]: each matching parameter once (case-blind, as Redis); a map in RESP3.
 * As Redis 7.0's configGetCommand: a name without `[`, `*` or `?` is looked up and answered as the
 * client spelled it (`CONFIG GET SAVE` → `SAVE`); a glob answers the parameters' own names.
 */
function configGet(args: readonly Buffer[], ctx: RespContext, out: RespWriter): void {
  const all = parameters(ctx);
  const found = new Map<string, [string, string]>(); // parameter → [name as answered, value]
  for (const raw of args.slice(2)) {
    const text = raw.toString('latin1');
    const lower = text.toLowerCase();
    if (!/[[*?]/.test(text)) {
      const hit = all.find(([name]) => name === lower);
      if (hit !== undefined && !found.has(hit[0])) found.set(hit[0], [text, hit[1]]);
      continue;
    }
    const pattern = Buffer.from(lower, 'latin1');
    for (const [name, value] of all) {
      if (found.has(name)) continue;
      const result = globTest(pattern, Buffer.from(name, 'latin1'));
      if (result === 'too_complex') return out.error(ERR_PATTERN_TOO_COMPLEX);
      if (result) found.set(name, [name, value]);
    }
  }
  out.map(found.size);
  for (const [name, value] of found.values()) {
    out.bulk(name);
    out.bulk(value);
  }
}

/** CONFIG SET / RESETSTAT / REWRITE: refused, naming why. */
function refuse(sub: string): Handler {
  return (_args, _ctx, out) => out.error(`ERR CONFIG ${sub} is not supported by Conduit: it is configured by its command-line options`);
}

/**
 * INFO and CONFIG's subcommands by full name.
 *
 * @example
 * ```ts
 * INFO_COMMANDS['config|get']([Buffer.from('CONFIG'), Buffer.from('GET'), Buffer.from('maxmemory')], ctx, out);
 * ```
 */
export const INFO_COMMANDS: Readonly<Record<string, Handler>> = {
  info,
  'config|get': configGet,
  'config|set': refuse('SET'),
  'config|resetstat': refuse('RESETSTAT'),
  'config|rewrite': refuse('REWRITE'),
};
