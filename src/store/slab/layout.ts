/**
 * Where things are in the slab engine's memory: the page size, the handle
 * format and the layout of an item's header in its chunk (docs/STORAGE.md
 * "Chunk layout"). Every offset is in bytes from the chunk's start; the
 * header is 8-byte aligned so its fields are read through the page's
 * `Float64Array` / `Int32Array` / `Uint32Array` views with a shift, never
 * through `Buffer` calls.
 *
 * ```
 *  0        8        16     20     24        28     32        36      40  41  42      44    48        56
 *  | expires | access | prev | next | hashNext | hash | valueLen | bucket | kl | fl | spare | tag | version | key … | value … |
 *    f64      f64      i32    i32    i32        u32    u32        i32      u8   u8           i32   f64
 * ```
 *
 * @example
 * ```ts
 * const h = handleOf(3, 17);   // 3 << 14 | 17
 * pageOf(h);                   // 3
 * slotOf(h);                   // 17
 * ```
 * @module
 */

/** Bytes in one page: every page comes from one `Buffer.allocUnsafeSlow(PAGE_SIZE)`. */
export const PAGE_SIZE = 1 << 20;
/** Bits of a handle that name the slot; a page holds at most 2^14 chunks (64-byte chunks). */
export const SLOT_BITS = 14;
/** Mask of the slot bits of a handle. */
export const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Most pages one engine can have: 2^16 pages of 1 MiB (64 GiB), so a handle stays below 2^30, a V8 small integer. */
export const MAX_PAGES = 1 << 16;
/** "No item": the handle stored in empty links and returned by lookups that miss. */
export const NONE = -1;

/** Header field offsets (bytes) in a chunk. */
export const OFF_EXPIRES = 0; // f64: clock time of expiry, 0 = never
export const OFF_ACCESS = 8; // f64: engine access counter at the last write or touch (eviction age)
export const OFF_PREV = 16; // i32: LRU previous (towards the head), or free-list previous
export const OFF_NEXT = 20; // i32: LRU next (towards the tail), or free-list next
export const OFF_HASH_NEXT = 24; // i32: next handle in the same hash bucket
export const OFF_HASH = 28; // u32: the key's hash under the current seed
export const OFF_VALUE_LENGTH = 32; // u32
export const OFF_BUCKET = 36; // i32: expiry-queue bucket of the item's own pair, or UNQUEUED
export const OFF_KEY_LENGTH = 40; // u8: 1–250 (spec §3.1)
export const OFF_FLAGS = 41; // u8: FREE or LIVE
export const OFF_TAG = 44; // i32: the caller's tag for the item (the store keeps its counter shard there)
// f64: the item's version (spec §3.11), an integer from 1 below 2^53 that the engine assigns on
// every write; 8 bytes of its own because no header field had room for 64 bits (docs/STORAGE.md).
export const OFF_VERSION = 48;
/** Bytes of the header; the key follows it, then the value. */
export const HEADER_SIZE = 56;

/** {@link OFF_FLAGS}: the chunk holds no item (it is on its class's free list). */
export const FREE = 0;
/** {@link OFF_FLAGS}: the chunk holds a live item. */
export const LIVE = 1;

/** {@link OFF_BUCKET} of an item that owns no pair in the expiry queue. */
export const UNQUEUED = -0x80000000;

/** Longest key the engine stores (spec §3.1: keys are 1–250 bytes). */
export const MAX_KEY_LENGTH = 250;

/**
 * Throws a `RangeError` unless `length` is a key length the engine stores
 * (1 to {@link MAX_KEY_LENGTH} bytes, spec §3.1).
 *
 * @example
 * ```ts
 * checkKeyLength(16);  // fine
 * checkKeyLength(251); // throws RangeError: key must be 1 to 250 bytes, got 251
 * ```
 */
export function checkKeyLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > MAX_KEY_LENGTH) {
    throw new RangeError(`key must be 1 to ${MAX_KEY_LENGTH} bytes, got ${length}`);
  }
}

/**
 * The handle of slot `slot` of page `page`: a non-negative integer below
 * 2^30, so V8 keeps it as a small integer (no heap number, no object).
 *
 * @example
 * ```ts
 * handleOf(1, 0); // 16384
 * ```
 */
export function handleOf(page: number, slot: number): number {
  return (page << SLOT_BITS) | slot;
}

/**
 * The page of a handle.
 *
 * @example
 * ```ts
 * pageOf(16385); // 1
 * ```
 */
export function pageOf(handle: number): number {
  return handle >>> SLOT_BITS;
}

/**
 * The slot of a handle in its page.
 *
 * @example
 * ```ts
 * slotOf(16385); // 1
 * ```
 */
export function slotOf(handle: number): number {
  return handle & SLOT_MASK;
}
