// Types for bench/invalidation-probe.mjs, for the tests that import it (test/unit/bench-near.test.ts).
export interface ProbeToken { readonly setStarted: boolean }
export interface ProbeSummary {
  expected: number; seen: number; missing: number; timed: number; early: number; unrelated: number; notHeld: number; all: number;
  rereadFailures: number; staleReads: number; p50: number | null; p99: number | null; max: number | null;
}
export declare class InvalidationProbe {
  constructor(o: { reread: (key: string) => Promise<unknown>; now?: () => number });
  hold(key: string): void;
  read(key: string): Promise<void>;
  readonly holding: number;
  setStarted(key: string): ProbeToken | null;
  setResolved(token: ProbeToken | null, t?: number): void;
  invalidated(keys: string[] | 'all', t?: number): void;
  readonly outstanding: number;
  stop(): void;
  summary(): ProbeSummary;
}
