/**
 * Copies `length` bytes without allocating where it can: a plain loop for
 * short runs, `set` of the whole source (a value Buffer from the decoder
 * usually is exactly the value), and a `subarray` view only for a long run
 * out of the middle of a buffer.
 *
 * @example
 * ```ts
 * copyBytes(Buffer.from('hello'), 1, target, 0, 3); // target starts with 'ell'
 * ```
 * @module
 */
export function copyBytes(source: Uint8Array, from: number, target: Uint8Array, to: number, length: number): void {
  if (length <= 32) {
    for (let i = 0; i < length; i += 1) target[to + i] = source[from + i] as number;
  } else if (from === 0 && length === source.length) {
    target.set(source, to);
  } else {
    target.set(source.subarray(from, from + length), to);
  }
}
