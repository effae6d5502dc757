// Types for test/support/near-model.mjs (the near cache's model test, issue 21).
export interface ModelOp { kind: 'set' | 'delete' | 'get' | 'checked' | 'renew' | 'gat'; key: number; wait: boolean; pause: number }
export interface WatchPlan { key: string; writes: number; gapMs: number; writerOptions?: Record<string, unknown> }
export interface ModelPlan {
  agent: string;
  prefix: string;
  /** One op list per client. */
  ops: ModelOp[][];
  nearCache?: Record<string, unknown>;
  clientOptions?: Record<string, unknown>;
  watch?: WatchPlan;
}
export interface ModelWrite { key: string; kind: 'set' | 'delete'; value: string | null; who: string; sent: number; resolved: number }
export interface ModelRead { key: string; who: string; value: string | null; started: number; fence: number }
export interface WatchRound { write: number; read: number; eventAfter: number | null; eventAt: number | null }
export interface ModelHistory {
  writes: ModelWrite[];
  reads: ModelRead[];
  errors: string[];
  watch: WatchRound[];
  watchWrites?: { index: number; resolved: number }[];
  hits?: number;
}
export function runAgent(ConduitClient: unknown, port: number, plan: ModelPlan): Promise<ModelHistory>;
export function checkHistory(h: ModelHistory): string[];
export function delays(h: ModelHistory): number[];
export function percentile(values: number[], p: number): number | null;
