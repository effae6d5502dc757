// Issue 18: conduit-server checks CONDUIT_AEAD like its other CONDUIT_*
// variables (one line naming it, exit 1, no stack trace; conduit-cli too), says in its start-up
// line which frame AEAD seals secure sessions and why it is not libsodium, and
// falls back to node:crypto where sodium-native cannot load (simulated by a
// preload that makes resolving it fail). STATS `aead` says the same (spec §5.2).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConduitClient, generateKey } from '../../src/index.js';
import { runCli, runServerToExit, startServerProcess, type ServerProcess } from '../support/cli.js';

/** NODE_OPTIONS that make `sodium-native` unloadable in the child, as on a platform without its binding. */
const noSodium = { NODE_OPTIONS: `--require ${fileURLToPath(new URL('../support/no-sodium-native.cjs', import.meta.url))}` };
const secret = generateKey();
const withKey = { CONDUIT_KEY: `app:${secret}` };

/** Expects exit 1 with exactly one line on stderr: `conduit-server: ` + `message`. */
async function refused(env: Record<string, string>, message: RegExp): Promise<void> {
  const { code, stderr } = await runServerToExit(['--port', '0'], env);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr.trim()).toMatch(message);
  expect(code).toBe(1);
}

/** The `secure` member of the start-up line. */
const secureLogged = (server: ServerProcess): unknown => server.logs().find((l) => l.msg === 'conduit-server listening')?.secure;

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

describe('conduit-server and CONDUIT_AEAD (issue 18)', () => {
  it('a bad CONDUIT_AEAD is one line naming the variable, with or without secure mode', async () => {
    const message = /^conduit-server: CONDUIT_AEAD must be libsodium, node or noble \(or unset\), got 'fast'$/;
    await refused({ CONDUIT_AEAD: 'fast' }, message);
    await refused({ CONDUIT_AEAD: 'fast', ...withKey }, message);
    await refused({ CONDUIT_AEAD: 'node:crypto', ...withKey }, /got 'node:crypto'$/);
  });

  it('CONDUIT_AEAD=libsodium where sodium-native cannot load is one line saying why', async () => {
    await refused(
      { CONDUIT_AEAD: 'libsodium', ...withKey, ...noSodium },
      /^conduit-server: CONDUIT_AEAD=libsodium but sodium-native did not load: Cannot find module 'sodium-native' \(simulated: no binding for this platform\)$/,
    );
  });

  it.each([
    [{}, { aead: 'libsodium' }],
    [{ CONDUIT_AEAD: 'libsodium' }, { aead: 'libsodium' }],
    [{ CONDUIT_AEAD: 'node' }, { aead: 'node', aeadFallback: 'CONDUIT_AEAD=node' }],
    [{ CONDUIT_AEAD: 'noble' }, { aead: 'noble', aeadFallback: 'CONDUIT_AEAD=noble' }],
  ])('with %o the start-up line and STATS name the implementation: %o', async (env, logged) => {
    const server = await startServerProcess(['--port', '0'], { env: { ...withKey, ...env } });
    expect(secureLogged(server)).toEqual({ keyIds: ['app'], ...logged });
    const client = new ConduitClient({ port: server.port, key: { id: 'app', secret }, reconnect: false });
    expect((await client.stats()).aead).toBe(logged.aead);
    await client.close();
    await stop(server);
  });

  it('where sodium-native cannot load, the server falls back to node:crypto, says why, and serves secure clients byte for byte', async () => {
    const server = await startServerProcess(['--port', '0'], { env: { ...withKey, ...noSodium } });
    expect(secureLogged(server)).toEqual({
      keyIds: ['app'],
      aead: 'node',
      aeadFallback: "sodium-native did not load: Cannot find module 'sodium-native' (simulated: no binding for this platform)",
    });
    // This process seals with libsodium, the server with node:crypto: every frame crosses implementations.
    const client = new ConduitClient({ port: server.port, key: { id: 'app', secret }, reconnect: false });
    for (const size of [0, 100, 4096, 65_000]) {
      const value = Buffer.alloc(size, size % 251);
      expect(await client.set(`k${size}`, value)).toBe(true);
      expect((await client.get(`k${size}`))?.equals(value)).toBe(true);
    }
    expect((await client.stats()).aead).toBe('node');
    await client.close();
    await stop(server);
  });

  it('conduit-cli with a key refuses a bad CONDUIT_AEAD in one line before it connects', async () => {
    const { code, stdout, stderr } = await runCli(['--port', '1', 'get', 'x'], '', { CONDUIT_AEAD: 'fast', ...withKey });
    expect(stderr.trim()).toBe("error: CONDUIT_AEAD must be libsodium, node or noble (or unset), got 'fast'");
    expect(stdout.length).toBe(0);
    expect(code).not.toBe(0);
  });

  it('a plaintext server names no AEAD in its start-up line or STATS', async () => {
    const server = await startServerProcess(['--port', '0'], { env: { CONDUIT_AEAD: 'noble' } });
    expect(secureLogged(server)).toBe(false);
    const client = new ConduitClient({ port: server.port, reconnect: false });
    expect((await client.stats()).aead).toBeUndefined();
    await client.close();
    await stop(server);
  });
});
