import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { aeadChoice, sodiumBinding } from './aead-choice.js';
import type { Sodium } from './aead-libsodium.js';

/**
 * The handshake's X25519 (spec §6.3, RFC 7748), in libsodium where
 * `sodium-native` serves the frame AEAD, in `node:crypto` otherwise (issue
 * 18). Both give the same bytes; libsodium takes about half the time of a
 * whole server handshake (`npx just bench-codec`, "Handshake"), because
 * node:crypto wraps every key in a KeyObject.
 *
 * node:crypto's public key comes out of `generateKeyPairSync` itself
 * (`publicKeyEncoding: jwk`), never from `KeyObject.export({ format: 'jwk' })`:
 * on Node 20 that export holds the key's mutex while it allocates, and a
 * garbage collection there that frees the key's generation job takes the
 * same mutex: the process deadlocks, reproducibly after some 10,000–25,000
 * handshakes (found measuring issue 18's handshake flood). DER encoding is
 * safe but 3× as slow (OpenSSL 3's encoders).
 *
 * @module
 */

/** Which library computes X25519: `'libsodium'` or `'node'` (node:crypto). */
export type X25519Name = 'libsodium' | 'node';

/** An X25519 key pair used for one handshake only; its private key never leaves it. */
export interface Ephemeral {
  /** The library that made it and computes its shared secrets. */
  readonly implementation: X25519Name;
  /** The raw 32-byte public key. */
  readonly publicKey: Buffer;
  /**
   * X25519(own private, `peerPublic`) (spec §6.3), or `undefined` when the
   * peer key is not 32 bytes or the result is all zero (a low-order point,
   * RFC 7748 §6.1).
   */
  sharedSecret(peerPublic: Uint8Array): Buffer | undefined;
}

/**
 * The X25519 of this process: libsodium when the frame AEAD is libsodium
 * (so `CONDUIT_AEAD=node` or `noble` never loads the addon here either),
 * node:crypto otherwise.
 *
 * @example
 * ```ts
 * x25519Choice(); // 'libsodium' where sodium-native loads
 * ```
 */
export function x25519Choice(): X25519Name {
  return aeadChoice().implementation === 'libsodium' ? 'libsodium' : 'node';
}

const isZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

function binding(): Sodium {
  const sodium = sodiumBinding();
  if (sodium instanceof Error) throw new TypeError(`libsodium is not available: ${sodium.message.split('\n', 1)[0] ?? ''}`);
  return sodium;
}

class SodiumEphemeral implements Ephemeral {
  readonly implementation = 'libsodium';
  readonly publicKey = Buffer.alloc(32);
  readonly #sodium: Sodium;
  readonly #privateKey: Buffer;

  constructor(sodium: Sodium, privateKey: Buffer) {
    this.#sodium = sodium;
    this.#privateKey = privateKey;
    sodium.crypto_scalarmult_base(this.publicKey, privateKey);
  }

  sharedSecret(peerPublic: Uint8Array): Buffer | undefined {
    if (peerPublic.length !== 32) return undefined;
    const dh = Buffer.alloc(32);
    try {
      this.#sodium.crypto_scalarmult(dh, this.#privateKey, peerPublic);
    } catch {
      return undefined; // libsodium refuses an all-zero result itself
    }
    return isZero(dh) ? undefined : dh;
  }
}

class NodeEphemeral implements Ephemeral {
  readonly implementation = 'node';
  readonly publicKey: Buffer;
  readonly #privateKey: KeyObject;

  constructor(privateKey: KeyObject, publicKey: Buffer) {
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
  }

  sharedSecret(peerPublic: Uint8Array): Buffer | undefined {
    if (peerPublic.length !== 32) return undefined;
    try {
      // JWK import: about 10× as fast as DER (SPKI) in OpenSSL 3, and it holds no lock of ours.
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerPublic).toString('base64url') }, format: 'jwk' });
      const dh = diffieHellman({ privateKey: this.#privateKey, publicKey });
      return isZero(dh) ? undefined : dh;
    } catch {
      return undefined;
    }
  }
}

/**
 * A fresh X25519 key pair, from `implementation` (default: the process's
 * {@link x25519Choice}).
 *
 * @example
 * ```ts
 * const ephemeral = generateEphemeral();
 * ephemeral.publicKey;              // 32 bytes, sent in HELLO
 * ephemeral.sharedSecret(serverPub); // dh, or undefined for a low-order key
 * ```
 */
export function generateEphemeral(implementation: X25519Name = x25519Choice()): Ephemeral {
  if (implementation === 'libsodium') {
    const sodium = binding();
    const privateKey = Buffer.alloc(32);
    sodium.randombytes_buf(privateKey);
    return new SodiumEphemeral(sodium, privateKey);
  }
  // The public key encoded inside the generation, not exported afterwards: see the module comment.
  // (@types/node has no overload for a JWK public key with a KeyObject private key.)
  const generate = generateKeyPairSync as unknown as (type: 'x25519', options: object) => { publicKey: JsonWebKey; privateKey: KeyObject };
  const pair = generate('x25519', { publicKeyEncoding: { format: 'jwk' } });
  return new NodeEphemeral(pair.privateKey, Buffer.from(pair.publicKey.x ?? '', 'base64url'));
}

const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * The key pair of a given 32-byte private key; for test vectors only.
 *
 * @example
 * ```ts
 * ephemeralFromPrivate(Buffer.alloc(32, 1)).publicKey;
 * ```
 */
export function ephemeralFromPrivate(raw: Uint8Array, implementation: X25519Name = x25519Choice()): Ephemeral {
  if (raw.length !== 32) throw new RangeError(`an X25519 private key is 32 bytes, got ${raw.length}`);
  if (implementation === 'libsodium') return new SodiumEphemeral(binding(), Buffer.from(raw));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  // SPKI DER is a 12-byte prefix and the raw key.
  return new NodeEphemeral(privateKey, createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(12));
}
