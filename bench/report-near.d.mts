// Types for bench/report-near.mjs, for the tests that import it (test/unit/bench-near.test.ts).
export declare const NEAR_VS_IOREDIS: number;
export declare const NEAR_SYSTEMS: { near: string; plain: string; ioredis: string };
export declare function nearSection(run: unknown): string[];
export declare function nearTargets(run: unknown): { text: string; cmp: '<=' | '>='; bound: number; value: number | null; figures: string }[];
