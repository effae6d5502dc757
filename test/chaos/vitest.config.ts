import { defineConfig } from 'vitest/config';

// `just chaos` only: the full-size reliability scenarios, one after another
// (they measure a server process and must not share the machine with each other).
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/chaos/chaos.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
