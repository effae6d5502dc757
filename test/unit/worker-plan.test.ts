// Issue 20: the rules of `conduit-server --workers` decided before any process starts.
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkSetting } from '../../src/cli/setting-check.js';
import {
  groupProblem,
  MAX_WORKERS,
  memoryShare,
  planWorkers,
  restartDelayMs,
  RESTART_MAX_MS,
  RESTART_MIN_MS,
  workerCount,
  workerName,
} from '../../src/cli/worker-plan.js';
import { assignSlots } from '../../src/index.js';

describe('--workers values', () => {
  const option = new Option('--workers <n|auto>');
  const check = (raw: unknown, label = '--workers'): string | boolean => checkSetting(option, 'workers', raw, label);

  it.each([['1'], ['2'], [' 64 '], ['auto'], [' AUTO '], [8]])('accepts %j', (raw) => {
    expect(check(raw)).toBe(String(raw));
  });

  it.each([['0'], ['65'], ['two'], ['-1'], ['1.5'], [''], ['0x2'], ['2e1']])('refuses %j, naming the source and the range', (raw) => {
    expect(() => check(raw, 'CONDUIT_WORKERS')).toThrow(`CONDUIT_WORKERS must be auto or a whole number from 1 to 64, got '${String(raw).trim()}'`);
  });

  it('refuses a TOML value that is not a number or text', () => {
    expect(() => check(true, 'workers in c.toml')).toThrow(/workers in c\.toml must be a value/);
  });

  it('auto is the available parallelism, at least 1 and at most 64; a number is itself', () => {
    expect(workerCount('auto', 2)).toBe(2);
    expect(workerCount(' Auto ', 1)).toBe(1);
    expect(workerCount('auto', 0)).toBe(1);
    expect(workerCount('auto', 192)).toBe(MAX_WORKERS);
    expect(workerCount(' 7 ', 2)).toBe(7);
  });
});

describe('where each worker listens (planWorkers)', () => {
  it('worker i listens on --port + i, named host:port', () => {
    const plan = planWorkers({ count: 3, host: '127.0.0.1', port: 7171, socket: undefined, tcp: true });
    expect(plan).toEqual([
      { index: 0, host: '127.0.0.1', port: 7171, socket: undefined, name: '127.0.0.1:7171' },
      { index: 1, host: '127.0.0.1', port: 7172, socket: undefined, name: '127.0.0.1:7172' },
      { index: 2, host: '127.0.0.1', port: 7173, socket: undefined, name: '127.0.0.1:7173' },
    ]);
  });

  it('with --port 0 each worker gets the free port found for it', () => {
    const plan = planWorkers({ count: 2, host: 'LocalHost', port: 0, socket: undefined, tcp: true, freePorts: [40001, 39000] });
    expect(plan.map((w) => [w.port, w.name])).toEqual([
      [40001, 'localhost:40001'],
      [39000, 'localhost:39000'],
    ]);
    expect(() => planWorkers({ count: 2, host: 'h', port: 0, socket: undefined, tcp: true, freePorts: [1] })).toThrow(RangeError);
  });

  it('--socket P gives worker i P.i; with --no-tcp the group names the socket paths', () => {
    const both = planWorkers({ count: 2, host: '127.0.0.1', port: 7171, socket: '/run/c.sock', tcp: true });
    expect(both.map((w) => [w.port, w.socket, w.name])).toEqual([
      [7171, '/run/c.sock.0', '127.0.0.1:7171'],
      [7172, '/run/c.sock.1', '127.0.0.1:7172'],
    ]);
    const socketOnly = planWorkers({ count: 2, host: '127.0.0.1', port: 7171, socket: '/run/c.sock', tcp: false });
    expect(socketOnly.map((w) => [w.port, w.socket, w.name])).toEqual([
      [undefined, '/run/c.sock.0', '/run/c.sock.0'],
      [undefined, '/run/c.sock.1', '/run/c.sock.1'],
    ]);
  });

  it('names are what clients hash (design.md): lower-case host, IPv6 in brackets', () => {
    expect(workerName('127.0.0.1', 7171)).toBe('127.0.0.1:7171');
    expect(workerName('::1', 7171)).toBe('[::1]:7171');
    expect(workerName('[FD00::1]', 1)).toBe('[fd00::1]:1');
    expect(workerName('Cache.Example', 80)).toBe('cache.example:80');
  });

  it('64 workers make a valid group: every name distinct, every worker owns slots', () => {
    const plan = planWorkers({ count: MAX_WORKERS, host: '127.0.0.1', port: 7171, socket: undefined, tcp: true });
    const table = assignSlots(plan.map((w) => w.name));
    expect(new Set(table).size).toBe(MAX_WORKERS);
  });
});

describe('budgets and backoff', () => {
  it('--max-memory is split evenly, rounded down, never more than given in total', () => {
    expect(memoryShare(64 * 1024 * 1024, 2)).toBe(32 * 1024 * 1024);
    expect(memoryShare(64 * 1024 * 1024, 3)).toBe(22_369_621);
    expect(memoryShare(64 * 1024 * 1024, 3) * 3).toBeLessThanOrEqual(64 * 1024 * 1024);
  });

  it('restart delays: 100 ms doubling to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map(restartDelayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(restartDelayMs(0)).toBe(RESTART_MIN_MS);
    expect(restartDelayMs(Number.MAX_SAFE_INTEGER)).toBe(RESTART_MAX_MS);
  });
});

describe('groups refused before any worker starts (groupProblem)', () => {
  const flag = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const base = { count: 2, maxMemory: 64 * 1024 * 1024, shards: 16, port: 7171, tcp: true };

  it('a fine group has no problem', () => {
    expect(groupProblem(base, flag)).toBeUndefined();
    expect(groupProblem({ ...base, count: 64, port: 65_535 - 63 }, flag)).toBeUndefined();
    expect(groupProblem({ ...base, count: 64, port: 65_535, tcp: false }, flag)).toBeUndefined();
    expect(groupProblem({ ...base, count: 64, port: 0 }, flag)).toBeUndefined();
    expect(groupProblem({ ...base, maxValueSize: 32 * 1024 * 1024 }, flag)).toBeUndefined();
  });

  it('a share below 1 KiB per shard names --max-memory, --workers and --shards', () => {
    expect(groupProblem({ ...base, maxMemory: 32 * 1024 - 1 }, flag)).toBe(
      '--max-memory 32767 bytes split over 2 workers (--workers 2) leaves 16383 bytes each, less than the 16kb (16384 bytes) one server needs (1 KiB for each of --shards 16)',
    );
    expect(groupProblem({ ...base, maxMemory: 32 * 1024 }, flag)).toBeUndefined();
  });

  it('--max-value-size above a share, ports past 65535, and --http-port over TLS are refused naming both settings', () => {
    expect(groupProblem({ ...base, maxValueSize: 32 * 1024 * 1024 + 1 }, flag)).toMatch(/^--max-value-size .* each worker's share of --max-memory .* \(--workers 2\)/);
    expect(groupProblem({ ...base, port: 65_535 }, flag)).toBe('--port 65535 with --workers 2 needs ports up to 65536, past 65535');
    expect(groupProblem({ ...base, httpPort: 0, tls: true }, flag)).toMatch(/^--http-port cannot be used with --workers 2 and --tls-cert/);
    // Without TLS the primary runs the gateway and forwards to the workers.
    expect(groupProblem({ ...base, httpPort: 0 }, flag)).toBeUndefined();
  });
});
