/**
 * The frame AEAD (spec §6.4): what sealing and opening one frame body needs,
 * as one interface with three implementations, one chosen per process
 * (./aead-choice.ts): libsodium through `sodium-native` (the default),
 * `node:crypto` (the fallback) and the pure-JS `@noble/ciphers` (the tests'
 * oracle).
 *
 * One `FrameAead` serves one direction of one session: it holds that
 * direction's key and nonce prefix, and one scratch nonce it rewrites per
 * frame. Calls run to completion synchronously, so the scratch is never
 * shared between two frames in flight.
 *
 * All three seal XChaCha20-Poly1305 the way spec §6.4 allows:
 * the HChaCha20 subkey of (key, prefix) is computed once (./subkey.ts), and
 * each frame is ChaCha20-Poly1305 (RFC 8439) under that subkey with the
 * 12-byte nonce `00000000` ‖ IDENTIFIER, byte for byte the same.
 *
 * @example
 * ```ts
 * const aead: FrameAead = createFrameAead(keys.c2s, keys.prefixC2s);
 * aead.sealInto(header, plaintext, out, 12); // ciphertext at out[12…], tag after it
 * ```
 * @module
 */

/** spec §6.4: every sealed body ends with a 16-byte Poly1305 tag. */
export const TAG_SIZE = 16;

/** The implementations a {@link FrameAead} can come from. */
export const AEAD_NAMES = ['libsodium', 'node', 'noble'] as const;

/**
 * Which implementation seals and opens frames: `'libsodium'` (native,
 * `sodium-native`), `'node'` (`node:crypto`, OpenSSL) or `'noble'`
 * (`@noble/ciphers`, pure JS).
 *
 * @example
 * ```ts
 * const name: AeadName = aeadChoice().implementation; // 'libsodium' unless it could not load
 * ```
 */
export type AeadName = (typeof AEAD_NAMES)[number];

/**
 * Seals and opens frame bodies of one session direction, in caller-given
 * buffers. The caller has checked the arguments (./frame-cipher.ts does):
 * a 12-byte `header`, room in `target`, and an input that is either exactly
 * the output range (in place) or does not overlap it.
 *
 * @example
 * ```ts
 * aead.sealInto(header, plaintext, target, at);          // target[at … at+n+16) = ciphertext ‖ tag
 * const ok = aead.openInto(header, sealed, target, at);   // target[at … at+n) = plaintext
 * ```
 */
export interface FrameAead {
  /** Which implementation this is. */
  readonly implementation: AeadName;
  /**
   * Encrypts `plaintext` (n bytes) for the frame whose 12-byte `header` is
   * the associated data and whose IDENTIFIER (header bytes 4–12) is the end
   * of the nonce: ciphertext to `target[offset, offset + n)`, the tag to
   * `target[offset + n, offset + n + 16)`.
   */
  sealInto(header: Uint8Array, plaintext: Uint8Array, target: Uint8Array, offset: number): void;
  /**
   * Checks the tag at the end of `sealed` (ciphertext ‖ tag), then decrypts
   * the n = `sealed.length − 16` bytes to `target[offset, offset + n)`.
   * Returns false when the frame does not authenticate; `target`'s range is
   * then all zero, so nothing of a forged frame is left to use (spec §6.5).
   */
  openInto(header: Uint8Array, sealed: Uint8Array, target: Uint8Array, offset: number): boolean;
}

/**
 * Copies the frame's IDENTIFIER (header bytes 4–12) into bytes 4–12 of a
 * 12-byte ChaCha20-Poly1305 nonce whose first 4 bytes stay zero (spec §6.4).
 * A loop of 8, not `set(subarray(…))`: no view per frame.
 *
 * @example
 * ```ts
 * const nonce = new Uint8Array(12);
 * writeNonce(nonce, header); // nonce = 00000000 ‖ IDENTIFIER
 * ```
 */
export function writeNonce(nonce: Uint8Array, header: Uint8Array): void {
  for (let i = 4; i < 12; i += 1) nonce[i] = header[i] as number;
}

/**
 * `bytes[start, start + length)` as a plain `Uint8Array` view: no bytes
 * copied, and cheaper than `Buffer#subarray`, which builds a `Buffer`.
 *
 * @example
 * ```ts
 * const tag = view(frame, 12 + n, 16);
 * ```
 */
export function view(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

/**
 * True when `input` starts exactly at `target[offset]` in the same memory:
 * the operation runs in place and the input view can stand for the output.
 *
 * @example
 * ```ts
 * const c = samePlace(plaintext, target, offset) ? plaintext : view(target, offset, n);
 * ```
 */
export function samePlace(input: Uint8Array, target: Uint8Array, offset: number): boolean {
  return input.buffer === target.buffer && input.byteOffset === target.byteOffset + offset;
}
