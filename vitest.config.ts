import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * The secure-mode tests that run again with the other frame AEADs (issue 18):
 * `CONDUIT_AEAD=node` (node:crypto, the fallback where sodium-native cannot
 * load) and `CONDUIT_AEAD=noble` (pure JS, the oracle), so every `npm test`
 * checks all three implementations against the spec §6.6 vectors, each other,
 * and a real server and client (test/integration/secure.test.ts audits
 * 10^5 frames' nonces on noble instead of 10^6: a minute of pure JS).
 */
const SECURE_TESTS = [
  'test/unit/aead-choice.test.ts',
  'test/unit/frame-cipher.test.ts',
  'test/unit/frame-cipher-in-place.test.ts',
  'test/unit/sealed-output.test.ts',
  'test/unit/handshake-options.test.ts',
  'test/unit/secure-gate.test.ts',
  'test/unit/secure-vectors.test.ts',
  'test/unit/secure-vectors-11.test.ts',
  'test/unit/secure-channel.test.ts',
  'test/unit/handshake-hardening.test.ts',
  'test/unit/x25519.test.ts',
  'test/unit/request-queue-fragments.test.ts',
  'test/integration/secure.test.ts',
  'test/integration/secure-envelopes.test.ts',
  'test/integration/secure-hardening.test.ts',
  'test/integration/secure-sizes.test.ts',
];

/**
 * Files that run one at a time, after the others: each keeps a core busy for
 * many seconds in the test process itself (the chaos scenarios' short runs,
 * the 10^6-frame nonce audit, a 1M-request client, a 1M-item restart, the store model, the
 * index-flood timings), so beside another file they would only take turns on
 * a core and run up against their timeouts on a loaded machine.
 */
const ONE_AT_A_TIME = [
  'test/integration/chaos-short.test.ts',
  'test/integration/secure.test.ts',
  'test/integration/client.test.ts',
  'test/property/store.model.test.ts',
  'test/unit/index-flood.test.ts',
  // Issue 22: a 1M-item restart (fill, then read every value back) through a pipelined client.
  'test/integration/snapshot-restart.test.ts',
];
const SECURE_ONE_AT_A_TIME = SECURE_TESTS.filter((f) => ONE_AT_A_TIME.includes(f));

/**
 * The rest run two files at a time even on 2 cores (Vitest's default is one
 * fewer worker than cores: one file at a time there, and most files wait on
 * sockets and child processes, leaving a core idle); the default elsewhere.
 * The *-serial projects (ONE_AT_A_TIME, maxWorkers 1) run afterwards, one file at a time.
 */
const workers = Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude: ONE_AT_A_TIME,
          maxWorkers: workers,
          // Issue 23: redis-server, redis-cli and redis-benchmark for the RESP comparison tests,
          // installed from Debian once per run when missing (test/support/redis-setup.ts).
          globalSetup: ['test/support/redis-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'aead-node', include: SECURE_TESTS, exclude: SECURE_ONE_AT_A_TIME, env: { CONDUIT_AEAD: 'node' }, maxWorkers: workers },
      },
      {
        extends: true,
        test: { name: 'aead-noble', include: SECURE_TESTS, exclude: SECURE_ONE_AT_A_TIME, env: { CONDUIT_AEAD: 'noble' }, maxWorkers: workers },
      },
      {
        extends: true,
        test: { name: 'default-serial', include: ONE_AT_A_TIME, maxWorkers: 1 },
      },
      {
        extends: true,
        test: { name: 'aead-node-serial', include: SECURE_ONE_AT_A_TIME, env: { CONDUIT_AEAD: 'node' }, maxWorkers: 1 },
      },
      {
        extends: true,
        test: { name: 'aead-noble-serial', include: SECURE_ONE_AT_A_TIME, env: { CONDUIT_AEAD: 'noble' }, maxWorkers: 1 },
      },
    ],
  },
});
