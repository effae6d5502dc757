// The `conduit-server --workers N` primary's workers: forks them, restarts one that dies
// unasked, and stops them all. It opens no store and serves no key: every worker is a whole
// `conduit-server` with its own store, listener and group map (design.md, issue 20).
//
// Why child_process.fork and not node:cluster: Node 20 has no `reusePort`, so workers cannot
// share one port, and cluster's default round-robin accepts every connection in the primary
// and hands it over, which would put the primary on every connection's path. Each worker
// listens on its own address instead (port + i, socket.i), and clients route by key (spec §3.14).
import { EventEmitter } from 'node:events';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Logger } from '../config/logger.js';
import { assignSlots } from '../protocol/slots.js';
import { isWorkerMessage, WORKER_ENV, type PrimaryMessage, type StartMessage, type WorkerMessage } from './worker-ipc.js';
import { restartDelayMs, RESTART_RESET_MS, START_ATTEMPTS, type WorkerAddress } from './worker-plan.js';

/** Beyond --shutdown-timeout, how long a worker may take to exit after SIGTERM (start-up, store close) before SIGKILL. */
const STOP_MARGIN_MS = 5_000;

/**
 * How the primary runs its workers.
 *
 * @example
 * ```ts
 * const options: SupervisorOptions = { entry, args, workers: planWorkers(input), maxMemory: share, epoch: 1, shutdownTimeoutMs: 10_000, logger };
 * ```
 */
export interface SupervisorOptions {
  /** The script each worker runs (the primary's own entry) and its arguments (the primary's own). */
  entry: string;
  args: readonly string[];
  /** Node flags of the workers; by default the primary's (the bin's first line: docs/STORAGE.md "Process RSS"). */
  execArgv?: readonly string[];
  workers: readonly WorkerAddress[];
  /** Each worker's store budget (worker-plan.ts memoryShare). */
  maxMemory: number;
  /** The group's epoch (spec §3.14): the same for every worker and every restart of this primary. */
  epoch: number;
  /** A worker's own drain bound; the primary waits this plus a margin, then kills it. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

/**
 * A worker as the start-up line and `conduit-server`'s logs show it.
 *
 * @example
 * ```ts
 * const w: RunningWorker = { worker: 0, pid: 4242, name: '127.0.0.1:7171', address: '127.0.0.1:7171', socket: undefined };
 * ```
 */
export interface RunningWorker {
  worker: number;
  pid: number | undefined;
  name: string;
  address: string | undefined;
  socket: string | undefined;
}

/**
 * One worker's phase: `starting` (forked, not yet listening), `serving`, `waiting` (for a
 * restart after a death), `stopping` (SIGTERM sent by the primary), `stopped`.
 */
type Phase = 'starting' | 'serving' | 'waiting' | 'stopping' | 'stopped';

/** One supervised worker: its address never changes; its process does, on each restart. */
class Slot {
  readonly address: WorkerAddress;
  child: ChildProcess | undefined;
  phase: Phase = 'starting';
  /** Deaths in a row after it served (the restart backoff), and failed starts in a row (the give-up count). */
  deaths = 0;
  failedStarts = 0;
  servingSince = 0;
  lastError: string | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Whether it exited on its own terms when asked to stop (code 0, or stopped before it served). */
  clean = true;
  exited: Promise<void> = Promise.resolve();

  constructor(address: WorkerAddress) {
    this.address = address;
  }
}

/**
 * Free TCP ports on `host` for `--port 0` ("Port 0"): the primary binds `count` listeners on
 * port 0 together (so the ports differ), reads their ports and closes them; each worker then
 * listens on its own, knows its group before it accepts a connection, and is restarted on it.
 * Another process could take a port in the moment between (then that worker's start fails
 * "already in use" and the primary exits 1): the price of naming every worker before any starts.
 *
 * @example
 * ```ts
 * await freePorts('127.0.0.1', 2); // e.g. [40213, 38807]
 * ```
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0 }, resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => (s.listening ? s.close(resolve) : resolve(undefined)))));
  }
}

/**
 * The primary's workers. {@link start} forks them all and resolves once every one listens;
 * a worker that dies unasked afterwards is logged and restarted on its address with backoff
 * (100 ms doubling to 5 s, from 100 ms again after a minute up); one that fails
 * {@link START_ATTEMPTS} starts in a row (before it listens) ends the group: `start()` rejects,
 * or later `'failed'` is emitted, with the worker's one-line error. A worker that received
 * SHUTDOWN emits `'shutdown'` (the primary stops the whole group). {@link stop} drains them all.
 *
 * @example
 * ```ts
 * const workers = new Supervisor({ entry: process.argv[1]!, args: process.argv.slice(2), workers: planWorkers(…), maxMemory, epoch, shutdownTimeoutMs, logger });
 * workers.on('failed', (message) => …);
 * const running = await workers.start();
 * process.once('SIGTERM', () => workers.stop().then((clean) => process.exit(clean ? 0 : 1)));
 * ```
 */
export class Supervisor extends EventEmitter {
  readonly #options: SupervisorOptions;
  readonly #slots: Slot[];
  readonly #nodes: readonly string[];
  readonly #table: Uint8Array;
  #state: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  #started: { resolve: (workers: RunningWorker[]) => void; reject: (err: Error) => void } | undefined;
  #stopping: Promise<boolean> | undefined;

  constructor(options: SupervisorOptions) {
    super();
    this.#options = options;
    this.#slots = options.workers.map((w) => new Slot(w));
    this.#nodes = options.workers.map((w) => w.name);
    // design.md: the map depends only on the set of names; every worker gets the same one.
    this.#table = assignSlots(this.#nodes);
  }

  /**
   * Forks every worker; resolves with them once all listen, or rejects with an `Error` whose
   * message is a worker's one-line start error (the other workers are left to {@link stop}).
   *
   * @example
   * ```ts
   * const running = await supervisor.start();
   * ```
   */
  start(): Promise<RunningWorker[]> {
    if (this.#state !== 'idle') throw new Error('a Supervisor starts once');
    this.#state = 'starting';
    return new Promise((resolve, reject) => {
      this.#started = { resolve, reject };
      for (const slot of this.#slots) this.#spawn(slot);
    });
  }

  /** Every worker, with the pid of its current process (`undefined` while it waits for a restart). */
  workers(): RunningWorker[] {
    return this.#slots.map(({ address: a, child }) => ({
      worker: a.index,
      pid: child?.exitCode === null && child.signalCode === null ? child.pid : undefined,
      name: a.name,
      address: a.port === undefined ? undefined : `${a.host}:${a.port}`,
      socket: a.socket,
    }));
  }

  /**
   * Stops every worker: SIGTERM (each drains as a lone server does on SIGTERM, spec §5.3),
   * SIGKILL for one still running --shutdown-timeout plus 5 s later; no more restarts.
   * Resolves `true` when every worker drained and exited 0.
   *
   * @example
   * ```ts
   * const clean = await supervisor.stop();
   * ```
   */
  stop(): Promise<boolean> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Relays a reload (SIGHUP with `--key-file`, issue 25) to every worker that runs: each re-reads
   * the key file and logs one line. A worker still starting is told too (it may have read the
   * file before it changed); one waiting for its restart reads it as it starts. Returns how
   * many workers were told.
   *
   * @example
   * ```ts
   * process.on('SIGHUP', () => supervisor.reload());
   * ```
   */
  reload(): number {
    let told = 0;
    for (const slot of this.#slots) {
      const child = slot.child;
      if ((slot.phase !== 'serving' && slot.phase !== 'starting') || child === undefined || !child.connected) continue;
      child.send({ type: 'reload' } satisfies PrimaryMessage);
      told += 1;
    }
    return told;
  }

  /**
   * Kills every worker now (SIGKILL): a second stop request.
   *
   * @example
   * ```ts
   * supervisor.kill();
   * ```
   */
  kill(): void {
    for (const slot of this.#slots) if (slot.child?.exitCode === null && slot.child.signalCode === null) slot.child.kill('SIGKILL');
  }

  async #stop(): Promise<boolean> {
    this.#state = 'stopping';
    const bound = this.#options.shutdownTimeoutMs + STOP_MARGIN_MS;
    await Promise.all(
      this.#slots.map(async (slot) => {
        clearTimeout(slot.timer);
        const child = slot.child;
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
          slot.phase = 'stopped';
          return;
        }
        // A worker not yet serving holds no key and no connection: killing it is clean.
        slot.clean = slot.phase === 'starting';
        slot.phase = 'stopping';
        child.kill('SIGTERM');
        const killer = setTimeout(() => {
          this.#options.logger.error({ worker: slot.address.index, pid: child.pid, ms: bound }, 'worker did not exit after SIGTERM: killing it');
          child.kill('SIGKILL');
        }, bound);
        await slot.exited;
        clearTimeout(killer);
      }),
    );
    return this.#slots.every((s) => s.clean);
  }

  #spawn(slot: Slot): void {
    const { address } = slot;
    const child = fork(this.#options.entry, [...this.#options.args], {
      execArgv: [...(this.#options.execArgv ?? process.execArgv)],
      env: { ...process.env, [WORKER_ENV]: String(address.index) },
      // The workers' log lines go straight to the primary's stderr (pino writes a line at a time).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    slot.child = child;
    slot.phase = 'starting';
    slot.lastError = undefined;
    slot.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.#exited(slot, code, signal);
      resolve();
    }));
    child.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.#message(slot, m);
    });
    // An IPC write to a worker that just died fails with EPIPE: its 'exit' tells the story.
    child.on('error', (err) => this.#options.logger.debug({ worker: address.index, err }, 'worker channel error'));
    const start: StartMessage = {
      type: 'start',
      worker: address.index,
      port: address.port,
      socket: address.socket,
      maxMemory: this.#options.maxMemory,
      group: { self: address.index, epoch: this.#options.epoch, nodes: this.#nodes, table: this.#table },
    };
    child.send(start);
  }

  #message(slot: Slot, m: WorkerMessage): void {
    if (m.type === 'failed') {
      slot.lastError = m.message;
    } else if (m.type === 'shutdown') {
      this.emit('shutdown', slot.address.index);
    } else if (slot.phase === 'starting') {
      slot.phase = 'serving';
      slot.failedStarts = 0;
      slot.servingSince = performance.now();
      if (this.#state === 'starting' && this.#slots.every((s) => s.phase === 'serving')) {
        this.#state = 'running';
        this.#started?.resolve(this.workers());
      } else if (this.#state === 'running') {
        this.#options.logger.info({ worker: slot.address.index, pid: slot.child?.pid, node: slot.address.name }, 'worker restarted');
      }
    }
  }

  #exited(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const { index } = slot.address;
    const pid = slot.child?.pid;
    if (slot.phase === 'stopping' || this.#state === 'stopping') {
      slot.clean ||= code === 0;
      if (!slot.clean) this.#options.logger.error({ worker: index, pid, code, signal }, 'worker did not drain cleanly');
      slot.phase = 'stopped';
      return;
    }
    let delay: number;
    if (slot.phase === 'starting') {
      slot.failedStarts += 1;
      const message = `worker ${index}: ${slot.lastError ?? `exited with ${signal ?? `code ${code}`} before it listened`}`;
      // Give up only while the group starts (a setting that cannot work). Once it served, the other
      // workers keep serving and this one is retried for as long as it takes (its port may be
      // freed, the OOM killer may stop): one worker's trouble never takes the group down.
      if (slot.failedStarts >= START_ATTEMPTS && this.#state === 'starting') {
        slot.phase = 'stopped';
        this.#fail(message);
        return;
      }
      delay = restartDelayMs(slot.failedStarts + slot.deaths);
      this.#options.logger.warn({ worker: index, pid, code, signal, error: slot.lastError, ms: delay }, 'worker failed to start: retrying');
    } else {
      // Up a minute or more: this death is not part of a crash loop.
      if (performance.now() - slot.servingSince >= RESTART_RESET_MS) slot.deaths = 0;
      slot.deaths += 1;
      delay = restartDelayMs(slot.deaths);
      this.#options.logger.error({ worker: index, pid, code, signal, ms: delay }, 'worker exited unexpectedly: restarting it');
    }
    slot.phase = 'waiting';
    slot.timer = setTimeout(() => {
      if (this.#state !== 'stopping') this.#spawn(slot);
    }, delay);
  }

  #fail(message: string): void {
    if (this.#state === 'starting') {
      this.#state = 'running';
      this.#started?.reject(new Error(message));
    } else {
      this.emit('failed', message);
    }
  }
}
