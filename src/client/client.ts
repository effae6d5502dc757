import { EventEmitter } from 'node:events';
import { ConduitError } from '../protocol/errors.js';
import { Feature, MAX_VALUE_SIZE_LIMIT, REQUEST_OVERHEAD_LIMIT, Status, statusName, TrackingMode } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';
import { encodeRequestBody, type Request } from '../protocol/messages.js';
import { resolveClientOptions, resolvePoolOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import { ConnectionCapabilities, type ServerCapabilities } from './capabilities.js';
import { asTrue, asVoid, bytes, i64, listReply, okOr, reloadReply, scanReply, statsObject, valueOf, type Bytes, type ListReply, type ReloadResult, type ScanOptions, type ScanReply } from './commands.js';
import { RequestQueue } from './request-queue.js';
import { setManyLoop, type SetManyEntry, type SetManyResult, type SetOptions } from './set-many.js';
import { checkVersion, DEFAULT_UPDATE_ATTEMPTS, updateLoop, versionedValue, type VersionedValue } from './versioned.js';
import { Transport } from './transport.js';
import { getOrSetLoop, resolveGetOrSetOptions, type GetOrSetOptions } from './get-or-set.js';
import { Pool, type Member } from './pool.js';
import { nameOf, type ServerAddress } from './server-names.js';
import { NearCache, type NearCacheStats } from './near-cache.js';
import type { Invalidation } from '../protocol/tracking-body.js';

/**
 * The public client: ConduitClient's commands, events and the decisions of
 * its one state. The mechanics are below it: transport.ts connects,
 * handshakes and reconnects; request-queue.ts numbers, matches and times
 * out requests; commands.ts holds the response decoders; near-cache.ts the
 * near cache's map and rules (issue 21). Over ~450 lines
 * only for the JSDoc of the public methods.
 *
 * @module
 */

export type { SetOptions } from './set-many.js';
export type { NearCacheOptions, NearCacheStats } from './near-cache.js';

/**
 * Near-cache hits answered in one turn of the event loop before a get waits for the next turn (about a
 * millisecond of hits), so a loop of hits still lets the socket be read and pushes applied.
 */
const NEAR_HITS_PER_TURN = 1024;

/** Resolves in the next turn of the event loop, after I/O (setImmediate runs after the poll phase). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Requests that change their key: this client's own near-cache entry goes when one is sent (issue 21). */
const KEY_WRITES: ReadonlySet<Request['op']> = new Set(['SET', 'DELETE', 'INCR', 'RENEW', 'GAT']);

/** Options of {@link ConduitClient.delete} and {@link ConduitClient.renew}. */
export interface WriteOptions {
  /** A quiet write (spec §2.5, protocol 1.1): see {@link SetOptions.quiet}. */
  quiet?: boolean;
}

type State = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

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
 * With the `nearCache` option (issue 21, spec §3.15), `get` and `getString`
 * answer from values kept in this process while the server's INVALIDATE
 * pushes keep them correct: event `invalidate` (`Buffer[]` or `'all'`) for
 * every push, `near-cache-off` (`{ code, reason }`) once when the server
 * has no tracking; {@link nearCacheStats} counts hits, misses and drops.
 *
 * A pool (options `servers` or `discover`, spec §3.14): one single-server
 * client per server inside, each key-bearing call sent to its key's server
 * ({@link serverFor}), so every guarantee above holds per server. A MOVED
 * answer is followed once (the server did not execute the request). What
 * is per server is sent to every server in the ring and merged: `list`
 * (every server's keys, at most `limit` in all), `scan`/`scanPage` (one
 * server after the other; the cursor carries the server's index above bit
 * 64), `stats` (numeric counters summed, settings the largest, and
 * `servers`: each server's own), `capabilities` (what every server
 * supports), `flush` and `health` (reject when any server fails, naming
 * it; `health` is the slowest round trip), `setMany` (grouped by server).
 * `connect()` connects to every server (discovering them first) and rejects
 * with the first failure, naming the server; `pending` sums the servers';
 * `close`/`destroy` close every server's client. Events: `server-down`
 * (`{ server, error }`), `server-up` (`{ server }`) and `ring-changed`
 * (`{ servers }`, the names in the ring now) under `failurePolicy: 'eject'`
 * or when `discover` finds a new map; `reconnecting` carries `server`.
 * With `discover`, the servers of a group refuse a dead peer's keys
 * (MOVED to it), so under `'eject'` those keys still fail until the peer
 * is back: the group's map, not the client, decides who owns a key.
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
  readonly #queue: RequestQueue;
  readonly #transport: Transport;
  #state: State = 'idle';
  #flushScheduled = false;
  /** spec §2.5: a HEALTH fence is due at the end of this turn, after the quiet writes written in it. */
  #fenceScheduled = false;
  #connecting: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  /** What the server of the current connection supports: CAPS, asked first on every connection (spec §3.13). */
  #caps: ConnectionCapabilities | undefined;
  /** The pool (options `servers`, `discover`), or `undefined` for one server: every call tests it once. */
  readonly #pool: Pool | undefined;
  /**
   * A pool's server: while it reconnects, calls reject at once with
   * `CONNECT_FAILED` (they were not sent) instead of waiting (`failurePolicy`, spec §3.14), so
   * a server that is down fails only its own keys, and fails them fast.
   */
  #failFast = false;
  /** Near-cache hits answered since the event loop last turned (see {@link #nearGet}). */
  #nearHitsThisTurn = 0;
  readonly #newNearTurn = (): void => {
    this.#nearHitsThisTurn = 0;
  };
  /** The near cache (option `nearCache`, issue 21), or `undefined`: a plain client tests it once per get. */
  readonly #near: NearCache | undefined;
  /** The last TRACKING outcome, so a server without tracking is reported once, not on every reconnect. */
  #trackingAnswer: 'on' | 'off' | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    const pool = resolvePoolOptions(options);
    this.#options = resolveClientOptions(pool === undefined ? options : pool.perServer);
    this.#queue = new RequestQueue(this.#options, (waiting) => this.#onSwept(waiting));
    this.#transport = new Transport(this.#options, {
      onConnect: () => this.emit('connect'),
      onReady: () => this.#onReady(),
      onAttemptFailed: (error, isReconnect) => this.#onAttemptFailed(error, isReconnect),
      onResponse: (frame) => this.#onResponse(frame),
      onChunkRead: () => {
        if (this.#queue.queued > 0) this.#scheduleFlush();
        else if (this.#queue.inflight === 0) this.#onNothingOutstanding();
      },
      onWritable: () => this.#flush(),
      onBroken: (error) => this.#dropConnection(error),
      onLost: (cause) => this.#onLost(cause),
      onReconnectDue: () => {
        if (this.#state === 'reconnecting') void this.#open(true);
      },
      // spec §3.15: pushes are welcome only on a connection that asked for tracking.
      acceptsPushes: () => this.#near !== undefined && this.#near.state !== 'off',
      onPush: (invalidation) => this.#onPush(invalidation),
    });
    this.#near = this.#options.nearCache === undefined ? undefined : new NearCache(this.#options.nearCache);
    this.#pool =
      pool === undefined
        ? undefined
        : new Pool({ ...pool, servers: pool.servers }, (address) => ConduitClient.#member(pool.perServer, address), this);
  }

  /** One server of a pool: a whole single-server client, failing fast while its server is down. */
  static #member(options: ClientOptions, address: ServerAddress): Member {
    const client = new ConduitClient({ ...options, ...address });
    client.#failFast = true;
    return { client, call: <T>(request: Request, decode: (frame: Frame) => T | Promise<T>) => client.#call(request, decode) as Promise<T>, full: () => client.#queue.full };
  }

  /**
   * The server `key` goes to now: for a pool, its name (`host:port` or the
   * socket path; with `discover`, as the group spells it); for one server,
   * its address.
   *
   * @example
   * ```ts
   * client.serverFor('user:42'); // '127.0.0.1:7172'
   * ```
   */
  serverFor(key: Bytes): string {
    if (this.#pool !== undefined) return this.#pool.serverFor(bytes(key, 'key'));
    const o = this.#options;
    return nameOf(o.socket !== undefined ? { socket: o.socket } : { host: o.host, port: o.port });
  }

  /** Requests written and awaiting a response, and requests waiting to be written. */
  get pending(): { inflight: number; queued: number } {
    if (this.#pool !== undefined) return this.#pool.pending;
    return { inflight: this.#queue.inflight, queued: this.#queue.queued };
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
    if (this.#pool !== undefined) return this.#connectPool(this.#pool);
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(new ConduitError('CLOSED', 'the client is closed'));
    }
    this.#connecting ??= this.#open(false);
    return this.#connecting;
  }

  async #connectPool(pool: Pool): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') throw new ConduitError('CLOSED', 'the client is closed');
    await pool.connect();
    if (this.#state === 'idle') {
      this.#state = 'ready';
      this.emit('ready');
    }
  }

  /** Opens one connection; on failure, either rejects (first connect) or schedules the next attempt. */
  #open(isReconnect: boolean): Promise<void> {
    this.#state = isReconnect ? 'reconnecting' : 'connecting';
    return this.#transport.open(isReconnect);
  }

  #onReady(): void {
    this.#connecting = undefined;
    this.#queue.restart(this.#options.key === undefined ? 0n : 1n); // spec §6.2: HELLO used identifier 0
    if (this.#near !== undefined) this.#askTracking(this.#near); // queued first, then CAPS goes before it
    this.#askCapabilities();
    this.#state = this.#closeResolve !== undefined ? 'closing' : 'ready';
    this.emit('ready');
    if (this.#queue.queued === 0) this.#onNothingOutstanding(); // a close() that came while connecting ends now
    else this.#scheduleFlush();
  }

  /**
   * spec §3.13: CAPS goes first on every connection, saying this client takes fragmented answers.
   * Pipelined: requests queued behind it are written with it; only one that needs fragments waits
   * for its answer (RequestQueue#writeTo), which is why the queue is flushed again when it comes.
   */
  #askCapabilities(): void {
    const caps = new ConnectionCapabilities();
    this.#caps = caps;
    const { opcode, body } = encodeRequestBody({ op: 'CAPS', features: Feature.FRAGMENTS });
    this.#queue.enqueueFirst(opcode, body, (frame) => caps.settle(frame)).then(
      () => this.#scheduleFlush(),
      (err: ConduitError) => {
        caps.fail(err);
        this.#scheduleFlush();
      },
    );
  }

  /**
   * spec §3.15 (issue 21): TRACKING on every connection, right after CAPS and before any other
   * request (both are put at the front of the queue), pipelined: nothing waits for it. A GET's answer
   * on this connection comes after TRACKING's (§2.3), so nothing is filled before it is acknowledged.
   * A server without tracking (UNKNOWN_OPCODE, protocol < 1.3) leaves the near cache off.
   */
  #askTracking(near: NearCache): void {
    near.tracking('asking');
    const prefixes = near.options.prefixes;
    const request: Request = prefixes === undefined ? { op: 'TRACKING', mode: TrackingMode.KEYS } : { op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes };
    const { opcode, body } = encodeRequestBody(request);
    this.#queue
      .enqueueFirst(opcode, body, (frame) => {
        if (near.state !== 'asking') return; // the connection it was sent on is gone
        if (frame.opcode === Status.OK) {
          near.tracking('on');
          this.#trackingAnswer = 'on';
          return;
        }
        near.tracking('off');
        const why =
          frame.opcode === Status.UNKNOWN_OPCODE
            ? 'the server does not support TRACKING (protocol 1.3, spec §3.15)'
            : `the server refused TRACKING: ${statusName(frame.opcode) ?? `status 0x${frame.opcode.toString(16)}`} ${frame.body.toString('utf8')}`;
        const code = statusName(frame.opcode) ?? 'UNKNOWN_STATUS';
        if (this.#trackingAnswer !== 'off') this.emit('near-cache-off', { code, reason: `near cache off: ${why}; every get asks the server` });
        this.#trackingAnswer = 'off';
      })
      .catch(() => {}); // timed out or lost: this connection is given up or its near cache stays off
  }

  /** spec §3.15: an INVALIDATE push: the keys go (ALL: everything); it settles nothing. */
  #onPush(invalidation: Invalidation): boolean {
    this.#near?.invalidate(invalidation);
    if (this.listenerCount('invalidate') > 0) {
      const keys = invalidation === 'all' ? 'all' : invalidation.map((key) => Buffer.from(key));
      // Emitted after the chunk is decoded, not from inside it: a listener that throws must not cost
      // the answers read with the push (the keys are already dropped above).
      process.nextTick(() => this.emit('invalidate', keys));
    }
    return true;
  }

  /**
   * The near cache's state and counters (issue 21): `state` `'on'` while
   * the connection's tracking is acknowledged; `drops` counts whole-cache
   * drops (disconnects, reconnects, close, ALL pushes). A client without the
   * `nearCache` option reports `'off'` and zeros.
   *
   * @example
   * ```ts
   * const { state, hits, misses } = client.nearCacheStats(); // 'on', 950, 50
   * ```
   */
  nearCacheStats(): NearCacheStats {
    return this.#near?.stats() ?? { state: 'off', hits: 0, misses: 0, invalidations: 0, drops: 0, entries: 0, bytes: 0 };
  }

  #onAttemptFailed(error: ConduitError, isReconnect: boolean): void {
    this.#connecting = undefined;
    if (this.#state === 'closing') {
      // close() came while this attempt was under way: nothing will be sent any more.
      this.#finishClose();
    } else if (isReconnect) {
      this.#scheduleReconnect(error);
    } else {
      if (this.#state === 'connecting') this.#state = 'idle';
      this.#queue.rejectQueued(error);
    }
  }

  /** An answer: it settles the oldest request in flight, or breaks the connection (spec §2.3). */
  #onResponse(frame: Frame): boolean {
    const broken = this.#queue.settle(frame);
    if (broken === undefined) return true;
    this.#dropConnection(broken);
    return false;
  }

  /**
   * Closes the current connection, rejecting what was written on it with
   * `error`, and detaches it at once, reconnecting as after any loss.
   */
  #dropConnection(error: ConduitError): void {
    this.#queue.rejectInflight(error);
    this.#transport.drop(error);
  }

  /**
   * The connection is gone; `cause` is why. It is what the `reconnecting` and `error` events
   * carry, so a violation with nothing in flight (a duplicate answer) is still reported as the
   * PROTOCOL_ERROR it is, not as a lost connection.
   */
  #onLost(cause: ConduitError): void {
    this.#near?.lost(); // invalidations may have been lost with the connection
    this.#queue.rejectInflight(new ConduitError('CONNECTION_LOST', 'the connection was lost; the request may or may not have been executed'));
    if (this.#state === 'closed') return;
    if (this.#state === 'closing') return this.#finishClose();
    this.#scheduleReconnect(cause);
  }

  #scheduleReconnect(cause: ConduitError): void {
    if (this.#state === 'closing' || this.#state === 'closed') return this.#finishClose();
    const next = this.#transport.backoff();
    if (next === undefined) {
      this.#state = 'idle';
      this.#queue.rejectQueued(new ConduitError('CONNECTION_LOST', `${cause.message}; not reconnecting`));
      if (this.listenerCount('error') > 0) this.emit('error', cause);
      return;
    }
    this.#state = 'reconnecting';
    // Queued requests were never written: CONNECT_FAILED, not "may or may not have run" (spec §4.3).
    if (this.#failFast) this.#queue.rejectQueued(new ConduitError('CONNECT_FAILED', `${cause.message}; reconnecting`));
    this.emit('reconnecting', { attempt: next.attempt, delayMs: next.delayMs, cause });
    this.#transport.reconnectAfter(next.delayMs);
    this.#queue.startSweep();
  }

  /**
   * Sends one request as it is and resolves with its answer's status byte
   * (spec §4) and body, whatever the status: only local failures (`TIMEOUT`,
   * `CONNECTION_LOST`, `CLOSED`, …) reject. For code that forwards requests
   * it did not make, such as the HTTP gateway in front of `--workers`.
   *
   * @example
   * ```ts
   * const { status, body } = await client.exchange({ op: 'GET', key: Buffer.from('k') });
   * if (status === Status.OK) use(body);
   * ```
   */
  exchange(request: Request): Promise<{ status: number; body: Buffer }> {
    if (request.op === 'TRACKING' && this.#near !== undefined) {
      // The near cache turns tracking on for each connection; turning it off behind its back would keep values no push drops.
      return Promise.reject(new ConduitError('BAD_REQUEST', 'TRACKING is sent by the near cache (nearCache option): exchange cannot change it'));
    }
    if (this.#pool !== undefined) return this.#pool.exchange(request);
    return this.#call(request, (frame) => ({ status: frame.opcode, body: valueOf(frame) }));
  }

  /** Adds a request; it is written at the end of this tick. */
  #call<T>(request: Request, decode: (frame: Frame) => T): Promise<T> {
    if (this.#pool !== undefined) return this.#pool.call(request, decode);
    if (this.#state !== 'ready') {
      const refused = this.#refusal();
      if (refused !== undefined) return Promise.reject(refused);
    }
    let opcode: number;
    let body: Buffer[];
    try {
      // Numbered when written. A body over one frame goes as fragments (spec §2.4), up to what any server takes.
      ({ opcode, body } = encodeRequestBody(request, MAX_VALUE_SIZE_LIMIT + REQUEST_OVERHEAD_LIMIT));
    } catch (err) {
      return Promise.reject(err);
    }
    const near = this.#near;
    const result = this.#queue.enqueue(opcode, body, near === undefined ? decode : this.#nearDecode(near, request, decode));
    if (near !== undefined) this.#nearWrite(near, request, result);
    if (this.#state === 'idle') this.connect().catch(() => {}); // the queued request rejects with the cause
    this.#scheduleFlush();
    return result;
  }

  /**
   * A write this client sends drops its own entry, and its key is not filled until it settles (see
   * near-cache.ts); a SET that stored puts the value it wrote back, when no other write of the key is in flight.
   */
  #nearWrite(near: NearCache, request: Request, result: Promise<unknown>): void {
    if (request.op === 'FLUSH') return near.dropAll();
    if (!KEY_WRITES.has(request.op)) return;
    const key = (request as { key: Buffer }).key;
    near.writeSent(key);
    const settled = (): void => near.writeSettled(key);
    result.then(settled, settled);
  }

  /**
   * A SET answered OK puts the value it wrote back (near-cache.ts `written`), in the answer's decoder:
   * synchronously, so a push for a later change read in the same chunk drops it again (spec §2.3), as a
   * GET's fill does. Only a SET that is answered: a quiet one settles at a later fence, after pushes
   * for changes made since, so keeping its value then could keep an overwritten one.
   */
  #nearDecode<T>(near: NearCache, request: Request, decode: (frame: Frame) => T): (frame: Frame) => T {
    if (request.op !== 'SET' || request.quiet === true) return decode;
    const value = Buffer.from(request.value); // copied now: the caller may reuse its buffer
    return (frame) => {
      const result = decode(frame);
      if (frame.opcode === Status.OK) near.written(request.key, value);
      return result;
    };
  }

  /** Why a call made in this state fails at once, if it does. */
  #refusal(): ConduitError | undefined {
    if (this.#state === 'closing' || this.#state === 'closed') return new ConduitError('CLOSED', 'the client is closed');
    if (this.#state === 'reconnecting' && this.#failFast) {
      // Not sent, so not "may or may not have run" (CONNECTION_LOST): spec §4.3's CONNECT_FAILED.
      return new ConduitError('CONNECT_FAILED', 'the server is unreachable (reconnecting): a pool fails its keys at once');
    }
    return undefined;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /**
   * Writes what is queued, up to maxInflight in flight, in one write. When
   * that would end with quiet writes (spec §2.5), the write waits for the
   * end of the turn (setImmediate): the quiet writes made over its ticks
   * then leave in one write with the one HEALTH fence that settles them.
   */
  #flush(fence: 'end-of-turn' | 'when-blocked' = 'when-blocked'): void {
    const sink = this.#transport.sink;
    if (sink === undefined || (this.#state !== 'ready' && this.#state !== 'closing')) return;
    if (fence === 'when-blocked' && this.#queue.endsQuiet) return this.#fenceAtEndOfTurn();
    if (!this.#queue.writeTo(sink, this.#transport.sendCipher, this.#transport.envelopes, fence, this.#large)) this.#transport.hold(); // wait for 'drain'
    if (this.#queue.unfenced) this.#fenceAtEndOfTurn();
  }

  /** The gate of a request over one frame (spec §2.4): the current connection's CAPS answer. One closure per client, not per flush. */
  readonly #large = (size: number, frameLimit: number): ReturnType<ConnectionCapabilities['verdict']> => this.#caps?.verdict(size, frameLimit) ?? 'wait';

  #fenceAtEndOfTurn(): void {
    if (this.#fenceScheduled) return;
    this.#fenceScheduled = true;
    setImmediate(() => {
      this.#fenceScheduled = false;
      this.#flush('end-of-turn');
    });
  }

  /** After a sweep: give a silent connection up (see RequestQueue#silent), and stop when nothing is left. */
  #onSwept(waiting: boolean): void {
    if (this.#queue.silent(waiting) && this.#transport.connected && this.#state === 'ready') {
      const n = this.#queue.takeSilentTimeouts();
      this.#dropConnection(
        new ConduitError('CONNECTION_LOST', `the server did not answer ${n} request(s) within ${this.#options.requestTimeoutMs} ms; reconnecting`),
      );
    }
    if (this.#queue.queued === 0 && !waiting) this.#onNothingOutstanding();
  }

  /**
   * Nothing queued and nothing in flight that can still be answered: stop the sweep (unless a
   * reconnect is pending), and finish a graceful close.
   */
  #onNothingOutstanding(): void {
    if (!this.#transport.reconnectScheduled) this.#queue.stopSweep();
    if (this.#state === 'closing') {
      if (!this.#transport.connected) this.#finishClose();
      // Only timed-out requests left: their answers would be discarded anyway, so do not wait for them.
      else if (this.#queue.inflight > 0) this.#transport.destroy();
      else this.#transport.end();
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
    if (this.#pool !== undefined) return this.#closePool(this.#pool.close());
    this.#closed = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    const state = this.#state;
    this.#state = 'closing';
    if (state === 'connecting') {
      // The first connection is on its way: it flushes what is queued and then ends, or fails and finishes.
    } else if (!this.#transport.connected) {
      this.#transport.cancelReconnect();
      this.#queue.rejectQueued(new ConduitError('CLOSED', 'the client was closed while it had no connection'));
      this.#finishClose();
    } else if (!this.#queue.outstanding) {
      this.#onNothingOutstanding(); // nothing live left: only timed-out requests, whose answers would be dropped
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
    if (this.#pool !== undefined) {
      this.#pool.destroy();
      return void this.#closePool(Promise.resolve());
    }
    this.#closed ??= Promise.resolve();
    this.#queue.flushAll(new ConduitError('CLOSED', 'the client was destroyed'));
    this.#finishClose();
  }

  /** A pool is closed when every server's client is. */
  #closePool(closing: Promise<void>): Promise<void> {
    this.#state = 'closing';
    this.#closed = closing.then(() => {
      this.#state = 'closed';
      this.emit('close');
    });
    return this.#closed;
  }

  #finishClose(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#near !== undefined && this.#near.state !== 'off') this.#near.lost();
    // Whatever is still outstanding can no longer be sent or answered.
    this.#queue.rejectQueued(new ConduitError('CLOSED', 'the client closed before the request could be sent'));
    this.#queue.rejectInflight(new ConduitError('CONNECTION_LOST', 'the connection closed while the client was closing'));
    this.#transport.close();
    this.#queue.stopSweep();
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
    if (this.#near !== undefined) return this.#nearGet(this.#near, bytes(key, 'key'), (value) => value);
    return this.#call({ op: 'GET', key: bytes(key, 'key') }, okOr(valueOf, { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * A get through the near cache: a hit is a fresh copy and no request; a miss asks the server and
   * keeps the value in the answer's decoder, synchronously, so a push read in the same chunk after the
   * answer (§2.3) drops it again before anyone can see it.
   */
  #nearGet<T>(near: NearCache, key: Buffer, as: (value: Buffer) => T): Promise<T | undefined> {
    // Hits resolve without the event loop: a loop of them would never let the socket be read, so
    // pushes (and timers) would wait forever. Past a turn's share, yield one turn and look again.
    if (this.#nearHitsThisTurn >= NEAR_HITS_PER_TURN) return nextTurn().then(() => this.#nearGet(near, key, as));
    const hit = near.lookup(key); // held only while the connection's tracking is on
    if (hit !== undefined && this.#state === 'ready') {
      if (this.#nearHitsThisTurn++ === 0) setImmediate(this.#newNearTurn);
      return Promise.resolve(as(hit));
    }
    // A get of a key already asked for joins that GET (each caller gets its own copy).
    const joined = near.reading(key);
    if (joined !== undefined) return joined.then((value) => (value === undefined ? undefined : as(Buffer.from(value))));
    const read = this.#call({ op: 'GET', key }, (frame): Buffer | undefined => {
      if (frame.opcode === Status.NOT_FOUND) return undefined;
      const value = okOr(valueOf)(frame);
      near.fill(key, value);
      return value;
    });
    near.read(key, read);
    return read.then((value) => (value === undefined ? undefined : as(value)));
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
    if (this.#near !== undefined) return this.#nearGet(this.#near, bytes(key, 'key'), (value) => value.toString('utf8'));
    return this.#call({ op: 'GET', key: bytes(key, 'key') }, okOr((f) => f.body.toString('utf8'), { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * Stores `value` under `key` (spec §3.3). Resolves `false` when NX or XX
   * prevented it; rejects `TOO_LARGE` / `OUT_OF_MEMORY` when the store
   * refuses it. `{ quiet: true }`: a quiet write (spec §2.5), answered by
   * the server only when it fails.
   *
   * @example
   * ```ts
   * await client.set('session:1', token, { ttlMs: 30_000, nx: true }); // true or false
   * await client.set('hits:today', '0', { quiet: true }); // settles with the next answer
   * ```
   */
  set(key: Bytes, value: Bytes, options: SetOptions = {}): Promise<boolean> {
    const { ttlMs = 0, nx = false, xx = false, keepTtl = false, version, quiet = false } = options;
    if (version === undefined) {
      return this.#call(
        { op: 'SET', key: bytes(key, 'key'), value: bytes(value, 'value'), ttlMs, nx, xx, keepTtl, quiet },
        okOr(asTrue, { status: Status.NOT_STORED, value: false }),
      );
    }
    try {
      checkVersion(version);
      if (nx) throw new ConduitError('BAD_REQUEST', 'nx and version options exclude each other');
    } catch (err) {
      return Promise.reject(err);
    }
    // spec §3.11: another version is EXISTS, a key gone meanwhile NOT_FOUND; both mean "lost the race".
    return this.#call({ op: 'SET', key: bytes(key, 'key'), value: bytes(value, 'value'), ttlMs, nx, xx, keepTtl, version, quiet }, (frame) =>
      frame.opcode === Status.EXISTS || frame.opcode === Status.NOT_FOUND ? false : okOr(asTrue)(frame),
    );
  }

  /**
   * Stores every entry, pipelined; with `quiet` (spec §2.5, protocol 1.1)
   * as quiet writes, so the server answers only the ones that fail and a
   * HEALTH fence settles the rest. Resolves each entry's result in entry
   * order: `true` stored, `false` not stored (NX, XX or a version prevented
   * it), or the {@link ConduitError} it failed with. Never rejects for one
   * entry; waits, rather than failing `QUEUE_FULL`, while the client's
   * bounded queue (`maxInflight` + `maxQueued`) is full.
   *
   * @example
   * ```ts
   * const results = await client.setMany([['a', '1'], ['b', '2', { ttlMs: 60_000 }]], { quiet: true });
   * const failed = results.flatMap((r, i) => (r instanceof ConduitError ? [[i, r.code]] : []));
   * ```
   */
  setMany(entries: Iterable<SetManyEntry>, options: WriteOptions = {}): Promise<SetManyResult[]> {
    if (this.#pool !== undefined) return this.#pool.setMany(entries, options.quiet === true, (key, value, o) => this.set(key, value, o));
    return setManyLoop(entries, (key, value, o) => this.set(key, value, o), () => this.#queue.full, options.quiet === true);
  }

  /**
   * The value of `key` with its version, or `undefined` when absent (GETS,
   * spec §3.11, protocol 1.1). The version changes on every write of the key.
   *
   * @example
   * ```ts
   * const read = await client.getWithVersion('stock:7');
   * if (read) await client.set('stock:7', String(Number(read.value) - 1), { version: read.version });
   * ```
   */
  getWithVersion(key: Bytes): Promise<VersionedValue | undefined> {
    return this.#call({ op: 'GETS', key: bytes(key, 'key') }, okOr(versionedValue, { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * Reads `key`, computes its new value with `fn` (given `undefined` when
   * absent) and writes it only if no one wrote the key meanwhile, retrying
   * up to `attempts` times (default 16); resolves the value written, rejects
   * `EXISTS` when every attempt lost its race (spec §3.11). The write keeps
   * the key's expiry (KEEPTTL) unless `ttlMs` is given, which sets it (0:
   * none); a key `update` creates gets `ttlMs` or no expiry.
   *
   * @example
   * ```ts
   * await client.update('hits', (old) => String(Number(old ?? 0) + 1));
   * await client.update('session:1', renewToken, { ttlMs: 30_000 });
   * ```
   */
  update(
    key: Bytes,
    fn: (current: Buffer | undefined) => Bytes | Promise<Bytes>,
    options: { attempts?: number; ttlMs?: number } = {},
  ): Promise<Buffer> {
    const { ttlMs } = options;
    const ops = {
      read: (k: Buffer) => this.getWithVersion(k),
      write: (k: Buffer, v: Buffer, version: bigint | undefined) =>
        this.set(k, v, version === undefined ? { nx: true, ttlMs: ttlMs ?? 0 } : ttlMs === undefined ? { version, keepTtl: true } : { version, ttlMs }),
    };
    return updateLoop(ops, bytes(key, 'key'), async (old) => bytes(await fn(old), 'value'), options.attempts ?? DEFAULT_UPDATE_ATTEMPTS);
  }

  /**
   * The value of `key`, computed by exactly one caller on a miss (LEASE,
   * spec §3.16, protocol 1.3; get-or-set.ts): HIT → the value; GRANTED →
   * `await compute()`, stored with the lease token (`ttlMs`) and returned,
   * also when a change of the key meanwhile made the server refuse the set;
   * WAIT → retried (5 ms doubling to 100 ms) for up to `waitMs` (default
   * `leaseMs` + 1 s), then `TIMEOUT`; with `staleWhileRevalidate`, the key's
   * previous value while another caller computes, when the server kept one.
   * A server without leases rejects `UNKNOWN_OPCODE` naming the feature. In
   * a pool, sent to the key's server like {@link get}.
   *
   * @example
   * ```ts
   * const user = await client.getOrSet('user:1', async () => JSON.stringify(await db.user(1)), { ttlMs: 60_000 });
   * ```
   */
  getOrSet(key: Bytes, compute: () => Bytes | Promise<Bytes>, options: GetOrSetOptions = {}): Promise<Buffer> {
    try {
      if (typeof compute !== 'function') throw new TypeError('compute must be a function returning the value (string, Buffer or Uint8Array)');
      return getOrSetLoop((request, decode) => this.#call(request, decode), bytes(key, 'key'), compute, resolveGetOrSetOptions(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The value of `key` after setting its expiry to `ttlMs` from now (0:
   * none), or `undefined` when absent: get-and-touch (GAT, spec §3.12,
   * protocol 1.1), one request instead of GET and RENEW.
   *
   * @example
   * ```ts
   * const session = await client.getAndTouch('session:1', 30_000);
   * ```
   */
  getAndTouch(key: Bytes, ttlMs: number): Promise<Buffer | undefined> {
    return this.#call({ op: 'GAT', key: bytes(key, 'key'), ttlMs }, okOr(valueOf, { status: Status.NOT_FOUND, value: undefined }));
  }

  /**
   * Removes `key`; `true` when it existed (spec §3.4). `{ quiet: true }`: a
   * quiet write (§2.5).
   *
   * @example
   * ```ts
   * await client.delete('user:42');
   * await client.delete('user:43', { quiet: true });
   * ```
   */
  delete(key: Bytes, options: WriteOptions = {}): Promise<boolean> {
    return this.#call({ op: 'DELETE', key: bytes(key, 'key'), quiet: options.quiet === true }, okOr(asTrue, { status: Status.NOT_FOUND, value: false }));
  }

  /**
   * Sets the key to expire in `ttlMs`, or removes its expiry with 0; `false`
   * when the key is absent (spec §3.6). `{ quiet: true }`: a quiet write (§2.5).
   *
   * @example
   * ```ts
   * await client.renew('session:1', 30_000);
   * ```
   */
  renew(key: Bytes, ttlMs: number, options: WriteOptions = {}): Promise<boolean> {
    return this.#call({ op: 'RENEW', key: bytes(key, 'key'), ttlMs, quiet: options.quiet === true }, okOr(asTrue, { status: Status.NOT_FOUND, value: false }));
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
    return this.#call({ op: 'TTL', key: bytes(key, 'key') }, okOr((f) => Number(i64(f)), { status: Status.NOT_FOUND, value: undefined }));
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
    return this.#call({ op: 'INCR', key: bytes(key, 'key'), delta: BigInt(delta), ttlMs: options.ttlMs ?? 0 }, okOr(i64));
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
    if (this.#pool !== undefined) return this.#pool.list(bytes(prefix, 'prefix'), limit);
    return this.#call(
      { op: 'LIST', prefix: bytes(prefix, 'prefix'), limit },
      okOr(listReply),
    );
  }

  /**
   * One SCAN call (spec §3.10, protocol 1.1): from `cursor` (0n starts), the
   * next cursor (0n when the iteration is done) and a bounded slice of keys.
   * A 1.0 server rejects it with `UNKNOWN_OPCODE`.
   *
   * @example
   * ```ts
   * const { cursor, keys } = await client.scanPage(0n, { prefix: 'user:' });
   * ```
   */
  scanPage(cursor: bigint, options: ScanOptions = {}): Promise<ScanReply> {
    if (typeof cursor !== 'bigint' || cursor < 0n) {
      return Promise.reject(new ConduitError('BAD_REQUEST', `scanPage cursor must be a bigint ≥ 0n from an earlier page, got ${String(cursor)}`));
    }
    if (this.#pool !== undefined) return this.#pool.scanPage(cursor, options);
    return this.#call({ op: 'SCAN', cursor, count: options.count ?? 1000, prefix: bytes(options.prefix ?? '', 'prefix') }, okOr(scanReply));
  }

  /**
   * Every key starting with `prefix`, one SCAN call at a time (spec §3.10):
   * each call is bounded on the server, so iterating a large store never
   * holds its event loop. A key present for the whole iteration is yielded
   * at least once; a key written or deleted meanwhile may or may not be,
   * and a key may be yielded twice (after the server re-seeds its index).
   *
   * @example
   * ```ts
   * for await (const key of client.scan({ prefix: 'user:' })) console.log(key.toString());
   * ```
   */
  async *scan(options: ScanOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    let cursor = 0n;
    do {
      const page = await this.scanPage(cursor, options);
      cursor = page.cursor;
      yield* page.keys;
    } while (cursor !== 0n);
  }

  /**
   * What the server supports (CAPS, spec §3.13, protocol 1.1): asked as the
   * first request of every connection, so this resolves the current
   * connection's answer (connecting first if needed). A 1.0 server answers
   * CAPS `UNKNOWN_OPCODE`: `minor` is then 0 and every feature false.
   * `maxValueSize` is the server's `--max-value-size`: a value over it is
   * `TOO_LARGE` (spec §2.4).
   *
   * @example
   * ```ts
   * const { fragments, maxValueSize } = await client.capabilities(); // true, 1048576
   * ```
   */
  async capabilities(): Promise<ServerCapabilities> {
    if (this.#pool !== undefined) return this.#pool.capabilities();
    await this.connect();
    const caps = this.#caps;
    if (caps === undefined) throw new ConduitError('CONNECTION_LOST', 'the connection was lost before the server said what it supports');
    return caps.promise;
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
    if (this.#pool !== undefined) return this.#pool.health();
    const started = performance.now();
    await this.#call({ op: 'HEALTH' }, okOr(asVoid));
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
    if (this.#pool !== undefined) return this.#pool.stats();
    return this.#call({ op: 'STATS' }, okOr(statsObject));
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
    if (this.#pool !== undefined) return this.#pool.flush();
    return this.#call({ op: 'FLUSH' }, okOr(asVoid));
  }

  /**
   * Makes the server re-read its key file (RELOAD, spec §3.17, protocol 1.4;
   * needs the `admin` class). Resolves with the sizes of the file it read and
   * the sessions it closed (their key, token or certificate rule was removed
   * or changed); sessions whose credential is still there keep the rights they
   * started with until they reconnect. Rejects with the {@link ConduitError}
   * of the server's refusal, its message the server's: `FORBIDDEN` (this
   * identity lacks admin), `NOT_STORED` (a bad file, a switch between
   * plaintext and secure mode, or no key file: nothing changed),
   * `UNKNOWN_OPCODE` (a server older than 1.4). With `servers`, every server
   * reloads: the sizes are the first server's, `closed` the sum.
   *
   * @example
   * ```ts
   * const { keys, closed } = await client.reload(); // { keys: 3, tokens: 1, certificates: 0, closed: 1 }
   * ```
   */
  reload(): Promise<ReloadResult> {
    if (this.#pool !== undefined) return this.#pool.reload();
    return this.#call({ op: 'RELOAD' }, okOr(reloadReply));
  }
}
