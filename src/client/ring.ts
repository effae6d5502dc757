/**
 * A pool's ring: which of its servers owns each of the 16,384 slots (spec
 * §3.14), with servers taken out and put back. Owners come from
 * `assignSlots` (rendezvous hashing over the names), so the table depends
 * only on the set of names in it: two clients with the same servers in any
 * order agree on every key, and taking one server out moves only the slots
 * it owned (each goes to its next-heaviest server), as does putting it back.
 *
 * @example
 * ```ts
 * const ring = new Ring(['a:1', 'b:1', 'c:1']);
 * ring.names[ring.ownerOf(slotOf(Buffer.from('k')))]; // 'a:1', 'b:1' or 'c:1'
 * ring.eject(1); // b's slots now go to a and c; nothing else moves
 * ```
 * @module
 */
import { assignSlots, SLOT_COUNT } from '../protocol/slots.js';

/**
 * Slot → server for a pool: entry `s` of the table is an index into
 * {@link Ring.names}, every name given whether in the ring or not, so
 * indices stay stable while servers leave and come back.
 */
export class Ring {
  /** Every server of the pool, in the order given; indices into it are stable. */
  readonly names: readonly string[];
  /** Slot → index into `names`, over the servers in the ring. */
  #table: Uint8Array;
  readonly #out = new Set<number>();

  /**
   * `table`, when given, is the group's own (TOPOLOGY, spec §3.14): entries
   * are indices into `names`, as `assignSlots(names)` gives.
   *
   * @example
   * ```ts
   * new Ring(topology.nodes, topology.table);
   * ```
   */
  constructor(names: readonly string[], table?: Uint8Array) {
    this.names = names;
    this.#table = table?.length === SLOT_COUNT ? new Uint8Array(table) : assignSlots(names);
  }

  /**
   * The index in {@link names} of the server that owns `slot` now.
   *
   * @example
   * ```ts
   * ring.ownerOf(12182);
   * ```
   */
  ownerOf(slot: number): number {
    return this.#table[slot] as number;
  }

  /**
   * The names in the ring now, in pool order.
   *
   * @example
   * ```ts
   * ring.live; // ['a:1', 'c:1'] after eject(1)
   * ```
   */
  get live(): string[] {
    return this.names.filter((_, i) => !this.#out.has(i));
  }

  /**
   * True when server `index` is in the ring.
   *
   * @example
   * ```ts
   * ring.has(1);
   * ```
   */
  has(index: number): boolean {
    return index >= 0 && index < this.names.length && !this.#out.has(index);
  }

  /**
   * Takes server `index` out: its slots go to the others. Refused (false)
   * for the last server in the ring, which keeps its keys (they fail while
   * it is down rather than having nowhere to go), or one already out.
   *
   * @example
   * ```ts
   * if (ring.eject(2)) emit('ring-changed', { servers: ring.live });
   * ```
   */
  eject(index: number): boolean {
    if (!this.has(index) || this.#out.size === this.names.length - 1) return false;
    this.#out.add(index);
    this.#reassign();
    return true;
  }

  /**
   * Puts server `index` back: it takes its own slots again, and only those.
   *
   * @example
   * ```ts
   * ring.restore(2);
   * ```
   */
  restore(index: number): boolean {
    if (!this.#out.delete(index)) return false;
    this.#reassign();
    return true;
  }

  #reassign(): void {
    const live: number[] = [];
    for (let i = 0; i < this.names.length; i++) if (!this.#out.has(i)) live.push(i);
    const table = assignSlots(live.map((i) => this.names[i] as string));
    for (let slot = 0; slot < SLOT_COUNT; slot++) table[slot] = live[table[slot] as number] as number;
    this.#table = table;
  }
}
