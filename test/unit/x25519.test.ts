// Issue 18: the handshake's X25519 runs on libsodium where the frame AEAD does, on
// node:crypto otherwise; both give spec §6's bytes and refuse an all-zero secret.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runModuleProbe } from '../support/module-probe.js';
import { libsodiumAvailable } from '../../src/crypto/aead-choice.js';
import { ephemeralFromPrivate, generateEphemeral, x25519Choice, type X25519Name } from '../../src/crypto/x25519.js';
import { vectors } from '../support/vectors.js';

const root = new URL('../..', import.meta.url).pathname;
const v = (vectors as unknown as { secure: Record<string, string> }).secure;
const hex = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'hex');
const both: X25519Name[] = libsodiumAvailable() ? ['libsodium', 'node'] : ['node'];

/** RFC 7748 §6.1 / libsodium's blocklist: points of small order, each giving an all-zero X25519 result. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

describe('X25519 for the handshake (spec §6.3, issue 18)', () => {
  it('follows the frame AEAD: libsodium with libsodium, node:crypto with node or noble', () => {
    const expected = process.env.CONDUIT_AEAD === 'node' || process.env.CONDUIT_AEAD === 'noble' ? 'node' : 'libsodium';
    expect(x25519Choice()).toBe(expected);
    expect(generateEphemeral().implementation).toBe(expected);
  });

  it.each(both)('%s: RFC 7748 §6.1 key pairs and shared secret (the spec §6.6 vectors)', (implementation) => {
    const alice = ephemeralFromPrivate(hex(v.clientPrivate), implementation);
    const bob = ephemeralFromPrivate(hex(v.serverPrivate), implementation);
    expect(alice.publicKey.toString('hex')).toBe(v.clientPublic);
    expect(bob.publicKey.toString('hex')).toBe(v.serverPublic);
    expect(alice.sharedSecret(bob.publicKey)?.toString('hex')).toBe(v.dh);
    expect(bob.sharedSecret(alice.publicKey)?.toString('hex')).toBe(v.dh);
  });

  it.each(both)('%s: refuses low-order public keys (all-zero result, RFC 7748 §6.1) and wrong lengths', (implementation) => {
    const own = generateEphemeral(implementation);
    for (const point of LOW_ORDER) expect(own.sharedSecret(hex(point)), point).toBeUndefined();
    expect(own.sharedSecret(Buffer.alloc(31, 9))).toBeUndefined();
    expect(own.sharedSecret(Buffer.alloc(33, 9))).toBeUndefined();
  });

  it.runIf(both.length === 2)('libsodium and node:crypto agree byte for byte on random keys, the top bit of the peer key set or not', () => {
    for (let i = 0; i < 200; i += 1) {
      const secret = randomBytes(32);
      const peer = randomBytes(32);
      if (i % 2 === 0) peer[31] = (peer[31] as number) | 0x80; // RFC 7748 §5: ignored by both
      const sodium = ephemeralFromPrivate(secret, 'libsodium');
      const node = ephemeralFromPrivate(secret, 'node');
      expect(sodium.publicKey.equals(node.publicKey)).toBe(true);
      expect(sodium.sharedSecret(peer)?.toString('hex')).toBe(node.sharedSecret(peer)?.toString('hex'));
    }
    const a = generateEphemeral('libsodium');
    const b = generateEphemeral('node');
    expect(a.sharedSecret(b.publicKey)?.equals(b.sharedSecret(a.publicKey) ?? Buffer.alloc(0))).toBe(true);
  });

  it('regression: 40,000 node:crypto key pairs do not deadlock the process (KeyObject.export jwk under GC, Node 20)', () => {
    // Run in a child with a timeout: a deadlocked process cannot time itself out. The old
    // generateEphemeral (generateKeyPairSync, then publicKey.export({ format: 'jwk' })) hung here.
    const probe = [
      "const { generateEphemeral } = await import('./dist/crypto/x25519.js');",
      "for (let i = 0; i < 40_000; i += 1) generateEphemeral('node');",
      "console.log('done');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8', timeout: 25_000 });
    expect(child.signal).toBeNull();
    expect(child.stdout.trim()).toBe('done');
  });

  it('CONDUIT_AEAD=node or noble never loads the addon for the handshake either; without the binding it falls back to node:crypto', () => {
    const probe = [
      "import { createRequire } from 'node:module';",
      "const m = await import('./dist/index.js');",
      "const native = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/sodium-native/'));",
      "const keys = new Map([['app', Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1))]]);",
      'const client = m.generateEphemeral();',
      "const accepted = m.acceptHello(m.encodeHello('app', client.publicKey), 0n, keys);",
      "const session = m.finishHello(accepted.reply, 0n, client, { id: 'app', secret: keys.get('app') });",
      'console.log(JSON.stringify([client.implementation, session instanceof m.ConduitError, native()]));',
    ].join('\n');
    const run = (value: string, more: Record<string, string> = {}): unknown => runModuleProbe(probe, value, more);
    expect(run('node')).toEqual(['node', false, false]);
    expect(run('noble')).toEqual(['node', false, false]);
    expect(run('')).toEqual(['libsodium', false, true]);
    const noSodium = { NODE_OPTIONS: `--require ${new URL('../support/no-sodium-native.cjs', import.meta.url).pathname}` };
    expect(run('', noSodium)).toEqual(['node', false, false]);
  });
});
