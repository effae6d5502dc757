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

/** Writes `found` to its own file and returns the file's path. */
export function saveCounterexample(found: Counterexample): string {
  mkdirSync(counterexampleDir, { recursive: true });
  const slug = found.property.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const file = join(counterexampleDir, `${slug}-${found.seed}.json`);
  writeFileSync(file, `${JSON.stringify(found, null, 2)}\n`);
  return file;
}

/** Every saved counterexample. */
export function loadCounterexamples(): Counterexample[] {
  let names: string[];
  try {
    names = readdirSync(counterexampleDir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(counterexampleDir, n), 'utf8')) as Counterexample);
}
