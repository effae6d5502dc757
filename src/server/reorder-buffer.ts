import Denque from 'denque';

/**
 * Restores request order before responses are written (spec §2.3). Each
 * request takes a slot at the tail when it arrives; its response fills the
 * slot whenever it is ready; {@link ReorderBuffer.drain} hands out the
 * responses at the head that are ready, in arrival order, and stops at the
 * first that is not.
 *
 * ```
 *  head                                tail
 *   [id 7: ready][id 8: waiting][id 9: ready]
 *   └ drain() gives id 7, then stops at id 8 even though id 9 is ready
 * ```
 *
 * Requests executed synchronously fill their slot at once, so the buffer
 * then only passes responses through; it is what keeps the order if a
 * request ever completes later than the ones after it.
 *
 * @example
 * ```ts
 * const buffer = new ReorderBuffer<Buffer[]>();
 * const slot = buffer.reserve(7n);
 * buffer.fill(slot, parts);
 * buffer.drain((id, parts) => out.push(...parts));
 * ```
 */
export class ReorderBuffer<T> {
  readonly #slots = new Denque<{ id: bigint; value: T | undefined }>();

  /** Requests whose responses are not yet handed out. */
  get size(): number {
    return this.#slots.length;
  }

  /** Takes the next slot, for the request with identifier `id`. */
  reserve(id: bigint): { id: bigint; value: T | undefined } {
    const slot = { id, value: undefined };
    this.#slots.push(slot);
    return slot;
  }

  /** Stores the response of a reserved slot. */
  fill(slot: { id: bigint; value: T | undefined }, value: T): void {
    slot.value = value;
  }

  /** Hands out ready responses from the head, in order; returns how many. */
  drain(emit: (id: bigint, value: T) => void): number {
    let n = 0;
    for (let head = this.#slots.peekFront(); head?.value !== undefined; head = this.#slots.peekFront()) {
      this.#slots.shift();
      emit(head.id, head.value);
      n += 1;
    }
    return n;
  }
}
