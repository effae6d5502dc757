// The scale-out parts of bench/RESULTS.md (issue 20): the key → server scheme
// comparison of bench/ring-choice.mjs and the one-server vs `--workers` and
// pooled vs plain client figures of bench/scale.mjs. Beside report.mjs so that
// file does not grow: report.mjs imports these and calls them like its own.

/** Issue 20: a pool of one server costs at most 10 %: pooled ConduitClient ≥ 0.9× a plain one, same server, same run. */
export const POOL_VS_PLAIN = 0.9;

/** The three systems of a scale run, as its rows name them. */
export const SCALE_SYSTEMS = {
  plain: 'one server · plain ConduitClient',
  pooled: "one server · pooled ConduitClient (servers: ['127.0.0.1:<port>'])",
  workers: 'conduit-server --workers 2 · ConduitClient discover: true',
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const pct = (x) => `${(x * 100).toFixed(1)} %`;
const ns = (s) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
const ms = (x) => (x === 0 ? '0 (none)' : x < 0.1 ? x.toFixed(3) : x.toFixed(2));

/** `{ median, min, max }` of one field over rounds, or null. */
function stat(rounds, field) {
  const v = (rounds ?? []).map((r) => r[field]).filter((x) => typeof x === 'number' && !Number.isNaN(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}
const spread = (s) => (s === null ? '—' : `${int(s.median)} (${int(s.min)}–${int(s.max)})`);
const ratio = (a, b) => (a === null || b === null || !b.median ? null : a.median / b.median);
const times = (q) => (q === null ? '—' : `${q.toFixed(2)}×`);

/**
 * The ring benchmark's section: balance, keys moved, build cost per scheme, then lookup cost.
 *
 * @example
 * ringSection(run); // ['100,000 random keys …', '', '| scheme | …', …]
 */
export function ringSection(run) {
  const p = run.parameters;
  const lines = [
    `${int(p.keys)} random keys (seeded, \`k:\` and 12 hex digits), servers named \`${p.servers.join('`, `')}\`; 3 servers, then a 4th added, then \`${p.removed}\` removed from the four. ` +
      'Balance: each server\'s share of the keys ÷ its fair share (1 = exactly 1/N), the smallest and the largest. Moved: keys whose server changed, of all keys; ' +
      '"between old servers" and "from other servers" are moves no key needed (ideal 0). Build: ms to compute the map (median of the rounds). ' +
      'Measured with bench/ring-choice.mjs, one process, nothing started.',
    '',
    '| scheme | balance, 3 servers (min–max) | balance, 4 | moved adding a 4th (ideal 25 %) | … between old servers | moved removing one (its share) | … from other servers | build ms, 3 / 4 / 8 servers |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of run.results) {
    lines.push(`| ${r.scheme} | ${r.balance3.min.toFixed(3)}–${r.balance3.max.toFixed(3)} | ${r.balance4.min.toFixed(3)}–${r.balance4.max.toFixed(3)} | ${pct(r.movedOnAdd)} | ${pct(r.movedOnAddBetweenOld)} | ` +
      `${pct(r.movedOnRemove)} (${pct(r.removedServerShare)}) | ${pct(r.movedOnRemoveFromOthers)} | ${ms(r.buildMs[3])} / ${ms(r.buildMs[4])} / ${ms(r.buildMs[8])} |`);
  }
  if (run.slots) {
    const b = (x) => `${x.min.toFixed(3)}–${x.max.toFixed(3)}`;
    lines.push('', `Redis slots + rendezvous by slots rather than keys (exact, no sampling): each server's share of the 16,384 slots ÷ its fair share is ${b(run.slots.balance3)} with 3 servers, ${b(run.slots.balance4)} with 4.`);
  }
  lines.push('', `Lookup cost, 3 servers: ns per key over the ${int(p.keys)} keys, median of ${p.rounds} rounds (min–max), after a warm-up round.`, '', '| step | ns/key |', '|---|---|');
  for (const [name, s] of Object.entries(run.lookups)) lines.push(`| ${name} | ${ns(s)} |`);
  lines.push('');
  return lines;
}

const row = (run, system, op) => run.results.find((x) => x.system === system && x.op === op) ?? null;

/**
 * The scale run's targets: the pooled client against one server ≥ 0.9× the plain client (GET and SET).
 *
 * @example
 * scaleTargets(run); // [{ text: 'pooled ConduitClient … ≥ 0.9× …', cmp: '>=', bound: 0.9, value: 0.97, figures: '…' }, …]
 */
export function scaleTargets(run) {
  return ['GET', 'SET'].map((op) => {
    const pooled = stat(row(run, SCALE_SYSTEMS.pooled, op)?.rounds, 'ops');
    const plain = stat(row(run, SCALE_SYSTEMS.plain, op)?.rounds, 'ops');
    return {
      text: `pooled ConduitClient with one server ≥ ${POOL_VS_PLAIN}× a plain one (${op} ${run.parameters.valueBytes} B, P = ${run.parameters.pipeline}, same server)`,
      cmp: '>=', bound: POOL_VS_PLAIN, value: ratio(pooled, plain),
      figures: `pooled ${int(pooled?.median)}, plain ${int(plain?.median)} ops/s`,
    };
  });
}

/**
 * The scale run's section: ops/s and server CPU seconds per million requests for each system and op.
 *
 * @example
 * scaleSection(run); // ['One conduit-server vs `--workers 2` …', '', '| system | op | …', …]
 */
export function scaleSection(run) {
  const p = run.parameters;
  const cores = p.serverCores === p.generatorCore || p.serverCores === undefined ? '' :
    ` Servers (the primary and every worker) on core${String(p.serverCores).includes(',') || String(p.serverCores).includes('-') ? 's' : ''} ${p.serverCores}, the load generator on core ${p.generatorCore}` +
      `${p.sharedCore ? ': on this machine the two workers share one core, so ops/s shows what the split costs, not what a core per worker gains; CPU per million requests is the figure that carries over' : ''}.`;
  const lines = [
    `${p.valueBytes}-byte values, ${int(p.keys)} pre-filled keys per server set-up, ${p.connections} connections per server with P = ${p.pipeline} requests in flight each ` +
      `(the \`--workers ${p.workers}\` row: ${p.connections} discovering clients, each with a connection to every worker and ${p.pipeline} × ${p.workers} loops), ` +
      `random keys; the systems alternate inside every round; ${p.seconds} s per measurement, median of ${p.rounds} rounds (min–max). ` +
      'Server CPU: user + system seconds from /proc/<pid>/stat of the server process, summed over the primary and every worker for `--workers`, per million requests answered.' + cores,
    '',
    '| system | op | ops/s | server CPU s per 1M requests | vs one server, plain client |',
    '|---|---|---|---|---|',
  ];
  for (const op of ['GET', 'SET']) {
    const base = stat(row(run, SCALE_SYSTEMS.plain, op)?.rounds, 'ops');
    for (const system of Object.values(SCALE_SYSTEMS)) {
      const x = row(run, system, op);
      if (x === null) continue;
      const ops = stat(x.rounds, 'ops');
      const cpu = stat(x.rounds, 'cpuPerMillion');
      lines.push(`| ${system} | ${op} | ${spread(ops)} | ${cpu === null ? '—' : `${cpu.median.toFixed(2)} (${cpu.min.toFixed(2)}–${cpu.max.toFixed(2)})`} | ${system === SCALE_SYSTEMS.plain ? '' : times(ratio(ops, base))} |`);
    }
  }
  lines.push('');
  return lines;
}
