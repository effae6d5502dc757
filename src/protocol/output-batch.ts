// Over ~450 lines for one reason: the three ways a frame goes out (plaintext, sealed alone,
// in a sealed envelope, spec §6.4 and §6.7) share one output block and its bookkeeping, which
// splitting the module would copy or expose.
import { FIRST_ENVELOPE_ID, HEADER_SIZE, MAX_BODY_SIZE, SEALED } from './constants.js';
import { writeHeader, writeRawHeader } from './header.js';

/**
 * A frame body as it is written: nothing, one buffer, or buffers written one
 * after the other (a SET's fixed fields and its value; a sealed body's
 * ciphertext and tag), so a large value is never copied to be framed.
 */
export type FrameBody = Buffer | readonly Buffer[] | undefined;

/**
 * The largest output block a batch allocates for framing (a frame larger than this gets a
 * block of its own size). Bytes past one block go out in the same write, corked (one writev).
 */
export const JOIN_LIMIT = 64 * 1024;

/**
 * In `'reference-large'` mode, a body part of at least this many bytes is written by
 * reference (the caller's own buffer, not copied); smaller parts are copied into the block.
 */
export const BY_REFERENCE_MIN = 16 * 1024;

/** No output block: the first push allocates one. */
const NO_BLOCK = Buffer.alloc(0);

/** The smallest block allocated: below 4 KiB Node's allocUnsafe slices its shared pool, cheaply. */
const MIN_BLOCK = 512;

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

/**
 * What seals a frame body in an output block (spec §6.4; the crypto layer's
 * `FrameCipher` is one): the frame's header is already at `bytes[at]`, with
 * LENGTH counting the 16-byte tag.
 */
export interface FrameSealer {
  /**
   * Encrypts `plaintext`, read where it lies, to `bytes[at + 12 …]`, the tag after it;
   * `fragment` is the frame's fragment number (spec §2.4, §6.4's nonce rule; 0 by default).
   */
  sealBody(bytes: Uint8Array, at: number, plaintext: Uint8Array, fragment?: number): void;
  /** Encrypts the `plaintextLength` bytes already at `bytes[at + 12 …]` where they are, the tag after them. */
  sealInPlace(bytes: Uint8Array, at: number, plaintextLength: number, fragment?: number): void;
}

/** spec §6.4: a sealed body ends with a 16-byte tag. */
const SEAL_TAG_SIZE = 16;

/** spec §6.7: the most frame bytes one envelope carries (its LENGTH, 65,524 at most, counts the tag). */
export const MAX_ENVELOPE_PLAINTEXT = MAX_BODY_SIZE - SEAL_TAG_SIZE;

/** What an output batch writes to: a socket, or any Writable (they have cork()). */
export interface FrameSink {
  write(chunk: Buffer, done?: () => void): boolean;
  cork(): void;
  uncork(): void;
}

/**
 * What an {@link OutputBatch} does with a frame's body when it is pushed:
 * `'copy'`, every byte is copied into the batch's output block at once (the
 * server: a GET's value is a view of the store, which a later SET in the
 * same turn may overwrite in place, issue 17); `'reference-large'`, a body
 * part of {@link BY_REFERENCE_MIN} bytes or more is kept by reference until
 * the write (the client: its caller's buffers, which it does not mutate).
 */
export type BodyMode = 'copy' | 'reference-large';

/**
 * The frames one side has ready in this turn, written in one write (spec
 * §5.1). Server responses and client requests both go out through it, so
 * there is one framing path. Each frame is laid out when it is pushed:
 * header and body copied into an output block (nothing per frame the GC
 * must chase; the block lasts while the batch is busy, see release()),
 * bodies copied or referenced as the {@link BodyMode} says. The batch's bytes go out as one `write`
 * when they sit in one block, else as one corked writev of their parts.
 *
 * ```text
 *   block: [ written, held by the socket | this batch: start … end | free ]
 *   a new block when a frame does not fit; written bytes are never overwritten
 *   (the socket may still hold them: Node writes views, it does not copy)
 * ```
 *
 * @example
 * ```ts
 * const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
 * batch.push(Status.OK, 1n, value);             // value copied now
 * batch.pushFrame(Status.NOT_FOUND, 0, 2, undefined); // identifier as u32 halves
 * batch.writeTo(socket, () => console.log('flushed to the kernel'));
 * ```
 */
export class OutputBatch {
  readonly #version: number;
  readonly #mode: BodyMode;
  /** The output block, `#start` … `#end` of which is this batch's open region. */
  #block: Buffer = NO_BLOCK;
  #start = 0;
  #end = 0;
  /** Closed parts of this batch, in order, before the open region: block regions and referenced bodies. */
  #parts: Buffer[] = [];
  #count = 0;
  #bytes = 0;
  /** The last batch's bytes: sizes the next block. */
  #lastBytes = 0;
  /** Identifiers held, as u32 pairs (high, low), for {@link includesId}; grown by doubling. */
  #ids = new Uint32Array(64);
  /** The largest identifier held, as halves; -1 when none: a larger one cannot repeat any. */
  #maxHi = -1;
  #maxLo = -1;
  /** The open envelope (spec §6.7): where its header is in the block (-1: none open), its frame bytes, its sealer. */
  #envelopeAt = -1;
  #envelopePlaintext = 0;
  #envelopeSealer: FrameSealer | undefined;
  /** The next envelope's identifier, as halves: 2^63 first (spec §6.7), one more per envelope. */
  #envelopeHi = Number(FIRST_ENVELOPE_ID >> 32n);
  #envelopeLo = 0;

  /**
   * `version`: the VERSION byte of every frame in the batch (0x01 requests,
   * 0x81 responses); `mode`: see {@link BodyMode}, default `'reference-large'`.
   */
  constructor(version: number, mode: BodyMode = 'reference-large') {
    this.#version = version;
    this.#mode = mode;
  }

  /** Frames held. */
  get count(): number {
    return this.#count;
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
    return this.pushFrame(code, Number(id >> 32n), Number(id & 0xffff_ffffn), body);
  }

  /**
   * {@link push} with the identifier as its u32 halves (as the decoder's RawFrame holds it): no
   * `BigInt`. `owned`: the body is memory nobody changes until it is written (a fragment of
   * an answer's own copy, spec §2.4), so a large one is referenced whatever the mode.
   */
  pushFrame(code: number, idHi: number, idLo: number, body: FrameBody, owned = false): number {
    this.#closeEnvelope(); // a plaintext frame (a fatal error, spec §6.5) goes after the envelope, outside it
    const length = bodyLength(body);
    const size = HEADER_SIZE + length;
    const byReference = (owned || this.#mode === 'reference-large') && length >= BY_REFERENCE_MIN;
    this.#reserve(byReference ? HEADER_SIZE : size);
    writeRawHeader(this.#block, this.#end, this.#version, code, length, idHi, idLo);
    this.#end += HEADER_SIZE;
    if (body !== undefined) {
      if (Buffer.isBuffer(body)) this.#append(body, byReference);
      else for (const part of body) this.#append(part, byReference);
    }
    this.#remember(idHi, idLo);
    this.#count += 1;
    this.#bytes += size;
    return size;
  }

  /**
   * Adds one frame whose body is sealed as it is laid out (spec §6.4): the
   * header (LENGTH = body + 16) goes into the output block, then `sealer`
   * encrypts the body into the block right after it, from where the body
   * lies (a one-part body) or in place once its parts are copied in, and
   * writes the tag after it. No buffer per frame: ciphertext and tag are
   * bytes of the block (issue 18). Returns the frame's size on the wire.
   *
   * @example
   * ```ts
   * batch.pushSealed(Status.OK, raw.idHi, raw.idLo, value, session.send);
   * ```
   */
  pushSealed(code: number, idHi: number, idLo: number, body: FrameBody, sealer: FrameSealer, fragment = 0): number {
    this.#closeEnvelope();
    const plaintextLength = bodyLength(body);
    const length = plaintextLength + SEAL_TAG_SIZE;
    const size = HEADER_SIZE + length;
    this.#reserve(size);
    const block = this.#block;
    const at = this.#end;
    writeRawHeader(block, at, this.#version, code, length, idHi, idLo);
    if (body === undefined) sealer.sealBody(block, at, NO_BLOCK, fragment);
    else if (Buffer.isBuffer(body)) sealer.sealBody(block, at, body, fragment);
    else if (body.length === 1) sealer.sealBody(block, at, body[0] as Buffer, fragment);
    else {
      let to = at + HEADER_SIZE;
      for (const part of body) to += part.copy(block, to);
      sealer.sealInPlace(block, at, plaintextLength, fragment);
    }
    this.#end = at + size;
    this.#remember(idHi, idLo);
    this.#count += 1;
    this.#bytes += size;
    return size;
  }

  /**
   * Adds one frame to the open sealed envelope (spec §6.7, protocol 1.1),
   * opening one when none is (its header's room reserved in the output block),
   * or closing the open one first when the frame would take it past
   * {@link MAX_ENVELOPE_PLAINTEXT} or past the block. The frame is laid out in
   * plaintext; the envelope is sealed in place, with `sealer`, when it is
   * closed: by {@link writeTo}, by a frame that does not fit it, or by a frame
   * pushed another way. A frame too large for any envelope is sealed alone
   * ({@link pushSealed}). Returns the bytes this frame adds on the wire: its
   * own, plus the envelope's header and tag when it opened one.
   *
   * @example
   * ```ts
   * batch.pushEnveloped(Status.OK, raw.idHi, raw.idLo, value, session.send);
   * batch.pushEnveloped(Status.NOT_FOUND, next.idHi, next.idLo, undefined, session.send);
   * batch.writeTo(socket); // one envelope, one AEAD, both answers
   * ```
   */
  pushEnveloped(code: number, idHi: number, idLo: number, body: FrameBody, sealer: FrameSealer, fragment = 0): number {
    const length = bodyLength(body);
    const size = HEADER_SIZE + length;
    // spec §6.7: sealed alone, with its fragment number (§2.4) when it is a fragment.
    if (size > MAX_ENVELOPE_PLAINTEXT) return this.pushSealed(code, idHi, idLo, body, sealer, fragment);
    if (this.#envelopeAt >= 0 && (this.#envelopePlaintext + size > MAX_ENVELOPE_PLAINTEXT || this.#block.length - this.#end < size + SEAL_TAG_SIZE)) {
      this.#closeEnvelope();
    }
    let added = size;
    if (this.#envelopeAt < 0) {
      this.#reserve(HEADER_SIZE + size + SEAL_TAG_SIZE);
      this.#envelopeAt = this.#end;
      this.#envelopePlaintext = 0;
      this.#envelopeSealer = sealer;
      this.#end += HEADER_SIZE;
      added += HEADER_SIZE + SEAL_TAG_SIZE; // the envelope's header and tag, counted with its first frame
    }
    const block = this.#block;
    writeRawHeader(block, this.#end, this.#version, code, length, idHi, idLo);
    let at = this.#end + HEADER_SIZE;
    if (Buffer.isBuffer(body)) at += body.copy(block, at);
    else if (body !== undefined) for (const part of body) at += part.copy(block, at);
    this.#end = at;
    this.#envelopePlaintext += size;
    this.#remember(idHi, idLo);
    this.#count += 1;
    this.#bytes += added;
    return added;
  }

  /**
   * A new session on a new connection (the client reconnects): the next envelope
   * is the first again, identifier 2^63 (spec §6.7). An envelope still open is
   * dropped with the frames of the old connection it held.
   *
   * @example
   * ```ts
   * batch.clear();
   * batch.restartEnvelopes();
   * ```
   */
  restartEnvelopes(): void {
    if (this.#envelopeAt >= 0) this.clear();
    this.#envelopeHi = Number(FIRST_ENVELOPE_ID >> 32n);
    this.#envelopeLo = 0;
  }

  /** Whether a frame with identifier `id` is held. */
  includes(id: bigint): boolean {
    return this.includesId(Number(id >> 32n), Number(id & 0xffff_ffffn));
  }

  /**
   * Whether a frame with the identifier `idHi`:`idLo` is held. Scans only when
   * it is not above every held one (a client counting up never scans).
   */
  includesId(idHi: number, idLo: number): boolean {
    if (idHi > this.#maxHi || (idHi === this.#maxHi && idLo > this.#maxLo)) return false;
    const ids = this.#ids;
    for (let i = 0, n = 2 * this.#count; i < n; i += 2) if (ids[i + 1] === idLo && ids[i] === idHi) return true;
    return false;
  }

  /** Drops every frame held; returns their bytes. Their block region is reused. */
  clear(): number {
    const bytes = this.#bytes;
    this.#envelopeAt = -1; // never sealed, never written: its identifier is not used
    this.#reset();
    this.#end = this.#start; // nothing of it was written: the region is free again
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
    if (this.#count === 0) return true;
    this.#closeEnvelope();
    this.#close();
    const parts = this.#parts;
    this.#lastBytes = this.#bytes;
    this.#reset();
    if (parts.length === 1) return sink.write(parts[0] as Buffer, done);
    let accepted = true;
    sink.cork();
    const last = parts.length - 1;
    for (let i = 0; i < last; i += 1) accepted = sink.write(parts[i] as Buffer);
    accepted = sink.write(parts[last] as Buffer, done);
    sink.uncork();
    return accepted;
  }

  /**
   * Drops the output block when nothing is held, so an idle connection keeps no
   * output memory (the socket keeps what it still writes). The next push allocates
   * a block sized to the last batch.
   */
  release(): void {
    if (this.#count > 0) return;
    this.#block = NO_BLOCK;
    this.#start = 0;
    this.#end = 0;
  }

  #reset(): void {
    this.#parts = [];
    this.#count = 0;
    this.#bytes = 0;
    this.#maxHi = -1;
    this.#maxLo = -1;
  }

  /**
   * Seals the open envelope where it lies (spec §6.7): its header, with the next envelope
   * identifier and LENGTH = its frames + 16, then its frames encrypted in place and the tag.
   */
  #closeEnvelope(): void {
    const at = this.#envelopeAt;
    if (at < 0) return;
    const n = this.#envelopePlaintext;
    writeRawHeader(this.#block, at, this.#version, SEALED, n + SEAL_TAG_SIZE, this.#envelopeHi, this.#envelopeLo);
    (this.#envelopeSealer as FrameSealer).sealInPlace(this.#block, at, n);
    this.#end += SEAL_TAG_SIZE;
    this.#envelopeAt = -1;
    this.#envelopeSealer = undefined;
    if (this.#envelopeLo === 0xffff_ffff) {
      this.#envelopeLo = 0;
      this.#envelopeHi += 1; // 2^63 envelopes per direction: never reached, never wraps past 2^64
    } else {
      this.#envelopeLo += 1;
    }
  }

  /** Copies `part` into the block (room reserved), or closes the open region and references it. */
  #append(part: Buffer, byReference: boolean): void {
    if (part.length === 0) return;
    if (!byReference) {
      this.#end += part.copy(this.#block, this.#end);
      return;
    }
    this.#close();
    this.#parts.push(part);
  }

  /** Moves the open region to the parts (the block's next bytes start the next region). */
  #close(): void {
    if (this.#end === this.#start) return;
    this.#parts.push(this.#block.subarray(this.#start, this.#end));
    this.#start = this.#end;
  }

  /**
   * Makes room for `n` bytes in the block. A full block is closed and left to the
   * socket that writes it; the new one is sized to what this connection sends per
   * turn (twice the last batch, 512 B to JOIN_LIMIT): one allocation per turn or
   * fewer, never one per frame (see also release()).
   */
  #reserve(n: number): void {
    if (this.#block.length - this.#end >= n) return;
    this.#close();
    const wanted = Math.min(JOIN_LIMIT, Math.max(MIN_BLOCK, 2 * Math.max(this.#lastBytes, this.#bytes)));
    this.#block = Buffer.allocUnsafe(Math.max(n, wanted));
    this.#start = 0;
    this.#end = 0;
  }

  #remember(idHi: number, idLo: number): void {
    const at = 2 * this.#count;
    if (at + 2 > this.#ids.length) {
      const grown = new Uint32Array(2 * this.#ids.length);
      grown.set(this.#ids);
      this.#ids = grown;
    }
    this.#ids[at] = idHi;
    this.#ids[at + 1] = idLo;
    if (idHi > this.#maxHi || (idHi === this.#maxHi && idLo > this.#maxLo)) {
      this.#maxHi = idHi;
      this.#maxLo = idLo;
    }
  }
}
