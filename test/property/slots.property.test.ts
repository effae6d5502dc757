import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignSlots, SLOT_COUNT, slotOf } from '../../src/protocol/slots.js';
import { decodeMovedBody, decodeTopologyBody } from '../../src/protocol/topology-body.js';

// spec §3.14: the map depends only on the set of server names (every client and server
// computes the same one whatever order it lists them in), and adding a server moves only
// the slots the new server wins (rendezvous hashing's minimal disruption).

const name = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65_535 })).map(([host, port]) => `${host}:${port}`),
  fc.stringMatching(/^\/[a-z0-9._/-]{1,40}$/), // a Unix socket path
);
const names = fc.uniqueArray(name, { minLength: 1, maxLength: 8 });

/** The owner's name of every slot. */
const owners = (list: readonly string[]): string[] => Array.from(assignSlots(list), (i) => list[i] as string);

/** Redis's keyHashSlot (src/cluster.c), transcribed: the reference slotOf must match. */
function redisKeyHashSlot(key: Uint8Array): number {
  const crc16 = (bytes: Uint8Array): number => {
    let crc = 0;
    for (const byte of bytes) {
      crc ^= byte << 8;
      for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  };
  const s = key.indexOf(0x7b);
  if (s === -1) return crc16(key) & 0x3fff;
  const e = key.indexOf(0x7d, s + 1);
  if (e === -1 || e === s + 1) return crc16(key) & 0x3fff;
  return crc16(key.subarray(s + 1, e)) & 0x3fff;
}

describe('slotOf properties (spec §3.14)', () => {
  it('is Redis keyHashSlot for any bytes, braces included, and for any string as its UTF-8', () => {
    const brace = fc.constantFrom(0x7b, 0x7d, 0x7b, 0x7d, 0x61, 0x00, 0xff);
    fc.assert(
      fc.property(fc.array(fc.oneof(brace, fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), (bytes) => {
        const key = Uint8Array.from(bytes);
        expect(slotOf(key)).toBe(redisKeyHashSlot(key));
        expect(slotOf(Buffer.from(key))).toBe(redisKeyHashSlot(key));
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('{', '}', 'a', 'é', '😀', 'k'), { maxLength: 20 }).map((parts) => parts.join('')), (text) => {
        expect(slotOf(text)).toBe(redisKeyHashSlot(Buffer.from(text, 'utf8')));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('assignSlots properties (spec §3.14)', () => {
  it('any permutation of the names gives every slot the same owner name', () => {
    fc.assert(
      fc.property(
        names.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))),
        ([list, shuffled]) => {
          expect(owners(shuffled)).toEqual(owners(list));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('adding a name moves only slots to it', () => {
    fc.assert(
      fc.property(names, name, (list, added) => {
        fc.pre(!list.includes(added) && list.length < 8);
        const before = owners(list);
        const after = owners([...list, added]);
        const elsewhere = after.filter((owner, slot) => owner !== before[slot] && owner !== added);
        expect(elsewhere).toEqual([]);
        expect(after).toHaveLength(SLOT_COUNT);
      }),
      { numRuns: 30 },
    );
  });

  it('decoding any bytes as a TOPOLOGY or MOVED body returns a value or a typed error, never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const body = Buffer.from(bytes);
        const topology = decodeTopologyBody(body);
        const moved = decodeMovedBody(body);
        expect(topology).toBeDefined();
        expect(moved).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });
});
