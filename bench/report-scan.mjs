// The harness's scan part in bench/RESULTS.md (issue 19 item 3: "SCAN over 1M keys: total time
// and the worst event-loop stall, vs LIST today"), from the figures bench/scan.mjs returns.
// Beside report.mjs so that file does not grow: report.mjs imports scanSection and scanTargets.

/** Issue 19 item 3: each SCAN call holds the server's event loop ≤ 5 ms. */
export const SCAN_STALL_MS = 5;

const ms = (x) => (x === undefined || x === null ? '—' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const int = (x) => Math.round(x).toLocaleString('en-US');

/** The worst per-call CPU time of the SCAN rows (ms): the target's value; null when not measured. */
function worstScanCpu(scan) {
  const rows = Object.entries(scan?.store ?? {}).filter(([name]) => name.startsWith('SCAN'));
  return rows.length === 0 ? null : Math.max(...rows.map(([, r]) => r.cpuWorstMs));
}

/**
 * The scan part's target: the worst SCAN call ≤ 5 ms, by the process CPU time in the call
 * (a call's wall time on a shared machine includes the other processes' turns: both shown).
 *
 * @example
 * scanTargets(run.scan); // [{ text: 'each SCAN call … ≤ 5 ms …', cmp: '<=', bound: 5, value: 2.1, unit: 'ms', figures: '…' }]
 */
export function scanTargets(scan) {
  const keys = scan?.parameters?.keys;
  const rows = Object.entries(scan?.store ?? {}).filter(([name]) => name.startsWith('SCAN'));
  const figures = scan
    ? rows.map(([name, r]) => `${name}: CPU worst ${ms(r.cpuWorstMs)} ms, wall median ${ms(r.medianMs)} / p99 ${ms(r.p99Ms)} / worst ${ms(r.worstMs)} ms`).join('; ')
    : 'no scan part in this run';
  return [{
    text: `each SCAN call holds the server's event loop ≤ ${SCAN_STALL_MS} ms (${keys ? int(keys) : '1,000,000'} keys, CPU time per call)`,
    cmp: '<=', bound: SCAN_STALL_MS, value: worstScanCpu(scan), unit: 'ms', figures,
  }];
}

/**
 * The scan part's tables: per-call times on the server's path, and over the wire the total
 * time and the server loop's worst delay, SCAN against LIST and a GET control.
 *
 * @example
 * scanSection(run.scan); // ['### SCAN vs LIST over 1,000,000 keys (issue 19)', '', …]
 */
export function scanSection(scan) {
  if (!scan) return ['### SCAN vs LIST (issue 19)', '', 'Not measured in this run: it predates the harness\'s scan part.', ''];
  const p = scan.parameters;
  const lines = [
    `### SCAN vs LIST over ${int(p.keys)} keys (issue 19)`,
    '',
    `A ConduitServer in its own process pinned to core 0 (16-byte keys, 100-byte values), a ConduitClient in the harness's; ${p.rounds} round${p.rounds === 1 ? '' : 's'} ` +
      '(bench/scan.mjs). Per call: the synchronous time of each call on the server\'s path (`Store.scan`, `Store.list`), wall and process CPU; ' +
      'a wall time far above the CPU time is the machine running something else.',
    '',
    '| call | calls | median ms | p99 ms | worst ms | CPU p99 ms | CPU worst ms | whole iteration ms |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, r] of Object.entries(scan.store)) {
    lines.push(`| ${name} | ${int(r.calls)} | ${ms(r.medianMs)} | ${ms(r.p99Ms)} | ${ms(r.worstMs)} | ${ms(r.cpuP99Ms)} | ${ms(r.cpuWorstMs)} | ${r.totalMs === undefined ? '— (one bounded slice per call)' : ms(r.totalMs)} |`);
  }
  lines.push('', 'Over the socket: the total time, and the worst delay of the server\'s event loop meanwhile (monitorEventLoopDelay, 1 ms resolution; the GET row is the control: GETs for as long as one SCAN iteration took, the same machine\'s stalls without SCAN or LIST).', '');
  lines.push('| requests | total ms | server loop worst delay ms | worst GC pause ms |', '|---|---|---|---|');
  for (const [name, r] of Object.entries(scan.wire)) lines.push(`| ${name} | ${ms(r.totalMs)} | ${ms(r.serverWorstStallMs)} | ${ms(r.worstGcMs)} |`);
  lines.push('');
  return lines;
}
