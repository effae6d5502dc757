// Scale-out benchmark (issue 20, docs/SCALING.md), one run, three systems
// alternating inside every round, GET and SET of 100-byte values over a
// pre-filled keyspace with random keys:
//   (a) one conduit-server driven by plain ConduitClients, vs `conduit-server
//       --workers 2` driven by ConduitClients with `discover: true` (each asks
//       TOPOLOGY and connects to every worker): ops/s, and server CPU seconds
//       per million requests, summed over the primary and every worker
//       (utime + stime from /proc/<pid>/stat before and after each measurement);
//   (b) a pooled ConduitClient (`servers: ['127.0.0.1:<port>']`, a pool of one:
//       it still hashes every key) vs the plain client, same server: the
//       ring's overhead (target ≥ 0.9×).
// C connections per server (C clients; a discovering client has one connection
// to each worker and P × workers loops, so every server sees C connections
// with P requests in flight each), P = 16.
// Pinning: this process runs under `{{pin}}` (core 1); the servers get every
// other core (core 0 on a 2-core machine, where both workers share it: the
// section says so) through taskset, so the primary and its workers inherit it.
// Run `npx just bench-scale` (builds first). Env: BENCH_SECONDS (3),
// BENCH_ROUNDS (5), BENCH_CONNECTIONS (50), BENCH_PIPELINE (16), BENCH_KEYS
// (100000); any of them, or BENCH_QUICK=1 (0.25 s, 1 round, 10,000 keys, as the
// harness's smoke windows: CI only checks that every system runs), is a
// partial run saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/scale-<date>.json and regenerates bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ConduitClient } from '../dist/index.js';
import { conduitArgs, cpuSeconds, freePort, has, isQuick, progress, saveRun, stop, waitForPort } from './lib.mjs';
import { SCALE_SYSTEMS } from './report-scale.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_SECONDS', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_PIPELINE', 'BENCH_KEYS']);
const quick = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (quick ? 0.25 : 3));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 5));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (quick ? 10 : 50));
const PIPELINE = Number(process.env.BENCH_PIPELINE ?? 16);
const KEYS = Number(process.env.BENCH_KEYS ?? (quick ? 10_000 : 100_000));
const WORKERS = 2;
const SIZE = 100;
const value = Buffer.alloc(SIZE, 0x76);
const keys = Array.from({ length: KEYS }, (_, i) => `s:${String(i).padStart(8, '0')}`);

// The generator's core is the one `{{pin}}` gave this process (core 1); the servers get the others.
const GENERATOR_CORE = 1;
const cores = cpus().length;
const serverCores = cores <= 2 ? '0' : cores === 3 ? '0,2' : `0,2-${cores - 1}`;
const taskset = has('taskset');

const serverProcesses = new Set();
process.on('exit', () => {
  for (const child of serverProcesses) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * Starts this checkout's conduit-server on `port` with `flags`, on the server cores; its log is
 * read for pids (`--workers`: worker i listens on port + i). Killed by pid at exit.
 */
function startServer(port, flags) {
  const args = [...conduitArgs(), '--port', String(port), '--log-level', 'info', ...flags];
  const [cmd, argv] = taskset ? ['taskset', ['-c', serverCores, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  serverProcesses.add(child);
  child.logPids = new Set();
  child.lastLines = [];
  let tail = '';
  const read = (chunk) => {
    tail += chunk.toString();
    const lines = tail.split('\n');
    tail = lines.pop();
    for (const line of lines) {
      child.lastLines = [...child.lastLines.slice(-4), line];
      // The start-up lines name each worker's pid ("pid" anywhere in a JSON log line).
      try {
        collectPids(JSON.parse(line), child.logPids);
      } catch {
        // not a JSON line
      }
    }
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  return child;
}

/** Every number under a key named `pid` (or in an array named `pids`), at any depth. */
function collectPids(x, into) {
  if (x === null || typeof x !== 'object') return;
  for (const [k, v] of Object.entries(x)) {
    if (k === 'pid' && Number.isInteger(v)) into.add(v);
    else if (k === 'pids' && Array.isArray(v)) for (const p of v) if (Number.isInteger(p)) into.add(p);
    else collectPids(v, into);
  }
}

/** Resolves once `port` accepts connections; rejects at once, with its last log lines, if `child` exits first. */
function listening(child, port) {
  let onExit;
  const exited = new Promise((_, reject) => {
    onExit = (code) => reject(new Error(`conduit-server (${child.spawnargs.slice(-6).join(' ')}) exited with ${code} before listening on ${port}:\n${child.lastLines.join('\n')}`));
    child.once('exit', onExit);
  });
  return Promise.race([waitForPort(port, 20_000), exited]).finally(() => child.off('exit', onExit));
}

/** The parent pid of a live process, or null. */
function parentOf(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  } catch {
    return null;
  }
}

/** The pids of a process's children (Linux /proc/<pid>/task/<tid>/children). */
function childrenOf(pid) {
  const out = new Set();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const p of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (p) out.add(Number(p));
    }
  } catch {
    // gone, or no /proc
  }
  return out;
}

const ports = { single: await freePort(), workers: await freePort() };
// `--workers` takes port and port + 1: make sure the second is free too.
while (!(await portFree(ports.workers + 1))) ports.workers = await freePort();
async function portFree(port) {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// The same cores and the same budget per process for both set-ups.
const single = startServer(ports.single, ['--max-memory', '2gb']);
const group = startServer(ports.workers, ['--workers', String(WORKERS), '--max-memory', `${2 * WORKERS}gb`]);
try {
  await listening(single, ports.single);
  for (let i = 0; i < WORKERS; i++) await listening(group, ports.workers + i);

  // The processes whose CPU is the server's: the primary and every worker. A worker's pid is
  // the one its start-up line names; a child of the primary that no line names is counted too.
  const workerPids = new Set([...group.logPids, ...childrenOf(group.pid)].filter((p) => parentOf(p) === group.pid));
  if (workerPids.size < WORKERS) throw new Error(`found ${workerPids.size} worker pids (${[...workerPids].join(', ')}), expected ${WORKERS}`);
  const groupPids = [group.pid, ...workerPids];

  const address = `127.0.0.1:${ports.single}`;
  const systems = {
    [SCALE_SYSTEMS.plain]: { pids: [single.pid], loops: PIPELINE, make: () => new ConduitClient({ port: ports.single, maxQueued: 1_000_000 }) },
    [SCALE_SYSTEMS.pooled]: { pids: [single.pid], loops: PIPELINE, make: () => new ConduitClient({ servers: [address], maxQueued: 1_000_000 }) },
    [SCALE_SYSTEMS.workers]: {
      pids: groupPids,
      loops: PIPELINE * WORKERS,
      make: () => new ConduitClient({ host: '127.0.0.1', port: ports.workers, discover: true, maxQueued: 1_000_000 }),
    },
  };

  // Pre-fill both set-ups, and check before timing: values read back, the discovering client
  // routes keys to both workers, the pooled client to its one server.
  for (const name of [SCALE_SYSTEMS.plain, SCALE_SYSTEMS.workers]) {
    const c = systems[name].make();
    await c.connect();
    for (let i = 0; i < KEYS; i += 1000) await Promise.all(keys.slice(i, i + 1000).map((k) => c.set(k, value)));
    const back = await c.get(keys[KEYS - 1]);
    if (!Buffer.isBuffer(back) || !back.equals(value)) throw new Error(`${name}: pre-fill did not store the value`);
    if (name === SCALE_SYSTEMS.workers) {
      const owners = new Set(keys.slice(0, 1000).map((k) => c.serverFor(k)));
      if (owners.size !== WORKERS) throw new Error(`the discovering client routes to ${owners.size} servers (${[...owners].join(', ')}), expected ${WORKERS}`);
    }
    await c.close();
  }
  {
    const c = systems[SCALE_SYSTEMS.pooled].make();
    await c.connect();
    if (c.serverFor(keys[0]) !== address) throw new Error(`the pooled client maps keys to ${c.serverFor(keys[0])}, not ${address}`);
    await c.close();
  }

  /** C clients × `loops` awaiting loops of `op` for `seconds`: ops/s and the server's CPU seconds per million requests. */
  async function run(system, op, seconds = SECONDS) {
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const c = system.make();
        await c.connect();
        return c;
      }),
    );
    let done = 0;
    let seed = 1;
    const cpuBefore = system.pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const stopAt = performance.now() + seconds * 1000;
    await Promise.all(
      conns.flatMap((c) =>
        Array.from({ length: system.loops }, async () => {
          while (performance.now() < stopAt) {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            const k = keys[seed % KEYS];
            if (op === 'GET') {
              const v = await c.get(k);
              if (v === undefined || v.length !== SIZE) throw new Error(`GET ${k} missed`);
            } else if ((await c.set(k, value)) !== true) {
              throw new Error(`SET ${k} was not stored`);
            }
            done += 1;
          }
        }),
      ),
    );
    const cpu = system.pids.reduce((s, p) => s + cpuSeconds(p), 0) - cpuBefore;
    await Promise.all(conns.map((c) => c.close()));
    return { ops: done / seconds, requests: done, cpu, cpuPerMillion: (cpu / done) * 1e6 };
  }

  const samples = {};
  const names = Object.keys(systems);
  // One untimed pass of each system first: the first measurement of a fresh process runs before
  // the JIT has compiled the loop (a third of the ops/s in a trial run), and would count against it.
  for (const name of names) for (const op of ['GET', 'SET']) await run({ ...systems[name] }, op, Math.min(1, SECONDS));
  const step = progress(ROUNDS * 2 * names.length);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const op of ['GET', 'SET']) {
      // Rotate the order every round so drift within a round hits every system alike.
      for (let j = 0; j < names.length; j += 1) {
        const name = names[(j + round) % names.length];
        step(`${op} ${name.slice(0, 30)}`);
        (samples[`${name}|${op}`] ??= []).push(await run(systems[name], op));
      }
    }
  }

  const results = [];
  for (const op of ['GET', 'SET']) for (const system of names) results.push({ system, op, rounds: samples[`${system}|${op}`] });
  saveRun({
    benchmark: 'scale',
    command: 'npx just bench-scale',
    quick: QUICK,
    started,
    versions: {},
    parameters: {
      seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, pipeline: PIPELINE, keys: KEYS, valueBytes: SIZE, workers: WORKERS,
      serverCores: taskset ? serverCores : 'any', generatorCore: taskset ? GENERATOR_CORE : 'any', sharedCore: taskset && cores <= 2,
    },
    results,
  });
} finally {
  await stop(single);
  await stop(group, 15_000);
}
