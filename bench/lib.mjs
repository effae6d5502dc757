// Helpers shared by the benchmarks that start servers: ports, pinning,
// process accounting, installs, and statistics. Every process started
// through start() is killed by its pid when the benchmark exits, also on
// failure or Ctrl-C.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { renderRun, writeAll } from './report.mjs';

const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** True when `cmd` is on the PATH. */
export const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** `[cmd, args]` pinned to `core` with taskset when it exists. */
export const pinned = (core, cmd, args) => (has('taskset') ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export async function waitForPort(port, deadlineMs = 10_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `cmd args` pinned to core 0 (the server core); killed by pid at exit. */
export function start(cmd, args) {
  const [c, a] = pinned(0, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.stderr.on('data', () => {});
  return child;
}

/**
 * The node arguments that run `serverJs` as the installed `conduit-server` bin runs it: the
 * Node flags of its `#!/usr/bin/env -S node …` line (the young-generation cap that keeps
 * RSS near the budget, docs/STORAGE.md), then the script, so benchmarks measure what users run.
 */
export function conduitArgs(serverJs = 'dist/cli/server.js') {
  const first = readFileSync(serverJs, 'utf8').split('\n', 1)[0];
  const flags = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first)?.[1].trim().split(/\s+/) ?? [];
  return [...flags, serverJs];
}

/** Starts conduit-server (this checkout's build) on `port` with extra flags; `--max-memory 2gb` unless `flags` name a budget. */
export function startConduit(port, flags = [], env = {}) {
  const budget = flags.includes('--max-memory') ? [] : ['--max-memory', '2gb'];
  const [c, a] = pinned(0, process.execPath, [...conduitArgs(), '--port', String(port), ...budget, '--log-level', 'warn', ...flags]);
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  child.stderr.on('data', () => {});
  return child;
}

/** Starts redis-server on `port`, persistence off, loopback only, with extra settings (`['--maxmemory', '64mb']`). */
export function startRedis(port, settings = []) {
  return start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...settings]);
}

/** Stops a process started here by its pid (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
export async function stop(child, graceMs = 5_000) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

/** Installs Debian's redis-server when redis-server or redis-benchmark is missing, saying so. Returns the version. */
export function ensureRedis() {
  if (!has('redis-server') || !has('redis-benchmark')) {
    console.log("redis-server or redis-benchmark is missing: installing Debian's redis-server package (apt-get)…");
    execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq redis-server redis-tools'], { stdio: 'inherit' });
  }
  return execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)?.[1] ?? '?';
}

/** CPU seconds (user + system) a process has used. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS'));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (the kernel's own peak of RSS) of a process in MiB, from /proc/<pid>/status. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rssMiB: mib('VmRSS'), hwmMiB: mib('VmHWM') };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n) => Math.round(n).toLocaleString('en-US');
/** `median (min–max)` of ops/s values. */
export const spread = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;

/** Latency percentiles (ms) of a sorted array. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A progress bar on stderr for `total` steps. */
export function progress(total) {
  let step = 0;
  return (what) => {
    step += 1;
    process.stderr.write(`\r[${'#'.repeat(Math.round((20 * step) / total)).padEnd(20)}] ${step}/${total} ${what.padEnd(40)}`);
    if (step === total) process.stderr.write('\n');
  };
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl in a temp dir: `{ ca, cert, key }` paths. */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-bench-certs-'));
  const f = (name) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (...args) => execFileSync('openssl', args, { stdio: 'ignore' });
  run('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=conduit bench CA', '-days', '2');
  writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  run('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext'));
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const root = new URL('..', import.meta.url).pathname;

/**
 * True when this run is not the documented full run: BENCH_QUICK=1, or any of
 * the `sizing` variables (BENCH_ROUNDS, BENCH_KEYS, …) set. Such runs never
 * land in bench/results/ or bench/RESULTS.md (they go to a temp dir), so
 * the committed numbers are always from the documented command.
 */
export function isQuick(sizing) {
  return process.env.BENCH_QUICK === '1' || sizing.some((name) => process.env[name] !== undefined);
}

/** The commit this checkout is at, and whether src/ or bench/ differ from it. */
function commitInfo() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return { hash: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--', 'src', 'bench', ':!bench/results', ':!bench/RESULTS.md') !== '' };
  } catch {
    return { hash: null, dirty: null };
  }
}

/** The machine as the results name it. */
export function machine() {
  return { cores: cpus().length, cpu: cpus()[0]?.model?.trim() ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), pinned: has('taskset') };
}

/**
 * Saves a benchmark's raw results as `results/<benchmark>-<date>.json` with
 * the date, commit, machine, versions and parameters, and prints its section
 * of RESULTS.md. A full run writes under bench/ and regenerates all of
 * bench/RESULTS.md from the newest full run of every benchmark; a quick run
 * (see isQuick) writes under BENCH_OUT or a new temp dir and touches nothing
 * in the repository. Returns the JSON file's path.
 */
export function saveRun({ benchmark, command, quick, started, versions, parameters, ...data }) {
  const date = new Date().toISOString();
  // The BENCH_* variables of a partial run are part of its command.
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') && k !== 'BENCH_OUT').sort(([a], [b]) => a.localeCompare(b));
  const run = {
    benchmark,
    date,
    command: [...env.map(([k, v]) => `${k}=${v}`), command].join(' '),
    quick,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    commit: commitInfo(),
    machine: machine(),
    versions: { node: process.version, conduit: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version, ...versions },
    parameters,
    ...data,
  };
  const outDir = process.env.BENCH_OUT ?? (quick ? mkdtempSync(join(tmpdir(), `conduit-bench-${benchmark}-`)) : join(root, 'bench'));
  mkdirSync(join(outDir, 'results'), { recursive: true });
  const file = join(outDir, 'results', `${benchmark}-${date.slice(0, 16).replace(':', '')}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`\n${renderRun({ ...run, file: basename(file) })}`);
  if (quick) {
    console.log(`wrote ${file} (a quick run: bench/RESULTS.md and bench/results/ are left alone)`);
  } else {
    const written = writeAll(outDir);
    console.log(`wrote ${file}; regenerated ${written.join(', ')}`);
  }
  return file;
}
