import { HEADER_SIZE } from './constants.js';

/**
 * The four fields of a frame header (spec §2). For a response, `opcode`
 * holds the status byte.
 */
export interface FrameHeader {
  /** VERSION byte: 0x01 request, 0x81 response. */
  readonly version: number;
  /** Request opcode, or response status. */
  readonly opcode: number;
  /** Number of body bytes that follow on the wire. */
  readonly length: number;
  /** u64 identifier chosen by the client and echoed by the server. */
  readonly id: bigint;
}

/** A whole frame: its header and exactly `length` body bytes. */
export interface Frame extends FrameHeader {
  /**
   * The body. A view into the socket chunk when the frame arrived in one
   * chunk (spec §2.1 allows no copy there), so copy what you keep.
   */
  readonly body: Buffer;
}

/**
 * A frame as the decoder's {@link FrameDecoder.take} hands it out, for a hot
 * path that wants no object and no `BigInt` per frame: one object per decoder,
 * overwritten by the next `take()`, with the identifier as its two big-endian
 * u32 halves (spec §2: bytes 4–7 and 8–11 of the header) and the body as its
 * position: `length` bytes of `source` from `bodyStart`, the socket chunk
 * itself when the frame arrived in one (no view allocated). Copy what you keep.
 */
export interface RawFrame {
  readonly version: number;
  readonly opcode: number;
  readonly length: number;
  /** The identifier's high 32 bits (header bytes 4–7). */
  readonly idHi: number;
  /** The identifier's low 32 bits (header bytes 8–11). */
  readonly idLo: number;
  /** The bytes the body lies in, from {@link bodyStart}. */
  readonly source: Buffer;
  readonly bodyStart: number;
  /** The body as a `Buffer` view (allocated on each read: for the paths off the hot one). */
  readonly body: Buffer;
}

/** The body of a slot before its first frame: zero bytes. */
const NO_SOURCE = Buffer.alloc(0);

/**
 * The one {@link RawFrame} a reader hands out and refills per frame (the
 * decoder's, an envelope reader's): no object per frame.
 *
 * @example
 * ```ts
 * const slot = new FrameSlot();
 * slot.source = chunk; slot.bodyStart = 12; slot.length = 3;
 * slot.body; // chunk[12 … 15)
 * ```
 */
export class FrameSlot implements RawFrame {
  version = 0;
  opcode = 0;
  length = 0;
  idHi = 0;
  idLo = 0;
  source: Buffer = NO_SOURCE;
  bodyStart = 0;

  get body(): Buffer {
    const { source, bodyStart, length } = this;
    return bodyStart === 0 && length === source.length ? source : source.subarray(bodyStart, bodyStart + length);
  }
}

/**
 * The identifier of `raw` as a `bigint` (for logs, secure mode, the client).
 *
 * @example
 * ```ts
 * idOf({ idHi: 0, idLo: 7 }); // 7n
 * ```
 */
export function idOf(raw: Pick<RawFrame, 'idHi' | 'idLo'>): bigint {
  return (BigInt(raw.idHi) << 32n) | BigInt(raw.idLo);
}

/**
 * Writes a 12-byte header at `offset` of `target` (big-endian, spec §2).
 * The caller has validated the fields; this only lays them out, so tests can
 * craft the malformed frames of spec §7. A `length` over 65,535 throws
 * (`writeUInt16BE`): the server sizes every answer to `MAX_BODY_SIZE`
 * or less before it gets here (see Connection#queueAnswer).
 *
 * @example
 * ```ts
 * const header = Buffer.allocUnsafe(HEADER_SIZE);
 * writeHeader(header, 0, VERSION_REQUEST, Opcode.GET, 3, 1n);
 * ```
 */
export function writeHeader(
  target: Buffer,
  offset: number,
  version: number,
  opcode: number,
  length: number,
  id: bigint,
): void {
  target[offset] = version;
  target[offset + 1] = opcode;
  target.writeUInt16BE(length, offset + 2);
  target.writeBigUInt64BE(id, offset + 4);
}

/**
 * {@link writeHeader} with the identifier as its two big-endian u32 halves
 * (see {@link RawFrame}): what the server writes per answer, no `BigInt`.
 *
 * @example
 * ```ts
 * writeRawHeader(out, 0, VERSION_RESPONSE, Status.OK, 0, raw.idHi, raw.idLo); // echoes the request's id
 * ```
 */
export function writeRawHeader(
  target: Buffer,
  offset: number,
  version: number,
  code: number,
  length: number,
  idHi: number,
  idLo: number,
): void {
  target[offset] = version;
  target[offset + 1] = code;
  target.writeUInt16BE(length, offset + 2);
  target.writeUInt32BE(idHi, offset + 4);
  target.writeUInt32BE(idLo, offset + 8);
}

/**
 * Reads the 12-byte header at `offset` of `source`, which must hold at least
 * {@link HEADER_SIZE} bytes from there.
 *
 * @example
 * ```ts
 * const { opcode, length, id } = readHeader(Buffer.from('010000030000000000000001', 'hex'));
 * ```
 */
export function readHeader(source: Buffer, offset = 0): FrameHeader {
  if (source.length - offset < HEADER_SIZE) {
    throw new RangeError(`readHeader needs ${HEADER_SIZE} bytes at offset ${offset}, got ${source.length - offset}`);
  }
  return {
    version: source[offset] as number,
    opcode: source[offset + 1] as number,
    length: source.readUInt16BE(offset + 2),
    id: source.readBigUInt64BE(offset + 4),
  };
}

/**
 * A fresh 12-byte header holding these fields (spec §2).
 *
 * @example
 * ```ts
 * socket.write(encodeHeader(VERSION_REQUEST, Opcode.HEALTH, 0, 1n));
 * ```
 */
export function encodeHeader(version: number, opcode: number, length: number, id: bigint): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, 0, version, opcode, length, id);
  return header;
}

/**
 * The 12 bytes a received frame's header had on the wire, rebuilt from its
 * fields: a sealed frame's associated data (spec §6.4).
 *
 * @example
 * ```ts
 * const aad = headerOf(frame); // frame from FrameDecoder#read
 * ```
 */
export function headerOf(frame: FrameHeader): Buffer {
  return encodeHeader(frame.version, frame.opcode, frame.length, frame.id);
}
