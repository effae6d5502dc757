import { ProtocolError } from './errors.js';
import { HEADER_SIZE, VERSION_REQUEST, VERSION_RESPONSE } from './constants.js';
import { FrameSlot, type RawFrame } from './header.js';

/** No envelope loaded yet. */
const EMPTY = Buffer.alloc(0);

/**
 * Reads the frames out of an opened envelope (spec §6.7, protocol 1.1): its
 * plaintext is whole frames of one direction, one after the other, as they
 * would be sent in plaintext. {@link load} an envelope's plaintext (where the
 * receiver opened it, in place), then {@link take} its frames one at a time,
 * each the reader's one {@link RawFrame}, refilled by the next `take()`: no
 * object and no copy per frame, like {@link FrameDecoder#take}.
 *
 * Never throws on input: a frame of the other direction is `BAD_VERSION`, a
 * frame that runs past the envelope's end `FRAME_TOO_LARGE` (spec §6.7),
 * returned once; the reader is then empty. Both are fatal: the peer that
 * sealed the envelope is authenticated but broken.
 *
 * @example
 * ```ts
 * const reader = new EnvelopeReader('request');
 * reader.load(raw.source, raw.bodyStart, raw.length - 16); // opened in place
 * for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
 *   if (inner instanceof ProtocolError) return fatal(inner);
 *   handle(inner);
 * }
 * ```
 */
export class EnvelopeReader {
  readonly #expectedVersion: number;
  readonly #frame = new FrameSlot();
  #source: Buffer = EMPTY;
  #at = 0;
  #end = 0;

  /** `direction`: which frames the envelopes hold, `'request'` on a server, `'response'` on a client. */
  constructor(direction: 'request' | 'response') {
    if (direction !== 'request' && direction !== 'response') {
      throw new TypeError(`direction option must be 'request' or 'response', got ${String(direction)}`);
    }
    this.#expectedVersion = direction === 'request' ? VERSION_REQUEST : VERSION_RESPONSE;
  }

  /** Whether frames of the loaded envelope remain to be taken. */
  get pending(): boolean {
    return this.#at < this.#end;
  }

  /**
   * Starts on an envelope's plaintext: `length` bytes of `source` from
   * `start`. What was left of the previous one is dropped.
   */
  load(source: Buffer, start: number, length: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > source.length) {
      throw new RangeError(`${length} bytes at ${start} do not fit a buffer of ${source.length}`);
    }
    this.#source = source;
    this.#at = start;
    this.#end = start + length;
  }

  /**
   * The next frame of the envelope, the {@link ProtocolError} that ends it
   * (once), or `undefined` when none is left.
   */
  take(): RawFrame | ProtocolError | undefined {
    const source = this.#source;
    const at = this.#at;
    const left = this.#end - at;
    if (left <= 0) return undefined;
    if (left < HEADER_SIZE) return this.#fail(ProtocolError.of('FRAME_TOO_LARGE', `an envelope ends inside a frame header (${left} bytes left)`));
    const version = source[at] as number;
    if (version !== this.#expectedVersion) {
      return this.#fail(
        ProtocolError.of('BAD_VERSION', `a frame inside an envelope has VERSION 0x${version.toString(16).padStart(2, '0')}, not 0x${this.#expectedVersion.toString(16)}`),
      );
    }
    const length = source.readUInt16BE(at + 2);
    if (length > left - HEADER_SIZE) {
      return this.#fail(ProtocolError.of('FRAME_TOO_LARGE', `a frame inside an envelope has LENGTH ${length}, past the envelope's end (${left - HEADER_SIZE} bytes left)`));
    }
    const frame = this.#frame;
    frame.version = version;
    frame.opcode = source[at + 1] as number;
    frame.length = length;
    frame.idHi = source.readUInt32BE(at + 4);
    frame.idLo = source.readUInt32BE(at + 8);
    frame.source = source;
    frame.bodyStart = at + HEADER_SIZE;
    this.#at = at + HEADER_SIZE + length;
    return frame;
  }

  /** Drops the rest of the envelope and returns `error`. */
  #fail(error: ProtocolError): ProtocolError {
    this.#at = this.#end;
    return error;
  }
}
