// Issue 22 (docs/SNAPSHOT.md): warm restart through the real CLI. A `conduit-server --snapshot FILE`
// child is filled over the protocol, stopped (SIGTERM, SHUTDOWN), started again on the same FILE,
// and read back; bad files, keys, the settings' spellings, --workers, STATS and /metrics.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { ConduitClient, decodeI64, encodeRequest, FrameDecoder, ProtocolError, Status, type Frame, type Request } from '../../src/index.js';
import type { SetManyEntry } from '../../src/client/set-many.js';
import { logLine, runServerToExit, startServerProcess, stopServer as stop } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-snapshot-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh snapshot path in the test's directory. */
const snapFile = (): string => join(dir, `cache-${(files += 1)}.snap`);

const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
function client(port: number, discover = false): ConduitClient {
  const c = new ConduitClient({ port, requestTimeoutMs: 60_000, ...(discover ? { discover: true } : {}) });
  clients.push(c);
  return c;
}


/** STATS `snapshot` of the server on `port`. */
async function snapshotStats(port: number): Promise<Record<string, unknown> | null> {
  const c = client(port);
  return (await c.stats()).snapshot as Record<string, unknown> | null;
}

/** Expects exit 1 with exactly one line on stderr matching `message`. */
async function refused(args: string[], env: Record<string, string>, message: RegExp): Promise<string> {
  const { code, stderr } = await runServerToExit(args, env);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(message);
  expect(code).toBe(1);
  return stderr;
}

/**
 * Item i of the big round trip: mixed sizes (0–63 bytes for 60 %, 64–299 for 40 %, 20–60 KiB for
 * every 5,000th) with content derived from i, and a TTL of none, 1 h or 2 h.
 */
function valueOf(i: number): Buffer {
  const length = i % 5000 === 17 ? 20_000 + ((i * 7) % 40_000) : i % 10 < 6 ? i % 64 : 64 + ((i * 13) % 236);
  const value = Buffer.alloc(length, i & 0xff);
  if (length >= 4) value.writeUInt32LE(i, 0);
  return value;
}
const ttlOf = (i: number): number => [0, 3_600_000, 7_200_000][i % 3] ?? 0;
const keyOf = (i: number): string => `item:${i}`;

/** Sets items [from, to) in batches of pipelined quiet SETs. */
async function fill(c: ConduitClient, from: number, to: number, item: (i: number) => SetManyEntry = (i) => [keyOf(i), valueOf(i), { ttlMs: ttlOf(i) }]): Promise<void> {
  const batch = 20_000;
  for (let start = from; start < to; start += batch) {
    const entries: SetManyEntry[] = [];
    for (let i = start; i < Math.min(to, start + batch); i += 1) entries.push(item(i));
    const results = await c.setMany(entries, { quiet: true });
    expect(results.every((r) => r === true)).toBe(true);
  }
}

/**
 * Sends requests `request(i)` for i in [from, to) over one raw socket, at most `window` in flight, and
 * hands each answer to `answer(i, frame)` in order (spec §2.3). The 1M-item test's fill and read-back:
 * about 5 times the pipelined client's rate, whose promise per request is most of the time at 10^6.
 */
async function pipelined(port: number, from: number, to: number, request: (i: number) => Request, answer: (i: number, frame: Frame) => void, window = 4_096): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder({ direction: 'response' });
  let next = from;
  let done = from;
  try {
    await new Promise<void>((resolve, reject) => {
      const send = (): void => {
        const parts: Buffer[] = [];
        const end = Math.min(to, done + window);
        for (; next < end; next += 1) parts.push(...encodeRequest(BigInt(next + 1), request(next)));
        if (parts.length > 0) socket.write(Buffer.concat(parts));
      };
      socket.on('data', (chunk: Buffer) => {
        decoder.push(chunk);
        for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
          if (item instanceof ProtocolError) return reject(item);
          answer(done, item);
          done += 1;
        }
        if (done === to) resolve();
        else if (next - done <= window / 2) send();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`connection closed after ${done - from} of ${to - from} answers`)));
      socket.once('connect', send);
    });
  } finally {
    socket.destroy();
  }
}

/** Runs `task(i)` for i in [from, to), `parallel` at a time (a pipelined client keeps them in flight). */
async function each(from: number, to: number, task: (i: number) => Promise<void>, parallel = 2_000): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < to) {
        const i = next;
        next += 1;
        await task(i);
      }
    }),
  );
}

describe('a SIGTERM and a restart keep the store (docs/SNAPSHOT.md)', () => {
  it('1,000,000 items of mixed sizes and TTLs come back byte for byte, with their TTLs and versions; short TTLs that ran out while down are gone', async () => {
    const file = snapFile();
    const args = ['--port', '0', '--max-memory', '320mb', '--snapshot', file];
    const first = await startServerProcess(args, { timeoutMs: 20_000 });
    const n = 1_000_000;
    const c = client(first.port);
    const fillStart = Date.now();
    let notStored = 0;
    await pipelined(
      first.port,
      0,
      n,
      (i) => ({ op: 'SET', key: Buffer.from(keyOf(i)), value: valueOf(i), ttlMs: ttlOf(i), nx: false, xx: false, keepTtl: false }),
      (_i, frame) => void (frame.opcode !== Status.OK && (notStored += 1)),
    );
    const fillEnd = Date.now();
    expect(notStored).toBe(0);
    // Versions of a sample, to check that they are kept (spec §3.11).
    const versions = new Map<number, bigint>();
    await each(0, n / 1000, async (j) => {
      const i = j * 1000 + 3;
      versions.set(i, (await c.getWithVersion(keyOf(i)))?.version ?? -1n);
    });
    // Short TTLs, set last: they run out before the server is up again.
    const shortTtlMs = 1_000;
    const shortSetAt = Date.now();
    await fill(c, 0, 1_000, (i) => [`short:${i}`, Buffer.from(`s${i}`), { ttlMs: shortTtlMs }] as const);
    await c.close();
    expect(await stop(first)).toBe(0);
    const saved = logLine(first, /saved at shutdown/);
    expect(saved).toMatchObject({ file });
    expect(saved?.items).toBeGreaterThanOrEqual(n);
    // Down at least until every short TTL has run out.
    const wait = shortSetAt + shortTtlMs + 100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    const second = await startServerProcess(args, { timeoutMs: 60_000 });
    expect(logLine(second, /loaded: /)).toMatchObject({ file, result: 'loaded', loaded: n });
    const r = client(second.port);
    const stats = await r.stats();
    expect(stats.curr_items).toBe(n);
    expect(stats.snapshot).toMatchObject({ last_load: { result: 'loaded', loaded: n, evicted: 0, skipped: 0 } });
    let wrong = 0;
    let firstWrong = -1;
    await pipelined(
      second.port,
      0,
      n,
      (i) => ({ op: 'GET', key: Buffer.from(keyOf(i)) }),
      (i, frame) => {
        if (frame.opcode !== Status.OK || !frame.body.equals(valueOf(i))) {
          wrong += 1;
          if (firstWrong === -1) firstWrong = i;
        }
      },
    );
    expect({ wrong, firstWrong }).toEqual({ wrong: 0, firstWrong: -1 });
    // TTLs: an item set in [fillStart, fillEnd] with TTL t expires at E in [fillStart + t, fillEnd + t] (wall
    // clock, kept as such in the file); asked in [asked, answered], its remaining time is E minus then, within
    // a second of rounding. Every 10th item; -1: no expiry.
    const ttls = new Float64Array(n / 10);
    const asked = Date.now();
    await pipelined(
      second.port,
      0,
      n / 10,
      (j) => ({ op: 'TTL', key: Buffer.from(keyOf(j * 10 + (j % 3))) }),
      (j, frame) => void (ttls[j] = frame.opcode === Status.OK ? Number(decodeI64(frame.body) as bigint) : -2),
    );
    const answered = Date.now();
    let ttlWrong = 0;
    for (let j = 0; j < n / 10; j += 1) {
      const set = ttlOf(j * 10 + (j % 3));
      const ttl = ttls[j] ?? -2;
      const ok = set === 0 ? ttl === -1 : ttl >= fillStart + set - answered - 1_000 && ttl <= fillEnd + set - asked + 1_000;
      if (!ok) ttlWrong += 1;
    }
    expect(ttlWrong).toBe(0);
    for (const [i, version] of versions) expect((await r.getWithVersion(keyOf(i)))?.version).toBe(version);
    let shortLeft = 0;
    await each(0, 1_000, async (i) => void ((await r.get(`short:${i}`)) !== undefined && (shortLeft += 1)));
    expect(shortLeft).toBe(0);
    // A write after the restart gets a version above every loaded one (spec §3.11).
    await r.set('after', 'x');
    expect((await r.getWithVersion('after'))?.version).toBeGreaterThan([...versions.values()].reduce((a, b) => (a > b ? a : b)));
    expect(await stop(second)).toBe(0);
  }, 240_000);

  it('into a smaller --max-memory, the most recently used items are kept: a subset read before the stop survives, the least recently used go', async () => {
    const file = snapFile();
    const first = await startServerProcess(['--port', '0', '--max-memory', '64mb', '--snapshot', file]);
    const c = client(first.port);
    const n = 40_000;
    const value = (i: number): Buffer => Buffer.alloc(1000, i & 0xff);
    await fill(c, 0, n, (i) => [keyOf(i), value(i)] as const);
    // Read the oldest 4,000 (written first): they become the most recently used.
    const subset = 4_000;
    await each(0, subset, async (i) => void expect((await c.get(keyOf(i)))?.equals(value(i))).toBe(true));
    await c.close();
    expect(await stop(first)).toBe(0);

    const second = await startServerProcess(['--port', '0', '--max-memory', '16mb', '--snapshot', file]);
    const r = client(second.port);
    const kept: boolean[] = new Array<boolean>(n).fill(false);
    await each(0, n, async (i) => {
      const got = await r.get(keyOf(i));
      if (got !== undefined) {
        expect(got.equals(value(i))).toBe(true);
        kept[i] = true;
      }
    });
    const stats = (await r.stats()).snapshot as { last_load: { loaded: number; evicted: number } };
    const keptCount = kept.filter(Boolean).length;
    expect(keptCount).toBeGreaterThan(subset); // 16 MiB holds more than the subset
    expect(keptCount).toBeLessThan(n / 2);
    expect(stats.last_load.evicted).toBeGreaterThan(0);
    // Every item of the recently read subset is back.
    expect(kept.slice(0, subset).filter((k) => !k)).toHaveLength(0);
    // Of the rest (written in key order, never read again), the kept ones are the newest: the missing
    // ones are the least recently used. Allow the order's bucket tolerance (docs/SNAPSHOT.md "Order").
    const restKept = kept.map((k, i) => (i >= subset && k ? i : -1)).filter((i) => i >= 0);
    const oldestKept = Math.min(...restKept);
    const missingAfter = kept.slice(oldestKept).filter((k) => !k).length;
    expect(missingAfter).toBeLessThanOrEqual(Math.ceil(n / 1000));
    expect(await stop(second)).toBe(0);
  }, 120_000);

  it('an allowed SHUTDOWN saves too; STATS and /metrics show the last save and load', async () => {
    const file = snapFile();
    const args = ['--port', '0', '--snapshot', file, '--allow-shutdown', '--http-port', '0', '--snapshot-interval', '1s'];
    const first = await startServerProcess(args);
    const c = client(first.port);
    await fill(c, 0, 1_000, (i) => [keyOf(i), valueOf(i)] as const);
    // The periodic save (every second) shows in STATS.
    const deadline = performance.now() + 20_000;
    let stats = await snapshotStats(first.port);
    while (((stats?.saves as number | undefined) ?? 0) < 1 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await snapshotStats(first.port);
    }
    expect(stats).toMatchObject({ file, interval_ms: 1000, save_failures: 0, last_load: { result: 'missing', loaded: 0 } });
    expect(stats?.last_save).toMatchObject({ items: expect.any(Number), bytes: expect.any(Number), duration_ms: expect.any(Number), longest_slice_ms: expect.any(Number) });
    const http = String(first.logs().find((l) => l.msg === 'conduit-server listening')?.http);
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    expect(metrics).toMatch(/^conduit_snapshot_saves_total [1-9]/m);
    expect(metrics).toMatch(/^conduit_snapshot_save_failures_total 0$/m);
    expect(metrics).toMatch(/^conduit_snapshot_last_save_timestamp_seconds [1-9]/m);
    expect(metrics).toMatch(/^conduit_snapshot_last_load_result\{result="missing"\} 1$/m);
    const raw = await RawClient.connect(first.port);
    raw.write(Buffer.concat(encodeRequest(1n, { op: 'SHUTDOWN' })));
    await raw.waitFrames(1);
    expect(raw.frames[0]?.opcode).toBe(Status.OK);
    raw.destroy();
    expect((await first.exited).code).toBe(0);
    expect(logLine(first, /saved at shutdown/)).toMatchObject({ items: 1_000 });

    const second = await startServerProcess(args);
    const loaded = await snapshotStats(second.port);
    expect(loaded).toMatchObject({ saves: 0, last_save: null, last_load: { result: 'loaded', loaded: 1_000, records: 1_000, expired: 0 } });
    expect((loaded?.last_load as { time: number }).time).toBeGreaterThan(Date.now() - 120_000);
    const http2 = String(second.logs().find((l) => l.msg === 'conduit-server listening')?.http);
    const metrics2 = await (await fetch(`http://${http2}/metrics`)).text();
    expect(metrics2).toMatch(/^conduit_snapshot_last_load_items 1000$/m);
    expect(metrics2).toMatch(/^conduit_snapshot_last_load_result\{result="loaded"\} 1$/m);
    expect(metrics2).not.toMatch(/result="missing"/);
    expect((await client(second.port).get(keyOf(999)))?.equals(valueOf(999))).toBe(true);
    expect(await stop(second)).toBe(0);
  }, 60_000);

  it('a save at shutdown that fails (the disk is full: EFBIG under ulimit -f) exits 1 with one error line, and FILE is the previous snapshot', async () => {
    const file = snapFile();
    // With an interval the loaded file stays (crash recovery); without one it is used once, removed
    // when the server listens (docs/SNAPSHOT.md §Loading), and a failed shutdown save leaves none.
    const args = ['--port', '0', '--snapshot', file, '--snapshot-interval', '1h'];
    const first = await startServerProcess(args);
    await fill(client(first.port), 0, 100, (i) => [keyOf(i), valueOf(i)] as const);
    expect(await stop(first)).toBe(0);
    // 2 MiB per file: the first save (about 10 KB) fits, the next (4 MB) does not.
    const full = await startServerProcess(args, { fileSizeKib: 2048 });
    await fill(client(full.port), 100, 200, (i) => [keyOf(i), Buffer.alloc(40_000, i & 0xff)] as const);
    expect(await stop(full)).toBe(1);
    const errors = full.logs().filter((l) => Number(l.level) >= 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.msg)).toMatch(new RegExp(`^shutdown failed: .*${file}.*EFBIG`));
    expect(full.logs().some((l) => /saved at shutdown/.test(String(l.msg)))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${file.split('/').at(-1) ?? ''}.tmp-`))).toEqual([]);
    const after = await startServerProcess(args);
    expect(logLine(after, /loaded: /)).toMatchObject({ loaded: 100 });
    expect((await client(after.port).get(keyOf(99)))?.equals(valueOf(99))).toBe(true);
    expect(await client(after.port).get(keyOf(100))).toBeUndefined();
    expect(await stop(after)).toBe(0);
  }, 60_000);

  it('STATS snapshot is null without --snapshot', async () => {
    const server = await startServerProcess(['--port', '0']);
    expect(await snapshotStats(server.port)).toBeNull();
    expect(await stop(server)).toBe(0);
  });
});

describe('bad files (docs/SNAPSHOT.md "Bad files")', () => {
  it('--snapshot-strict with a corrupt file: exit 1, one line naming the file, the file left in place', async () => {
    const file = snapFile();
    writeFileSync(file, Buffer.alloc(4096, 0x78));
    const stderr = await refused(['--port', '0', '--snapshot', file, '--snapshot-strict'], {}, /snapshot-strict/);
    expect(stderr).toContain(file);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${file.split('/').at(-1)}`))).toEqual([file.split('/').at(-1)]);
  });

  it('without strict: starts empty, the file renamed to FILE.corrupt-<time>, one warn line', async () => {
    const file = snapFile();
    writeFileSync(file, Buffer.alloc(4096, 0x78));
    const server = await startServerProcess(['--port', '0', '--snapshot', file]);
    const warn = logLine(server, /is corrupt|cannot be/);
    expect(warn?.level).toBe(40);
    expect(existsSync(file)).toBe(false);
    const base = file.split('/').at(-1) ?? '';
    const aside = readdirSync(dir).filter((f) => f.startsWith(`${base}.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/\.corrupt-\d{8}T\d{6}Z$/);
    expect(String(warn?.msg)).toContain(join(dir, aside[0] ?? ''));
    expect((await client(server.port).stats()).curr_items).toBe(0);
    expect(await snapshotStats(server.port)).toMatchObject({ last_load: { result: 'corrupt', loaded: 0 } });
    expect(await stop(server)).toBe(0);
  });

  it('leftover FILE.tmp-<pid> files are removed at start', async () => {
    const file = snapFile();
    writeFileSync(`${file}.tmp-2147483001`, 'half a save'); // no process has that pid (above the kernel's largest)
    writeFileSync(`${file}.tmp-notes`, 'not ours');
    const server = await startServerProcess(['--port', '0', '--snapshot', file]);
    expect(existsSync(`${file}.tmp-2147483001`)).toBe(false);
    expect(existsSync(`${file}.tmp-notes`)).toBe(true);
    expect(await stop(server)).toBe(0);
  });

  it('sealed with CONDUIT_SNAPSHOT_KEY: round trip; another key is one clear line (strict: exit 1; else moved aside)', async () => {
    const file = snapFile();
    const key = randomBytes(32).toString('base64');
    const first = await startServerProcess(['--port', '0', '--snapshot', file], { env: { CONDUIT_SNAPSHOT_KEY: key } });
    const started = first.logs().find((l) => l.msg === 'conduit-server listening') as { settings: { snapshot: unknown } };
    expect(started.settings.snapshot).toEqual({ file, interval: 0, strict: false, sealed: true });
    await fill(client(first.port), 0, 100, (i) => [keyOf(i), valueOf(i)] as const);
    expect(await stop(first)).toBe(0);
    expect(first.stderr()).not.toContain(key);

    const again = await startServerProcess(['--port', '0', '--snapshot', file], { env: { CONDUIT_SNAPSHOT_KEY: key } });
    expect((await client(again.port).get(keyOf(42)))?.equals(valueOf(42))).toBe(true);
    expect(await stop(again)).toBe(0);

    const other = randomBytes(32).toString('base64');
    const stderr = await refused(['--port', '0', '--snapshot', file, '--snapshot-strict'], { CONDUIT_SNAPSHOT_KEY: other }, /key/i);
    expect(stderr).toContain(file);
    expect(stderr).not.toContain(other);
    expect(existsSync(file)).toBe(true);
    const wrong = await startServerProcess(['--port', '0', '--snapshot', file], { env: { CONDUIT_SNAPSHOT_KEY: other } });
    expect(logLine(wrong, /key/)?.level).toBe(40);
    expect(await snapshotStats(wrong.port)).toMatchObject({ last_load: { result: 'wrong_key' } });
    expect(await stop(wrong)).toBe(0);
  });

  it('secure mode without --snapshot-key: one warn line that the file holds values in the clear', async () => {
    const key = `app:${randomBytes(32).toString('base64')}`;
    const file = snapFile();
    const server = await startServerProcess(['--port', '0', '--snapshot', file], { env: { CONDUIT_KEY: key } });
    expect(server.logs().filter((l) => l.level === 40 && /in the clear/.test(String(l.msg)))).toHaveLength(1);
    expect(await stop(server)).toBe(0);
    const sealed = await startServerProcess(['--port', '0', '--snapshot', file], { env: { CONDUIT_KEY: key, CONDUIT_SNAPSHOT_KEY: randomBytes(32).toString('base64') } });
    expect(sealed.logs().filter((l) => /in the clear/.test(String(l.msg)))).toHaveLength(0);
    expect(await stop(sealed)).toBe(0);
  });
});

describe('settings: flags, CONDUIT_SNAPSHOT* and the config file', () => {
  const settingsOf = async (args: string[], env: Record<string, string> = {}): Promise<unknown> => {
    const server = await startServerProcess(['--port', '0', ...args], { env });
    const line = server.logs().find((l) => l.msg === 'conduit-server listening') as { settings: { snapshot?: unknown } };
    expect(await stop(server)).toBe(0);
    return line.settings.snapshot;
  };

  it('CONDUIT_SNAPSHOT, CONDUIT_SNAPSHOT_INTERVAL=5s; CONDUIT_SNAPSHOT_STRICT=false leaves it off', async () => {
    const file = snapFile();
    expect(await settingsOf([], { CONDUIT_SNAPSHOT: file, CONDUIT_SNAPSHOT_INTERVAL: '5s', CONDUIT_SNAPSHOT_STRICT: 'false' })).toEqual({
      file,
      interval: 5000,
      strict: false,
      sealed: false,
    });
    expect(await settingsOf([], { CONDUIT_SNAPSHOT: file, CONDUIT_SNAPSHOT_STRICT: 'yes' })).toMatchObject({ strict: true });
    expect(await settingsOf([])).toBeUndefined();
  });

  it('the config file: snapshot, snapshot-interval, snapshot-strict', async () => {
    const file = snapFile();
    const toml = join(dir, 'snap.toml');
    writeFileSync(toml, `snapshot = "${file}"\nsnapshot-interval = "2m"\nsnapshot-strict = true\n`);
    expect(await settingsOf(['--config', toml])).toEqual({ file, interval: 120_000, strict: true, sealed: false });
  });

  it('bad values are one line naming the flag, variable or file setting (never echoing a key)', async () => {
    const file = snapFile();
    await refused(['--snapshot', file], { CONDUIT_SNAPSHOT_INTERVAL: '500ms' }, /^conduit-server: CONDUIT_SNAPSHOT_INTERVAL must be 0 \(off\) or at least 1000 ms, got '500ms'\n$/);
    await refused(['--snapshot', file, '--snapshot-interval', 'often'], {}, /--snapshot-interval/);
    await refused(['--snapshot', file], { CONDUIT_SNAPSHOT_STRICT: 'maybe' }, /CONDUIT_SNAPSHOT_STRICT must be true/);
    const notBase64 = 'not*base64*at*all';
    expect(await refused(['--snapshot', file], { CONDUIT_SNAPSHOT_KEY: notBase64 }, /CONDUIT_SNAPSHOT_KEY must be base64/)).not.toContain(notBase64);
    const short = randomBytes(16).toString('base64');
    expect(await refused(['--snapshot', file, '--snapshot-key', short], {}, /--snapshot-key must be 32 bytes in base64.*got 16 bytes/)).not.toContain(short);
    const toml = join(dir, 'bad.toml');
    writeFileSync(toml, `snapshot = "${file}"\nsnapshot-interval = "0.5s"\n`);
    await refused(['--config', toml], {}, new RegExp(`snapshot-interval in ${toml}`));
    await refused(['--snapshot', join(dir, 'no-such-dir', 'c.snap')], {}, /--snapshot .*directory .*no-such-dir does not exist/);
    await refused(['--snapshot-interval', '5s'], {}, /--snapshot-interval needs --snapshot/);
    await refused([], { CONDUIT_SNAPSHOT_STRICT: 'true' }, /CONDUIT_SNAPSHOT_STRICT needs --snapshot/);
    await refused([], { CONDUIT_SNAPSHOT_KEY: randomBytes(32).toString('base64') }, /CONDUIT_SNAPSHOT_KEY needs --snapshot/);
  });
});

describe('--workers 2', () => {
  it('each worker saves FILE.<i> at shutdown and loads it at the next start', async () => {
    const file = snapFile();
    // The same addresses at both starts: the slot map comes from the workers' names (spec §3.14), so a
    // worker owns the same keys again. Sockets PATH.<i> have fixed names; TCP would need two fixed ports.
    const socket = join(dir, `w${files}.sock`);
    const args = ['--no-tcp', '--socket', socket, '--workers', '2', '--snapshot', file];
    const first = await startServerProcess(args, { timeoutMs: 20_000 });
    const line = first.logs().find((l) => l.msg === 'conduit-server listening') as { settings: { snapshot: unknown } };
    expect(line.settings.snapshot).toMatchObject({ file: `${file}.<i>`, files: [`${file}.0`, `${file}.1`] });
    const c = new ConduitClient({ socket: `${socket}.0`, discover: true });
    clients.push(c);
    for (let i = 0; i < 500; i += 1) await c.set(keyOf(i), valueOf(i));
    await c.close();
    expect(await stop(first)).toBe(0);
    expect(existsSync(`${file}.0`)).toBe(true);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(file)).toBe(false);

    const second = await startServerProcess(args, { timeoutMs: 20_000 });
    const loads = second.logs().filter((l) => l.result === 'loaded');
    expect(loads.map((l) => l.file).sort()).toEqual([`${file}.0`, `${file}.1`]);
    expect(loads.every((l) => Number(l.loaded) > 0)).toBe(true);
    expect(loads.reduce((sum, l) => sum + Number(l.loaded), 0)).toBe(500);
    const r = new ConduitClient({ socket: `${socket}.1`, discover: true });
    clients.push(r);
    for (let i = 0; i < 500; i += 1) expect((await r.get(keyOf(i)))?.equals(valueOf(i))).toBe(true);
    await r.close();
    expect(await stop(second)).toBe(0);
  }, 60_000);
});
