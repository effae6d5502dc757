import { describe, expect, it } from 'vitest';
import { NONE, PAGE_SIZE, SlabEngine } from '../../src/store/slab/index.js';

const MiB = 1024 * 1024;
const BUDGET = 6 * MiB; // 5 pages after the index: room for 1,240 chunks of 4 KiB

/** Writes `prefix` and `n` as 12 decimal digits into `key` (16 bytes), without a string per key. */
function keyFor(key: Buffer, prefix: number, n: number): Buffer {
  key[0] = prefix;
  key[1] = 0x3a;
  key[2] = 0x3a;
  key[3] = 0x3a;
  for (let i = 15; i >= 4; i -= 1) {
    key[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return key;
}

describe('SlabEngine size shift (issue 17: no slab calcification)', () => {
  it('after 10× the budget of 100 B values, 10× the budget of 4 KiB values: the last 1,000 written are all readable', () => {
    let evictions = 0;
    const engine = new SlabEngine({ maxMemory: BUDGET, onEvict: () => (evictions += 1) });
    const key = Buffer.alloc(16);
    const small = Buffer.alloc(100, 0x73);
    const smallWrites = Math.ceil((10 * BUDGET) / small.length);
    let refused = 0; // counted, not asserted per write: an expect() per write costs more than the write
    for (let i = 0; i < smallWrites; i += 1) {
      if (engine.store(keyFor(key, 0x73, i), 0, 16, small, 0, small.length, 0) < 0) refused += 1;
    }
    // Every page is full of small items (176-byte chunks).
    expect(engine.size).toBe(engine.stats().pageLimit * Math.floor(PAGE_SIZE / 176));
    const big = Buffer.alloc(4096);
    const bigWrites = Math.ceil((10 * BUDGET) / big.length);
    for (let i = 0; i < bigWrites; i += 1) {
      big.writeUInt32BE(i, 0); // each value differs, so a stale read would show
      if (engine.store(keyFor(key, 0x62, i), 0, 16, big, 0, big.length, 0) < 0) refused += 1;
    }
    expect(refused).toBe(0);
    const out = Buffer.alloc(4096);
    for (let i = bigWrites - 1000; i < bigWrites; i += 1) {
      const h = engine.find(keyFor(key, 0x62, i), 0, 16);
      expect(h, `4 KiB value ${i}`).not.toBe(NONE);
      expect(engine.copyValue(h, out, 0)).toBe(4096);
      expect(out.readUInt32BE(0)).toBe(i);
    }
    const stats = engine.stats();
    const bigClass = stats.classes.find((c) => c.chunkSize === 4224);
    expect(bigClass?.pages).toBeGreaterThanOrEqual(stats.pageLimit - 1);
    expect(stats.heldBytes).toBeLessThanOrEqual(BUDGET);
    expect(evictions).toBe(smallWrites + bigWrites - engine.size);
  }, 120_000); // ~650k writes; a test timeout, not a timed assertion
});
