import type { TestProject } from 'vitest/node';
import { ensureRedisTools } from './redis.js';

/**
 * Vitest globalSetup (vitest.config.ts): makes sure Redis's tools are here,
 * installing Debian's packages when one is missing, once per run rather than
 * once per test file, and hands the outcome to the tests
 * (`requireRedisTools()` in test/support/redis.ts). It never throws: a missing
 * tool fails the RESP tests that need it, with the reason, and nothing else.
 *
 * @example
 * ```ts
 * // vitest.config.ts
 * test: { globalSetup: ['test/support/redis-setup.ts'] }
 * ```
 */
export function setup(project: TestProject): void {
  project.provide('redisTools', ensureRedisTools());
}
