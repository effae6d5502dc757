import { describe, expect, it } from 'vitest';
import { ReadBuffers } from '../../src/server/read-buffers.js';

describe('ReadBuffers: a minor collection per so many bytes read', () => {
  it('collects once each time the bytes read since the last collection reach the threshold', () => {
    let collections = 0;
    const reads = new ReadBuffers(() => (collections += 1), 1_000);
    expect(reads.active).toBe(true);
    reads.note(999);
    expect(collections).toBe(0);
    reads.note(1);
    expect(collections).toBe(1);
    for (let i = 0; i < 10; i += 1) reads.note(250);
    expect(collections).toBe(3); // 2,500 bytes since: two more thresholds crossed
    reads.note(64 * 1024);
    expect(collections).toBe(4); // one big read: one collection, not 65
  });

  it('does nothing where gc is not exposed', () => {
    const reads = new ReadBuffers(undefined, 1);
    expect(reads.active).toBe(false);
    expect(() => reads.note(1_000_000)).not.toThrow();
  });

  it('rejects a threshold that is not a positive integer, naming the option', () => {
    expect(() => new ReadBuffers(() => {}, 0)).toThrow('every option must be a positive integer, got 0');
    expect(() => new ReadBuffers(() => {}, 1.5)).toThrow('every option must be a positive integer, got 1.5');
  });
});
