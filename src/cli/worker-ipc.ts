// The messages between a `conduit-server --workers` primary and its workers over the IPC
// channel of child_process.fork ('advanced' serialization, so the slot table travels as a
// Uint8Array), and the worker's side of them. The primary's side is supervisor.ts.

/**
 * The environment variable the primary sets, with the worker's index, on the processes it
 * forks: with an IPC channel as well, `conduit-server` runs as that worker (server.ts).
 *
 * @example
 * ```ts
 * const isWorker = process.env[WORKER_ENV] !== undefined && process.send !== undefined;
 * ```
 */
export const WORKER_ENV = 'CONDUIT_WORKER_INDEX';

/**
 * A worker's group (design.md): the shape of `ServerOptions.group`.
 *
 * @example
 * ```ts
 * const group: WorkerGroupMap = { self: 0, epoch: 1, nodes, table: assignSlots(nodes) };
 * ```
 */
export interface WorkerGroupMap {
  self: number;
  epoch: number;
  nodes: readonly string[];
  table: Uint8Array;
}

/**
 * primary → worker, once, first: where to listen, with what budget, in which group.
 *
 * @example
 * ```ts
 * child.send({ type: 'start', worker: 1, port: 7172, socket: undefined, maxMemory, group } satisfies StartMessage);
 * ```
 */
export interface StartMessage {
  type: 'start';
  worker: number;
  port: number | undefined;
  socket: string | undefined;
  maxMemory: number;
  group: WorkerGroupMap;
}

/**
 * primary → worker, after the start: `reload`, the primary got SIGHUP and the server has a
 * `--key-file` (issue 25): the worker re-reads it as a lone server does on SIGHUP (spec §6.8).
 *
 * @example
 * ```ts
 * child.send({ type: 'reload' } satisfies PrimaryMessage);
 * ```
 */
export type PrimaryMessage = { type: 'reload' };

/**
 * In a worker: calls `reload` on each `reload` message of the primary (its relayed SIGHUP).
 *
 * @example
 * ```ts
 * onPrimaryReload(() => void server.access.reload());
 * ```
 */
export function onPrimaryReload(reload: () => void): void {
  process.on('message', (m: unknown) => {
    if ((m as { type?: unknown } | null)?.type === 'reload') reload();
  });
}

/**
 * worker → primary.
 *
 * @example
 * ```ts
 * tellPrimary({ type: 'failed', message: 'cannot listen on 127.0.0.1:7172: it is already in use' });
 * ```
 */
export type WorkerMessage =
  /** Every listener is up: the worker serves. */
  | { type: 'listening'; host: string; port: number | undefined; socket: string | undefined }
  /** It cannot start; `message` is the one line `conduit-server` would print. It exits 1 next. */
  | { type: 'failed'; message: string }
  /** A SHUTDOWN request (with --allow-shutdown) reached it: the whole group stops. */
  | { type: 'shutdown' };

/**
 * Whether an IPC message is a {@link WorkerMessage} (anything else is ignored: a worker runs our code,
 * but a check costs nothing at this rate).
 *
 * @example
 * ```ts
 * child.on('message', (m) => { if (isWorkerMessage(m)) handle(m); });
 * ```
 */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'listening' || type === 'failed' || type === 'shutdown';
}

/**
 * In a worker (forked by the primary with {@link WORKER_ENV} and an IPC channel): resolves with the
 * primary's start message. Elsewhere: `undefined` at once, and `conduit-server` runs as itself.
 *
 * @example
 * ```ts
 * const start = await workerStart(); // undefined unless forked by a --workers primary
 * ```
 */
export function workerStart(): Promise<StartMessage> | undefined {
  if (process.env[WORKER_ENV] === undefined || process.send === undefined) return undefined;
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { type?: unknown } | null)?.type !== 'start') return;
      process.off('message', onMessage);
      resolve(m as StartMessage);
    };
    process.on('message', onMessage);
  });
}

/**
 * Sends a message to the primary. libuv writes a small message on an idle pipe at once, so a
 * `process.exit()` right after it does not lose it (a lost one reads as "exited with code 1").
 *
 * @example
 * ```ts
 * tellPrimary({ type: 'shutdown' });
 * ```
 */
export function tellPrimary(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * Calls `stop` when the primary is gone (killed, crashed): its IPC channel closes, and a
 * worker without its supervisor drains and exits rather than serve on as an orphan.
 *
 * @example
 * ```ts
 * onPrimaryGone(() => stop('primary exited'));
 * ```
 */
export function onPrimaryGone(stop: () => void): void {
  process.once('disconnect', stop);
}
