import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshot } from '../../src/server/snapshot/index.js';
import { Store } from '../../src/store/store.js';
// @ts-expect-error -- a plain .mjs module shared with the child process (no types)
import { crashValue } from '../fixtures/snapshot-crash-values.mjs';

// docs/SNAPSHOT.md §Saving: "after a crash at any point FILE is the previous
// snapshot or the new one, never a mix". A child saves generation after
// generation of the same keys; it is killed with SIGKILL at a random moment;
// FILE must then load, whole, with every value from one generation, and
// nothing may be left beside it but the child's FILE.tmp-<pid> (which the
// policy removes at start). The child imports dist/ (npm run build).

const CHILD = fileURLToPath(new URL('../fixtures/snapshot-crash-child.mjs', import.meta.url));
const ITEMS = 600;
const RUNS = 50;
/** The longest a child runs after its first save before it is killed. */
const MAX_DELAY_MS = 100;
/** Children alive at once: each spends much of its life starting up and in fsync, so three overlap well even on 2 cores. */
const CONCURRENCY = 3;
/** A child that never reports its first save fails the run rather than the whole file's timeout. */
const FIRST_SAVE_TIMEOUT_MS = 10_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'conduit-snapshot-crash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const valueOf = crashValue as (g: number, i: number) => Buffer;

interface Run {
  /** The last generation the child reported saved before it died. */
  lastSaved: number;
  /** True when the child died with its temporary file present: killed inside a save. */
  insideSave: boolean;
}

/** Starts a child saving generations from `first`, kills it `delayMs` after its first save, and waits for it to exit. */
function crashRun(file: string, first: number, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file, String(ITEMS), String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSaved = 0;
    let output = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), FIRST_SAVE_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      for (const match of output.matchAll(/saved (\d+)\n/g)) lastSaved = Math.max(lastSaved, Number(match[1]));
      output = output.slice(output.lastIndexOf('\n') + 1);
      if (lastSaved > 0 && killTimer === undefined) {
        clearTimeout(giveUp);
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      clearTimeout(killTimer);
      if (lastSaved === 0) return reject(new Error(`child exited (${code ?? signal}) before its first save: ${stderr}`));
      if (signal !== 'SIGKILL') return reject(new Error(`child exited ${code ?? signal}, not killed: ${stderr}`));
      resolve({ lastSaved, insideSave: existsSync(`${file}.tmp-${child.pid}`) });
    });
  });
}

describe('kill -9 during save', () => {
  it(`leaves a whole snapshot of one generation, ${RUNS} runs`, async () => {
    const store = new Store({ maxMemory: 16 * 1024 * 1024, activeExpiry: false });
    let insideSave = 0;
    /** Checks what run `run`'s killed child left: FILE whole and of one generation, nothing else. */
    const check = async (run: number, result: Run): Promise<void> => {
      const file = join(dir, `run-${run}.snap`);
      const left = readdirSync(dir).filter((name) => name.startsWith(`run-${run}.`));
      for (const name of left) expect(name === `run-${run}.snap` || /^run-\d+\.snap\.tmp-\d+$/.test(name), `left behind: ${name}`).toBe(true);
      if (result.insideSave) insideSave += 1;
      for (const name of left) if (name !== `run-${run}.snap`) unlinkSync(join(dir, name)); // what the policy does at start
      const loaded = await loadSnapshot(store, file, { maxValueLength: 1024 * 1024 });
      expect(loaded, `run ${run}: ${loaded.message}`).toMatchObject({ result: 'loaded', records: ITEMS, loaded: ITEMS });
      // One generation: the one last reported saved, or the next if the kill came between its rename and its report.
      const g = Number(/^g(\d+):/.exec(store.get(Buffer.from('key:0'))?.toString() ?? '')?.[1]);
      expect(g === result.lastSaved || g === result.lastSaved + 1, `run ${run}: generation ${g}, last reported ${result.lastSaved}`).toBe(true);
      for (let i = 0; i < ITEMS; i += 1) {
        const value = store.get(Buffer.from(`key:${i}`));
        if (value === undefined || !value.equals(valueOf(g, i))) expect.fail(`run ${run}: key:${i} is not generation ${g}'s: ${value?.subarray(0, 24).toString()}`);
      }
      store.flush();
      unlinkSync(file);
    };
    try {
      for (let run = 0; run < RUNS; run += CONCURRENCY) {
        const batch = Array.from({ length: Math.min(CONCURRENCY, RUNS - run) }, (_, j) => run + j);
        const results = await Promise.all(batch.map((r) => crashRun(join(dir, `run-${r}.snap`), r * 1000 + 1, Math.floor(Math.random() * MAX_DELAY_MS))));
        for (const [j, r] of batch.entries()) await check(r, results[j] as Run);
      }
    } finally {
      store.close();
    }
    // The kills must land inside saves, or the test checks nothing: the child spends
    // most of its time saving (writes and fsync), so many of them do.
    expect(insideSave).toBeGreaterThan(RUNS / 10);
  }, 120_000);
});
