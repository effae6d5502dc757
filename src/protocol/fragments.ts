import { ProtocolError } from './errors.js';
import { FRAGMENT_TOTAL_SIZE, MORE } from './constants.js';

/**
 * Fragments (spec §2.4, protocol 1.1): a message whose body does not fit one
 * frame travels as consecutive frames with the same VERSION, operation or
 * status and IDENTIFIER, every one but the last with the MORE bit (0x80) of
 * its OPCODE/status byte set; the first fragment's body starts with
 * `total u32`, the length of the whole message body after that prefix.
 *
 * This module is the one wire step both sides share: {@link FragmentAssembler}
 * receives (the server's requests, the client's responses) and
 * {@link fragmentFrames} sends (the server's answers, the client's requests).
 *
 * ```
 *  first fragment                       later fragments          last
 * ┌────────┬─────────┬──────────────┐  ┌────────┬────────────┐  ┌────────┬──────┐
 * │hdr MORE│total u32│ bytes 0 … a) │  │hdr MORE│ [a … b)    │  │hdr     │[… total)
 * └────────┴─────────┴──────────────┘  └────────┴────────────┘  └────────┴──────┘
 * ```
 * @module
 */

/**
 * What {@link FragmentAssembler.feed} made of one frame:
 * - `'frame'`: not a fragment (MORE clear, no message in progress): use the
 *   frame as it is, nothing was copied (the 1.0 path);
 * - `'more'`: a fragment was taken in (or, for a refused message, checked and
 *   dropped); the message is not whole yet;
 * - `'message'`: the last fragment is in: {@link FragmentAssembler.message} is
 *   the whole body, allocated once at `total`;
 * - `'refused'`: a first fragment whose `total` exceeds the limit: answer
 *   `TOO_LARGE` now (spec §2.4, non-fatal); the rest of the message is read,
 *   checked and discarded without buffering;
 * - a {@link ProtocolError} `BAD_FRAGMENT` (fatal): the fragment rules are
 *   broken, the framing is lost.
 */
export type FragmentStep = 'frame' | 'more' | 'message' | 'refused' | ProtocolError;

/**
 * The assembler's one state (STYLE 11): `idle` between messages, `collecting`
 * a message it buffers, `discarding` a refused one, `failed` once the rules
 * broke (it then answers nothing more).
 */
export type AssemblerState = 'idle' | 'collecting' | 'discarding' | 'failed';

/**
 * Reassembles fragmented messages from decoded frames (spec §2.4). Fed every
 * frame a side receives, in order, as header fields and body position; never
 * throws on input. The `total` of a first fragment is checked before any of
 * its bytes are buffered, and a message is allocated once, at `total` bytes:
 * no concatenation, so receiving a message of n bytes costs n bytes plus the
 * frames in flight.
 *
 * @example
 * ```ts
 * const assembler = new FragmentAssembler(1_048_576 + 272);
 * const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, raw.length);
 * if (step === 'frame') run(raw.opcode, raw.source, raw.bodyStart, raw.length);
 * else if (step === 'message') run(assembler.code, assembler.message, 0, assembler.message.length);
 * else if (step === 'refused') answer(Status.TOO_LARGE);
 * else if (step instanceof ProtocolError) closeWith(step);
 * ```
 */
export class FragmentAssembler {
  readonly #limit: number;
  readonly #admit: ((total: number) => boolean) | undefined;
  #state: AssemblerState = 'idle';
  /** The current message's OPCODE/status byte with MORE clear, and its identifier. */
  #code = 0;
  #idHi = 0;
  #idLo = 0;
  #total = 0;
  #received = 0;
  /** Fragments of the current message taken so far (the next one's number, spec §6.4). */
  #fragments = 0;
  #buffer: Buffer | undefined;
  #message: Buffer | undefined;

  /**
   * @param limit the largest `total` accepted (the server: `--max-value-size`
   *   + 272; the client: its `maxValueSize`); larger messages are refused
   * @param admit asked with the `total` of each first fragment within `limit`
   *   before its buffer is allocated; false refuses it as well (the server:
   *   its memory for messages being gathered is spent, see {@link refusedForSize})
   */
  constructor(limit: number, admit?: (total: number) => boolean) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 0xffff_ffff) {
      throw new TypeError(`limit must be an integer from 1 to ${0xffff_ffff}, got ${limit}`);
    }
    this.#limit = limit;
    this.#admit = admit;
  }

  /** After `'refused'`: whether for its size (over the limit) rather than by `admit`. */
  get refusedForSize(): boolean {
    return this.#total > this.#limit;
  }

  /** Where the assembler is: between messages, inside one, or failed. */
  get state(): AssemblerState {
    return this.#state;
  }

  /** No message in progress and none failed: a frame without MORE is a whole message ({@link feed} returns `'frame'`). */
  get idle(): boolean {
    return this.#state === 'idle';
  }

  /** True while a message is only partly in (the frame timeout keeps running, spec §2.4). */
  get midMessage(): boolean {
    return this.#state === 'collecting' || this.#state === 'discarding';
  }

  /** The OPCODE/status byte (MORE clear) of the message last completed or refused. */
  get code(): number {
    return this.#code;
  }

  /** The identifier halves of the message last completed or refused. */
  get idHi(): number {
    return this.#idHi;
  }

  get idLo(): number {
    return this.#idLo;
  }

  /** The `total` of the message in progress, or the one last completed or refused. */
  get total(): number {
    return this.#total;
  }

  /** The limit this assembler refuses above. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * The whole body after `'message'`; the assembler lets go of it at the next
   * feed (the caller owns it).
   */
  get message(): Buffer {
    if (this.#message === undefined) throw new Error('no whole message: feed() did not return "message"');
    return this.#message;
  }

  /**
   * The fragment number (spec §6.4's nonce rule) a frame with this header has:
   * the count of fragments already in when it continues the message in
   * progress, 0 otherwise (a frame that does not continue it is fragment 0 of
   * whatever it is, and {@link feed} then finds it `BAD_FRAGMENT`). A secure
   * receiver opens the frame with it before feeding the plaintext.
   *
   * @example
   * ```ts
   * if (!cipher.openBody(header, raw.source, raw.bodyStart, raw.length, assembler.fragmentNumber(raw.opcode, raw.idHi, raw.idLo))) fail();
   * ```
   */
  fragmentNumber(code: number, idHi: number, idLo: number): number {
    if (!this.midMessage) return 0;
    return (code & ~MORE) === this.#code && idHi === this.#idHi && idLo === this.#idLo ? this.#fragments : 0;
  }

  /**
   * Takes one decoded frame: its OPCODE/status byte (MORE included), its
   * identifier halves and its (plaintext) body, `length` bytes of `source`
   * from `start`. See {@link FragmentStep} for what comes back; after a
   * `BAD_FRAGMENT` every call returns `'more'` (nothing more is used).
   *
   * @example
   * ```ts
   * const step = assembler.feed(0x81, 0, 7, body, 0, body.length); // 'more' or 'refused'
   * ```
   */
  feed(code: number, idHi: number, idLo: number, source: Uint8Array, start: number, length: number): FragmentStep {
    this.#message = undefined;
    const more = (code & MORE) !== 0;
    const low = code & ~MORE;
    switch (this.#state) {
      case 'failed':
        return 'more';
      case 'idle':
        return more ? this.#first(low, idHi, idLo, source, start, length) : 'frame';
      default: {
        // spec §2.4: contiguous, the next frame after MORE continues the message.
        if (low !== this.#code || idHi !== this.#idHi || idLo !== this.#idLo) {
          return this.#fail(
            `a frame with code 0x${low.toString(16)} and identifier ${idText(idHi, idLo)} interleaves fragment ${this.#fragments} of message ${idText(this.#idHi, this.#idLo)}`,
          );
        }
        if (length === 0) return this.#fail(`fragment ${this.#fragments} of message ${idText(idHi, idLo)} is empty`);
        return this.#take(more, source, start, length);
      }
    }
  }

  #first(low: number, idHi: number, idLo: number, source: Uint8Array, start: number, length: number): FragmentStep {
    this.#code = low;
    this.#idHi = idHi;
    this.#idLo = idLo;
    if (length < FRAGMENT_TOTAL_SIZE) {
      return this.#fail(`first fragment of message ${idText(idHi, idLo)} has ${length} bytes, too few for its total u32`);
    }
    const total =
      (((source[start] as number) << 24) >>> 0) +
      ((source[start + 1] as number) << 16) +
      ((source[start + 2] as number) << 8) +
      (source[start + 3] as number);
    if (total === 0) return this.#fail(`first fragment of message ${idText(idHi, idLo)} has total 0`);
    this.#total = total;
    this.#received = 0;
    this.#fragments = 0;
    // spec §2.4: total is checked before a byte of the message is buffered.
    const refused = total > this.#limit || (this.#admit !== undefined && !this.#admit(total));
    this.#state = refused ? 'discarding' : 'collecting';
    this.#buffer = refused ? undefined : Buffer.allocUnsafe(total);
    const step = this.#take(true, source, start + FRAGMENT_TOTAL_SIZE, length - FRAGMENT_TOTAL_SIZE);
    return step === 'more' && refused ? 'refused' : step;
  }

  /** Adds one fragment's bytes (after any total prefix); `more` is its MORE bit. */
  #take(more: boolean, source: Uint8Array, start: number, length: number): FragmentStep {
    const index = this.#fragments;
    const received = this.#received + length;
    if (received > this.#total) {
      return this.#fail(`fragment ${index} of message ${idText(this.#idHi, this.#idLo)} overshoots its total of ${this.#total} bytes by ${received - this.#total}`);
    }
    if (more && received === this.#total) {
      return this.#fail(`fragment ${index} of message ${idText(this.#idHi, this.#idLo)} has MORE set with all ${this.#total} bytes in`);
    }
    if (!more && received < this.#total) {
      return this.#fail(`last fragment of message ${idText(this.#idHi, this.#idLo)} leaves ${this.#total - received} of its ${this.#total} bytes missing`);
    }
    if (this.#buffer !== undefined && length > 0) this.#buffer.set(source.subarray(start, start + length), this.#received);
    this.#received = received;
    this.#fragments = index + 1;
    if (more) return 'more';
    const refused = this.#state === 'discarding';
    this.#state = 'idle';
    this.#message = this.#buffer;
    this.#buffer = undefined;
    // The last fragment of a refused message: it was answered at its first.
    return refused ? 'more' : 'message';
  }

  #fail(message: string): ProtocolError {
    this.#state = 'failed';
    this.#buffer = undefined;
    return ProtocolError.of('BAD_FRAGMENT', message);
  }
}

function idText(idHi: number, idLo: number): string {
  return ((BigInt(idHi) << 32n) | BigInt(idLo)).toString();
}

/** One fragment frame {@link fragmentFrames} lays out. */
export interface FragmentFrame {
  /** The fragment number, 0 for the first (spec §6.4's nonce rule). */
  readonly index: number;
  /** The OPCODE/status byte to send: the message's code, with MORE set on every fragment but the last. */
  readonly code: number;
  /**
   * The frame's plaintext body as parts to write in order: the first fragment
   * starts with its 4-byte total; the rest are views of the message's parts
   * (no byte of the message copied).
   */
  readonly body: Buffer[];
  /** The plaintext body length: the sum of {@link body}'s lengths. */
  readonly length: number;
}

/**
 * The fragments of one message (spec §2.4) whose body is `parts` in order,
 * for frames that carry at most `maxBody` plaintext body bytes (65,524 in
 * plaintext, 65,508 in a secure session). Lazily: a 64 MiB value becomes
 * ~1,025 fragments that a writer can send over many turns. The caller writes
 * each frame's header (LENGTH = `length`, + 16 when sealed) and seals it with
 * its `index`. A message that fits one frame needs no fragments: check
 * {@link needsFragments} first.
 *
 * @example
 * ```ts
 * for (const f of fragmentFrames(Status.OK, [value], 65_524)) {
 *   socket.write(encodeHeader(VERSION_RESPONSE, f.code, f.length, id));
 *   for (const part of f.body) socket.write(part);
 * }
 * ```
 */
export function* fragmentFrames(code: number, parts: readonly Uint8Array[], maxBody: number): Generator<FragmentFrame, void, undefined> {
  if (!Number.isInteger(maxBody) || maxBody <= FRAGMENT_TOTAL_SIZE) {
    throw new RangeError(`maxBody must be an integer above ${FRAGMENT_TOTAL_SIZE}, got ${maxBody}`);
  }
  let total = 0;
  for (const part of parts) total += part.length;
  if (total > 0xffff_ffff) throw new RangeError(`a fragmented message body is at most 2^32-1 bytes, got ${total}`);
  // At least two fragments: a lone frame with MORE clear would read as an unfragmented one.
  if (total <= maxBody - FRAGMENT_TOTAL_SIZE) throw new RangeError(`a ${total}-byte body fits one frame of ${maxBody}: send it unfragmented`);
  const prefix = Buffer.allocUnsafe(FRAGMENT_TOTAL_SIZE);
  prefix.writeUInt32BE(total, 0);
  let part = 0;
  let at = 0; // offset in parts[part]
  let sent = 0;
  for (let index = 0; ; index += 1) {
    const body: Buffer[] = index === 0 ? [prefix] : [];
    let room = maxBody - (index === 0 ? FRAGMENT_TOTAL_SIZE : 0);
    let length = maxBody - room;
    while (room > 0 && part < parts.length) {
      const source = parts[part] as Uint8Array;
      const take = Math.min(room, source.length - at);
      if (take > 0) body.push(Buffer.from(source.buffer, source.byteOffset + at, take));
      at += take;
      room -= take;
      length += take;
      sent += take;
      if (at === source.length) {
        part += 1;
        at = 0;
      }
    }
    const last = sent === total;
    yield { index, code: last ? code & ~MORE : code | MORE, body, length };
    if (last) return;
  }
}

/**
 * True when a message body of `length` bytes does not fit one frame of
 * `maxBody` body bytes and so travels as fragments (spec §2.4).
 *
 * @example
 * ```ts
 * needsFragments(70_000, 65_524); // true
 * ```
 */
export function needsFragments(length: number, maxBody: number): boolean {
  return length > maxBody;
}

/**
 * How many fragments {@link fragmentFrames} makes of a `total`-byte body.
 *
 * @example
 * ```ts
 * fragmentCount(64 * 1024 * 1024, 65_524); // 1025
 * ```
 */
export function fragmentCount(total: number, maxBody: number): number {
  return Math.ceil((total + FRAGMENT_TOTAL_SIZE) / maxBody);
}
