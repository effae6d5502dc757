import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const serverBin = fileURLToPath(new URL('../../dist/cli/server.js', import.meta.url));
const children: ChildProcess[] = [];

/**
 * The Node flags on a script's `#!/usr/bin/env -S node …` first line (none for
 * `#!/usr/bin/env node` or no such line). A test that starts the script with
 * `process.execPath` passes them, so the process runs as the shipped bin does:
 * conduit-server's line caps V8's young generation, which is most of what its
 * RSS holds beyond the budget (docs/STORAGE.md "Process RSS"). bench/lib.mjs's
 * `conduitArgs` reads the line the same way.
 *
 * @example
 * ```ts
 * nodeFlagsOf(serverBin); // ['--max-semi-space-size=1']
 * spawn(process.execPath, [...nodeFlagsOf(serverBin), serverBin, '--port', '0']);
 * ```
 */
export function nodeFlagsOf(script: string): string[] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first)?.[1]?.trim().split(/\s+/) ?? [];
}

/** `node [the bin's flags] dist/cli/server.js args`, as argv (see {@link nodeFlagsOf}). */
const serverCommand = (args: string[]): string[] => [process.execPath, ...nodeFlagsOf(serverBin), serverBin, ...args];

// Every process a test starts is stopped by its pid after it.
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
});

/** A running `conduit-server` child process and what it printed. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  logs: () => Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How {@link startServerProcess} runs the server. */
export interface StartOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the "listening" log line. Default 10 s. */
  timeoutMs?: number;
  /** Pin the process to this CPU core with taskset (benchmark-like runs keep load generators off it). */
  core?: number;
  /** Run it under `ulimit -n` this many open files, soft and hard (bash; Linux). */
  openFiles?: number;
  /** Run it under `ulimit -f` (KiB): a write past it fails with EFBIG (bash; Linux), e.g. a full disk for a snapshot save. */
  fileSizeKib?: number;
}

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

/** Runs `conduit-server args` (with the bin's Node flags) and resolves once it listens, or rejects with what it printed. */
export function startServerProcess(args: string[], { env = {}, timeoutMs = 10_000, core, openFiles, fileSizeKib }: StartOptions = {}): Promise<ServerProcess> {
  const command = serverCommand(args);
  if (core !== undefined && hasTaskset) command.unshift('taskset', '-c', String(core));
  // exec keeps the pid: the server is the child that gets killed after the test.
  const limits = [openFiles === undefined ? '' : `ulimit -n ${openFiles} && `, fileSizeKib === undefined ? '' : `ulimit -f ${fileSizeKib} && `].join('');
  if (limits !== '') command.unshift('bash', '-c', `${limits}exec "$@"`, 'bash');
  const [file = process.execPath, ...rest] = command;
  const child = spawn(file, rest, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs = (): Record<string, unknown>[] =>
    stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), timeoutMs);
    let listening = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (listening) return; // a long run logs a lot; parse only until the server is up
      const line = logs().find((l) => l.msg === 'conduit-server listening');
      if (line !== undefined) {
        listening = true;
        clearTimeout(timer);
        const port = Number(String(line.address).split(':').at(-1));
        resolve({ child, port, stderr: () => stderr, logs, exited });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
}

/** Runs `conduit-server args` to its exit (for startup errors). */
export async function runServerToExit(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file = process.execPath, ...rest] = serverCommand(args);
  const child = spawn(file, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export const cliBin = fileURLToPath(new URL('../../dist/cli/cli.js', import.meta.url));

/** Runs `conduit-cli args` with `input` on stdin; resolves its exit code and output. */
export async function runCli(
  args: string[],
  input: string | Buffer = '',
  env: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(process.execPath, [cliBin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(out), stderr };
}

/**
 * Whether process `pid` still runs (signal 0 checks without sending).
 *
 * @example
 * ```ts
 * expect(alive(worker.pid)).toBe(false);
 * ```
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `signal` (SIGTERM by default) to a server started by {@link startServerProcess} and
 * resolves with its exit status (0: drained, and with --snapshot, saved).
 */
export async function stopServer(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  server.child.kill(signal);
  return (await server.exited).code;
}

/** The server's first JSON log line whose message matches `match`, or undefined. */
export const logLine = (server: ServerProcess, match: RegExp): Record<string, unknown> | undefined =>
  server.logs().find((l) => typeof l.msg === 'string' && match.test(l.msg));
