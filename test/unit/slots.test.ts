// spec §3.14: the key → slot function is Redis Cluster's HASH_SLOT (values from Redis's own
// CLUSTER KEYSLOT and its cluster specification), and slot → server is rendezvous hashing
// over the names, computed exactly as the spec states it (so another language can match it).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConduitError } from '../../src/protocol/errors.js';
import { assignSlots, MAX_NODES, nodeSeed, SLOT_COUNT, slotOf, slotWeight } from '../../src/protocol/slots.js';

describe('slotOf (spec §3.14, Redis HASH_SLOT)', () => {
  it('matches Redis CLUSTER KEYSLOT', () => {
    // Values printed by redis-cli CLUSTER KEYSLOT (Redis 7): the reference.
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('bar')).toBe(5061);
    expect(slotOf('hello')).toBe(866);
    expect(slotOf('123456789')).toBe(0x31c3 % SLOT_COUNT); // CRC16-XMODEM's check value, 0x31C3
  });

  it('hashes only a non-empty {hash tag}, the first one', () => {
    expect(slotOf('{user1000}.following')).toBe(slotOf('user1000'));
    expect(slotOf('{user1000}.followers')).toBe(slotOf('{user1000}.following'));
    expect(slotOf('foo{bar}{zap}')).toBe(slotOf('bar'));
    expect(slotOf('{}x')).not.toBe(slotOf('x')); // an empty tag: the whole key is hashed
    expect(slotOf('{}x')).toBe(slotOf(Buffer.from('{}x')));
    expect(slotOf('{x')).toBe(slotOf(Buffer.from('{x'))); // no closing brace: the whole key
    // An empty first tag hashes the whole key, even with a tag after it (Redis keyHashSlot;
    // cluster-key-slot alone hashed '{bar' here, 4015).
    expect(slotOf('foo{}{bar}')).toBe(8363);
    expect(slotOf(Buffer.from('foo{}{bar}'))).toBe(8363);
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'));
  });

  it('hashes a string as its UTF-8 bytes, and reads a view in place', () => {
    expect(slotOf('clé')).toBe(slotOf(Buffer.from('clé', 'utf8')));
    const frame = Buffer.from('xxfooyy');
    expect(slotOf(frame.subarray(2, 5))).toBe(12182);
    expect(slotOf(new Uint8Array([0x66, 0x6f, 0x6f]))).toBe(12182);
    const binary = Buffer.from([0x00, 0xff, 0x7b, 0x01, 0x7d]); // '{' 0x01 '}': the tag is one byte
    expect(slotOf(binary)).toBe(slotOf(Buffer.from([0x01])));
    for (let n = 0; n < 200; n++) expect(slotOf(`k${n}`)).toBeLessThan(SLOT_COUNT);
  });
});

describe('assignSlots (spec §3.14, rendezvous)', () => {
  it('computes the weight as the spec states: fmix32(seed ^ imul(slot + 1, 0x9e3779b1)), seed = SHA-256(name)[0..4]', () => {
    const name = '127.0.0.1:7171';
    const seed = createHash('sha256').update(name).digest().readUInt32BE(0);
    expect(nodeSeed(name)).toBe(seed);
    const fmix = (h: number): number => {
      h = (h ^ (h >>> 16)) >>> 0;
      h = Number((BigInt(h) * 0x85ebca6bn) & 0xffffffffn);
      h = (h ^ (h >>> 13)) >>> 0;
      h = Number((BigInt(h) * 0xc2b2ae35n) & 0xffffffffn);
      return (h ^ (h >>> 16)) >>> 0;
    };
    for (const slot of [0, 1, 2, 12182, SLOT_COUNT - 1]) {
      const mixed = Number((BigInt(slot + 1) * 0x9e3779b1n) & 0xffffffffn);
      expect(slotWeight(seed, slot)).toBe(fmix((seed ^ mixed) >>> 0));
    }
  });

  it('gives each slot to the heaviest name, and one name every slot', () => {
    const names = ['127.0.0.1:7171', '127.0.0.1:7172', '127.0.0.1:7173'];
    const table = assignSlots(names);
    expect(table).toHaveLength(SLOT_COUNT);
    const seeds = names.map(nodeSeed);
    for (const slot of [0, 1, 777, 16383]) {
      const weights = seeds.map((seed) => slotWeight(seed, slot));
      expect(table[slot]).toBe(weights.indexOf(Math.max(...weights)));
    }
    const counts = names.map((_, i) => table.filter((owner) => owner === i).length);
    for (const count of counts) expect(Math.abs(count - SLOT_COUNT / 3)).toBeLessThan(SLOT_COUNT * 0.03);
    expect(assignSlots(['solo']).every((owner) => owner === 0)).toBe(true);
  });

  it('refuses no names, too many names and a name twice with a typed error', () => {
    for (const names of [[], Array.from({ length: MAX_NODES + 1 }, (_, i) => `n${i}`), ['a:1', 'a:1']]) {
      let caught: unknown;
      try {
        assignSlots(names);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConduitError);
      expect((caught as ConduitError).code).toBe('BAD_REQUEST');
    }
    expect(assignSlots(Array.from({ length: MAX_NODES }, (_, i) => `n${i}`))).toHaveLength(SLOT_COUNT);
  });
});
