import { describe, expect, it } from 'vitest';
import {
  GROWTH_FACTOR,
  HEADER_SIZE,
  MAX_PAGES,
  PAGE_SIZE,
  PagePool,
  SMALLEST_CHUNK,
  chunkSizes,
  classFor,
  handleOf,
  pageOf,
  slotOf,
} from '../../src/store/slab/index.js';

describe('slab layout: handles', () => {
  it('round-trips page and slot, and the largest handle stays a small integer (< 2^30)', () => {
    for (const [page, slot] of [
      [0, 0],
      [1, 16_383],
      [MAX_PAGES - 1, 16_383],
      [12_345, 678],
    ] as const) {
      const h = handleOf(page, slot);
      expect(pageOf(h)).toBe(page);
      expect(slotOf(h)).toBe(slot);
    }
    expect(handleOf(MAX_PAGES - 1, 16_383)).toBe(2 ** 30 - 1);
    expect(PAGE_SIZE / SMALLEST_CHUNK).toBe(16_384);
  });
});

describe('slab layout: size classes', () => {
  const sizes = chunkSizes();
  it('start at 64 bytes, grow by about 1.25, are 8-byte aligned and end with a whole page', () => {
    expect(sizes[0]).toBe(SMALLEST_CHUNK);
    expect(sizes.at(-1)).toBe(PAGE_SIZE);
    for (let i = 1; i < sizes.length - 1; i += 1) {
      const [prev, size] = [sizes[i - 1] as number, sizes[i] as number];
      expect(size % 8).toBe(0);
      expect(size).toBeGreaterThanOrEqual(prev * GROWTH_FACTOR);
      expect(size).toBeLessThan(prev * GROWTH_FACTOR + 8);
    }
    expect(sizes.slice(0, 6)).toEqual([64, 80, 104, 136, 176, 224]);
  });
  it('classFor picks the smallest chunk that holds the item, and past a page the large-object class', () => {
    expect(classFor(sizes, 1)).toBe(0);
    expect(classFor(sizes, 64)).toBe(0);
    expect(classFor(sizes, 65)).toBe(1);
    expect(sizes[classFor(sizes, HEADER_SIZE + 16 + 100)]).toBe(176);
    expect(classFor(sizes, PAGE_SIZE)).toBe(sizes.length - 1);
    expect(classFor(sizes, PAGE_SIZE + 1)).toBe(sizes.length);
    for (let bytes = 1; bytes <= 5000; bytes += 7) {
      const c = classFor(sizes, bytes);
      expect(sizes[c]).toBeGreaterThanOrEqual(bytes);
      if (c > 0) expect(sizes[c - 1]).toBeLessThan(bytes);
    }
  });
});

describe('slab page pool', () => {
  it('allocates up to maxPages, then hands out only released pages', () => {
    const pool = new PagePool(2);
    const a = pool.take();
    const b = pool.take();
    expect([a, b]).toEqual([0, 1]);
    expect(pool.take()).toBe(-1);
    expect(pool.u8[0]?.length).toBe(PAGE_SIZE);
    expect(pool.f64[0]?.buffer).toBe(pool.u8[0]?.buffer);
    pool.release(a);
    expect(pool.available).toBe(1);
    expect(pool.take()).toBe(a);
    pool.clear();
    expect(pool.available).toBe(2);
    expect(pool.allocated).toBe(2);
    expect(pool.take()).toBe(0);
  });
  it('rejects a page count outside 1–65,536', () => {
    expect(() => new PagePool(0)).toThrow(/maxPages/);
    expect(() => new PagePool(MAX_PAGES + 1)).toThrow(/maxPages/);
  });
});
