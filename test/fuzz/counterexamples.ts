import fc from 'fast-check';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `just fuzz` writes the shrunk counterexamples it finds; the replay test reads them. */
export const counterexampleDir = fileURLToPath(new URL('./counterexamples/', import.meta.url));

/** One failure found by the fuzzer: enough for fast-check to replay it exactly. */
export interface Counterexample {
  property: string;
  seed: number;
  path: string;
  counterexample: string;
  error: string;
  foundAt: string;
}

/** Writes `found` to its own file in `dir` and returns the file's path. */
export function saveCounterexample(found: Counterexample, dir = counterexampleDir): string {
  mkdirSync(dir, { recursive: true });
  const slug = found.property.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const file = join(dir, `${slug}-${found.seed}.json`);
  writeFileSync(file, `${JSON.stringify(found, null, 2)}\n`);
  return file;
}

/** Every counterexample saved in `dir`. */
export function loadCounterexamples(dir = counterexampleDir): Counterexample[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Counterexample);
}

/**
 * Replays `saved` exactly (its seed and shrink path) against the property of
 * its name in `properties`; throws fast-check's failure while the bug is there.
 */
export function replayCounterexample(saved: Counterexample, properties: Readonly<Record<string, fc.IProperty<unknown[]>>>): void {
  const property = properties[saved.property];
  if (property === undefined) throw new Error(`unknown property ${saved.property}`);
  fc.assert(property, { seed: saved.seed, path: saved.path, endOnFailure: true });
}
