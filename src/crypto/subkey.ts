import { hchacha } from '@noble/ciphers/chacha.js';
import { swap32IfBE, u32 } from '@noble/ciphers/utils.js';

/** "expand 32-byte k" as the four ChaCha constant words (RFC 8439 §2.3). */
const SIGMA = swap32IfBE(u32(new TextEncoder().encode('expand 32-byte k')));
const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XChaCha20's subkey: HChaCha20(key, prefix) (draft-irtf-cfrg-xchacha
 * §2.2), computed with noble's `hchacha`, which takes 32-bit words. Spec
 * §6.4: the first 16 nonce bytes are fixed per session and direction, so
 * this is computed once per session and direction, whichever implementation
 * then seals the frames.
 *
 * @example
 * ```ts
 * const subkey = hchachaSubkey(keys.c2s, keys.prefixC2s); // 32 bytes
 * ```
 */
export function hchachaSubkey(key: Uint8Array, prefix: Uint8Array): Uint8Array {
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
  return new Uint8Array(out.buffer, out.byteOffset, 32);
}
