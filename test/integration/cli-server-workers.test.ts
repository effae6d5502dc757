// Issue 20: `conduit-server --workers N`, a primary supervising N worker processes, each a
// whole server with its own store on its own address (design.md). Real processes on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assignSlots, ConduitClient, decodeMovedBody, decodeTopologyBody, ProtocolError, slotOf, Status } from '../../src/index.js';
import { nodeFlagsOf, runCli, runServerToExit, serverBin, startServerProcess, type ServerProcess, alive } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-workers-'));

/** Every worker pid a test saw (start-up line, restarts): killed after it, so no test leaves one behind. */
const workerPids = new Set<number>();
const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const pid of workerPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  workerPids.clear();
});


/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface StartedWorker {
  worker: number;
  pid: number;
  name: string;
  address?: string;
  socket?: string;
}

/** The primary's start-up line, and the workers it names (their pids recorded for cleanup). */
function startLine(server: ServerProcess): { line: Record<string, unknown>; workers: StartedWorker[] } {
  const line = server.logs().find((l) => l.msg === 'conduit-server listening') ?? {};
  const workers = (line.workers ?? []) as StartedWorker[];
  for (const w of workers) workerPids.add(w.pid);
  return { line, workers };
}

/** A group of `--workers` processes on ports picked free. */
async function startGroup(args: string[], env: Record<string, string> = {}): Promise<{ server: ServerProcess; workers: StartedWorker[]; line: Record<string, unknown> }> {
  const server = await startServerProcess(['--port', '0', ...args], { env, timeoutMs: 20_000 });
  return { server, ...startLine(server) };
}

const portOf = (w: StartedWorker): number => Number(w.address?.split(':').at(-1));

function client(port: number): ConduitClient {
  const c = new ConduitClient({ port });
  clients.push(c);
  return c;
}

/** A key whose slot worker `owner` of `names` owns. */
function keyOwnedBy(names: readonly string[], owner: number, prefix = 'k'): string {
  const table = assignSlots(names);
  for (let i = 0; ; i++) if (table[slotOf(`${prefix}${i}`)] === owner) return `${prefix}${i}`;
}

/** Expects exit 1 with exactly one line on stderr matching `message`. */
async function refused(args: string[], env: Record<string, string>, message: RegExp): Promise<void> {
  const { code, stderr } = await runServerToExit(args, env, 20_000);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(message);
  expect(code).toBe(1);
}

describe('conduit-server --workers (issue 20)', () => {
  it('--http-port with --workers: the primary’s gateway forwards each key to the worker that owns it', async () => {
    const { workers, line } = await startGroup(['--workers', '2', '--http-port', '0']);
    const http = String(line.http);
    expect(http).toMatch(/^127\.0\.0\.1:\d+$/);
    const url = (key: string): string => `http://${http}/v1/keys/${encodeURIComponent(key)}`;
    const signal = AbortSignal.timeout(10_000);
    const keys = Array.from({ length: 40 }, (_, i) => `gw${i}`);
    for (const key of keys) expect((await fetch(url(key), { method: 'PUT', body: `value of ${key}`, signal })).status).toBe(204);
    for (const key of keys) expect(await (await fetch(url(key), { signal })).text()).toBe(`value of ${key}`);
    expect((await fetch(`http://${http}/readyz`, { signal })).status).toBe(200);
    // Each key is in its owner's store only: both workers hold some, and their counts add up.
    const names = workers.map((w) => w.name);
    const table = assignSlots(names);
    const items = await Promise.all(workers.map(async (w) => (await client(portOf(w)).stats()).curr_items));
    expect(items).toEqual([0, 1].map((owner) => keys.filter((k) => table[slotOf(k)] === owner).length));
    expect(items.every((n) => Number(n) > 0)).toBe(true);
  }, 60_000);

  it('discover: true and conduit-cli find the workers and route every key to its owner: no MOVED', async () => {
    const { server, workers } = await startGroup(['--workers', '2']);
    const pooled = new ConduitClient({ port: server.port, discover: true });
    clients.push(pooled);
    await pooled.connect();
    const names = workers.map((w) => w.name);
    const table = assignSlots(names);
    const keys = Array.from({ length: 500 }, (_, i) => `d${i}`);
    for (const key of keys) expect(pooled.serverFor(key)).toBe(names[table[slotOf(key)] as number]);
    await Promise.all(keys.map((key) => pooled.set(key, `v:${key}`)));
    expect((await Promise.all(keys.map((key) => pooled.getString(key)))).every((v, i) => v === `v:${keys[i]}`)).toBe(true);
    // conduit-cli against worker 0 reads a key worker 1 owns.
    const k1 = keyOwnedBy(names, 1, 'd');
    const got = await runCli(['--port', String(server.port), 'get', k1]);
    expect(got.code).toBe(0);
    expect(got.stdout.toString()).toBe(`v:${k1}`);
    const stats = await Promise.all(workers.map(async (w) => client(portOf(w)).stats()));
    expect(stats.map((s) => s.moved)).toEqual([0, 0]);
    expect(stats.reduce((sum, s) => sum + Number(s.curr_items), 0)).toBe(keys.length);
  }, 60_000);

  it('--workers 2 --port 0: two workers on two free ports, each answering with its own store', async () => {
    const { server, workers, line } = await startGroup(['--workers', '2', '--max-memory', '64mb']);
    expect(workers.map((w) => w.worker)).toEqual([0, 1]);
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2);
    expect(workers.every((w) => w.pid !== server.child.pid && alive(w.pid))).toBe(true);
    expect(workers.map((w) => w.name)).toEqual(workers.map((w) => w.address));
    expect(line.group).toMatchObject({ nodes: workers.map((w) => w.name), epoch: expect.any(Number) });
    // Each worker has half the budget; the start-up line says what each one runs.
    expect(line.settings).toMatchObject({ maxMemory: 32 * 1024 * 1024, workers: 2 });
    expect(line.address).toBe(workers[0]?.address);
    expect(server.port).toBe(portOf(workers[0] as StartedWorker));
    // Workers run with the bin's Node flags, as the primary does (docs/STORAGE.md "Process RSS").
    for (const w of workers) {
      const argv = readFileSync(`/proc/${w.pid}/cmdline`, 'latin1').split('\0');
      expect(argv.slice(1, 1 + nodeFlagsOf(serverBin).length + 1)).toEqual([...nodeFlagsOf(serverBin), serverBin]);
    }

    const [a, b] = workers.map((w) => client(portOf(w)));
    if (a === undefined || b === undefined) throw new Error('two workers');
    expect(await a.health()).toBeGreaterThanOrEqual(0);
    expect(await b.health()).toBeGreaterThanOrEqual(0);
    const names = workers.map((w) => w.name);
    const k0 = keyOwnedBy(names, 0);
    const k1 = keyOwnedBy(names, 1);
    expect(await a.set(k0, 'on worker 0')).toBe(true);
    expect(await b.set(k1, 'on worker 1')).toBe(true);
    // A key stored by one worker is not in the other's store: two stores, not one shared.
    expect((await a.list('k')).keys.map(String)).toEqual([k0]);
    expect((await b.list('k')).keys.map(String)).toEqual([k1]);
    expect((await a.stats()).curr_items).toBe(1);
    expect(String(await a.get(k0))).toBe('on worker 0');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 30_000);

  it('every worker answers TOPOLOGY with the group, and MOVED naming the owner for a key the other worker owns', async () => {
    const { server, workers, line } = await startGroup(['--workers', '2']);
    const names = workers.map((w) => w.name);
    const epoch = (line.group as { epoch: number }).epoch;
    const table = assignSlots(names);
    for (const w of workers) {
      const { status, body } = await client(portOf(w)).exchange({ op: 'TOPOLOGY' });
      expect(status).toBe(Status.OK);
      const topology = decodeTopologyBody(body);
      if (topology instanceof ProtocolError) throw topology;
      expect({ self: topology.self, epoch: topology.epoch, nodes: topology.nodes }).toEqual({ self: w.worker, epoch, nodes: names });
      expect(Buffer.from(topology.table).equals(Buffer.from(table))).toBe(true);
    }
    const [a, b] = workers.map((w) => client(portOf(w)));
    if (a === undefined || b === undefined) throw new Error('two workers');
    const k1 = keyOwnedBy(names, 1);
    const set = { op: 'SET', key: Buffer.from(k1), value: Buffer.from('v'), ttlMs: 0, nx: false, xx: false, keepTtl: false } as const;
    const refusedSet = await a.exchange(set);
    expect(refusedSet.status).toBe(Status.MOVED);
    expect(decodeMovedBody(refusedSet.body)).toEqual({ slot: slotOf(k1), node: 1, epoch, name: names[1] });
    // Not executed by worker 0; the owner runs it.
    expect((await a.list('k')).keys).toEqual([]);
    expect((await b.exchange(set)).status).toBe(Status.OK);
    expect(String(await b.get(k1))).toBe('v');
    expect((await a.exchange({ op: 'GET', key: Buffer.from(k1) })).status).toBe(Status.MOVED);
    expect((await a.stats()).moved).toBe(2);
    expect((await b.stats()).group).toEqual({ self: 1, epoch, nodes: names });

    // A restarted worker is given the same group: same names, same epoch.
    process.kill((workers[1] as StartedWorker).pid, 'SIGKILL');
    await until(() => server.logs().some((l) => l.msg === 'worker restarted'), 10_000, 'worker restarted');
    workerPids.add(Number(server.logs().find((l) => l.msg === 'worker restarted')?.pid));
    const again = decodeTopologyBody((await client(portOf(workers[1] as StartedWorker)).exchange({ op: 'TOPOLOGY' })).body);
    expect(again).toMatchObject({ self: 1, epoch, nodes: names });
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 30_000);

  it('a worker that cannot come back (its port taken after it died) is retried while the others serve, until it can', async () => {
    // Attack review of issue 20: three failed restarts used to stop the whole group with exit 1.
    const { server, workers } = await startGroup(['--workers', '2']);
    const victim = workers[1] as StartedWorker;
    process.kill(victim.pid, 'SIGKILL');
    await until(() => !alive(victim.pid), 5_000, 'victim gone');
    const blocker = createServer();
    await new Promise<void>((resolve, reject) => {
      blocker.once('error', reject);
      blocker.listen(portOf(victim), '127.0.0.1', resolve);
    });
    try {
      const retries = (): number => server.logs().filter((l) => l.msg === 'worker failed to start: retrying' && l.worker === 1).length;
      await until(() => retries() >= 4, 15_000, 'four failed restarts');
      expect(server.child.exitCode).toBeNull();
      expect(await client(portOf(workers[0] as StartedWorker)).health()).toBeGreaterThanOrEqual(0);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await until(() => server.logs().some((l) => l.msg === 'worker restarted' && l.worker === 1), 15_000, 'worker restarted');
    const restarted = server.logs().find((l) => l.msg === 'worker restarted') ?? {};
    workerPids.add(Number(restarted.pid));
    expect(await client(portOf(victim)).health()).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a worker killed with SIGKILL is logged and restarted on the same port, serving again', async () => {
    const { server, workers } = await startGroup(['--workers', '2']);
    const victim = workers[1] as StartedWorker;
    process.kill(victim.pid, 'SIGKILL');
    await until(() => server.logs().some((l) => l.msg === 'worker restarted' && l.worker === 1), 10_000, 'worker restarted');
    const died = server.logs().find((l) => l.msg === 'worker exited unexpectedly: restarting it');
    expect(died).toMatchObject({ worker: 1, pid: victim.pid, signal: 'SIGKILL', code: null, ms: 100 });
    const restarted = server.logs().find((l) => l.msg === 'worker restarted') ?? {};
    const pid = Number(restarted.pid);
    workerPids.add(pid);
    expect(pid).not.toBe(victim.pid);
    expect(restarted.node).toBe(victim.name);
    expect(alive(victim.pid)).toBe(false);
    expect(await client(portOf(victim)).health()).toBeGreaterThanOrEqual(0);
    // The other worker never stopped.
    expect(alive((workers[0] as StartedWorker).pid)).toBe(true);
    // A second death in a row (well within a minute) waits twice as long.
    process.kill(pid, 'SIGKILL');
    const restarts = (): Record<string, unknown>[] => server.logs().filter((l) => l.msg === 'worker restarted');
    await until(() => restarts().length === 2, 10_000, 'second restart');
    const again = Number(restarts()[1]?.pid);
    workerPids.add(again);
    expect(server.logs().filter((l) => l.msg === 'worker exited unexpectedly: restarting it').map((l) => [l.pid, l.ms])).toEqual([
      [victim.pid, 100],
      [pid, 200],
    ]);
    expect(await client(portOf(victim)).health()).toBeGreaterThanOrEqual(0);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(alive(again)).toBe(false);
  }, 30_000);

  it('SIGTERM to the primary drains every worker; the primary exits 0 and leaves no process behind', async () => {
    const { server, workers } = await startGroup(['--workers', '2']);
    const c = client(portOf(workers[1] as StartedWorker));
    expect(await c.set(keyOwnedBy(workers.map((w) => w.name), 1), 'y')).toBe(true);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    for (const w of workers) {
      expect(alive(w.pid)).toBe(false);
      expect(server.logs().some((l) => l.msg === 'shutdown complete' && l.worker === w.worker && l.pid === w.pid)).toBe(true);
    }
    expect(server.logs().find((l) => l.msg === 'shutdown complete' && l.worker === undefined)).toMatchObject({ clean: true });
  }, 30_000);

  it('SIGINT (Ctrl-C reaches the whole process group) drains every worker once; exit 0', async () => {
    const { server, workers } = await startGroup(['--workers', '2']);
    for (const w of workers) process.kill(w.pid, 'SIGINT'); // as the terminal does, besides the primary
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(workers.every((w) => !alive(w.pid))).toBe(true);
    expect(server.logs().some((l) => l.msg === 'worker exited unexpectedly: restarting it')).toBe(false);
  }, 30_000);

  it('a primary killed with SIGKILL takes its workers with it: they drain and exit, no orphan serves on', async () => {
    const { server, workers } = await startGroup(['--workers', '2']);
    server.child.kill('SIGKILL');
    await server.exited;
    await until(() => workers.every((w) => !alive(w.pid)), 10_000, 'workers gone');
    const drained = (): number => server.logs().filter((l) => l.msg === 'shutdown complete' && l.worker !== undefined).length;
    await until(() => drained() === 2, 5_000, 'both drains logged');
    expect(server.logs().filter((l) => l.msg === 'shutting down: draining connections').map((l) => l.reason)).toEqual(['primary exited', 'primary exited']);
  }, 30_000);

  it('SHUTDOWN to one worker (with --allow-shutdown) stops the whole group; exit 0', async () => {
    const { server, workers } = await startGroup(['--workers', '2', '--allow-shutdown']);
    await client(portOf(workers[1] as StartedWorker)).exchange({ op: 'SHUTDOWN' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(workers.every((w) => !alive(w.pid))).toBe(true);
    expect(server.logs().find((l) => l.msg === 'shutting down: draining every worker')?.reason).toBe('SHUTDOWN request to worker 1');
  }, 30_000);

  it('--socket P --no-tcp: worker i listens on P.i only, and the group names the socket paths', async () => {
    const socket = join(dir, 'group.sock');
    const server = await startServerProcess(['--workers', '2', '--socket', socket, '--no-tcp'], { timeoutMs: 20_000 });
    const { workers, line } = startLine(server);
    expect(workers.map((w) => w.socket)).toEqual([`${socket}.0`, `${socket}.1`]);
    expect(workers.map((w) => w.address)).toEqual([undefined, undefined]);
    expect(line.group).toMatchObject({ nodes: [`${socket}.0`, `${socket}.1`] });
    for (const w of workers) {
      const c = new ConduitClient({ socket: w.socket });
      clients.push(c);
      expect(await c.health()).toBeGreaterThanOrEqual(0);
    }
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 30_000);

  it('--workers auto starts one worker per available core (at most 64)', async () => {
    const { server, workers } = await startGroup(['--workers', 'auto']);
    const cores = Math.min(64, availableParallelism());
    if (cores === 1) expect(server.logs().find((l) => l.msg === 'conduit-server listening')?.workers).toBeUndefined();
    else expect(workers).toHaveLength(cores);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 30_000);

  it('--workers 1 (the default) is one process as before: no child, no group in the start-up line', async () => {
    for (const args of [['--workers', '1'], []]) {
      const server = await startServerProcess(['--port', '0', ...args]);
      const line = server.logs().find((l) => l.msg === 'conduit-server listening') ?? {};
      expect(line.workers).toBeUndefined();
      expect(line.pid).toBe(server.child.pid);
      const children = spawnSync('ps', ['--ppid', String(server.child.pid), '-o', 'pid=']).stdout.toString().trim();
      expect(children).toBe('');
      expect(await client(server.port).health()).toBeGreaterThanOrEqual(0);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
  }, 30_000);

  it('a worker that cannot listen (its port taken) is retried, then the primary exits 1 with its one-line error', async () => {
    // A port q taken by another listener, with q - 1 free: worker 0 gets q - 1, worker 1 finds q in use.
    let blocker: Server | undefined;
    let q = 0;
    for (let attempt = 0; attempt < 20 && blocker === undefined; attempt++) {
      const s = createServer();
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      q = (s.address() as { port: number }).port;
      const probe = createServer();
      const free = await new Promise<boolean>((resolve) => {
        probe.once('error', () => resolve(false));
        probe.listen(q - 1, '127.0.0.1', () => probe.close(() => resolve(true)));
      });
      if (free) blocker = s;
      else s.close();
    }
    if (blocker === undefined) throw new Error('no free port pair found');
    try {
      const { code, stderr } = await runServerToExit(['--workers', '2', '--port', String(q - 1)], {}, 20_000);
      const lines = stderr.trim().split('\n');
      expect(lines.at(-1)).toBe(`conduit-server: worker 1: cannot listen on 127.0.0.1:${q}: it is already in use`);
      expect(lines.filter((l) => !l.startsWith('{'))).toHaveLength(1);
      const logs = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs.filter((l) => l.msg === 'worker failed to start: retrying').map((l) => l.ms)).toEqual([100, 200]);
      expect(code).toBe(1);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('bad --workers values, from every source, are one-line errors naming where they came from', async () => {
    const file = join(dir, 'workers.toml');
    writeFileSync(file, 'workers = "x"\n');
    await refused(['--workers', '0'], {}, /^conduit-server: --workers must be auto or a whole number from 1 to 64, got '0'\n$/);
    await refused(['--workers', '65'], {}, /^conduit-server: --workers must be auto or a whole number from 1 to 64, got '65'\n$/);
    await refused(['--workers', 'two'], {}, /^conduit-server: --workers must be auto or a whole number from 1 to 64, got 'two'\n$/);
    await refused([], { CONDUIT_WORKERS: 'x' }, /^conduit-server: CONDUIT_WORKERS must be auto or a whole number from 1 to 64, got 'x'\n$/);
    await refused(['--config', file], {}, new RegExp(`^conduit-server: workers in ${file.replaceAll('.', '\\.')} must be auto or a whole number from 1 to 64, got 'x'\\n$`));
  }, 60_000);

  it('a group it cannot run is refused before any worker starts, naming both settings', async () => {
    // 16 shards need 16 KiB a worker; 24 KiB over two leaves 12 KiB each.
    await refused(['--workers', '2', '--max-memory', '24kb'], {}, /^conduit-server: --max-memory 24kb \(24576 bytes\) split over 2 workers \(--workers 2\) leaves 12kb \(12288 bytes\) each, less than the 16kb \(16384 bytes\) one server needs \(1 KiB for each of --shards 16\)\n$/);
    await refused(['--port', '65535'], { CONDUIT_WORKERS: '2' }, /^conduit-server: --port 65535 with CONDUIT_WORKERS 2 needs ports up to 65536, past 65535\n$/);
    await refused(['--workers', '4', '--max-memory', '2mb', '--max-value-size', '1mb'], {}, /^conduit-server: --max-value-size 1mb \(1048576 bytes\) is more than 512kb \(524288 bytes\), each worker's share of --max-memory 2mb \(2097152 bytes\) split over 4 workers \(--workers 4\): no value that large could be stored\n$/);
    // The checks of one server still come first: protected mode.
    await refused(['--workers', '2', '--host', '0.0.0.0', '--port', '0'], {}, /protected mode/);
  }, 60_000);
});
