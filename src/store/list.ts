/**
 * LIST's scan (spec §3.5): live keys by prefix across the shards, bounded in
 * the entries it examines so that one LIST cannot hold the event loop.
 *
 * @example
 * ```ts
 * const { keys, truncated } = listKeys(shards, Buffer.from('user:'), 100, 65_523, clock());
 * ```
 * @module
 */
import { keyBytes, keyString } from './keys.js';
import type { Shard } from './shard.js';

/**
 * Entries one LIST examines at most (spec §3.5: the server may stop early). A walk
 * costs about 0.3 µs an entry on a 2-core machine, so a LIST that matched nothing walked
 * 1M keys for 300 ms while every other client waited (issue 15 item 5); 8,192 keep one
 * LIST to about 2-3 ms. A frame holds at most 32,761 one-byte keys, so a LIST of short keys
 * may stop at 8,192 keys instead.
 *
 * @example
 * ```ts
 * Store.LIST_SCAN_LIMIT === LIST_SCAN_LIMIT; // true
 * ```
 */
export const LIST_SCAN_LIMIT = 8_192;

/**
 * Up to `limit` keys starting with `prefix` and live at `now`, in no
 * particular order, stopping early when their encoding (`1 + length` bytes
 * each) would pass `maxBytes` or after examining {@link LIST_SCAN_LIMIT}
 * entries; `truncated` tells that more may match (spec §3.5).
 *
 * @example
 * ```ts
 * listKeys(shards, Buffer.alloc(0), 10, Infinity, now); // { keys: [...], truncated: false }
 * ```
 */
export function listKeys(
  shards: readonly Shard[],
  prefix: Uint8Array,
  limit: number,
  maxBytes: number,
  now: number,
): { keys: Buffer[]; truncated: boolean } {
  const p = keyString(prefix);
  const keys: Buffer[] = [];
  let bytes = 0;
  let examined = 0;
  for (const shard of shards) {
    for (const [k, entry] of shard.cache.entries()) {
      if (examined++ === LIST_SCAN_LIMIT) return { keys, truncated: true };
      if (!k.startsWith(p) || (entry.expiresAt !== 0 && entry.expiresAt <= now)) continue;
      if (keys.length >= limit || bytes + 1 + k.length > maxBytes) return { keys, truncated: true };
      keys.push(keyBytes(k));
      bytes += 1 + k.length;
    }
  }
  return { keys, truncated: false };
}
