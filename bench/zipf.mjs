// The workload of bench/near-cache.mjs (issue 21): Zipf-distributed key ranks
// drawn from a precomputed CDF with a seeded PRNG, and per-loop operation
// sequences (GET or SET of a rank) computed once, so every system of a run
// replays exactly the same operations in the same order per loop.

/** The bit of a sequence entry that marks a SET; the rest is the key's rank (0 = hottest). */
export const SET_BIT = 0x8000_0000;

/**
 * mulberry32: a small seeded PRNG with floats in [0, 1). Not for secrets: the
 * point is a sequence that is the same on every run and every system.
 *
 * @example
 * const next = mulberry32(21);
 * next(); // 0.…, the same first number on every run
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The cumulative distribution of Zipf(`s`) over `n` ranks: entry i is the
 * probability of a rank ≤ i, where rank i has weight 1 / (i + 1)^s. The last
 * entry is exactly 1.
 *
 * @example
 * const cdf = zipfCdf(100_000, 0.99);
 * cdf[0]; // ≈ 0.08: the hottest key gets about 8 % of the draws
 */
export function zipfCdf(n, s) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipfCdf: n must be a positive integer, got ${n}`);
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** s;
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  cdf[n - 1] = 1;
  return cdf;
}

/**
 * The rank whose CDF interval holds `u` (in [0, 1)): the first i with
 * cdf[i] > u, by binary search.
 *
 * @example
 * sampleRank(zipfCdf(10, 1), 0); // 0
 */
export function sampleRank(cdf, u) {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * `loops` sequences of `length` operations each: a Zipf rank, with SET_BIT
 * set for a SET (probability `setFraction`), drawn from one PRNG seeded with
 * `seed`. The same arguments give the same sequences.
 *
 * @example
 * const [first] = opSequences({ loops: 50, length: 1000, cdf: zipfCdf(100_000, 0.99), setFraction: 0.05, seed: 21 });
 * const isSet = (first[0] & SET_BIT) !== 0;
 * const rank = first[0] & ~SET_BIT;
 */
export function opSequences({ loops, length, cdf, setFraction, seed }) {
  if (cdf.length >= SET_BIT) throw new RangeError('opSequences: too many ranks for SET_BIT');
  const next = mulberry32(seed);
  const out = [];
  for (let l = 0; l < loops; l++) {
    const seq = new Uint32Array(length);
    for (let i = 0; i < length; i++) {
      const isSet = next() < setFraction;
      seq[i] = (sampleRank(cdf, next()) | (isSet ? SET_BIT : 0)) >>> 0;
    }
    out.push(seq);
  }
  return out;
}
