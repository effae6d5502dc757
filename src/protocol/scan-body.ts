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
import { ProtocolError } from './errors.js';
import { keyListBody, readKeyList } from './key-list.js';
import { badRequest } from './request-reader.js';

/** The decoded body of a SCAN response (spec §3.10). */
export interface ScanPage {
  /** The cursor for the next call; 0n when the iteration is complete. */
  readonly cursor: bigint;
  /** Keys that start with the prefix, in no particular order. */
  readonly keys: Buffer[];
}

/**
 * Encodes a SCAN response body: `cursor u64`, then `key_len u8, key` per key
 * (spec §3.10). The caller keeps it within one frame (65,524 bytes).
 *
 * @example
 * ```ts
 * encodeScanBody(0n, [Buffer.from('a')]); // <00 00 00 00 00 00 00 00 01 61>
 * ```
 */
export function encodeScanBody(cursor: bigint, keys: readonly Uint8Array[]): Buffer {
  const out = keyListBody(8, keys);
  out.writeBigUInt64BE(cursor, 0);
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
  const keys = readKeyList(body, 8, 'SCAN');
  if (keys instanceof ProtocolError) return keys;
  return { cursor: body.readBigUInt64BE(0), keys };
}
