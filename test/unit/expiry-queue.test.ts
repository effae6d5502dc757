import { describe, expect, it } from 'vitest';
import { EXPIRY_BUCKET_MS, ExpiryQueue, bucketOf } from '../../src/store/expiry-queue.js';
import { SlabEngine, UNQUEUED } from '../../src/store/slab/index.js';

describe('ExpiryQueue of slab handles (as the store keeps them)', () => {
  it('hands out handles once their bucket has ended, earliest bucket first', () => {
    const queue = new ExpiryQueue<number>();
    expect(queue.push(1000, 7)).toBe(bucketOf(1000));
    queue.push(500, 3);
    queue.push(1001, 9);
    expect(queue.size).toBe(3);
    expect(queue.shiftDue(499)).toBeUndefined();
    expect(queue.hasDue(600)).toBe(true);
    expect(queue.shiftDue(600)).toBe(3);
    expect(queue.dueBucket).toBe(bucketOf(500));
    expect(queue.shiftDue(600)).toBeUndefined();
    const end = (bucketOf(1001) + 1) * EXPIRY_BUCKET_MS;
    expect([queue.shiftDue(end), queue.shiftDue(end)]).toEqual([7, 9]);
    expect(queue.shiftDue(end)).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('compact drops exactly the pairs the engine no longer owns, a few steps at a time', () => {
    const engine = new SlabEngine({ maxMemory: 4 * 1024 * 1024 });
    const queue = new ExpiryQueue<number>();
    const handles: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const key = Buffer.from(`k${i}`);
      const h = engine.store(key, 0, key.length, key, 0, key.length, 5000 + i);
      engine.setQueueBucket(h, queue.push(5000 + i, h));
      handles.push(h);
    }
    for (let i = 0; i < 100; i += 2) engine.remove(handles[i] as number); // freed: stale
    engine.setQueueBucket(handles[1] as number, UNQUEUED); // expiry removed: stale
    const owns = (h: number, bucket: number): boolean => engine.isLive(h) && engine.queueBucket(h) === bucket;
    let examined = 0;
    for (let round = 0; round < 100 && examined < 100; round += 1) {
      const n = queue.compact(owns, 7);
      expect(n).toBeLessThanOrEqual(7);
      examined += n;
    }
    expect(queue.size).toBe(49);
    const left: number[] = [];
    for (let h = queue.shiftDue(1e9); h !== undefined; h = queue.shiftDue(1e9)) left.push(h);
    expect(left).toEqual(handles.filter((_, i) => i % 2 === 1 && i !== 1));
  });

  it('clear drops every pair', () => {
    const queue = new ExpiryQueue<number>();
    queue.push(10, 1);
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.shiftDue(1e9)).toBeUndefined();
  });
});
