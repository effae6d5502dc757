import type { Socket } from 'node:net';
import { TAG_SIZE } from '../crypto/frame-cipher.js';
import { acceptHello, AUTH_FAILED_MESSAGE, type SecureSession } from '../crypto/handshake.js';
import { ProtocolError } from '../protocol/errors.js';
import { HEADER_SIZE, isFatalStatus, MAX_BODY_SIZE, MAX_CLIENT_ID, Opcode, SERVER_ID_BASE, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { writeHeader, type Frame } from '../protocol/header.js';
import { parseRequest } from '../protocol/messages.js';
import { execute, tooLargeForFrame, type ExecutionContext, type Reply } from './execute.js';
import type { DisconnectCause, Metrics } from './metrics.js';
import type { Logger } from '../config/logger.js';

/**
 * Where a connection stands with its peer's identity (spec §6): `plaintext`
 * (no keys configured), `awaiting_hello` (secure mode, no HELLO answered OK
 * yet: the handshake deadline runs), `handshaken` (HELLO answered, no frame
 * authenticated yet), `authenticated`, or `abandoned` (closed by the peer
 * while handshaken: the client likely failed key confirmation).
 */
export type TrustState = 'plaintext' | 'awaiting_hello' | 'handshaken' | 'authenticated' | 'abandoned';

/** What a connection needs from its server. */
export interface ConnectionHost extends ExecutionContext {
  readonly maxInflight: number;
  readonly maxOutputBuffer: number;
  readonly maxBodySize: number;
  readonly logger: Logger;
  /** Pre-shared keys by id; set means secure mode (spec §6). */
  readonly keys: ReadonlyMap<string, Buffer> | undefined;
  /** Prometheus metrics, when the HTTP gateway serves them. */
  readonly metrics: Metrics | undefined;
  /** Counts one executed request. */
  countRequest(): void;
  /** Counts a connection the server closed, and why. */
  countDisconnect(cause: DisconnectCause): void;
  /** Counts a secure-mode authentication failure (AUTH_FAILED, REPLAY, or a close right after HELLO). */
  countAuthFailure(): void;
  /**
   * Output this connection holds changed by `delta` bytes (queued, or written but not yet
   * taken by the kernel): the server keeps the running total for --max-output-memory.
   */
  outputHeld(delta: number): void;
  /** Called once when the socket has closed. */
  released(connection: Connection): void;
}

/**
 * How long one connection executes per turn of the event loop before it yields (issue 15
 * item 5): Node runs a connection's buffered frames back to back, so 1,000 pipelined LISTs
 * held every other client, timer and signal for 20 s. After the budget the connection
 * flushes what it has, stops reading, and goes on in a later turn (setImmediate), after the
 * other connections' reads; round-robin fairness follows. Checked after each request, so a
 * turn overruns by at most one request (a LIST is bounded too, see Store.LIST_SCAN_LIMIT).
 */
const TURN_BUDGET_MS = 2;

/** Responses up to this size are joined into one buffer before the write; larger batches go out corked. */
const JOIN_LIMIT = 64 * 1024;

/** A queued response body: plain, sealed (ciphertext and tag, see #frame) or none. */
type OutBody = Buffer | readonly [Buffer, Buffer] | undefined;

const bodyLength = (body: OutBody): number =>
  body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body[0].length + body[1].length;

const BUSY_DRAINING = Buffer.from('server is shutting down');
const EMPTY = Buffer.alloc(0);

/**
 * One client connection: decodes its frames (spec §2), executes each request,
 * and writes the responses in request order, every response ready in one
 * turn in one write. Bounded: it stops reading while `maxInflight` responses
 * are unsent, and is disconnected when its unwritten output passes
 * `maxOutputBuffer`. Fatal protocol errors are answered, then the connection
 * is closed (spec §4.1); nothing else on the server is affected.
 *
 * @example
 * ```ts
 * netServer.on('connection', (socket) => connections.add(new Connection(socket, host)));
 * ```
 */
export class Connection {
  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  readonly #decoder: FrameDecoder;
  /**
   * This turn's responses, not yet written: parallel arrays, framed in one
   * buffer at flush time so no response costs a header allocation of its own.
   * `#outIds` doubles as the set of identifiers in flight (spec §2.2).
   */
  #outIds: bigint[] = [];
  #outStatuses: number[] = [];
  /** A sealed body is its ciphertext and its tag, written one after the other (no copy). */
  #outBodies: OutBody[] = [];
  #outBytes = 0;
  /** Highest identifier in `#outIds`: a larger one cannot repeat any of them. */
  #outMaxId = -1n;
  /** Responses written to the socket but not yet flushed to the kernel. */
  #unflushed = 0;
  #paused = false;
  #closing = false;
  /**
   * Graceful shutdown (spec §5.3): bytes read before the drain began and not yet decoded.
   * A frame that ends within them is executed; one that ends later gets BUSY.
   */
  #readBeforeDrain = Number.POSITIVE_INFINITY;
  /** Between drain() and finishDrain(): nothing is read or executed, so the server's turns stay short. */
  #held = false;
  /**
   * Set by finishDrain(): from then on every resumption of reading waits a poll phase before
   * the connection may end (see #resume), so what waits in the kernel is read and answered.
   */
  #finishing = false;
  /** The connection may end once its answers are written: a poll phase passed since the last resume. */
  #drainEnding = false;
  /** Tells the latest #resume's immediate from earlier ones. */
  #resumes = 0;
  /** Its turn's budget is spent: reading is paused until #continue runs in a later turn. */
  #yielded = false;
  /** The peer sent FIN: answer what is buffered, then end. */
  #peerEnded = false;
  #nextServerId = SERVER_ID_BASE;
  /** Secure mode (spec §6): the session once HELLO succeeded, and the last request identifier. */
  #session: SecureSession | undefined;
  #trust: TrustState;
  /** The key id HELLO named, for logs. */
  #keyId: string | undefined;
  /** Bytes of output queued or written and not yet taken by the kernel (see ConnectionHost.outputHeld). */
  #outputHeld = 0;
  /** Clock time (ms) the connection was accepted. */
  readonly openedAt = performance.now();
  #lastId = -1n;
  /** Clock time (ms) of the last byte received, and of the start of an incomplete frame (0 = none). */
  lastActivity = performance.now();
  midFrameSince = 0;
  /** Clock time (ms) at which the server ended its side of the stream (0 = not yet). */
  endedSince = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    this.#decoder = new FrameDecoder({ direction: 'request', maxBodySize: host.maxBodySize });
    this.#trust = host.keys === undefined ? 'plaintext' : 'awaiting_hello';
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
      this.#closing = true;
      this.#release(this.#outputHeld); // what the socket still held is freed with it
      host.released(this);
    });
  }

  /** Secure mode: the handshake state (see {@link TrustState}). */
  get trust(): TrustState {
    return this.#trust;
  }

  /** Bytes of output this connection holds: queued, or written and not yet taken by the kernel. */
  get outputHeld(): number {
    return this.#outputHeld;
  }

  #hold(bytes: number): void {
    this.#outputHeld += bytes;
    this.#host.outputHeld(bytes);
  }

  #release(bytes: number): void {
    const n = Math.min(bytes, this.#outputHeld); // after a disconnect, late write callbacks release nothing
    if (n <= 0) return;
    this.#outputHeld -= n;
    this.#host.outputHeld(-n);
  }

  /**
   * The peer closed after its HELLO was answered and before any frame authenticated: with a
   * different secret the client fails key confirmation (spec §6.2) and closes without a word,
   * so this is the server's only sign of it.
   */
  #peerLeftAfterHello(): void {
    if (this.#trust !== 'handshaken') return;
    this.#trust = 'abandoned';
    this.#host.countAuthFailure();
    this.#host.logger.warn(
      { remote: this.remote, keyId: this.#keyId, cause: 'auth' },
      `closed after the handshake before any authenticated frame: the client may hold a different secret for key id ${this.#keyId ?? '?'}`,
    );
  }

  /** The peer's address, for logs. */
  get remote(): string {
    const s = this.#socket;
    return s.remoteAddress === undefined ? 'unix socket' : `${s.remoteAddress}:${s.remotePort ?? 0}`;
  }

  /** True once the socket is closed or closing. */
  get closing(): boolean {
    return this.#closing;
  }

  #onData(chunk: Buffer): void {
    // Once our side has ended nothing more is executed or answered: the bytes are read only so
    // the peer's end is seen and the close is not a reset (spec §5.3), and are not kept.
    if (this.#closing) return;
    this.lastActivity = performance.now();
    this.#decoder.push(chunk);
    if (!this.#yielded) this.#pump(); // else #continue runs what is buffered, in its turn
  }

  /** Decodes and executes buffered frames while fewer than `limit` responses are unsent. */
  #pump(limit = this.#host.maxInflight): void {
    const started = performance.now();
    let decoded = 0;
    while (!this.#closing && this.#unflushed + this.#outIds.length < limit) {
      const item = this.#decoder.read();
      if (item === undefined) break;
      if (item instanceof ProtocolError) return this.#fatal(item);
      decoded += 1;
      this.#readBeforeDrain -= HEADER_SIZE + item.length;
      this.#handle(item);
      // The output bound holds per response, not per batch: a batch of --max-inflight large
      // answers (or sealed copies of them, in secure mode) must not pile up before the check.
      if (this.#outBytes + this.#socket.writableLength > this.#host.maxOutputBuffer) this.#flush();
      if (this.#decoder.buffered > 0 && performance.now() - started >= TURN_BUDGET_MS) {
        this.#yield();
        break;
      }
    }
    if (!this.#closing && this.#unflushed + this.#outIds.length >= limit && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#flush();
    // The frame timeout is for peers that stop mid-frame; while we stopped reading (backpressure)
    // the bytes waiting may be whole frames, so the clock does not run. It times only the frame
    // pending now: one decoded in this pass means the partial one began after it, so the clock
    // restarts (a client streaming frames in pieces always ends a read mid-frame, yet none waits).
    if (!this.#decoder.midFrame || this.#paused) this.midFrameSince = 0;
    else if (decoded > 0 || this.midFrameSince === 0) this.midFrameSince = performance.now();
    this.#finishIfDone();
  }

  #handle(frame: Frame): void {
    if (this.#host.keys !== undefined) {
      const opened = this.#openSecure(frame);
      if (opened === undefined) return;
      frame = opened;
    } else if (frame.id <= this.#outMaxId && this.#outIds.includes(frame.id)) {
      // spec §2.2: in plaintext mode an identifier must not repeat one still in
      // flight. Clients count upwards, so the scan runs only when ids go back.
      return this.#fatal(ProtocolError.of('REPLAY', `identifier ${frame.id} is already in flight`));
    }
    const metrics = this.#host.metrics;
    const started = metrics === undefined ? 0 : performance.now();
    const request = parseRequest(frame);
    let reply: Reply;
    if (request instanceof ProtocolError) {
      reply = { status: request.status ?? Status.INTERNAL, body: Buffer.from(request.message) };
    } else if (this.#readBeforeDrain < 0) {
      reply = { status: Status.BUSY, body: BUSY_DRAINING }; // spec §5.3: read after the drain began
    } else {
      try {
        reply = execute(request, this.#host, this.#maxReplyBody);
      } catch (err) {
        this.#host.logger.error({ err, remote: this.remote }, 'request failed');
        reply = { status: Status.INTERNAL, body: Buffer.from('internal error') };
      }
      this.#host.countRequest();
    }
    // spec §2.3: answers go out in request order. Execution is synchronous (the store is
    // in-process), so each reply is ready before the next request is read and is queued as it
    // comes; a request that completed later than the ones behind it would need a reorder buffer.
    this.#frame(frame.id, reply.status, reply.body);
    metrics?.frame(frame.opcode, reply.status, (performance.now() - started) / 1000);
  }

  /**
   * Secure mode (spec §6): the first frame must be HELLO; every later one must
   * carry a larger identifier and authenticate. Returns the frame with its
   * plaintext body, or `undefined` when it was handled (handshake) or fatal.
   */
  #openSecure(frame: Frame): Frame | undefined {
    const session = this.#session;
    if (session === undefined) {
      if (frame.opcode !== Opcode.HELLO) {
        this.#fatal(ProtocolError.of('AUTH_REQUIRED', 'secure mode: the first frame must be HELLO'));
        return undefined;
      }
      if (frame.id > MAX_CLIENT_ID) {
        this.#fatal(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'handshake failed: HELLO with a reserved identifier');
        return undefined;
      }
      const accepted = acceptHello(frame.body, frame.id, this.#host.keys ?? new Map<string, Buffer>());
      if (accepted instanceof ProtocolError) {
        // spec §6.5: one message on the wire whatever the reason; the reason goes to the log.
        const named = accepted.keyId === undefined ? '' : ` (key id ${accepted.keyId})`;
        this.#fatal(accepted, `handshake failed: ${accepted.reason.replaceAll('_', ' ')}${named}`);
        return undefined;
      }
      this.#lastId = frame.id;
      this.#keyId = accepted.keyId;
      this.#trust = 'handshaken';
      // Answered before the session is set, so in plaintext: the client has no keys until it reads this.
      this.#frame(frame.id, Status.OK, accepted.reply);
      this.#session = accepted.session;
      return undefined;
    }
    if (frame.id <= this.#lastId) {
      this.#fatal(ProtocolError.of('REPLAY', `identifier ${frame.id} is not greater than ${this.#lastId}`));
      return undefined;
    }
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    writeHeader(header, 0, VERSION_REQUEST, frame.opcode, frame.length, frame.id);
    const plaintext = session.receive.open(header, frame.body);
    if (plaintext === undefined) {
      this.#fatal(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), `frame ${frame.id} failed authentication (key id ${this.#keyId ?? '?'})`);
      return undefined;
    }
    this.#lastId = frame.id;
    this.#trust = 'authenticated';
    if (frame.opcode === Opcode.HELLO) {
      this.#fatal(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'HELLO after the handshake');
      return undefined;
    }
    return { ...frame, length: plaintext.length, body: plaintext };
  }

  /**
   * Adds one response to this turn's output. In a secure session its body is
   * sealed now, with the header it will be written with as associated data;
   * fatal statuses stay plaintext (spec §6.5).
   */
  #frame(id: bigint, status: number, body: Buffer | undefined): void {
    const session = isFatalStatus(status) ? undefined : this.#session;
    const cap = session === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
    if (body !== undefined && body.length > cap) {
      // The executor sizes answers to the cap; one that still does not fit (a bug) becomes a
      // non-fatal TOO_LARGE here, never a frame over spec §2.1 or a throw in writeHeader.
      this.#host.logger.error({ remote: this.remote, status, length: body.length, cap }, 'answer too large for one frame: sent TOO_LARGE');
      ({ status, body } = tooLargeForFrame(body.length, cap));
    }
    let length = body?.length ?? 0;
    let out: OutBody = body;
    if (session !== undefined) {
      length += TAG_SIZE;
      const header = Buffer.allocUnsafe(HEADER_SIZE);
      writeHeader(header, 0, VERSION_RESPONSE, status, length, id);
      out = session.send.sealDetached(header, body ?? EMPTY);
    }
    this.#outIds.push(id);
    this.#outStatuses.push(status);
    this.#outBodies.push(out);
    this.#outBytes += HEADER_SIZE + length;
    if (id > this.#outMaxId) this.#outMaxId = id;
    this.#hold(HEADER_SIZE + length); // counted from here, so the server-wide bound holds per response
  }

  /**
   * Writes this turn's responses in one write (spec §5.1): framed into one
   * buffer when small, else headers and bodies corked into one writev, so a
   * large value is not copied. Then checks the output bound.
   */
  #flush(): void {
    const count = this.#outIds.length;
    if (count === 0) return;
    const ids = this.#outIds;
    const statuses = this.#outStatuses;
    const bodies = this.#outBodies;
    const bytes = this.#outBytes;
    this.#outIds = [];
    this.#outStatuses = [];
    this.#outBodies = [];
    this.#outBytes = 0;
    this.#outMaxId = -1n;
    const socket = this.#socket;
    if (socket.destroyed) return this.#release(bytes);
    this.#unflushed += count;
    const done = (): void =>
      this.#guard(() => {
        this.#release(bytes);
        this.#flushed(count);
      });
    if (bytes <= JOIN_LIMIT) {
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let i = 0; i < count; i += 1) {
        const body = bodies[i];
        writeHeader(out, at, VERSION_RESPONSE, statuses[i] as number, bodyLength(body), ids[i] as bigint);
        at += HEADER_SIZE;
        if (Buffer.isBuffer(body)) at += body.copy(out, at);
        else if (body !== undefined) at += body[0].copy(out, at) + body[1].copy(out, at + body[0].length);
      }
      socket.write(out, done);
    } else {
      socket.cork();
      for (let i = 0; i < count; i += 1) {
        const body = bodies[i];
        const header = Buffer.allocUnsafe(HEADER_SIZE);
        writeHeader(header, 0, VERSION_RESPONSE, statuses[i] as number, bodyLength(body), ids[i] as bigint);
        socket.write(header);
        if (Buffer.isBuffer(body)) {
          if (body.length > 0) socket.write(body);
        } else if (body !== undefined) {
          if (body[0].length > 0) socket.write(body[0]);
          socket.write(body[1]);
        }
      }
      socket.write(EMPTY, done);
      socket.uncork();
    }
    if (socket.writableLength > this.#host.maxOutputBuffer) {
      this.disconnect('output_buffer', `unwritten output of ${socket.writableLength} bytes exceeds --max-output-buffer`);
    }
  }

  #flushed(count: number): void {
    this.#unflushed -= count;
    this.lastActivity = performance.now(); // a client that reads its answers is not idle
    if (this.#paused && this.#unflushed < this.#host.maxInflight && !this.#closing && !this.#held && !this.#yielded) {
      this.#resume();
      this.#pump();
    } else {
      this.#finishIfDone();
    }
  }

  /** The turn's budget is spent: stop reading (what is buffered stays bounded) and go on in a later turn. */
  #yield(): void {
    if (this.#yielded) return;
    this.#yielded = true;
    if (!this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    setImmediate(this.#continue);
  }

  /** A later turn: runs what is buffered, under a fresh budget, and reads again. */
  readonly #continue = (): void =>
    this.#guard(() => {
      this.#yielded = false;
      // Held by the drain: finishDrain() takes over. Paused by --max-inflight: #flushed resumes it.
      if (this.#closing || this.#held) return;
      if (this.#paused && this.#unflushed < this.#host.maxInflight) this.#resume();
      this.#pump();
    });

  /**
   * Reads again. While finishing a drain (spec §5.3: read what has arrived and answer it),
   * the connection may end only after the next poll phase has read what waits in the
   * kernel; an immediate runs after it. Every resumption restarts that wait.
   */
  #resume(): void {
    this.#paused = false;
    this.#socket.resume();
    if (!this.#finishing) return;
    this.#drainEnding = false;
    const resume = ++this.#resumes;
    setImmediate(() =>
      this.#guard(() => {
        if (resume !== this.#resumes || this.#closing) return;
        this.#drainEnding = true;
        if (!this.#yielded) this.#pump(); // else its #continue runs (and may end it) in turn
      }),
    );
  }

  /** spec §4.1: answer what came before, then the error, then close. `reason` is logged, never sent. */
  #fatal(error: ProtocolError, reason = error.message): void {
    this.#frame(this.#nextServerId++, error.status ?? Status.INTERNAL, Buffer.from(error.message));
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
    this.#closing = true;
    this.endedSince = performance.now();
    if (this.#paused) {
      this.#paused = false;
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
    this.#closing = true;
    this.#host.countDisconnect('internal');
    this.#socket.destroy();
  }

  /**
   * The largest response body this connection can frame (spec §2.1): once a secure
   * session seals every answer, 16 bytes of it are the tag (§6.4).
   */
  get #maxReplyBody(): number {
    return this.#session === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
  }

  /**
   * Ends our side once the peer has ended or shutdown has begun, every
   * received request is answered, and the output is flushed to the kernel.
   */
  #finishIfDone(): void {
    if (this.#closing || !(this.#peerEnded || this.#drainEnding) || this.#paused || this.#unflushed > 0) return;
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
    this.#readBeforeDrain = this.#decoder.buffered;
    this.#held = true;
    if (!this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /**
   * Graceful shutdown, second step: executes and answers the requests read
   * before the drain, under the usual --max-inflight and --max-output-buffer
   * backpressure (a paused connection can hold thousands), and reads again
   * (a connection stopped by --max-inflight included), so what waits in the
   * kernel is answered BUSY rather than discarded under a reset. Ends the
   * connection once its answers are written.
   */
  finishDrain(): void {
    if (this.#closing) return;
    this.#held = false;
    this.#finishing = true;
    // Paused by --max-inflight, it is resumed by #flushed as its answers reach the kernel
    // (and its drain ends a poll phase after that).
    if (!this.#paused || this.#unflushed < this.#host.maxInflight) this.#resume();
    this.#pump();
  }

  /** Closes the connection for `cause`, counted and logged at warn. */
  disconnect(cause: DisconnectCause, reason: string): void {
    if (this.#socket.destroyed) return;
    this.#closing = true;
    this.#host.countDisconnect(cause);
    this.#host.logger.warn({ remote: this.remote, cause, reason }, 'closing connection');
    this.#socket.destroy();
    this.#release(this.#outputHeld); // freed now: the server's output total must drop before its next check
  }

  /** Destroys the socket at once (shutdown timeout). */
  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
    this.#release(this.#outputHeld);
  }
}
