// Renders all of bench/RESULTS.md (and bench/results/chart.svg) from the
// saved runs in bench/results/*.json: the newest full run of each benchmark
// (harness, codec, store, e2e, clients, http, ring, scale, near, snapshot, resp). Quick runs are never rendered.
// Every figure comes from the saved per-round numbers, every verdict from
// the figure beside it and the bound in TARGETS below (the one place the
// targets are stated); a benchmark with no saved run renders as "not
// measured since <commit>" instead of numbers (issue 24, item 5).
//
//   node bench/report.mjs          (npx just bench-report)
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nearSection, nearTargets } from './report-near.mjs';
import { respSection, respTargets } from './report-resp.mjs';
import { ringSection, scaleSection, scaleTargets } from './report-scale.mjs';
import { scanSection, scanTargets } from './report-scan.mjs';
import { snapshotSection, snapshotTargets } from './report-snapshot.mjs';

/** Every target, once: the bound each verdict is computed against. */
export const BOUNDS = {
  serverVsRedis: 0.6, // issue 4: conduit-server ≥ 0.6× Redis, same generator, same run
  p99AtP1Ms: 3, // issue 4: p99 at P = 1 ≤ 3 ms
  clientVsIoredis: 2, // ConduitClient + conduit-server ≥ 2× ioredis + redis-server
  secureVsPlain100: 0.5, // issue 18: secure mode ≥ 0.5× plaintext at 100-byte values, P = 16 (issue 6 asked 0.25×)
  secureVsPlain4096: 0.6, // issue 18: ≥ 0.6× at 4 KiB (issue 6 asked 0.5×)
  envelopesVsPlain100: 0.8, // issue 18: secure mode with sealed envelopes (spec §6.7) ≥ 0.8× plaintext at 100 B, P = 16
  storeVsLru: 1.3, // issue 3: the sharded store costs ≤ 1.3× a bare LRUCache per operation
  expiryReclaimMs: 1000, // issue 3: 1M expired entries reclaimed ≤ 1 s after expiry
  expiryStallMs: 5, // issue 3: "never blocked for more than a few milliseconds", stated as 5 ms
  httpVsBare: 0.7, // issue 7: the HTTP gateway ≥ 0.7× a bare node:http server
  rssVsRedis: 2, // server RSS within 2× of Redis's, same keyspace, after the fill
  p999VsRedis: 3, // issue 17: SET p99.9 (raw frames, P = 16) ≤ 3× Redis's (raw RESP) in the same run
  itemsVsRedis: 0.8, // issue 17: items kept under a 64 MiB budget (100 B values) ≥ 0.8× Redis's
  churnRssPerBudget: 1.15, // issue 17: RSS under churn ≤ 1.15 × budget + 48 MiB at every sample …
  churnRssSlackMiB: 48, // … (the two numbers of that one bound)
  largeVsRedis: 0.8, // issue 19: SET and GET of 1 MiB and 16 MiB values, ConduitClient ≥ 0.8× ioredis + Redis in MB/s, same run
};

/** Issue 17's RSS bound under churn for a budget of `budgetMiB`, in MiB. */
export const churnBoundMiB = (budgetMiB) => BOUNDS.churnRssPerBudget * budgetMiB + BOUNDS.churnRssSlackMiB;

/** The benchmarks in the order RESULTS.md shows them, with the command that runs each. */
export const BENCHMARKS = [
  { id: 'harness', script: 'harness.mjs', recipe: 'npx just bench', title: 'Conduit vs Redis vs memcached' },
  { id: 'codec', script: 'codec.mjs', recipe: 'npx just bench-codec', title: 'Codec micro-benchmark' },
  { id: 'store', script: 'store.mjs', recipe: 'npx just bench-store', title: 'Store benchmark' },
  { id: 'e2e', script: 'e2e.mjs', recipe: 'npx just bench-e2e', title: 'End-to-end: conduit-server vs redis-server' },
  { id: 'clients', script: 'clients.mjs', recipe: 'npx just bench-clients', title: 'Clients: ConduitClient (plaintext, secure mode, TLS) vs ioredis' },
  { id: 'http', script: 'http.mjs', recipe: 'npx just bench-http', title: 'HTTP gateway vs bare node:http' },
  { id: 'ring', script: 'ring-choice.mjs', recipe: 'npx just bench-ring', title: 'Key → server schemes: Redis slots + rendezvous vs ketama vs modulo vs jump hash' },
  { id: 'scale', script: 'scale.mjs', recipe: 'npx just bench-scale', title: 'Scale-out: one server vs --workers 2, pooled vs plain client' },
  { id: 'near', script: 'near-cache.mjs', recipe: 'npx just bench-near', title: 'Near cache: ConduitClient with and without nearCache vs ioredis (Zipf 0.99, 95 % GET)' },
  { id: 'snapshot', script: 'snapshot.mjs', recipe: 'npx just bench-snapshot', title: 'Warm restart: Conduit snapshot vs Redis RDB vs memcached -e (1 GiB of 4 KiB values)' },
  { id: 'resp', script: 'resp.mjs', recipe: 'npx just bench-resp', title: 'RESP listener: redis-benchmark against conduit-server --resp-port and redis-server' },
];

// ---- numbers -------------------------------------------------------------------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** `{ median, min, max }` of one field over a row's rounds, or null. */
function stat(rounds, field) {
  const v = (rounds ?? []).map((r) => r[field]).filter((x) => typeof x === 'number' && !Number.isNaN(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}
const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const spread = (s) => (s === null ? '—' : `${int(s.median)} (${int(s.min)}–${int(s.max)})`);
const fixed = (s, digits = 2) => (s === null ? '—' : s.median.toFixed(digits));
const ratio = (a, b) => (a === null || b === null || !b.median ? null : a.median / b.median);
const times = (q) => (q === null ? '—' : `${q.toFixed(2)}×`);
const short = (hash) => (hash ? hash.slice(0, 10) : null);

/**
 * A redis-benchmark row counts only when every round was checked: hits equal
 * to requests for GET, no miss (bench/redis-benchmark.mjs). Rows from runs
 * before that check (issue 24, item 1) are shown as not valid.
 */
function checked(row) {
  if (!row.system.includes('redis-benchmark')) return true;
  return row.rounds.every((r) => r.misses === 0 && (row.op !== 'GET' || r.hits === r.requests));
}

// ---- targets -------------------------------------------------------------------

/**
 * A verdict computed from `value` against `bound`. The figure is printed
 * with as many digits as it takes for it to agree with the verdict, so a
 * "met" never sits next to a figure that reads as missing the bound.
 */
export function verdict(value, cmp, bound, unit = '×') {
  if (value === null || value === undefined || Number.isNaN(value)) return { shown: 'not measured', verdict: 'not measured' };
  const ok = (v) => (cmp === '>=' ? v >= bound : v <= bound);
  let digits = 2;
  while (digits < 6 && ok(Number(value.toFixed(digits))) !== ok(value)) digits += 1;
  return { shown: `${value.toFixed(digits)}${unit === '×' ? '×' : ` ${unit}`}`, verdict: ok(value) ? 'met' : 'missed' };
}

function targetTable(targets) {
  const lines = ['| target | figures | measured | verdict |', '|---|---|---|---|'];
  for (const t of targets) {
    const v = verdict(t.value, t.cmp, t.bound, t.unit);
    lines.push(`| ${t.text} | ${t.figures ?? ''} | ${v.shown} | ${v.verdict === 'met' ? 'met' : `**${v.verdict}**`} |`);
  }
  return lines;
}

const find = (run, where) => run.results.find((x) => Object.entries(where).every(([k, v]) => x[k] === v)) ?? null;
const opsOf = (row) => (row === null || !checked(row) ? null : stat(row.rounds, row.rounds[0]?.rps !== undefined ? 'rps' : 'ops'));

/** A ratio target between two rows' median throughput. */
function throughputTarget(text, a, b, bound, names) {
  const sa = opsOf(a);
  const sb = opsOf(b);
  const unit = a?.rounds?.[0]?.rps !== undefined ? 'req/s' : 'ops/s';
  return { text, cmp: '>=', bound, value: ratio(sa, sb), figures: `${names[0]} ${int(sa?.median)}, ${names[1]} ${int(sb?.median)} ${unit}` };
}

/** The harness's throughput targets: server capacity and SET p99.9 against Redis, the clients, secure mode, RSS after the fill. */
function throughputTargets(run) {
  const t = [];
  const B = BOUNDS;
  const sizes = run.parameters.sizes;
  const capacity = [{ op: 'GET', size: 100 }, { op: 'SET', size: 100 }, ...(sizes.includes(4096) ? [{ op: 'SET', size: 4096 }] : [])];
  for (const { op, size } of capacity) {
    const w = { op, size, pipeline: 16 };
    t.push(throughputTarget(`server capacity ≥ ${B.serverVsRedis}× Redis (raw frames vs raw RESP, ${op} ${size} B, P = 16)`,
      find(run, { system: 'Conduit · raw frames', ...w }), find(run, { system: 'Redis · raw RESP', ...w }), B.serverVsRedis, ['Conduit', 'Redis']));
  }
  for (const size of sizes) {
    const w = { op: 'SET', size, pipeline: 16 };
    const c = stat(find(run, { system: 'Conduit · raw frames', ...w })?.rounds, 'p999');
    const r = stat(find(run, { system: 'Redis · raw RESP', ...w })?.rounds, 'p999');
    t.push({ text: `SET p99.9 ≤ ${B.p999VsRedis}× Redis's (raw frames vs raw RESP, SET ${size} B, P = 16)`, cmp: '<=', bound: B.p999VsRedis,
      value: ratio(c, r), figures: `Conduit ${fixed(c)} ms, Redis ${fixed(r)} ms (medians of the rounds' p99.9)` });
  }
  for (const op of ['GET', 'SET']) {
    for (const pipeline of run.parameters.pipelines) {
      const w = { op, size: 100, pipeline };
      t.push(throughputTarget(`ConduitClient ≥ ${B.clientVsIoredis}× ioredis (${op} 100 B, P = ${pipeline})`,
        find(run, { system: 'Conduit · ConduitClient', ...w }), find(run, { system: 'Redis · ioredis', ...w }), B.clientVsIoredis, ['ConduitClient', 'ioredis']));
    }
  }
  for (const size of sizes) {
    const bound = size <= 100 ? B.secureVsPlain100 : B.secureVsPlain4096;
    for (const op of ['GET', 'SET']) {
      const w = { op, size, pipeline: 16 };
      t.push(throughputTarget(`secure mode, sealed per frame, ≥ ${bound}× plaintext (${op} ${size} B, P = 16)`,
        find(run, { system: 'Conduit · ConduitClient, secure mode', ...w }), find(run, { system: 'Conduit · ConduitClient', ...w }), bound, ['secure', 'plaintext']));
    }
  }
  for (const op of ['GET', 'SET']) {
    const w = { op, size: 100, pipeline: 16 };
    const envelopes = find(run, { system: 'Conduit · ConduitClient, secure mode, envelopes', ...w });
    if (envelopes === null) continue; // a run from before envelopes (issue 18)
    const target = throughputTarget(`secure mode, sealed envelopes, ≥ ${B.envelopesVsPlain100}× plaintext (${op} 100 B, P = 16)`,
      envelopes, find(run, { system: 'Conduit · ConduitClient', ...w }), B.envelopesVsPlain100, ['envelopes', 'plaintext']);
    const tls = opsOf(find(run, { system: 'Conduit · ConduitClient, TLS', ...w }));
    const vsTls = ratio(opsOf(envelopes), tls);
    t.push({ ...target, figures: `${target.figures}; TLS ${int(tls?.median)} ops/s (envelopes ${vsTls === null ? '—' : `${vsTls.toFixed(2)}×`} TLS)` });
  }
  t.push(rssTarget(run.rssAfterFill, 'conduit'));
  return t;
}

/** Targets of one run, by benchmark. */
export function targetsOf(run) {
  const t = [];
  const B = BOUNDS;
  if (run.benchmark === 'harness') {
    if (run.only === undefined || run.only === 'throughput') t.push(...throughputTargets(run));
    if (run.only === undefined || run.only === 'memory') t.push(...memoryTargets(run.memory));
    if (run.only === undefined || run.only === 'large') t.push(...largeTargets(run.large));
    if (run.only === undefined) t.push(...scanTargets(run.scan));
  } else if (run.benchmark === 'e2e') {
    for (const pipeline of [1, 16]) {
      for (const op of ['GET', 'SET']) {
        const w = { op, pipeline };
        t.push(throughputTarget(`P = ${pipeline}: conduit-server ≥ ${B.serverVsRedis}× Redis (${op}, same generator)`,
          find(run, { system: 'Conduit (Node load generator)', ...w }), find(run, { system: 'Redis (Node load generator)', ...w }), B.serverVsRedis, ['Conduit', 'Redis']));
      }
    }
    for (const op of ['GET', 'SET']) {
      const p99 = stat(find(run, { system: 'Conduit (Node load generator)', op, pipeline: 1 })?.rounds, 'p99');
      t.push({ text: `p99 at P = 1 ≤ ${B.p99AtP1Ms} ms (${op})`, cmp: '<=', bound: B.p99AtP1Ms, unit: 'ms', value: p99?.median ?? null, figures: 'median of the rounds\' p99' });
    }
    t.push(rssTarget(run.rssAfterFill, 'conduit'));
  } else if (run.benchmark === 'clients') {
    const client = 'ConduitClient → conduit-server';
    for (const pipeline of [16, 1]) {
      for (const op of ['GET', 'SET']) {
        const w = { op, size: 100, pipeline };
        t.push(throughputTarget(`ConduitClient+Conduit ≥ ${B.clientVsIoredis}× ioredis+Redis (${op} 100 B, P = ${pipeline})`,
          find(run, { system: client, ...w }), find(run, { system: 'ioredis → redis-server', ...w }), B.clientVsIoredis, ['ConduitClient', 'ioredis']));
      }
    }
    for (const size of run.parameters.sizes) {
      const bound = size <= 100 ? B.secureVsPlain100 : B.secureVsPlain4096;
      for (const pipeline of [1, 16]) {
        for (const op of ['GET', 'SET']) {
          const w = { op, size, pipeline };
          t.push(throughputTarget(`secure mode ≥ ${bound}× plaintext (${op} ${size} B, P = ${pipeline})`,
            find(run, { system: `${client}, secure mode`, ...w }), find(run, { system: client, ...w }), bound, ['secure', 'plaintext']));
        }
      }
    }
  } else if (run.benchmark === 'store') {
    for (const ttl of ['off', '1 h']) {
      const store = find(run, { contender: 'sharded Store (16 shards)', ttl });
      const lru = find(run, { contender: 'bare LRUCache', ttl });
      for (const op of ['set', 'get']) {
        // Cost per operation is the inverse of ops/s: store cost ÷ LRUCache cost = LRUCache ops/s ÷ store ops/s.
        const s = stat(store?.rounds, op);
        const l = stat(lru?.rounds, op);
        t.push({ text: `sharded Store ≤ ${B.storeVsLru}× a bare LRUCache per ${op.toUpperCase()} (TTL ${ttl})`, cmp: '<=', bound: B.storeVsLru,
          value: ratio(l, s), figures: `Store ${int(s?.median)}, LRUCache ${int(l?.median)} ops/s` });
      }
    }
    const e = run.expiry ?? null;
    t.push({ text: `active expiry reclaims ${int(e?.entries)} entries ≤ ${B.expiryReclaimMs} ms after they expire`, cmp: '<=', bound: B.expiryReclaimMs, unit: 'ms',
      value: e?.reclaimedMs ?? null, figures: 'time until the last was reclaimed' });
    t.push({ text: `longest event-loop stall meanwhile ≤ ${B.expiryStallMs} ms`, cmp: '<=', bound: B.expiryStallMs, unit: 'ms',
      value: e?.maxStallMs ?? null, figures: e ? `p99 ${e.p99StallMs.toFixed(1)} ms` : '' });
  } else if (run.benchmark === 'scale') {
    t.push(...scaleTargets(run));
  } else if (run.benchmark === 'near') {
    t.push(...nearTargets(run));
  } else if (run.benchmark === 'snapshot') {
    t.push(...snapshotTargets(run));
  } else if (run.benchmark === 'resp') {
    t.push(...respTargets(run));
  } else if (run.benchmark === 'http') {
    for (const row of run.results.filter((x) => x.system === 'conduit-server HTTP gateway')) {
      t.push(throughputTarget(`HTTP gateway ≥ ${B.httpVsBare}× bare node:http (${row.method}, pipelining ${row.pipelining})`,
        row, find(run, { system: 'bare node:http (100-byte answer)', method: row.method, pipelining: row.pipelining }), B.httpVsBare, ['gateway', 'bare']));
    }
  }
  return t;
}

/** Every refused write of a measurement's rounds: `0`, or the count and its reasons. */
function refused(rounds) {
  const reasons = {};
  for (const r of rounds) for (const [why, n] of Object.entries(r.failures ?? {})) reasons[why] = (reasons[why] ?? 0) + n;
  const total = rounds.reduce((n, r) => n + (r.failed ?? 0), 0);
  return total === 0 ? '0' : `${int(total)} (${Object.entries(reasons).map(([why, n]) => `${why}: ${int(n)}`).join(', ')})`;
}

/** The churn budgets a run measured, or the issue's two when it measured none. */
const churnBudgets = (memory) => memory?.churn?.map((c) => c.budgetMiB) ?? [64, 1024];

/**
 * Issue 17's memory targets: items kept under the budget ≥ 0.8× Redis's, and
 * conduit-server's RSS under churn within 1.15 × budget + 48 MiB at every
 * sample, judged on the largest sample of every round (VmHWM beside it).
 */
function memoryTargets(memory) {
  const B = BOUNDS;
  const items = memory?.items ?? {};
  const c = stat(items.conduit, 'items');
  const r = stat(items.redis, 'items');
  const m = stat(items.memcached, 'items');
  const budget = memory?.parameters.items.budgetMiB ?? 64;
  const t = [{
    text: `items kept under a ${budget} MiB budget ≥ ${B.itemsVsRedis}× Redis's (${memory?.parameters.items.valueBytes ?? 100} B values)`,
    cmp: '>=', bound: B.itemsVsRedis, value: ratio(c, r),
    figures: memory ? `Conduit ${int(c?.median)}, Redis ${int(r?.median)}, memcached ${int(m?.median)} items` : 'no memory part in this run',
  }];
  for (const budgetMiB of churnBudgets(memory)) {
    const servers = memory?.churn.find((x) => x.budgetMiB === budgetMiB)?.servers ?? {};
    const max = (name, field) => ((servers[name] ?? []).length === 0 ? null : Math.max(...servers[name].map((x) => x[field])));
    const bound = churnBoundMiB(budgetMiB);
    const hwm = max('conduit', 'hwmMiB');
    const others = ['redis', 'memcached'].map((n) => `${SERVER_NAMES[n]} ${max(n, 'maxSampleMiB')?.toFixed(0) ?? '—'}`).join(', ');
    t.push({
      text: `conduit-server RSS under churn ≤ ${B.churnRssPerBudget} × ${budgetMiB} MiB + ${B.churnRssSlackMiB} MiB = ${bound.toFixed(1)} MiB at every sample`,
      cmp: '<=', bound, unit: 'MiB', value: max('conduit', 'maxSampleMiB'),
      figures: hwm === null ? 'no churn at this budget in this run'
        : `largest sample of ${servers.conduit.length} round${servers.conduit.length === 1 ? '' : 's'}; VmHWM ${hwm.toFixed(1)} MiB (${hwm <= bound ? 'within' : '**over**'} the bound); largest samples of ${others} MiB`,
    });
  }
  return t;
}

/** Server RSS after the fill, Conduit ÷ Redis, same keyspace (issue 24, item 2). */
function rssTarget(rss, conduit) {
  const c = rss?.[conduit] ?? null;
  const r = rss?.redis ?? null;
  return {
    text: `server RSS within ${BOUNDS.rssVsRedis}× of Redis's (same keyspace, after the fill)`,
    cmp: '<=',
    bound: BOUNDS.rssVsRedis,
    value: c !== null && r ? c / r : null,
    figures: c !== null && r ? `Conduit ${c.toFixed(0)} MiB, Redis ${r.toFixed(0)} MiB` : 'no after-fill RSS in this run',
  };
}

// ---- sections ------------------------------------------------------------------

/** Benchmarks that start servers (and pin them to core 0 when taskset exists). */
const SERVERS = new Set(['harness', 'e2e', 'clients', 'http', 'scale', 'near', 'snapshot', 'resp']);

/** Where a run came from: date, commit (and how far src/ has moved since), command, machine, versions. */
function provenance(run, opts) {
  const m = run.machine;
  const hash = run.commit?.hash ?? null;
  const since = hash && opts.srcCommitsSince ? opts.srcCommitsSince(hash) : null;
  const after = hash ? since : opts.srcCommitsSinceDate?.(run.date) ?? null;
  const later = after ? ` (${after} commit${after === 1 ? '' : 's'} to src/ since)` : '';
  const at = hash ? `at commit \`${short(hash)}\`${run.commit.dirty ? ' with uncommitted changes to src/ or bench/' : ''}${later}` : `at a commit it did not record${later}`;
  const versions = Object.entries(run.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  const took = run.durationSeconds ? ` in ${int(run.durationSeconds)} s` : '';
  return `Measured ${run.date.slice(0, 16).replace('T', ' ')} UTC ${at} with \`${run.command}\`${took}: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB; ` +
    `${!SERVERS.has(run.benchmark) ? '' : m.pinned ? `servers pinned to core ${run.parameters?.serverCores ?? 0} and the load generator to core ${run.parameters?.generatorCore ?? 1}; ` : 'not pinned (no taskset); '}${versions}. Data: \`bench/results/${run.file ?? '…'}\`.`;
}

function harnessSection(run) {
  const memory = run.only === undefined || run.only === 'memory' ? memorySection(run.memory) : [];
  const large = run.only === undefined || run.only === 'large' ? largeSection(run.large) : [];
  if (run.only === 'memory') return ['The memory part alone (`BENCH_ONLY=memory`): no throughput rows in this run.', '', ...memory];
  if (run.only === 'large') return ['The large-value part alone (`BENCH_ONLY=large`): no throughput or memory rows in this run.', '', ...large];
  const lines = [];
  const p = run.parameters;
  const rb = run.keyspace
    ? 'redis-benchmark reads and writes the same keys (checked: one hit per GET, no miss, no key added).'
    : 'redis-benchmark rows of this run were not checked: they read `key:…` names nobody wrote (issue 24), so they are not shown.';
  lines.push(
    `${p.connections} connections, ${int(p.keys)} pre-filled keys per value size, ` +
      `${p.seconds} s per measurement, median of ${p.rounds} rounds (min–max). Raw rows send pre-encoded requests from one Node load generator; ` +
      `client rows run the same loop through each library; ${rb}`,
    '',
    '![Throughput per system and workload](results/chart.svg)',
    '',
  );
  const systems = [...new Set(run.results.map((x) => x.system))];
  const baselineOf = (name) => (name.includes('raw') ? 'Redis · raw RESP' : name.includes('redis-benchmark') ? 'Redis · redis-benchmark' : 'Redis · ioredis');
  for (const size of p.sizes) {
    lines.push(`### ${size}-byte values`, '');
    lines.push('| system | op | P | ops/s | p50 ms | p99 ms | p99.9 ms | server CPU s | server RSS MiB | vs Redis |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const op of ['GET', 'SET']) {
      for (const pipeline of p.pipelines) {
        for (const system of systems) {
          const x = find(run, { system, op, size, pipeline });
          if (x === null) continue;
          if (!checked(x)) {
            lines.push(`| ${system} | ${op} | ${pipeline} | not valid: not checked (issue 24: it used \`key:…\` names outside the keyspace) | | | | | | |`);
            continue;
          }
          const q = ratio(opsOf(x), opsOf(find(run, { system: baselineOf(system), op, size, pipeline })));
          const cpu = stat(x.rounds, 'cpu');
          const rss = stat(x.rounds, 'rss');
          lines.push(
            `| ${system} | ${op} | ${pipeline} | ${spread(opsOf(x))} | ${fixed(stat(x.rounds, 'p50'))} | ${fixed(stat(x.rounds, 'p99'))} | ${fixed(stat(x.rounds, 'p999'))} | ` +
              `${fixed(cpu)} | ${fixed(rss, 0)} | ${times(q)} |`,
          );
        }
      }
    }
    lines.push('');
  }
  lines.push('"vs Redis" compares like with like: raw rows with Redis · raw RESP, client rows with Redis · ioredis. "server RSS" is read after each row, whatever the server holds by then.', '');
  lines.push(...rssSection(run.rssAfterFill, ['conduit', 'conduit-secure', 'conduit-tls', 'redis', 'memcached'], run.keyspace));
  lines.push(...memory, ...large);
  lines.push(...scanSection(run.scan));
  return lines;
}

/** A large-value row's MB/s over its rounds, or null when any round failed. */
const mbpsOf = (row) => (row === null || row.rounds.some((r) => r.error !== undefined) ? null : stat(row.rounds, 'mbps'));
/** 1048576 → '1 MiB'. */
const mebi = (bytes) => `${bytes / 2 ** 20} MiB`;
const LARGE_REDIS = 'Redis · ioredis';

/**
 * The harness's large-value part (issue 19, bench/large-values.mjs): MB/s
 * per system, op and size, each beside Redis's; a row whose requests failed
 * (a server without fragments, spec §2.4) shows why instead of a figure.
 */
function largeSection(large) {
  if (!large) return ['### Large values (issue 19)', '', 'Not measured in this run: it predates the harness\'s large-value part.', ''];
  const p = large.parameters;
  const lines = [
    '### Large values (issue 19)',
    '',
    `SET and GET of ${p.sizes.map(mebi).join(' and ')} values over one connection per system with ${p.pipeline} requests in flight, ${p.keys} keys per size overwritten in place; ` +
      `every GET checked. ${p.seconds} s (at most ${int(p.maxOps)} requests) per measurement, median of ${p.rounds} rounds (min–max); MB/s is value bytes (10^6) per second.`,
    '',
    '| system | op | value | MB/s | requests/s | vs Redis |',
    '|---|---|---|---|---|---|',
  ];
  for (const x of large.results) {
    const failed = x.rounds.find((r) => r.error !== undefined);
    if (failed) {
      lines.push(`| ${x.system} | ${x.op} | ${mebi(x.size)} | failed: ${failed.error.replaceAll('|', '/')} | | |`);
      continue;
    }
    const rps = stat(x.rounds.map((r) => ({ v: r.ops / r.seconds })), 'v');
    const q = x.system === LARGE_REDIS ? '' : times(ratio(mbpsOf(x), mbpsOf(find(large, { system: LARGE_REDIS, op: x.op, size: x.size }))));
    lines.push(`| ${x.system} | ${x.op} | ${mebi(x.size)} | ${spread(mbpsOf(x))} | ${fixed(rps, 1)} | ${q} |`);
  }
  lines.push('');
  return lines;
}

/** Issue 19's large-value targets: ConduitClient (plaintext) ≥ 0.8× ioredis + Redis in MB/s, SET and GET, every size of the run. */
function largeTargets(large) {
  const B = BOUNDS;
  const t = [];
  for (const size of large?.parameters.sizes ?? [2 ** 20, 16 * 2 ** 20]) {
    for (const op of ['SET', 'GET']) {
      const c = large ? mbpsOf(find(large, { system: 'Conduit · ConduitClient', op, size })) : null;
      const r = large ? mbpsOf(find(large, { system: LARGE_REDIS, op, size })) : null;
      t.push({ text: `large values: ConduitClient ≥ ${B.largeVsRedis}× Redis in MB/s (${op} ${mebi(size)})`, cmp: '>=', bound: B.largeVsRedis, value: ratio(c, r),
        figures: large ? `Conduit ${fixed(c, 0)}, Redis ${fixed(r, 0)} MB/s` : 'no large-value part in this run' });
    }
  }
  return t;
}

const MEMORY_SERVERS = ['conduit', 'redis', 'memcached'];
/** `median (min–max)` in MiB with one decimal, or just the median for one round. */
const mib = (s) => (s === null ? '—' : s.min === s.max ? s.median.toFixed(1) : `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`);
/** The same for counts. */
const count = (s) => (s === null ? '—' : s.min === s.max ? int(s.median) : spread(s));

/**
 * The harness's memory part (issue 17, bench/memory.mjs): items kept under
 * the budget, then RSS under churn per budget; one table each, every server
 * beside Redis and memcached.
 */
function memorySection(memory) {
  if (!memory) return ['### Memory (issue 17)', '', 'Not measured in this run: it predates the harness\'s memory part.', ''];
  const p = memory.parameters;
  const f = p.items;
  const lines = [
    `### Items kept under a ${f.budgetMiB} MiB budget`,
    '',
    `${int(f.keys)} distinct 16-byte keys with ${f.valueBytes}-byte values written to a fresh server through its own protocol (one connection, ${int(p.window)} requests in flight, ` +
      `every answer checked), then the item count read from the server: conduit-server \`--max-memory ${f.budgetMiB}mb\` (STATS \`curr_items\`), ` +
      `redis-server \`maxmemory ${f.budgetMiB}mb\` + \`allkeys-lru\` (DBSIZE), memcached \`-m ${f.budgetMiB}\` (stats \`curr_items\`). ` +
      `${f.rounds === 1 ? '1 round' : `Median of ${f.rounds} rounds (min–max)`}; RSS read at the end, VmHWM is the kernel's peak.`,
    '',
    '| server | items | ÷ Redis | ÷ memcached | refused writes | RSS at the end MiB | VmHWM MiB | idle RSS MiB | seconds |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const items = (name) => stat(memory.items[name], 'items');
  for (const name of MEMORY_SERVERS) {
    const rounds = memory.items[name] ?? [];
    if (rounds.length === 0) continue;
    lines.push(`| ${SERVER_NAMES[name]} | ${count(items(name))} | ${times(ratio(items(name), items('redis')))} | ${times(ratio(items(name), items('memcached')))} | ${refused(rounds)} | ` +
      `${mib(stat(rounds, 'rssMiB'))} | ${mib(stat(rounds, 'hwmMiB'))} | ${mib(stat(rounds, 'idleRssMiB'))} | ${fixed(stat(rounds, 'seconds'), 1)} |`);
  }
  const c = p.churn;
  lines.push(
    '',
    '### Process RSS under churn',
    '',
    `Random keys of a ${int(c.keySpace)}-key space with random value sizes of 16 B – 4 KiB (one seeded sequence, the same for every server) written to a fresh server ` +
      `until ${c.factor}× its budget is written; the server's VmRSS sampled every ${int(p.sampleEvery)} writes and at the end, VmHWM (the kernel's peak) read at the end. ` +
      '"max sample" is the largest sample of a round: median of the rounds (min–max). The bound is conduit-server\'s, issue 17\'s 1.15 × budget + 48 MiB.',
    '',
  );
  for (const { budgetMiB, servers } of memory.churn) {
    const rounds = servers.conduit?.length ?? 0;
    lines.push(`#### ${budgetMiB} MiB budget (${rounds} round${rounds === 1 ? '' : 's'}; bound ${churnBoundMiB(budgetMiB).toFixed(1)} MiB)`, '');
    lines.push('| server | writes | items at the end | max sample MiB | VmHWM MiB | ÷ Redis | ÷ memcached | refused writes | seconds |', '|---|---|---|---|---|---|---|---|---|');
    const maxOf = (name) => stat(servers[name], 'maxSampleMiB');
    for (const name of MEMORY_SERVERS) {
      const r = servers[name] ?? [];
      if (r.length === 0) continue;
      lines.push(`| ${SERVER_NAMES[name]} | ${count(stat(r, 'writes'))} | ${count(stat(r, 'items'))} | ${mib(maxOf(name))} | ${mib(stat(r, 'hwmMiB'))} | ` +
        `${times(ratio(maxOf(name), maxOf('redis')))} | ${times(ratio(maxOf(name), maxOf('memcached')))} | ${refused(r)} | ${fixed(stat(r, 'seconds'), 1)} |`);
    }
    lines.push('');
  }
  return lines;
}

const SERVER_NAMES = { conduit: 'conduit-server', 'conduit-secure': 'conduit-server, secure mode', 'conduit-tls': 'conduit-server, TLS', redis: 'redis-server', memcached: 'memcached' };

/** RSS of every server with the same keyspace, read after the fill and before any other write. */
function rssSection(rss, servers, keyspace) {
  if (!rss) return ['### Server RSS after the fill', '', 'Not measured in this run: it predates the after-fill measurement (issue 24, item 2).', ''];
  const ks = keyspace ? `${int(keyspace.keys)} keys of ${keyspace.keyBytes} bytes per value size (${keyspace.sizes.join(' B and ')} B), nothing else` : 'the same keyspace';
  const lines = ['### Server RSS after the fill', '', `Each server holds ${ks}; RSS read 1 s after the fill, before any other write.`, ''];
  const mc = rss.memcached !== undefined;
  lines.push(`| server | RSS MiB | ÷ Redis |${mc ? ' ÷ memcached |' : ''}`, `|---|---|---|${mc ? '---|' : ''}`);
  for (const s of servers.filter((x) => rss[x] !== undefined)) {
    lines.push(`| ${SERVER_NAMES[s]} | ${rss[s].toFixed(0)} | ${rss.redis ? times(rss[s] / rss.redis) : '—'} |${mc ? ` ${times(rss[s] / rss.memcached)} |` : ''}`);
  }
  lines.push('');
  return lines;
}

function codecSection(run) {
  const lines = [
    `Each round decodes a ${int(run.parameters.streamBytes / 2 ** 20)} MiB stream of OK response frames pushed in 64 KiB chunks (as a socket hands them out), ` +
      'and encodes as many frames; the output is checked every round. The encoder writes `[header, body]` without copying the body, so its MB/s counts framed bytes, not bytes copied. ' +
      `Median of ${run.parameters.rounds} rounds (min–max).`,
    '',
    '| operation | body bytes | frames/s | MB/s |',
    '|---|---|---|---|',
  ];
  for (const x of run.results) {
    const rate = stat(x.rounds.map((r) => ({ v: x.frames / r.seconds })), 'v');
    lines.push(`| ${x.op} | ${x.size} | ${spread(rate)} | ${int((rate.median * (x.size + 12)) / 1e6)} |`);
  }
  lines.push('', ...aeadLines(run), ...handshakeLines(run));
  return lines;
}

/** The handshake table of a codec run (issue 18): µs per handshake, server and client side, by X25519 implementation. */
function handshakeLines(run) {
  if (!Array.isArray(run.handshake)) return [];
  const names = [...new Set(run.handshake.map((x) => x.implementation))];
  const perHandshake = (name, side) => {
    const x = run.handshake.find((r) => r.implementation === name && r.side === side);
    return x === undefined ? null : stat(x.rounds.map((r) => ({ v: (r.seconds / x.handshakes) * 1e6 })), 'v');
  };
  const [first] = names;
  const lines = [
    '### Handshake: µs per handshake (spec §6.2–6.3)',
    '',
    "Server: `acceptHello` (ephemeral key pair, X25519, HKDF-SHA256, the key-confirmation tag). Client: its key pair, HELLO's body and `finishHello` (X25519, HKDF, checking the tag). " +
      `X25519 from ${names.map((n) => `\`${n}\``).join(' and ')}, alternating within each round; every handshake completes. ` +
      `Median of ${run.parameters.rounds} rounds of ${int(run.parameters.handshakes)} (min–max).`,
    '',
    `| side | ${names.map((n) => `${n} µs`).join(' | ')} | ${names.slice(1).map((n) => `${n} ÷ ${first}`).join(' | ')} |`,
    `|---|${names.map(() => '---|').join('')}${names.slice(1).map(() => '---|').join('')}`,
  ];
  for (const side of ['server', 'client']) {
    const base = perHandshake(first, side);
    lines.push(`| ${side} | ${names.map((n) => microSpread(perHandshake(n, side))).join(' | ')} | ${names.slice(1).map((n) => times(ratio(perHandshake(n, side), base))).join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

/** µs with two decimals below 10, whole µs above (`—` for null). */
const micros = (s) => (s === null ? '—' : s.median < 10 ? s.median.toFixed(2) : int(s.median));
const microSpread = (s) => (s === null ? '—' : `${micros(s)} (${micros({ median: s.min })}–${micros({ median: s.max })})`);

/** The frame-AEAD table of a codec run (issue 18): seal + open per frame by implementation and body size. */
function aeadLines(run) {
  if (!Array.isArray(run.aead)) return ['The frame AEAD was not measured in this run: it predates the seal + open rows (issue 18).', ''];
  const names = [...new Set(run.aead.map((x) => x.implementation))];
  const sizes = [...new Set(run.aead.map((x) => x.size))];
  const perFrame = (name, size) => {
    const x = run.aead.find((r) => r.implementation === name && r.size === size);
    return x === undefined ? null : stat(x.rounds.map((r) => ({ v: (r.seconds / x.frames) * 1e6 })), 'v');
  };
  const [first] = names;
  const lines = [
    '### Frame AEAD: seal + open per frame (spec §6.4)',
    '',
    'One frame (header, body, tag) sealed and then opened in place, its identifier new each time, the plaintext checked after every round; ' +
      `${names.map((n) => `\`${n}\``).join(', ')} alternate within each round. µs per frame (seal + open), median of ${run.parameters.rounds} rounds (min–max); ` +
      `÷ ${first}: how many times longer than ${first}.`,
    '',
    `| body bytes | ${names.map((n) => `${n} µs`).join(' | ')} | ${names.slice(1).map((n) => `${n} ÷ ${first}`).join(' | ')} |`,
    `|---|${names.map(() => '---|').join('')}${names.slice(1).map(() => '---|').join('')}`,
  ];
  for (const size of sizes) {
    const base = perFrame(first, size);
    lines.push(`| ${size} | ${names.map((n) => microSpread(perFrame(n, size))).join(' | ')} | ${names.slice(1).map((n) => times(ratio(perFrame(n, size), base))).join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function storeSection(run) {
  const p = run.parameters;
  const lines = [
    `${int(p.keys)} keys of 16 bytes, ${p.valueBytes}-byte values, no eviction. Every contender does the server's job: takes key and value as Buffers, ` +
      `keys by an exact latin1 string and keeps its own copy of the value. The contenders alternate within each round; median of ${p.rounds} rounds (min–max).`,
    '',
    `keyString (Buffer → latin1 string, exact for every byte): ${run.keyStringNs.toFixed(0)} ns per key. Per-item overhead of a 16-byte key with a 100-byte value (its chunk's header and size-class rounding): ${run.entryOverhead} bytes.`,
    '',
    '| contender | TTL | SET ops/s | GET ops/s | cost vs bare LRUCache (SET / GET) | heap B/entry beyond key+value |',
    '|---|---|---|---|---|---|',
  ];
  for (const x of run.results) {
    const base = find(run, { contender: 'bare LRUCache', ttl: x.ttl });
    const cost = (op) => times(ratio(stat(base.rounds, op), stat(x.rounds, op)));
    lines.push(`| ${x.contender} | ${x.ttl} | ${spread(stat(x.rounds, 'set'))} | ${spread(stat(x.rounds, 'get'))} | ${cost('set')} / ${cost('get')} | ${fixed(stat(x.rounds, 'perEntry'), 0)} |`);
  }
  const e = run.expiry;
  lines.push('', `Active expiry: ${int(e.entries)} entries expiring at the same instant, never read, were all reclaimed ${int(e.reclaimedMs)} ms after it; ` +
    `longest event-loop stall meanwhile ${e.maxStallMs.toFixed(1)} ms (p99 ${e.p99StallMs.toFixed(1)} ms).`, '');
  return lines;
}

function e2eSection(run) {
  const p = run.parameters;
  const lines = [
    `The same Node load generator drives both servers with pre-encoded requests (Conduit frames / RESP) over ${p.connections} connections with P requests in flight each, ` +
      `${int(p.keys)} pre-filled keys of ${p.valueBytes} bytes; redis-benchmark runs against the same Redis over the same keys (checked: every GET a hit). ` +
      `Systems alternate inside every round; ${p.seconds} s per measurement, median of ${p.rounds} rounds (min–max).`,
    '',
    '| system | op | P | ops/s | p50 ms | p99 ms | server CPU s | server RSS MiB | vs Redis (same generator) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of run.results) {
    if (!checked(x)) {
      lines.push(`| ${x.system} | ${x.op} | ${x.pipeline} | not valid: not checked (issue 24) | | | | | |`);
      continue;
    }
    const q = x.system.startsWith('Conduit') ? times(ratio(opsOf(x), opsOf(find(run, { system: 'Redis (Node load generator)', op: x.op, pipeline: x.pipeline })))) : '';
    const cpu = stat(x.rounds, 'cpu');
    const rss = stat(x.rounds, 'rss');
    lines.push(`| ${x.system} | ${x.op} | ${x.pipeline} | ${spread(opsOf(x))} | ${fixed(stat(x.rounds, 'p50'))} | ${fixed(stat(x.rounds, 'p99'))} | ${cpu ? fixed(cpu) : ''} | ${rss ? fixed(rss, 0) : ''} | ${q} |`);
  }
  lines.push('', ...rssSection(run.rssAfterFill, ['conduit', 'redis'], run.keyspace));
  return lines;
}

function clientsSection(run) {
  const p = run.parameters;
  const lines = [
    `All clients run in the same Node process with the same loop (P awaiting loops per connection, random keys of a pre-filled keyspace), ${p.connections} connections, ` +
      `${int(p.keys)} keys per value size; the systems alternate inside every round; ${p.seconds} s per measurement, median of ${p.rounds} rounds (min–max).`,
    '',
    '| client → server | op | value | P | ops/s | p50 ms | p99 ms | vs ioredis | vs Conduit plaintext |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of run.results) {
    const w = { op: x.op, size: x.size, pipeline: x.pipeline };
    const vsRedis = ratio(opsOf(x), opsOf(find(run, { system: 'ioredis → redis-server', ...w })));
    const vsPlain = x.system.startsWith('ConduitClient') ? times(ratio(opsOf(x), opsOf(find(run, { system: 'ConduitClient → conduit-server', ...w })))) : '';
    lines.push(`| ${x.system} | ${x.op} | ${x.size} B | ${x.pipeline} | ${spread(opsOf(x))} | ${fixed(stat(x.rounds, 'p50'))} | ${fixed(stat(x.rounds, 'p99'))} | ${times(vsRedis)} | ${vsPlain} |`);
  }
  lines.push('');
  return lines;
}

function httpSection(run) {
  const p = run.parameters;
  const lines = [
    `autocannon runs in the benchmark process; conduit-server (\`--http-port\`) and a bare \`node:http\` server that answers a fixed ${p.valueBytes}-byte body ` +
      `(and reads a PUT body) are the servers. ${p.connections} connections, ${p.seconds} s per measurement, median of ${p.rounds} rounds (min–max); every answer checked 2xx.`,
    '',
    '| server | method | pipelining | req/s | p50 ms | p99 ms | vs bare node:http |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const x of run.results) {
    const q = ratio(opsOf(x), opsOf(find(run, { system: 'bare node:http (100-byte answer)', method: x.method, pipelining: x.pipelining })));
    lines.push(`| ${x.system} | ${x.method} | ${x.pipelining} | ${spread(opsOf(x))} | ${fixed(stat(x.rounds, 'p50'))} | ${fixed(stat(x.rounds, 'p99'))} | ${times(q)} |`);
  }
  lines.push('');
  return lines;
}

const SECTIONS = { harness: harnessSection, codec: codecSection, store: storeSection, e2e: e2eSection, clients: clientsSection, http: httpSection, ring: ringSection, scale: scaleSection, near: nearSection, snapshot: snapshotSection, resp: respSection };

/**
 * One benchmark's section of RESULTS.md from its run (heading, provenance,
 * tables, targets), or "not measured since <commit>" when `run` is missing.
 *
 * @example
 * renderSection(BENCHMARKS[1], undefined, { lastChange: () => 'abc123' });
 * // '## Codec micro-benchmark (`npx just bench-codec`)\n\n**Not measured since `abc123`** …'
 */
export function renderSection(bench, run, opts = {}) {
  const lines = [`## ${bench.title} (\`${bench.recipe}\`)`, ''];
  if (run === undefined) {
    const since = opts.lastChange?.(bench.script) ?? null;
    lines.push(
      `**Not measured${since ? ` since \`${short(since)}\`` : ''}**${since ? ` (the last change to \`bench/${bench.script}\`)` : ''}: ` +
        `no saved full run in \`bench/results/\`. Run \`${bench.recipe}\`.`,
      '',
    );
    return lines.join('\n');
  }
  lines.push(provenance(run, opts), '');
  lines.push(...SECTIONS[bench.id](run));
  const targets = targetsOf(run);
  if (targets.length > 0) lines.push('Targets:', '', ...targetTable(targets), '');
  return lines.join('\n');
}

/** A single run's section, as a benchmark prints it when it ends. */
export function renderRun(run) {
  return renderSection(BENCHMARKS.find((b) => b.id === run.benchmark), run);
}

/**
 * All of RESULTS.md from `runs` (any order; the newest full run of each
 * benchmark is used, quick runs are ignored).
 *
 * @example
 * renderResults(loadRuns('bench/results'), { lastChange, srcCommitsSince });
 */
export function renderResults(runs, opts = {}) {
  const newest = newestRuns(runs);
  const all = BENCHMARKS.flatMap((b) => (newest[b.id] ? targetsOf(newest[b.id]) : []));
  const count = (v) => all.filter((t) => verdict(t.value, t.cmp, t.bound, t.unit).verdict === v).length;
  const out = [
    '# Benchmark results',
    '',
    '<!-- Generated by `node bench/report.mjs` (`npx just bench-report`) from bench/results/*.json. Do not edit by hand: change bench/report.mjs or re-run a benchmark. -->',
    '',
    'Every section is rendered from the newest full run of its benchmark saved in `bench/results/`, and names the commit it measured. ' +
      'Each number is the median of several rounds with min–max, measured on a shared machine: compare numbers from the same run only. ' +
      'Verdicts are computed from the figure beside them against the bounds stated once in `bench/report.mjs` (`BOUNDS`).',
    '',
    `Targets over all sections: ${count('met')} met, ${count('missed')} missed, ${count('not measured')} not measured; ` +
      `${BENCHMARKS.filter((b) => !newest[b.id]).length} of ${BENCHMARKS.length} benchmarks have no saved run.`,
    '',
  ];
  for (const b of BENCHMARKS) out.push(renderSection(b, newest[b.id], opts));
  return `${out.join('\n').trimEnd()}\n`;
}

/** The newest non-quick run of each benchmark, by id. */
export function newestRuns(runs) {
  const newest = {};
  for (const run of runs) {
    if (run.quick) continue;
    const cur = newest[run.benchmark];
    if (cur === undefined || run.date > cur.date) newest[run.benchmark] = run;
  }
  return newest;
}

/**
 * Every saved run in `dir`, with its file name. Files without a `benchmark`
 * field are harness runs from before the other benchmarks saved data.
 */
export function loadRuns(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const run = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      return { ...run, benchmark: run.benchmark ?? 'harness', file: f };
    });
}

/** A grouped horizontal bar chart of median ops/s of a harness run: one group per workload, one bar per system. */
export function chart(r) {
  const systems = [...new Set(r.results.map((x) => x.system))];
  const workloads = [];
  for (const x of r.results) if (!workloads.some((w) => w.op === x.op && w.size === x.size && w.pipeline === x.pipeline)) workloads.push({ op: x.op, size: x.size, pipeline: x.pipeline });
  const palette = ['#1f6feb', '#4493f8', '#79c0ff', '#a5d6ff', '#cf222e', '#fa4549', '#ff8182', '#1a7f37', '#4ac26b'];
  const bar = 14;
  const gap = 10;
  const left = 250;
  const width = 900;
  const opsAt = (system, w) => opsOf(find(r, { system, ...w }))?.median ?? 0;
  const maxOps = Math.max(...workloads.flatMap((w) => systems.map((s) => opsAt(s, w))));
  const height = 40 + workloads.length * (systems.length * bar + gap + 18) + 20 + systems.length * 16;
  const esc = (t) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Throughput (median ops/s), ${esc(r.date.slice(0, 10))}, ${r.machine.cores} cores</text>`,
  ];
  let y = 40;
  for (const wl of workloads) {
    out.push(`<text x="10" y="${y + 10}" font-weight="bold">${wl.op} ${wl.size} B, P = ${wl.pipeline}</text>`);
    y += 16;
    systems.forEach((s, i) => {
      const ops = opsAt(s, wl);
      const w = maxOps > 0 ? Math.max(1, ((width - left - 90) * ops) / maxOps) : 1;
      out.push(`<text x="${left - 6}" y="${y + bar - 3}" text-anchor="end">${esc(s)}</text>`);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${palette[i % palette.length]}"/>`);
      out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 3}">${ops ? int(ops) : 'not valid'}</text>`);
      y += bar;
    });
    y += gap;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** git answers for the provenance lines (in this checkout); null when git is not there. */
function gitOpts(cwd = fileURLToPath(new URL('..', import.meta.url))) {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return null;
    }
  };
  return {
    lastChange: (script) => git('log', '-1', '--format=%H', '--', `bench/${script}`) || null,
    srcCommitsSinceDate: (date) => {
      const n = git('rev-list', '--count', `--since=${date}`, 'HEAD', '--', 'src');
      return n === null ? null : Number(n);
    },
    srcCommitsSince: (hash) => {
      const n = git('rev-list', '--count', `${hash}..HEAD`, '--', 'src');
      return n === null ? null : Number(n);
    },
  };
}

/**
 * Regenerates `dir/RESULTS.md` and `dir/results/chart.svg` from
 * `dir/results/*.json`. Returns the paths written.
 */
export function writeAll(dir) {
  const runs = loadRuns(join(dir, 'results'));
  const resultsPath = join(dir, 'RESULTS.md');
  writeFileSync(resultsPath, renderResults(runs, gitOpts()));
  const written = [resultsPath];
  const harness = newestRuns(runs).harness;
  if (harness) {
    const chartPath = join(dir, 'results', 'chart.svg');
    writeFileSync(chartPath, chart(harness));
    written.push(chartPath);
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const written = writeAll(fileURLToPath(new URL('.', import.meta.url)));
  console.log(`wrote ${written.join(' and ')}`);
}
