/**
 * The INVALIDATE push body (spec §3.15, protocol 1.3): what a server sends,
 * unasked, to a connection that turned tracking on when keys whose values it
 * read change. `kind u8`: 0 = KEYS, then `count u16` (≥ 1) and that many
 * `key_len u8, key`; 1 = ALL (a FLUSH), nothing more. Every body is at most
 * {@link MAX_PUSH_BODY} bytes, so a push fits one frame and one sealed
 * envelope and is never fragmented. Beside `messages.ts`, as the other
 * answer bodies are.
 *
 * @example
 * ```ts
 * for (const body of encodeInvalidateBodies([Buffer.from('user:1')])) queuePush(body);
 * decodeInvalidateBody(body); // [<Buffer 75 73 65 72 3a 31>] or 'all'
 * ```
 * @module
 */
import { MAX_PUSH_BODY } from './constants.js';
import type { ProtocolError } from './errors.js';
import { readKeyList } from './key-list.js';
import { badRequest } from './request-reader.js';
import { checkKey } from './validate.js';

/** spec §3.15: `kind` of an INVALIDATE body listing keys. */
export const INVALIDATE_KEYS = 0;

/** spec §3.15: `kind` of an INVALIDATE body meaning every key (after a FLUSH). */
export const INVALIDATE_ALL = 1;

/** spec §3.15: the fixed head of a KEYS body, `kind u8` + `count u16`. */
const KEYS_HEAD = 3;

/** The one ALL body: one byte, shared (a body is never written into). */
export const INVALIDATE_ALL_BODY: Buffer = Buffer.from([INVALIDATE_ALL]);

/** What an INVALIDATE push says: these keys changed, or every key did. */
export type Invalidation = Buffer[] | 'all';

/**
 * The INVALIDATE bodies listing `keys`, in order, as few as fit
 * {@link MAX_PUSH_BODY} bytes each (a 250-byte key is 251 bytes, so a body
 * holds at least 258 keys); none for no keys. Throws `BAD_REQUEST` for a key
 * of 0 or more than 250 bytes: keys come from the store, so that is a bug.
 *
 * @example
 * ```ts
 * encodeInvalidateBodies([Buffer.from('a'), Buffer.from('bc')]); // [<00 00 02 01 61 02 62 63>]
 * ```
 */
export function encodeInvalidateBodies(keys: readonly Uint8Array[]): Buffer[] {
  const bodies: Buffer[] = [];
  let first = 0;
  while (first < keys.length) {
    let length = KEYS_HEAD;
    let end = first;
    while (end < keys.length) {
      const key = keys[end] as Uint8Array;
      checkKey(key);
      if (length + 1 + key.length > MAX_PUSH_BODY) break;
      length += 1 + key.length;
      end += 1;
    }
    const body = Buffer.allocUnsafe(length);
    body[0] = INVALIDATE_KEYS;
    body.writeUInt16BE(end - first, 1);
    let at = KEYS_HEAD;
    for (let i = first; i < end; i += 1) {
      const key = keys[i] as Uint8Array;
      body[at] = key.length;
      body.set(key, at + 1);
      at += 1 + key.length;
    }
    bodies.push(body);
    first = end;
  }
  return bodies;
}

/**
 * The keys an INVALIDATE body names (views into it), `'all'`, or a
 * BAD_REQUEST error when it breaks spec §3.15 (unknown kind, a count of 0
 * or one that disagrees with the keys, a key of 0 or over 250 bytes, bytes
 * left over). Never throws.
 *
 * @example
 * ```ts
 * const keys = decodeInvalidateBody(frame.body);
 * if (keys === 'all') near.clear(); else if (!(keys instanceof ProtocolError)) for (const key of keys) near.delete(key);
 * ```
 */
export function decodeInvalidateBody(body: Buffer): Invalidation | ProtocolError {
  if (body.length < 1) return badRequest('an INVALIDATE body is at least 1 byte');
  const kind = body[0] as number;
  if (kind === INVALIDATE_ALL) {
    return body.length === 1 ? 'all' : badRequest(`an INVALIDATE ALL body is 1 byte, got ${body.length}`);
  }
  if (kind !== INVALIDATE_KEYS) return badRequest(`INVALIDATE kind ${kind} is not 0 (keys) or 1 (all)`);
  if (body.length < KEYS_HEAD) return badRequest(`an INVALIDATE KEYS body is at least ${KEYS_HEAD} bytes, got ${body.length}`);
  const count = body.readUInt16BE(1);
  if (count === 0) return badRequest('an INVALIDATE KEYS body lists at least 1 key');
  const keys = readKeyList(body, KEYS_HEAD, 'INVALIDATE');
  if (!Array.isArray(keys)) return keys;
  return keys.length === count ? keys : badRequest(`INVALIDATE count ${count} but ${keys.length} keys follow`);
}
