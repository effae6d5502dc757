// Snapshot benchmark (issue 22, "Benchmarks"): save and load 1 GiB of 4 KiB
// values (262,144 items), Conduit's snapshot vs Redis's RDB vs memcached's
// warm restart, the same data in the same run, one system at a time.
//
// - Disk baseline: the same number of bytes written by this process in 4 MiB
//   writes, fsynced, read back from the page cache and again after its pages
//   were dropped (what the disk itself does; splits a save's fsync out).
// - Conduit: `conduit-server --snapshot FILE` filled through ConduitClient
//   (256 SETs in flight); SIGTERM → the shutdown save (seconds and bytes from
//   its log line, and the wall time to exit); restart → load (STATS
//   `snapshot.last_load`, and the wall time from spawn to listening) with the
//   file in the page cache, then again after its pages were dropped (cold);
//   item count and a sample of values checked. Then the periodic save: a
//   restart with `--snapshot-interval` and a probe sending one GET every ms
//   (bounded count) measures its longest wait during saves and between them
//   (save windows from STATS `last_save` time + duration), beside the
//   server's `longest_slice_ms`.
// - Redis (Debian redis-server, default RDB settings: LZF compression and
//   CRC64 on): the same data through ioredis pipelines; SAVE (blocking,
//   round trip), and again with rdbcompression off (LZF gains nothing on
//   these values); BGSAVE with the same probe (its stall is the fork; INFO
//   `latest_fork_usec` beside it); restart → time to PING answering (Redis
//   answers -LOADING while it loads) and its own "DB loaded from disk" line,
//   warm and cold as above.
// - memcached (Debian, ≥ 1.5.18 for -e): `-e /dev/shm/…` (memcached keeps its
//   item memory in that file and wants it on tmpfs/DAX, so it is not on the
//   disk the others use), filled the same way through the text protocol;
//   SIGUSR1 (graceful stop that writes the restart metadata) → seconds to
//   exit; restart with the same settings → seconds to answering `version`,
//   items restored, sample checked.
// MB/s are file bytes (10^6 B) per second. Every server runs pinned to core 0
// (this process on core 1 through the justfile), one at a time; every process
// started here is stopped by its pid; data files are removed at the end.
//
// Run `npx just bench-snapshot`. Env: BENCH_SNAPSHOT_MIB (1024), BENCH_ROUNDS
// (3), BENCH_PROBE_MS (15000), BENCH_SNAPSHOT_INTERVAL (2s), BENCH_SYSTEMS
// (conduit,redis,memcached), BENCH_CONDUIT_IN_PROCESS (1: Conduit through saveSnapshot/loadSnapshot in
// this process even when the server has --snapshot; the mode used when it has not); any of them, or BENCH_QUICK=1 (32 MiB, one round),
// is a partial run saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/snapshot-<date>.json and regenerates bench/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ConduitClient } from '../dist/index.js';
import { conduitArgs, freePort, has, isQuick, pinned, saveRun } from './lib.mjs';
import {
  RawConn, VALUE_BYTES, cachedPercent, diskBaseline, dropCache, filesystemOf, keyOf, linesOf, memcachedStats, memcachedValue, pollReady,
  probe, sampleIndexes, sleep, splitBySaves, valueOf, wallNow,
} from './snapshot-tools.mjs';

const started = Date.now();
const SIZING = ['BENCH_SNAPSHOT_MIB', 'BENCH_ROUNDS', 'BENCH_PROBE_MS', 'BENCH_SNAPSHOT_INTERVAL', 'BENCH_SYSTEMS', 'BENCH_CONDUIT_IN_PROCESS'];
const QUICK = isQuick(SIZING);
const quick = process.env.BENCH_QUICK === '1';
const MIB = Number(process.env.BENCH_SNAPSHOT_MIB ?? (quick ? 32 : 1024));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const PROBE_MS = Number(process.env.BENCH_PROBE_MS ?? (quick ? 1500 : 15_000));
const INTERVAL = process.env.BENCH_SNAPSHOT_INTERVAL ?? (quick ? '1s' : '2s');
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'conduit,redis,memcached').split(',');
const BYTES = MIB * 2 ** 20;
const ITEMS = Math.floor(BYTES / VALUE_BYTES);
const SAMPLE = quick ? 200 : 2000;
const BATCH = 256;
// Budgets with room for per-item overhead and slab classes (4 KiB values land in ~4.5 KiB chunks).
const CONDUIT_MEMORY = `${Math.ceil((BYTES * 1.5) / 2 ** 20) + 64}mb`;
const MEMCACHED_MIB = Math.ceil((ITEMS * 4544 * 1.25) / 2 ** 20) + 64;
for (const [name, v] of Object.entries({ MIB, ROUNDS, PROBE_MS })) {
  if (!(v > 0)) throw new Error(`bench/snapshot.mjs: ${name} must be positive, got ${v}`);
}

// ---- processes: every one started here is killed by its pid at exit -----------------
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Starts `cmd args` on core 0; keeps the stderr lines that mention snapshots. Resolves `exited` with the exit code (or signal). */
function launch(cmd, args) {
  const [c, a] = pinned(0, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const lines = [];
  let partial = '';
  child.stderr.on('data', (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop();
    for (const l of parts) if (/snapshot/i.test(l)) lines.push(l);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve(code ?? signal);
  }));
  return { child, lines, exited };
}

/** Stops a launched process by its pid with `signal`; resolves with the seconds it took to exit and its exit code. */
async function stopWith(p, signal = 'SIGKILL') {
  const t0 = wallNow();
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 600_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { seconds: (wallNow() - t0) / 1000, code };
}

/** Fills items 0 … ITEMS − 1 through `setBatch(indexes)`, BATCH at a time; seconds. */
async function fill(setBatch) {
  const t0 = wallNow();
  for (let i = 0; i < ITEMS; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(ITEMS, i + BATCH); j++) batch.push(j);
    await setBatch(batch);
  }
  return (wallNow() - t0) / 1000;
}

/** Checks the sample through `get(key)`: how many came back byte for byte. */
async function verify(get) {
  const idx = sampleIndexes(ITEMS, SAMPLE);
  let ok = 0;
  for (let i = 0; i < idx.length; i += 100) {
    const got = await Promise.all(idx.slice(i, i + 100).map((j) => get(keyOf(j))));
    got.forEach((v, k) => {
      if (Buffer.isBuffer(v) && v.equals(valueOf(idx[i + k]))) ok += 1;
    });
  }
  return { sampled: idx.length, matched: ok };
}

/** The probe's GET of a pseudo-random item, checked to be a whole value. */
const probeGet = (get) => async (i) => {
  const v = await get(keyOf((i * 7919) % ITEMS));
  if (!Buffer.isBuffer(v) || v.length !== VALUE_BYTES) throw new Error(`probe GET ${i} came back ${v === undefined || v === null ? 'missing' : `${v.length} bytes`}`);
};

// ---- Conduit ------------------------------------------------------------------------

/** Whether this build's conduit-server has --snapshot (issue 22's server). */
function conduitHasSnapshots() {
  try {
    return execFileSync(process.execPath, ['dist/cli/server.js', '--help']).toString().includes('--snapshot');
  } catch {
    return false;
  }
}

function launchConduit(port, flags) {
  return launch(process.execPath, [...conduitArgs(), '--port', String(port), '--max-memory', CONDUIT_MEMORY, '--log-level', 'info', ...flags]);
}

async function conduitClient(port) {
  const c = new ConduitClient({ port, maxQueued: 1_000_000 });
  await c.connect();
  return c;
}

/** The fields of the last JSON log line about a snapshot whose message matches `pattern`, or null. */
function logLine(lines, pattern) {
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]);
      if (pattern.test(String(o.msg ?? ''))) return o;
    } catch {
      // not JSON: not a log line of ours
    }
  }
  return null;
}
/** The first numeric field of `o` among `names`. */
const field = (o, ...names) => names.map((n) => o?.[n]).find((v) => typeof v === 'number') ?? null;

/** One restart from `file`: spawn → listening, STATS last_load, count, sample; then SIGKILL (no save). */
async function conduitLoad(file, cold) {
  if (cold) dropCache(file);
  const cached = cachedPercent(file);
  const port = await freePort();
  const t0 = wallNow();
  const srv = launchConduit(port, ['--snapshot', file]);
  try {
    const ready = await pollReady(port);
    const c = await conduitClient(port);
    const stats = await c.stats();
    const load = stats.snapshot?.last_load ?? null;
    const check = await verify((k) => c.get(k));
    await c.close();
    return {
      cachedPercent: cached, toListeningS: (ready - t0) / 1000, result: load?.result ?? null, durationMs: load?.duration_ms ?? null,
      bytes: load?.bytes ?? null, loaded: load?.loaded ?? null, items: Number(stats.curr_items), ...check,
    };
  } finally {
    await stopWith(srv, 'SIGKILL');
  }
}

/** The periodic save beside the probe: save windows from STATS, the probe's waits during and between saves. */
async function conduitPeriodic(file) {
  const port = await freePort();
  const srv = launchConduit(port, ['--snapshot', file, '--snapshot-interval', INTERVAL]);
  try {
    await pollReady(port);
    const c = await conduitClient(port);
    const s = await conduitClient(port);
    const saves = new Map();
    let saving = null;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const snap = (await s.stats()).snapshot;
        const last = snap?.last_save;
        if (last) saves.set(last.time, last);
        if (snap?.saving && saving === null) saving = wallNow();
        if (!snap?.saving) saving = null;
        await sleep(50);
      }
    })();
    const samples = await probe(probeGet((k) => c.get(k)), { count: PROBE_MS });
    polling = false;
    await poller;
    const windows = [...saves.values()].map((x) => [x.time, x.time + x.duration_ms]);
    if (saving !== null) windows.push([saving - 50, Infinity]);
    const list = [...saves.values()];
    await c.close();
    await s.close();
    return {
      probes: samples.waits.length, probeSeconds: (samples.sent.at(-1) - samples.sent[0]) / 1000, ...splitBySaves(samples, windows),
      saves: list.map((x) => ({ durationMs: x.duration_ms, bytes: x.bytes, items: x.items, longestSliceMs: x.longest_slice_ms, syncMs: x.sync_ms ?? null })),
    };
  } finally {
    await stopWith(srv, 'SIGKILL');
  }
}

async function conduitRound(dir) {
  const file = join(dir, 'conduit.snap');
  try {
    // The start time of a server with nothing to load (Node's own start), the floor of "to listening".
    const emptyPort = await freePort();
    let t0 = wallNow();
    const empty = launchConduit(emptyPort, ['--snapshot', join(dir, 'none.snap')]);
    const emptyStartS = ((await pollReady(emptyPort)) - t0) / 1000;
    await stopWith(empty, 'SIGKILL');

    const port = await freePort();
    const srv = launchConduit(port, ['--snapshot', file]);
    await pollReady(port);
    const c = await conduitClient(port);
    const fillS = await fill(async (batch) => {
      const ok = await Promise.all(batch.map((i) => c.set(keyOf(i), valueOf(i))));
      if (ok.some((x) => x !== true)) throw new Error('conduit: a SET was not stored');
    });
    const stored = Number((await c.stats()).curr_items);
    await c.close();
    t0 = wallNow();
    const stop = await stopWith(srv, 'SIGTERM');
    const line = logLine(srv.lines, /saved at shutdown/i) ?? logLine(srv.lines, /sav/i);
    const fileBytes = existsSync(file) ? statSync(file).size : null;
    const save = {
      exitS: stop.seconds, exitCode: stop.code, fileBytes, durationMs: field(line, 'durationMs', 'duration_ms', 'ms'),
      bytes: field(line, 'bytes'), items: field(line, 'items'), longestSliceMs: field(line, 'longestSliceMs', 'longest_slice_ms'), syncMs: field(line, 'syncMs', 'sync_ms'),
      line: line === null ? null : JSON.stringify(line),
    };
    if (fileBytes === null) return { emptyStartS, fillS, stored, save, error: `no snapshot file after SIGTERM (exit ${stop.code})` };
    const loadWarm = await conduitLoad(file, false);
    const loadCold = await conduitLoad(file, true);
    const periodic = await conduitPeriodic(file);
    return { emptyStartS, fillS, stored, save, loadWarm, loadCold, periodic };
  } finally {
    for (const f of [file, join(dir, 'none.snap')]) rmSync(f, { force: true });
  }
}

/**
 * Conduit in this process, through saveSnapshot/loadSnapshot (the file side, before the
 * server's --snapshot exists in this build): the same data in a Store, the shutdown-style
 * save (sliceMs Infinity), loads into fresh Stores (page cache, cold), and the periodic-style
 * save (default slices) beside a 1 ms timer whose longest gap is the event-loop stall.
 */
async function conduitInProcessRound(dir) {
  const { Store } = await import('../dist/index.js');
  const { saveSnapshot, loadSnapshot } = await import('../dist/server/snapshot/index.js');
  const file = join(dir, 'conduit.snap');
  const maxMemory = Number.parseInt(CONDUIT_MEMORY, 10) * 2 ** 20;
  try {
    let store = new Store({ maxMemory });
    const fillS = await fill(async (batch) => {
      for (const i of batch) if (store.set(Buffer.from(keyOf(i)), valueOf(i)) !== 'stored') throw new Error('conduit: a set was not stored');
    });
    const stored = store.stats().curr_items;
    let t0 = wallNow();
    const r = await saveSnapshot(store, file, { sliceMs: Infinity });
    const save = { exitS: null, exitCode: null, fileBytes: statSync(file).size, durationMs: r.durationMs, bytes: r.bytes, items: r.items, longestSliceMs: r.longestSliceMs, syncMs: r.syncMs ?? null, wallS: (wallNow() - t0) / 1000 };
    const load = async (cold) => {
      if (cold) dropCache(file);
      const cached = cachedPercent(file);
      const into = new Store({ maxMemory });
      const l = await loadSnapshot(into, file, { maxValueLength: 2 ** 20 });
      const check = await verify(async (k) => into.get(Buffer.from(k)));
      return { cachedPercent: cached, toListeningS: null, result: l.result, durationMs: l.durationMs, bytes: l.bytes, loaded: l.loaded, items: l.loaded, ...check };
    };
    const loadWarm = await load(false);
    const loadCold = await load(true);
    // The periodic-style save beside a 1 ms timer: each tick's gap since the previous one is a sample.
    const sent = [];
    const waits = [];
    let last = wallNow();
    const timer = setInterval(() => {
      const now = wallNow();
      sent.push(last);
      waits.push(now - last);
      last = now;
    }, 1);
    await sleep(500);
    t0 = wallNow();
    const p = await saveSnapshot(store, file);
    const end = wallNow();
    await sleep(500);
    clearInterval(timer);
    store = null;
    return {
      emptyStartS: null, fillS, stored, save, loadWarm, loadCold,
      periodic: { probes: waits.length, probeSeconds: (wallNow() - sent[0]) / 1000, ...splitBySaves({ sent, waits }, [[t0, end]]),
        saves: [{ durationMs: p.durationMs, bytes: p.bytes, items: p.items, longestSliceMs: p.longestSliceMs, syncMs: p.syncMs ?? null }] },
    };
  } finally {
    rmSync(file, { force: true });
  }
}

// ---- Redis ----------------------------------------------------------------------------

const PING = Buffer.from('PING\r\n');

async function redisRound(dir) {
  const port = await freePort();
  const log = join(dir, 'redis.log');
  const rdb = join(dir, 'dump.rdb');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb', '--logfile', log];
  const client = async () => {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    return r;
  };
  const info = async (r, section) => Object.fromEntries((await r.info(section)).split('\r\n').filter((l) => l.includes(':')).map((l) => l.split(':')));
  try {
    let srv = launch('redis-server', args);
    await pollReady(port, { request: PING, ready: (l) => l === '+PONG' });
    const r = await client();
    const fillS = await fill(async (batch) => {
      const p = r.pipeline();
      for (const i of batch) p.set(keyOf(i), valueOf(i));
      const res = await p.exec();
      if (res.some(([err, ok]) => err !== null || ok !== 'OK')) throw new Error('redis: a SET failed');
    });
    const stored = await r.dbsize();
    // SAVE without LZF first (rdbcompression no: incompressible values gain nothing from it, and it
    // costs CPU), then with the default, whose file the BGSAVE rewrites and the loads read.
    await r.config('SET', 'rdbcompression', 'no');
    let t0 = wallNow();
    await r.save();
    const saveUncompressed = { seconds: (wallNow() - t0) / 1000, fileBytes: statSync(rdb).size };
    await r.config('SET', 'rdbcompression', 'yes');
    t0 = wallNow();
    await r.save();
    const save = { seconds: (wallNow() - t0) / 1000, fileBytes: statSync(rdb).size };

    // BGSAVE beside the probe: the window from the command to the server counting the save done.
    const p = await client();
    const savesBefore = Number((await info(r, 'persistence')).rdb_saves);
    let stop = false;
    const probing = probe(probeGet((k) => p.getBuffer(k)), { count: 600_000, shouldStop: () => stop });
    await sleep(300);
    t0 = wallNow();
    await r.bgsave();
    let end = null;
    for (let polls = 0; end === null && polls < 60_000; polls++) {
      const x = await info(r, 'persistence');
      if (x.rdb_bgsave_in_progress === '0' && Number(x.rdb_saves) > savesBefore) end = wallNow();
      else await sleep(10);
    }
    await sleep(300);
    stop = true;
    const samples = await probing;
    const persistence = await info(r, 'persistence');
    const bgsave = {
      seconds: end === null ? null : (end - t0) / 1000, status: persistence.rdb_last_bgsave_status, forkUsec: Number((await info(r, 'stats')).latest_fork_usec),
      probes: samples.waits.length, ...splitBySaves(samples, [[t0, end ?? Infinity]]),
    };
    p.disconnect();
    r.disconnect();
    await stopWith(srv, 'SIGKILL');

    const load = async (cold) => {
      if (cold) dropCache(rdb);
      const cached = cachedPercent(rdb);
      rmSync(log, { force: true });
      const start = wallNow();
      srv = launch('redis-server', args);
      try {
        const ready = await pollReady(port, { request: PING, ready: (l) => l === '+PONG' });
        const logged = /DB loaded from disk: ([\d.]+) seconds/.exec(existsSync(log) ? readFileSync(log, 'utf8') : '');
        const c = await client();
        const keys = await c.dbsize();
        const check = await verify((k) => c.getBuffer(k));
        c.disconnect();
        return { cachedPercent: cached, toPingS: (ready - start) / 1000, loggedS: logged ? Number(logged[1]) : null, keys, ...check };
      } finally {
        await stopWith(srv, 'SIGKILL');
      }
    };
    return { fillS, stored, save, saveUncompressed, bgsave, loadWarm: await load(false), loadCold: await load(true) };
  } finally {
    for (const f of [rdb, log]) rmSync(f, { force: true });
  }
}

// ---- memcached --------------------------------------------------------------------------

async function memcachedRound(shm) {
  const file = join(shm, 'memory_file');
  const port = await freePort();
  const args = ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-t', '1', '-m', String(MEMCACHED_MIB), '-e', file, ...(process.getuid?.() === 0 ? ['-u', 'root'] : [])];
  const VERSION = Buffer.from('version\r\n');
  try {
    let srv = launch('memcached', args);
    await pollReady(port, { request: VERSION, ready: (l) => l.startsWith('VERSION') });
    let m = await RawConn.open(port);
    const fillS = await fill(async (batch) => {
      m.write(Buffer.concat(batch.flatMap((i) => [Buffer.from(`set ${keyOf(i)} 0 0 ${VALUE_BYTES}\r\n`), valueOf(i), Buffer.from('\r\n')])));
      await m.read(linesOf(batch.length, 'STORED'));
    });
    m.write(Buffer.from('stats\r\n'));
    const stored = Number((await m.read(memcachedStats)).curr_items);
    m.close();
    const stop = await stopWith(srv, 'SIGUSR1');
    const fileBytes = existsSync(file) ? statSync(file).size : null;
    // memcached refuses the memory file in the second it was stopped ("restart incompatible due to
    // setting for [stop_time]": it takes that as a clock gone backwards): start in the next second.
    // The wait is not counted; a real deploy takes longer than that between the stop and the start.
    const stoppedSecond = Math.floor(Date.now() / 1000);
    await sleep((stoppedSecond + 1) * 1000 - Date.now() + 20);
    const start = wallNow();
    srv = launch('memcached', args);
    try {
      const ready = await pollReady(port, { request: VERSION, ready: (l) => l.startsWith('VERSION') });
      m = await RawConn.open(port);
      m.write(Buffer.from('stats\r\n'));
      const items = Number((await m.read(memcachedStats)).curr_items);
      const check = await verify(async (k) => {
        m.write(Buffer.from(`get ${k}\r\n`));
        return m.read(memcachedValue);
      });
      m.close();
      return { fillS, stored, fileBytes, stopS: stop.seconds, exitCode: stop.code, restart: { toServingS: (ready - start) / 1000, items, ...check } };
    } finally {
      await stopWith(srv, 'SIGKILL');
    }
  } finally {
    for (const f of [file, `${file}.meta`]) rmSync(f, { force: true });
  }
}

// ---- the run ------------------------------------------------------------------------------

const missing = [];
if (SYSTEMS.includes('redis') && !has('redis-server')) missing.push('redis-server');
if (SYSTEMS.includes('memcached') && !has('memcached')) missing.push('memcached');
if (missing.length > 0) {
  console.log(`Installing Debian packages the comparison needs: ${missing.join(' ')} (apt-get)…`);
  execFileSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`], { stdio: 'inherit' });
}
const version = (cmd, args, pattern) => (has(cmd) ? execFileSync(cmd, args).toString().match(pattern)?.[1] ?? '?' : null);
const versions = {
  redis: version('redis-server', ['--version'], /v=(\S+)/),
  memcached: version('memcached', ['-V'], /memcached (\S+)/),
  ioredis: JSON.parse(readFileSync(new URL('../node_modules/ioredis/package.json', import.meta.url), 'utf8')).version,
  kernel: execFileSync('uname', ['-r']).toString().trim(),
};
const inProcess = existsSync(new URL('../dist/server/snapshot/index.js', import.meta.url)) && process.env.BENCH_CONDUIT_IN_PROCESS !== '0';
const conduitMode = !SYSTEMS.includes('conduit') ? 'skipped' : conduitHasSnapshots() && process.env.BENCH_CONDUIT_IN_PROCESS !== '1' ? 'cli' : inProcess ? 'in-process' : 'absent';
const dir = mkdtempSync(join(tmpdir(), 'conduit-bench-snapshot-'));
const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/conduit-bench-snapshot-') : mkdtempSync(join(tmpdir(), 'conduit-bench-snapshot-mc-'));
// Also on Ctrl-C (process.exit from the signal handler above): 1 GiB files are not left behind.
process.on('exit', () => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});
const systems = {
  conduit: conduitMode === 'cli' ? () => conduitRound(dir) : conduitMode === 'in-process' ? () => conduitInProcessRound(dir) : null,
  redis: SYSTEMS.includes('redis') ? () => redisRound(dir) : null,
  memcached: SYSTEMS.includes('memcached') ? () => memcachedRound(shm) : null,
};
const results = { disk: [], conduit: [], redis: [], memcached: [] };
try {
  console.error(`snapshot benchmark: ${ITEMS.toLocaleString('en-US')} items of ${VALUE_BYTES} B (${MIB} MiB), ${ROUNDS} round(s); data in ${dir} (${filesystemOf(dir).type}), memcached's file in ${shm} (${filesystemOf(shm).type}); Conduit: ${conduitMode}`);
  for (let round = 0; round < ROUNDS; round++) {
    results.disk.push(diskBaseline(join(dir, 'baseline.bin'), BYTES));
    for (const [name, run] of Object.entries(systems)) {
      if (run === null) continue;
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${name}…\n`);
      try {
        results[name].push(await run());
      } catch (err) {
        // One system failing does not lose the others' figures: the round says what went wrong.
        console.error(`${name}: ${err.stack ?? err}`);
        results[name].push({ error: String(err.message ?? err) });
      }
    }
  }
  saveRun({
    benchmark: 'snapshot',
    command: 'npx just bench-snapshot',
    quick: QUICK,
    started,
    versions,
    parameters: {
      bytes: BYTES, items: ITEMS, valueBytes: VALUE_BYTES, rounds: ROUNDS, probeMs: PROBE_MS, interval: INTERVAL, sample: SAMPLE, fillBatch: BATCH,
      conduitMaxMemory: CONDUIT_MEMORY, memcachedMiB: MEMCACHED_MIB, dataFilesystem: filesystemOf(dir), memcachedFilesystem: filesystemOf(shm), systems: SYSTEMS,
    },
    conduitMode,
    ...results,
  });
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
}
