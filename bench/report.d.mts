// Types for bench/report.mjs, for the tests that import it (test/unit/bench-report.test.ts).
export type Run = Record<string, any> & { benchmark: string; date: string; quick?: boolean; results: Record<string, any>[] };
export interface RenderOptions {
  lastChange?: (script: string) => string | null;
  srcCommitsSince?: (hash: string) => number | null;
  srcCommitsSinceDate?: (date: string) => number | null;
}
export interface Target { text: string; cmp: '>=' | '<='; bound: number; unit?: string; value: number | null; figures?: string }
export const BOUNDS: Record<string, number>;
export const BENCHMARKS: { id: string; script: string; recipe: string; title: string }[];
export function verdict(value: number | null, cmp: '>=' | '<=', bound: number, unit?: string): { shown: string; verdict: 'met' | 'missed' | 'not measured' };
export function targetsOf(run: Run): Target[];
export function renderSection(bench: { id: string; script: string; recipe: string; title: string }, run: Run | undefined, opts?: RenderOptions): string;
export function renderRun(run: Run): string;
export function renderResults(runs: Run[], opts?: RenderOptions): string;
export function newestRuns(runs: Run[]): Record<string, Run>;
export function loadRuns(dir: string): Run[];
export function chart(run: Run): string;
export function writeAll(dir: string): string[];
export function churnBoundMiB(budgetMiB: number): number;
