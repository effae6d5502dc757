/**
 * `just fuzz`: runs every codec property (the frame codec, fragments and the
 * RESP request parser) for FUZZ_SECONDS in all (default 60),
 * as many runs as fit, prints runs and runs/s, and saves each shrunk
 * counterexample where the replay test finds it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codecProperties } from '../property/codec.properties.js';
import { fragmentProperties } from '../property/fragments.properties.js';
import { respParserProperties } from '../property/resp-parser.properties.js';
import { saveCounterexample } from './counterexamples.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? '60');
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_SECONDS must be a positive number, got ${process.env.FUZZ_SECONDS}`);
const entries = Object.entries({ ...codecProperties, ...fragmentProperties, ...respParserProperties });
const budgetMs = (seconds * 1000) / entries.length;

describe(`fuzz (${seconds} s)`, () => {
  for (const [name, property] of entries) {
    it(name, { timeout: budgetMs + 120_000 }, () => {
      const started = performance.now();
      const details = fc.check(property, { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: budgetMs });
      const elapsed = (performance.now() - started) / 1000;
      const rate = Math.round(details.numRuns / elapsed);
      let saved = '';
      if (details.failed) {
        saved = saveCounterexample({
          property: name,
          seed: details.seed,
          path: details.counterexamplePath ?? '',
          counterexample: fc.stringify(details.counterexample),
          error: String(details.errorInstance ?? 'property returned false'),
          foundAt: new Date().toISOString(),
        });
      }
      console.log(
        `fuzz: ${name}: ${details.numRuns} runs in ${elapsed.toFixed(1)} s (${rate} runs/s)` +
          (details.failed ? `, FAILED: counterexample saved to ${saved}` : ', no failure'),
      );
      expect(details.failed, saved).toBe(false);
    });
  }
});
