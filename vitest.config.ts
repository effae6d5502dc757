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

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/integration/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'aead-node', include: SECURE_TESTS, env: { CONDUIT_AEAD: 'node' } },
      },
      {
        extends: true,
        test: { name: 'aead-noble', include: SECURE_TESTS, env: { CONDUIT_AEAD: 'noble' } },
      },
    ],
  },
});
