import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCounterexamples } from '../fuzz/counterexamples.js';
import { codecProperties } from './codec.properties.js';

// Every counterexample `just fuzz` saved stays a regression test: it is
// replayed from its seed and path until the bug is fixed and the file removed
// or kept as a passing record.
describe('fuzz counterexamples replay', () => {
  const saved = loadCounterexamples();
  it('names only known properties', () => {
    for (const c of saved) expect(Object.keys(codecProperties)).toContain(c.property);
  });
  for (const c of saved) {
    it(`${c.property} (seed ${c.seed}, path ${c.path})`, () => {
      const property = codecProperties[c.property];
      if (property === undefined) throw new Error(`unknown property ${c.property}`);
      fc.assert(property, { seed: c.seed, path: c.path, endOnFailure: true });
    });
  }
});
