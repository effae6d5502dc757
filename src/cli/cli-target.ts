/**
 * Which server(s) `conduit-cli` talks to, from its flags: one server
 * (`--host`/`--port` or `--socket`), asked for its group's map with
 * TOPOLOGY unless `--no-discover` (spec §3.14), so that against a
 * `--workers` server each key goes to the worker that owns it; or a pool
 * named with `--servers a:7171,b:7171`, every key routed by its slot
 * (issue 20). Kept apart from cli.ts, which runs on import, so that the
 * flags → client options step has unit tests of its own.
 *
 * @module
 */
import { isIPv6 } from 'node:net';

/** Where a flag's value came from (commander's `getOptionValueSource`). */
export type FlagSource = 'cli' | 'env' | 'default' | 'config' | 'implied' | undefined;

/** The target flags of `conduit-cli`, as commander parsed them, and where each came from. */
export interface TargetFlags {
  host: string;
  port: string;
  socket?: string;
  /** `--servers` / `CONDUIT_SERVERS`: comma-separated `host:port` or socket paths. */
  servers?: string;
  /** False with `--no-discover`. */
  discover: boolean;
  sources: { host?: FlagSource; port?: FlagSource; socket?: FlagSource; servers?: FlagSource };
}

/**
 * The client options that name the server(s): what `ConduitClient` takes
 * besides timeouts, keys and TLS. `servers` and `discover` are the pool's
 * (issue 20's contract); `servers` excludes `host`, `port` and `socket`.
 */
export interface TargetOptions {
  host?: string;
  port?: number;
  socket?: string;
  servers?: string[];
  discover?: boolean;
}

/** The name of the flag or variable a value came from, as the user wrote it. */
function labelOf(flag: 'host' | 'port' | 'socket' | 'servers', source: FlagSource): string {
  return source === 'env' ? `CONDUIT_${flag.toUpperCase()}` : `--${flag}`;
}

/**
 * One `--servers` entry checked: `host:port`, `[IPv6]:port` or a Unix
 * socket path (starts with `/`); the name a pool hashes (design of issue
 * 20: the client normalises it). Throws a TypeError naming `label`.
 */
function serverName(entry: string, label: string): string {
  if (entry.startsWith('/')) return entry;
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(entry);
  if (match === null || (match[1] !== undefined && !isIPv6(match[1]))) {
    throw new TypeError(`${label}: "${entry}" is not host:port (IPv6 as [::1]:7171) or a socket path`);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) throw new TypeError(`${label}: "${entry}" has port ${port}, not from 1 to 65535`);
  return entry;
}

/**
 * The client options and the prompt's label for `flags`; throws a
 * TypeError whose one-line message names the flag (or the `CONDUIT_*`
 * variable) at fault.
 *
 * @example
 * ```ts
 * targetOf({ host: '127.0.0.1', port: '7171', servers: 'a:7171,b:7171', discover: true, sources: { servers: 'cli' } });
 * // { options: { servers: ['a:7171', 'b:7171'] }, target: 'a:7171,b:7171' }
 * ```
 */
export function targetOf(flags: TargetFlags): { options: TargetOptions; target: string } {
  const { sources } = flags;
  if (flags.servers !== undefined) {
    const label = labelOf('servers', sources.servers);
    for (const flag of ['host', 'port', 'socket'] as const) {
      const source = sources[flag];
      if (source === 'cli' || source === 'env') throw new TypeError(`${label} excludes ${labelOf(flag, source)}: give the servers in ${label} only`);
    }
    const servers = flags.servers
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => serverName(entry, label));
    if (servers.length === 0) throw new TypeError(`${label}: give at least one host:port`);
    const seen = new Set<string>();
    for (const name of servers) {
      const normal = name.startsWith('/') ? name : name.toLowerCase();
      if (seen.has(normal)) throw new TypeError(`${label}: "${name}" is listed twice`);
      seen.add(normal);
    }
    return { options: { servers }, target: servers.join(',') };
  }
  const discover = flags.discover;
  if (flags.socket !== undefined) return { options: { socket: flags.socket, discover }, target: flags.socket };
  const port = Number(flags.port);
  if (!/^\s*\d+\s*$/.test(flags.port) || port < 1 || port > 65_535) {
    throw new TypeError(`${labelOf('port', sources.port)} must be from 1 to 65535, got '${flags.port}'`);
  }
  return { options: { host: flags.host, port, discover }, target: `${flags.host}:${port}` };
}
