/**
 * Which slot a key hashes to, and which server owns each slot (spec §3.14,
 * protocol 1.2). Keys map to Redis Cluster's 16,384 hash slots (CRC16-XMODEM
 * of the key, or of its `{hash tag}`, mod 16,384, computed by
 * `cluster-key-slot`, the package ioredis and node-redis use), and slots map
 * to servers by rendezvous hashing, so the map depends only on the set of
 * server names, never on their order, and adding a fourth server moves only
 * the slots it wins (about a quarter). docs/SCALING.md says why this scheme.
 *
 * @example
 * ```ts
 * const table = assignSlots(['10.0.0.1:7171', '10.0.0.2:7171', '10.0.0.3:7171']);
 * const owner = table[slotOf(Buffer.from('user:42'))]; // an index into the list above
 * ```
 * @module
 */
import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { ConduitError } from './errors.js';

/** spec §3.14: the number of hash slots, Redis Cluster's. */
export const SLOT_COUNT = 16_384;

/** spec §3.14: a slot table names at most this many servers (its entries are u8, 255 is reserved). */
export const MAX_NODES = 64;

/**
 * The slot of a key (spec §3.14): Redis Cluster's `HASH_SLOT`, so a key
 * `{user:42}:profile` and `{user:42}:cart` share a slot, and a Redis
 * client's slot for a key is Conduit's. A string is hashed as its UTF-8
 * bytes, the bytes that go on the wire.
 *
 * @example
 * ```ts
 * slotOf('foo'); // 12182, as Redis's CLUSTER KEYSLOT foo
 * ```
 */
export function slotOf(key: Uint8Array | string): number {
  // cluster-key-slot, on a first tag that is empty (`foo{}{bar}`), goes on to the next
  // `{…}` where Redis hashes the whole key: such keys (rare) are hashed here, bit by bit.
  if (emptyTagThenClose(key)) return crc16(typeof key === 'string' ? Buffer.from(key, 'utf8') : key) % SLOT_COUNT;
  return calculateSlot(key as Buffer | string);
}

/** Whether the first `{` of `key` is followed at once by `}` and a `}` comes later (`foo{}{bar}`). */
function emptyTagThenClose(key: Uint8Array | string): boolean {
  if (typeof key === 'string') {
    const open = key.indexOf('{'); // braces are ASCII: a string's positions test as its UTF-8 bytes' do
    return open !== -1 && key[open + 1] === '}' && key.indexOf('}', open + 2) !== -1;
  }
  const open = key.indexOf(0x7b);
  return open !== -1 && key[open + 1] === 0x7d && key.indexOf(0x7d, open + 2) !== -1;
}

/** CRC-16/XMODEM (polynomial 0x1021, initial 0, no reflection): Redis's `crc16`, bitwise. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * MurmurHash3's 32-bit finalizer: a bijection with full avalanche; the rendezvous weight's
 * mixer (spec §3.14) and the store's keyed index hash (docs/STORAGE.md).
 *
 * @example
 * ```ts
 * fmix32(0x12345678); // a u32
 * ```
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * spec §3.14: a server's rendezvous seed, the first four bytes (big-endian) of
 * SHA-256 over its name's UTF-8 bytes.
 *
 * @example
 * ```ts
 * nodeSeed('127.0.0.1:7171');
 * ```
 */
export function nodeSeed(name: string): number {
  return createHash('sha256').update(name, 'utf8').digest().readUInt32BE(0);
}

/**
 * spec §3.14: the weight of a server for a slot; the slot goes to the
 * heaviest, ties to the smaller name (by UTF-16 code units).
 *
 * @example
 * ```ts
 * slotWeight(nodeSeed('127.0.0.1:7171'), 0);
 * ```
 */
export function slotWeight(seed: number, slot: number): number {
  return fmix32((seed ^ Math.imul(slot + 1, 0x9e37_79b1)) >>> 0);
}

/**
 * Assigns every slot to one of `names` by rendezvous hashing (spec §3.14).
 * Entry `s` of the result is the index in `names` of slot `s`'s owner. The
 * owner depends only on the set of names: the same names in another order
 * give the same owner names. About 1.6 ms for 8 names.
 *
 * @throws ConduitError `BAD_REQUEST` when `names` is empty, longer than
 * {@link MAX_NODES}, or holds a name twice.
 * @example
 * ```ts
 * const names = ['a:1', 'b:1'];
 * const table = assignSlots(names);
 * names[table[slotOf('k')]]; // 'a:1' or 'b:1', the same for every client
 * ```
 */
export function assignSlots(names: readonly string[]): Uint8Array {
  if (names.length === 0 || names.length > MAX_NODES) {
    throw new ConduitError('BAD_REQUEST', `a slot table names 1–${MAX_NODES} servers, got ${names.length}`);
  }
  if (new Set(names).size !== names.length) throw new ConduitError('BAD_REQUEST', 'a slot table names each server once');
  const seeds = names.map(nodeSeed);
  const table = new Uint8Array(SLOT_COUNT);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    let best = 0;
    let bestWeight = slotWeight(seeds[0] as number, slot);
    for (let i = 1; i < seeds.length; i++) {
      const weight = slotWeight(seeds[i] as number, slot);
      if (weight > bestWeight || (weight === bestWeight && (names[i] as string) < (names[best] as string))) {
        best = i;
        bestWeight = weight;
      }
    }
    table[slot] = best;
  }
  return table;
}
