/**
 * LIST's scan (spec §3.5): live keys by prefix, walking the slab engine's
 * pages, bounded in the items it examines so that one LIST cannot hold the
 * event loop.
 *
 * @example
 * ```ts
 * const { keys, truncated } = listKeys(engine, Buffer.from('user:'), 100, 65_523, clock());
 * ```
 * @module
 */
import { NONE } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * Which keys a LIST or SCAN may return (issue 25: those inside the caller's prefixes):
 * whether the key of `length` bytes at `start` of `source` passes.
 *
 * @example
 * ```ts
 * const filter: KeyFilter = (source, start) => source[start] === 0x61; // keys starting with "a"
 * ```
 */
export type KeyFilter = (source: Uint8Array, start: number, length: number) => boolean;

/**
 * Items one LIST examines at most (spec §3.5: the server may stop early). A walk
 * over 1M keys once held the event loop for 300 ms while every other client waited
 * (issue 15 item 5); 8,192 keep one LIST to a few ms. A frame holds at most 32,761
 * one-byte keys, so a LIST of short keys may stop at 8,192 keys instead.
 *
 * @example
 * ```ts
 * Store.LIST_SCAN_LIMIT === LIST_SCAN_LIMIT; // true
 * ```
 */
export const LIST_SCAN_LIMIT = 8_192;

/**
 * Slots (free or live) one LIST looks at most: the walk goes page by page,
 * and a store with few items in many pages has many free slots, each a
 * one-byte check. 16 slots per item examined bound that walk to about a
 * millisecond.
 */
const SLOT_LIMIT = 16 * LIST_SCAN_LIMIT;
/** Slots walked per engine call; the walk stops between calls. */
const SLOT_STEP = 1024;

/**
 * Up to `limit` keys starting with `prefix` and live at `now`, in no
 * particular order, stopping early when their encoding (`1 + length` bytes
 * each) would pass `maxBytes` or after examining {@link LIST_SCAN_LIMIT}
 * items; `truncated` tells that more may match (spec §3.5).
 *
 * @example
 * ```ts
 * listKeys(engine, Buffer.alloc(0), 10, Infinity, now); // { keys: [...], truncated: false }
 * ```
 */
export function listKeys(
  engine: SlabEngine,
  prefix: Uint8Array,
  limit: number,
  maxBytes: number,
  now: number,
  filter?: KeyFilter,
): { keys: Buffer[]; truncated: boolean } {
  const keys: Buffer[] = [];
  let bytes = 0;
  let examined = 0;
  let stopped = false;
  const visit = (handle: number): void => {
    if (stopped) return;
    if (examined === LIST_SCAN_LIMIT) {
      stopped = true;
      return;
    }
    examined += 1;
    if (!engine.keyStartsWith(handle, prefix)) return;
    const expiresAt = engine.expiresAt(handle);
    if (expiresAt !== 0 && expiresAt <= now) return;
    const length = engine.keyLength(handle);
    if (keys.length >= limit || bytes + 1 + length > maxBytes) {
      stopped = true;
      return;
    }
    // A copy: the key's chunk may be reused by the next write.
    const key = Buffer.allocUnsafe(length);
    engine.copyKey(handle, key, 0);
    // Issue 25: a key outside the caller's prefixes is skipped as if it did not match.
    if (filter !== undefined && !filter(key, 0, length)) return;
    keys.push(key);
    bytes += 1 + length;
  };
  let cursor = 0;
  for (let slots = 0; cursor !== NONE && !stopped && slots < SLOT_LIMIT; slots += SLOT_STEP) {
    cursor = engine.scan(cursor, SLOT_STEP, visit);
  }
  return { keys, truncated: stopped || cursor !== NONE };
}
