/**
 * The key list LIST and SCAN answers end with (spec §3.5, §3.10): `key_len
 * u8, key` per key after a fixed head (LIST: `truncated u8`; SCAN: `cursor
 * u64`). One copy of this wire step for both answers.
 *
 * @example
 * ```ts
 * const body = keyListBody(1, [Buffer.from('a')]); // <?? 01 61>: the caller writes byte 0
 * readKeyList(body, 1, 'LIST'); // [<61>]
 * ```
 * @module
 */
import { MAX_BODY_SIZE } from './constants.js';
import { ConduitError, type ProtocolError } from './errors.js';
import { badRequest, keyError } from './request-reader.js';
import { checkKey } from './validate.js';

/**
 * A body of `head` bytes (left for the caller to write) followed by `keys`
 * as `key_len u8, key`. Throws `BAD_REQUEST` for a key of 0 or more than
 * 250 bytes and `TOO_LARGE` past one frame (spec §2.1).
 *
 * @example
 * ```ts
 * const body = keyListBody(8, keys);
 * body.writeBigUInt64BE(cursor, 0);
 * ```
 */
export function keyListBody(head: number, keys: readonly Uint8Array[]): Buffer {
  let length = head;
  for (const key of keys) {
    checkKey(key);
    length += 1 + key.length;
  }
  if (length > MAX_BODY_SIZE) {
    throw new ConduitError('TOO_LARGE', `body of ${length} bytes exceeds the frame limit of ${MAX_BODY_SIZE}`);
  }
  const out = Buffer.allocUnsafe(length);
  let at = head;
  for (const key of keys) {
    out[at] = key.length;
    out.set(key, at + 1);
    at += 1 + key.length;
  }
  return out;
}

/**
 * The keys of `body` from byte `from` on, as views into it, or a
 * BAD_REQUEST error naming `answer` when a key is 0 or over 250 bytes or
 * runs past the body.
 *
 * @example
 * ```ts
 * const keys = readKeyList(frame.body, 8, 'SCAN');
 * ```
 */
export function readKeyList(body: Buffer, from: number, answer: string): Buffer[] | ProtocolError {
  const keys: Buffer[] = [];
  let at = from;
  while (at < body.length) {
    const length = body[at] as number;
    const invalid = keyError(length);
    if (invalid !== undefined) return invalid;
    if (at + 1 + length > body.length) return badRequest(`${answer} response key runs past the body`);
    keys.push(body.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return keys;
}
