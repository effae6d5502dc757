import { EventEmitter } from 'node:events';
import { isIP, connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import Denque from 'denque';
import { encodeHello, finishHello, generateEphemeral, type SecureSession } from '../crypto/handshake.js';
import { TAG_SIZE } from '../crypto/frame-cipher.js';
import { ConduitError, ProtocolError, type ConduitErrorCode } from '../protocol/errors.js';
import { HEADER_SIZE, isFatalStatus, MAX_BODY_SIZE, Opcode, SERVER_ID_BASE, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../protocol/constants.js';
import { writeHeader } from '../protocol/header.js';
import { FrameDecoder } from '../protocol/decoder.js';
import type { Frame } from '../protocol/header.js';
import { decodeI64, decodeListBody, encodeRequest, type Request } from '../protocol/messages.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';

/** A key or value: strings are sent as UTF-8, bytes as they are. */
export type Bytes = string | Buffer | Uint8Array;

/** Options of {@link ConduitClient.set} (spec §3.3). */
export interface SetOptions {
  /** Expire after this many ms (0 or absent: no expiry; a plain SET removes an existing one). */
  ttlMs?: number;
  /** Store only if the key is absent. */
  nx?: boolean;
  /** Store only if the key is present. */
  xx?: boolean;
  /** Keep the key's current expiry. */
  keepTtl?: boolean;
}

/** What {@link ConduitClient.list} returns. */
export interface ListReply {
  /** Matching keys, in no particular order. */
  keys: Buffer[];
  /** True when more keys matched than were returned. */
  truncated: boolean;
}

/** A request on its way: encoded once at call time, its identifier patched in when written. */
interface Pending {
  readonly parts: Buffer[];
  readonly decode: (frame: Frame) => unknown;
  readonly resolve: (value: never) => void;
  readonly reject: (error: ConduitError) => void;
  readonly deadline: number;
  id: bigint;
  /** Settled already (timed out): its late response is discarded. */
  settled: boolean;
}

type State = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

const SWEEP_MS = 10;
const JOIN_LIMIT = 64 * 1024;
/** TCP keepalive probes start after this much idle time, so a peer that vanished without a FIN is noticed. */
const KEEPALIVE_MS = 10_000;

function bytes(value: Bytes, what: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length);
  throw new TypeError(`${what} must be a string, Buffer or Uint8Array`);
}

function failure(code: ConduitErrorCode, message: string): ConduitError {
  return new ConduitError(code, message);
}

/** Turns a non-OK response into the error it stands for (spec §4). */
function statusError(frame: Frame): ConduitError {
  return ConduitError.fromStatus(frame.opcode, frame.body.toString('utf8'));
}

/** Decoders of OK bodies; `absent` is the status that means "no such key" (or NX/XX refused) for the op. */
function outcome<T>(ok: (frame: Frame) => T, absent?: { status: number; value: T }): (frame: Frame) => T {
  return (frame) => {
    if (frame.opcode === Status.OK) return ok(frame);
    if (absent !== undefined && frame.opcode === absent.status) return absent.value;
    throw statusError(frame);
  };
}

function i64(frame: Frame): bigint {
  const value = decodeI64(frame.body);
  if (value instanceof ProtocolError) throw failure('PROTOCOL_ERROR', value.message);
  return value;
}

/** spec §5.2: STATS answers a JSON object; anything else is undecodable (PROTOCOL_ERROR). */
function statsObject(frame: Frame): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.body.toString('utf8'));
  } catch (err) {
    throw failure('PROTOCOL_ERROR', `STATS answer is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw failure('PROTOCOL_ERROR', 'STATS answer is not a JSON object');
  return value as Record<string, unknown>;
}

const asTrue = (): boolean => true;
const asVoid = (): undefined => undefined;

/**
 * The bundled Conduit client: pipelined, bounded, and honest about failure.
 *
 * - Requests are written as soon as they are made, every request of one
 *   tick in one socket write; identifiers come from a per-connection counter.
 * - Responses arrive in request order (spec §2.3), so each settles the oldest
 *   outstanding request; any other identifier (a duplicate answer included),
 *   or an answer whose body does not decode, is a protocol violation: the
 *   connection is closed and what was outstanding rejects `PROTOCOL_ERROR`
 *   (with nothing outstanding, the `reconnecting` or `error` event says so).
 * - Every promise settles: with its result, a {@link ConduitError} from the
 *   server (`code` as in spec §4), or `TIMEOUT` / `QUEUE_FULL` /
 *   `CONNECTION_LOST` / `CLOSED`. A late response after a timeout is
 *   discarded, never given to the next caller.
 * - A server that stops answering while TCP stays up does not wedge it: a
 *   connection on which every in-flight request timed out, or
 *   `maxSilentTimeouts` (3) timed out in a row with no response between,
 *   is given up and reconnected; what was still in flight rejects
 *   `CONNECTION_LOST`. TCP keepalive finds peers gone without a FIN.
 * - Memory is bounded: at most `maxInflight` requests written and
 *   `maxQueued` waiting; it never writes more than the socket accepts.
 * - After a lost connection it reconnects in the background (exponential
 *   backoff with jitter). Nothing is retried: a request that was written
 *   when the connection broke rejects `CONNECTION_LOST`, and it may or may
 *   not have been executed (a SET may have been applied).
 *
 * Events: `connect` (socket up), `ready` (requests flow), `reconnecting`
 * (`{ attempt, delayMs }`), `close` (closed for good), and `error` for
 * connection failures that no caller was told of. `error` is only emitted
 * when it has a listener, so a cache outage never crashes the process.
 *
 * @example
 * ```ts
 * const client = new ConduitClient({ host: '127.0.0.1', port: 7171 });
 * await client.connect();
 * await client.set('greeting', 'hello', { ttlMs: 60_000 });
 * console.log(await client.getString('greeting')); // 'hello'
 * await client.close();
 * ```
 */
export class ConduitClient extends EventEmitter {
  readonly #options: ResolvedClientOptions;
  readonly #queued = new Denque<Pending>();
  readonly #inflight = new Denque<Pending>();
  #state: State = 'idle';
  #socket: Socket | undefined;
  #decoder: FrameDecoder | undefined;
  /** Secure mode: the session of the current connection. */
  #session: SecureSession | undefined;
  #nextId = 0n;
  #blocked = false;
  #flushScheduled = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  /** In-flight requests that timed out since the last response arrived on this connection. */
  #silentTimeouts = 0;
  #connecting: Promise<void> | undefined;
  /** The socket of a connection attempt not yet attached, so close() and destroy() can stop it. */
  #attempting: Socket | undefined;
  #closed: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.#options = resolveClientOptions(options);
  }

  /** Requests written and awaiting a response, and requests waiting to be written. */
  get pending(): { inflight: number; queued: number } {
    return { inflight: this.#inflight.length, queued: this.#queued.length };
  }

  /**
   * Connects (once); resolves when requests can flow, rejects with
   * `CONNECT_FAILED` when the server cannot be reached within
   * `connectTimeoutMs`. Requests made before it connect on their own.
   *
   * @example
   * ```ts
   * await client.connect();
   * ```
   */
  connect(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(failure('CLOSED', 'the client is closed'));
    }
    this.#connecting ??= this.#open(false);
    return this.#connecting;
  }

  /** Opens one connection; on failure, either rejects (first connect) or schedules the next attempt. */
  #open(isReconnect: boolean): Promise<void> {
    this.#state = isReconnect ? 'reconnecting' : 'connecting';
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
      const timer = setTimeout(() => socket.destroy(failure('CONNECT_FAILED', `no connection within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        if (this.#attempting === socket) this.#attempting = undefined;
        this.#connecting = undefined;
        if (this.#state === 'closed') return resolve();
        const error =
          err instanceof ConduitError
            ? err
            : failure('CONNECT_FAILED', `cannot connect to ${o.socket ?? `${o.host}:${o.port}`}: ${err.message}`);
        if (this.#state === 'closing') {
          // close() came while this attempt was under way: nothing will be sent any more.
          this.#finishClose();
          return isReconnect ? resolve() : reject(error);
        }
        if (isReconnect) {
          this.#scheduleReconnect(error);
          resolve();
        } else {
          if (this.#state === 'connecting') this.#state = 'idle';
          this.#rejectAll(this.#queued, error);
          reject(error);
        }
      };
      socket.once('error', onError);
      socket.once(o.tls === undefined ? 'connect' : 'secureConnect', () => {
        this.emit('connect');
        const established = (session: SecureSession | undefined): void => {
          clearTimeout(timer);
          socket.off('error', onError);
          if (this.#attempting === socket) this.#attempting = undefined;
          this.#connecting = undefined;
          if (this.#state === 'closed') {
            socket.destroy();
            return resolve();
          }
          this.#attach(socket, session);
          this.#state = this.#closeResolve !== undefined ? 'closing' : 'ready';
          this.#attempt = 0;
          this.emit('ready');
          if (this.#queued.length === 0) this.#settledAll(); // a close() that came while connecting ends now
          else this.#scheduleFlush();
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
    const body = encodeHello(key.id, ephemeral.publicKey);
    const hello = Buffer.allocUnsafe(HEADER_SIZE + body.length);
    writeHeader(hello, 0, VERSION_REQUEST, Opcode.HELLO, body.length, 0n);
    body.copy(hello, HEADER_SIZE);
    return new Promise((resolve, reject) => {
      const decoder = new FrameDecoder({ direction: 'response' });
      const onData = (chunk: Buffer): void => {
        decoder.push(chunk);
        const frame = decoder.read();
        if (frame === undefined) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        if (frame instanceof ProtocolError) return reject(failure('AUTH_FAILED', `handshake reply is not a Conduit frame: ${frame.message}`));
        if (frame.opcode === Status.FORBIDDEN) return reject(failure('AUTH_FAILED', 'the server is not in secure mode, but a key was given'));
        if (frame.opcode !== Status.OK) return reject(statusError(frame));
        if (frame.id !== 0n) return reject(failure('AUTH_FAILED', `handshake reply has identifier ${frame.id}, not 0`));
        const session = finishHello(frame.body, 0n, ephemeral, key);
        if (session instanceof ConduitError) reject(session);
        else resolve(session);
      };
      const onClose = (): void => reject(failure('AUTH_FAILED', 'the server closed the connection during the handshake'));
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.write(hello);
    });
  }

  #attach(socket: Socket, session: SecureSession | undefined): void {
    this.#socket = socket;
    this.#session = session;
    this.#decoder = new FrameDecoder({ direction: 'response' });
    this.#nextId = session === undefined ? 0n : 1n; // HELLO used identifier 0
    this.#blocked = false;
    this.#silentTimeouts = 0;
    // A peer that is gone without a FIN or RST (host down, cable cut) is found by keepalive; a
    // process that is alive but silent is found by the timeouts (see #sweep).
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('drain', () => {
      this.#blocked = false;
      this.#flush();
    });
    socket.on('error', () => {}); // 'close' follows; outstanding requests reject there
    socket.on('close', () => this.#onClose(socket));
  }

  #onData(socket: Socket, chunk: Buffer): void {
    const decoder = this.#decoder;
    if (socket !== this.#socket || decoder === undefined) return;
    decoder.push(chunk);
    for (let next = decoder.read(); next !== undefined; next = decoder.read()) {
      if (next instanceof ProtocolError) return this.#violation(`undecodable response: ${next.message}`);
      let item = next;
      this.#silentTimeouts = 0; // the peer answers
      if (item.id >= SERVER_ID_BASE && item.opcode < 0x40) {
        // spec §2.2, §4.2: the server originates only error frames (fatal ones, or the BUSY of a refused
        // connection); an OK or outcome frame there answers no request, so it is a violation (§2.3).
        return this.#violation(`server-originated frame ${item.id} with status 0x${item.opcode.toString(16)}, which is not an error`);
      }
      if (item.id >= SERVER_ID_BASE || isFatalStatus(item.opcode)) {
        // spec §4.2, §6.5: a server-originated or fatal frame (always plaintext) ends the connection.
        return this.#dropConnection(statusError(item));
      }
      if (this.#session !== undefined) {
        const header = Buffer.allocUnsafe(HEADER_SIZE);
        writeHeader(header, 0, VERSION_RESPONSE, item.opcode, item.length, item.id);
        const plaintext = this.#session.receive.open(header, item.body);
        if (plaintext === undefined) {
          return this.#dropConnection(failure('AUTH_FAILED', 'a response failed authentication; connection closed'));
        }
        item = { ...item, length: plaintext.length, body: plaintext };
      }
      const head = this.#inflight.peekFront();
      if (head === undefined || head.id !== item.id) {
        return this.#violation(
          head === undefined
            ? `response ${item.id} with no request outstanding`
            : `response ${item.id} while the oldest outstanding request is ${head.id}`,
        );
      }
      this.#inflight.shift();
      if (head.settled) continue; // timed out: the late response goes nowhere
      head.settled = true;
      let result: unknown;
      try {
        result = head.decode(item);
      } catch (err) {
        // A status (NOT_INTEGER, TOO_LARGE, …) fails this call only. A body that does not decode is a
        // PROTOCOL_ERROR (spec §4.3): the peer is broken and nothing more it sends can be trusted, so the
        // connection closes as for any other violation (§2.3) instead of serving the next call.
        if (err instanceof ConduitError && err.code !== 'PROTOCOL_ERROR') {
          head.reject(err);
          continue;
        }
        const violation = failure('PROTOCOL_ERROR', `undecodable response ${item.id}: ${err instanceof Error ? err.message : String(err)}; connection closed`);
        head.reject(violation);
        return this.#dropConnection(violation);
      }
      head.resolve(result as never);
    }
    if (this.#queued.length > 0) this.#scheduleFlush();
    else if (this.#inflight.length === 0) this.#settledAll();
  }

  #violation(message: string): void {
    this.#dropConnection(failure('PROTOCOL_ERROR', `${message}; connection closed`));
  }

  /**
   * Closes the current connection, rejecting what was written on it with
   * `error`, and detaches it at once (reconnecting as after any loss): a
   * request made before the socket's 'close' event must not be written to
   * a connection already given up.
   */
  #dropConnection(error: ConduitError): void {
    const socket = this.#socket;
    this.#rejectAll(this.#inflight, error);
    if (socket === undefined) return;
    socket.destroy();
    this.#onClose(socket, error);
  }

  /**
   * The connection is gone; `cause` is why, when the client gave it up itself. It is what the
   * `reconnecting` and `error` events carry, so a violation with nothing in flight (a duplicate
   * answer) is still reported as the PROTOCOL_ERROR it is, not as a lost connection.
   */
  #onClose(socket: Socket, cause = failure('CONNECTION_LOST', 'the connection was lost')): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#decoder = undefined;
    this.#session = undefined;
    this.#rejectAll(this.#inflight, failure('CONNECTION_LOST', 'the connection was lost; the request may or may not have been executed'));
    if (this.#state === 'closed') return;
    if (this.#state === 'closing') return this.#finishClose();
    this.#scheduleReconnect(cause);
  }

  #scheduleReconnect(cause: ConduitError): void {
    if (this.#state === 'closing' || this.#state === 'closed') return this.#finishClose();
    const r = this.#options.reconnect;
    if (r === false || this.#attempt >= r.maxAttempts) {
      this.#state = 'idle';
      this.#attempt = 0;
      this.#rejectAll(this.#queued, failure('CONNECTION_LOST', `${cause.message}; not reconnecting`));
      if (this.listenerCount('error') > 0) this.emit('error', cause);
      return;
    }
    this.#attempt += 1;
    const ceiling = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** (this.#attempt - 1));
    const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // jitter: [½, 1] × the backoff
    this.#state = 'reconnecting';
    this.emit('reconnecting', { attempt: this.#attempt, delayMs, cause });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'reconnecting') void this.#open(true);
    }, delayMs);
    this.#startSweep();
  }

  /** Adds a request; it is written at the end of this tick. */
  #call<T>(request: Request, decode: (frame: Frame) => T): Promise<T> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(failure('CLOSED', 'the client is closed'));
    }
    let parts: Buffer[];
    try {
      parts = encodeRequest(0n, request); // the identifier is patched in when written
    } catch (err) {
      return Promise.reject(err);
    }
    // Bounded memory: at most maxInflight written plus maxQueued waiting.
    if (this.#options.key !== undefined) {
      const bodySize = parts.reduce((n, p) => n + p.length, 0) - HEADER_SIZE;
      if (bodySize > MAX_BODY_SIZE - TAG_SIZE) {
        return Promise.reject(new ConduitError('TOO_LARGE', `body of ${bodySize} bytes exceeds secure mode's limit of ${MAX_BODY_SIZE - TAG_SIZE}`));
      }
    }
    if (this.#queued.length + this.#inflight.length >= this.#options.maxQueued + this.#options.maxInflight) {
      return Promise.reject(failure('QUEUE_FULL', `${this.#options.maxQueued} requests are already waiting`));
    }
    return new Promise<T>((resolve, reject) => {
      this.#queued.push({
        parts,
        decode,
        resolve: resolve as (value: never) => void,
        reject,
        deadline: performance.now() + this.#options.requestTimeoutMs,
        id: -1n,
        settled: false,
      });
      if (this.#state === 'idle') this.connect().catch(() => {}); // the queued request rejects with the cause
      this.#startSweep();
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Moves queued requests into flight, up to maxInflight, in one write. */
  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#blocked || (this.#state !== 'ready' && this.#state !== 'closing')) return;
    const out: Buffer[] = [];
    let size = 0;
    while (this.#inflight.length < this.#options.maxInflight) {
      const next = this.#queued.shift();
      if (next === undefined) break;
      if (next.settled) continue; // timed out while queued
      next.id = this.#nextId;
      this.#nextId += 1n;
      this.#inflight.push(next);
      for (const part of this.#framed(next)) {
        out.push(part);
        size += part.length;
      }
    }
    if (out.length === 0) return;
    let accepted: boolean;
    if (size <= JOIN_LIMIT) {
      accepted = socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, size));
    } else {
      accepted = true;
      socket.cork();
      for (const part of out) accepted = socket.write(part);
      socket.uncork();
    }
    if (!accepted) this.#blocked = true; // wait for 'drain' before writing more
  }

  /** The bytes of a request with its identifier; sealed in a secure session (spec §6.4). */
  #framed(pending: Pending): Buffer[] {
    const head = pending.parts[0] as Buffer;
    if (this.#session === undefined) {
      head.writeBigUInt64BE(pending.id, 4);
      return pending.parts;
    }
    const plaintext = Buffer.concat([head.subarray(HEADER_SIZE), ...pending.parts.slice(1)]);
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    writeHeader(header, 0, VERSION_REQUEST, head[1] as number, plaintext.length + TAG_SIZE, pending.id);
    return [header, this.#session.send.seal(header, plaintext)];
  }

  /** Rejects requests whose deadline has passed, oldest first (deadlines grow with call order). */
  #sweep(): void {
    const now = performance.now();
    const timeout = (p: Pending): void => {
      p.settled = true;
      p.reject(failure('TIMEOUT', `no response within ${this.#options.requestTimeoutMs} ms`));
    };
    for (let head = this.#queued.peekFront(); head !== undefined && (head.settled || head.deadline <= now); head = this.#queued.peekFront()) {
      this.#queued.shift();
      if (!head.settled) timeout(head);
    }
    // In flight, a timed-out request keeps its place so its late response is recognised and dropped.
    let waiting = false;
    for (let i = 0; i < this.#inflight.length; i += 1) {
      const p = this.#inflight.peekAt(i) as Pending;
      if (p.deadline > now) {
        waiting = true;
        break;
      }
      if (!p.settled) {
        timeout(p);
        this.#silentTimeouts += 1;
      }
    }
    // A peer that stops answering while TCP stays up would keep the timed-out requests' slots
    // forever: once maxInflight of them pile up nothing is written again. So when nothing in
    // flight can still be answered in time, or too many timed out in a row with no response
    // between them, give the connection up and reconnect; the late answers die with it.
    const silent = this.#inflight.length > 0 && (!waiting || this.#silentTimeouts >= this.#options.maxSilentTimeouts);
    if (silent && this.#socket !== undefined && this.#state === 'ready') {
      const n = this.#silentTimeouts;
      this.#silentTimeouts = 0;
      this.#dropConnection(
        failure('CONNECTION_LOST', `the server did not answer ${n} request(s) within ${this.#options.requestTimeoutMs} ms; reconnecting`),
      );
    }
    if (this.#queued.length === 0 && !waiting) this.#settledAll();
  }

  #startSweep(): void {
    this.#sweepTimer ??= setInterval(() => this.#sweep(), SWEEP_MS);
  }

  /** Nothing outstanding: stop the sweep, and finish a graceful close. */
  #settledAll(): void {
    if (this.#sweepTimer !== undefined && this.#reconnectTimer === undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    if (this.#state === 'closing') {
      if (this.#socket === undefined) this.#finishClose();
      // Only timed-out requests left: their answers would be discarded anyway, so do not wait for them.
      else if (this.#inflight.length > 0) this.#socket.destroy();
      else this.#socket.end();
    }
  }

  #rejectAll(queue: Denque<Pending>, error: ConduitError): void {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      if (p.settled) continue;
      p.settled = true;
      p.reject(error);
    }
  }

  /**
   * Graceful close: new calls reject with `CLOSED`, outstanding requests
   * settle (or time out), then the connection ends.
   *
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closed = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    const state = this.#state;
    this.#state = 'closing';
    if (state === 'connecting') {
      // The first connection is on its way: it flushes what is queued and then ends, or fails and finishes.
    } else if (this.#socket === undefined) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      this.#rejectAll(this.#queued, failure('CLOSED', 'the client was closed while it had no connection'));
      this.#finishClose();
    } else if (this.#queued.length === 0 && this.#inflight.toArray().every((p) => p.settled)) {
      this.#settledAll(); // nothing live left: only timed-out requests, whose answers would be dropped
    } else {
      this.#scheduleFlush();
    }
    return this.#closed;
  }

  /**
   * Closes at once: every outstanding request rejects with `CLOSED`.
   *
   * @example
   * ```ts
   * client.destroy();
   * ```
   */
  destroy(): void {
    if (this.#state === 'closed') return;
    this.#closed ??= Promise.resolve();
    const error = failure('CLOSED', 'the client was destroyed');
    this.#rejectAll(this.#queued, error);
    this.#rejectAll(this.#inflight, error);
    this.#socket?.destroy();
    this.#finishClose();
  }

  #finishClose(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    // Whatever is still outstanding can no longer be sent or answered.
    this.#rejectAll(this.#queued, failure('CLOSED', 'the client closed before the request could be sent'));
    this.#rejectAll(this.#inflight, failure('CONNECTION_LOST', 'the connection closed while the client was closing'));
    this.#attempting?.destroy();
    this.#attempting = undefined;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#sweepTimer);
    this.#reconnectTimer = undefined;
    this.#sweepTimer = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#closeResolve?.();
    this.emit('close');
  }

  /**
   * The value of `key`, or `undefined` when it is absent (spec §3.2).
   *
   * @example
   * ```ts
   * const value: Buffer | undefined = await client.get('user:42');
   * ```
   */
  get(key: Bytes): Promise<Buffer | undefined> {
    return this.#call({ op: 'GET', key: bytes(key, 'key') }, outcome((f) => Buffer.from(f.body), { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * The value of `key` decoded as UTF-8, or `undefined`.
   *
   * @example
   * ```ts
   * await client.getString('greeting'); // 'hello'
   * ```
   */
  getString(key: Bytes): Promise<string | undefined> {
    return this.#call({ op: 'GET', key: bytes(key, 'key') }, outcome((f) => f.body.toString('utf8'), { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * Stores `value` under `key` (spec §3.3). Resolves `false` when NX or XX
   * prevented it; rejects `TOO_LARGE` / `OUT_OF_MEMORY` when the store
   * refuses it.
   *
   * @example
   * ```ts
   * await client.set('session:1', token, { ttlMs: 30_000, nx: true }); // true or false
   * ```
   */
  set(key: Bytes, value: Bytes, options: SetOptions = {}): Promise<boolean> {
    const { ttlMs = 0, nx = false, xx = false, keepTtl = false } = options;
    return this.#call(
      { op: 'SET', key: bytes(key, 'key'), value: bytes(value, 'value'), ttlMs, nx, xx, keepTtl },
      outcome(asTrue, { status: Status.NOT_STORED, value: false }),
    );
  }

  /**
   * Removes `key`; `true` when it existed (spec §3.4).
   *
   * @example
   * ```ts
   * await client.delete('user:42');
   * ```
   */
  delete(key: Bytes): Promise<boolean> {
    return this.#call({ op: 'DELETE', key: bytes(key, 'key') }, outcome(asTrue, { status: Status.NOT_FOUND, value: false }));
  }

  /**
   * Sets the key to expire in `ttlMs`, or removes its expiry with 0; `false`
   * when the key is absent (spec §3.6).
   *
   * @example
   * ```ts
   * await client.renew('session:1', 30_000);
   * ```
   */
  renew(key: Bytes, ttlMs: number): Promise<boolean> {
    return this.#call({ op: 'RENEW', key: bytes(key, 'key'), ttlMs }, outcome(asTrue, { status: Status.NOT_FOUND, value: false }));
  }

  /**
   * Remaining milliseconds, −1 when the key has no expiry, `undefined` when
   * it is absent (spec §3.9).
   *
   * @example
   * ```ts
   * await client.ttl('session:1'); // e.g. 29_998
   * ```
   */
  ttl(key: Bytes): Promise<number | undefined> {
    return this.#call({ op: 'TTL', key: bytes(key, 'key') }, outcome((f) => Number(i64(f)), { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * Adds `delta` (default 1) to the integer at `key`, creating it at 0 with
   * `ttlMs` when absent, and resolves the new value. Always a `bigint`, since
   * values are 64-bit (spec §3.8); `Number(n)` is exact up to 2^53.
   * Rejects `NOT_INTEGER` when the value is not an integer or would overflow.
   *
   * @example
   * ```ts
   * const hits = await client.incr('hits'); // 1n, 2n, …
   * ```
   */
  incr(key: Bytes, delta: bigint | number = 1n, options: { ttlMs?: number } = {}): Promise<bigint> {
    if (typeof delta === 'number' && !Number.isSafeInteger(delta)) {
      return Promise.reject(new ConduitError('BAD_REQUEST', `delta must be a safe integer or a bigint, got ${delta}`));
    }
    return this.#call({ op: 'INCR', key: bytes(key, 'key'), delta: BigInt(delta), ttlMs: options.ttlMs ?? 0 }, outcome(i64));
  }

  /**
   * Up to `limit` keys starting with `prefix` (spec §3.5).
   *
   * @example
   * ```ts
   * const { keys, truncated } = await client.list('user:', 100);
   * ```
   */
  list(prefix: Bytes = '', limit = 1000): Promise<ListReply> {
    return this.#call(
      { op: 'LIST', prefix: bytes(prefix, 'prefix'), limit },
      outcome((f) => {
        const list = decodeListBody(f.body);
        if (list instanceof ProtocolError) throw failure('PROTOCOL_ERROR', list.message);
        return { keys: list.keys.map((k) => Buffer.from(k)), truncated: list.truncated };
      }),
    );
  }

  /**
   * Round trip to the server in milliseconds (HEALTH, spec §3.7). Because
   * responses keep order, it also waits for everything sent before it.
   *
   * @example
   * ```ts
   * const ms = await client.health();
   * ```
   */
  async health(): Promise<number> {
    const started = performance.now();
    await this.#call({ op: 'HEALTH' }, outcome(asVoid));
    return performance.now() - started;
  }

  /**
   * The server's counters (STATS, spec §5.2).
   *
   * @example
   * ```ts
   * const { keyspace_hits, curr_items } = await client.stats();
   * ```
   */
  stats(): Promise<Record<string, unknown>> {
    return this.#call({ op: 'STATS' }, outcome(statsObject));
  }

  /**
   * Removes every key (FLUSH, spec §3.7).
   *
   * @example
   * ```ts
   * await client.flush();
   * ```
   */
  flush(): Promise<void> {
    return this.#call({ op: 'FLUSH' }, outcome(asVoid));
  }
}
