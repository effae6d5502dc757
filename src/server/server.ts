// Over ~450 lines for one reason: ConduitServer is the one owner of the listeners, the
// connection table and the server-wide limits (connections, output memory, the HELLO rate
// limit); the pieces it composes live beside it (connection.ts, handshake-limiter.ts, …).
import { EventEmitter } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import { aeadChoice } from '../crypto/aead-choice.js';
import type { AeadName } from '../crypto/frame-aead.js';
import { MAX_BODY_SIZE, REQUEST_OVERHEAD_LIMIT, SERVER_ID_BASE, Status } from '../protocol/constants.js';
import { encodeError, SET_FIXED_SIZE } from '../protocol/messages.js';
import { Store } from '../store/store.js';
import type { StoreChange } from '../store/change.js';
import { descriptorsExhausted, fdShortfall, FD_MARGIN, HTTP_MAX_CONNECTIONS, readOpenFilesLimit, type OpenFilesLimit } from './fd-limit.js';
import { HandshakeLimiter } from './handshake-limiter.js';
import { Metrics } from './metrics.js';
import { TrackingTable } from './tracking.js';
import type { ServerCounters } from './counters.js';
import { LeaseTable } from './leases.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { ServedConnection } from './connection-host.js';
import { openListener } from './listeners.js';
import { RespFront } from './resp/resp-front.js';
import type { Reply } from './execute.js';
import { SlotOwnership } from './group.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { claimSocketPath } from './socket-path.js';
import { Snapshots } from './snapshot/snapshots.js';
import { AccessControl } from './access/access-control.js';

export type { ServerCounters } from './counters.js';

const BUSY_FULL = Buffer.concat(encodeError(SERVER_ID_BASE, Status.BUSY, 'too many connections'));
const BUSY_CLOSING = Buffer.concat(encodeError(SERVER_ID_BASE, Status.BUSY, 'server is shutting down'));
const CHECK_INTERVAL_MS = 250;
/** Shutdown accepts its backlog at least this long, at most the window (see #acceptBacklog). */
const ACCEPT_MIN_MS = 5;
/**
 * The cap holds only while connections keep arriving (a flood): a queued backlog drains one
 * connection a turn, and a turn under CPU contention takes several ms (20 queued ones took
 * 76–94 ms at a load of 5 on 2 cores, and a 75 ms cap reset the rest).
 */
const ACCEPT_WINDOW_MS = 500;

/**
 * The Conduit server: a `node:net` listener (TCP and/or a Unix socket) in
 * front of one {@link Store}. Each connection is a {@link Connection}.
 * Emits `'shutdown'` when an allowed SHUTDOWN request arrives (the CLI then
 * calls {@link ConduitServer.close}).
 *
 * @example
 * ```ts
 * const server = new ConduitServer({ port: 0 });
 * const { port } = await server.listen();
 * // …
 * await server.close();
 * ```
 */
export class ConduitServer extends EventEmitter {
  readonly options: ServerOptions;
  readonly store: Store;
  /** spec §3.16 (protocol 1.3): the leases on this server's keys (LEASE, SET's lease token). */
  readonly leases: LeaseTable;
  readonly #listeners: Server[] = [];
  /** Every connection served, Conduit and RESP alike: --max-connections counts them together. */
  readonly #connections = new Set<ServedConnection>();
  /** TLS only: raw sockets, so ones still in their handshake can be closed at shutdown. */
  readonly #rawSockets = new Set<Socket>();
  /** Connections refused with BUSY whose peer has not closed yet (spec §4.2). */
  readonly #rejected = new Set<Socket>();
  /** Sockets accepted so far, for #acceptBacklog. */
  #acceptedCount = 0;
  readonly #counters: ServerCounters = {
    connected_clients: 0,
    total_connections_received: 0,
    rejected_connections: 0,
    rejected_handshakes: 0,
    total_commands_processed: 0,
    quiet_suppressed: 0,
    disconnects: { output_buffer: 0, output_memory: 0, frame_timeout: 0, handshake_timeout: 0, idle: 0, protocol_error: 0, auth: 0, key_removed: 0, internal: 0 },
    auth_failures: 0,
    accept_errors: 0,
    moved: 0,
  };
  /** Sum of every connection's held output (Connection.outputHeld), kept as it changes, and its highest value. */
  #outputTotal = 0;
  #outputPeak = 0;
  /** Bytes of fragmented requests being gathered by all connections (spec §2.4). */
  #assemblyTotal = 0;
  /** The soft open-files limit read at listen (Linux), for the exhaustion check. */
  #fdLimit: OpenFilesLimit | undefined;
  /** Accept failures not logged yet, and when the last log line went out (rate limit: one a second). */
  #acceptFailures = { unlogged: 0, loggedAt: Number.NEGATIVE_INFINITY };
  /** Secure mode with --max-handshakes-per-second: the HELLO token bucket of each source address. */
  readonly #handshakes: HandshakeLimiter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Prometheus metrics, kept only when `httpPort` says an HTTP gateway will serve them (src/cli/compose.ts builds it). */
  readonly metrics: Metrics | undefined;
  /**
   * The frame AEAD sealing this server's secure sessions (issue 18; STATS `aead`, spec §5.2),
   * chosen here so that a bad CONDUIT_AEAD fails the constructor, not the first HELLO;
   * `undefined` without keys.
   */
  readonly aead: AeadName | undefined;
  readonly #host: ConnectionHost<ServedConnection>;
  /** Issue 23: the RESP listener's side (docs/RESP.md); `undefined` without respPort and respSocket. */
  readonly #resp: RespFront | undefined;
  /** spec §3.15: which connection holds which key, told by the store's change hook. */
  readonly tracking: TrackingTable;
  /** spec §3.14: this server's slots in its group; `undefined` when standalone. */
  readonly #group: SlotOwnership | undefined;
  /** Issue 22: the `snapshot` file's load, saves and stats (docs/SNAPSHOT.md); `undefined` without one. */
  readonly snapshots: Snapshots | undefined;
  /** Issue 25: credentials, rights per identity and their reload (SIGHUP, RELOAD; spec §3.17, §6.8). */
  readonly access: AccessControl;

  constructor(options: Partial<ServerOptions> = {}) {
    super();
    this.options = resolveServerOptions(options);
    const o = this.options;
    // spec §3.15, §3.16: every change of a key, whatever made it (a request, the HTTP gateway,
    // the sweep, an eviction), reaches the tracking table and the lease table from the store's hook.
    const tracking = new TrackingTable(o.trackingMaxKeys);
    this.tracking = tracking;
    const leases = new LeaseTable({ maxMemory: o.maxMemory });
    this.leases = leases;
    const onChange = (change: StoreChange): void => {
      leases.changed(change.cause, change.key, () => change.previousValue());
      if (change.cause === 'flush') tracking.all();
      else tracking.changed(change.key);
    };
    this.store = new Store({ maxMemory: o.maxMemory, shards: o.shards, eviction: o.eviction, onChange });
    const counters = this.#counters;
    this.aead = o.keys.length > 0 ? aeadChoice().implementation : undefined;
    this.snapshots = o.snapshot === undefined ? undefined : new Snapshots({ ...o.snapshot, maxValueLength: o.maxValueSize, logger: o.logger });
    this.metrics = o.httpPort === undefined ? undefined : new Metrics(this);
    const handshakes = o.keys.length > 0 && o.maxHandshakesPerSecond > 0 ? new HandshakeLimiter(o.maxHandshakesPerSecond) : undefined;
    this.#handshakes = handshakes;
    const group = o.group === undefined ? undefined : new SlotOwnership(o.group, () => void (counters.moved += 1));
    this.#group = group;
    const access = new AccessControl(
      { keys: o.keys, tokens: o.tokens, certificates: o.certificates },
      { respPassword: o.respPassword, httpToken: o.httpToken },
      { logger: o.logger, load: o.reloadAccess, sessions: () => this.#connections },
    );
    this.access = access;
    // Decision 7 of issue 25: every FORBIDDEN counted for an identity is a sample of conduit_forbidden_total.
    const metrics = this.metrics;
    if (metrics !== undefined) access.counters.onForbidden = (id, reason) => metrics.forbidden(id, reason);
    this.#host = {
      access,
      get keys() {
        return access.table.keys;
      },
      group,
      tracking,
      metrics: this.metrics,
      store: this.store,
      leases: this.leases,
      answersCopied: true, // each answer is copied into the connection's output (or sealed) as it is queued
      maxInflight: o.maxInflight,
      maxOutputBuffer: o.maxOutputBuffer,
      maxBodySize: o.maxBodySize,
      maxValueSize: o.maxValueSize,
      logger: o.logger,
      stats: (maxBytes) => this.#statsBody(maxBytes),
      shutdown: () => this.#shutdownRequested(),
      reload: () => this.#reloadRequested(),
      countRequest: (answer) => {
        counters.total_commands_processed += 1;
        if (answer === 'suppressed') counters.quiet_suppressed += 1;
      },
      countDisconnect: (cause) => {
        counters.disconnects[cause] += 1;
      },
      countAuthFailure: () => {
        counters.auth_failures += 1;
      },
      admitHandshake: (address) => {
        // A Unix socket's peer is on this machine: not limited (it has no address to key on).
        if (handshakes === undefined || address === undefined || handshakes.admit(address, performance.now())) return true;
        counters.rejected_handshakes += 1;
        o.logger.debug({ remote: address, limit: o.maxHandshakesPerSecond }, 'HELLO answered BUSY: over --max-handshakes-per-second');
        return false;
      },
      outputHeld: (delta) => {
        this.#outputTotal += delta;
        if (this.#outputTotal > this.#outputPeak) this.#outputPeak = this.#outputTotal;
        if (delta > 0 && this.#outputTotal > o.maxOutputMemory) this.#shedOutput();
      },
      // spec §2.4: a first fragment makes the server allocate its total; what all connections
      // gather at once is bounded like their output (at least two of the largest messages).
      assembling: (delta) => {
        if (delta > 0 && this.#assemblyTotal + delta > Math.max(o.maxOutputMemory, 2 * (o.maxValueSize + REQUEST_OVERHEAD_LIMIT))) return false;
        this.#assemblyTotal += delta;
        return true;
      },
      released: (connection) => {
        if (this.#connections.delete(connection)) counters.connected_clients -= 1;
        this.emit('released');
      },
    };
    this.#resp = o.respPort === undefined && o.respSocket === undefined ? undefined : new RespFront(this, this.#host);
    if (this.#resp !== undefined) this.metrics?.addResp(this.#resp);
  }

  /** What RESP commands see of this server (INFO, AUTH); `undefined` when the RESP listener is off. */
  get resp(): RespFront | undefined {
    return this.#resp;
  }

  /** Counters of the server (not the store). */
  get counters(): Readonly<ServerCounters> {
    return this.#counters;
  }

  /** True once graceful shutdown began. */
  get draining(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Output held by all connections (queued, or written and not yet taken by the kernel),
   * now and at its highest since start: at most `maxOutputMemory` + one response.
   */
  get outputMemory(): { now: number; peak: number } {
    return { now: this.#outputTotal, peak: this.#outputPeak };
  }

  /** The STATS body: the store's counters and the server's (spec §5.2). */
  statsJson(): Buffer {
    return this.#statsBody(MAX_BODY_SIZE);
  }

  /**
   * Starts listening; resolves with the TCP address (port 0 picks one) and, with
   * `respPort`, the RESP listener's port, once every listener is up, or rejects with
   * the listen error (e.g. EADDRINUSE).
   *
   * @example
   * ```ts
   * const { port, respPort } = await new ConduitServer({ port: 0, respPort: 0 }).listen();
   * ```
   */
  async listen(): Promise<{ port: number; host: string; socket: string | undefined; respPort: number | undefined }> {
    const o = this.options;
    this.#checkDescriptorLimit();
    this.#checkItemBudget();
    // Before TCP, so a refused path leaves nothing listening.
    if (o.socket !== undefined) await claimSocketPath(o.socket, o.logger);
    if (o.respSocket !== undefined) await claimSocketPath(o.respSocket, o.logger);
    // Issue 22: the store is whole before the first client (or the HTTP gateway, which listens after us) can see it.
    await this.snapshots?.load(this.store);
    let tcp: AddressInfo | undefined;
    if (o.tcp) tcp = (await this.#listenOn({ host: o.host, port: o.port }, 'conduit')) as AddressInfo;
    if (o.socket !== undefined) await this.#listenOn({ path: o.socket }, 'conduit');
    // Issue 23: the RESP listener after the Conduit one; closed with it in close(), with the same drain.
    let resp: AddressInfo | undefined;
    if (o.respPort !== undefined) resp = (await this.#listenOn({ host: o.respHost ?? o.host, port: o.respPort }, 'resp')) as AddressInfo;
    if (o.respSocket !== undefined) await this.#listenOn({ path: o.respSocket }, 'resp');
    this.#resp?.listening(resp);
    this.#timer = setInterval(() => this.#checkTimeouts(), CHECK_INTERVAL_MS).unref();
    this.snapshots?.start(this.store);
    return { port: tcp?.port ?? 0, host: tcp?.address ?? o.host, socket: o.socket, respPort: resp?.port };
  }

  /** Warns at start when the connection limits do not fit the open-files limit (Linux only). */
  #checkDescriptorLimit(): void {
    this.#fdLimit = readOpenFilesLimit();
    if (this.#fdLimit === undefined) return;
    const http = this.options.httpPort === undefined ? 0 : HTTP_MAX_CONNECTIONS;
    const warning = fdShortfall(this.#fdLimit, this.options.maxConnections, http);
    if (warning !== undefined) {
      this.options.logger.warn({ softLimit: this.#fdLimit.soft, hardLimit: this.#fdLimit.hard, maxConnections: this.options.maxConnections }, warning);
    }
  }

  /**
   * Warns at start when the budget cannot hold the largest item a SET frame
   * carries (spec §3.3): an item must fit in the pages the budget holds after
   * its index (docs/STORAGE.md "What is charged"), so on a tiny --max-memory
   * such writes get TOO_LARGE on a store that looks empty. (Shards no longer
   * split the budget: from 1 MiB up every frame-sized item fits.)
   */
  #checkItemBudget(): void {
    const { maxMemory } = this.options;
    const largestValue = MAX_BODY_SIZE - SET_FIXED_SIZE - 1; // a 1-byte key
    const fits = this.store.largestValue(16);
    if (this.store.largestValue(1) >= largestValue) return;
    this.options.logger.warn(
      { maxMemory, largestValue: fits },
      `the ${maxMemory}-byte memory budget holds items of at most ${this.store.largestItem} bytes: values over about ${fits} bytes ` +
        'cannot be stored (TOO_LARGE). Raise --max-memory to store values up to the frame limit',
    );
  }

  /** Counts an accept that failed for lack of descriptors; logs at error at most once a second, with the count. */
  #acceptFailed(code: string): void {
    this.#counters.accept_errors += 1;
    const failures = this.#acceptFailures;
    failures.unlogged += 1;
    const now = performance.now();
    if (now - failures.loggedAt < 1_000) return;
    this.options.logger.error(
      { code, count: failures.unlogged, connections: this.#connections.size, softLimit: this.#fdLimit?.soft },
      `cannot accept connections: out of file descriptors (${code}), ${failures.unlogged} time(s) since the last report; ` +
        'the OS closes new connections unanswered until some close. Raise the limit (ulimit -n) or lower --max-connections',
    );
    failures.unlogged = 0;
    failures.loggedAt = now;
  }

  /**
   * Over --max-output-memory: disconnects the connections holding the most output until
   * the total is back under it. Runs only when the running total passes the budget.
   */
  #shedOutput(): void {
    const budget = this.options.maxOutputMemory;
    const total = this.#outputTotal;
    const holders = [...this.#connections].filter((c) => c.outputHeld > 0).sort((x, y) => y.outputHeld - x.outputHeld);
    for (const c of holders) {
      if (this.#outputTotal <= budget) break;
      c.disconnect(
        'output_memory',
        `holds ${c.outputHeld} bytes of unsent output; all connections held ${total} bytes, over --max-output-memory ${budget}`,
      );
    }
  }

  async #listenOn(where: { host: string; port: number } | { path: string }, kind: 'conduit' | 'resp'): Promise<AddressInfo | string | null> {
    const { listener, address } = await openListener(where, {
      tls: this.options.tls,
      frameTimeoutMs: this.options.frameTimeoutMs,
      logger: this.options.logger,
      accept: (socket) => this.#accept(socket, kind),
      accepted: () => void (this.#acceptedCount += 1),
      rawSocket: (raw) => {
        this.#rawSockets.add(raw);
        raw.once('close', () => this.#rawSockets.delete(raw));
      },
      acceptFailed: (code) => this.#acceptFailed(code),
    });
    this.#listeners.push(listener);
    return address;
  }

  #accept(socket: Socket, kind: 'conduit' | 'resp'): void {
    const draining = this.#closing !== undefined;
    if (draining || this.#connections.size >= this.options.maxConnections) {
      // spec §4.2: the one over the limit (or arriving during shutdown, §5.3) gets BUSY with
      // identifier 2^63, then a close. What it sends is read and discarded so its end is seen:
      // a socket closed with unread bytes resets, which could destroy the BUSY unread.
      this.#counters.rejected_connections += 1;
      this.#rejected.add(socket);
      const timer = setTimeout(() => socket.destroy(), this.options.frameTimeoutMs).unref();
      socket.on('error', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        this.#rejected.delete(socket);
        this.emit('released');
      });
      socket.resume();
      // spec §4.2 on the Conduit port; Redis's own text on the RESP port.
      if (kind === 'resp') socket.end(RespFront.refusal(draining));
      else socket.end(draining ? BUSY_CLOSING : BUSY_FULL);
      this.options.logger.warn(
        { remote: `${socket.remoteAddress ?? 'unix'}:${socket.remotePort ?? 0}`, cause: draining ? 'shutdown' : 'max_connections' },
        draining ? 'rejecting connection: shutting down' : 'rejecting connection: too many connections',
      );
      return;
    }
    this.#counters.connected_clients += 1;
    this.#counters.total_connections_received += 1;
    const resp = kind === 'resp' ? this.#resp : undefined;
    this.#connections.add(resp === undefined ? new Connection(socket, this.#host) : resp.connect(socket));
  }

  /** Frame, handshake and idle timeouts, checked for every connection every 250 ms; and descriptor exhaustion. */
  #checkTimeouts(): void {
    const now = performance.now();
    // Near the limit, see whether the descriptors ran out: libuv then drops connections unseen.
    const soft = this.#fdLimit?.soft ?? Number.POSITIVE_INFINITY;
    if (this.#connections.size + this.#rejected.size + this.#rawSockets.size + FD_MARGIN >= soft) {
      const exhausted = descriptorsExhausted();
      if (exhausted !== undefined) this.#acceptFailed(exhausted);
    }
    // Each connection knows its own deadlines (frame, handshake, idle, and a peer that does not close).
    for (const c of this.#connections) c.checkTimeouts(now, this.options);
    this.#handshakes?.prune(now); // buckets idle for a second are full again: dropped (handshake-limiter.ts)
  }

  /**
   * The STATS body in at most `maxBytes` (spec §2.1; 16 bytes less in a secure session, §6.4).
   * Too large: `access.identities` (one entry per identity of the key file, up to
   * thousands) is dropped first, then the per-shard detail, rather than fail; what is
   * left is a few hundred bytes whatever the load.
   */
  #statsBody(maxBytes: number): Buffer {
    const { quiet_suppressed: _notInStats, ...counters } = this.#counters; // see ServerCounters.quiet_suppressed
    const stats = {
      ...this.store.stats(),
      ...counters,
      ...(this.aead === undefined ? {} : { aead: this.aead }),
      max_value_size: this.options.maxValueSize,
      group: this.#group?.summary ?? null, // spec §5.2, §3.14
      leases: this.leases.stats(), // spec §3.16
      output_memory: this.#outputTotal,
      output_memory_peak: this.#outputPeak,
      tracking: this.tracking.stats(), // spec §3.15, §5.2
      snapshot: this.snapshots?.stats() ?? null, // spec §5.2, docs/SNAPSHOT.md
      access: this.access.toJSON(), // spec §5.2, §3.17
    };
    const body = Buffer.from(JSON.stringify(stats));
    if (body.length <= maxBytes) return body;
    const { identities: _dropped, ...access } = stats.access;
    const lighter = Buffer.from(JSON.stringify({ ...stats, access }));
    return lighter.length <= maxBytes ? lighter : Buffer.from(JSON.stringify({ ...stats, access, shards: [] }));
  }

  /**
   * RELOAD (spec §3.17, protocol 1.4; the admin check is the connection's): re-reads the key
   * file. OK with `{"keys","tokens","certificates","closed"}`, or NOT_STORED with the error
   * line when the reload is refused (a bad file, a mode switch, no key file): nothing changed.
   */
  #reloadRequested(): Reply {
    const outcome = this.access.reload();
    if (!outcome.ok) return { status: Status.NOT_STORED, body: Buffer.from(outcome.error) };
    const { keys, tokens, certificates, closed } = outcome;
    return { status: Status.OK, body: Buffer.from(JSON.stringify({ keys, tokens, certificates, closed })) };
  }

  #shutdownRequested(): Reply {
    if (!this.options.allowShutdown) {
      return { status: Status.FORBIDDEN, body: Buffer.from('SHUTDOWN is not allowed (start the server with --allow-shutdown)') };
    }
    // After this turn's responses are written, so the client gets its OK first.
    setImmediate(() => this.emit('shutdown'));
    return { status: Status.OK, body: undefined };
  }

  /**
   * Graceful shutdown (spec §5.3): stops accepting at once, answers every
   * request already received, flushes, closes the connections, and resolves;
   * connections still open after `shutdownTimeoutMs` are destroyed.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => server.close().then(() => process.exit(0)));
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * Closing a listener resets the connections still queued in its backlog, and the kernel
   * offers no count of them. Node accepts one connection per event-loop turn (libuv 1.45+),
   * so keep turning (each accepted one gets BUSY in #accept, spec §5.3) until two turns in
   * a row accept nothing and at least ACCEPT_MIN_MS has passed; ACCEPT_WINDOW_MS bounds it
   * only against connections that keep coming. Open connections are neither read nor
   * executed meanwhile (Connection.drain), so each turn is short: 20 queued connections
   * take about 15 ms on an idle 2-core machine, so the listener closes well within 100 ms.
   */
  async #acceptBacklog(): Promise<void> {
    const started = performance.now();
    let seen = this.#acceptedCount;
    let quietTurns = 0;
    while (performance.now() - started < ACCEPT_WINDOW_MS) {
      // An immediate runs after the poll phase, where a queued connection is accepted.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#acceptedCount !== seen) {
        seen = this.#acceptedCount;
        quietTurns = 0;
      } else if (++quietTurns >= 2 && performance.now() - started >= ACCEPT_MIN_MS) {
        return;
      }
    }
  }

  async #close(): Promise<void> {
    const started = performance.now();
    const acceptedBefore = this.#acceptedCount;
    for (const c of this.#connections) c.drain();
    await this.#acceptBacklog();
    const listenersClosed = Promise.all(
      this.#listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    this.options.logger.info(
      { ms: Math.round((performance.now() - started) * 10) / 10, refused: this.#acceptedCount - acceptedBefore, connections: this.#connections.size },
      'stopped listening',
    );
    for (const c of this.#connections) c.finishDrain();
    const deadline = setTimeout(() => {
      for (const c of this.#connections) c.destroy();
      for (const s of this.#rejected) s.destroy();
    }, this.options.shutdownTimeoutMs).unref();
    while (this.#connections.size > 0 || this.#rejected.size > 0) await new Promise((resolve) => this.once('released', resolve));
    clearTimeout(deadline);
    // Sockets still in a TLS handshake hold no request; with allowHalfOpen a peer that gave up leaves them open.
    for (const raw of this.#rawSockets) raw.destroy();
    await listenersClosed;
    clearInterval(this.#timer);
    // Issue 22: the exact save, after the drain; a failure rejects close() with FILE left as it was.
    try {
      await this.snapshots?.saveAtShutdown(this.store);
    } finally {
      this.store.close();
    }
  }
}
