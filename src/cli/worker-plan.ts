// What `conduit-server --workers N` runs, decided before any worker starts: how many
// workers, where each listens, the name the group knows it by (design: the string a client
// connects to), each one's share of --max-memory, and how long to wait before a restart.
// Pure functions, so every rule is unit-tested without a process (test/unit/worker-plan.test.ts).
import { availableParallelism } from 'node:os';
import { formatSizeLimit } from '../config/units.js';
import { MAX_NODES } from '../protocol/slots.js';
import { serverDefaults } from '../server/options.js';

/** The most workers a group may have: a slot table names at most {@link MAX_NODES} servers (spec §3.14). */
export const MAX_WORKERS = MAX_NODES;

/** First restart delay after a worker dies unasked; doubles on each death in a row up to {@link RESTART_MAX_MS}. */
export const RESTART_MIN_MS = 100;
/** Longest wait before a restart. */
export const RESTART_MAX_MS = 5_000;
/** A worker that stayed up this long before dying starts its backoff again at {@link RESTART_MIN_MS}. */
export const RESTART_RESET_MS = 60_000;
/** Starts in a row that fail before the worker listens (port taken, …) before the primary gives up and exits 1. */
export const START_ATTEMPTS = 3;

/**
 * The number of workers a checked `--workers` value asks for: `auto` is
 * `os.availableParallelism()` (at most {@link MAX_WORKERS}), anything else the
 * whole number written (setting-check.ts has already held it to 1–64).
 *
 * @example
 * ```ts
 * workerCount('auto'); // 2 on a 2-core machine
 * workerCount(' 4 ');  // 4
 * ```
 */
export function workerCount(text: string, cores: number = availableParallelism()): number {
  const t = text.trim().toLowerCase();
  return t === 'auto' ? Math.max(1, Math.min(MAX_WORKERS, cores)) : Number(t);
}

/**
 * The name of a TCP server in a group (design: what a client connects to, normalised as
 * clients normalise it): the host in lower case, an IPv6 address in brackets, then the port.
 *
 * @example
 * ```ts
 * workerName('127.0.0.1', 7171); // '127.0.0.1:7171'
 * workerName('::1', 7171);       // '[::1]:7171'
 * ```
 */
export function workerName(host: string, port: number): string {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

/**
 * Where worker `index` listens, and the name the group gives it.
 *
 * @example
 * ```ts
 * const w: WorkerAddress = { index: 1, host: '127.0.0.1', port: 7172, socket: undefined, name: '127.0.0.1:7172' };
 * ```
 */
export interface WorkerAddress {
  index: number;
  host: string;
  /** Its TCP port, or `undefined` with `--no-tcp`. */
  port: number | undefined;
  /** `--socket P` gives worker i the socket `P.i`. */
  socket: string | undefined;
  /** Its name in the group: `host:port`, or the socket path with `--no-tcp`. */
  name: string;
}

/**
 * What {@link planWorkers} needs: the listeners one server would have, and the ports picked for `--port 0`.
 *
 * @example
 * ```ts
 * const input: PlanInput = { count: 2, host: '127.0.0.1', port: 0, socket: undefined, tcp: true, freePorts: [40001, 40002] };
 * ```
 */
export interface PlanInput {
  count: number;
  host: string;
  port: number;
  socket: string | undefined;
  tcp: boolean;
  /** With `--port 0`: one free port per worker, found by the primary (see supervisor.ts, "Port 0"). */
  freePorts?: readonly number[];
}

/**
 * Every worker's address: worker i listens on `port + i` (or `freePorts[i]` with port 0)
 * and on `socket.i`; its name is its TCP address, or its socket path with `--no-tcp`.
 *
 * @example
 * ```ts
 * planWorkers({ count: 2, host: '127.0.0.1', port: 7171, socket: undefined, tcp: true }).map((w) => w.name);
 * // ['127.0.0.1:7171', '127.0.0.1:7172']
 * ```
 */
export function planWorkers(input: PlanInput): WorkerAddress[] {
  const { count, host, port, socket, tcp, freePorts } = input;
  if (tcp && port === 0 && freePorts?.length !== count) throw new RangeError(`--port 0 needs ${count} free ports, got ${freePorts?.length ?? 0}`);
  return Array.from({ length: count }, (_, index) => {
    const p = !tcp ? undefined : port === 0 ? (freePorts?.[index] as number) : port + index;
    const s = socket === undefined ? undefined : `${socket}.${index}`;
    return { index, host, port: p, socket: s, name: p === undefined ? (s as string) : workerName(host, p) };
  });
}

/**
 * Each worker's store budget: `--max-memory` split evenly, rounded down to whole bytes, so
 * the workers together stay within what the user gave.
 *
 * @example
 * ```ts
 * memoryShare(64 * 1024 * 1024, 3); // 22369621
 * ```
 */
export function memoryShare(maxMemory: number, count: number): number {
  return Math.floor(maxMemory / count);
}

/**
 * The settings {@link groupProblem} checks, as settled for one server.
 *
 * @example
 * ```ts
 * const s: GroupSettings = { count: 4, maxMemory: 1 << 30, shards: 16, port: 7171, tcp: true };
 * ```
 */
export interface GroupSettings {
  count: number;
  maxMemory?: number | undefined;
  shards: number;
  maxValueSize?: number | undefined;
  port: number;
  tcp: boolean;
  httpPort?: number | undefined;
  /** TLS on the workers: the primary's gateway would need a client certificate setup to forward. */
  tls?: boolean | undefined;
}

/**
 * What makes a group of `count` workers impossible although one server with the same settings
 * is fine, as one line naming the settings as the user wrote them (`origin('maxMemory')` is
 * e.g. `--max-memory` or `CONDUIT_MAX_MEMORY`), or `undefined`. Checked by the primary before
 * any worker starts.
 *
 * @example
 * ```ts
 * groupProblem({ count: 2, maxMemory: 24 * 1024, shards: 16, port: 0, tcp: true }, (n) => `--${n}`);
 * // '--maxMemory 24kb (24576 bytes) split over 2 workers (--workers 2) leaves 12kb (12288 bytes) each, …'
 * ```
 */
export function groupProblem(s: GroupSettings, origin: (name: keyof GroupSettings | 'workers') => string): string | undefined {
  const workers = `${origin('workers')} ${s.count}`;
  const split = `split over ${s.count} workers (${workers})`;
  // The primary's gateway forwards over the protocol (server.ts startGateway); over TLS it would need client certificates.
  if (s.httpPort !== undefined && s.tls === true) return `${origin('httpPort')} cannot be used with ${workers} and --tls-cert: the primary's gateway forwards to the workers in plaintext or secure mode only`;
  const maxMemory = s.maxMemory ?? serverDefaults.maxMemory;
  const share = memoryShare(maxMemory, s.count);
  // The store needs 1 KiB per shard (setting-check.ts's max-memory limit), in every worker.
  if (share < s.shards * 1024) {
    return (
      `${origin('maxMemory')} ${formatSizeLimit(maxMemory)} ${split} leaves ${formatSizeLimit(share)} each, ` +
      `less than the ${formatSizeLimit(s.shards * 1024)} one server needs (1 KiB for each of ${origin('shards')} ${s.shards})`
    );
  }
  if (s.maxValueSize !== undefined && s.maxValueSize > share) {
    return (
      `${origin('maxValueSize')} ${formatSizeLimit(s.maxValueSize)} is more than ${formatSizeLimit(share)}, each worker's share of ` +
      `${origin('maxMemory')} ${formatSizeLimit(maxMemory)} ${split}: no value that large could be stored`
    );
  }
  if (s.tcp && s.port !== 0 && s.port + s.count - 1 > 65_535) {
    return `${origin('port')} ${s.port} with ${workers} needs ports up to ${s.port + s.count - 1}, past 65535`;
  }
  return undefined;
}

/**
 * The wait before restarting a worker that died unasked for the `deaths`-th time in a row
 * (1 for the first): 100 ms doubling up to 5 s. The caller resets `deaths` once a worker has
 * stayed up {@link RESTART_RESET_MS}.
 *
 * @example
 * ```ts
 * [1, 2, 3, 7, 8].map(restartDelayMs); // [100, 200, 400, 5000, 5000]
 * ```
 */
export function restartDelayMs(deaths: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, Math.min(deaths - 1, 16)));
}
