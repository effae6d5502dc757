// The short version of every reliability scenario (issue 9), from the same
// code `npx just chaos` runs at full size. Correctness expectations are
// asserted here; timings are left to the full run (tests assert no timings).
import { describe, expect, it } from 'vitest';
import { Findings } from '../chaos/harness.js';
import { scenarios } from '../chaos/scenarios/index.js';

describe('reliability scenarios, short (npx just chaos runs them full size)', () => {
  for (const scenario of scenarios) {
    it(`${scenario.id}: ${scenario.title}`, async () => {
      const findings = new Findings();
      await scenario.run({ quick: true }, findings);
      expect(findings.checks.length).toBeGreaterThan(0);
      expect(findings.failed(false)).toEqual([]);
    }, Math.max(60_000, scenario.budgetMs / 3));
  }
});
