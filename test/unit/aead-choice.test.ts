import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { aeadImplementation, chooseAead, libsodiumAvailable } from '../../src/crypto/aead-choice.js';
import { FrameCipher } from '../../src/crypto/frame-cipher.js';
import * as conduit from '../../src/index.js';

const root = new URL('../..', import.meta.url).pathname;

describe('which frame AEAD (issue 18)', () => {
  it('is libsodium by default and noble when CONDUIT_AEAD=noble (vitest.config.ts runs the secure tests both ways)', (context) => {
    // The project, not the variable, says what to expect: this fails if the aead-noble project stops setting it.
    const expected = context.task.file.projectName === 'aead-noble' || process.env.CONDUIT_AEAD === 'noble' ? 'noble' : 'libsodium';
    expect(libsodiumAvailable()).toBe(true); // sodium-native ships a binary for this platform
    expect(aeadImplementation).toBe(expected);
    expect(conduit.aeadImplementation).toBe(expected);
    expect(conduit.aeadChoice.implementation).toBe(expected);
    expect(new FrameCipher(Buffer.alloc(32), Buffer.alloc(16)).implementation).toBe(expected);
  });

  it.each([
    [{}, 'libsodium', undefined],
    [{ CONDUIT_AEAD: '' }, 'libsodium', undefined],
    [{ CONDUIT_AEAD: 'libsodium' }, 'libsodium', undefined],
    [{ CONDUIT_AEAD: 'noble' }, 'noble', 'CONDUIT_AEAD=noble'],
  ])('chooses from %o: %s', (env, implementation, fallbackReason) => {
    expect(chooseAead(env)).toEqual({ implementation, fallbackReason });
  });

  it.each(['fast', 'NOBLE', 'node', ' noble'])('refuses CONDUIT_AEAD=%j with one line naming the variable', (value) => {
    expect(() => chooseAead({ CONDUIT_AEAD: value })).toThrow(TypeError);
    expect(() => chooseAead({ CONDUIT_AEAD: value })).toThrow(`CONDUIT_AEAD must be libsodium or noble (or unset), got '${value}'`);
  });

  it('is chosen once at start-up: a bad CONDUIT_AEAD stops the process that loads the package; noble never loads the addon', () => {
    const probe = [
      "import { createRequire } from 'node:module';",
      "const m = await import('./dist/index.js');",
      "const native = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('sodium-native'));",
      'console.log(m.aeadImplementation, native);',
    ].join('\n');
    const run = (value: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: root,
        encoding: 'utf8',
        timeout: 15_000,
        env: { ...process.env, CONDUIT_AEAD: value },
      });
    const bad = run('fast');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("TypeError: CONDUIT_AEAD must be libsodium or noble (or unset), got 'fast'");
    expect(run('noble').stdout.trim()).toBe('noble false');
    expect(run('').stdout.trim()).toBe('libsodium true');
  });
});
