// Scenario 20 (issue 22): kill during save. A conduit-server with
// `--snapshot FILE --snapshot-interval 1s` under a write load (one pipelining
// client writing known keys and values) is killed with SIGKILL at random
// points of its periodic saves (when its FILE.tmp-<pid> exists, after a
// random part of the last save's duration), and restarted on the same FILE
// each time: every start must load the previous or the new snapshot, never a
// broken one (result `loaded` once a save has finished, no FILE.corrupt-*,
// every key holding a value that was written for it, the item count never
// going down: no key is ever deleted). Then a SIGTERM round trip: the save
// after the drain is exact, so every item comes back byte for byte.
// Quick (npm test): 5 kills, 2,500 keys; full (npx just chaos): 50 kills, 30,000 keys.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Status } from '../../../src/index.js';
import type { ServerProcess } from '../../support/cli.js';
import { RawClient } from '../../support/raw-client.js';
import { b, count, frame, pidOf, serve, setRequest, sleep, until, type Findings, type Scenario, type Size } from '../harness.js';

/** Bytes of key `i`'s values: 64 B to about 4 KiB, ~2 KiB on average. */
const sizeOf = (i: number): number => 64 + ((i * 7919) % 4000);

/** The value of key `i` written in round `gen`: `i:gen:` then bytes that depend on both, to its full size. */
function valueOf(i: number, gen: number): Buffer {
  const value = Buffer.alloc(sizeOf(i));
  const head = value.write(`${i}:${gen}:`, 'latin1');
  for (let j = head; j < value.length; j += 1) value[j] = (i + gen * 31 + j) & 0xff;
  return value;
}

/** The round that wrote `value` for key `i`, or -1 when it is no value ever written for it (torn, foreign, or of another key). */
function genOf(i: number, value: Buffer, rounds: number): number {
  const match = /^(\d+):(\d+):/.exec(value.subarray(0, 24).toString('latin1'));
  if (match === null || Number(match[1]) !== i) return -1;
  const gen = Number(match[2]);
  return gen <= rounds && valueOf(i, gen).equals(value) ? gen : -1;
}

const keyOf = (i: number): Buffer => b(`snap-${i}`);

/**
 * Writes every key once with round `gen`'s value, then overwrites random
 * keys until stopped or the connection drops (the kill); each window of
 * `window` SETs is sent at once and its answers awaited.
 */
class Writer {
  sets = 0;
  /** Answers other than OK: none expected. */
  refused = 0;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(readonly raw: RawClient, keys: number, gen: number, window = 128) {
    this.done = this.#loop(keys, gen, window);
  }

  async #loop(keys: number, gen: number, window: number): Promise<void> {
    const c = this.raw;
    let next = 0;
    while (!this.#stopped && !c.closed) {
      const batch: Buffer[] = [];
      for (let k = 0; k < window; k += 1) {
        const i = next < keys ? next++ : Math.floor(Math.random() * keys);
        batch.push(frame(k, setRequest(keyOf(i), valueOf(i, gen))));
      }
      c.frames.length = 0;
      c.write(batch);
      // The kill closes the connection: the loop ends there, with the answers it got.
      await c.until(() => c.frames.length >= window || c.closed, 10_000, `${window} answers`);
      this.refused += c.frames.filter((x) => x.opcode !== Status.OK).length;
      this.sets += c.frames.length;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.done;
  }
}

/** GETs every key in windows; the values found (undefined = absent). */
async function readAll(port: number, keys: number): Promise<(Buffer | undefined)[]> {
  const c = await RawClient.connect(port);
  const values: (Buffer | undefined)[] = [];
  try {
    for (let start = 0; start < keys; start += 512) {
      const end = Math.min(keys, start + 512);
      c.frames.length = 0;
      c.write(Array.from({ length: end - start }, (_, k) => frame(k, { op: 'GET', key: keyOf(start + k) })));
      await c.waitFrames(end - start, 10_000);
      for (const x of c.frames) values.push(x.opcode === Status.OK ? Buffer.from(x.body) : undefined);
    }
  } finally {
    c.destroy();
  }
  return values;
}

/** The load's log line (Snapshots.load): its result and counts. */
function loadLine(server: ServerProcess): Record<string, unknown> {
  return server.logs().find((l) => typeof l.result === 'string' && typeof l.file === 'string') ?? {};
}

/** Durations (ms) of the saves the server logged. */
function saveMs(server: ServerProcess): number[] {
  return server
    .logs()
    .filter((l) => typeof l.msg === 'string' && l.msg.includes(' saved') && l.items !== undefined)
    .map((l) => Number.parseFloat(String(l.ms)));
}

const tmpFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.tmp-'));
const corruptFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.corrupt-'));

export const snapshot: Scenario = {
  number: 20,
  id: 'snapshot',
  title: 'Kill during save',
  budgetMs: 300_000,
  async run(size, f) {
    const kills = size.quick ? 5 : 50;
    const keys = size.quick ? 2_500 : 30_000;
    const dir = mkdtempSync(join(tmpdir(), 'conduit-chaos-snapshot-'));
    const file = join(dir, 'cache.snap');
    // Room for every key (no eviction: the count can only grow); the quick size fits the default budget.
    const flags = ['--snapshot', file, '--snapshot-interval', '1s', '--max-memory', size.quick ? '64mb' : '256mb'];
    try {
      const server = await killRounds(size, f, { kills, keys, dir, file, flags });
      await roundTrip(size, f, server, { keys, dir, flags, gen: kills });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

interface Setup {
  kills: number;
  keys: number;
  dir: string;
  file: string;
  flags: string[];
}

/**
 * Starts the server `kills + 1` times on the same FILE, checking what each start loaded, and kills
 * all but the last start during a save; returns the last, still running.
 */
async function killRounds(size: Size, f: Findings, { kills, keys, dir, file, flags }: Setup): Promise<ServerProcess> {
  let lastSaveMs = 30;
  let loadsOk = 0;
  let duringSave = 0;
  let previousCount = 0;
  let countWentDown = 0;
  let wrongValues = 0;
  let badStarts = 0;
  let refused = 0;
  const loadMs: number[] = [];
  const saves: number[] = [];
  const fileBytes: number[] = [];
  let server: ServerProcess | undefined;
  for (let round = 0; round <= kills; round += 1) {
    const existed = existsSync(file);
    server = await serve(size, flags);
    const load = loadLine(server);
    const expected = existed ? 'loaded' : 'missing';
    // What it loaded, before any write of this round: each key absent or a value some earlier round wrote.
    const values = await readAll(server.port, keys);
    const present = values.filter((v) => v !== undefined).length;
    const wrong = values.filter((v, i) => v !== undefined && genOf(i, v, round - 1) < 0).length;
    wrongValues += wrong;
    if (present < previousCount) countWentDown += 1;
    const ok = load.result === expected && wrong === 0 && corruptFiles(dir).length === 0 && (!existed || Number(load.loaded) === present);
    if (ok) loadsOk += 1;
    else badStarts += 1;
    if (load.result === 'loaded') loadMs.push(Number.parseFloat(String(load.ms)));
    previousCount = present;
    if (existed) fileBytes.push(statSync(file).size);
    if (round === kills) break; // the last start: the round trip goes on with it

    // The write load, then SIGKILL at a random point of a periodic save (the first start lets one
    // save finish first, so that every later start has a snapshot to go back to).
    const writer = new Writer(await RawClient.connect(server.port), keys, round);
    const running = server;
    if (!existsSync(file)) await until(() => saveMs(running).length > 0, 20_000, `round ${round}: a first save to finish`);
    await until(() => tmpFiles(dir).length > 0, 20_000, `round ${round}: a periodic save to start`, 1);
    await sleep(Math.random() * lastSaveMs * 1.2);
    const killedDuringSave = tmpFiles(dir).length > 0;
    process.kill(pidOf(server), 'SIGKILL');
    await server.exited;
    await writer.stop();
    writer.raw.destroy();
    refused += writer.refused;
    if (killedDuringSave && tmpFiles(dir).length > 0) duringSave += 1;
    const done = saveMs(server);
    saves.push(...done);
    if (done.length > 0) lastSaveMs = Math.max(5, done.at(-1)!);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
  f.figure(
    `${kills} SIGKILLs during periodic saves (--snapshot-interval 1s) under a pipelined write load of ${count(keys)} keys of 64 B – 4 KiB: ` +
      `${duringSave} landed while the save's temporary file existed, ${kills - duringSave} just after its rename; ${loadsOk}/${kills + 1} starts loaded the previous or the new snapshot ` +
      `(file ${(median(fileBytes) / 1e6).toFixed(1)} MB, load ${median(loadMs).toFixed(0)} ms, save ${median(saves).toFixed(0)} ms, medians); ` +
      `${wrongValues} keys held a value never written for them; item count went down ${countWentDown} times`,
  );
  f.expect(`every start loads the previous or the new snapshot: result 'loaded' (or 'missing' before the first save), no FILE.corrupt-*, the loaded count is what it serves (${badStarts} bad starts of ${kills + 1})`, badStarts === 0);
  f.expect(`every loaded key holds a value written for it (${wrongValues} did not)`, wrongValues === 0);
  f.expect(`the item count never goes down: no key is ever deleted (${countWentDown} times it did)`, countWentDown === 0);
  f.expect(`every SET of the write load is stored (${refused} were not)`, refused === 0);
  f.expect(`some kills land inside a save (${duringSave} of ${kills})`, duringSave > 0);
  if (server === undefined) throw new Error('no server started');
  return server;
}

/** Writes every key on `server` (round `gen`), SIGTERM, a restart: every item must come back byte for byte. */
async function roundTrip(size: Size, f: Findings, server: ServerProcess, { keys, dir, flags, gen }: Omit<Setup, 'kills' | 'file'> & { gen: number }): Promise<void> {
  const writer = new Writer(await RawClient.connect(server.port), keys, gen);
  await until(() => writer.sets >= keys, 30_000, 'every key written');
  await writer.stop();
  writer.raw.destroy();
  const before = await readAll(server.port, keys);
  const signalled = performance.now();
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  const stopMs = performance.now() - signalled;
  const shutdownSave = server.logs().find((l) => typeof l.msg === 'string' && l.msg.includes('saved at shutdown')) ?? {};
  const again = await serve(size, flags);
  const load = loadLine(again);
  const after = await readAll(again.port, keys);
  again.child.kill('SIGTERM');
  await again.exited;
  const same = after.filter((v, i) => v !== undefined && before[i] !== undefined && v.equals(before[i]!)).length;
  const present = before.filter((v) => v !== undefined).length;
  f.figure(
    `SIGTERM round trip: ${count(present)} items saved after the drain in ${String(shutdownSave.ms)} ms (exit ${exit.code} after ${stopMs.toFixed(0)} ms), ` +
      `loaded ${String(load.loaded)} in ${String(load.ms)} ms: ${count(same)} byte for byte`,
  );
  f.expect(`a SIGTERM saves and exits 0 (code ${exit.code})`, exit.code === 0);
  f.expect(`every item comes back byte for byte after a SIGTERM (${same} of ${present}, load '${String(load.result)}')`, load.result === 'loaded' && same === present && present === keys);
  f.expect(`no FILE.corrupt-* or FILE.tmp-* left (${[...corruptFiles(dir), ...tmpFiles(dir)].join(', ') || 'none'})`, corruptFiles(dir).length === 0 && tmpFiles(dir).length === 0);
}
