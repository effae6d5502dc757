import { TAG_SIZE } from '../crypto/frame-cipher.js';
import { ProtocolError } from '../protocol/errors.js';
import { isFatalStatus, MAX_BODY_SIZE, QUIET_BIT, Status } from '../protocol/constants.js';
import { idOf, type RawFrame } from '../protocol/header.js';
import { EnvelopeReader } from '../protocol/envelope-reader.js';
import { readRequest, RequestView } from '../protocol/request-reader.js';
import type { AnswerQueue } from './answer-queue.js';
import type { ConnectionHost } from './connection-host.js';
import { execute, tooLargeForFrame, type Reply } from './execute.js';
import type { SecureGate } from './secure-gate.js';

/**
 * One connection's request path, from a decoded frame to its answer in the
 * output (issue 17: split out of connection.ts, which keeps the phase
 * machine). Per frame it allocates no header object, no `Frame` and no
 * `BigInt` in plaintext mode: the identifier stays the two u32 halves the
 * decoder read (spec §2), echoed into the answer's header, and the answer is
 * copied into the connection's output block at once (see AnswerQueue).
 *
 * @module
 */

const BUSY_DRAINING = Buffer.from('server is shutting down');

/** A frame that ends the connection: the fatal error to answer with and the reason to log (never sent, spec §6.5). */
export interface Refusal {
  readonly error: ProtocolError;
  readonly reason: string;
}

/**
 * Admits, executes and answers one frame at a time for one connection.
 *
 * @example
 * ```ts
 * const handler = new RequestHandler(host, gate, answers, () => remote);
 * const refusal = handler.handle(decoder.take() as RawFrame, 'execute');
 * if (refusal !== undefined) fatal(refusal.error, refusal.reason);
 * ```
 */
export class RequestHandler {
  readonly #host: ConnectionHost;
  readonly #gate: SecureGate;
  readonly #answers: AnswerQueue;
  readonly #remote: () => string;
  /** The one request view this connection's frames are read into, refilled per frame (issue 17: no request object). */
  readonly #request = new RequestView();
  /** The frames of the sealed envelope being answered (spec §6.7), read in place. */
  readonly #envelope = new EnvelopeReader('request');

  /** `remote`: the peer's address, for logs. */
  constructor(host: ConnectionHost, gate: SecureGate, answers: AnswerQueue, remote: () => string) {
    this.#host = host;
    this.#gate = gate;
    this.#answers = answers;
    this.#remote = remote;
  }

  /**
   * Handles one frame (used before the next `take()`: the decoder refills it).
   * `mode` `'busy'`: the frame was read after a drain began and gets BUSY
   * (spec §5.3). Returns a {@link Refusal} when the connection must close.
   * A sealed envelope (spec §6.7) is opened here and its frames are then
   * handled by {@link handleEnveloped}, while {@link enveloped} says some remain.
   */
  handle(raw: RawFrame, mode: 'execute' | 'busy'): Refusal | undefined {
    if (this.#host.keys !== undefined) {
      // Secure mode: the gate's checks (§6.3 monotonic identifiers, §6.4 the tag), the body
      // opened where the decoder left it (issue 18: no buffer per frame).
      const admitted = this.#gate.admit(raw);
      switch (admitted.kind) {
        case 'refused':
          return admitted;
        case 'hello':
        case 'busy':
          // spec §6.5: HELLO's answer is plaintext (OK, or BUSY over the rate limit, §6.2); the client has no keys until it reads it.
          this.queue(raw.idHi, raw.idLo, admitted.kind === 'hello' ? Status.OK : Status.BUSY, admitted.reply, false);
          return undefined;
        case 'envelope':
          this.#envelope.load(raw.source, raw.bodyStart, raw.length - TAG_SIZE);
          return undefined;
        case 'opened':
          return this.#run(raw, raw.length - TAG_SIZE, mode); // the plaintext: the body's bytes before the tag
      }
    }
    if (this.#answers.includesId(raw.idHi, raw.idLo)) {
      // spec §2.2: in plaintext mode an identifier must not repeat one still in flight.
      const error = ProtocolError.of('REPLAY', `identifier ${idOf(raw)} is already in flight`);
      return { error, reason: error.message };
    }
    return this.#run(raw, raw.length, mode);
  }

  /** Whether frames of an opened envelope are still to be handled (before the next decoded frame). */
  get enveloped(): boolean {
    return this.#envelope.pending;
  }

  /**
   * Handles the next frame of the opened envelope, as {@link handle} does a
   * decoded one: admitted by the gate (identifiers, no HELLO), executed and
   * answered. A malformed envelope (spec §6.7) is a {@link Refusal}.
   */
  handleEnveloped(mode: 'execute' | 'busy'): Refusal | undefined {
    const inner = this.#envelope.take();
    if (inner === undefined) return undefined;
    if (inner instanceof ProtocolError) return { error: inner, reason: inner.message };
    const admitted = this.#gate.admitInner(inner);
    if (admitted.kind === 'refused') return admitted;
    return this.#run(inner, inner.length, mode);
  }

  /** Reads, executes and answers one admitted request whose plaintext body is `length` bytes at its position. */
  #run(raw: RawFrame, length: number, mode: 'execute' | 'busy'): undefined {
    const { idHi, idLo, opcode, source, bodyStart } = raw;
    const metrics = this.#host.metrics;
    const started = metrics === undefined ? 0 : performance.now();
    const request = this.#request;
    const invalid = readRequest(opcode, source, bodyStart, length, idHi >= 0x8000_0000, request);
    let reply: Reply;
    if (invalid !== undefined) {
      reply = { status: invalid.status ?? Status.INTERNAL, body: Buffer.from(invalid.message) };
    } else if (mode === 'busy') {
      reply = { status: Status.BUSY, body: BUSY_DRAINING }; // spec §5.3: read after the drain began
    } else {
      try {
        reply = execute(request, this.#host, this.maxReplyBody);
      } catch (err) {
        this.#host.logger.error({ err, remote: this.#remote() }, 'request failed');
        reply = { status: Status.INTERNAL, body: Buffer.from('internal error') };
      }
      // spec §2.5: a quiet write that succeeded is not answered (and, in a secure session, seals
      // nothing: no nonce is used). It is no longer in flight (§2.2) once executed; every other
      // status of a quiet write is answered like any request's.
      const suppressed = request.quiet && reply.status === Status.OK;
      this.#host.countRequest(suppressed ? 'suppressed' : 'sent');
      if (suppressed) {
        metrics?.frame(opcode & ~QUIET_BIT, Status.OK, (performance.now() - started) / 1000);
        return undefined;
      }
    }
    // spec §2.3: answers go out in request order. Execution is synchronous (the store is
    // in-process), so each reply is ready before the next request is read and is queued as it
    // comes; a request that completed later than the ones behind it would need a reorder buffer.
    // Queued means copied: a GET's value leaves the store's bytes here, before the next request
    // (a SET of the same key, maybe) runs.
    this.queue(idHi, idLo, reply.status, reply.body);
    metrics?.frame(opcode & ~QUIET_BIT, reply.status, (performance.now() - started) / 1000);
    return undefined;
  }

  /**
   * Adds one answer to this turn's output. In a secure session its body is
   * sealed now, with the header it will be written with as associated data;
   * fatal statuses stay plaintext (spec §6.5), and so does HELLO's OK (`seal` false).
   */
  queue(idHi: number, idLo: number, status: number, body: Buffer | undefined, seal = !isFatalStatus(status)): void {
    const cipher = seal ? this.#gate.sending : undefined;
    const cap = cipher === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
    if (body !== undefined && body.length > cap) {
      // The executor sizes answers to the cap; one that still does not fit (a bug) becomes a
      // non-fatal TOO_LARGE here, never a frame over spec §2.1 or a throw in writeHeader.
      this.#host.logger.error({ remote: this.#remote(), status, length: body.length, cap }, 'answer too large for one frame: sent TOO_LARGE');
      ({ status, body } = tooLargeForFrame(body.length, cap));
    }
    this.#answers.pushId(idHi, idLo, status, body, cipher, cipher !== undefined && this.#gate.envelopes);
  }

  /**
   * The largest response body this connection can frame (spec §2.1): once a secure
   * session seals every answer, 16 bytes of it are the tag (§6.4).
   */
  get maxReplyBody(): number {
    return this.#gate.sending === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
  }
}
