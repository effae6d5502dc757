/**
 * The store's memory model: what one entry is charged against the budget.
 * Each shard's `LRUCache` is bounded by the sum of these charges
 * (`maxSize`), so the budget is what the entries cost in RSS, not the bytes
 * of their keys and values alone.
 *
 * @example
 * ```ts
 * chargeOf(16, 100); // 672 bytes for a 16-byte key and a 100-byte value
 * ```
 * @module
 */

/**
 * Bytes one entry costs beyond its key and value bytes, calibrated against
 * the process's RSS (issue 15 item 15): `BENCH_ONLY=rss npx just bench-store`
 * fills a fresh process with 1M items of 16-byte keys and 10, 100 and
 * 1,000-byte values and divides the RSS it gained (after GC) by the items:
 * 431, 670 and 1,558 B on Node 20.20 x64. That is the lru-cache slots (key,
 * value, size, list links, with array growth slack), the entry object, the
 * key string, the Buffer and ArrayBuffer objects, and the V8 heap's own
 * slack (RSS runs about 8% over heapUsed). See {@link chargeOf}.
 *
 * @example
 * ```ts
 * chargeOf(16, 0) - 16; // ENTRY_OVERHEAD
 * ```
 */
export const ENTRY_OVERHEAD = 400;

/**
 * Values longer than this live outside the V8 heap, in a backing store of
 * their own; shorter ones are allocated inside the heap (V8's
 * `typed_array_max_size_in_heap`, 64 bytes).
 *
 * @example
 * ```ts
 * value.length <= IN_HEAP_VALUE_MAX; // charged without EXTERNAL_VALUE_OVERHEAD
 * ```
 */
export const IN_HEAP_VALUE_MAX = 64;

/**
 * What a value outside the V8 heap costs beyond its bytes: its malloc chunk
 * header and the C++ backing-store records that track it (measured: 670 B of
 * RSS for a 100-byte value against 431 B for a 10-byte one).
 *
 * @example
 * ```ts
 * chargeOf(16, 65) - chargeOf(16, 64); // 16 + EXTERNAL_VALUE_OVERHEAD
 * ```
 */
export const EXTERNAL_VALUE_OVERHEAD = 144;

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * Bytes an entry is charged against the memory budget: what it costs in RSS
 * on Node 20 x64, within a few percent for 16-byte keys and 10 B–1 KiB values.
 * The key string and in-heap values are rounded to V8's 8-byte allocation
 * unit, values outside the heap to malloc's 16-byte chunks, and
 * those pay {@link EXTERNAL_VALUE_OVERHEAD} on top of {@link ENTRY_OVERHEAD}.
 *
 * @example
 * ```ts
 * chargeOf(16, 10);   // 432: 16 + 16 + 400
 * chargeOf(16, 100);  // 672: 16 + 112 + 400 + 144
 * chargeOf(16, 1000); // 1568: 16 + 1008 + 400 + 144
 * ```
 */
export function chargeOf(keyLength: number, valueLength: number): number {
  const key = roundUp(keyLength, 8);
  if (valueLength <= IN_HEAP_VALUE_MAX) return key + roundUp(valueLength, 8) + ENTRY_OVERHEAD;
  return key + roundUp(valueLength, 16) + ENTRY_OVERHEAD + EXTERNAL_VALUE_OVERHEAD;
}
