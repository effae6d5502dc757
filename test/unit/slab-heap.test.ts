import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { NONE, SlabEngine } from '../../src/store/slab/index.js';

// A collector to call without --expose-gc: the flag set at run time applies
// to contexts created after it (vitest cannot pass node flags to its workers).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bytes of V8 heap one stored item may add. Measured (docs/STORAGE.md "Heap
 * growth"): 0.02–0.05 B per item at 1M items of 100 B (the page Buffers and
 * their three typed-array views, about 0.3 KiB per 1 MiB page); the old store
 * added ~480 B. 1 B leaves room for noise and fails on any per-item object.
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
