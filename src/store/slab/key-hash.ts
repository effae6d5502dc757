import { randomFillSync } from 'node:crypto';
import { MAX_KEY_LENGTH } from './layout.js';
import { fmix32 } from '../../protocol/slots.js';

/** Fills `target` with random 32-bit words: the seed of a {@link KeyHash}. */
export type SeedSource = (target: Int32Array) => void;

/** The default {@link SeedSource}: the operating system's CSPRNG, once per seed. */
export const randomSeed: SeedSource = (target) => {
  randomFillSync(target);
};

/** Where the finalizer's key sits in the seed: after the 252 coefficients. */
const MIX_KEY = MAX_KEY_LENGTH + 2;

/**
 * How a {@link KeyHash} turns the linear sum into the hash the index buckets
 * by: `'fmix32'` (the default, and the only one the server uses) or
 * `'linear'`, the sum itself, the bucket function before issue 19's outside
 * attack: only for the regression test that shows the attack works on it.
 *
 * @example
 * ```ts
 * new KeyHash(randomSeed, 'fmix32');
 * ```
 */
export type KeyHashMix = 'fmix32' | 'linear';

/**
 * A seeded hash of key bytes for the slab engine's index, in two steps
 * (docs/STORAGE.md "Index: the hash"):
 *
 * 1. The vector multiply-shift sum (Thorup, "High Speed Hashing for Integers
 *    and Strings", §3.3), `s = a₀ + a₁·len + Σ aᵢ₊₂·keyᵢ (mod 2^32)`, with a
 *    random 32-bit `aᵢ` per key position drawn at start-up: strongly
 *    universal, so two keys chosen without knowing the seed collide on all
 *    32 bits with chance 2^-32, and the length term keeps a key and the same
 *    key plus a zero byte apart.
 * 2. A keyed finalizer, `h = fmix32(s ^ k)` (murmur3's 32-bit finalizer, a
 *    bijection) with a second random word `k`. The sum alone is linear in
 *    the key bytes: keys A and B seen sharing a bucket (SCAN and LIST show
 *    that) told an attacker `s(B) − s(A)`, and `C + (B − A)` then landed in
 *    C's bucket, so chains of 48 were built in seconds (issue 19, outside
 *    attack). After the finalizer a bucket is a scrambled set of sums; what
 *    bucket-mates reveal does not carry over to other keys, unless the two
 *    sums are equal on all 32 bits (then `h` is too, whatever the mix).
 *
 * fmix32 is not cryptography: its avalanche is good, but a patient attacker
 * with many observations might learn something of `k`. It is enough here
 * because a slip costs a chain, and a chain of 48 re-seeds the index, a
 * migration spread over many turns (`HashIndex`), never a stall.
 * A keyed PRF (SipHash) would cost several times more per key (measured in
 * docs/STORAGE.md), on every GET and SET.
 *
 * @example
 * ```ts
 * const hash = new KeyHash();
 * const h = hash.of(Buffer.from('user:1'), 0, 6); // a u32
 * ```
 */
export class KeyHash {
  /** `a₀ … a₂₅₁`, then the finalizer's key `k` at {@link MIX_KEY}. */
  readonly #coefficients = new Int32Array(MAX_KEY_LENGTH + 3);
  readonly #seedSource: SeedSource;
  readonly #mix: KeyHashMix;

  constructor(seedSource: SeedSource = randomSeed, mix: KeyHashMix = 'fmix32') {
    if (mix !== 'fmix32' && mix !== 'linear') throw new TypeError(`hashMix option must be 'fmix32' or 'linear', got ${String(mix)}`);
    this.#seedSource = seedSource;
    this.#mix = mix;
    this.reseed();
  }

  /** Draws new coefficients and a new finalizer key: every hash computed before is void. */
  reseed(): void {
    this.#seedSource(this.#coefficients);
  }

  /** The hash of `length` bytes of `source` from `start` (length 1–250), as a u32. */
  of(source: Uint8Array, start: number, length: number): number {
    const a = this.#coefficients;
    let h = ((a[0] as number) + Math.imul(a[1] as number, length)) | 0;
    for (let i = 0; i < length; i += 1) {
      h = (h + Math.imul(a[i + 2] as number, source[start + i] as number)) | 0;
    }
    if (this.#mix === 'linear') return h >>> 0;
    // fmix32 (MurmurHash3) of s ^ k: each output bit depends on every input bit.
    return fmix32(h ^ (a[MIX_KEY] as number));
  }
}
