// Types for bench/redis-benchmark.mjs, for the tests that import it (test/unit/bench-report.test.ts).
export const RAND_INT_DIGITS: number;
export function redisBenchmarkKey(prefix: string, i: number): string;
export interface RedisBenchmarkRow {
  port: number;
  op: 'GET' | 'SET';
  prefix: string;
  keys: number;
  value: Buffer;
  connections: number;
  pipeline: number;
  requests: number;
}
export function redisBenchmarkArgs(row: RedisBenchmarkRow): string[];
export function redisCounters(port: number): { hits: number; misses: number; keys: number };
export function runRedisBenchmark(
  row: RedisBenchmarkRow & { wrap?: (cmd: string, args: string[]) => [string, string[]]; timeoutMs?: number },
): { ops: number; p50: number; p99: number; requests: number; hits: number; misses: number; keys: number };
