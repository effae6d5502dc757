import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/** The repository's root: probes import `./dist/index.js` from there. */
const root = new URL('../..', import.meta.url).pathname;

/**
 * Runs `probe` (an ES module's source, which prints one JSON line) in a fresh
 * Node process at the repository's root with `CONDUIT_AEAD=aead` and `more`
 * added to the environment, checks it wrote nothing to stderr, and returns
 * what it printed, parsed. A fresh process because the frame AEAD and the
 * native addon are chosen once per process.
 *
 * @example
 * ```ts
 * expect(runModuleProbe("console.log(JSON.stringify(1))", 'node')).toBe(1);
 * ```
 */
export function runModuleProbe(probe: string, aead: string, more: Record<string, string> = {}): unknown {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: root,
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, CONDUIT_AEAD: aead, ...more },
  });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as unknown;
}
