// The near-cache part of bench/RESULTS.md (issue 21): bench/near-cache.mjs's
// ConduitClient with and without `nearCache` vs ioredis + Redis on a Zipf(0.99)
// read-heavy workload, the near cache's hit rate, and the invalidation delay
// beside the ≥ 10× target. Beside report.mjs so that file does not grow:
// report.mjs imports these and calls them like its own.

/** Issue 21: ConduitClient with a near cache ≥ 10× ioredis + Redis, same workload, same run. */
export const NEAR_VS_IOREDIS = 10;

/** The three systems of a near-cache run, as its rows name them. */
export const NEAR_SYSTEMS = {
  near: 'ConduitClient + nearCache → conduit-server',
  plain: 'ConduitClient → conduit-server',
  ioredis: 'ioredis → redis-server',
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const pct = (x) => `${(x * 100).toFixed(1)} %`;
/** ms with 3 decimals below 1 ms, 2 above. */
const ms = (x) => (x === null || x === undefined ? '—' : x < 1 ? x.toFixed(3) : x.toFixed(2));

/** `{ median, min, max }` of one field over rounds, or null. */
function stat(rounds, field) {
  const v = (rounds ?? []).map((r) => field(r)).filter((x) => typeof x === 'number' && !Number.isNaN(x));
  return v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}
const spread = (s, f = int) => (s === null ? '—' : `${f(s.median)} (${f(s.min)}–${f(s.max)})`);
const ratio = (a, b) => (a === null || b === null || !b.median ? null : a.median / b.median);
const times = (q) => (q === null ? '—' : `${q.toFixed(2)}×`);

const rowOf = (run, system) => run.results.find((x) => x.system === system) ?? null;
const ops = (run, system) => stat(rowOf(run, system)?.rounds, (r) => r.ops);
/** The near cache's state in a run: 'on' when every round of row (a) had it on, else what a round reported ('off', 'absent'). */
function nearState(run) {
  const rounds = rowOf(run, NEAR_SYSTEMS.near)?.rounds ?? [];
  const off = rounds.find((r) => r.nearCache !== 'on');
  return rounds.length === 0 ? 'absent' : off === undefined ? 'on' : (off.nearCache ?? 'absent');
}
/** The rounds' invalidation summaries (rounds with the near cache on). */
const invalidationRounds = (run) => (rowOf(run, NEAR_SYSTEMS.near)?.rounds ?? []).map((r) => r.invalidation).filter((x) => x !== undefined);

/** The invalidation delay p99 over the rounds (median of the rounds' p99, ms), or null. */
function p99Of(run) {
  return stat(invalidationRounds(run), (r) => r.p99);
}

/**
 * The near-cache run's target: (a) ≥ 10× (c) in ops/s, judged only when the
 * near cache was on in every round; the invalidation delay p99 in its figures.
 *
 * @example
 * nearTargets(run); // [{ text: 'ConduitClient with a near cache ≥ 10× ioredis …', cmp: '>=', bound: 10, value: 12.3, figures: '…' }]
 */
export function nearTargets(run) {
  const p = run.parameters;
  const state = nearState(run);
  const near = ops(run, NEAR_SYSTEMS.near);
  const redis = ops(run, NEAR_SYSTEMS.ioredis);
  const p99 = p99Of(run);
  const figures = state === 'on'
    ? `near cache ${int(near?.median)}, ioredis ${int(redis?.median)} ops/s; invalidation delay p99 ${ms(p99?.median)} ms`
    : `the near cache was ${state === 'off' ? 'off (the server did not grant tracking)' : 'absent (this ConduitClient has no nearCacheStats())'}: not judged`;
  return [{
    text: `ConduitClient with a near cache ≥ ${NEAR_VS_IOREDIS}× ioredis + Redis (Zipf ${p.zipf} over ${int(p.keys)} keys, ${Math.round(p.getFraction * 100)} % GET / ${Math.round(p.setFraction * 100)} % SET, ${p.loops} loops)`,
    cmp: '>=', bound: NEAR_VS_IOREDIS, value: state === 'on' ? ratio(near, redis) : null, figures,
  }];
}

/**
 * The near-cache run's section: ops/s, ratios to ioredis, hit rate and server CPU per system; then the invalidation delay.
 *
 * @example
 * nearSection(run); // ['Zipf(0.99) over 100,000 pre-filled keys …', '', '| client → server | ops/s | …', …]
 */
export function nearSection(run) {
  const p = run.parameters;
  const state = nearState(run);
  const size = Object.entries(p.nearCache ?? {}).map(([k, v]) => `${k}: ${int(v)}`).join(', ');
  const entries = `${size === '' ? 'the client\'s defaults' : `\`{ ${size} }\``}${p.nearCacheFilled ? ', filled by reading every key once before the warm-up (the steady state of an app whose near cache holds its working set)' : ''}`;
  const lines = [
    `One client per system in the load generator's process, ${p.loops} concurrent awaiting loops on it; each loop replays its own precomputed sequence ` +
      `(${Math.round(p.getFraction * 100)} % GET / ${Math.round(p.setFraction * 100)} % SET of ${p.valueBytes}-byte values, keys drawn from Zipf(${p.zipf}) over ${int(p.keys)} pre-filled keys ` +
      `through a precomputed CDF and a seeded PRNG: the same operations in the same order for every system), for ${p.seconds} s or ${int(p.opsPerLoop)} operations, whichever ends first, ` +
      `after an untimed ${p.warmupSeconds} s warm-up from another sequence; every GET checked. The near cache: ${entries}. ` +
      `The systems alternate inside every round; median of ${p.rounds} rounds (min–max). ` +
      'Hit rate: near-cache hits ÷ (hits + misses) from `nearCacheStats()` over the timed part. Server CPU: user + system seconds of the server process per million operations the client made.',
    '',
  ];
  if (state !== 'on') {
    lines.push(state === 'off'
      ? '**The near cache was off in this run** (the server did not grant tracking): the nearCache row is a plain client, not judged.'
      : '**This ConduitClient has no near cache** (no `nearCacheStats()`: the run predates issue 21\'s client), so the nearCache option was ignored: that row is a plain client, not judged, and no invalidation delay was measured.', '');
  }
  lines.push('| client → server | ops/s | ÷ ioredis | near-cache hit rate | server CPU s per 1M ops |', '|---|---|---|---|---|');
  const base = ops(run, NEAR_SYSTEMS.ioredis);
  for (const x of run.results) {
    const o = stat(x.rounds, (r) => r.ops);
    const hit = x.system === NEAR_SYSTEMS.near && state === 'on' ? stat(x.rounds, (r) => r.hitRate) : null;
    const cpu = stat(x.rounds, (r) => r.cpuPerMillion);
    lines.push(`| ${x.system}${x.system === NEAR_SYSTEMS.near && state !== 'on' ? ` (near cache ${state})` : ''} | ${spread(o)} | ${x.system === NEAR_SYSTEMS.ioredis ? '' : times(ratio(o, base))} | ` +
      `${hit === null ? '—' : spread(hit, pct)} | ${cpu === null ? '—' : spread(cpu, (v) => v.toFixed(2))} |`);
  }
  lines.push('');
  const inv = invalidationRounds(run);
  if (inv.length > 0) {
    const sum = (f) => inv.reduce((n, r) => n + r[f], 0);
    const max = Math.max(...inv.map((r) => r.max ?? 0));
    lines.push(
      `Invalidation delay, during the nearCache row's measurements: a second ConduitClient with a near cache read the ${int(inv[0].hotKeys)} hottest keys first; ` +
        'each SET the loops made to a key it held (the first since it last read it) is timed from the writer\'s resolve to the arrival of that key\'s `\'invalidate\'` event ' +
        'at the second client (same process, `performance.now()`), which then re-reads the key. The delay includes the event loop of the process, busy with the loops. ' +
        `p50 and p99: median of the rounds (min–max); max: over all rounds.`,
      '',
      '| p50 ms | p99 ms | max ms | invalidations seen / SETs to held keys | arrived before the writer\'s resolve (counted as 0) |',
      '|---|---|---|---|---|',
      `| ${spread(stat(inv, (r) => r.p50), ms)} | ${spread(stat(inv, (r) => r.p99), ms)} | ${ms(max)} | ${int(sum('seen'))} / ${int(sum('expected'))}` +
        `${sum('missing') === 0 ? '' : ` (**${int(sum('missing'))} missing**)`} | ${int(sum('early'))} |`,
      '',
    );
  }
  return lines;
}
