// Types for bench/report-scale.mjs, for the tests that import it (test/unit/bench-scale.test.ts).
export declare const POOL_VS_PLAIN: number;
export declare const SCALE_SYSTEMS: { plain: string; pooled: string; workers: string };
export declare function ringSection(run: unknown): string[];
export declare function scaleSection(run: unknown): string[];
export declare function scaleTargets(run: unknown): { text: string; cmp: '<=' | '>='; bound: number; value: number | null; figures: string }[];
