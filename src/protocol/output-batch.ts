import { HEADER_SIZE } from './constants.js';
import { writeHeader } from './header.js';

/**
 * A frame body as it is written: nothing, one buffer, or buffers written one
 * after the other (a SET's fixed fields and its value; a sealed body's
 * ciphertext and tag), so a large value is never copied to be framed.
 */
export type FrameBody = Buffer | readonly Buffer[] | undefined;

/**
 * Batches up to this many bytes are joined into one buffer before the write; larger ones are
 * written part by part inside cork()/uncork(), one writev, so a large value is not copied.
 */
export const JOIN_LIMIT = 64 * 1024;

const EMPTY: readonly Buffer[] = [];

const partsOf = (body: FrameBody): readonly Buffer[] => (body === undefined ? EMPTY : Buffer.isBuffer(body) ? [body] : body);

/**
 * The number of bytes of `body`.
 *
 * @example
 * ```ts
 * bodyLength([ciphertext, tag]); // ciphertext.length + 16
 * ```
 */
export function bodyLength(body: FrameBody): number {
  if (body === undefined) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for (const part of body) n += part.length;
  return n;
}

/**
 * Lays out one frame, header (spec §2) then body, at `offset` of `target`;
 * returns the offset after it. The caller sized `target`.
 *
 * @example
 * ```ts
 * const out = Buffer.allocUnsafe(HEADER_SIZE + 1);
 * writeFrame(out, 0, VERSION_RESPONSE, Status.OK, 7n, Buffer.from('v'));
 * ```
 */
export function writeFrame(target: Buffer, offset: number, version: number, code: number, id: bigint, body: FrameBody): number {
  writeHeader(target, offset, version, code, bodyLength(body), id);
  let at = offset + HEADER_SIZE;
  // A lone buffer is copied as is, not wrapped in an array: this runs once per server answer.
  if (Buffer.isBuffer(body)) return at + body.copy(target, at);
  for (const part of partsOf(body)) at += part.copy(target, at);
  return at;
}

/**
 * One whole frame in one buffer.
 *
 * @example
 * ```ts
 * socket.write(frameBytes(VERSION_REQUEST, Opcode.HEALTH, 1n, undefined));
 * ```
 */
export function frameBytes(version: number, code: number, id: bigint, body: FrameBody): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + bodyLength(body));
  writeFrame(out, 0, version, code, id, body);
  return out;
}

/** What an output batch writes to: a socket, or any Writable (they have cork()). */
export interface FrameSink {
  write(chunk: Buffer, done?: () => void): boolean;
  cork(): void;
  uncork(): void;
}

/**
 * The frames one side has ready in this turn, written in one write (spec
 * §5.1): joined into one buffer up to {@link JOIN_LIMIT}, else corked into
 * one writev. Server responses and client requests both go out through it,
 * so there is one framing path. Frames are held as parallel arrays and
 * their headers laid out at write time, so a frame costs no header
 * allocation of its own.
 *
 * @example
 * ```ts
 * const batch = new OutputBatch(VERSION_RESPONSE);
 * batch.push(Status.OK, 1n, value);
 * batch.push(Status.NOT_FOUND, 2n, undefined);
 * batch.writeTo(socket, () => console.log('flushed to the kernel'));
 * ```
 */
export class OutputBatch {
  readonly #version: number;
  #ids: bigint[] = [];
  #codes: number[] = [];
  #bodies: FrameBody[] = [];
  #bytes = 0;
  /** The largest identifier held: a larger one cannot repeat any of them (see includes). */
  #maxId = -1n;

  /** `version`: the VERSION byte of every frame in the batch (0x01 requests, 0x81 responses). */
  constructor(version: number) {
    this.#version = version;
  }

  /** Frames held. */
  get count(): number {
    return this.#ids.length;
  }

  /** Bytes held, headers included. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds one frame: `code` is the opcode of a request or the status of a
   * response. Returns its size on the wire, header included.
   */
  push(code: number, id: bigint, body: FrameBody): number {
    const size = HEADER_SIZE + bodyLength(body);
    this.#ids.push(id);
    this.#codes.push(code);
    this.#bodies.push(body);
    this.#bytes += size;
    if (id > this.#maxId) this.#maxId = id;
    return size;
  }

  /** Whether a frame with identifier `id` is held. Scans only when `id` is not above every held one. */
  includes(id: bigint): boolean {
    return id <= this.#maxId && this.#ids.includes(id);
  }

  /** Drops every frame held; returns their bytes. */
  clear(): number {
    const bytes = this.#bytes;
    this.#ids = [];
    this.#codes = [];
    this.#bodies = [];
    this.#bytes = 0;
    this.#maxId = -1n;
    return bytes;
  }

  /**
   * Writes every frame held, in order, in one write, and empties the batch.
   * `done` runs once the last byte is flushed to the kernel (the stream's
   * write callback). Returns what the last `write` returned: false means
   * wait for 'drain' before writing more. Nothing held: writes nothing,
   * returns true, and `done` is not called.
   */
  writeTo(sink: FrameSink, done?: () => void): boolean {
    const count = this.#ids.length;
    if (count === 0) return true;
    const ids = this.#ids;
    const codes = this.#codes;
    const bodies = this.#bodies;
    const bytes = this.#bytes;
    this.clear();
    const version = this.#version;
    if (bytes <= JOIN_LIMIT) {
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let i = 0; i < count; i += 1) at = writeFrame(out, at, version, codes[i] as number, ids[i] as bigint, bodies[i]);
      return sink.write(out, done);
    }
    // One header buffer for the batch, cut into views: one allocation, not one per frame.
    const headers = Buffer.allocUnsafe(count * HEADER_SIZE);
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i += 1) {
      const body = bodies[i];
      writeHeader(headers, i * HEADER_SIZE, version, codes[i] as number, bodyLength(body), ids[i] as bigint);
      parts.push(headers.subarray(i * HEADER_SIZE, (i + 1) * HEADER_SIZE));
      if (Buffer.isBuffer(body)) {
        if (body.length > 0) parts.push(body);
      } else {
        for (const part of partsOf(body)) if (part.length > 0) parts.push(part);
      }
    }
    let accepted = true;
    sink.cork();
    const last = parts.length - 1;
    for (let i = 0; i < last; i += 1) accepted = sink.write(parts[i] as Buffer);
    accepted = sink.write(parts[last] as Buffer, done);
    sink.uncork();
    return accepted;
  }
}
