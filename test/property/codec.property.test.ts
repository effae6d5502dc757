import fc from 'fast-check';
import { describe, it } from 'vitest';
import { codecProperties } from './codec.properties.js';

describe('codec properties', () => {
  for (const [name, property] of Object.entries(codecProperties)) {
    it(name, () => {
      fc.assert(property, { numRuns: 300 });
    });
  }
});
