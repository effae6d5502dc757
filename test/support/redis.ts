import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { freePort } from './ports.js';

/**
 * Redis's own tools for the RESP tests (issue 23): `redis-server` to compare
 * Conduit with, `redis-cli` and `redis-benchmark` as real clients. Debian's
 * packages (redis-server, redis-tools: Redis 7.0.15 on bookworm) are installed
 * with apt-get when a tool is missing, once per run (test/support/redis-setup.ts,
 * a Vitest globalSetup). CI runs on a fresh Debian machine as root, so the
 * install works there; where it cannot, every test that needs the tools fails
 * with the reason — never a silent skip, which would let a broken CI look green.
 */

/** The three programs the RESP tests run. */
export const REDIS_TOOLS = ['redis-server', 'redis-cli', 'redis-benchmark'] as const;

/** What the global setup found: the server's version, or why the tools are missing. */
export interface RedisToolsState {
  readonly ok: boolean;
  /** `redis-server --version`'s `v=` field, e.g. `7.0.15`. */
  readonly version: string;
  /** Why they could not be had (install output included), when `!ok`. */
  readonly error: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisTools: RedisToolsState;
  }
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The tools that are not on the PATH now. */
export function missingRedisTools(): string[] {
  return REDIS_TOOLS.filter((t) => !has(t));
}

/**
 * Makes sure redis-server, redis-cli and redis-benchmark are on the PATH,
 * installing Debian's redis-server and redis-tools with apt-get when one is
 * missing (waiting up to 5 minutes for another apt-get's lock). Never throws:
 * the state says what happened, so a caller can fail the tests that need them.
 *
 * @example
 * ```ts
 * const state = ensureRedisTools();
 * if (!state.ok) throw new Error(state.error);
 * ```
 */
export function ensureRedisTools(): RedisToolsState {
  let installLog = '';
  if (missingRedisTools().length > 0) {
    if (!has('apt-get')) {
      return { ok: false, version: '', error: `${missingRedisTools().join(', ')} missing and apt-get is not available to install Debian's redis-server and redis-tools` };
    }
    const script = 'apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq redis-server redis-tools';
    const run = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 600_000 });
    installLog = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    const missing = missingRedisTools();
    if (missing.length > 0) {
      return { ok: false, version: '', error: `${missing.join(', ')} still missing after \`${script}\` (exit ${run.status ?? run.signal}):\n${installLog}` };
    }
  }
  const version = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '';
  if (version === '') return { ok: false, version: '', error: `redis-server --version printed no version${installLog === '' ? '' : `\n${installLog}`}` };
  return { ok: true, version, error: '' };
}

/**
 * The tools' state for a test: what the global setup provided (one install per
 * run), or a check made here when the file runs without it (another config).
 * Throws with the reason when they are missing: the test fails, it is not skipped.
 *
 * @example
 * ```ts
 * beforeAll(() => { requireRedisTools(); });
 * ```
 */
export function requireRedisTools(): string {
  let state: RedisToolsState | undefined;
  try {
    state = inject('redisTools');
  } catch {
    state = undefined;
  }
  state ??= ensureRedisTools();
  if (!state.ok) throw new Error(`the RESP tests need Redis's tools (redis-server, redis-cli, redis-benchmark): ${state.error}`);
  return state.version;
}

/** A redis-server started by {@link startRedisServer}. */
export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** SIGTERM by pid, SIGKILL after 3 s; resolves once it has exited. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const killAll = (): void => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
// A test run that dies leaves no redis-server behind: at exit, and when the worker is
// signalled (then the signal goes on to do what it would have done without this handler).
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once(signal, onSignal);
}

/**
 * Starts redis-server on a free 127.0.0.1 port with persistence off
 * (`--save "" --appendonly no`), no config file, resolving once it says it
 * accepts connections. The caller stops it by pid with `stop()` (an exit
 * handler kills any left). Tries another port if the chosen one was taken.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer(['--maxmemory', '64mb']);
 * try { ... } finally { await redis.stop(); }
 * ```
 */
export async function startRedisServer(settings: readonly string[] = [], timeoutMs = 10_000): Promise<RedisServer> {
  let last = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', '', '--daemonize', 'no', ...settings], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    };
    let out = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const read = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', (e) => {
        out += String(e);
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready && child.pid !== undefined) {
      child.stdout?.removeAllListeners('data');
      child.stderr?.removeAllListeners('data');
      child.stdout?.resume();
      child.stderr?.resume();
      return { port, pid: child.pid, child, stop };
    }
    await stop();
    last = out;
    if (!out.includes('Address already in use')) break;
  }
  throw new Error(`redis-server did not start:\n${last.split('\n').slice(-10).join('\n')}`);
}

/** What a finished `redis-cli` printed. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `redis-cli -h 127.0.0.1 -p port args` asynchronously (the server under
 * test may run in this process: a synchronous spawn would block it), with
 * `input` on its stdin, killed after `timeoutMs`.
 *
 * @example
 * ```ts
 * const { stdout } = await redisCli(port, ['--no-raw', 'GET', 'k']);
 * ```
 */
export function redisCli(port: number, args: readonly string[], input?: string | Buffer, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
