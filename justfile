# Conduit tasks. `npx just --list` shows them; `just` comes from the rust-just dev dependency.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The load generator runs on core 1; bench/e2e.mjs pins the servers to core 0.
pin := `command -v taskset >/dev/null && echo "taskset -c 1" || echo ""`

# List the recipes.
default:
    @just --list

# Compile src/ to dist/ (also run by `npm ci` through the prepare script).
build:
    npm run build

# Type-check and run the whole test suite.
test:
    npm test

# Type-check everything (src, tests, configs) without emitting, and check that imports point one way (CONTRIBUTING.md).
check:
    npm run typecheck
    node scripts/check-imports.mjs

# Same as check: the type checker is the linter.
lint: check

# Run the codec properties (frames, fragments, the RESP request parser) for FUZZ_SECONDS (default 60) in all, as many runs as fit.
fuzz seconds=env_var_or_default("FUZZ_SECONDS", "60"):
    FUZZ_SECONDS={{seconds}} npx vitest run --config test/fuzz/vitest.config.ts

# BENCH_QUICK=1 is the ~20 s smoke version CI runs (saved to a temp dir, the repository left alone).
# Installs redis-server/memcached (apt) when missing.
# Conduit vs Redis vs memcached, one run (throughput, then memory: items under 64 MiB, RSS under churn): saves bench/results/harness-<date>.json, regenerates bench/RESULTS.md and the chart.
# Then large values (issue 19): SET/GET of 1 MiB and 16 MiB values, ConduitClient vs ioredis in MB/s; then SCAN vs LIST over 1M keys.
# Then issue 20: the key → server schemes (bench-ring, ~12 s) and one server vs `--workers 2` (bench-scale).
# Then issue 21: the near cache vs a plain ConduitClient vs ioredis (bench-near).
# Then issue 23: redis-benchmark against conduit-server --resp-port vs redis-server (bench-resp; its BENCH_QUICK=1 run takes a few seconds).
# Then issue 22: snapshot save/load of 1 GiB vs Redis RDB and memcached's warm restart (bench-snapshot; not in the BENCH_QUICK=1 smoke run:
# its own quick run takes 14–29 s on this shared machine, over CI's 15 s allowance; `BENCH_QUICK=1 npx just bench-snapshot` runs it).
# BENCH_ONLY=memory (or throughput, or large) runs one part of the harness, saved to a temp dir like the smoke run, and skips the issue 20 and 21 parts.
bench: build
    {{pin}} node bench/harness.mjs
    if [ -z "${BENCH_ONLY:-}" ]; then node bench/ring-choice.mjs; fi
    if [ -z "${BENCH_ONLY:-}" ]; then {{pin}} node bench/scale.mjs; fi
    if [ -z "${BENCH_ONLY:-}" ]; then {{pin}} node bench/near-cache.mjs; fi
    if [ -z "${BENCH_ONLY:-}" ] && [ "${BENCH_QUICK:-}" != "1" ]; then {{pin}} node bench/snapshot.mjs; fi
    if [ -z "${BENCH_ONLY:-}" ]; then {{pin}} node bench/resp.mjs; fi

# Each saves bench/results/<name>-<date>.json; then all of bench/RESULTS.md is regenerated from the newest run of each.
# Every benchmark: the harness, then the focused ones below, then bench-report.
bench-all: bench bench-codec bench-store bench-e2e bench-clients bench-http bench-report

# Regenerate all of bench/RESULTS.md and bench/results/chart.svg from the saved runs in bench/results/.
bench-report:
    node bench/report.mjs

# Codec decode/encode throughput for 16 B to 60 KiB bodies.
bench-codec: build
    node bench/codec.mjs

# Store ops/s vs a bare LRUCache and a Map, heap bytes per entry, active expiry of 1M entries.
bench-store: build
    node --expose-gc bench/store.mjs

# conduit-server vs redis-server (same Node load generator, and redis-benchmark); installs redis-server if missing.
bench-e2e: build
    {{pin}} node bench/e2e.mjs

# ConduitClient + conduit-server vs ioredis + redis-server, same generator and run.
bench-clients: build
    {{pin}} node bench/clients.mjs

# The HTTP gateway vs a bare node:http server, autocannon, same run.
bench-http: build
    {{pin}} node bench/http.mjs

# Key → server schemes (issue 20, docs/SCALING.md): Redis slots + rendezvous vs a ketama ring (hashring) vs modulo vs jump hash,
# 100,000 keys, 3 → 4 → 3 servers: balance, keys moved, ns per lookup, build cost (~12 s, no servers).
bench-ring: build
    node bench/ring-choice.mjs

# One conduit-server vs `--workers 2` (ops/s, server CPU per million requests), and a pooled ConduitClient vs a plain one (issue 20).
# On 2 cores the servers share core 0 and the load generator has core 1; with more, the servers get every core but the generator's.
bench-scale: build
    {{pin}} node bench/scale.mjs

# Zipf(0.99) over 100,000 keys, 95 % GET / 5 % SET of 100 B, 50 concurrent loops on one client; the near cache's hit rate and
# the invalidation delay (p50 / p99 / max) at a second near-cache client. ~90 s; BENCH_QUICK=1: a few seconds.
# Near cache (issue 21): ConduitClient with nearCache vs without vs ioredis + redis-server, same run (target: ≥ 10× ioredis).
bench-near: build
    {{pin}} node bench/near-cache.mjs

# RESP listener (issue 23): redis-benchmark (Redis's C load generator, on core 1) `-t set` / `-t get` -P 16 and -P 1, -c 50 -d 100 -r 100000,
# against conduit-server --resp-port and redis-server (core 0) in the same run, both filled first so every GET hits; medians of 5 rounds and
# the ratio to Redis (target ≥ 0.6×). Installs redis-server/redis-tools (apt) when missing. ~4 min; BENCH_QUICK=1: a few seconds.
bench-resp: build
    {{pin}} node bench/resp.mjs

# Warm restart (issue 22): 1 GiB of 4 KiB values (262,144 items) saved and loaded by conduit-server --snapshot (SIGTERM → save,
# restart → load, page cache and cold; a 1-GET-per-ms probe during periodic saves) vs Redis SAVE/BGSAVE/RDB load vs memcached -e
# (SIGUSR1 → restart); a disk baseline beside them. Installs redis-server/memcached (apt) when missing. ~8–10 min; BENCH_QUICK=1: 32 MiB, one round (~15–30 s).
bench-snapshot: build
    {{pin}} node bench/snapshot.mjs

# Quiet writes (spec §2.5): ConduitClient SET pipeline, normal vs quiet, 100 B, P = 16; prints the medians and the gain.
bench-quiet: build
    {{pin}} node bench/quiet.mjs

# Reliability scenarios (issues 9 and 15) against conduit-server child processes; writes docs/RELIABILITY.md.
# CHAOS_QUICK=1: the short sizes; CHAOS_ONLY=hostile,memory: a subset (both only print the report; CHAOS_OUT=dir keeps it).
chaos: build
    npx vitest run --config test/chaos/vitest.config.ts
