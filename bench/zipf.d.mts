// Types for bench/zipf.mjs, for the tests that import it (test/unit/bench-near.test.ts).
export declare const SET_BIT: number;
export declare function mulberry32(seed: number): () => number;
export declare function zipfCdf(n: number, s: number): Float64Array;
export declare function sampleRank(cdf: Float64Array, u: number): number;
export declare function opSequences(o: { loops: number; length: number; cdf: Float64Array; setFraction: number; seed: number }): Uint32Array[];
