// The RESP request parser's properties (resp-parser.properties.ts), a fixed number of runs;
// `just fuzz` runs the same ones for as long as it is given.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { respParserProperties } from './resp-parser.properties.js';

describe('RESP parser properties', () => {
  for (const [name, property] of Object.entries(respParserProperties)) {
    it(name, { timeout: 60_000 }, () => {
      fc.assert(property, { numRuns: 300 });
    });
  }
});
