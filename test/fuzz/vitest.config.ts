import { defineConfig } from 'vitest/config';

// `just fuzz` only: time-bounded property runs, kept out of `npm test`.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/fuzz/**/*.test.ts'],
    reporters: ['default'],
  },
});
