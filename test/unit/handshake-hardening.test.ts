// Issue 15 item 10: the key id is checked before any key pair is made; one
// AUTH_FAILED message for every handshake failure; weak pre-shared keys refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  acceptHello,
  AUTH_FAILED_MESSAGE,
  checkKeyStrength,
  encodeHello,
  generateEphemeral,
  HelloRefusal,
  loadKeyFile,
  parseKeySpec,
  ProtocolError,
  resolveServerOptions,
  Status,
} from '../../src/index.js';

const secret = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
const keys = new Map([['app', secret]]);
const clientPub = generateEphemeral().publicKey;

describe('acceptHello checks the key id before generating a key pair (issue 15 item 10)', () => {
  it('an unknown key id never calls the key-pair generator', () => {
    const generate = vi.fn(generateEphemeral);
    const result = acceptHello(encodeHello('nobody', clientPub), 0n, keys, generate);
    expect(generate).not.toHaveBeenCalled();
    expect(result).toBeInstanceOf(HelloRefusal);
    expect(result).toMatchObject({ code: 'AUTH_FAILED', status: Status.AUTH_FAILED, reason: 'unknown_key_id', keyId: 'nobody', fatal: true });
  });

  it('a bad version or a malformed body never calls the generator either', () => {
    const generate = vi.fn(generateEphemeral);
    const good = encodeHello('app', clientPub);
    const badVersion = Buffer.from(good);
    badVersion[0] = 2;
    expect(acceptHello(badVersion, 0n, keys, generate)).toMatchObject({ reason: 'bad_version' });
    expect(acceptHello(good.subarray(0, good.length - 1), 0n, keys, generate)).toMatchObject({ reason: 'malformed' });
    expect(acceptHello(Buffer.alloc(0), 0n, keys, generate)).toMatchObject({ reason: 'bad_version' });
    expect(generate).not.toHaveBeenCalled();
  });

  it('a known key id calls the generator exactly once and succeeds', () => {
    const generate = vi.fn(generateEphemeral);
    const result = acceptHello(encodeHello('app', clientPub), 7n, keys, generate);
    expect(generate).toHaveBeenCalledTimes(1);
    expect(result).not.toBeInstanceOf(ProtocolError);
    expect(result).toMatchObject({ keyId: 'app' });
  });

  it('unknown id, malformed body, bad version and a bad public key carry one and the same wire message', () => {
    const lowOrder = Buffer.alloc(32); // all-zero X25519 result (RFC 7748 §6.1)
    const good = encodeHello('app', clientPub);
    const refusals = [
      acceptHello(encodeHello('nobody', clientPub), 0n, keys),
      acceptHello(good.subarray(0, 10), 0n, keys),
      acceptHello(Buffer.from([9, ...good.subarray(1)]), 0n, keys),
      acceptHello(encodeHello('app', lowOrder), 0n, keys),
    ];
    expect(refusals.map((r) => (r as HelloRefusal).reason)).toEqual(['unknown_key_id', 'malformed', 'bad_version', 'bad_public_key']);
    expect(new Set(refusals.map((r) => (r as HelloRefusal).message))).toEqual(new Set([AUTH_FAILED_MESSAGE]));
  });
});

describe('weak pre-shared keys are refused at start (issue 15 item 10)', () => {
  const weak: [string, Buffer][] = [
    ['all zero', Buffer.alloc(32)],
    ['all one value', Buffer.alloc(32, 0x41)],
    ['7 distinct values repeated', Buffer.from(Array.from({ length: 32 }, (_, i) => i % 7))],
  ];
  for (const [name, key] of weak) {
    it(`checkKeyStrength refuses a key that is ${name}, naming the key id and where it came from`, () => {
      expect(() => checkKeyStrength('app', key, 'CONDUIT_KEY')).toThrow(/^CONDUIT_KEY: key 'app' is too weak: .*at least 8 distinct byte values in 32/);
    });
  }

  it('names the byte of an all-same key', () => {
    expect(() => checkKeyStrength('app', Buffer.alloc(32), 'CONDUIT_KEY')).toThrow("CONDUIT_KEY: key 'app' is too weak: all 32 bytes are 0x00");
  });

  it('accepts 8 distinct values, and every random key', () => {
    expect(() => checkKeyStrength('app', Buffer.from(Array.from({ length: 32 }, (_, i) => i % 8)), 'x')).not.toThrow();
    for (let i = 0; i < 1_000; i += 1) checkKeyStrength('app', generateEphemeral().publicKey, 'x');
  });

  it('parseKeySpec, loadKeyFile and the keys option refuse an all-zero key', () => {
    const zero = Buffer.alloc(32).toString('base64');
    expect(() => parseKeySpec(`app:${zero}`)).toThrow("CONDUIT_KEY: key 'app' is too weak");
    const dir = mkdtempSync(join(tmpdir(), 'conduit-keys-'));
    const file = join(dir, 'keys.toml');
    writeFileSync(file, `[[keys]]\nid = "ops"\nkey = "${zero}"\n`);
    expect(() => loadKeyFile(file)).toThrow(`${file}: keys[0]: key 'ops' is too weak`);
    expect(() => resolveServerOptions({ keys: [{ id: 'lib', secret: Buffer.alloc(32) }] })).toThrow("keys option: key 'lib' is too weak");
  });
});
