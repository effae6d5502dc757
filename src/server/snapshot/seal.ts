import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { aeadChoice, sodiumBinding } from '../../crypto/aead-choice.js';
import type { Sodium } from '../../crypto/aead-libsodium.js';
import type { AeadName } from '../../crypto/frame-aead.js';
import { hchachaSubkey } from '../../crypto/subkey.js';
import { SALT_SIZE, SEAL_TAG_SIZE } from './format.js';

/**
 * Sealing a snapshot (docs/SNAPSHOT.md §Sealing): each section payload,
 * the header's key check and the trailer tag are XChaCha20-Poly1305 under
 * the `--snapshot-key`, with the file's 16-byte salt as the first 16 nonce
 * bytes and a u64 as the last 8 (the section index; 2^64 − 2 for the key
 * check, 2^64 − 1 for the trailer). Same construction and the same three
 * implementations as the frame AEAD (spec §6.4, src/crypto/aead-choice.ts):
 * HChaCha20(key, salt) once per file (src/crypto/subkey.ts), then
 * ChaCha20-Poly1305 (RFC 8439) with the nonce `00000000` ‖ u64. The frame
 * AEAD itself is not reused because its associated data is a 12-byte frame
 * header that also carries the nonce; a section's associated data is 44
 * bytes (header 0–15, salt, section header 0–11).
 *
 * libsodium and noble seal and open in place; node:crypto returns a new
 * buffer per call, copied back (the fallback only).
 *
 * @example
 * ```ts
 * const seal = new SnapshotSeal(key, headerBytes);    // header bytes 0–15 and the salt at 48–63
 * seal.sealSection(0, sectionHeader, buffer, 24, n); // ciphertext in place, tag at 24 + n
 * ```
 * @module
 */

/** A `--snapshot-key` is 32 bytes (XChaCha20's key size). */
export const SNAPSHOT_KEY_SIZE = 32;

/** One ChaCha20-Poly1305 call in place, as each implementation does it. */
interface Primitive {
  seal(nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, tag: Uint8Array): void;
  open(nonce: Uint8Array, ad: Uint8Array, data: Uint8Array, tag: Uint8Array): boolean;
}

function sodiumPrimitive(sodium: Sodium, subkey: Uint8Array): Primitive {
  return {
    seal(nonce, ad, data, tag) {
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(data, tag, data, ad, null, nonce, subkey);
    },
    open(nonce, ad, data, tag) {
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(data, null, data, tag, ad, nonce, subkey);
        return true;
      } catch {
        return false; // libsodium checks the tag first and leaves `data` untouched or zeroed
      }
    },
  };
}

function nodePrimitive(subkey: KeyObject): Primitive {
  return {
    seal(nonce, ad, data, tag) {
      const cipher = createCipheriv('chacha20-poly1305', subkey, nonce, { authTagLength: SEAL_TAG_SIZE });
      cipher.setAAD(ad, { plaintextLength: data.length });
      data.set(cipher.update(data));
      cipher.final();
      tag.set(cipher.getAuthTag());
    },
    open(nonce, ad, data, tag) {
      const decipher = createDecipheriv('chacha20-poly1305', subkey, nonce, { authTagLength: SEAL_TAG_SIZE });
      decipher.setAuthTag(tag);
      decipher.setAAD(ad, { plaintextLength: data.length });
      const plaintext = decipher.update(data);
      try {
        decipher.final(); // the tag is checked here, before a byte reaches `data`
      } catch {
        return false;
      }
      data.set(plaintext);
      return true;
    },
  };
}

function noblePrimitive(subkey: Uint8Array): Primitive {
  return {
    seal(nonce, ad, data, tag) {
      // noble writes ciphertext ‖ tag into one output; the tag is copied out of the
      // 16 bytes after `data` when the caller's tag is not there already.
      const adjacent = tag.buffer === data.buffer && tag.byteOffset === data.byteOffset + data.length;
      if (adjacent) chacha20poly1305(subkey, nonce, ad).encrypt(data, new Uint8Array(data.buffer, data.byteOffset, data.length + SEAL_TAG_SIZE));
      else tag.set(chacha20poly1305(subkey, nonce, ad).encrypt(data).subarray(data.length));
    },
    open(nonce, ad, data, tag) {
      const sealed = new Uint8Array(data.length + SEAL_TAG_SIZE);
      sealed.set(data);
      sealed.set(tag, data.length);
      try {
        chacha20poly1305(subkey, nonce, ad).decrypt(sealed, data); // tag checked before plaintext is written
        return true;
      } catch {
        return false;
      }
    },
  };
}

function primitiveFor(implementation: AeadName, subkey: Uint8Array): Primitive {
  if (implementation === 'noble') return noblePrimitive(subkey);
  if (implementation === 'node') return nodePrimitive(createSecretKey(subkey));
  const sodium = sodiumBinding();
  if (sodium instanceof Error) throw new TypeError(`libsodium is not available: ${sodium.message.split('\n', 1)[0] ?? ''}`);
  return sodiumPrimitive(sodium, subkey);
}

/** The last nonce word of the key check, 2^64 − 2, and of the trailer tag, 2^64 − 1. */
const KEY_CHECK_WORD = 0xfe;
const TRAILER_WORD = 0xff;

/**
 * Seals and opens the sections of one snapshot file, and makes its key
 * check and trailer tag. One per file: it holds the file's subkey and one
 * scratch nonce and associated data, so calls must not interleave (they
 * are synchronous).
 *
 * @example
 * ```ts
 * const seal = new SnapshotSeal(key, header);
 * header.set(seal.keyCheck(), 64);
 * if (!seal.openSection(3, bytes, at, at + 24, length)) return 'section 3 does not authenticate';
 * ```
 */
export class SnapshotSeal {
  readonly implementation: AeadName;
  readonly #primitive: Primitive;
  readonly #nonce = new Uint8Array(12);
  /** header 0–15 ‖ salt ‖ section header 0–11; the first 32 bytes are fixed per file. */
  readonly #ad = new Uint8Array(44);

  /**
   * `key`: the 32-byte `--snapshot-key`. `header`: the file's header bytes
   * at `offset` (bytes 0–15 and the salt at 48–63 are what is used, so a
   * writer may pass the header before its counts are known).
   */
  constructor(key: Uint8Array, header: Uint8Array, offset = 0, implementation: AeadName = aeadChoice().implementation) {
    if (!(key instanceof Uint8Array) || key.length !== SNAPSHOT_KEY_SIZE) {
      throw new TypeError(`snapshot key must be ${SNAPSHOT_KEY_SIZE} bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`);
    }
    this.implementation = implementation;
    this.#ad.set(header.subarray(offset, offset + 16), 0);
    const salt = header.subarray(offset + 48, offset + 48 + SALT_SIZE);
    this.#ad.set(salt, 16);
    this.#primitive = primitiveFor(implementation, hchachaSubkey(key, salt));
  }

  #setNonce(index: number): void {
    const view = new DataView(this.#nonce.buffer);
    view.setUint32(4, index >>> 0, true);
    view.setUint32(8, Math.floor(index / 2 ** 32), true);
  }

  #setNonceWord(byte: number): void {
    this.#nonce.fill(0xff, 4, 12);
    this.#nonce[4] = byte;
  }

  /**
   * The key check (header bytes 64–79): the tag of an empty plaintext under
   * nonce salt ‖ (2^64 − 2) with header 0–15 ‖ salt as associated data.
   *
   * @example
   * ```ts
   * header.set(seal.keyCheck(), 64);
   * ```
   */
  keyCheck(): Uint8Array {
    this.#setNonceWord(KEY_CHECK_WORD);
    const tag = new Uint8Array(SEAL_TAG_SIZE);
    this.#primitive.seal(this.#nonce, this.#ad.subarray(0, 32), new Uint8Array(0), tag);
    return tag;
  }

  /**
   * True when `keyCheck` (16 bytes) is this key's key check: false means
   * the file was sealed with another key.
   *
   * @example
   * ```ts
   * if (!seal.checkKey(header.keyCheck)) return 'wrong_key';
   * ```
   */
  checkKey(keyCheck: Uint8Array): boolean {
    this.#setNonceWord(KEY_CHECK_WORD);
    return this.#primitive.open(this.#nonce, this.#ad.subarray(0, 32), new Uint8Array(0), keyCheck);
  }

  /**
   * The trailer tag: an empty plaintext under nonce salt ‖ (2^64 − 1), the
   * trailer's bytes 0–31 at `trailer[offset]` as associated data.
   *
   * @example
   * ```ts
   * encodeTrailer({ ...counts, tag: seal.trailerTag(scratch, 0) }, buffer, 0);
   * ```
   */
  trailerTag(trailer: Uint8Array, offset: number): Uint8Array {
    this.#setNonceWord(TRAILER_WORD);
    const tag = new Uint8Array(SEAL_TAG_SIZE);
    this.#primitive.seal(this.#nonce, trailer.subarray(offset, offset + 32), new Uint8Array(0), tag);
    return tag;
  }

  /**
   * True when `tag` is the trailer tag of the trailer at `trailer[offset]`.
   *
   * @example
   * ```ts
   * if (!seal.checkTrailer(bytes, at, trailer.tag)) return 'trailer does not authenticate';
   * ```
   */
  checkTrailer(trailer: Uint8Array, offset: number, tag: Uint8Array): boolean {
    this.#setNonceWord(TRAILER_WORD);
    return this.#primitive.open(this.#nonce, trailer.subarray(offset, offset + 32), new Uint8Array(0), tag);
  }

  #sectionAd(sectionHeader: Uint8Array, headerOffset: number): Uint8Array {
    this.#ad.set(sectionHeader.subarray(headerOffset, headerOffset + 12), 32);
    return this.#ad;
  }

  /**
   * Seals `buffer[start, start + length)` in place as section `index`,
   * whose header bytes 0–11 (magic, index, records) are already at
   * `sectionHeader[headerOffset]`; the tag goes to `buffer[start + length,
   * start + length + 16)`.
   *
   * @example
   * ```ts
   * seal.sealSection(i, buffer, 0, buffer, 24, plaintextLength); // stored length = plaintextLength + 16
   * ```
   */
  sealSection(index: number, sectionHeader: Uint8Array, headerOffset: number, buffer: Uint8Array, start: number, length: number): void {
    this.#setNonce(index);
    const data = new Uint8Array(buffer.buffer, buffer.byteOffset + start, length);
    const tag = new Uint8Array(buffer.buffer, buffer.byteOffset + start + length, SEAL_TAG_SIZE);
    this.#primitive.seal(this.#nonce, this.#sectionAd(sectionHeader, headerOffset), data, tag);
  }

  /**
   * Opens the `stored` bytes at `buffer[start]` (ciphertext ‖ tag) of
   * section `index` in place: true and the plaintext at `buffer[start,
   * start + stored − 16)`, or false when the payload does not authenticate
   * (nothing of it is then to be used).
   *
   * @example
   * ```ts
   * if (!seal.openSection(i, bytes, at, bytes, at + 24, length)) return `section ${i} does not authenticate`;
   * ```
   */
  openSection(index: number, sectionHeader: Uint8Array, headerOffset: number, buffer: Uint8Array, start: number, stored: number): boolean {
    if (stored < SEAL_TAG_SIZE) return false;
    this.#setNonce(index);
    const n = stored - SEAL_TAG_SIZE;
    const data = new Uint8Array(buffer.buffer, buffer.byteOffset + start, n);
    const tag = new Uint8Array(buffer.buffer, buffer.byteOffset + start + n, SEAL_TAG_SIZE);
    return this.#primitive.open(this.#nonce, this.#sectionAd(sectionHeader, headerOffset), data, tag);
  }
}
