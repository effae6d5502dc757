import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { TAG_SIZE, view, writeNonce, type FrameAead } from './frame-aead.js';
import { hchachaSubkey } from './subkey.js';

/**
 * The frame AEAD in pure JavaScript, `@noble/ciphers` (spec §6.4): the
 * tests' independent oracle, and in use only with `CONDUIT_AEAD=noble`
 * (slower than `node:crypto`, the runtime fallback: README "Secure mode"). Noble writes the ciphertext and the tag
 * straight into the caller's range (its `output` argument); it still makes
 * a small cipher object and a Poly1305 state per frame, which is what the
 * fallback costs beyond the arithmetic (README, "Secure mode").
 *
 * @example
 * ```ts
 * const aead = new NobleFrameAead(key, prefix);
 * aead.sealInto(header, plaintext, out, 0);
 * ```
 */
export class NobleFrameAead implements FrameAead {
  readonly implementation = 'noble';
  readonly #subkey: Uint8Array;
  /** The one scratch nonce of this session direction: 00000000 ‖ IDENTIFIER. */
  readonly #nonce = new Uint8Array(12);

  constructor(key: Uint8Array, prefix: Uint8Array) {
    this.#subkey = hchachaSubkey(key, prefix);
  }

  sealInto(header: Uint8Array, plaintext: Uint8Array, target: Uint8Array, offset: number): void {
    writeNonce(this.#nonce, header);
    // In place is fine: noble copies the plaintext to the output first (a no-op when they coincide).
    chacha20poly1305(this.#subkey, this.#nonce, header).encrypt(plaintext, view(target, offset, plaintext.length + TAG_SIZE));
  }

  openInto(header: Uint8Array, sealed: Uint8Array, target: Uint8Array, offset: number): boolean {
    const length = sealed.length - TAG_SIZE;
    writeNonce(this.#nonce, header);
    try {
      // Noble checks the tag before it writes a byte of plaintext (RFC 8439 §4).
      chacha20poly1305(this.#subkey, this.#nonce, header).decrypt(sealed, view(target, offset, length));
      return true;
    } catch {
      target.fill(0, offset, offset + length); // as libsodium leaves it: no ciphertext to mistake for plaintext
      return false;
    }
  }
}
