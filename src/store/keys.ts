/**
 * Key representation and shard choice for the store.
 *
 * Keys are binary (spec §3.1), but `LRUCache` and `Map` compare keys by
 * identity unless they are primitives. A `latin1` string maps each byte 0–255
 * to the code unit of the same value, so it is exact for every byte value,
 * round-trips with `Buffer.from(s, 'latin1')`, and V8 stores it as a compact
 * one-byte string. Converting a ≤ 250-byte key costs one short copy
 * (`bench/store.mjs` measures it).
 *
 * @example
 * ```ts
 * const k = keyString(Buffer.from([0x00, 0xff]));      // '\u0000\u00ff'
 * keyBytes(k).equals(Buffer.from([0x00, 0xff]));        // true
 * ```
 * @module
 */

/** The exact string form of a binary key. */
export function keyString(key: Uint8Array): string {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.length);
  return bytes.toString('latin1');
}

/** The bytes of a key string made by {@link keyString}. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

/**
 * 32-bit FNV-1a over the key's bytes (its latin1 code units): fast,
 * non-cryptographic and well spread for short keys. Shard choice only; an
 * attacker who floods one shard only evicts within that shard's budget.
 *
 * @example
 * ```ts
 * fnv1a('a'); // 0xe40c292c
 * ```
 */
export function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * {@link fnv1a} over `length` bytes of `bytes` from `start`: the same hash
 * without making a key string (the store picks a counter shard with it).
 *
 * @example
 * ```ts
 * fnv1aBytes(Buffer.from('a'), 0, 1) === fnv1a('a'); // true
 * ```
 */
export function fnv1aBytes(bytes: Uint8Array, start: number, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < start + length; i += 1) {
    hash ^= bytes[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
