// Quiet writes benchmark (issue 19 item 5, spec §2.5): a SET pipeline through
// ConduitClient, normal vs quiet (`set(k, v, { quiet: true })`: the server
// answers only failures, and a HEALTH fence per write settles the rest), same
// conduit-server, same keys and 100-byte values, C connections × P awaiting
// loops. The two alternate inside every round; each figure is the median of
// the rounds (min–max). Loopback only; the server it starts is stopped by its
// pid, also on failure or Ctrl-C (bench/lib.mjs).
// Run `npx just bench-quiet` (builds first; server on core 0, this on core 1).
// Env: BENCH_SECONDS (3), BENCH_ROUNDS (5), BENCH_CONNECTIONS (50),
// BENCH_PIPELINE (16), BENCH_KEYS (100000). Prints a table; saves nothing.
import { ConduitClient } from '../dist/index.js';
import { freePort, startConduit, stop, waitForPort } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PIPELINE = Number(process.env.BENCH_PIPELINE ?? 16);
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const SIZE = 100;
const value = Buffer.alloc(SIZE, 0x76);
const keyOf = (i) => `q:${String(i % KEYS).padStart(8, '0')}`;

const port = await freePort();
const server = startConduit(port);
try {
  await waitForPort(port);

  // Check before timing: a quiet SET is applied (read back after its fence), a failing one is reported.
  {
    const c = new ConduitClient({ port });
    await c.connect();
    const results = await c.setMany([[keyOf(0), value], [keyOf(0), value, { nx: true }]], { quiet: true });
    if (results[0] !== true || results[1] !== false) throw new Error(`quiet SET check failed: ${JSON.stringify(results)}`);
    const back = await c.get(keyOf(0));
    if (back === undefined || !back.equals(value)) throw new Error('quiet SET did not store the value');
    await c.close();
  }

  /** C connections × P awaiting SET loops for SECONDS; ops/s. */
  async function run(quiet) {
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const c = new ConduitClient({ port, maxQueued: 1_000_000 });
        await c.connect();
        return c;
      }),
    );
    const options = { quiet };
    const stopAt = performance.now() + SECONDS * 1000;
    let total = 0;
    let failed = 0;
    let seed = 1;
    await Promise.all(
      conns.flatMap((c) =>
        Array.from({ length: PIPELINE }, async () => {
          while (performance.now() < stopAt) {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            if ((await c.set(keyOf(seed), value, options)) !== true) failed += 1;
            total += 1;
          }
        }),
      ),
    );
    await Promise.all(conns.map((c) => c.close()));
    if (failed > 0) throw new Error(`${failed} SETs were not stored`);
    return total / SECONDS;
  }

  const samples = { normal: [], quiet: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which goes first, so drift within a round hits both alike.
    for (const quiet of round % 2 === 0 ? [false, true] : [true, false]) {
      const ops = await run(quiet);
      samples[quiet ? 'quiet' : 'normal'].push(ops);
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${quiet ? 'quiet ' : 'normal'} SET: ${Math.round(ops).toLocaleString('en-US')} ops/s\n`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (xs) => `${Math.round(median(xs)).toLocaleString('en-US')} (${Math.round(Math.min(...xs)).toLocaleString('en-US')}–${Math.round(Math.max(...xs)).toLocaleString('en-US')})`;
  const gain = median(samples.quiet) / median(samples.normal);
  console.log(`ConduitClient SET, ${SIZE} B values, ${CONNECTIONS} connections × P = ${PIPELINE}, ${SECONDS} s × ${ROUNDS} rounds, median (min–max) ops/s`);
  console.log('| pipeline | ops/s |');
  console.log('|---|---|');
  console.log(`| normal SET | ${fmt(samples.normal)} |`);
  console.log(`| quiet SET (spec §2.5) | ${fmt(samples.quiet)} |`);
  console.log(`gain: ${gain.toFixed(2)}× (quiet / normal, medians)`);
} finally {
  await stop(server);
}
