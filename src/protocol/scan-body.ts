/**
 * SCAN's response body (spec §3.10, protocol 1.1): `cursor u64`, then
 * `key_len u8, key` per key. Beside `messages.ts`, whose LIST body it
 * mirrors, so that file stays one job's size.
 *
 * @example
 * ```ts
 * decodeScanBody(encodeScanBody(0n, [Buffer.from('a')])); // { cursor: 0n, keys: [<61>] }
 * ```
 * @module
 */
import { MAX_BODY_SIZE } from './constants.js';
import { ConduitError, ProtocolError } from './errors.js';
import { badRequest, keyError } from './request-reader.js';
import { checkKey } from './validate.js';

/** The decoded body of a SCAN response (spec §3.10). */
export interface ScanPage {
  /** The cursor for the next call; 0n when the iteration is complete. */
  readonly cursor: bigint;
  /** Keys that start with the prefix, in no particular order. */
  readonly keys: Buffer[];
}

/**
 * Encodes a SCAN response body: `cursor u64`, then `key_len u8, key` per key
 * (spec §3.10). The caller keeps it within {@link MAX_BODY_SIZE}.
 *
 * @example
 * ```ts
 * encodeScanBody(0n, [Buffer.from('a')]); // <00 00 00 00 00 00 00 00 01 61>
 * ```
 */
export function encodeScanBody(cursor: bigint, keys: readonly Uint8Array[]): Buffer {
  let length = 8;
  for (const key of keys) {
    checkKey(key);
    length += 1 + key.length;
  }
  if (length > MAX_BODY_SIZE) {
    throw new ConduitError('TOO_LARGE', `body of ${length} bytes exceeds the frame limit of ${MAX_BODY_SIZE}`);
  }
  const out = Buffer.allocUnsafe(length);
  out.writeBigUInt64BE(cursor, 0);
  let at = 8;
  for (const key of keys) {
    out[at] = key.length;
    out.set(key, at + 1);
    at += 1 + key.length;
  }
  return out;
}

/**
 * Decodes a SCAN response body, or returns a BAD_REQUEST error when it is
 * malformed. Keys are views into `body`.
 *
 * @example
 * ```ts
 * const { cursor, keys } = decodeScanBody(frame.body) as ScanPage;
 * ```
 */
export function decodeScanBody(body: Buffer): ScanPage | ProtocolError {
  if (body.length < 8) return badRequest(`SCAN response body needs at least 8 bytes, got ${body.length}`);
  const keys: Buffer[] = [];
  let at = 8;
  while (at < body.length) {
    const length = body[at] as number;
    const invalid = keyError(length);
    if (invalid !== undefined) return invalid;
    if (at + 1 + length > body.length) return badRequest('SCAN response key runs past the body');
    keys.push(body.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return { cursor: body.readBigUInt64BE(0), keys };
}
