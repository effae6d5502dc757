import { ProtocolError } from './errors.js';
import { HEADER_SIZE, MAX_BODY_SIZE, VERSION_REQUEST, VERSION_RESPONSE } from './constants.js';
import { FrameSlot, idOf, type Frame, type RawFrame } from './header.js';

/** The body of every empty frame: zero bytes, so one shared buffer serves. */
const EMPTY = Buffer.alloc(0);

/** What a decoder whose stream ended cleanly is marked dead with (see FrameDecoder#end); never returned. */
const STREAM_ENDED = new ProtocolError('TRUNCATED_FRAME', 'stream ended');

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
  /**
   * `header`: the next bytes are a frame's header; `body`: its header is read into
   * `#frame` and its body is awaited (ws's GET_INFO / GET_DATA).
   */
  #state: 'header' | 'body' = 'header';
  /** The one frame object {@link take} hands out, refilled per frame (no object per frame). */
  readonly #frame = new FrameSlot();
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
    return this.#error === undefined && (this.#buffered > 0 || this.#state === 'body');
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
    const raw = this.take();
    if (raw === undefined || raw instanceof ProtocolError) return raw;
    return { version: raw.version, opcode: raw.opcode, length: raw.length, id: idOf(raw), body: raw.body };
  }

  /**
   * Like {@link read}, but the frame is the decoder's one {@link RawFrame},
   * refilled by the next call, with the identifier as two u32 halves: no
   * object and no `BigInt` per frame (the server's hot path, issue 17).
   *
   * @example
   * ```ts
   * const raw = decoder.take();
   * if (raw !== undefined && !(raw instanceof ProtocolError)) answer(raw.idHi, raw.idLo, execute(raw));
   * ```
   */
  take(): RawFrame | ProtocolError | undefined {
    if (this.#error !== undefined) return this.#takeError();
    const frame = this.#frame;
    if (this.#state === 'header') {
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
      // Read in place when the header sits in the first chunk: no view allocated for it.
      const first = this.#chunks[0] as Buffer;
      let bytes = first;
      let at = this.#offset;
      if (first.length - at >= HEADER_SIZE) this.#skip(first, HEADER_SIZE);
      else [bytes, at] = [this.#consume(HEADER_SIZE, this.#scratch), 0];
      frame.version = bytes[at] as number;
      frame.opcode = bytes[at + 1] as number;
      frame.length = bytes.readUInt16BE(at + 2);
      frame.idHi = bytes.readUInt32BE(at + 4);
      frame.idLo = bytes.readUInt32BE(at + 8);
      this.#state = 'body';
    }
    if (this.#buffered < frame.length) return undefined;
    this.#state = 'header';
    this.#consumeBody(frame);
    return frame;
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
    // A clean end (every connection's) marks the decoder dead with the one shared error, never
    // handed out: building an Error with its stack per connection cost ~20 µs (issue 18's flood).
    const error = truncated ? new ProtocolError('TRUNCATED_FRAME', `stream ended inside a frame with ${this.#buffered} bytes unread`) : STREAM_ENDED;
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
    this.#state = 'header';
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

  /** Consumes `n` bytes that all sit in `first`, the first chunk, without a view of them. */
  #skip(first: Buffer, n: number): void {
    this.#buffered -= n;
    this.#offset += n;
    if (this.#offset === first.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  /**
   * Takes the body of `frame` (`frame.length` ≤ #buffered bytes) by position:
   * in the first chunk when it sits there whole (no view allocated, issue 17),
   * otherwise in a buffer of its own it is copied into.
   */
  #consumeBody(frame: FrameSlot): void {
    const n = frame.length;
    const first = this.#chunks[0];
    if (first !== undefined && n > 0 && n <= first.length - this.#offset) {
      frame.source = first;
      frame.bodyStart = this.#offset;
      this.#skip(first, n);
      return;
    }
    frame.source = this.#consume(n, undefined);
    frame.bodyStart = 0;
  }

  /**
   * Takes `n` bytes (n ≤ #buffered). A view when they sit in the first chunk;
   * otherwise copied into `into` (or a new buffer), like ws's `consume()`.
   */
  #consume(n: number, into: Buffer | undefined): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first === undefined || n === 0) return EMPTY; // an empty body: nothing to view
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
