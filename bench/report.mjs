// Renders a harness run (bench/results/<date>.json) as the harness section
// of bench/RESULTS.md and as bench/results/chart.svg. The harness calls it
// after a run; `node bench/report.mjs bench/results/<date>.json` re-renders
// a saved run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BEGIN = '<!-- harness:begin -->';
const END = '<!-- harness:end -->';

/** The like-for-like Redis baseline of a system's row. */
function baselineOf(name) {
  if (name.includes('raw')) return 'Redis · raw RESP';
  if (name.includes('redis-benchmark')) return 'Redis · redis-benchmark';
  return 'Redis · ioredis';
}

/** Workloads and systems of a run, in the order they ran. */
function shape(r) {
  const workloads = [];
  const systems = [];
  for (const x of r.results) {
    if (!workloads.some((w) => w.op === x.op && w.size === x.size && w.pipeline === x.pipeline)) workloads.push({ op: x.op, size: x.size, pipeline: x.pipeline });
    if (!systems.some((s) => s.name === x.system)) systems.push({ name: x.system });
  }
  return { workloads, systems };
}

/**
 * Writes `results/chart.svg` under `outDir` and replaces (or appends) the
 * harness section of `outDir/RESULTS.md`.
 */
export function writeReport(report, outDir) {
  const chartPath = join(outDir, 'results', 'chart.svg');
  writeFileSync(chartPath, chart(report));
  const markdown = section(report);
  const resultsPath = join(outDir, 'RESULTS.md');
  let existing = '# Benchmark results\n';
  try {
    existing = readFileSync(resultsPath, 'utf8');
  } catch {
    // first run: a new file
  }
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const at = existing.indexOf(BEGIN);
  const stop = existing.indexOf(END);
  const updated = at >= 0 && stop > at ? `${existing.slice(0, at)}${block}${existing.slice(stop + END.length)}` : `${existing.trimEnd()}\n\n${block}\n`;
  writeFileSync(resultsPath, updated);
  return { markdown, resultsPath, chartPath };
}

function fmt(n) {
  return n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US');
}
function ms(s) {
  return s === null ? '—' : s.median.toFixed(2);
}
function find(r, system, w) {
  return r.results.find((x) => x.system === system && x.op === w.op && x.size === w.size && x.pipeline === w.pipeline);
}
function ratio(a, b) {
  return a?.ops && b?.ops ? a.ops.median / b.ops.median : null;
}

function section(r) {
  const { workloads, systems } = shape(r);
  const lines = [];
  lines.push('## Conduit vs Redis vs memcached (`npx just bench`)', '');
  lines.push(
    `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\`: ${r.machine.cores} cores (${r.machine.cpu}), ` +
      `${r.machine.memoryGiB} GiB; Node ${r.versions.node}, Redis ${r.versions.redis}, memcached ${r.versions.memcached}, ` +
      `ioredis ${r.versions.ioredis}, memjs ${r.versions.memjs}, conduit ${r.versions.conduit}. Servers ${r.machine.pinned ? 'pinned to core 0, the load generator to core 1' : 'not pinned (no taskset)'}; ` +
      `${r.parameters.connections} connections, ${r.parameters.keys.toLocaleString('en-US')} pre-filled keys per value size, ` +
      `${r.parameters.seconds} s per measurement, median of ${r.parameters.rounds} rounds (min–max). Raw rows send pre-encoded requests ` +
      `from one Node load generator; client rows run the same loop through each library. Data: \`bench/results/${r.date.slice(0, 10)}.json\`.`,
    '',
    '![Throughput per system and workload](results/chart.svg)',
    '',
  );
  for (const size of r.parameters.sizes) {
    lines.push(`### ${size}-byte values`, '');
    lines.push('| system | op | P | ops/s | p50 ms | p99 ms | p99.9 ms | server CPU s | server RSS MiB | vs Redis |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const w of workloads.filter((x) => x.size === size)) {
      for (const system of systems) {
        const x = find(r, system.name, w);
        const base = find(r, baselineOf(system.name), w);
        const q = ratio(x, base);
        lines.push(
          `| ${system.name} | ${w.op} | ${w.pipeline} | ${fmt(x.ops?.median)} (${fmt(x.ops?.min)}–${fmt(x.ops?.max)}) | ${ms(x.p50)} | ${ms(x.p99)} | ${ms(x.p999)} | ` +
            `${x.cpuSeconds === null ? '—' : x.cpuSeconds.median.toFixed(2)} | ${x.rssMiB === null ? '—' : x.rssMiB.median.toFixed(0)} | ${q === null ? '' : `${q.toFixed(2)}×`} |`,
        );
      }
    }
    lines.push('');
  }
  lines.push('"vs Redis" compares like with like: raw rows with Redis · raw RESP, client rows with Redis · ioredis.', '');
  lines.push('### Targets', '', '| target | measured | |', '|---|---|---|');
  const targets = [];
  const w = (op, size, pipeline) => ({ op, size, pipeline });
  for (const op of ['GET', 'SET']) {
    const q = ratio(find(r, 'Conduit · raw frames', w(op, 100, 16)), find(r, 'Redis · raw RESP', w(op, 100, 16)));
    targets.push([`server capacity (raw frames, P = 16, ${op} 100 B) ≥ 0.6× Redis`, q, q !== null && q >= 0.6]);
  }
  for (const op of ['GET', 'SET']) {
    for (const p of r.parameters.pipelines) {
      const q = ratio(find(r, 'Conduit · ConduitClient', w(op, 100, p)), find(r, 'Redis · ioredis', w(op, 100, p)));
      targets.push([`ConduitClient ≥ 2× ioredis (${op} 100 B, P = ${p})`, q, q !== null && q >= 2]);
    }
  }
  for (const size of r.parameters.sizes) {
    const bound = size === 100 ? 0.25 : 0.5;
    for (const op of ['GET', 'SET']) {
      const q = ratio(find(r, 'Conduit · ConduitClient, secure mode', w(op, size, 16)), find(r, 'Conduit · ConduitClient', w(op, size, 16)));
      targets.push([`secure mode ≥ ${bound}× plaintext (${op} ${size} B, P = 16)`, q, q !== null && q >= bound]);
    }
  }
  // RSS at the end of the 100-byte workloads (the 4 KiB keyspace is filled too, so both hold both).
  const rss = (name) => Math.max(...r.results.filter((x) => x.system === name && x.size === 100 && x.rssMiB).map((x) => x.rssMiB.median));
  const rssRatio = rss('Conduit · raw frames') / rss('Redis · raw RESP');
  targets.push([
    `server RSS (${Math.round(rss('Conduit · raw frames'))} vs ${Math.round(rss('Redis · raw RESP'))} MiB, both keyspaces filled) within 2× of Redis's`,
    rssRatio,
    rssRatio <= 2,
  ]);
  for (const [what, q, ok] of targets) lines.push(`| ${what} | ${q === null ? '—' : `${q.toFixed(2)}×`} | ${ok ? 'met' : '**missed**'} |`);
  lines.push('');
  return lines.join('\n');
}

/** A grouped horizontal bar chart of median ops/s: one group per workload, one bar per system. */
function chart(r) {
  const { workloads, systems } = shape(r);
  const palette = ['#1f6feb', '#4493f8', '#79c0ff', '#a5d6ff', '#cf222e', '#fa4549', '#ff8182', '#1a7f37', '#4ac26b'];
  const bar = 14;
  const gap = 10;
  const left = 250;
  const width = 900;
  const groups = workloads.map((wl) => ({ wl, rows: systems.map((s, i) => ({ s, i, x: find(r, s.name, wl) })) }));
  const maxOps = Math.max(...r.results.map((x) => x.ops?.median ?? 0));
  const height = 40 + groups.length * (systems.length * bar + gap + 18) + 20 + systems.length * 16;
  const esc = (t) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Throughput (median ops/s), ${esc(r.date.slice(0, 10))}, ${r.machine.cores} cores</text>`,
  ];
  let y = 40;
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 10}" font-weight="bold">${g.wl.op} ${g.wl.size} B, P = ${g.wl.pipeline}</text>`);
    y += 16;
    for (const row of g.rows) {
      const ops = row.x?.ops?.median ?? 0;
      const w = maxOps > 0 ? Math.max(1, ((width - left - 90) * ops) / maxOps) : 1;
      out.push(`<text x="${left - 6}" y="${y + bar - 3}" text-anchor="end">${esc(row.s.name)}</text>`);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${palette[row.i % palette.length]}"/>`);
      out.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 3}">${fmt(ops)}</text>`);
      y += bar;
    }
    y += gap;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node bench/report.mjs bench/results/<date>.json');
    process.exit(2);
  }
  const { resultsPath, chartPath } = writeReport(JSON.parse(readFileSync(file, 'utf8')), fileURLToPath(new URL('.', import.meta.url)));
  console.log(`wrote ${chartPath} and ${resultsPath}`);
}
