import type { Socket } from 'node:net';
import { RespParser, RespProtocolError, type RespLimits } from '../../protocol/resp-parser.js';
import { RespWriter } from '../../protocol/resp-writer.js';
import type { Logger } from '../../config/logger.js';
import type { Store } from '../../store/store.js';
import { Deadlines } from '../deadlines.js';
import type { ConnectionTimeouts, DisconnectCause } from '../connection-host.js';
import { readBuffers } from '../read-buffers.js';
import { runCommand } from './commands.js';
import type { Rights } from '../access/rights.js';
import type { RespContext, RespIdentity, RespServerView, RespSession } from './resp-context.js';

/**
 * One RESP client connection (docs/RESP.md): bytes → {@link RespParser} →
 * `runCommand` → {@link RespWriter} → one write per turn. Built like the Conduit
 * port's connection (../connection.ts): a named phase, every event-loop entry
 * guarded, a 2 ms turn budget, deadlines swept by the server, and the graceful drain.
 *
 * @module
 */

/** The same turn budget as the Conduit port (../connection.ts TURN_BUDGET_MS, issue 15 item 5). */
const TURN_BUDGET_MS = 2;

/**
 * A command being received counts against the server's input budget (ConnectionHost.assembling)
 * for its bytes past this: ordinary commands never touch the shared budget, while a thousand
 * clients each sending half of a 64 MiB SET cannot make the server hold 32 GB.
 */
const UNCHARGED_INPUT = 64 * 1024;

/** What a peer over the input budget is told before the connection ends (then closed, as a protocol error). */
export const INPUT_BUDGET_ERROR = 'ERR server input budget exhausted: too many large commands are being received at once, retry later';

/** What a command read after a graceful shutdown began gets (then the connection ends). */
export const SHUTTING_DOWN_ERROR = 'ERR server is shutting down';

/** CLIENT ID: unique within the process, from 1, whichever server or listener accepted the connection. */
let lastClientId = 0;

/**
 * What a {@link RespConnection} needs from its server (resp-front.ts builds it).
 *
 * @example
 * ```ts
 * const host: RespConnectionHost = { store, view, limits: respLimits(o.maxValueSize), maxOutputBuffer: o.maxOutputBuffer, logger, … };
 * ```
 */
export interface RespConnectionHost {
  readonly store: Store;
  readonly view: RespServerView;
  /** Who the connection is before any AUTH (issue 25): a TLS client certificate's rights, or none (every right). */
  readonly identity: RespIdentity;
  readonly limits: RespLimits;
  /** Unwritten output past which the connection is closed; reading stops over a quarter of it. */
  readonly maxOutputBuffer: number;
  readonly logger: Logger;
  /** One command executed (`total_commands_processed`). */
  countRequest(): void;
  /** A connection the server closed, and why. */
  countDisconnect(cause: DisconnectCause): void;
  /** Output held (written, not yet taken by the kernel) changed by `delta` bytes (--max-output-memory). */
  outputHeld(delta: number): void;
  /** Bytes of large commands being received change by `delta`; for a positive one, whether they are admitted. */
  assembling(delta: number): boolean;
  /** Called once when the socket has closed. */
  released(connection: RespConnection): void;
}

/**
 * Where a connection is in its life (the Conduit port's phases, ../connection.ts):
 *
 * ```text
 *   open ──drain()──▶ held ──finishDrain()──▶ draining ──a poll phase later──▶ drained
 *    │                                          ▲                                │
 *    │                                          └────── reading resumed ─────────┘
 *    └─ (open, draining, drained) a protocol error, QUIT, or all answered after the
 *       peer's FIN or once drained ──▶ ended ──the peer closes, or frame timeout──▶ closed
 *   any ──socket closed, disconnect(), destroy(), a bug, a 'drop' command──▶ closed
 * ```
 *
 * `held`, `draining`, `drained`: graceful shutdown; a command that ends past the bytes read
 * before the drain gets {@link SHUTTING_DOWN_ERROR} and the connection ends. `ended`: our
 * side is ended; the peer's bytes are read and dropped until it ends its own.
 */
type Phase = 'open' | 'held' | 'draining' | 'drained' | 'ended' | 'closed';

/**
 * Whether the socket is read. `paused`: the unwritten output is over a quarter of
 * --max-output-buffer (a client that does not read), or held by the drain; `yielded`:
 * the turn's budget is spent, with #continue scheduled.
 */
type Intake = 'reading' | 'paused' | 'yielded';

/**
 * One RESP connection. Commands are executed in order and their replies written
 * once per turn; it stops reading while its unwritten output is over a quarter of
 * `maxOutputBuffer` and is closed when a reply makes that output pass the whole of
 * it. A protocol error is answered (`-ERR Protocol error: …`), then our side ends.
 * The server's sweep calls {@link RespConnection.checkTimeouts}.
 *
 * @example
 * ```ts
 * respListener.on('connection', (socket) => connections.add(new RespConnection(socket, host)));
 * setInterval(() => { for (const c of connections) c.checkTimeouts(performance.now(), options); }, 250);
 * ```
 */
export class RespConnection {
  readonly #socket: Socket;
  readonly #host: RespConnectionHost;
  readonly #parser: RespParser;
  readonly #out = new RespWriter();
  readonly #context: RespContext;
  readonly #deadlines = new Deadlines();
  #phase: Phase = 'open';
  #intake: Intake = 'reading';
  /** The peer sent FIN: answer what is buffered, then end (it can come in any phase). */
  #peerEnded = false;
  /** Graceful shutdown: bytes read before the drain and not yet parsed; a command ending past them is refused. */
  #unreadAtDrain = 0;
  /** Tells the latest #resume's immediate from earlier ones. */
  #resumes = 0;
  /** Bytes written and not yet taken by the kernel (--max-output-memory). */
  #heldBytes = 0;
  /** Bytes of the command being received charged to the server's input budget. */
  #charged = 0;

  constructor(socket: Socket, host: RespConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    this.#parser = new RespParser(host.limits);
    const session: RespSession = {
      protocol: 2,
      id: ++lastClientId,
      name: undefined,
      libName: undefined,
      libVersion: undefined,
      authenticated: !host.view.authRequired,
      remote: this.remote,
      ...host.identity,
    };
    this.#context = { store: host.store, session, server: host.view };
    socket.setNoDelay(true);
    // An exception escaping a socket handler would end the process and the whole cache with it:
    // every entry point from the event loop goes through #guard.
    socket.on('data', (chunk: Buffer) => this.#guard(() => this.#onData(chunk)));
    socket.on('end', () => this.#guard(this.#onEnd));
    // ECONNRESET and EPIPE are normal; an unhandled 'error' would kill the process.
    socket.on('error', (err: NodeJS.ErrnoException) => host.logger.debug({ code: err.code, remote: this.remote }, 'socket error'));
    socket.on('close', () => {
      // A peer that reset or vanished gets no replies: what it left buffered is not executed.
      this.#phase = 'closed';
      this.#out.clear();
      this.#release(this.#heldBytes);
      this.#charge(0);
      host.released(this);
    });
  }

  /** CLIENT ID of this connection. */
  get id(): number {
    return this.#context.session.id;
  }

  /** Issue 25: the rights the session authenticated with (AUTH, or a client certificate); `undefined`: every right. */
  get rights(): Rights | undefined {
    return this.#context.session.rights;
  }

  /** The credential digest of {@link rights}, so a reload that removes it closes this session. */
  get credential(): string | undefined {
    return this.#context.session.credential;
  }

  /** Bytes of output this connection holds: written and not yet taken by the kernel. */
  get outputHeld(): number {
    return this.#heldBytes;
  }

  /** The peer's address, for logs: `ip:port` or `unix socket`. */
  get remote(): string {
    const s = this.#socket;
    return s.remoteAddress === undefined ? 'unix socket' : `${s.remoteAddress}:${s.remotePort ?? 0}`;
  }

  /** Our side has ended or the socket is closed: nothing more is executed or answered. */
  get #closing(): boolean {
    return this.#phase === 'ended' || this.#phase === 'closed';
  }

  /**
   * Closes the connection if it is past its handshake (not authenticated), frame, idle or linger deadline at `now`
   * (`performance.now()` ms), and gives back its idle reply buffer: the server calls it for
   * every connection every 250 ms.
   *
   * @example
   * ```ts
   * connection.checkTimeouts(performance.now(), { frameTimeoutMs: 10_000, idleTimeoutMs: 0, handshakeTimeoutMs: 5_000 });
   * ```
   */
  checkTimeouts(now: number, limits: ConnectionTimeouts): void {
    if (this.#phase === 'closed') return;
    // Between turns nothing is queued: the reply buffer goes back, so idle connections hold none
    // (here rather than after each write, which would allocate a fresh one every turn).
    this.#out.release();
    // With --resp-password, a peer that has not authenticated within --handshake-timeout is closed
    // as the Conduit port closes one without HELLO: it must not hold a --max-connections slot forever.
    const state = this.#phase === 'ended' ? 'ended' : this.#context.session.authenticated ? 'open' : 'awaiting_hello';
    const expiry = this.#deadlines.expired(now, limits, state);
    if (expiry === 'linger') this.destroy();
    else if (expiry !== undefined) this.disconnect(expiry.cause, expiry.reason);
  }

  #onData(chunk: Buffer): void {
    readBuffers.note(chunk.length); // dead read buffers collected early (read-buffers.ts)
    // Once our side has ended the bytes are read only so the peer's end is seen (no reset), and dropped.
    if (this.#closing) return;
    this.#deadlines.active();
    this.#parser.push(chunk);
    if (this.#intake !== 'yielded') this.#pump(); // else #continue runs what is buffered, in its turn
  }

  /** The output budget of one turn: past it, reading stops until the kernel takes some. */
  get #pauseAt(): number {
    return Math.floor(this.#host.maxOutputBuffer / 4);
  }

  /**
   * Parses and runs buffered commands. Over a quarter of --max-output-buffer (queued, or
   * written and not yet taken by the kernel) the replies are written and, if the kernel does
   * not take them at once, reading and running stop until it does (#flushed): a client that
   * never reads holds at most a quarter of the bound plus one reply.
   */
  #pump(): void {
    const started = performance.now();
    const parser = this.#parser;
    const out = this.#out;
    let taken = 0;
    while (!this.#closing) {
      if (out.length + this.#heldBytes > this.#pauseAt) {
        this.#flush();
        if (this.#heldBytes > this.#pauseAt) {
          this.#pauseForOutput();
          break;
        }
      }
      // Redis 7.0: before AUTH, no array over 10 elements nor bulk over 16 KiB (resp-parser.ts).
      parser.unauthenticated = !this.#context.session.authenticated;
      const item = parser.take(); // its args are views until the next take(): run before it
      if (item === undefined) break;
      if (item instanceof RespProtocolError) return this.#fatal(`ERR ${item.message}`, item.message);
      taken += 1;
      if (this.#phase !== 'open') {
        this.#unreadAtDrain -= item.bytes;
        if (this.#unreadAtDrain < 0) return this.#refuseAfterDrain();
      }
      this.#host.countRequest();
      const after = runCommand(item.args, this.#context, out);
      if (after === 'drop') return this.#drop(item.args[0]);
      if (after === 'close') return this.#quit();
      if (out.length + this.#heldBytes > this.#host.maxOutputBuffer) {
        return this.disconnect('output_buffer', `unwritten output of ${out.length + this.#heldBytes} bytes exceeds --max-output-buffer`);
      }
      if (parser.buffered > 0 && performance.now() - started >= TURN_BUDGET_MS) {
        this.#yield();
        break;
      }
    }
    if (this.#closing) return;
    this.#flush();
    if (!this.#chargeInput()) return;
    this.#deadlines.framePending(parser.midCommand, this.#intake === 'reading', taken);
    this.#finishIfDone();
  }

  /**
   * Charges the command being received to the server's input budget for its bytes past
   * UNCHARGED_INPUT; false when refused (the connection ends) or closed.
   */
  #chargeInput(): boolean {
    const pending = this.#parser.midCommand ? Math.max(0, this.#parser.pendingBytes - UNCHARGED_INPUT) : 0;
    if (this.#charge(pending)) return true;
    this.#fatal(INPUT_BUDGET_ERROR, 'server input budget exhausted');
    return false;
  }

  /** Sets this connection's charge to `bytes`; false when the server refuses the increase. */
  #charge(bytes: number): boolean {
    const delta = bytes - this.#charged;
    if (delta === 0) return true;
    if (delta > 0 && !this.#host.assembling(delta)) {
      this.#host.assembling(-this.#charged);
      this.#charged = 0;
      return false;
    }
    if (delta < 0) this.#host.assembling(delta);
    this.#charged = bytes;
    return true;
  }

  /** Stops reading until the kernel takes the output (#flushed resumes). */
  #pauseForOutput(): void {
    if (this.#intake === 'reading') this.#socket.pause();
    this.#intake = 'paused';
  }

  /** Writes this turn's replies in one write. */
  #flush(): void {
    const socket = this.#socket;
    if (this.#out.length === 0) return;
    if (socket.destroyed) {
      this.#out.clear();
      return;
    }
    const data = this.#out.take();
    this.#heldBytes += data.length;
    this.#host.outputHeld(data.length);
    socket.write(data, () => this.#guard(() => this.#flushed(data.length)));
  }

  /** The kernel took a write: its bytes are released, and reading may go on. */
  #flushed(bytes: number): void {
    this.#release(bytes);
    this.#deadlines.active(); // a client that reads its replies is not idle
    if (this.#intake === 'paused' && this.#phase !== 'held' && !this.#closing && this.#heldBytes <= this.#pauseAt) {
      this.#resume();
      this.#pump();
    } else {
      this.#finishIfDone();
    }
  }

  #release(bytes: number): void {
    const n = Math.min(bytes, this.#heldBytes); // after a disconnect, late write callbacks release nothing
    if (n <= 0) return;
    this.#heldBytes -= n;
    this.#host.outputHeld(-n);
  }

  /** The turn's budget is spent: stop reading and go on in a later turn. */
  #yield(): void {
    if (this.#intake === 'yielded') return;
    if (this.#intake === 'reading') this.#socket.pause();
    this.#intake = 'yielded';
    setImmediate(this.#continue);
  }

  /** A later turn: runs what is buffered under a fresh budget, and reads again unless the output is over its quarter. */
  readonly #continue = (): void =>
    this.#guard(() => {
      if (this.#intake === 'yielded') this.#intake = 'paused'; // the socket is still paused
      if (this.#closing || this.#phase === 'held') return; // finishDrain() takes over
      if (this.#heldBytes <= this.#pauseAt) this.#resume();
      this.#pump();
    });

  /**
   * Reads again. While finishing a drain the connection may end only after the next poll
   * phase has read what waits in the kernel (an immediate runs after it).
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
        if (this.#intake !== 'yielded') this.#pump();
      }),
    );
  }

  /**
   * Answers the error `reply` (without its `-`) after what came before, then ends our side
   * (Redis closes after a protocol error: the stream cannot be resynchronised). `reason` is logged.
   */
  #fatal(reply: string, reason: string): void {
    this.#out.error(reply);
    this.#host.countDisconnect('protocol_error');
    this.#host.logger.warn({ remote: this.remote, reason }, 'closing RESP connection: protocol error');
    this.#flush();
    this.#end();
  }

  /** QUIT: its `+OK` (queued) and what came before are written, then our side ends. */
  #quit(): void {
    this.#flush();
    this.#end();
  }

  /** A command that ends past the bytes read before the drain: refused, then the connection ends. */
  #refuseAfterDrain(): void {
    this.#out.error(SHUTTING_DOWN_ERROR);
    this.#flush();
    this.#end();
  }

  /** `Host:` or `POST` as a command: an HTTP request sent to the RESP port (cross-protocol scripting), closed unanswered. */
  #drop(name: Buffer | undefined): void {
    this.#out.clear();
    this.disconnect('protocol_error', `'${(name ?? Buffer.alloc(0)).toString('latin1', 0, 16)}' as a command: an HTTP request, not RESP`);
  }

  /**
   * Ends our side of the stream. Reading goes on (and discards, see #onData) until the peer
   * ends its side: closing with unread bytes would reset the connection and could destroy
   * replies the peer has not read yet.
   */
  #end(): void {
    this.#charge(0);
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
    this.#host.logger.error({ err, remote: this.remote }, 'RESP connection failed: internal error');
    if (this.#socket.destroyed) return;
    this.#phase = 'closed';
    this.#host.countDisconnect('internal');
    this.#socket.destroy();
  }

  /** Ends our side once the peer has ended or the drain is over, every command read is answered, and the output is flushed. */
  #finishIfDone(): void {
    if (this.#closing || !(this.#peerEnded || this.#phase === 'drained') || this.#intake !== 'reading' || this.#heldBytes > 0) return;
    if (this.#phase === 'drained' && this.#parser.buffered > 0) {
      // A command begun after the drain: the peer is told why no reply comes.
      this.#refuseAfterDrain();
      return;
    }
    if (this.#peerEnded && this.#parser.midCommand) {
      this.#host.logger.debug({ remote: this.remote }, 'RESP client ended mid-command');
    }
    this.#end();
  }

  /**
   * Graceful shutdown, first step: holds reading until {@link finishDrain}, so the server's
   * turns stay short while it accepts its backlog.
   *
   * @example
   * ```ts
   * connection.drain(); // … once the listeners are closed:
   * connection.finishDrain();
   * ```
   */
  drain(): void {
    if (this.#closing) return;
    this.#unreadAtDrain = this.#parser.buffered;
    this.#phase = 'held';
    if (this.#intake === 'reading') {
      this.#intake = 'paused';
      this.#socket.pause();
    }
  }

  /**
   * Graceful shutdown, second step: runs and answers the commands read before the drain,
   * reads again so a command waiting in the kernel gets {@link SHUTTING_DOWN_ERROR} rather
   * than a reset, and ends the connection once its replies are written.
   */
  finishDrain(): void {
    if (this.#closing) return;
    if (this.#phase === 'open') this.drain();
    this.#phase = 'draining';
    if (this.#intake === 'reading' || this.#heldBytes <= this.#pauseAt) this.#resume();
    this.#pump();
  }

  /** Closes the connection for `cause`, counted and logged at warn. */
  disconnect(cause: DisconnectCause, reason: string): void {
    if (this.#socket.destroyed) return;
    this.#phase = 'closed';
    this.#host.countDisconnect(cause);
    this.#host.logger.warn({ remote: this.remote, cause, reason }, 'closing RESP connection');
    this.#socket.destroy();
    this.#out.clear();
    this.#release(this.#heldBytes); // freed now: the server's output total must drop before its next check
  }

  /** Destroys the socket at once (shutdown timeout, or a peer that does not close). */
  destroy(): void {
    this.#phase = 'closed';
    this.#socket.destroy();
    this.#out.clear();
    this.#release(this.#heldBytes);
  }
}
