import { isIP, connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { finishHello, generateEphemeral, OPTION_ENVELOPES, type SecureSession } from '../crypto/handshake.js';
import type { FrameCipher } from '../crypto/frame-cipher.js';
import { helloFrame, openFrameInPlace } from '../crypto/secure-channel.js';
import { ConduitError, ProtocolError } from '../protocol/errors.js';
import { FIRST_ENVELOPE_ID, HEADER_SIZE, isFatalStatus, MORE, SEALED, SERVER_ID_BASE, Status } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { EnvelopeReader } from '../protocol/envelope-reader.js';
import { FragmentAssembler } from '../protocol/fragments.js';
import { idOf, type Frame } from '../protocol/header.js';
import { decodeInvalidateBody, type Invalidation } from '../protocol/tracking-body.js';
import type { FrameSink } from '../protocol/output-batch.js';
import type { ResolvedClientOptions } from './options.js';
import { statusError } from './commands.js';

/**
 * One client connection's lifecycle, below the request queue: connecting
 * (net or TLS, within connectTimeoutMs), the secure handshake (spec §6.2),
 * keepalive, decoding what arrives (opening it in a secure session, spec
 * §6.4) and the reconnect backoff. What to do about each event is the
 * client's decision: it is told through a {@link TransportHost}.
 *
 * @module
 */

/** TCP keepalive probes start after this much idle time, so a peer that vanished without a FIN is noticed. */
const KEEPALIVE_MS = 10_000;

/** What the transport tells the client. Called synchronously, from socket events. */
export interface TransportHost {
  /** The socket is up (TCP, or TLS after its handshake); a secure handshake may follow. */
  onConnect(): void;
  /** An attempt succeeded: the connection is attached and requests may be written. */
  onReady(): void;
  /** An attempt failed before the connection was attached; `isReconnect` as given to {@link Transport.open}. */
  onAttemptFailed(error: ConduitError, isReconnect: boolean): void;
  /** One response, opened in a secure session. Returns false when the client gave the connection up. */
  onResponse(frame: Frame): boolean;
  /** Every whole frame of a chunk was handed up. */
  onChunkRead(): void;
  /** The socket takes writes again after refusing them ('drain'). */
  onWritable(): void;
  /** The peer broke the protocol (spec §2.3, §4.2, §6.5): the connection must be given up with `error`. */
  onBroken(error: ConduitError): void;
  /** The attached connection is gone; `cause` is why. */
  onLost(cause: ConduitError): void;
  /** The reconnect delay has passed. */
  onReconnectDue(): void;
  /**
   * spec §3.15: whether this connection asked for tracking, so an INVALIDATE push is welcome; without
   * it (or when it says false) a push is what any server-originated non-error frame is, a violation.
   */
  acceptsPushes?(): boolean;
  /** An INVALIDATE push, opened and decoded (keys are views into the socket's bytes: copy to keep). Returns false when the client gave the connection up. */
  onPush?(invalidation: Invalidation): boolean;
}

/** A GETS answer's 8-byte version (spec §3.11): what an answer may carry beyond the value. */
const RESPONSE_OVERHEAD = 8;

/**
 * A response whose body the client owns: a message reassembled from
 * fragments (spec §2.4), allocated for it alone, so a value is handed to
 * the caller without another copy (a decoded frame's body is a view of
 * socket bytes that are reused).
 */
export type OwnedFrame = Frame & { readonly owned: true };

const broken = (message: string): ConduitError => new ConduitError('PROTOCOL_ERROR', `${message}; connection closed`);

/**
 * One connection at a time to the server of `options`, reconnected on
 * demand with exponential backoff and jitter.
 *
 * @example
 * ```ts
 * const transport = new Transport(resolveClientOptions({ port: 7171 }), host);
 * await transport.open(false); // host.onReady() has run
 * transport.sink?.write(frameBytes(VERSION_REQUEST, Opcode.HEALTH, 0n, undefined));
 * ```
 */
export class Transport {
  readonly #options: ResolvedClientOptions;
  readonly #host: TransportHost;
  #socket: Socket | undefined;
  #decoder: FrameDecoder | undefined;
  /** Secure mode: the session of the current connection. */
  #session: SecureSession | undefined;
  /** Secure mode: where a response's header is laid out to authenticate its body (no buffer per frame). */
  readonly #header = Buffer.allocUnsafe(HEADER_SIZE);
  /** Sealed envelopes (spec §6.7): the identifier the server's next one must carry, and their reader. */
  #nextEnvelope = FIRST_ENVELOPE_ID;
  readonly #envelope = new EnvelopeReader('response');
  /** Fragmented answers (spec §2.4) of the current connection, up to the maxValueSize option. */
  #assembler: FragmentAssembler | undefined;
  /** The socket refused a write: hold writes until 'drain'. */
  #blocked = false;
  /** The socket of a connection attempt not yet attached, so close() can stop it. */
  #attempting: Socket | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Reconnect attempts since the last connection was attached. */
  #attempt = 0;
  #closed = false;

  constructor(options: ResolvedClientOptions, host: TransportHost) {
    this.#options = options;
    this.#host = host;
  }

  /** A connection is attached (it may be refusing writes until 'drain'). */
  get connected(): boolean {
    return this.#socket !== undefined;
  }

  /** Where requests are written: the attached socket, unless it waits for 'drain'. */
  get sink(): FrameSink | undefined {
    return this.#blocked ? undefined : this.#socket;
  }

  /** Secure mode: what seals requests on the attached connection. */
  get sendCipher(): FrameCipher | undefined {
    return this.#session?.send;
  }

  /** Secure mode: the attached session agreed to sealed envelopes (spec §6.7); requests go in them. */
  get envelopes(): boolean {
    return this.#session?.envelopes === true;
  }

  /** The next attempt waits for its backoff delay. */
  get reconnectScheduled(): boolean {
    return this.#reconnectTimer !== undefined;
  }

  /** The socket refused a write (see {@link sink}). */
  hold(): void {
    this.#blocked = true;
  }

  /**
   * Opens one connection. Resolves once it is attached (after host.onReady)
   * or when a failed attempt was a reconnect; rejects with the failure
   * (after host.onAttemptFailed) otherwise. After {@link close}, an attempt
   * that ends either way resolves without telling the host.
   */
  open(isReconnect: boolean): Promise<void> {
    const o = this.#options;
    return new Promise<void>((resolve, reject) => {
      const where = o.socket !== undefined ? { path: o.socket } : { host: o.host, port: o.port };
      let socket: Socket;
      try {
        socket =
          o.tls === undefined
            ? netConnect(where)
            : tlsConnect({
                ...where,
                ...o.tls,
                // SNI carries host names only (RFC 6066 §3); an IP address is checked against the certificate without it.
                ...(o.tls.servername === undefined && o.socket === undefined && isIP(o.host) === 0 ? { servername: o.host } : {}),
              });
      } catch (err) {
        // e.g. a TLS certificate that does not match its key: fail like any connect error.
        socket = new Socket();
        queueMicrotask(() => socket.emit('error', err));
      }
      socket.setNoDelay(true);
      this.#attempting = socket;
      const timer = setTimeout(
        () => socket.destroy(new ConduitError('CONNECT_FAILED', `no connection within ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs,
      );
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        if (this.#attempting === socket) this.#attempting = undefined;
        if (this.#closed) return resolve();
        const error =
          err instanceof ConduitError
            ? err
            : new ConduitError('CONNECT_FAILED', `cannot connect to ${o.socket ?? `${o.host}:${o.port}`}: ${err.message}`);
        this.#host.onAttemptFailed(error, isReconnect);
        if (isReconnect) resolve();
        else reject(error);
      };
      socket.once('error', onError);
      socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => {
        this.#host.onConnect();
        const established = (session: SecureSession | undefined): void => {
          clearTimeout(timer);
          socket.off('error', onError);
          if (this.#attempting === socket) this.#attempting = undefined;
          if (this.#closed) {
            socket.destroy();
            return resolve();
          }
          this.#attach(socket, session);
          this.#attempt = 0;
          this.#host.onReady();
          resolve();
        };
        if (o.key === undefined) return established(undefined);
        this.#handshake(socket, o.key).then(established, (err: ConduitError) => socket.destroy(err));
      });
    });
  }

  /**
   * Secure mode (spec §6.2): sends HELLO (identifier 0) and checks the
   * server's key confirmation before any request is written, so a wrong key
   * fails here with AUTH_FAILED.
   */
  #handshake(socket: Socket, key: { id: string; secret: Buffer }): Promise<SecureSession> {
    const ephemeral = generateEphemeral();
    // spec §6.7: a protocol 1.1 HELLO asks for sealed envelopes; 'frames' sends 1.0's.
    const options = this.#options.sealing === 'envelopes' ? OPTION_ENVELOPES : undefined;
    return new Promise((resolve, reject) => {
      const decoder = new FrameDecoder({ direction: 'response' });
      const onData = (chunk: Buffer): void => {
        decoder.push(chunk);
        const frame = decoder.read();
        if (frame === undefined) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        if (frame instanceof ProtocolError) return reject(new ConduitError('AUTH_FAILED', `handshake reply is not a Conduit frame: ${frame.message}`));
        if (frame.opcode === Status.FORBIDDEN) return reject(new ConduitError('AUTH_FAILED', 'the server is not in secure mode, but a key was given'));
        if (frame.opcode !== Status.OK) return reject(statusError(frame));
        if (frame.id !== 0n) return reject(new ConduitError('AUTH_FAILED', `handshake reply has identifier ${frame.id}, not 0`));
        const session = finishHello(frame.body, 0n, ephemeral, key, options);
        if (session instanceof ConduitError) reject(session);
        else resolve(session);
      };
      const onClose = (): void => reject(new ConduitError('AUTH_FAILED', 'the server closed the connection during the handshake'));
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.write(helloFrame(key.id, ephemeral.publicKey, 0n, options));
    });
  }

  #attach(socket: Socket, session: SecureSession | undefined): void {
    this.#socket = socket;
    this.#session = session;
    this.#decoder = new FrameDecoder({ direction: 'response' });
    // A GETS answer carries an 8-byte version before the value (spec §3.11).
    this.#assembler = new FragmentAssembler(this.#options.maxValueSize + RESPONSE_OVERHEAD);
    this.#nextEnvelope = FIRST_ENVELOPE_ID;
    this.#blocked = false;
    // A peer that is gone without a FIN or RST (host down, cable cut) is found by keepalive; a
    // process that is alive but silent is found by the request timeouts (see RequestQueue#expire).
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('drain', () => {
      this.#blocked = false;
      this.#host.onWritable();
    });
    socket.on('error', () => {}); // 'close' follows; outstanding requests reject there
    socket.on('close', () => this.#lost(socket, new ConduitError('CONNECTION_LOST', 'the connection was lost')));
  }

  #onData(socket: Socket, chunk: Buffer): void {
    const decoder = this.#decoder;
    if (socket !== this.#socket || decoder === undefined) return;
    decoder.push(chunk);
    const host = this.#host;
    const session = this.#session;
    for (let next = decoder.read(); next !== undefined; next = decoder.read()) {
      if (next instanceof ProtocolError) return host.onBroken(broken(`undecodable response: ${next.message}`));
      if (session?.envelopes === true && next.opcode === SEALED) {
        if (!this.#openEnvelope(next, session)) return;
        continue;
      }
      if (!this.#receive(next, session)) return;
    }
    host.onChunkRead();
  }

  /**
   * One response frame, as decoded or read out of an envelope: checked (spec
   * §2.3, §4.2), opened when it was sealed alone, and handed to the host.
   * Returns false when the connection was given up.
   */
  #receive(next: Frame, session: SecureSession | undefined, sealed = session !== undefined): boolean {
    const host = this.#host;
    const status = next.opcode & ~MORE; // spec §2.4: bit 7 of a status byte is MORE
    if (next.id >= SERVER_ID_BASE && status === Status.INVALIDATE && host.acceptsPushes?.() === true) return this.#push(next, sealed ? session : undefined);
    if (next.id >= SERVER_ID_BASE && status < 0x40) {
      // spec §2.2, §4.2: the server originates only error frames (fatal ones, or the BUSY of a refused
      // connection); an OK or outcome frame there answers no request, so it is a violation (§2.3).
      host.onBroken(broken(`server-originated frame ${next.id} with status 0x${next.opcode.toString(16)}, which is not an error`));
      return false;
    }
    // spec §4.2, §6.5: a server-originated or fatal frame (always plaintext) ends the connection.
    if (next.id >= SERVER_ID_BASE || isFatalStatus(status)) {
      host.onBroken(statusError(next));
      return false;
    }
    const assembler = this.#assembler as FragmentAssembler;
    // Nearly every answer is one whole frame with no message in progress: it skips the assembler
    // and the identifier's split (two BigInt operations per answer).
    const whole = (next.opcode & MORE) === 0 && assembler.idle;
    const idHi = whole ? 0 : Number(next.id >> 32n);
    const idLo = whole ? 0 : Number(next.id & 0xffff_ffffn);
    let frame = next;
    if (sealed && session !== undefined) {
      // spec §6.4: a later fragment is sealed with its fragment number.
      const opened = openFrameInPlace(session.receive, next, this.#header, whole ? 0 : assembler.fragmentNumber(next.opcode, idHi, idLo));
      if (opened === undefined) {
        host.onBroken(new ConduitError('AUTH_FAILED', 'a response failed authentication; connection closed'));
        return false;
      }
      frame = opened;
    }
    if (whole) return host.onResponse(frame);
    const step = assembler.feed(frame.opcode, idHi, idLo, frame.body, 0, frame.length);
    if (step === 'frame') return host.onResponse(frame);
    if (step === 'more') return true;
    if (step === 'message') {
      const body = assembler.message;
      const whole: OwnedFrame = { version: frame.version, opcode: assembler.code, id: frame.id, length: body.length, body, owned: true };
      return host.onResponse(whole);
    }
    if (step === 'refused') {
      // spec §2.4: larger than this client takes: its request fails now, the rest is dropped unbuffered.
      const message = `a response of ${assembler.total} bytes exceeds the maxValueSize option (${this.#options.maxValueSize} bytes)`;
      const body = Buffer.from(message);
      return host.onResponse({ version: frame.version, opcode: Status.TOO_LARGE, id: frame.id, length: body.length, body });
    }
    host.onBroken(broken(`fragments that break spec §2.4: ${step.message}`));
    return false;
  }

  /**
   * An INVALIDATE push (spec §3.15) to a connection that turned tracking on: it answers no request, so
   * it settles nothing and response matching goes on as before (§2.3). Sealed alone in a per-frame
   * session (its nonce is p_s2c ‖ its server-originated identifier, §6.4), plaintext inside an opened
   * envelope. Never fragmented; a malformed one breaks the connection as any broken frame does.
   */
  #push(frame: Frame, session: SecureSession | undefined): boolean {
    const host = this.#host;
    if ((frame.opcode & MORE) !== 0) {
      host.onBroken(broken(`an INVALIDATE push ${frame.id} marked MORE: pushes are never fragmented (spec §3.15)`));
      return false;
    }
    let opened = frame;
    if (session !== undefined) {
      const plain = openFrameInPlace(session.receive, frame, this.#header);
      if (plain === undefined) {
        host.onBroken(new ConduitError('AUTH_FAILED', 'an INVALIDATE push failed authentication; connection closed'));
        return false;
      }
      opened = plain;
    }
    const invalidation = decodeInvalidateBody(opened.body.subarray(0, opened.length));
    if (invalidation instanceof ProtocolError) {
      host.onBroken(broken(`malformed INVALIDATE push ${frame.id}: ${invalidation.message}`));
      return false;
    }
    return host.onPush?.(invalidation) ?? true;
  }

  /**
   * A sealed envelope (spec §6.7): the next envelope identifier, opened in
   * place, then each response in it, in order. Returns false when the
   * connection was given up.
   */
  #openEnvelope(envelope: Frame, session: SecureSession): boolean {
    const host = this.#host;
    if (envelope.id !== this.#nextEnvelope) {
      host.onBroken(broken(`envelope ${envelope.id} is not the next one, ${this.#nextEnvelope}`));
      return false;
    }
    const opened = openFrameInPlace(session.receive, envelope, this.#header);
    if (opened === undefined) {
      host.onBroken(new ConduitError('AUTH_FAILED', 'an envelope of responses failed authentication; connection closed'));
      return false;
    }
    this.#nextEnvelope += 1n;
    const reader = this.#envelope;
    reader.load(opened.body, 0, opened.length);
    for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
      if (inner instanceof ProtocolError) {
        host.onBroken(broken(`malformed envelope of responses: ${inner.message}`));
        return false;
      }
      const frame: Frame = { version: inner.version, opcode: inner.opcode, length: inner.length, id: idOf(inner), body: inner.body };
      if (frame.opcode === SEALED) {
        host.onBroken(broken('an envelope inside an envelope'));
        return false;
      }
      if (!this.#receive(frame, session, false)) return false;
    }
    return true;
  }

  /**
   * Gives the attached connection up at once (host.onLost runs with
   * `cause`): a request made before the socket's 'close' event must not be
   * written to a connection already given up.
   */
  drop(cause: ConduitError): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    socket.destroy();
    this.#lost(socket, cause);
  }

  #lost(socket: Socket, cause: ConduitError): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#decoder = undefined;
    this.#assembler = undefined;
    this.#session = undefined;
    this.#host.onLost(cause);
  }

  /**
   * The next reconnect attempt's number and delay (exponential backoff with
   * jitter), or `undefined` when the reconnect options allow no more
   * attempts; the count then starts again.
   */
  backoff(): { attempt: number; delayMs: number } | undefined {
    const r = this.#options.reconnect;
    if (r === false || this.#attempt >= r.maxAttempts) {
      this.#attempt = 0;
      return undefined;
    }
    this.#attempt += 1;
    const ceiling = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (this.#attempt - 1));
    const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // jitter: [½, 1] × the backoff
    return { attempt: this.#attempt, delayMs };
  }

  /** Calls host.onReconnectDue after `delayMs`, unless {@link cancelReconnect} or {@link close} comes first. */
  reconnectAfter(delayMs: number): void {
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#host.onReconnectDue();
    }, delayMs);
  }

  cancelReconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  /** Ends the attached connection once what was written is sent (FIN); its 'close' then reports it lost. */
  end(): void {
    this.#socket?.end();
  }

  /** Destroys the attached connection; its 'close' then reports it lost. */
  destroy(): void {
    this.#socket?.destroy();
  }

  /** For good: stops an attempt under way and a pending reconnect, and destroys the connection. */
  close(): void {
    this.#closed = true;
    this.#attempting?.destroy();
    this.#attempting = undefined;
    this.cancelReconnect();
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}
