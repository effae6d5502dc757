import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { NONE, SlabEngine } from '../../src/store/slab/index.js';

// A collector to call without --expose-gc: the flag set at run time applies
// to contexts created after it (vitest cannot pass node flags to its workers).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bytes of V8 heap one stored item may add. Measured (docs/STORAGE.md
 * "Measurements"): −0.09 to 0.06 B per item, i.e. ≈ 0 (the only heap
 * objects are a Buffer and three typed-array views per 1 MiB page). 1 B
 * leaves room for noise and fails on any per-item object, which costs tens
 * of bytes at least (a key string alone is 32).
 */
const HEAP_BYTES_PER_ITEM = 1;

describe('SlabEngine heap growth (issue 17: no per-value objects)', () => {
  it('1M items of 100 B grow heapUsed by at most 1 byte per item', () => {
    const items = 1_000_000;
    const engine = new SlabEngine({ maxMemory: 512 * 1024 * 1024 });
    const key = Buffer.alloc(16, 0x6b);
    const value = Buffer.alloc(100, 0x76);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    let refused = 0;
    for (let i = 0; i < items; i += 1) {
      key.writeUInt32BE(i, 12);
      if (engine.store(key, 0, 16, value, 0, 100, 0) < 0) refused += 1;
    }
    gc();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(refused).toBe(0);
    expect(engine.size).toBe(items);
    key.writeUInt32BE(items - 1, 12);
    expect(engine.find(key, 0, 16)).not.toBe(NONE);
    expect(grown / items).toBeLessThanOrEqual(HEAP_BYTES_PER_ITEM);
  }, 120_000);
});
