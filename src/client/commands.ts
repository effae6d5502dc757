import { ConduitError, ProtocolError } from '../protocol/errors.js';
import { Status } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';
import { decodeI64, decodeListBody } from '../protocol/messages.js';
import { decodeScanBody } from '../protocol/scan-body.js';
import { decodeMovedBody } from '../protocol/topology-body.js';

/**
 * What the client's commands take and what they make of their answers
 * (spec §3, §4): keys and values as bytes, and the response decoders. A
 * decoder throws the {@link ConduitError} an answer stands for; a
 * `PROTOCOL_ERROR` among them means the body does not decode, and the
 * connection is given up (see RequestQueue#settle).
 *
 * @module
 */

/** A key or value: strings are sent as UTF-8, bytes as they are. */
export type Bytes = string | Buffer | Uint8Array;

/**
 * `value` as bytes: a string as UTF-8, a Buffer as it is, a Uint8Array
 * viewed without a copy; `what` names the argument in the TypeError.
 *
 * @example
 * ```ts
 * bytes('user:42', 'key'); // <Buffer 75 73 65 72 3a 34 32>
 * ```
 */
export function bytes(value: Bytes, what: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  throw new TypeError(`${what} must be a string, Buffer or Uint8Array`);
}

/** What {@link ConduitClient.list} returns. */
export interface ListReply {
  /** Matching keys, in no particular order. */
  keys: Buffer[];
  /** True when more keys matched than were returned. */
  truncated: boolean;
}

/** What {@link ConduitClient.scanPage} and {@link ConduitClient.scan} take (spec §3.10). */
export interface ScanOptions {
  /** Only keys starting with this (0–250 bytes); default: every key. */
  prefix?: Bytes;
  /** About this many index entries the server examines per call, 1–65,535 (the reference server stops at 2,048, or after about 2 ms); default 1,000. */
  count?: number;
}

/** What {@link ConduitClient.scanPage} returns: the next cursor (0n: done) and a slice of keys. */
export interface ScanReply {
  cursor: bigint;
  keys: Buffer[];
}

/**
 * Turns a non-OK response into the error it stands for (spec §4).
 *
 * @example
 * ```ts
 * throw statusError(frame); // e.g. NOT_INTEGER with the server's message
 * ```
 */
export function statusError(frame: Frame): ConduitError {
  if (frame.opcode === Status.MOVED) return movedError(frame.body);
  return ConduitError.fromStatus(frame.opcode, frame.body.toString('utf8'));
}

/**
 * spec §3.14: MOVED is the one error whose body is read: the key's slot and
 * its owner, which the message names. A body that does not decode is a
 * PROTOCOL_ERROR (the connection is given up).
 *
 * @example
 * ```ts
 * movedError(encodeMovedBody({ slot: 1, node: 1, epoch: 3, name: '10.0.0.2:7171' })).message;
 * ```
 */
export function movedError(body: Buffer): ConduitError {
  const moved = decodeMovedBody(body);
  if (moved instanceof ProtocolError) return new ConduitError('PROTOCOL_ERROR', `MOVED answer: ${moved.message}`);
  return new ConduitError('MOVED', `the key's slot ${moved.slot} is owned by ${moved.name} (group epoch ${moved.epoch})`, Status.MOVED);
}

/**
 * A value answer's body as the caller's own Buffer: a copy of a decoded
 * frame's body (a view of socket bytes the decoder reuses), or the body
 * itself when it was reassembled from fragments (spec §2.4) and allocated
 * for this answer alone, so a 64 MiB value is not copied again.
 *
 * @example
 * ```ts
 * const decodeGet = okOr(valueOf, { status: Status.NOT_FOUND, value: undefined });
 * ```
 */
export function valueOf(frame: Frame): Buffer {
  return (frame as { owned?: boolean }).owned === true ? frame.body : Buffer.from(frame.body);
}

/**
 * The decoder of one call's answer: OK decodes with `ok`; the `absent`
 * status (no such key, or NX/XX refused) gives its value; any other status
 * throws the error it stands for (spec §4).
 *
 * @example
 * ```ts
 * const decodeDelete = okOr(asTrue, { status: Status.NOT_FOUND, value: false });
 * ```
 */
export function okOr<T>(ok: (frame: Frame) => T, absent?: { status: number; value: T }): (frame: Frame) => T {
  return (frame) => {
    if (frame.opcode === Status.OK) return ok(frame);
    if (absent !== undefined && frame.opcode === absent.status) return absent.value;
    throw statusError(frame);
  };
}

/**
 * The signed 64-bit integer of an INCR or TTL answer (spec §3.8, §3.9).
 *
 * @example
 * ```ts
 * const decodeIncr = okOr(i64);
 * ```
 */
export function i64(frame: Frame): bigint {
  const value = decodeI64(frame.body);
  if (value instanceof ProtocolError) throw new ConduitError('PROTOCOL_ERROR', value.message);
  return value;
}

/**
 * spec §5.2: STATS answers a JSON object; anything else is undecodable (PROTOCOL_ERROR).
 *
 * @example
 * ```ts
 * const decodeStats = okOr(statsObject);
 * ```
 */
export function statsObject(frame: Frame): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.body.toString('utf8'));
  } catch (err) {
    throw new ConduitError('PROTOCOL_ERROR', `STATS answer is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConduitError('PROTOCOL_ERROR', 'STATS answer is not a JSON object');
  return value as Record<string, unknown>;
}

/**
 * spec §3.5: LIST answers keys and whether more matched; the keys are copied out of the socket chunk.
 *
 * @example
 * ```ts
 * const decodeList = okOr(listReply);
 * ```
 */
export function listReply(frame: Frame): ListReply {
  const list = decodeListBody(frame.body);
  if (list instanceof ProtocolError) throw new ConduitError('PROTOCOL_ERROR', list.message);
  return { keys: list.keys.map((k) => Buffer.from(k)), truncated: list.truncated };
}

/**
 * spec §3.10: SCAN answers the next cursor and keys; the keys are copied out of the socket chunk.
 *
 * @example
 * ```ts
 * const decodeScan = okOr(scanReply);
 * ```
 */
export function scanReply(frame: Frame): ScanReply {
  const page = decodeScanBody(frame.body);
  if (page instanceof ProtocolError) throw new ConduitError('PROTOCOL_ERROR', page.message);
  return { cursor: page.cursor, keys: page.keys.map((k) => Buffer.from(k)) };
}

/**
 * What a RELOAD did (spec §3.17, protocol 1.4): the sizes of the key file it
 * read (`keys`, `tokens`, `certificates`) and the sessions it `closed`
 * because their credential was removed or changed.
 */
export interface ReloadResult {
  readonly keys: number;
  readonly tokens: number;
  readonly certificates: number;
  readonly closed: number;
}

/**
 * spec §3.17: RELOAD answers `{"keys","tokens","certificates","closed"}` as
 * UTF-8 JSON; anything else is undecodable (PROTOCOL_ERROR).
 *
 * @example
 * ```ts
 * const decodeReload = okOr(reloadReply);
 * ```
 */
export function reloadReply(frame: Frame): ReloadResult {
  let value: unknown;
  try {
    value = JSON.parse(frame.body.toString('utf8'));
  } catch (err) {
    throw new ConduitError('PROTOCOL_ERROR', `RELOAD answer is not JSON: ${(err as Error).message}`);
  }
  const fields = value as Record<string, unknown> | null;
  const count = (name: keyof ReloadResult): number => {
    const n = fields?.[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ConduitError('PROTOCOL_ERROR', `RELOAD answer has no count ${name}`);
    return n;
  };
  return { keys: count('keys'), tokens: count('tokens'), certificates: count('certificates'), closed: count('closed') };
}

/**
 * An OK that carries no body: `true` (SET stored, DELETE removed, RENEW set).
 *
 * @example
 * ```ts
 * okOr(asTrue, { status: Status.NOT_STORED, value: false });
 * ```
 */
export const asTrue = (): boolean => true;

/**
 * An OK that carries nothing: HEALTH, FLUSH.
 *
 * @example
 * ```ts
 * okOr(asVoid);
 * ```
 */
export const asVoid = (): undefined => undefined;

