// Types for bench/memory-protocols.mjs, for the tests that import it (test/unit/bench-memory.test.ts).
export const CHURN_MIN: number;
export const CHURN_MAX: number;
export function keyOf(i: number): string;
export interface Workload { next(): boolean; key: number; size: number; writes: number; bytes: number }
export function fillWorkload(options: { keys: number; valueBytes: number }): Workload;
export function churnWorkload(options: { goalBytes: number; keySpace: number; seed?: number }): Workload;
export interface AnswerSink { set(reason: string | null): void; count(items: number, stats: Record<string, number>): void }
export interface Protocol {
  set(key: string, value: Buffer, id: number): Buffer[];
  count(): Buffer[];
  answers(sink: AnswerSink): (chunk: Buffer) => void;
}
export const protocols: { conduit: Protocol; resp: Protocol; memcache: Protocol };
