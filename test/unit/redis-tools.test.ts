// test/support/redis.ts: where Redis's tools cannot be had, the RESP tests fail with the
// reason, never skip (issue 23: CI must not look green without having compared anything).
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRedisTools, REDIS_TOOLS } from '../support/redis.js';

const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
});

describe("Redis's tools for the RESP tests", () => {
  it('without the tools and without apt-get: not ok, naming what is missing and why', () => {
    process.env.PATH = '/nonexistent';
    const state = ensureRedisTools();
    expect(state.ok).toBe(false);
    expect(state.error).toBe(`${REDIS_TOOLS.join(', ')} missing and apt-get is not available to install Debian's redis-server and redis-tools`);
  });

  it('with them on the PATH (the global setup installed them): ok, with redis-server\'s version', () => {
    const state = ensureRedisTools();
    expect(state).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string, error: '' });
  });
});
