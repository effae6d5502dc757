// Shared pieces of the reliability scenarios (issues 9 and 15): what a scenario
// reports, the conduit-server child process it attacks, and small probes.
// A scenario runs full-size under `npx just chaos` and short (`quick`) in
// `npm test`; the same code does both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { startServerProcess, type ServerProcess } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';
export { freePort } from '../support/ports.js';

/** How big a run is: `quick` is the short version that `npm test` and CI run. */
export interface Size {
  quick: boolean;
}

/** One expectation of a scenario. Timing ones are enforced only in full runs (tests assert no timings). */
export interface Check {
  what: string;
  ok: boolean;
  timing: boolean;
}

/** What a scenario found: figures for docs/RELIABILITY.md and its checks. */
export class Findings {
  readonly figures: string[] = [];
  readonly checks: Check[] = [];

  figure(text: string): void {
    this.figures.push(text);
  }

  /** Records an expectation; `what` says what was expected and what was seen. */
  expect(what: string, ok: boolean): void {
    this.checks.push({ what, ok, timing: false });
  }

  /** Records an expectation about elapsed time or latency. */
  expectTiming(what: string, ok: boolean): void {
    this.checks.push({ what, ok, timing: true });
  }

  /** The checks that failed; timing ones only when `withTiming`. */
  failed(withTiming: boolean): string[] {
    return this.checks.filter((c) => !c.ok && (withTiming || !c.timing)).map((c) => c.what);
  }

  /**
   * The report's verdict: "met", or "**missed**: …". A quick run does not enforce timing
   * (a shared CI machine), so a timing check it failed is "timing not checked in quick
   * mode", never "missed" beside a passing test.
   *
   * @example
   * ```ts
   * // only the timing check 'p99 within 2x of control' failed:
   * findings.verdict(true);  // 'met (timing not checked in quick mode: p99 within 2x of control)'
   * findings.verdict(false); // '**missed**: p99 within 2x of control'
   * ```
   */
  verdict(quick: boolean, extra: string[] = []): string {
    const failed = [...this.failed(!quick), ...extra];
    const unchecked = quick ? this.checks.filter((c) => !c.ok && c.timing).map((c) => c.what) : [];
    const note = unchecked.length === 0 ? '' : ` (timing not checked in quick mode: ${unchecked.join('; ')})`;
    return failed.length === 0 ? `met${note}` : `**missed**: ${failed.join('; ')}${note}`;
  }
}

/** A reliability scenario (issue 9: 1–11; issue 15: 12–19). */
export interface Scenario {
  /** Its number: 1–11 as in issue 9, 12–19 for the attacks of issue 15. */
  number: number;
  /** Short name for CHAOS_ONLY and test titles. */
  id: string;
  /** Its row title in docs/RELIABILITY.md. */
  title: string;
  /** Longest the full run may take, in ms (the quick one gets a third, at least 60 s). */
  budgetMs: number;
  run(size: Size, findings: Findings): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const b = (s: string): Buffer => Buffer.from(s);
export const frame = (id: bigint | number, request: Request): Buffer => Buffer.concat(encodeRequest(BigInt(id), request));
export const setRequest = (key: string | Buffer, value: Buffer, ttlMs = 0): Request => ({
  op: 'SET',
  key: typeof key === 'string' ? b(key) : key,
  value,
  ttlMs,
  nx: false,
  xx: false,
  keepTtl: false,
});

/** Resolves once `check()` holds; rejects after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, timeoutMs: number, what: string, pollMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/**
 * Starts conduit-server as a child process (so its RSS and file descriptors
 * can be read and it can be killed), with the Node flags of the bin's first
 * line as users run it (startServerProcess, nodeFlagsOf: the young-generation
 * cap scenario 6's RSS depends on). Full runs pin it to core 0, leaving
 * core 1 to the load; it is killed by pid after the test.
 */
export function serve(size: Size, flags: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const options = size.quick ? { env } : { env, core: 0 };
  return startServerProcess(['--port', '0', ...flags], options);
}

/** Process id of a started server. */
export function pidOf(server: ServerProcess): number {
  const pid = server.child.pid;
  if (pid === undefined) throw new Error('server process has no pid');
  return pid;
}

/** Open file descriptors of a process. */
export const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** A `Vm…` line of a process's /proc status in MiB (NaN once it has gone). */
function vmMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '';
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process in MiB (NaN once it has gone). */
export const rssMiB = (pid: number): number => vmMiB(pid, 'VmRSS');

/**
 * The kernel's high-water mark of a process's resident memory (VmHWM) in MiB:
 * the peak between any two samples too (NaN once it has gone).
 */
export const hwmMiB = (pid: number): number => vmMiB(pid, 'VmHWM');

/** An RSS watch: a sample every 20 ms, and more on demand. */
export interface RssWatch {
  /** Takes one more sample now (a writer calls it every so many requests). */
  sample(): void;
  /** How many samples were taken so far. */
  readonly samples: number;
  /** Stops the timer and returns the peak in MiB, a last sample included. */
  stop(): number;
}

/**
 * Samples a process's RSS every 20 ms (and whenever `sample()` is called)
 * until stopped; `stop()` returns the peak in MiB.
 *
 * @example
 * ```ts
 * const rss = watchRss(pidOf(server));
 * // … load, calling rss.sample() every 20,000 writes …
 * const peakMiB = rss.stop();
 * ```
 */
export function watchRss(pid: number): RssWatch {
  let peak = rssMiB(pid);
  let samples = 1;
  const sample = (): void => {
    peak = Math.max(peak, rssMiB(pid) || 0);
    samples += 1;
  };
  const timer = setInterval(sample, 20);
  return {
    sample,
    get samples() {
      return samples;
    },
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}


/** The STATS body of the server behind `c` (spec §5.2), asked with identifier `id`. */
export async function statsOf(c: RawClient, id: bigint = 1n << 62n): Promise<Record<string, unknown> & { disconnects: Record<string, number> }> {
  const before = c.frames.length;
  c.write(frame(id, { op: 'STATS' }));
  await c.waitFrames(before + 1);
  const reply = c.frames[before];
  if (reply === undefined || reply.opcode !== Status.OK) throw new Error(`STATS answered ${reply?.opcode}`);
  return JSON.parse(reply.body.toString()) as Record<string, unknown> & { disconnects: Record<string, number> };
}

/** A number out of a STATS body. */
export function stat(stats: Record<string, unknown>, name: string): number {
  const value = stats[name];
  if (typeof value !== 'number') throw new Error(`STATS has no number ${name}`);
  return value;
}

/** Latency percentile (ms) of a sorted array. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * A healthy client: one connection doing SET then GET of its own key in turn,
 * one request at a time, until `stop()` or `limit` requests. Records each
 * latency and every reply that was not what it had just stored.
 */
export class HealthyClient {
  readonly latencies: number[] = [];
  wrong = 0;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<HealthyClient> {
    return new HealthyClient(await RawClient.connect(port));
  }

  /** Runs until `stop()`, `limit` requests, or `deadlineMs`. */
  start(limit: number, deadlineMs: number): void {
    // Kept, not thrown here: a scenario that fails before stop() must not leave an unhandled rejection.
    this.#done = this.#loop(limit, performance.now() + deadlineMs).catch((err: unknown) => {
      this.#failure = err instanceof Error ? err : new Error(String(err));
    });
  }

  async #loop(limit: number, deadline: number): Promise<void> {
    const c = this.raw;
    for (let i = 0; i < limit && !this.#stopped && performance.now() < deadline; i += 1) {
      const value = b(`healthy-${i >> 1}`);
      const request: Request = i % 2 === 0 ? setRequest('healthy-probe-key', value) : { op: 'GET', key: b('healthy-probe-key') };
      const before = c.frames.length;
      const started = performance.now();
      c.write(frame(i, request));
      await c.waitFrames(before + 1, 5_000);
      this.latencies.push(performance.now() - started);
      const reply = c.frames[before];
      if (reply?.opcode !== Status.OK || (i % 2 === 1 && !reply.body.equals(value))) this.wrong += 1;
      c.frames.length = 0;
    }
  }

  /** Stops, closes, and returns p50/p99 in ms; throws if a request went unanswered. */
  async stop(): Promise<{ p50: number; p99: number; count: number }> {
    this.#stopped = true;
    await this.#done;
    this.raw.destroy();
    if (this.#failure !== undefined) throw new Error(`healthy client: ${this.#failure.message}`);
    const sorted = [...this.latencies].sort((x, y) => x - y);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: sorted.length };
  }

  /** Runs `count` requests after as many unmeasured ones (to warm both sides up) and returns their p50/p99. */
  static async measure(port: number, count: number): Promise<{ p50: number; p99: number; count: number }> {
    const h = await HealthyClient.connect(port);
    h.start(2 * count, 60_000);
    await h.#done;
    h.latencies.splice(0, count);
    return h.stop();
  }
}

export const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
const agents = new Set<ChildProcess>();

// Every agent a scenario starts is stopped by its pid after it, also when the scenario failed midway.
afterEach(() => {
  for (const child of agents) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  agents.clear();
});

/** A load-generating child process (test/chaos/agents/*.mjs) and its result. */
export interface Agent {
  child: ChildProcess;
  /** What it printed so far. */
  stdout(): string;
  /** Resolves with its exit code and stdout once it exits; it is killed by pid after `timeoutMs`. */
  done: Promise<{ code: number | null; stdout: string }>;
}

/**
 * Starts `test/chaos/agents/<name>.mjs` with `config` as JSON. Full runs pin
 * it to core 1, away from the server's core 0.
 */
export function agent(size: Size, name: string, config: Record<string, unknown>, timeoutMs: number): Agent {
  const script = fileURLToPath(new URL(`./agents/${name}.mjs`, import.meta.url));
  const command = [process.execPath, script, JSON.stringify(config)];
  if (!size.quick && hasTaskset) command.unshift('taskset', '-c', '1');
  const [file = process.execPath, ...args] = command;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.add(child);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    }),
  );
  return { child, stdout: () => stdout, done };
}
