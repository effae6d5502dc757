// The RESP listener's part of bench/RESULTS.md (issue 23): redis-benchmark, Redis's own C load
// generator, against Conduit's RESP port and against redis-server in the same run. Beside
// report.mjs so that file does not grow: report.mjs imports these and calls them like its own.

/** Issue 23: Conduit's RESP port ≥ 0.6× redis-server for GET and SET, at P = 16 and P = 1, same generator, same run. */
export const RESP_VS_REDIS = 0.6;

/** The two systems of a RESP run, as its rows name them. */
export const RESP_SYSTEMS = {
  conduit: 'conduit-server --resp-port',
  redis: 'redis-server',
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));

/** `{ median, min, max }` of one field over rounds, or null. */
function stat(rounds, field) {
  const v = (rounds ?? []).map((r) => r[field]).filter((x) => typeof x === 'number' && !Number.isNaN(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}
const spread = (s) => (s === null ? '—' : `${int(s.median)} (${int(s.min)}–${int(s.max)})`);
const fixed = (s, digits = 2) => (s === null ? '—' : s.median.toFixed(digits));
const ratio = (a, b) => (a === null || b === null || !b.median ? null : a.median / b.median);
const times = (q) => (q === null ? '—' : `${q.toFixed(2)}×`);

/** A run's row for `system`, `op`, `pipeline`, or null. */
const row = (run, system, op, pipeline) => run.results.find((x) => x.system === system && x.op === op && x.pipeline === pipeline) ?? null;

/**
 * A row counts only when every round was checked: no GET missed (the keyspace
 * is filled first, so a miss means the server answered without the key).
 */
const checked = (x) => x !== null && x.rounds.every((r) => r.misses === 0);

/**
 * The RESP run's targets: Conduit's RESP port ≥ 0.6× Redis, GET and SET, at every pipeline depth measured.
 *
 * @example
 * respTargets(run); // [{ text: 'RESP port ≥ 0.6× redis-server (GET, P = 16, redis-benchmark)', cmp: '>=', bound: 0.6, value: 0.71, figures: '…' }, …]
 */
export function respTargets(run) {
  const t = [];
  for (const pipeline of run.parameters.pipelines) {
    for (const op of ['GET', 'SET']) {
      const c = row(run, RESP_SYSTEMS.conduit, op, pipeline);
      const r = row(run, RESP_SYSTEMS.redis, op, pipeline);
      const sc = checked(c) ? stat(c.rounds, 'rps') : null;
      const sr = checked(r) ? stat(r.rounds, 'rps') : null;
      t.push({
        text: `RESP port ≥ ${RESP_VS_REDIS}× redis-server (${op}, P = ${pipeline}, redis-benchmark)`,
        cmp: '>=', bound: RESP_VS_REDIS, value: ratio(sc, sr),
        figures: `Conduit ${int(sc?.median)}, Redis ${int(sr?.median)} req/s`,
      });
    }
  }
  return t;
}

/**
 * The RESP run's section: requests per second, latency and server CPU per
 * million requests for each system, op and pipeline depth, and Conduit ÷ Redis.
 *
 * @example
 * respSection(run); // ['`redis-benchmark -t set,get …`', '', '| system | op | P | …', …]
 */
export function respSection(run) {
  const p = run.parameters;
  const lines = [
    `\`redis-benchmark -t set,get -c ${p.connections} -d ${p.valueBytes} -r ${int(p.keys)} -P <P> -n <requests>\` (Redis's own C load generator, so the Node generator is out of the measurement; ` +
      'run as `-t set` then `-t get`, one test per invocation, so each has its own server CPU and miss count), ' +
      `P = ${p.pipelines.join(' and ')}, ${p.pipelines.map((x) => `${int(p.requests[x])} requests per test at P = ${x}`).join(', ')}; ` +
      `each server filled first with the ${int(p.keys)} keys redis-benchmark reads (\`key:\` + 12 digits, ${p.valueBytes}-byte values, by \`redis-cli --pipe\`), so every GET hits (checked: INFO's \`keyspace_misses\` did not move). ` +
      `The two servers alternate inside every round; median of ${p.rounds} round${p.rounds === 1 ? '' : 's'} (min–max). Server CPU: user + system seconds from /proc/<pid>/stat per million requests. ` +
      `Mixed 1:10 SET:GET with Zipf keys: ${p.mixed}`,
    '',
    '| system | op | P | req/s | p50 ms | p99 ms | server CPU s per 1M requests | vs Redis |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const pipeline of p.pipelines) {
    for (const op of ['SET', 'GET']) {
      const base = stat(row(run, RESP_SYSTEMS.redis, op, pipeline)?.rounds, 'rps');
      for (const system of Object.values(RESP_SYSTEMS)) {
        const x = row(run, system, op, pipeline);
        if (x === null) continue;
        const rps = stat(x.rounds, 'rps');
        const cpu = stat(x.rounds, 'cpuPerMillion');
        const note = checked(x) ? '' : ' (**a GET missed: not valid**)';
        lines.push(`| ${system}${note} | ${op} | ${pipeline} | ${spread(rps)} | ${fixed(stat(x.rounds, 'p50'), 3)} | ${fixed(stat(x.rounds, 'p99'), 3)} | ` +
          `${cpu === null ? '—' : `${cpu.median.toFixed(2)} (${cpu.min.toFixed(2)}–${cpu.max.toFixed(2)})`} | ${times(ratio(rps, base))} |`);
      }
    }
  }
  lines.push('');
  return lines;
}
