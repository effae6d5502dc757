/**
 * CAPS's answer body (spec §3.13, protocol 1.1): `minor u8`, `reserved u8`,
 * `features u32`, `max_value_size u32`, 10 bytes. Beside `messages.ts`, as
 * SCAN's body is, so that file stays one job's size.
 *
 * @example
 * ```ts
 * decodeCapsBody(encodeCapsBody({ minor: 1, features: 0x0f, maxValueSize: 1_048_576 }));
 * ```
 * @module
 */
import { ConduitError, type ProtocolError } from './errors.js';
import { badRequest } from './request-reader.js';

/** spec §3.13: the length of CAPS's OK body. */
export const CAPS_BODY_SIZE = 10;

/** What a server said it supports in its CAPS answer (spec §3.13). */
export interface Capabilities {
  /** The protocol's minor version: 1 for protocol 1.1. */
  readonly minor: number;
  /** {@link Feature} bits: bit 0 fragments, 1 versions/GETS/CAS/GAT, 2 SCAN, 3 quiet writes. */
  readonly features: number;
  /** The server's `--max-value-size` in bytes. */
  readonly maxValueSize: number;
}

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/**
 * Encodes CAPS's OK body (spec §3.13).
 *
 * @example
 * ```ts
 * encodeCapsBody({ minor: 1, features: 0x0f, maxValueSize: 1_048_576 }); // <01 00 00 00 00 0f 00 10 00 00>
 * ```
 */
export function encodeCapsBody(caps: Capabilities): Buffer {
  if (!Number.isInteger(caps.minor) || caps.minor < 0 || caps.minor > 0xff) {
    throw new ConduitError('BAD_REQUEST', `minor must be a u8, got ${caps.minor}`);
  }
  if (!isU32(caps.features)) throw new ConduitError('BAD_REQUEST', `features must be a u32, got ${caps.features}`);
  if (!isU32(caps.maxValueSize)) throw new ConduitError('BAD_REQUEST', `maxValueSize must be a u32, got ${caps.maxValueSize}`);
  const out = Buffer.alloc(CAPS_BODY_SIZE);
  out[0] = caps.minor;
  out.writeUInt32BE(caps.features, 2);
  out.writeUInt32BE(caps.maxValueSize, 6);
  return out;
}

/**
 * Decodes CAPS's OK body, or returns a BAD_REQUEST error when it is not 10
 * bytes. The reserved byte is ignored (spec §3.13: a receiver ignores what
 * it does not know).
 *
 * @example
 * ```ts
 * const caps = decodeCapsBody(frame.body);
 * if (!(caps instanceof ProtocolError) && (caps.features & Feature.FRAGMENTS) !== 0) enableFragments(caps.maxValueSize);
 * ```
 */
export function decodeCapsBody(body: Buffer): Capabilities | ProtocolError {
  if (body.length !== CAPS_BODY_SIZE) return badRequest(`a CAPS body is ${CAPS_BODY_SIZE} bytes, got ${body.length}`);
  return { minor: body[0] as number, features: body.readUInt32BE(2), maxValueSize: body.readUInt32BE(6) };
}
