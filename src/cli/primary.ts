// The `conduit-server --workers N` primary process: starts the workers (supervisor.ts), prints
// the start-up line naming each one, turns signals and a worker's SHUTDOWN into a drain of the
// whole group, and exits with it; with a key file, SIGHUP is a reload passed to every worker.
// It serves nothing itself until a gateway is hooked in.
import type { Logger } from '../config/logger.js';
import { watchLauncher } from './launcher.js';
import { Supervisor, type RunningWorker, type SupervisorOptions } from './supervisor.js';

/** A stop signal repeated within this long is the same request delivered twice (as server.ts's stop()). */
const REPEAT_IGNORED_MS = 1_000;

/**
 * Something the primary runs beside its workers and closes after they have drained (the HTTP gateway).
 *
 * @example
 * ```ts
 * const service: PrimaryService = { http: '127.0.0.1:8080', close: () => gateway.close() };
 * ```
 */
export interface PrimaryService {
  /** What the start-up line's `http` field shows (e.g. `127.0.0.1:8080`). */
  readonly http?: string;
  close(): Promise<void>;
}

/**
 * Called once every worker listens, with the workers' names (the group's `nodes`, in worker
 * order), before the start-up line: where the primary's HTTP gateway starts, forwarding to them
 * (design.md). A rejection ends the primary with exit 1 and its message.
 *
 * @example
 * ```ts
 * const onWorkersReady: WorkersReadyHook = async (names) => startGateway(names);
 * ```
 */
export type WorkersReadyHook = (names: readonly string[], workers: readonly RunningWorker[]) => Promise<PrimaryService | undefined>;

/**
 * What {@link runPrimary} needs besides the supervisor's options.
 *
 * @example
 * ```ts
 * const options: PrimaryOptions = { ...supervisorOptions, startFields: { version }, fail };
 * ```
 */
export interface PrimaryOptions extends SupervisorOptions {
  logger: Logger & { flush?: () => void };
  /** Fields of the start-up line besides the workers (version, secure, tls, settings). */
  startFields: Record<string, unknown>;
  onWorkersReady?: WorkersReadyHook;
  /** Prints `conduit-server: message` and exits 1 (server.ts's fail). */
  fail: (message: string) => never;
  /**
   * Issue 25, with `--key-file`: SIGHUP reloads instead of stopping. Called on each SIGHUP
   * before the workers are told (the primary's own gateway re-reads the file: one log line).
   * `undefined`: SIGHUP stops the group, as SIGTERM does.
   */
  onReload?: () => void;
}

/**
 * Runs the primary: resolves once every worker listens and the start-up line is out; from then
 * on signals, SHUTDOWN and worker failures end the process (exit 0 when every worker drained).
 *
 * @example
 * ```ts
 * await runPrimary({ entry: process.argv[1]!, args: process.argv.slice(2), workers, maxMemory, epoch, shutdownTimeoutMs, logger, startFields, fail });
 * ```
 */
export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const { logger } = o;
  const supervisor = new Supervisor(o);
  let service: PrimaryService | undefined;
  let stoppingSince = 0;
  const exit = (code: number): never => {
    logger.flush?.();
    process.exit(code);
  };
  /** Drains every worker, then the service; exits 0 if all drained, else 1; with `failure`, prints it and exits 1. */
  const stop = (reason: string, failure?: string): void => {
    if (stoppingSince !== 0) {
      if (failure === undefined && performance.now() - stoppingSince < REPEAT_IGNORED_MS) {
        logger.debug({ reason }, 'stop request repeated at once: ignored');
        return;
      }
      if (failure !== undefined) return; // already stopping; its own exit code stands
      logger.warn({ reason }, 'second stop request: killing every worker and exiting at once');
      supervisor.kill();
      exit(1);
    }
    stoppingSince = performance.now();
    logger.info({ reason, workers: o.workers.length }, 'shutting down: draining every worker');
    void supervisor
      .stop()
      .then(async (clean) => {
        await service?.close();
        if (failure !== undefined) o.fail(failure);
        logger.info({ clean }, clean ? 'shutdown complete' : 'shutdown complete: not every worker drained');
        exit(clean ? 0 : 1);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // spec §6.8: with a key file, SIGHUP re-reads it here (the gateway's table) and in every worker;
  // without one it is a closed terminal, and the group stops.
  const reload = o.onReload;
  process.on('SIGHUP', () => {
    if (reload === undefined) return stop('SIGHUP');
    if (stoppingSince !== 0) return;
    reload();
    const told = supervisor.reload();
    logger.debug({ workers: told }, 'SIGHUP: reload relayed to the workers');
  });
  // One worker's SHUTDOWN (allowed by --allow-shutdown) stops the group: a group is one server to its clients.
  supervisor.on('shutdown', (worker: number) => stop(`SHUTDOWN request to worker ${worker}`));
  supervisor.on('failed', (message: string) => stop('a worker keeps failing to start', message));
  watchLauncher(stop);

  let running: RunningWorker[];
  try {
    running = await supervisor.start();
  } catch (err) {
    stop('a worker failed to start', (err as Error).message);
    return;
  }
  try {
    service = await o.onWorkersReady?.(o.workers.map((w) => w.name), running);
  } catch (err) {
    stop('the primary could not start its service', (err as Error).message);
    return;
  }
  const [first] = running;
  logger.info(
    {
      ...o.startFields,
      ...(service?.http === undefined ? {} : { http: service.http }),
      // The first worker's address where a lone server prints its own, so tools that read one address still work.
      address: first?.address,
      socket: first?.socket,
      workers: running,
      group: { epoch: o.epoch, nodes: o.workers.map((w) => w.name) },
    },
    'conduit-server listening',
  );
}
