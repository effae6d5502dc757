import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCounterexamples, replayCounterexample, saveCounterexample } from '../fuzz/counterexamples.js';
import { codecProperties } from './codec.properties.js';
import { fragmentProperties } from './fragments.properties.js';
import { respParserProperties } from './resp-parser.properties.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Every counterexample `just fuzz` saved stays a regression test: it is
// replayed from its seed and path until the bug is fixed and the file removed
// or kept as a passing record.
describe('fuzz counterexamples replay', () => {
  for (const c of loadCounterexamples()) {
    it(`${c.property} (seed ${c.seed}, path ${c.path})`, () => replayCounterexample(c, { ...codecProperties, ...fragmentProperties, ...respParserProperties }));
  }

  // Issue 24: with the folder empty the loop above runs nothing, so the mechanism itself
  // is proved here on a property that fails on purpose, the way `just fuzz` saves one.
  it('saves, loads and replays a failure exactly (seed and shrink path)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-counterexamples-'));
    dirs.push(dir);
    const broken = { 'bodies are short': fc.property(fc.integer({ min: 0, max: 1_000_000 }), (length) => length < 1000) };
    const details = fc.check(broken['bodies are short'], { seed: 1234 });
    expect(details.failed).toBe(true);
    saveCounterexample(
      {
        property: 'bodies are short',
        seed: details.seed,
        path: details.counterexamplePath ?? '',
        counterexample: fc.stringify(details.counterexample),
        error: 'property returned false',
        foundAt: new Date(0).toISOString(),
      },
      dir,
    );
    const saved = loadCounterexamples(dir);
    expect(saved.map((c) => [c.property, c.seed])).toEqual([['bodies are short', 1234]]);
    // The shrunk counterexample is the smallest failing length: the replay reaches exactly it.
    expect(saved[0]?.counterexample).toBe('[1000]');
    expect(() => replayCounterexample(saved[0] as (typeof saved)[0], broken)).toThrow(/Counterexample: \[1000\]/);
    expect(() => replayCounterexample({ ...(saved[0] as (typeof saved)[0]), property: 'gone' }, broken)).toThrow(/unknown property gone/);
    // The same file against a fixed property passes: the record stays as a passing regression test.
    expect(() => replayCounterexample(saved[0] as (typeof saved)[0], { 'bodies are short': fc.property(fc.integer(), () => true) })).not.toThrow();
  });
});
