import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/client/ring.js';
import { SLOT_COUNT } from '../../src/protocol/slots.js';

// Issue 20: a pool's ring depends only on the set of names in it, and a
// server leaving or coming back moves only its own slots, whatever the names,
// their order and which servers are out.
const names = fc.uniqueArray(
  fc.oneof(
    fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => `${h}:${p}`),
    fc.stringMatching(/^\/[a-z0-9/._-]{1,40}$/),
  ),
  { minLength: 2, maxLength: 9 },
);
const owners = (ring: Ring): string[] => Array.from({ length: SLOT_COUNT }, (_, s) => ring.names[ring.ownerOf(s)] as string);

describe('Ring properties', () => {
  it('the owner of every slot depends only on the set of names in the ring', () => {
    fc.assert(
      fc.property(names, fc.nat(), fc.nat(), (list, shuffle, out) => {
        const other = [...list].sort((a, b) => ((a.length * 31 + shuffle) % 7) - ((b.length * 31 + shuffle) % 7) || (a < b ? -1 : 1));
        const a = new Ring(list);
        const b = new Ring(other);
        const gone = list[out % list.length] as string;
        a.eject(list.indexOf(gone));
        b.eject(other.indexOf(gone));
        expect(owners(b)).toEqual(owners(a));
        expect(owners(a)).toEqual(owners(new Ring(list.filter((n) => n !== gone))));
      }),
      { numRuns: 40 },
    );
  });

  it('ejecting then restoring servers moves only their slots, and every slot comes home', () => {
    fc.assert(
      fc.property(names, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (list, picks) => {
        const ring = new Ring(list);
        const start = owners(ring);
        const out = new Set<number>();
        for (const pick of picks) {
          const index = pick % list.length;
          const before = owners(ring);
          if (!ring.eject(index)) continue;
          out.add(index);
          const after = owners(ring);
          let wrong = 0;
          for (let s = 0; s < SLOT_COUNT; s++) if (before[s] === list[index] ? after[s] === list[index] : after[s] !== before[s]) wrong++;
          expect(wrong).toBe(0);
        }
        for (const index of out) ring.restore(index);
        expect(owners(ring)).toEqual(start);
      }),
      { numRuns: 30 },
    );
  });
});
