// ConduitClient.getOrSet over real servers (spec §3.16, protocol 1.3): one compute for a
// herd of callers in five processes, a dead lease holder taken over after leaseMs, stale
// sets that lose to newer changes, staleWhileRevalidate, waitMs, options, a server
// without leases, and a pool. Child processes run the built package (npm run build
// first, as npm test does), are bounded in time and killed by pid at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, encodeRequest, encodeResponse, LeaseState, Status, type Request } from '../../src/index.js';
import { fakeServer } from '../support/fake-server.js';
import { rawClient, startServer } from '../support/server.js';

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const secret = { id: 'gos', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
});

async function client(port: number, extra: object = {}): Promise<ConduitClient> {
  const c = new ConduitClient({ port, ...extra });
  clients.push(c);
  await c.connect();
  return c;
}

/** A promise and its resolver, to hold a compute open while the test acts. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Spawns `node -e code` on the built package, its stdout lines handed to `onLine`; killed after `limitMs`. */
function child(code: string, env: Record<string, string>, onLine: (line: string) => void, limitMs = 30_000): { process: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, DIST: dist, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let buffered = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, at));
      buffered = buffered.slice(at + 1);
    }
  });
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => process.kill(proc.pid as number, 'SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (exitCode) => (clearTimeout(timer), resolve(exitCode))));
  return { process: proc, exited, stderr: () => stderr };
}

// One process of the herd: connects, says ready, waits for "go" on stdin, then runs 100 concurrent
// getOrSet on the one key and reports how many times its compute ran and what the callers got.
const HERD = `
const { ConduitClient } = await import(process.env.DIST);
const c = new ConduitClient({ port: Number(process.env.PORT) });
await c.connect();
let computes = 0;
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy(); // nothing more comes: let the process exit once its client closes
const compute = async () => { computes += 1; await new Promise((r) => setTimeout(r, 200)); return 'computed by ' + process.pid; };
const values = await Promise.all(Array.from({ length: 100 }, () => c.getOrSet(process.env.KEY, compute, { leaseMs: 10000, waitMs: 20000 })));
process.stdout.write(JSON.stringify({ computes, values: [...new Set(values.map(String))] }) + '\\n');
await c.close();
`;

// A lease holder that takes the lease over a raw socket, says its token, and then never sets: killed -9 by the test.
// Its lease_ms (60 s) outlasts the test: the survivor gets the key only because the holder's close ends its lease.
const HOLDER = `
const { connect } = await import('node:net');
const { decodeLeaseAnswer, encodeRequest, FrameDecoder } = await import(process.env.DIST);
const socket = connect({ host: '127.0.0.1', port: Number(process.env.PORT) });
const decoder = new FrameDecoder({ direction: 'response' });
socket.on('data', (chunk) => {
  decoder.push(chunk);
  const frame = decoder.read();
  if (frame === undefined || frame instanceof Error) return;
  const answer = decodeLeaseAnswer(frame.body);
  process.stdout.write(JSON.stringify({ state: answer.state, token: String(answer.token) }) + '\\n');
});
socket.write(Buffer.concat(encodeRequest(1n, { op: 'LEASE', key: Buffer.from(process.env.KEY), leaseMs: 60000, staleOk: false })));
setInterval(() => {}, 1000); // holds the lease until killed
`;

describe('getOrSet across processes (spec §3.16)', () => {
  it('5 processes × 100 concurrent getOrSet on one cold key run compute exactly once', async () => {
    const { port } = await startServer();
    const key = `cold:${process.pid}`;
    const ready: Promise<void>[] = [];
    const reports: Promise<{ computes: number; values: string[] }>[] = [];
    const herd = Array.from({ length: 5 }, () => {
      const up = gate();
      const report = gate<{ computes: number; values: string[] }>();
      ready.push(up.promise);
      reports.push(report.promise);
      return child(HERD, { PORT: String(port), KEY: key }, (line) => (line === 'ready' ? up.open() : report.open(JSON.parse(line))));
    });
    await Promise.race([Promise.all(ready), Promise.all(herd.map((h) => h.exited)).then(() => Promise.reject(new Error(herd.map((h) => h.stderr()).join('\n'))))]);
    for (const h of herd) h.process.stdin?.write('go\n');
    const results = await Promise.race([Promise.all(reports), Promise.all(herd.map((h) => h.exited)).then(() => Promise.reject(new Error(herd.map((h) => h.stderr()).join('\n'))))]);
    expect(results.reduce((sum, r) => sum + r.computes, 0)).toBe(1);
    const stored = (await (await client(port)).get(key))?.toString();
    expect(stored).toMatch(/^computed by \d+$/);
    for (const r of results) expect(r.values).toEqual([stored]); // every caller of every process got the one value
    expect(await Promise.all(herd.map((h) => h.exited))).toEqual([0, 0, 0, 0, 0]);
  }, 60_000);

  it('a lease holder killed before it sets: its lease ends with its connection, the key is taken over; its token, replayed, is NOT_STORED', async () => {
    const { port, server } = await startServer();
    const key = 'orphan';
    const said = gate<{ state: number; token: string }>();
    const holder = child(HOLDER, { PORT: String(port), KEY: key }, (line) => said.open(JSON.parse(line)));
    const { state, token } = await said.promise;
    expect(state).toBe(LeaseState.GRANTED);
    const c = await client(port);
    let computes = 0;
    const taken = c.getOrSet(key, () => ((computes += 1), 'from the survivor'), { leaseMs: 300, waitMs: 5_000 });
    process.kill(holder.process.pid as number, 'SIGKILL');
    expect(await holder.exited).toBeNull(); // killed, never set
    expect((await taken).toString()).toBe('from the survivor');
    expect(computes).toBe(1);
    expect((await c.get(key))?.toString()).toBe('from the survivor');
    // The dead holder's token over a raw socket: its lease ended at its close and was taken over, so its set loses.
    const raw = await rawClient(port);
    const replay: Request = { op: 'SET', key: Buffer.from(key), value: Buffer.from('from the dead'), ttlMs: 0, nx: false, xx: false, keepTtl: false, leaseToken: BigInt(token) };
    raw.write(Buffer.concat(encodeRequest(1n, replay)));
    await raw.waitFrames(1);
    expect(raw.frames[0]?.opcode).toBe(Status.NOT_STORED);
    expect((await c.get(key))?.toString()).toBe('from the survivor');
    expect(server.leases.stats()).toMatchObject({ outstanding: 0, granted: 2, expired: 0, revoked: 1, fulfilled: 1, refused: 1 });
  }, 30_000);
});

describe.each([
  ['plaintext', false],
  ['secure mode', true],
] as const)('getOrSet, %s (spec §3.16)', (_name, secure) => {
  const start = async (): Promise<{ port: number; c: ConduitClient; other: ConduitClient }> => {
    const { port } = await startServer(secure ? { keys: [secret] } : {});
    const extra = secure ? { key: secret } : {};
    return { port, c: await client(port, extra), other: await client(port, extra) };
  };

  it('computes on a miss, stores with ttlMs, and reads the stored value after', async () => {
    const { c } = await start();
    let computes = 0;
    const compute = async (): Promise<string> => ((computes += 1), 'fresh');
    expect((await c.getOrSet('k', compute, { ttlMs: 60_000 })).toString()).toBe('fresh');
    expect((await c.getOrSet('k', compute)).toString()).toBe('fresh');
    expect(computes).toBe(1);
    expect(await c.ttl('k')).toBeGreaterThan(50_000);
  });

  it('a stale set loses: a DELETE or a plain SET while the holder computes wins, and the holder still gets its value', async () => {
    const { c, other } = await start();
    for (const change of ['delete', 'set'] as const) {
      const key = `raced:${change}`;
      const computing = gate();
      const release = gate<string>();
      const held = c.getOrSet(key, async () => (computing.open(), release.promise));
      await computing.promise; // the holder has its lease and computes
      if (change === 'delete') await other.delete(key);
      else await other.set(key, 'newer');
      release.open('computed from old data');
      expect((await held).toString()).toBe('computed from old data');
      expect((await other.get(key))?.toString()).toBe(change === 'delete' ? undefined : 'newer');
    }
  });

  it('staleWhileRevalidate callers get the previous value while the holder computes; others wait for the new one', async () => {
    const { c, other } = await start();
    await c.getOrSet('profile', () => 'v1'); // filled by a lease set, so its value is kept when deleted
    await other.delete('profile'); // e.g. the database changed
    const computing = gate();
    const release = gate<string>();
    const holder = c.getOrSet('profile', async () => (computing.open(), release.promise));
    await computing.promise;
    expect((await other.getOrSet('profile', () => 'never', { staleWhileRevalidate: true })).toString()).toBe('v1');
    const waiter = other.getOrSet('profile', () => 'never either');
    release.open('v2');
    expect((await holder).toString()).toBe('v2');
    expect((await waiter).toString()).toBe('v2');
  });

  it('WAIT past waitMs rejects TIMEOUT; a compute that throws rejects with its error', async () => {
    const { c, other } = await start();
    const computing = gate();
    const held = c.getOrSet('slow', async () => (computing.open(), new Promise<string>(() => {})), { leaseMs: 60_000 });
    void held.catch(() => {});
    await computing.promise;
    const err = await other.getOrSet('slow', () => 'x', { waitMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConduitError);
    expect((err as ConduitError).code).toBe('TIMEOUT');
    expect((err as ConduitError).message).toMatch(/waitMs/);
    const boom = new Error('database down');
    await expect(c.getOrSet('broken', () => Promise.reject(boom))).rejects.toBe(boom);
  });
});

describe('getOrSet options, old servers and pools', () => {
  it('validates its options with messages naming the option', async () => {
    const { port } = await startServer();
    const c = await client(port);
    await expect(c.getOrSet('k', () => 'v', { leaseMs: 0 })).rejects.toThrow(/leaseMs option/);
    await expect(c.getOrSet('k', () => 'v', { ttlMs: -1 })).rejects.toThrow(/ttlMs option/);
    await expect(c.getOrSet('k', () => 'v', { waitMs: Number.NaN })).rejects.toThrow(/waitMs option/);
    await expect(c.getOrSet('k', () => 'v', { staleWhileRevalidate: 'yes' as unknown as boolean })).rejects.toThrow(/staleWhileRevalidate option/);
    await expect(c.getOrSet('k', 'v' as unknown as () => string)).rejects.toThrow(/compute must be a function/);
    await expect(c.getOrSet('k', () => 42 as unknown as string)).rejects.toThrow(/compute result must be/);
  });

  it('a server without leases (before protocol 1.3) rejects UNKNOWN_OPCODE naming the feature', async () => {
    const port = await fakeServer((frame, socket) => socket.write(Buffer.concat(encodeResponse(frame.id, Status.UNKNOWN_OPCODE, Buffer.from('unknown opcode 0x13')))));
    const c = await client(port);
    const err = await c.getOrSet('k', () => 'v').catch((e: unknown) => e);
    expect((err as ConduitError).code).toBe('UNKNOWN_OPCODE');
    expect((err as ConduitError).message).toMatch(/Feature\.LEASES/);
  });

  it('in a pool, each key goes to its own server', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const names = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
    const pool = new ConduitClient({ servers: names });
    clients.push(pool);
    for (let i = 0; i < 20; i += 1) await pool.getOrSet(`pk:${i}`, () => `v${i}`);
    for (let i = 0; i < 20; i += 1) {
      const owner = pool.serverFor(`pk:${i}`) === names[0] ? a : b;
      const elsewhere = owner === a ? b : a;
      expect(owner.server.store.get(Buffer.from(`pk:${i}`))?.toString()).toBe(`v${i}`);
      expect(elsewhere.server.store.get(Buffer.from(`pk:${i}`))).toBeUndefined();
    }
    expect(a.server.leases.stats().fulfilled + b.server.leases.stats().fulfilled).toBe(20);
  });
});
