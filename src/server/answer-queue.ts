import type { FrameCipher } from '../crypto/frame-cipher.js';
import { MAX_FRAME_SIZE, VERSION_RESPONSE } from '../protocol/constants.js';
import { fragmentFrames, type FragmentFrame } from '../protocol/fragments.js';
import { OutputBatch, type FrameSink } from '../protocol/output-batch.js';

/**
 * An answer too large for one frame on its way out as fragments (spec §2.4): the
 * fragments not yet queued, laid out lazily from the answer's own copy of its body.
 */
interface FragmentedAnswer {
  readonly idHi: number;
  readonly idLo: number;
  readonly frames: Generator<FragmentFrame, void, undefined>;
  readonly cipher: FrameCipher | undefined;
  readonly enveloped: boolean;
  /** Called once, when the last fragment is queued or the socket is gone: the answer's copy is no longer pinned here. */
  readonly done: () => void;
}

/**
 * One connection's answers on their way out, and what they cost: queued this
 * turn (an {@link OutputBatch}, written in one write, spec §5.1), then written
 * and not yet taken by the kernel. Counts both, in answers for --max-inflight
 * and in bytes for --max-output-memory (reported to `held` as they change,
 * so the server keeps the running total).
 *
 * ```text
 *   push ──▶ queued ──write──▶ unflushed ──kernel took it (settle)──▶ gone
 *            └──────── held bytes: from push to settle, or releaseAll ────────┘
 *   pushFragmented ──▶ streaming ──fillFragments (a window at a time)──▶ queued …
 * ```
 *
 * An answer sent as fragments (spec §2.4) is queued a window at a time
 * ({@link fillFragments}, as the kernel takes what was written), so a peer
 * that does not read a 64 MiB answer makes the connection hold one window of
 * output, not the answer's size; while it streams nothing else is answered
 * (spec §2.3: order, §2.4: fragments are contiguous).
 *
 * @example
 * ```ts
 * const answers = new AnswerQueue((delta) => (total += delta));
 * answers.push(7n, Status.OK, value, session?.send); // value copied now
 * answers.pushId(raw.idHi, raw.idLo, Status.NOT_FOUND, undefined, undefined);
 * answers.write(socket, (bytes, count) => answers.settle(bytes, count));
 * ```
 */
export class AnswerQueue {
  /**
   * `'copy'`: an answer's body is copied into the output block when it is queued, at
   * execute time. A GET's value is the store's own bytes, and a later SET in the same
   * turn may overwrite them in place (the slab store, issue 17): no answer may keep a
   * reference to them until the flush.
   */
  readonly #batch = new OutputBatch(VERSION_RESPONSE, 'copy');
  readonly #held: (delta: number) => void;
  /** Answers written but not yet flushed to the kernel. */
  #unflushed = 0;
  /** Bytes queued or written and not yet taken by the kernel. */
  #heldBytes = 0;
  /** The answer being sent as fragments, if one is. */
  #stream: FragmentedAnswer | undefined;

  /** `held`: told every change of the bytes held (see ConnectionHost.outputHeld). */
  constructor(held: (delta: number) => void) {
    this.#held = held;
  }

  /** Answers queued or written and not yet flushed: what --max-inflight bounds. */
  get pending(): number {
    return this.#unflushed + this.#batch.count + (this.#stream === undefined ? 0 : 1);
  }

  /** Whether an answer is being sent as fragments: nothing else is executed until it is all queued. */
  get streaming(): boolean {
    return this.#stream !== undefined;
  }

  /** Answers written and not yet flushed to the kernel. */
  get unflushed(): number {
    return this.#unflushed;
  }

  /** Bytes queued this turn, headers included. */
  get queuedBytes(): number {
    return this.#batch.bytes;
  }

  /** Bytes queued or written and not yet taken by the kernel. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Whether an answer with identifier `id` is queued (spec §2.2: in flight). */
  includes(id: bigint): boolean {
    return this.#batch.includes(id);
  }

  /** {@link includes} with the identifier as u32 halves (see RawFrame): no `BigInt`. */
  includesId(idHi: number, idLo: number): boolean {
    return this.#batch.includesId(idHi, idLo);
  }

  /**
   * Queues one answer: its header and body are copied into the output now (see
   * #batch). With `cipher` its body is sealed as it is copied, with the header it
   * is written with as associated data (spec §6.4). Counted as held from here, so
   * the server-wide bound holds per answer.
   */
  push(id: bigint, status: number, body: Buffer | undefined, cipher: FrameCipher | undefined, enveloped = false): void {
    this.pushId(Number(id >> 32n), Number(id & 0xffff_ffffn), status, body, cipher, enveloped);
  }

  /**
   * {@link push} with the identifier as u32 halves, echoed from the request's header bytes.
   * `enveloped`: the session agreed to sealed envelopes (spec §6.7), and the answer goes in
   * this turn's envelope, sealed once with the others when it is written.
   */
  pushId(idHi: number, idLo: number, status: number, body: Buffer | undefined, cipher: FrameCipher | undefined, enveloped = false): void {
    // Secure mode: sealed as it is copied into the output block, no buffer per answer (issue 18).
    const batch = this.#batch;
    let size: number;
    if (cipher === undefined) size = batch.pushFrame(status, idHi, idLo, body);
    else if (enveloped) size = batch.pushEnveloped(status, idHi, idLo, body, cipher);
    else size = batch.pushSealed(status, idHi, idLo, body, cipher);
    this.#hold(size);
  }

  /**
   * Starts an answer whose body is longer than one frame of this connection carries
   * (`maxBody`: 65,524, or 65,508 sealed) as fragments (spec §2.4); {@link fillFragments}
   * queues them. `body` must be memory of the answer's own (not a view of the store): its
   * fragments are written from it by reference in plaintext, sealed from it otherwise.
   *
   * @example
   * ```ts
   * answers.pushFragmented(raw.idHi, raw.idLo, Status.OK, value, undefined, false, MAX_BODY_SIZE);
   * answers.fillFragments(1 << 20);
   * ```
   */
  pushFragmented(
    idHi: number,
    idLo: number,
    status: number,
    body: Buffer,
    cipher: FrameCipher | undefined,
    enveloped: boolean,
    maxBody: number,
    done: () => void = () => {},
  ): void {
    if (this.#stream !== undefined) throw new Error('an answer is already being sent as fragments');
    this.#stream = { idHi, idLo, frames: fragmentFrames(status, [body], maxBody), cipher, enveloped, done };
  }

  /** The streaming answer is all queued, or dropped: tell its owner once. */
  #endStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.done();
  }

  /**
   * Queues fragments of the streaming answer while the output stays within `room` bytes
   * (`room`: the window, at least one frame, less what the socket still holds): with
   * nothing held that is at least one fragment, and with bytes held their write's
   * callback calls again, so the stream always moves. The last one ends the stream.
   */
  fillFragments(room: number): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    const batch = this.#batch;
    while (batch.bytes + MAX_FRAME_SIZE <= room) {
      const next = stream.frames.next();
      if (next.done === true) {
        this.#endStream();
        return;
      }
      const { index, code, body } = next.value;
      let size: number;
      if (stream.cipher === undefined) size = batch.pushFrame(code, stream.idHi, stream.idLo, body, true);
      else if (stream.enveloped) size = batch.pushEnveloped(code, stream.idHi, stream.idLo, body, stream.cipher, index);
      else size = batch.pushSealed(code, stream.idHi, stream.idLo, body, stream.cipher, index);
      this.#hold(size);
      if ((code & 0x80) === 0) {
        this.#endStream(); // the last fragment (MORE clear)
        return;
      }
    }
  }

  /**
   * Writes every queued answer in one write. `flushed(bytes, count)` runs once the
   * kernel took them; it should call {@link settle}. A destroyed socket takes
   * nothing: the answers are dropped and released. Returns whether anything
   * was written.
   */
  write(socket: FrameSink & { readonly destroyed: boolean }, flushed: (bytes: number, count: number) => void): boolean {
    const batch = this.#batch;
    const count = batch.count;
    if (count === 0) return false;
    if (socket.destroyed) {
      this.#release(batch.clear());
      return false;
    }
    const bytes = batch.bytes;
    this.#unflushed += count;
    batch.writeTo(socket, () => flushed(bytes, count));
    return true;
  }

  /** The kernel took `count` answers of `bytes` written by {@link write}. */
  settle(bytes: number, count: number): void {
    this.#release(bytes);
    this.#unflushed -= count;
    // Nothing queued or on its way: the output block is dropped, so idle connections
    // (10,000 by default) hold no output memory; the next turn allocates one again.
    if (this.#unflushed === 0) this.#batch.release();
  }

  /** The socket is gone: whatever it still held is freed with it, the rest of a fragmented answer too. */
  releaseAll(): void {
    this.#endStream();
    this.#release(this.#heldBytes);
  }

  #hold(bytes: number): void {
    this.#heldBytes += bytes;
    this.#held(bytes);
  }

  #release(bytes: number): void {
    const n = Math.min(bytes, this.#heldBytes); // after a disconnect, late write callbacks release nothing
    if (n <= 0) return;
    this.#heldBytes -= n;
    this.#held(-n);
  }
}
