import { ProtocolError } from './errors.js';
import { HEADER_SIZE, MAX_BODY_SIZE, VERSION_REQUEST, VERSION_RESPONSE } from './constants.js';
import type { Frame } from './header.js';

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Which frames this side receives: a server decodes `'request'` frames
   * (VERSION 0x01), a client `'response'` frames (VERSION 0x81).
   */
  direction: 'request' | 'response';
  /**
   * The largest LENGTH accepted, at most {@link MAX_BODY_SIZE} (spec §2.1: a
   * server may be configured with a lower cap). Default {@link MAX_BODY_SIZE}.
   */
  maxBodySize?: number;
}

/**
 * A streaming decoder of Conduit frames (spec §2). Push socket chunks in with
 * {@link FrameDecoder.push}, then call {@link FrameDecoder.read} until it
 * returns `undefined`.
 *
 * - Split and coalesced input: a frame may be cut at any byte and many frames
 *   may share a chunk.
 * - No copies where avoidable: a body that sits inside one chunk is handed out
 *   as a view of it; only a frame that spans chunks is copied, once.
 * - Bounded: VERSION is checked on the first byte and LENGTH as soon as its
 *   two bytes are in, before any body byte is buffered (spec §2.1). Drained
 *   after every push, it holds at most one partial frame.
 * - Never throws on input: a malformed stream makes `read()` return one
 *   {@link ProtocolError}; after that the decoder is dead, drops what it is
 *   pushed and returns nothing more (spec §4.1: the framing is lost).
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ direction: 'request' });
 * socket.on('data', (chunk) => {
 *   decoder.push(chunk);
 *   for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
 *     if (item instanceof ProtocolError) return fail(item);
 *     handle(item);
 *   }
 * });
 * ```
 */
export class FrameDecoder {
  readonly #expectedVersion: number;
  readonly #maxBodySize: number;
  /** Unconsumed chunks; `#offset` bytes of the first are already consumed. */
  #chunks: Buffer[] = [];
  #offset = 0;
  /** Unconsumed bytes across `#chunks`. */
  #buffered = 0;
  /** Header fields of the frame whose body is awaited (GET_BODY state). */
  #pending: { version: number; opcode: number; length: number; id: bigint } | undefined;
  #error: ProtocolError | undefined;
  #errorRead = false;
  readonly #scratch = Buffer.allocUnsafe(HEADER_SIZE);

  constructor(options: FrameDecoderOptions) {
    const { direction, maxBodySize = MAX_BODY_SIZE } = options;
    if (direction !== 'request' && direction !== 'response') {
      throw new TypeError(`direction option must be 'request' or 'response', got ${String(direction)}`);
    }
    if (!Number.isInteger(maxBodySize) || maxBodySize < 0 || maxBodySize > MAX_BODY_SIZE) {
      throw new TypeError(`maxBodySize option must be an integer from 0 to ${MAX_BODY_SIZE}, got ${maxBodySize}`);
    }
    this.#expectedVersion = direction === 'request' ? VERSION_REQUEST : VERSION_RESPONSE;
    this.#maxBodySize = maxBodySize;
  }

  /** Bytes received but not yet handed out as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True while part of a frame has arrived but not all of it (the frame timeout runs). */
  get midFrame(): boolean {
    return this.#error === undefined && (this.#buffered > 0 || this.#pending !== undefined);
  }

  /** True once a protocol error was found; the decoder yields nothing more. */
  get dead(): boolean {
    return this.#error !== undefined;
  }

  /**
   * Adds a chunk from the socket. A dead decoder drops it.
   *
   * @example
   * ```ts
   * decoder.push(chunk);
   * ```
   */
  push(chunk: Buffer): void {
    if (this.#error !== undefined || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next whole frame, the protocol error that ended the stream (returned
   * once), or `undefined` when more bytes are needed or the decoder is dead.
   *
   * @example
   * ```ts
   * const item = decoder.read();
   * ```
   */
  read(): Frame | ProtocolError | undefined {
    if (this.#error !== undefined) return this.#takeError();
    let header = this.#pending;
    if (header === undefined) {
      // spec §2: check VERSION on the first byte, LENGTH on the fourth, so
      // an HTTP request or TLS ClientHello fails before 12 bytes arrive.
      if (this.#buffered >= 1) {
        const version = this.#peek(0);
        if (version !== this.#expectedVersion) return this.#fail(this.#badVersion(version));
      }
      if (this.#buffered >= 4) {
        const length = (this.#peek(2) << 8) | this.#peek(3);
        if (length > this.#maxBodySize) {
          return this.#fail(
            ProtocolError.of('FRAME_TOO_LARGE', `LENGTH ${length} exceeds the limit of ${this.#maxBodySize} bytes`),
          );
        }
      }
      if (this.#buffered < HEADER_SIZE) return undefined;
      const bytes = this.#consume(HEADER_SIZE, this.#scratch);
      header = {
        version: bytes[0] as number,
        opcode: bytes[1] as number,
        length: bytes.readUInt16BE(2),
        id: bytes.readBigUInt64BE(4),
      };
    }
    if (this.#buffered < header.length) {
      this.#pending = header;
      return undefined;
    }
    this.#pending = undefined;
    const body = this.#consume(header.length, undefined);
    return { version: header.version, opcode: header.opcode, length: header.length, id: header.id, body };
  }

  /**
   * Reports the end of the stream. Returns a `TRUNCATED_FRAME` error when it
   * ended inside a frame (spec §4.3), otherwise `undefined`. Either way the
   * decoder is dead afterwards.
   *
   * @example
   * ```ts
   * socket.on('end', () => { const err = decoder.end(); if (err) log(err.message); });
   * ```
   */
  end(): ProtocolError | undefined {
    if (this.#error !== undefined) return undefined;
    const truncated = this.midFrame;
    const error = new ProtocolError(
      'TRUNCATED_FRAME',
      truncated ? `stream ended inside a frame with ${this.#buffered} bytes unread` : 'stream ended',
    );
    this.#fail(error);
    this.#errorRead = true;
    return truncated ? error : undefined;
  }

  #badVersion(version: number): ProtocolError {
    const hint =
      version === VERSION_RESPONSE || version === VERSION_REQUEST ? ' (a frame of the other direction)' : '';
    return ProtocolError.of(
      'BAD_VERSION',
      `VERSION byte 0x${version.toString(16).padStart(2, '0')} is not 0x${this.#expectedVersion.toString(16).padStart(2, '0')}${hint}`,
    );
  }

  #fail(error: ProtocolError): ProtocolError {
    this.#error = error;
    this.#chunks = [];
    this.#offset = 0;
    this.#buffered = 0;
    this.#pending = undefined;
    return this.#takeError() as ProtocolError;
  }

  #takeError(): ProtocolError | undefined {
    if (this.#errorRead) return undefined;
    this.#errorRead = true;
    return this.#error;
  }

  /** Byte `index` of the unconsumed input; the caller checked `index < #buffered`. */
  #peek(index: number): number {
    let i = this.#offset + index;
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i] as number;
      i -= chunk.length;
    }
    return 0; // unreachable: index < #buffered
  }

  /**
   * Takes `n` bytes (n ≤ #buffered). A view when they sit in the first chunk;
   * otherwise copied into `into` (or a new buffer), like ws's `consume()`.
   */
  #consume(n: number, into: Buffer | undefined): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first === undefined) return Buffer.alloc(0); // n === 0 and nothing buffered
    const available = first.length - this.#offset;
    if (n < available) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      return view;
    }
    if (n === available) {
      const view = this.#offset === 0 ? first : first.subarray(this.#offset);
      this.#chunks.shift();
      this.#offset = 0;
      return view;
    }
    const target = into ?? Buffer.allocUnsafe(n);
    let written = 0;
    let used = 0;
    while (written < n) {
      const chunk = this.#chunks[used] as Buffer;
      const start = used === 0 ? this.#offset : 0;
      const take = Math.min(chunk.length - start, n - written);
      chunk.copy(target, written, start, start + take);
      written += take;
      if (start + take === chunk.length) {
        used += 1;
        this.#offset = 0;
      } else {
        this.#offset = start + take;
      }
    }
    this.#chunks.splice(0, used);
    return target;
  }
}
