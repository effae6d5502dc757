import { createRequire } from 'node:module';
import { samePlace, TAG_SIZE, view, writeNonce, type FrameAead } from './frame-aead.js';
import { hchachaSubkey } from './subkey.js';

/**
 * The functions of `sodium-native` this package calls: libsodium's
 * `crypto_aead_chacha20poly1305_ietf_*_detached` (here) and X25519 with its
 * random source (./x25519.ts); the package ships no types of its own.
 */
export interface Sodium {
  /** X25519(n, p) into `q` (RFC 7748 §5); throws when the result is all zero (libsodium returns -1, RFC 7748 §6.1). */
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  /** X25519(n, 9): the public key of private key `n`. */
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  /** Fills `buffer` from the operating system's random source. */
  randombytes_buf(buffer: Uint8Array): void;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(
    c: Uint8Array,
    mac: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** Throws when the tag does not verify (and then zeroes `m`). */
  crypto_aead_chacha20poly1305_ietf_decrypt_detached(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    mac: Uint8Array,
    ad: Uint8Array,
    npub: Uint8Array,
    k: Uint8Array,
  ): void;
}

/**
 * Loads `sodium-native` (an optional dependency whose npm package carries
 * prebuilt libsodium binaries for linux, darwin and win32): the binding, or
 * the reason it cannot load (not installed, no binary for this platform).
 *
 * @example
 * ```ts
 * const sodium = loadSodium();
 * if (sodium instanceof Error) console.log(`libsodium unavailable: ${sodium.message}`);
 * ```
 */
export function loadSodium(): Sodium | Error {
  try {
    const sodium = createRequire(import.meta.url)('sodium-native') as Partial<Sodium>;
    for (const name of ['crypto_aead_chacha20poly1305_ietf_encrypt_detached', 'crypto_scalarmult', 'crypto_scalarmult_base', 'randombytes_buf'] as const) {
      if (typeof sodium[name] !== 'function') return new Error(`sodium-native has no ${name}`);
    }
    return sodium as Sodium;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The frame AEAD in libsodium (spec §6.4), the default: one native call per
 * seal or open, ciphertext and tag written into the caller's buffer
 * (detached: the tag goes right after the ciphertext), the nonce from one
 * scratch array. libsodium verifies the tag before it decrypts and zeroes
 * the output of a frame that does not authenticate.
 *
 * @example
 * ```ts
 * const sodium = loadSodium();
 * if (!(sodium instanceof Error)) new LibsodiumFrameAead(sodium, key, prefix).sealInto(header, plaintext, out, 0);
 * ```
 */
export class LibsodiumFrameAead implements FrameAead {
  readonly implementation = 'libsodium';
  readonly #sodium: Sodium;
  readonly #subkey: Uint8Array;
  /** The one scratch nonce of this session direction: 00000000 ‖ IDENTIFIER. */
  readonly #nonce = new Uint8Array(12);

  constructor(sodium: Sodium, key: Uint8Array, prefix: Uint8Array) {
    this.#sodium = sodium;
    this.#subkey = hchachaSubkey(key, prefix);
  }

  sealInto(header: Uint8Array, plaintext: Uint8Array, target: Uint8Array, offset: number): void {
    const n = plaintext.length;
    writeNonce(this.#nonce, header);
    // The binding takes whole typed arrays, so the output ranges are views (no bytes
    // allocated); in place, the plaintext's view is the ciphertext's too.
    this.#sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(
      samePlace(plaintext, target, offset) ? plaintext : view(target, offset, n),
      view(target, offset + n, TAG_SIZE),
      plaintext,
      header,
      null,
      this.#nonce,
      this.#subkey,
    );
  }

  openInto(header: Uint8Array, sealed: Uint8Array, target: Uint8Array, offset: number): boolean {
    const n = sealed.length - TAG_SIZE;
    writeNonce(this.#nonce, header);
    const ciphertext = view(sealed, 0, n);
    try {
      this.#sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(
        samePlace(sealed, target, offset) ? ciphertext : view(target, offset, n),
        null,
        ciphertext,
        view(sealed, n, TAG_SIZE),
        header,
        this.#nonce,
        this.#subkey,
      );
      return true;
    } catch {
      // The only throw left once FrameCipher has checked the sizes: the tag did not verify.
      // libsodium has zeroed the range already; the interface promises it, so it does not rest on that.
      target.fill(0, offset, offset + n);
      return false;
    }
  }
}
