// Types for bench/report-snapshot.mjs, for the tests that import it (test/unit/bench-snapshot.test.ts).
export declare const SNAPSHOT_GOALS: { saveMBps: number; loadMBps: number; stallMs: number };
export declare function snapshotSection(run: unknown): string[];
export declare function snapshotTargets(run: unknown): { text: string; cmp: '<=' | '>='; bound: number; unit?: string; value: number | null; figures: string }[];
