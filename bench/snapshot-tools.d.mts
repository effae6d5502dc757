// Types for bench/snapshot-tools.mjs, for the tests that import it (test/unit/bench-snapshot.test.ts).
type Parse<T> = (buf: Buffer) => { value: T; used: number } | null;
export interface WaitSummary { samples: number; maxMs: number | null; p99Ms: number | null; p50Ms: number | null }
export declare const VALUE_BYTES: number;
export declare function keyOf(i: number): string;
export declare function valueOf(i: number): Buffer;
export declare function sampleIndexes(items: number, count: number, seed?: number): number[];
export declare const sleep: (ms: number) => Promise<void>;
export declare const wallNow: () => number;
export declare class RawConn {
  static open(port: number): Promise<RawConn>;
  write(buf: Buffer): void;
  read<T>(parse: Parse<T>, timeoutMs?: number): Promise<T>;
  close(): void;
}
export declare function linesOf(n: number, expected: string): Parse<number>;
export declare const oneLine: Parse<string>;
export declare const memcachedValue: Parse<Buffer | undefined>;
export declare const memcachedStats: Parse<Record<string, string>>;
export declare function pollReady(port: number, o?: { request?: Buffer | null; ready?: (line: string) => boolean; everyMs?: number; deadlineMs?: number }): Promise<number>;
export declare function probe(get: (i: number) => Promise<unknown>, o: { count: number; shouldStop?: () => boolean }): Promise<{ sent: number[]; waits: number[] }>;
export declare function splitBySaves(samples: { sent: number[]; waits: number[] }, windows: [number, number][]): { during: WaitSummary; between: WaitSummary };
export declare function dropCache(file: string): void;
export declare function cachedPercent(file: string): number | null;
export declare function filesystemOf(dir: string): { type: string; device: string };
export declare function diskBaseline(file: string, bytes: number): { bytes: number; writeS: number; fsyncS: number; readWarmS: number; readColdS: number; coldCachedPercent: number | null };
