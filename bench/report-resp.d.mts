// Types for bench/report-resp.mjs, for the tests that import it (test/unit/bench-resp.test.ts).
export declare const RESP_VS_REDIS: number;
export declare const RESP_SYSTEMS: { conduit: string; redis: string };
export declare function respSection(run: unknown): string[];
export declare function respTargets(run: unknown): { text: string; cmp: '<=' | '>='; bound: number; value: number | null; figures: string }[];
