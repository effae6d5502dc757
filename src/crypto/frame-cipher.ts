import { createCipheriv, createDecipheriv } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { swap32IfBE, u32 } from '@noble/ciphers/utils.js';
import { HEADER_SIZE } from '../protocol/constants.js';
import { auditing, reportSeal } from './nonce-audit.js';

/** spec §6.4: every sealed body ends with a 16-byte Poly1305 tag. */
export const TAG_SIZE = 16;

/** "expand 32-byte k" as the four ChaCha constant words (RFC 8439 §2.3). */
const SIGMA = swap32IfBE(u32(new TextEncoder().encode('expand 32-byte k')));
const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XChaCha20's subkey: HChaCha20(key, nonce[0..16]) (draft-irtf-cfrg-xchacha
 * §2.2), computed with noble's `hchacha`, which takes 32-bit words.
 */
function hchachaSubkey(key: Uint8Array, prefix: Uint8Array): Buffer {
  const k32 = u32(Uint8Array.from(key));
  const n32 = u32(Uint8Array.from(prefix));
  const out = new Uint32Array(8);
  if (isLittleEndian) {
    hchacha(SIGMA, k32, n32, out);
  } else {
    // Same word-order normalisation noble applies on big-endian hosts.
    const sigma = swap32IfBE(Uint32Array.from(SIGMA));
    hchacha(sigma, k32, n32, out);
    swap32IfBE(out);
  }
  return Buffer.from(out.buffer, out.byteOffset, 32);
}

/**
 * XChaCha20-Poly1305 for one direction of a secure session (spec §6.4):
 * nonce = `prefix` (16 bytes, fixed per session and direction) ‖ the frame's
 * IDENTIFIER (8 bytes), associated data = the 12-byte header as sent.
 *
 * Because the first 16 nonce bytes never change, XChaCha20's HChaCha20
 * subkey never changes either: it is computed once here (noble's
 * `hchacha`), and each frame is then plain ChaCha20-Poly1305 (RFC 8439) in
 * `node:crypto` with nonce = 4 zero bytes ‖ IDENTIFIER, which is byte for
 * byte the same XChaCha20-Poly1305 (test/unit/frame-cipher.test.ts checks it
 * against noble's `xchacha20poly1305`). No cryptography is written here.
 *
 * @example
 * ```ts
 * const send = new FrameCipher(keys.c2s, keys.prefixC2s);
 * const sealed = send.seal(header, plaintext); // ciphertext ‖ tag
 * const plain = receive.open(header, sealed);  // undefined when forged
 * ```
 */
export class FrameCipher {
  readonly #key: Buffer;
  readonly #subkey: Buffer;
  readonly #prefix: Buffer;

  constructor(key: Uint8Array, prefix: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`key must be 32 bytes, got ${key.length}`);
    if (prefix.length !== 16) throw new RangeError(`nonce prefix must be 16 bytes, got ${prefix.length}`);
    this.#key = Buffer.from(key);
    this.#subkey = hchachaSubkey(key, prefix);
    this.#prefix = Buffer.from(prefix);
  }

  /** The 12-byte ChaCha20-Poly1305 nonce of a header: 4 zero bytes ‖ IDENTIFIER. */
  #nonce(header: Buffer): Buffer {
    if (header.length !== HEADER_SIZE) throw new RangeError(`header must be ${HEADER_SIZE} bytes, got ${header.length}`);
    const nonce = Buffer.alloc(12);
    header.copy(nonce, 4, 4, 12);
    return nonce;
  }

  /**
   * Encrypts `plaintext` for the frame whose header (LENGTH = plaintext + 16)
   * is `header`; returns ciphertext ‖ tag.
   */
  seal(header: Buffer, plaintext: Uint8Array): Buffer {
    const [ciphertext, tag] = this.sealDetached(header, plaintext);
    return Buffer.concat([ciphertext, tag], ciphertext.length + TAG_SIZE);
  }

  /**
   * Like {@link seal}, but returns the ciphertext and the tag as two buffers,
   * to be written one after the other. The server uses it for responses so a
   * large value is not copied once more: that copy would be garbage the size
   * of the value, which piles up in RSS until V8 collects it.
   *
   * @example
   * ```ts
   * const [ciphertext, tag] = send.sealDetached(header, plaintext);
   * socket.write(header); socket.write(ciphertext); socket.write(tag);
   * ```
   */
  sealDetached(header: Buffer, plaintext: Uint8Array): [ciphertext: Buffer, tag: Buffer] {
    const nonce = this.#nonce(header);
    if (auditing()) reportSeal(this.#key, this.#prefix, nonce.subarray(4)); // tests only: see nonce-audit.ts
    const cipher = createCipheriv('chacha20-poly1305', this.#subkey, nonce, { authTagLength: TAG_SIZE });
    cipher.setAAD(header, { plaintextLength: plaintext.length });
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return [ciphertext, cipher.getAuthTag()];
  }

  /**
   * Checks the tag, then decrypts (spec §6.4: nothing of a forged frame is
   * used); returns `undefined` when the frame does not authenticate.
   */
  open(header: Buffer, sealed: Uint8Array): Buffer | undefined {
    if (sealed.length < TAG_SIZE) return undefined;
    const length = sealed.length - TAG_SIZE;
    const decipher = createDecipheriv('chacha20-poly1305', this.#subkey, this.#nonce(header), { authTagLength: TAG_SIZE });
    decipher.setAuthTag(sealed.subarray(length));
    decipher.setAAD(header, { plaintextLength: length });
    const plaintext = decipher.update(sealed.subarray(0, length));
    try {
      decipher.final(); // verifies the tag; throws when it does not match
    } catch {
      plaintext.fill(0);
      return undefined;
    }
    return plaintext;
  }
}
