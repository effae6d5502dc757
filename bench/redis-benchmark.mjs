// redis-benchmark against the keys the harness filled, and a check that it
// read them. Shared by bench/harness.mjs and bench/e2e.mjs.
//
// Why a custom command and not `-t get`: with `-r N`, redis-benchmark
// replaces every `__rand_int__` in its command with `random() % N` written
// as 12 zero-padded digits (randomizeClientKey in redis-benchmark.c, Redis
// 7); its built-in GET/SET tests use the fixed names `key:__rand_int__`,
// which no benchmark here fills, and one `key:` space for every value size.
// So we pass the command ourselves, `GET <prefix>__rand_int__`, over the
// keyspace the harness filled as `<prefix>` + 12 digits, one prefix per
// value size (issue 24, item 1). After a GET row, INFO stats must show one
// hit per request and no miss, and the key count must not have changed.
import { execFileSync } from 'node:child_process';

/** Digits redis-benchmark writes for `__rand_int__` (zero-padded). */
export const RAND_INT_DIGITS = 12;

/**
 * The i-th key of a keyspace that redis-benchmark `-r keys` reads with the
 * command `GET <prefix>__rand_int__`.
 *
 * @example
 * redisBenchmarkKey('k100:', 12345); // 'k100:000000012345'
 */
export function redisBenchmarkKey(prefix, i) {
  return `${prefix}${String(i).padStart(RAND_INT_DIGITS, '0')}`;
}

/**
 * redis-benchmark's arguments for one row: `connections` clients, `pipeline`
 * requests in flight, `requests` in total, random keys `<prefix>` + 0 … keys − 1,
 * SET writing `value` (so the keyspace keeps its value size).
 *
 * @example
 * redisBenchmarkArgs({ port: 6379, op: 'GET', prefix: 'k100:', keys: 100_000, value, connections: 50, pipeline: 16, requests: 600_000 });
 */
export function redisBenchmarkArgs({ port, op, prefix, keys, value, connections, pipeline, requests }) {
  const command = op === 'GET' ? ['GET', `${prefix}__rand_int__`] : ['SET', `${prefix}__rand_int__`, value.toString('latin1')];
  return [
    '-h', '127.0.0.1', '-p', String(port), '-c', String(connections), '-P', String(pipeline),
    '-r', String(keys), '-n', String(requests), '--csv', ...command,
  ];
}

/** `keyspace_hits`, `keyspace_misses` (INFO stats) and the key count (DBSIZE) of the Redis on `port`. */
export function redisCounters(port) {
  const cli = (...args) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]).toString();
  const stats = cli('info', 'stats');
  const field = (name) => Number(stats.match(new RegExp(`^${name}:(\\d+)`, 'm'))?.[1] ?? NaN);
  return { hits: field('keyspace_hits'), misses: field('keyspace_misses'), keys: Number(cli('dbsize').trim()) };
}

/**
 * Runs one redis-benchmark row (through `wrap(cmd, args)`, e.g. taskset) and
 * checks it: a GET row must hit once per request and miss never, and no row
 * may add keys. Throws naming the row otherwise. Returns the row's figures
 * and the counters it was checked with.
 */
export function runRedisBenchmark({ wrap = (c, a) => [c, a], timeoutMs = 300_000, ...row }) {
  const before = redisCounters(row.port);
  const [cmd, args] = wrap('redis-benchmark', redisBenchmarkArgs(row));
  const out = execFileSync(cmd, args, { timeout: timeoutMs }).toString();
  const after = redisCounters(row.port);
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  const what = `redis-benchmark ${row.op} ${row.prefix}… P=${row.pipeline}`;
  if (misses !== 0 || (row.op === 'GET' && hits !== row.requests)) {
    throw new Error(`${what}: ${misses} misses and ${hits} hits for ${row.requests} requests (it read keys nobody wrote)`);
  }
  if (after.keys !== before.keys) throw new Error(`${what}: the key count went from ${before.keys} to ${after.keys} (it wrote keys outside the keyspace)`);
  // CSV: "test","rps","avg","min","p50","p95","p99","max" (ms); p99.9 is not reported.
  const fields = out.trim().split('\n').at(-1).split('","').map((s) => s.replaceAll('"', ''));
  return { ops: Number(fields[1]), p50: Number(fields[4]), p99: Number(fields[6]), requests: row.requests, hits, misses, keys: after.keys };
}
