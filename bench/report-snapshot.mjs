// The snapshot part of bench/RESULTS.md (issue 22): bench/snapshot.mjs's save
// and load of 1 GiB of 4 KiB values, Conduit's snapshot vs Redis's RDB vs
// memcached's warm restart, the disk baseline beside them, and the longest
// wait of a 1-GET-per-ms probe during a periodic save (Conduit) and a BGSAVE
// (Redis). Beside report.mjs so that file does not grow: report.mjs imports
// these and calls them like its own.

/** Issue 22's goals: save and load ≥ 500 MB/s, the longest event-loop stall during a periodic save ≤ 10 ms. */
export const SNAPSHOT_GOALS = { saveMBps: 500, loadMBps: 500, stallMs: 10 };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** `{ median, min, max }` of `f(round)` over the rounds without an error, or null. */
function stat(rounds, f) {
  const v = (rounds ?? []).filter((r) => r.error === undefined).map((r) => f(r)).filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}
const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const num = (d) => (x) => (x === null || x === undefined ? '—' : x.toFixed(d));
const spread = (s, f) => (s === null ? '—' : s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`);
const s3 = num(3);
const MB = 1e6;
/** MB/s of `bytes` in `seconds`, or null. */
const rate = (bytes, seconds) => (typeof bytes === 'number' && typeof seconds === 'number' && seconds > 0 ? bytes / MB / seconds : null);

/** Conduit modes with figures: the server (`cli`), or saveSnapshot/loadSnapshot in the benchmark's process (`in-process`, before the server had --snapshot). */
const MEASURED = new Set(['cli', 'in-process']);

/** The Conduit shutdown save's seconds: the server's own duration (log line), else the wall time from SIGTERM to exit. */
const conduitSaveS = (r) => (r.save?.durationMs != null ? r.save.durationMs / 1000 : r.save?.exitS ?? null);
const conduitSaveBytes = (r) => r.save?.bytes ?? r.save?.fileBytes ?? null;
const loadS = (l) => (l?.durationMs != null ? l.durationMs / 1000 : null);

/**
 * The snapshot run's targets: Conduit's shutdown save and its load (file in
 * the page cache, the server's own duration) ≥ 500 MB/s, and the longest
 * probe wait during a periodic save ≤ 10 ms (median of the rounds' longest).
 *
 * @example
 * snapshotTargets(run); // [{ text: 'Conduit snapshot save ≥ 500 MB/s …', cmp: '>=', bound: 500, unit: 'MB/s', value: 812, figures: '…' }]
 */
export function snapshotTargets(run) {
  const rounds = run.conduit ?? [];
  const measured = MEASURED.has(run.conduitMode) && rounds.some((r) => r.error === undefined);
  const save = measured ? stat(rounds, (r) => rate(conduitSaveBytes(r), conduitSaveS(r))) : null;
  const load = measured ? stat(rounds, (r) => rate(r.loadWarm?.bytes, loadS(r.loadWarm))) : null;
  const stall = measured ? stat(rounds, (r) => r.periodic?.during.maxMs) : null;
  const slice = measured ? stat(rounds, (r) => Math.max(...(r.periodic?.saves ?? []).map((x) => x.longestSliceMs ?? NaN))) : null;
  const size = `${int(run.parameters.bytes / 2 ** 20)} MiB of ${int(run.parameters.valueBytes)} B values`;
  const G = SNAPSHOT_GOALS;
  const none = MEASURED.has(run.conduitMode) ? 'every round failed' : 'this conduit-server has no --snapshot';
  const how = run.conduitMode === 'in-process' ? ', in process' : '';
  return [
    { text: `Conduit save at shutdown ≥ ${G.saveMBps} MB/s (${size}, fsync included${how})`, cmp: '>=', bound: G.saveMBps, unit: 'MB/s', value: save?.median ?? null,
      figures: save === null ? none : `${spread(stat(rounds, conduitSaveS), s3)} s` },
    { text: `Conduit load at start ≥ ${G.loadMBps} MB/s (${size}, file in the page cache${how})`, cmp: '>=', bound: G.loadMBps, unit: 'MB/s', value: load?.median ?? null,
      figures: load === null ? none : `${spread(stat(rounds, (r) => loadS(r.loadWarm)), s3)} s; from a cold cache ${spread(stat(rounds, (r) => rate(r.loadCold?.bytes, loadS(r.loadCold))), int)} MB/s` },
    { text: `longest wait of a 1-GET-per-ms probe during a periodic save ≤ ${G.stallMs} ms${how === '' ? '' : ' (in process: the longest gap of a 1 ms timer)'}`, cmp: '<=', bound: G.stallMs, unit: 'ms', value: stall?.median ?? null,
      figures: stall === null ? none : `median of the rounds' longest (max ${num(1)(stall.max)} ms); the server's longest slice ${spread(slice, num(1))} ms` },
  ];
}

/** One table row: label, seconds, MB/s, and a note. */
const row = (system, step, secs, mbps, note = '') => `| ${system} | ${step} | ${spread(secs, s3)} | ${spread(mbps, int)} | ${note} |`;

/**
 * The snapshot run's section: the disk baseline, save and load per system
 * (seconds, MB/s, items), then the probe's longest waits during saves.
 *
 * @example
 * snapshotSection(run); // ['262,144 items of 4,096 B …', '', '| system | step | seconds | MB/s | notes |', …]
 */
export function snapshotSection(run) {
  const p = run.parameters;
  const d = run.disk ?? [];
  const c = MEASURED.has(run.conduitMode) ? run.conduit ?? [] : [];
  const cli = run.conduitMode === 'cli';
  const rd = run.redis ?? [];
  const mc = run.memcached ?? [];
  const fs = `${p.dataFilesystem?.type ?? '?'} on ${p.dataFilesystem?.device ?? '?'}`;
  const lines = [
    `${int(p.items)} items of ${int(p.valueBytes)} B (${int(p.bytes / 2 ** 20)} MiB of values, a seeded incompressible pattern, every value different), ` +
      `filled ${p.fillBatch} requests in flight; one system at a time, each server pinned to core 0; median of ${p.rounds} round${p.rounds === 1 ? '' : 's'} (min–max). ` +
      `Files on ${fs} under the OS temp dir; memcached's \`-e\` memory file on ${p.memcachedFilesystem?.type ?? '?'} (/dev/shm: memcached keeps its item memory in that file and wants it on tmpfs or DAX). ` +
      'MB/s = file bytes (10^6 B) per second. "Page cache": the file just written, as a restart right after a deploy\'s save finds it; "cold": its pages dropped first (`dd iflag=nocache`), read from the disk. ' +
      `Every load checked: the item count and ${int(p.sample)} values byte for byte.`,
    '',
  ];
  if (run.conduitMode === 'in-process') {
    lines.push('**Conduit measured in the benchmark\'s process** through `saveSnapshot` / `loadSnapshot` (this conduit-server has no `--snapshot` yet, or BENCH_CONDUIT_IN_PROCESS=1): ' +
      'save with `sliceMs: Infinity` as at shutdown, loads into fresh Stores, and a periodic-style save (default slices) beside a 1 ms timer whose longest gap is the stall; no process start or exit is timed.', '');
  } else if (run.conduitMode !== 'cli') {
    lines.push(`**Conduit not measured in this run** (${run.conduitMode === 'absent' ? 'this conduit-server has no `--snapshot`' : 'left out by BENCH_SYSTEMS'}).`, '');
  }
  for (const [name, rounds] of [['Conduit', c], ['Redis', rd], ['memcached', mc]]) {
    const failed = rounds.filter((r) => r.error !== undefined);
    if (failed.length > 0) lines.push(`**${name}: ${failed.length} of ${rounds.length} rounds failed**: ${failed.map((r) => r.error).join('; ')}`, '');
  }
  lines.push('| system | step | seconds | MB/s | notes |', '|---|---|---|---|---|');
  const bytes = p.bytes;
  if (d.length > 0) {
    lines.push(
      row('disk (this process)', `write ${int(bytes / 2 ** 20)} MiB, 4 MiB writes (to the page cache)`, stat(d, (r) => r.writeS), stat(d, (r) => rate(r.bytes, r.writeS))),
      row('disk (this process)', 'fsync of it', stat(d, (r) => r.fsyncS), stat(d, (r) => rate(r.bytes, r.fsyncS))),
      row('disk (this process)', 'read, page cache', stat(d, (r) => r.readWarmS), stat(d, (r) => rate(r.bytes, r.readWarmS))),
      row('disk (this process)', 'read, cold', stat(d, (r) => r.readColdS), stat(d, (r) => rate(r.bytes, r.readColdS)),
        `${spread(stat(d, (r) => r.coldCachedPercent), num(0))} % of the pages cached before`),
    );
  }
  if (c.length > 0) {
    const items = (l) => `${spread(stat(c, (r) => r[l]?.loaded ?? r[l]?.items), int)} of ${spread(stat(c, (r) => r.stored), int)} items, ${spread(stat(c, (r) => r[l]?.matched), int)} of ${int(p.sample)} values matched`;
    // Without the fsync: the save's own sync time (SaveResult.syncMs) when it reported one, else the disk baseline's fsync of as many bytes.
    const syncS = (r) => (r.save?.syncMs != null ? r.save.syncMs / 1000 : d[c.indexOf(r)]?.fsyncS ?? null);
    const ownSync = c.every((r) => r.error !== undefined || r.save?.syncMs != null);
    const noFsyncS = (r) => (conduitSaveS(r) !== null && syncS(r) !== null ? conduitSaveS(r) - syncS(r) : null);
    const periodic = stat(c, (r) => median((r.periodic?.saves ?? []).map((x) => x.durationMs / 1000)));
    lines.push(
      row('Conduit', cli ? 'save at shutdown (SIGTERM, the server\'s log line; fsync included)' : 'save as at shutdown (`sliceMs: Infinity`; fsync included)',
        stat(c, conduitSaveS), stat(c, (r) => rate(conduitSaveBytes(r), conduitSaveS(r))),
        `file ${spread(stat(c, conduitSaveBytes), (x) => int(x / MB))} MB${cli ? `; exit status ${[...new Set(c.map((r) => r.save?.exitCode))].join(', ')}` : ''}`),
      row('Conduit', ownSync ? 'save without its fsyncs (minus the save\'s own `syncMs`)' : 'save without its fsync (estimate: minus the disk baseline\'s fsync of as many bytes)',
        stat(c, noFsyncS), stat(c, (r) => rate(conduitSaveBytes(r), noFsyncS(r))), `fsync ${spread(stat(c, syncS), s3)} s`),
      ...(cli ? [row('Conduit', 'SIGTERM → exit (wall: drain, save, exit)', stat(c, (r) => r.save?.exitS), stat(c, (r) => rate(conduitSaveBytes(r), r.save?.exitS)))] : []),
      row('Conduit', cli ? 'load at start, page cache (STATS `last_load`)' : 'load into a fresh Store, page cache (`LoadResult.durationMs`)', stat(c, (r) => loadS(r.loadWarm)), stat(c, (r) => rate(r.loadWarm?.bytes, loadS(r.loadWarm))), items('loadWarm')),
      ...(cli ? [row('Conduit', 'spawn → listening, page cache', stat(c, (r) => r.loadWarm?.toListeningS), stat(c, (r) => rate(r.loadWarm?.bytes, r.loadWarm?.toListeningS)),
        `Node's own start with nothing to load: ${spread(stat(c, (r) => r.emptyStartS), s3)} s`)] : []),
      row('Conduit', 'load at start, cold', stat(c, (r) => loadS(r.loadCold)), stat(c, (r) => rate(r.loadCold?.bytes, loadS(r.loadCold))), items('loadCold')),
      ...(cli ? [row('Conduit', 'spawn → listening, cold', stat(c, (r) => r.loadCold?.toListeningS), stat(c, (r) => rate(r.loadCold?.bytes, r.loadCold?.toListeningS)))] : []),
      row('Conduit', cli ? `periodic save (\`--snapshot-interval ${p.interval}\`, in slices beside the probe)` : 'periodic-style save (default slices, beside a 1 ms timer)', periodic, stat(c, (r) => median((r.periodic?.saves ?? []).map((x) => rate(x.bytes, x.durationMs / 1000)))),
        `${spread(stat(c, (r) => r.periodic?.saves.length), int)} saves per round`),
    );
  }
  if (rd.length > 0) {
    const items = (l) => `${spread(stat(rd, (r) => r[l]?.keys), int)} of ${spread(stat(rd, (r) => r.stored), int)} keys, ${spread(stat(rd, (r) => r[l]?.matched), int)} of ${int(p.sample)} values matched`;
    const rdb = (r) => r.save?.fileBytes;
    lines.push(
      row('Redis', 'SAVE (blocking; round trip)', stat(rd, (r) => r.save?.seconds), stat(rd, (r) => rate(rdb(r), r.save?.seconds)), `RDB ${spread(stat(rd, rdb), (x) => int(x / MB))} MB`),
      row('Redis', 'SAVE with `rdbcompression no`', stat(rd, (r) => r.saveUncompressed?.seconds), stat(rd, (r) => rate(r.saveUncompressed?.fileBytes, r.saveUncompressed?.seconds)),
        `RDB ${spread(stat(rd, (r) => r.saveUncompressed?.fileBytes), (x) => int(x / MB))} MB; the loads below read the default (compressed) RDB`),
      row('Redis', 'BGSAVE (fork, child writes, parent counts it done)', stat(rd, (r) => r.bgsave?.seconds), stat(rd, (r) => rate(rdb(r), r.bgsave?.seconds)),
        'done seen by polling INFO every 10 ms (the parent notices the child within its 100 ms cron)'),
      row('Redis', 'load at start, page cache (its "DB loaded from disk" line)', stat(rd, (r) => r.loadWarm?.loggedS), stat(rd, (r) => rate(rdb(r), r.loadWarm?.loggedS)), items('loadWarm')),
      row('Redis', 'spawn → PING answered, page cache', stat(rd, (r) => r.loadWarm?.toPingS), stat(rd, (r) => rate(rdb(r), r.loadWarm?.toPingS))),
      row('Redis', 'load at start, cold', stat(rd, (r) => r.loadCold?.loggedS), stat(rd, (r) => rate(rdb(r), r.loadCold?.loggedS)), items('loadCold')),
      row('Redis', 'spawn → PING answered, cold', stat(rd, (r) => r.loadCold?.toPingS), stat(rd, (r) => rate(rdb(r), r.loadCold?.toPingS))),
    );
  }
  if (mc.length > 0) {
    lines.push(
      row('memcached', 'SIGUSR1 → exit (graceful stop, writes the restart metadata)', stat(mc, (r) => r.stopS), null,
        `memory file ${spread(stat(mc, (r) => r.fileBytes), (x) => int(x / MB))} MB (\`-m ${int(p.memcachedMiB)}\`) on tmpfs; exit status ${[...new Set(mc.map((r) => r.exitCode))].join(', ')}`),
      row('memcached', 'restart → answering `version`', stat(mc, (r) => r.restart?.toServingS), null,
        `${spread(stat(mc, (r) => r.restart?.items), int)} of ${spread(stat(mc, (r) => r.stored), int)} items restored, ${spread(stat(mc, (r) => r.restart?.matched), int)} of ${int(p.sample)} values matched`),
    );
  }
  lines.push('');
  const pr = [];
  if (c.length > 0) {
    pr.push(`| Conduit, periodic save | ${spread(stat(c, (r) => r.periodic?.during.maxMs), num(1))} | ${spread(stat(c, (r) => r.periodic?.during.p99Ms), num(2))} | ` +
      `${spread(stat(c, (r) => r.periodic?.between.maxMs), num(1))} | ${spread(stat(c, (r) => r.periodic?.between.p99Ms), num(2))} | ` +
      `${spread(stat(c, (r) => r.periodic?.during.samples), int)} / ${spread(stat(c, (r) => r.periodic?.between.samples), int)} | ` +
      `longest slice ${spread(stat(c, (r) => Math.max(...(r.periodic?.saves ?? []).map((x) => x.longestSliceMs ?? NaN))), num(1))} ms (STATS) |`);
  }
  if (rd.length > 0) {
    pr.push(`| Redis, BGSAVE | ${spread(stat(rd, (r) => r.bgsave?.during.maxMs), num(1))} | ${spread(stat(rd, (r) => r.bgsave?.during.p99Ms), num(2))} | ` +
      `${spread(stat(rd, (r) => r.bgsave?.between.maxMs), num(1))} | ${spread(stat(rd, (r) => r.bgsave?.between.p99Ms), num(2))} | ` +
      `${spread(stat(rd, (r) => r.bgsave?.during.samples), int)} / ${spread(stat(rd, (r) => r.bgsave?.between.samples), int)} | ` +
      `fork ${spread(stat(rd, (r) => r.bgsave?.forkUsec / 1000), num(1))} ms (INFO \`latest_fork_usec\`) |`);
  }
  if (pr.length > 0) {
    lines.push(
      `The stall: a probe client sends one GET every ms (the next after the previous answer; ${int(p.probeMs)} at most for Conduit) and records each wait; a sample counts as during a save ` +
        'when its wait overlaps a save window (Conduit: STATS `last_save` time + duration; Redis: from BGSAVE sent to INFO counting it done). A SAVE at shutdown and Redis\'s SAVE block by design and are not probed.',
      '',
      '| system | longest wait during saves ms | p99 during ms | longest between ms | p99 between ms | samples during / between | the server\'s own figure |',
      '|---|---|---|---|---|---|---|',
      ...pr,
      '',
    );
  }
  return lines;
}
