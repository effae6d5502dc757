// Items kept under --max-memory through the protocol (issue 17's method), one server at a time;
// the harness (`npx just bench`) runs the same measurements for all three servers side by side.
// Starts conduit-server as the bin runs it (its Node flags, pinned to core 0) with
// `--max-memory <BENCH_FILL_MEMORY, default 64mb>` on 127.0.0.1, writes BENCH_FILL_KEYS (default 1.5M)
// distinct 16-byte keys with 100-byte values (BENCH_FILL_VALUE) pipelined on one connection
// (1,000 requests in flight), then reads the item count (STATS) and the server's VmRSS / VmHWM
// from /proc/<pid>/status. BENCH_FILL_CHURN=1 instead writes random sizes of 16 B – 4 KiB over a
// space of 4M keys until 10× the budget is written (the churn scenario) and samples the
// server's RSS every 10,000 writes (peakRssMiB is VmHWM, the kernel's own maximum).
// BENCH_FILL_SERVER=redis or memcached measures that server instead (maxmemory + allkeys-lru / -m).
// The workloads and writers are bench/memory.mjs's.
// Run after `npm run build`: node bench/store-fill.mjs
import { SERVERS, churnWorkload, fillWorkload, measure } from './memory.mjs';

const memory = process.env.BENCH_FILL_MEMORY ?? '64mb';
const unit = /^(\d+)(mb|gb)$/i.exec(memory);
if (unit === null) throw new Error(`BENCH_FILL_MEMORY must be a size in mb or gb (e.g. 64mb, 1gb), not ${JSON.stringify(memory)}`);
const budgetMiB = Number(unit[1]) * (unit[2].toLowerCase() === 'gb' ? 1024 : 1);
const server = process.env.BENCH_FILL_SERVER ?? 'conduit';
if (!(server in SERVERS)) throw new Error(`BENCH_FILL_SERVER must be one of ${Object.keys(SERVERS).join(', ')}, not ${JSON.stringify(server)}`);
const keys = Number(process.env.BENCH_FILL_KEYS ?? 1_500_000);
const valueBytes = Number(process.env.BENCH_FILL_VALUE ?? 100);
const churn = process.env.BENCH_FILL_CHURN === '1';

const workload = churn ? churnWorkload({ goalBytes: 10 * budgetMiB * 2 ** 20, keySpace: 4_000_000, seed: 17 }) : fillWorkload({ keys, valueBytes });
const { samples, stats, ...r } = await measure({ server, budgetMiB, workload });
console.log(
  JSON.stringify(
    {
      server: SERVERS[server].name,
      maxMemory: memory,
      written: r.writes,
      writtenBytes: r.bytes,
      valueBytes: churn ? '16-4095 random' : valueBytes,
      failed: r.failed,
      failures: r.failures,
      seconds: r.seconds,
      curr_items: r.items,
      ...stats,
      idleRssMiB: r.idleRssMiB,
      rssMiB: r.rssMiB,
      peakRssMiB: r.hwmMiB,
      sampledMaxRssMiB: r.maxSampleMiB,
      samples: samples.length,
    },
    null,
    2,
  ),
);
