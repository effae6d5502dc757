import { describe, expect, it } from 'vitest';
import { runModuleProbe } from '../support/module-probe.js';
import { aeadChoice, chooseAead, libsodiumAvailable, requestedAead } from '../../src/crypto/aead-choice.js';
import { AEAD_NAMES } from '../../src/crypto/frame-aead.js';
import { FrameCipher } from '../../src/crypto/frame-cipher.js';
import * as conduit from '../../src/index.js';


describe('which frame AEAD (issue 18)', () => {
  it('is libsodium by default, node or noble when CONDUIT_AEAD says so (vitest.config.ts runs the secure tests each way)', (context) => {
    // The project, not the variable, says what to expect: this fails if a project stops setting it.
    const byProject: Record<string, string> = { 'aead-noble': 'noble', 'aead-node': 'node' };
    const expected = byProject[context.task.file.projectName ?? ''] ?? process.env.CONDUIT_AEAD ?? 'libsodium';
    expect(libsodiumAvailable()).toBe(true); // sodium-native ships a binary for this platform
    expect(aeadChoice().implementation).toBe(expected);
    expect(conduit.aeadChoice()).toBe(aeadChoice()); // chosen once, the same object after
    expect(new FrameCipher(Buffer.alloc(32), Buffer.alloc(16)).implementation).toBe(expected);
  });

  it.each([
    [{}, 'libsodium', undefined],
    [{ CONDUIT_AEAD: '' }, 'libsodium', undefined],
    [{ CONDUIT_AEAD: 'libsodium' }, 'libsodium', undefined],
    [{ CONDUIT_AEAD: 'node' }, 'node', 'CONDUIT_AEAD=node'],
    [{ CONDUIT_AEAD: 'noble' }, 'noble', 'CONDUIT_AEAD=noble'],
  ])('chooses from %o: %s', (env, implementation, fallbackReason) => {
    expect(chooseAead(env)).toEqual({ implementation, fallbackReason });
  });

  it.each(['fast', 'NOBLE', 'node:crypto', ' noble'])('refuses CONDUIT_AEAD=%j with one line naming the variable', (value) => {
    const message = `CONDUIT_AEAD must be libsodium, node or noble (or unset), got '${value}'`;
    expect(() => chooseAead({ CONDUIT_AEAD: value })).toThrow(TypeError);
    expect(() => chooseAead({ CONDUIT_AEAD: value })).toThrow(message);
    expect(() => requestedAead({ CONDUIT_AEAD: value })).toThrow(message);
  });

  it('reads the variable without loading anything: requestedAead', () => {
    expect(requestedAead({})).toBeUndefined();
    expect(requestedAead({ CONDUIT_AEAD: '' })).toBeUndefined();
    expect(AEAD_NAMES.map((name) => requestedAead({ CONDUIT_AEAD: name }))).toEqual(['libsodium', 'node', 'noble']);
  });

  it('is chosen on first use, not at import: a bad CONDUIT_AEAD throws from aeadChoice(), FrameCipher and a secure ConduitClient’s constructor; node and noble never load the addon; no binding falls back to node', () => {
    const probe = [
      "import { createRequire } from 'node:module';",
      "const m = await import('./dist/index.js');",
      "const native = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/sodium-native/'));",
      'const before = native();',
      'let chosen;',
      'try { chosen = m.aeadChoice().implementation; } catch (err) { chosen = `${err.name}: ${err.message}`; }',
      'let cipher;',
      'try { cipher = new m.FrameCipher(Buffer.alloc(32), Buffer.alloc(16)).implementation; } catch (err) { cipher = err.name; }',
      'let client;',
      "try { new m.ConduitClient({ port: 1, key: { id: 'a', secret: Buffer.alloc(32) }, reconnect: false }).destroy(); client = 'made'; } catch (err) { client = err.name; }",
      'console.log(JSON.stringify([before, chosen, cipher, native(), client]));',
    ].join('\n');
    const run = (value: string, more: Record<string, string> = {}): unknown => runModuleProbe(probe, value, more);
    // A secure ConduitClient chooses in its constructor: a TypeError there, not a throw in a socket handler at HELLO.
    expect(run('fast')).toEqual([false, "TypeError: CONDUIT_AEAD must be libsodium, node or noble (or unset), got 'fast'", 'TypeError', false, 'TypeError']);
    expect(run('node')).toEqual([false, 'node', 'node', false, 'made']);
    expect(run('noble')).toEqual([false, 'noble', 'noble', false, 'made']);
    expect(run('')).toEqual([false, 'libsodium', 'libsodium', true, 'made']);
    // Where the binding cannot load (simulated by a preload), the default falls back to node:crypto.
    const noSodium = { NODE_OPTIONS: `--require ${new URL('../support/no-sodium-native.cjs', import.meta.url).pathname}` };
    expect(run('', noSodium)).toEqual([false, 'node', 'node', false, 'made']);
    expect(run('libsodium', noSodium)).toEqual([
      false,
      "TypeError: CONDUIT_AEAD=libsodium but sodium-native did not load: Cannot find module 'sodium-native' (simulated: no binding for this platform)",
      'TypeError',
      false,
      'TypeError',
    ]);
  });
});
