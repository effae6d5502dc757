// Types for bench/report-scan.mjs, for the tests that import it (test/unit/bench-report.test.ts).
export declare const SCAN_STALL_MS: number;
export declare function scanTargets(scan: unknown): { text: string; cmp: '<=' | '>='; bound: number; value: number | null; unit: string; figures: string }[];
export declare function scanSection(scan: unknown): string[];
