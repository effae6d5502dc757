import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProtocolError } from '../protocol/errors.js';
import { HEADER_SIZE, MAX_FRAME_SIZE, Status } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { peerCommonName } from './access/peer-certificate.js';
import type { Rights } from './access/rights.js';
import { AnswerQueue } from './answer-queue.js';
import { Deadlines } from './deadlines.js';
import type { ConnectionHost, ConnectionTimeouts, DisconnectCause } from './connection-host.js';
import { readBuffers } from './read-buffers.js';
import { RequestHandler, type Refusal } from './request-handler.js';
import { SecureGate } from './secure-gate.js';

export type { ConnectionHost, ConnectionTimeouts, DisconnectCause } from './connection-host.js';

/**
 * One client connection: its phase machine (below) and every transition of it, in one file so
 * they can be read together. What does not touch the phase lives beside it: a frame's way from
 * decoder to answer (request-handler.ts), the output (answer-queue.ts), secure mode
 * (secure-gate.ts), deadlines (deadlines.ts), and what the server provides (connection-host.ts).
 *
 * @module
 */

/**
 * How long one connection executes per turn of the event loop before it yields (issue 15
 * item 5): Node runs a connection's buffered frames back to back, so 1,000 pipelined LISTs
 * held every other client, timer and signal for 20 s. After the budget the connection
 * flushes what it has, stops reading, and goes on in a later turn (setImmediate), after the
 * other connections' reads; round-robin fairness follows. Checked after each request, so a
 * turn overruns by at most one request (a LIST is bounded too, see Store.LIST_SCAN_LIMIT).
 */
const TURN_BUDGET_MS = 2;

/**
 * An answer sent as fragments (spec §2.4) is queued this much at a time, less what the socket
 * still holds, and refilled as the kernel takes it: a peer that does not read a 64 MiB answer
 * makes the connection hold about this much output, and each turn seals or frames about this
 * much. At most half of --max-output-buffer (never less than one frame), so streaming never
 * trips that bound.
 */
const FRAGMENT_WINDOW = 1024 * 1024;

/**
 * Where a connection is in its life:
 *
 * ```text
 *   open ──drain()──▶ held ──finishDrain()──▶ draining ──a poll phase later──▶ drained
 *    │                                          ▲                                │
 *    │                                          └────── reading resumed ─────────┘
 *    └─ (open, draining, drained) a fatal error; or all answered, after the peer's FIN
 *       or once drained ──▶ ended ──the peer closes, or frame timeout──▶ closed
 *   any ──socket closed, disconnect(), destroy(), a bug──▶ closed
 * ```
 *
 * `open`: serving. `held`, `draining`, `drained`: graceful shutdown (spec §5.3), see
 * {@link Connection.drain}; a frame that ends past the bytes read before the drain gets
 * BUSY. `ended`: our side of the stream is ended; the peer's bytes are read and dropped
 * until it ends its own. `closed`: the socket is closed or being destroyed.
 */
type Phase = 'open' | 'held' | 'draining' | 'drained' | 'ended' | 'closed';

/**
 * Whether the socket is read. `paused`: by --max-inflight, or held by the drain;
 * `yielded`: paused because the turn's budget is spent, with #continue scheduled.
 * Apart from the phase because backpressure and the turn budget apply in `open`,
 * `draining` and `drained` alike.
 */
type Intake = 'reading' | 'paused' | 'yielded';

/**
 * One client connection: decodes its frames (spec §2), executes each request,
 * and writes the responses in request order, every response ready in one
 * turn in one write. Bounded: it stops reading while `maxInflight` responses
 * are unsent, and is disconnected when its unwritten output passes
 * `maxOutputBuffer`. Fatal protocol errors are answered, then the connection
 * is closed (spec §4.1); nothing else on the server is affected. It keeps its
 * own deadlines: the server's sweep calls {@link Connection.checkTimeouts}.
 *
 * @example
 * ```ts
 * netServer.on('connection', (socket) => connections.add(new Connection(socket, host)));
 * setInterval(() => { for (const c of connections) c.checkTimeouts(performance.now(), options); }, 250);
 * ```
 */
export class Connection {
  readonly #socket: Socket;
  readonly #host: ConnectionHost<Connection>;
  readonly #decoder: FrameDecoder;
  /** Answers queued this turn (also the identifiers in flight, spec §2.2) or not yet flushed. */
  readonly #answers: AnswerQueue;
  #phase: Phase = 'open';
  #intake: Intake = 'reading';
  /**
   * The peer sent FIN: answer what is buffered, then end. Apart from the phase because
   * it is the peer's half of the stream: it can come in any phase, a drain's included.
   */
  #peerEnded = false;
  /**
   * Graceful shutdown (spec §5.3), counted from drain() on: bytes read before the drain
   * began and not yet decoded. A frame that ends within them is executed; one that ends
   * later gets BUSY.
   */
  #unreadAtDrain = 0;
  /** Tells the latest #resume's immediate from earlier ones. */
  #resumes = 0;
  /** A flush is scheduled for INVALIDATE pushes that came between turns (spec §3.15). */
  #pushFlush = false;
  /** Secure mode (spec §6): HELLO, opening, and the trust state. */
  readonly #gate: SecureGate;
  readonly #deadlines = new Deadlines();
  /** A frame's way from the decoder to its answer in the output. */
  readonly #requests: RequestHandler;

  constructor(socket: Socket, host: ConnectionHost<Connection>) {
    this.#socket = socket;
    this.#host = host;
    this.#decoder = new FrameDecoder({ direction: 'request', maxBodySize: host.maxBodySize });
    // Secure mode is the server's at accept; the keys are read when HELLO comes (a reload may change them, issue 25).
    this.#gate = new SecureGate(host.keys === undefined ? undefined : () => host.keys, () => host.admitHandshake(socket.remoteAddress));
    this.#answers = new AnswerQueue((delta) => host.outputHeld(delta));
    this.#requests = new RequestHandler(host, this.#gate, this.#answers, () => this.remote, this.#wakeForPushes, (reason) => this.disconnect('key_removed', reason));
    const access = host.access;
    if (access !== undefined && host.keys === undefined && (socket as Partial<TLSSocket>).authorized === true) {
      // spec §3.17: without secure mode a verified TLS client certificate names the identity (in
      // secure mode the HELLO key does). Its common name picks the [[certificates]] rule.
      this.#requests.authenticate(access.table.forCertificate(peerCommonName(socket)));
    }
    socket.setNoDelay(true);
    // An exception escaping a socket handler would end the process and the whole cache with
    // it (issue 15 item 1): every entry point from the event loop goes through #guard.
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#onData(chunk);
      } catch (err) {
        this.#failed(err);
      }
    });
    socket.on('end', () => this.#guard(this.#onEnd));
    // spec: ECONNRESET and EPIPE are normal; an unhandled 'error' would kill the process.
    socket.on('error', (err: NodeJS.ErrnoException) => host.logger.debug({ code: err.code, remote: this.remote }, 'socket error'));
    socket.on('close', () => {
      if (!this.#closing) this.#peerLeftAfterHello();
      // A peer that reset or vanished gets no answers: what it left buffered is not executed
      // (a pipeline of LISTs would otherwise run on for seconds, turn after turn, for nobody).
      this.#phase = 'closed';
      this.#requests.stopTracking(); // spec §3.15: a closed connection is forgotten
      this.#requests.releaseLeases(); // spec §3.16: and its leases end with it
      this.#answers.releaseAll(); // what the socket still held is freed with it
      this.#requests.releaseGathering(); // and a request it was sending in fragments
      host.released(this);
    });
  }

  /**
   * Issue 25 (spec §3.17): the rights this connection authenticated with (HELLO's key id, a
   * TLS client certificate); `undefined` in plaintext mode (every right) and before HELLO.
   */
  get rights(): Rights | undefined {
    return this.#requests.rights;
  }

  /** The credential digest its rights came with: a reload closes the connection when it is gone (spec §6.8). */
  get credential(): string | undefined {
    return this.#requests.credential;
  }

  /** Bytes of output this connection holds: queued, or written and not yet taken by the kernel. */
  get outputHeld(): number {
    return this.#answers.heldBytes;
  }

  /** The peer's address, for logs. */
  get remote(): string {
    const s = this.#socket;
    return s.remoteAddress === undefined ? 'unix socket' : `${s.remoteAddress}:${s.remotePort ?? 0}`;
  }

  /** Our side has ended or the socket is closed: nothing more is executed or answered. */
  get #closing(): boolean {
    return this.#phase === 'ended' || this.#phase === 'closed';
  }

  /**
   * Closes the connection if it is past one of its deadlines at `now` (clock ms, see
   * Deadlines): the server calls it for every connection every 250 ms.
   *
   * @example
   * ```ts
   * for (const c of connections) c.checkTimeouts(performance.now(), { frameTimeoutMs: 10_000, idleTimeoutMs: 0, handshakeTimeoutMs: 5_000 });
   * ```
   */
  checkTimeouts(now: number, limits: ConnectionTimeouts): void {
    if (this.#phase === 'closed') return;
    const state = this.#phase === 'ended' ? 'ended' : this.#gate.trust === 'awaiting_hello' ? 'awaiting_hello' : 'open';
    const expiry = this.#deadlines.expired(now, limits, state);
    if (expiry === 'linger') this.destroy();
    else if (expiry !== undefined) this.disconnect(expiry.cause, expiry.reason);
  }

  /**
   * The peer closed after its HELLO was answered and before any frame authenticated: with a
   * different secret the client fails key confirmation (spec §6.2) and closes without a word,
   * so this is the server's only sign of it.
   */
  #peerLeftAfterHello(): void {
    if (!this.#gate.abandon()) return;
    const keyId = this.#gate.keyId;
    this.#host.countAuthFailure();
    this.#host.logger.warn(
      { remote: this.remote, keyId, cause: 'auth' },
      `closed after the handshake before any authenticated frame: the client may hold a different secret for key id ${keyId ?? '?'}`,
    );
  }

  #onData(chunk: Buffer): void {
    readBuffers.note(chunk.length); // dead read buffers collected early (read-buffers.ts)
    // Once our side has ended nothing more is executed or answered: the bytes are read only so
    // the peer's end is seen and the close is not a reset (spec §5.3), and are not kept.
    if (this.#closing) return;
    this.#deadlines.active();
    this.#decoder.push(chunk);
    if (this.#intake !== 'yielded') this.#pump(); // else #continue runs what is buffered, in its turn
  }

  /** Decodes and executes buffered frames while fewer than `limit` responses are unsent. */
  #pump(limit = this.#host.maxInflight): void {
    const started = performance.now();
    const answers = this.#answers;
    let decoded = 0;
    const requests = this.#requests;
    // spec §2.4: while an answer goes out as fragments nothing else runs (its window refills on flush).
    while (!this.#closing && answers.pending < limit && !answers.streaming) {
      let refusal: Refusal | undefined;
      if (requests.enveloped) {
        // The frames of an opened envelope (spec §6.7) come before the next decoded frame; the
        // drain counted the envelope's bytes as one, so its frames share its mode.
        refusal = requests.handleEnveloped(this.#phase !== 'open' && this.#unreadAtDrain < 0 ? 'busy' : 'execute');
      } else {
        const item = this.#decoder.take(); // refilled by the next take(): handled before it
        if (item === undefined) break;
        if (item instanceof ProtocolError) return this.#fatal(item);
        if (this.#phase !== 'open') this.#unreadAtDrain -= HEADER_SIZE + item.length;
        refusal = requests.handle(item, this.#phase !== 'open' && this.#unreadAtDrain < 0 ? 'busy' : 'execute');
      }
      decoded += 1;
      if (refusal !== undefined) {
        this.#fatal(refusal.error, refusal.reason);
        break;
      }
      // The output bound holds per response, not per batch: a batch of --max-inflight large
      // answers (or sealed copies of them, in secure mode) must not pile up before the check.
      if (answers.queuedBytes + this.#socket.writableLength > this.#host.maxOutputBuffer) this.#flush();
      if ((this.#decoder.buffered > 0 || requests.enveloped) && performance.now() - started >= TURN_BUDGET_MS) {
        this.#yield();
        break;
      }
    }
    if (!this.#closing && (answers.pending >= limit || answers.streaming) && this.#intake === 'reading') {
      this.#intake = 'paused';
      this.#socket.pause();
    }
    this.#flush();
    // spec §2.4: a message stopped between fragments is timed as a frame stopped midway.
    this.#deadlines.framePending(this.#decoder.midFrame || requests.midMessage, this.#intake === 'reading', decoded);
    this.#finishIfDone();
  }

  /**
   * Writes this turn's answers in one write (spec §5.1, see OutputBatch), then
   * checks the output bound (only writes make it grow).
   */
  #flush(): void {
    const socket = this.#socket;
    const answers = this.#answers;
    if (answers.streaming) {
      const window = Math.max(MAX_FRAME_SIZE, Math.min(FRAGMENT_WINDOW, Math.floor(this.#host.maxOutputBuffer / 2)));
      answers.fillFragments(window - socket.writableLength);
    }
    // spec §3.15: pushes that came since the last answer; after a fragmented answer's last fragment (§2.4).
    if (!answers.streaming && this.#requests.pushesPending) this.#requests.emitPushes();
    if (!answers.write(socket, this.#onFlushed)) return;
    if (socket.writableLength > this.#host.maxOutputBuffer) {
      this.disconnect('output_buffer', `unwritten output of ${socket.writableLength} bytes exceeds --max-output-buffer`);
    }
  }

  /**
   * The tracking table queued pushes for this connection (spec §3.15), maybe
   * from another connection's request or a timer: they go out in a flush of
   * their own soon after, unless an answer or a flush of this connection takes
   * them first. One per turn.
   */
  readonly #wakeForPushes = (): void => {
    if (this.#pushFlush) return;
    this.#pushFlush = true;
    setImmediate(() =>
      this.#guard(() => {
        this.#pushFlush = false;
        if (!this.#closing) this.#flush();
      }),
    );
  };

  /** A write's answers reached the kernel: counted off, and reading may go on. */
  readonly #onFlushed = (bytes: number, count: number): void =>
    this.#guard(() => {
      this.#answers.settle(bytes, count);
      this.#flushed();
    });

  #flushed(): void {
    this.#deadlines.active(); // a client that reads its answers is not idle
    if (this.#answers.streaming) {
      // The next window of fragments (spec §2.4) in a later turn: on loopback the kernel takes
      // writes at once and their callbacks chain within one turn, which sealed 64 MiB in one go.
      if (!this.#closing) this.#yield();
      return;
    }
    if (this.#intake === 'paused' && this.#answers.unflushed < this.#host.maxInflight && !this.#closing && this.#phase !== 'held') {
      this.#resume();
      this.#pump();
    } else {
      this.#finishIfDone();
    }
  }

  /** The turn's budget is spent: stop reading (what is buffered stays bounded) and go on in a later turn. */
  #yield(): void {
    if (this.#intake === 'yielded') return;
    if (this.#intake === 'reading') this.#socket.pause();
    this.#intake = 'yielded';
    setImmediate(this.#continue);
  }

  /** A later turn: runs what is buffered, under a fresh budget, and reads again. */
  readonly #continue = (): void =>
    this.#guard(() => {
      if (this.#intake === 'yielded') this.#intake = 'paused'; // the socket is still paused
      // Held by the drain: finishDrain() takes over. Paused by --max-inflight: #flushed resumes it.
      if (this.#closing || this.#phase === 'held') return;
      if (this.#intake === 'paused' && this.#answers.unflushed < this.#host.maxInflight) this.#resume();
      this.#pump();
    });

  /**
   * Reads again. While finishing a drain (spec §5.3: read what has arrived and answer it),
   * the connection may end only after the next poll phase has read what waits in the
   * kernel; an immediate runs after it. Every resumption restarts that wait.
   */
  #resume(): void {
    this.#intake = 'reading';
    this.#socket.resume();
    if (this.#phase !== 'draining' && this.#phase !== 'drained') return;
    this.#phase = 'draining';
    const resume = ++this.#resumes;
    setImmediate(() =>
      this.#guard(() => {
        if (resume !== this.#resumes || this.#closing) return;
        this.#phase = 'drained';
        if (this.#intake !== 'yielded') this.#pump(); // else its #continue runs (and may end it) in turn
      }),
    );
  }

  /** spec §4.1: answer what came before, then the error, then close. `reason` is logged, never sent. */
  #fatal(error: ProtocolError, reason = error.message): void {
    const id = this.#requests.nextServerId();
    this.#requests.queue(Number(id >> 32n), Number(id & 0xffff_ffffn), error.status ?? Status.INTERNAL, Buffer.from(error.message));
    this.#flush();
    const trust = error.code === 'AUTH_REQUIRED' || error.code === 'AUTH_FAILED' || error.code === 'REPLAY';
    const secure = this.#host.keys !== undefined;
    this.#host.countDisconnect(trust && secure ? 'auth' : 'protocol_error');
    if (secure && (error.code === 'AUTH_FAILED' || error.code === 'REPLAY')) this.#host.countAuthFailure();
    this.#host.logger.warn({ remote: this.remote, code: error.code, reason }, 'closing connection: protocol error');
    this.#end();
  }

  /**
   * Ends our side of the stream. Reading goes on (and discards, see #onData) until
   * the peer ends its side: closing with unread bytes would reset the connection
   * and could destroy answers the peer has not read yet.
   */
  #end(): void {
    this.#requests.stopTracking(); // nothing more is sent after our end
    if (this.#phase !== 'closed') {
      this.#phase = 'ended';
      this.#deadlines.ended();
    }
    if (this.#intake !== 'reading') {
      this.#intake = 'reading';
      this.#socket.resume();
    }
    this.#socket.end();
  }

  readonly #onEnd = (): void => {
    this.#peerEnded = true;
    if (!this.#closing) this.#peerLeftAfterHello();
    this.#finishIfDone();
  };

  /** Runs `step` from the event loop; an exception closes this connection only (see #failed). */
  #guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.#failed(err);
    }
  }

  /** A bug, not the peer's doing: logged at error, counted, and only this connection closed. */
  #failed(err: unknown): void {
    this.#host.logger.error({ err, remote: this.remote }, 'connection failed: internal error');
    if (this.#socket.destroyed) return;
    this.#phase = 'closed';
    this.#host.countDisconnect('internal');
    this.#socket.destroy();
  }

  /**
   * Ends our side once the peer has ended or the drain is over, every
   * received request is answered, and the output is flushed to the kernel.
   */
  #finishIfDone(): void {
    if (this.#closing || !(this.#peerEnded || this.#phase === 'drained') || this.#intake !== 'reading' || this.#answers.unflushed > 0 || this.#answers.streaming) return;
    if (this.#peerEnded) {
      const truncated = this.#decoder.end(); // spec §4.3: a partial frame is dropped unanswered
      if (truncated !== undefined) {
        this.#host.logger.debug({ remote: this.remote, reason: truncated.message }, 'client ended mid-frame');
      }
    }
    this.#end();
  }

  /**
   * Graceful shutdown, first step (spec §5.3): holds reading until
   * {@link finishDrain}. Nothing is executed meanwhile: the server needs short
   * event-loop turns to accept its backlog (Node accepts one connection per
   * turn), and answering a deep pipeline here would take many of them.
   *
   * @example
   * ```ts
   * connection.drain(); // … once the listeners are closed:
   * connection.finishDrain();
   * ```
   */
  drain(): void {
    if (this.#closing) return;
    this.#unreadAtDrain = this.#decoder.buffered;
    this.#phase = 'held';
    if (this.#intake === 'reading') {
      this.#intake = 'paused';
      this.#socket.pause();
    }
  }

  /**
   * Graceful shutdown, second step (after {@link drain}): executes and answers
   * the requests read before the drain, under the usual --max-inflight and
   * --max-output-buffer backpressure (a paused connection can hold thousands),
   * and reads again (a connection stopped by --max-inflight included), so what
   * waits in the kernel is answered BUSY rather than discarded under a reset.
   * Ends the connection once its answers are written.
   */
  finishDrain(): void {
    if (this.#closing) return;
    if (this.#phase === 'open') this.drain();
    this.#phase = 'draining';
    // Paused by --max-inflight, it is resumed by #flushed as its answers reach the kernel
    // (and its drain ends a poll phase after that).
    if (this.#intake === 'reading' || this.#answers.unflushed < this.#host.maxInflight) this.#resume();
    this.#pump();
  }

  /** Closes the connection for `cause`, counted and logged at warn. */
  disconnect(cause: DisconnectCause, reason: string): void {
    if (this.#socket.destroyed) return;
    this.#phase = 'closed';
    this.#host.countDisconnect(cause);
    this.#host.logger.warn({ remote: this.remote, cause, reason }, 'closing connection');
    this.#socket.destroy();
    this.#answers.releaseAll(); // freed now: the server's output total must drop before its next check
  }

  /** Destroys the socket at once (shutdown timeout). */
  destroy(): void {
    this.#phase = 'closed';
    this.#socket.destroy();
    this.#answers.releaseAll();
  }
}
