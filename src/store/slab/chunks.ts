import { copyBytes } from './copy-bytes.js';
import {
  HEADER_SIZE,
  LIVE,
  MAX_PAGES,
  OFF_ACCESS,
  OFF_EXPIRES,
  OFF_FLAGS,
  OFF_KEY_LENGTH,
  OFF_VALUE_LENGTH,
  SLOT_BITS,
  SLOT_MASK,
} from './layout.js';
import type { PagePool } from './page-pool.js';

/**
 * Where each item is and what its header says: the pages, the chunk size and
 * slots per page of each class, and the reads and copies of an item's fields,
 * key and value by handle (docs/STORAGE.md "Chunk layout"). The engine's
 * index, lists and allocation all go through it; it keeps no state of its
 * own beyond the geometry.
 *
 * @example
 * ```ts
 * const chunks = new Chunks(pool, chunkSizes(pageSize), pageSize);
 * chunks.valueLength(handle);
 * ```
 */
export class Chunks {
  readonly pool: PagePool;
  readonly pageSize: number;
  /** Chunk sizes of the slab classes, ascending. */
  readonly sizes: number[];
  /** Chunk size per class; the last entry (the large-object class) is a page. */
  readonly chunk: Int32Array;
  /** Chunks per page per class; 1 for the large-object class. */
  readonly slots: Int32Array;
  /** Class id of large objects (one past the last slab class). */
  readonly large: number;

  constructor(pool: PagePool, sizes: number[], pageSize: number) {
    this.pool = pool;
    this.pageSize = pageSize;
    this.sizes = sizes;
    this.large = sizes.length;
    this.chunk = Int32Array.from([...sizes, pageSize]);
    this.slots = Int32Array.from([...sizes, pageSize], (size, c) => (c === this.large ? 1 : Math.floor(pageSize / size)));
  }

  /** Byte offset of a handle's chunk in its page. */
  offset(handle: number): number {
    return (handle & SLOT_MASK) * (this.chunk[this.pool.pageClass[handle >>> SLOT_BITS] as number] as number);
  }

  /** The `i32` header field at byte `field` of the item. */
  i32(handle: number, field: number): number {
    return this.pool.i32[handle >>> SLOT_BITS]![(this.offset(handle) + field) >> 2] as number;
  }

  /** Sets the `i32` header field at byte `field` of the item. */
  setI32(handle: number, field: number, value: number): void {
    this.pool.i32[handle >>> SLOT_BITS]![(this.offset(handle) + field) >> 2] = value;
  }

  /** The class of the page the handle is in. */
  classOf(handle: number): number {
    return this.pool.pageClass[handle >>> SLOT_BITS] as number;
  }

  /**
   * True when `handle` names a live item: a slot of an allocated page carved
   * for a class, inside that class's slot range, holding an item. Any
   * integer is safe to ask about, stale handles included.
   */
  isLive(handle: number): boolean {
    if (!Number.isInteger(handle) || handle < 0 || handle >= MAX_PAGES << SLOT_BITS) return false;
    const page = handle >>> SLOT_BITS;
    if (page >= this.pool.allocated) return false;
    const cls = this.pool.pageClass[page] as number;
    if (cls < 0 || (handle & SLOT_MASK) >= (this.slots[cls] as number)) return false;
    return this.pool.u8[page]![this.offset(handle) + OFF_FLAGS] === LIVE;
  }

  /** Bytes of the item's value. */
  valueLength(handle: number): number {
    return this.i32(handle, OFF_VALUE_LENGTH) >>> 0;
  }

  /** Bytes of the item's key. */
  keyLength(handle: number): number {
    return this.pool.u8[handle >>> SLOT_BITS]![this.offset(handle) + OFF_KEY_LENGTH] as number;
  }

  /** Clock time at which the item expires; 0 = never. */
  expiresAt(handle: number): number {
    return this.pool.f64[handle >>> SLOT_BITS]![(this.offset(handle) + OFF_EXPIRES) >> 3] as number;
  }

  /** Sets the item's expiry time (0 = never). */
  setExpiresAt(handle: number, time: number): void {
    this.pool.f64[handle >>> SLOT_BITS]![(this.offset(handle) + OFF_EXPIRES) >> 3] = time;
  }

  /** The access counter at the item's last write or touch (its age mark). */
  access(handle: number): number {
    return this.pool.f64[handle >>> SLOT_BITS]![(this.offset(handle) + OFF_ACCESS) >> 3] as number;
  }

  /** Bytes the live item occupies: its chunk, or whole pages for a large object. */
  chunkBytes(handle: number): number {
    const cls = this.classOf(handle);
    if (cls !== this.large) return this.chunk[cls] as number;
    return Math.ceil((HEADER_SIZE + this.keyLength(handle) + this.valueLength(handle)) / this.pageSize) * this.pageSize;
  }

  /** Copies the item's value into `target` at `offset` and returns its length. */
  copyValue(handle: number, target: Uint8Array, offset: number): number {
    const page = handle >>> SLOT_BITS;
    const off = this.offset(handle);
    const bytes = this.pool.u8[page]!;
    const length = this.valueLength(handle);
    const at = off + HEADER_SIZE + (bytes[off + OFF_KEY_LENGTH] as number);
    if (this.classOf(handle) !== this.large) {
      copyBytes(bytes, at, target, offset, length);
      return length;
    }
    // A large object: the value runs on through the chained pages.
    let copied = Math.min(length, this.pageSize - at);
    copyBytes(bytes, at, target, offset, copied);
    for (let p = this.pool.pageNext[page] as number; copied < length; p = this.pool.pageNext[p] as number) {
      const n = Math.min(length - copied, this.pageSize);
      copyBytes(this.pool.u8[p]!, 0, target, offset + copied, n);
      copied += n;
    }
    return length;
  }

  /** A view of the item's value in its chunk (a fresh copy for a large object); see `SlabEngine.valueView`. */
  valueView(handle: number): Buffer {
    if (this.classOf(handle) === this.large) {
      const copy = Buffer.allocUnsafe(this.valueLength(handle));
      this.copyValue(handle, copy, 0);
      return copy;
    }
    const off = this.offset(handle);
    const bytes = this.pool.u8[handle >>> SLOT_BITS]!;
    const at = off + HEADER_SIZE + (bytes[off + OFF_KEY_LENGTH] as number);
    return bytes.subarray(at, at + this.valueLength(handle));
  }

  /** Copies the item's key into `target` at `offset` and returns its length. */
  copyKey(handle: number, target: Uint8Array, offset: number): number {
    const off = this.offset(handle);
    const bytes = this.pool.u8[handle >>> SLOT_BITS]!;
    const length = bytes[off + OFF_KEY_LENGTH] as number;
    copyBytes(bytes, off + HEADER_SIZE, target, offset, length);
    return length;
  }

  /**
   * Copies the item's key and then its value into `target` at `offset` and
   * returns how many bytes that was: one copy for a slab item, whose key and
   * value follow each other in its chunk.
   */
  copyKeyAndValue(handle: number, target: Uint8Array, offset: number): number {
    if (this.classOf(handle) === this.large) {
      const keyLength = this.copyKey(handle, target, offset);
      return keyLength + this.copyValue(handle, target, offset + keyLength);
    }
    const off = this.offset(handle);
    const page = handle >>> SLOT_BITS;
    const bytes = this.pool.u8[page]!;
    const length = (bytes[off + OFF_KEY_LENGTH] as number) + (this.pool.i32[page]![(off + OFF_VALUE_LENGTH) >> 2]! >>> 0);
    copyBytes(bytes, off + HEADER_SIZE, target, offset, length);
    return length;
  }

  /** True when the item's key starts with `prefix`. */
  keyStartsWith(handle: number, prefix: Uint8Array): boolean {
    const off = this.offset(handle);
    const bytes = this.pool.u8[handle >>> SLOT_BITS]!;
    if ((bytes[off + OFF_KEY_LENGTH] as number) < prefix.length) return false;
    const at = off + HEADER_SIZE;
    for (let i = 0; i < prefix.length; i += 1) if (bytes[at + i] !== prefix[i]) return false;
    return true;
  }

  /** Writes the value bytes and length of the item at `handle` (its key is `keyLength` bytes), across its pages if large. */
  writeValue(handle: number, keyLength: number, value: Uint8Array, start: number, length: number): void {
    const page = handle >>> SLOT_BITS;
    const off = this.offset(handle);
    this.pool.i32[page]![(off + OFF_VALUE_LENGTH) >> 2] = length;
    const at = off + HEADER_SIZE + keyLength;
    if (this.classOf(handle) !== this.large) {
      copyBytes(value, start, this.pool.u8[page]!, at, length);
      return;
    }
    let written = Math.min(length, this.pageSize - at);
    copyBytes(value, start, this.pool.u8[page]!, at, written);
    for (let p = this.pool.pageNext[page] as number; written < length; p = this.pool.pageNext[p] as number) {
      const n = Math.min(length - written, this.pageSize);
      copyBytes(value, start + written, this.pool.u8[p]!, 0, n);
      written += n;
    }
  }
}
