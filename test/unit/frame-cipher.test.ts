import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as conduit from '../../src/index.js';
import { FrameCipher, MAX_BODY_SIZE, TAG_SIZE } from '../../src/index.js';
import { observeNonces } from '../../src/crypto/nonce-audit.js';

/** A 12-byte header with LENGTH = body + tag and the given identifier. */
function header(version: number, opcode: number, plaintextLength: number, id: bigint): Buffer {
  const h = Buffer.alloc(12);
  h[0] = version;
  h[1] = opcode;
  h.writeUInt16BE(plaintextLength + TAG_SIZE, 2);
  h.writeBigUInt64BE(id, 4);
  return h;
}

describe('FrameCipher (spec §6.4)', () => {
  it('is byte for byte noble’s xchacha20poly1305 with nonce = prefix ‖ identifier and AD = header', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.constant(0).map(() => new Uint8Array(randomBytes(MAX_BODY_SIZE - TAG_SIZE))),
          fc.integer({ min: 0, max: MAX_BODY_SIZE - TAG_SIZE }).map((n) => new Uint8Array(randomBytes(n))),
        ),
        (key, prefix, id, opcode, plaintext) => {
          const h = header(0x01, opcode, plaintext.length, id);
          const nonce = Buffer.concat([Buffer.from(prefix), h.subarray(4)]);
          const reference = xchacha20poly1305(key, nonce, h).encrypt(plaintext);
          const cipher = new FrameCipher(key, prefix);
          const sealed = cipher.seal(h, plaintext);
          expect(sealed.equals(Buffer.from(reference))).toBe(true);
          // The server's form: the same bytes as ciphertext and tag (the nonce repeats here only to compare).
          const [ciphertext, tag] = cipher.sealDetached(h, plaintext);
          expect(ciphertext.length).toBe(plaintext.length);
          expect(Buffer.concat([ciphertext, tag]).equals(sealed)).toBe(true);
          expect(cipher.open(h, sealed)?.equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a frame whose header, ciphertext or tag changed', () => {
    const cipher = new FrameCipher(randomBytes(32), randomBytes(16));
    const h = header(0x01, 0x01, 5, 7n);
    const sealed = cipher.seal(h, Buffer.from('hello'));
    for (let bit = 0; bit < (12 + sealed.length) * 8; bit += 1) {
      const hh = Buffer.from(h);
      const ss = Buffer.from(sealed);
      if (bit < 96) hh[bit >> 3] = (hh[bit >> 3] as number) ^ (1 << (bit & 7));
      else ss[(bit - 96) >> 3] = (ss[(bit - 96) >> 3] as number) ^ (1 << (bit & 7));
      expect(cipher.open(hh, ss), `bit ${bit}`).toBeUndefined();
    }
    expect(cipher.open(h, sealed.subarray(0, 15))).toBeUndefined();
  });
});

// Issue 24: the nonce audit was a public static hook (FrameCipher.onSeal) that any code
// could set and that received every session key.
describe('nonce audit seam (spec §6.4)', () => {
  it('is no public static of FrameCipher, and the package root does not export it', () => {
    expect(Object.getOwnPropertyNames(FrameCipher)).not.toContain('onSeal');
    expect(Object.keys(conduit)).not.toContain('observeNonces');
  });

  it('cannot be imported from outside the package (its exports map hides the module)', () => {
    const root = new URL('../..', import.meta.url).pathname;
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "await import('conduit-cache/dist/crypto/nonce-audit.js')"],
      { cwd: root, encoding: 'utf8', timeout: 10_000 },
    );
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('reports each sealed nonce with a fingerprint of the key, never the key', () => {
    const key = randomBytes(32);
    const prefix = randomBytes(16);
    const cipher = new FrameCipher(key, prefix);
    const seen: [string, Buffer][] = [];
    const stop = observeNonces((fingerprint, nonce) => seen.push([fingerprint, nonce]));
    try {
      cipher.seal(header(0x81, 0, 1, 42n), Buffer.from('x'));
    } finally {
      stop();
    }
    cipher.seal(header(0x81, 0, 1, 43n), Buffer.from('x')); // after stop(): not reported
    expect(seen).toHaveLength(1);
    const [fingerprint, nonce] = seen[0] as [string, Buffer];
    expect(fingerprint).toBe(createHash('sha256').update(key).digest('hex'));
    expect(fingerprint).not.toContain(key.toString('hex'));
    expect(nonce.equals(Buffer.concat([prefix, Buffer.from('000000000000002a', 'hex')]))).toBe(true);
    observeNonces(() => {})(); // stop() released the seat: a new observer installs
  });
});
