import { TAG_SIZE } from '../crypto/frame-cipher.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  DEFAULT_MAX_VALUE_SIZE,
  Feature,
  LeaseState,
  isFatalStatus,
  MAX_BODY_SIZE,
  QUIET_BIT,
  REQUEST_OVERHEAD_LIMIT,
  SERVER_ID_BASE,
  Status,
  TrackingMode,
  type TrackingModeValue,
} from '../protocol/constants.js';
import { idOf, type RawFrame } from '../protocol/header.js';
import { EnvelopeReader } from '../protocol/envelope-reader.js';
import { encodeCapsBody } from '../protocol/caps-body.js';
import { FragmentAssembler } from '../protocol/fragments.js';
import { readRequest, RequestView } from '../protocol/request-reader.js';
import { ACCESS_NEEDS, type ForbiddenReason } from '../protocol/access.js';
import { IdentityCounters, scopedStats } from './access/access-counters.js';
import type { Rights } from './access/rights.js';
import type { AnswerQueue } from './answer-queue.js';
import type { ConnectionHost } from './connection-host.js';
import { execute, leaseAnsweredValue, tooLargeForFrame, type Reply } from './execute.js';
import { PendingInvalidations } from './invalidation-pushes.js';
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
const BUSY_GATHERING = Buffer.from('server is gathering too many large requests; retry later');
const BUSY_SENDING = Buffer.from('server is sending too many large answers; retry later');

/**
 * spec §3.13: what this server supports, CAPS's `features`: fragments (§2.4),
 * versions/GETS/CAS/GAT (§3.11–3.12), SCAN (§3.10), quiet writes (§2.5), TOPOLOGY
 * and MOVED (§3.14; standalone too: its TOPOLOGY says it owns every key), LEASE (§3.16).
 */
const SERVER_FEATURES = Feature.FRAGMENTS | Feature.VERSIONS | Feature.SCAN | Feature.QUIET | Feature.TOPOLOGY | Feature.TRACKING | Feature.LEASES | Feature.RELOAD;

/** spec §3.13: the protocol's minor version this server speaks, 1.4 (RELOAD and FORBIDDEN for rights, §3.17). */
const SERVER_MINOR = 4;

const TRACKING_OK: Reply = { status: Status.OK, body: undefined };

/** spec §3.16: lease owner ids, one per connection of the process (0 is NO_OWNER). */
let nextLeaseOwner = 1;

/**
 * spec §3.15: the requests whose OK answer carries a value the client may
 * keep, so a connection in KEYS mode is tracked for the key.
 */
function answersValue(op: RequestView['op']): boolean {
  return op === 'GET' || op === 'GETS' || op === 'GAT';
}

/**
 * How this connection's answers may be framed (spec §2.4, §3.13): `one-frame` until the
 * client declares in CAPS that it accepts fragmented responses (a 1.0 client never does:
 * an answer too large for a frame stays TOO_LARGE for it), `fragments` after.
 */
export type AnswerFraming = 'one-frame' | 'fragments';

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
  /** Fragmented requests (spec §2.4), reassembled up to --max-value-size + 272 bytes. */
  readonly #assembler: FragmentAssembler;
  /** Bytes of the message being gathered that the server counts (ConnectionHost#assembling). */
  #gathering = 0;
  #framing: AnswerFraming = 'one-frame';
  /** Identifiers of the server's own frames (spec §2.2: top bit set), counted up: fatal errors and pushes share them. */
  #serverId = SERVER_ID_BASE;
  /** spec §3.15: this connection's tracking mode and its registration in the host's table (0: none). */
  #trackingMode: TrackingModeValue = TrackingMode.OFF;
  #trackingId = 0;
  /** spec §3.16: this connection's id as a lease owner (its share of the bound; its leases end at {@link releaseLeases}). */
  readonly #leaseOwner = nextLeaseOwner++;
  /** INVALIDATE pushes waiting for their place in the answer order (spec §3.15). */
  readonly #pushes: PendingInvalidations;
  /**
   * Issue 25 (spec §3.17): the rights this connection's identity holds, set when it
   * authenticates (HELLO's key id, a TLS client certificate); `undefined`: every right and
   * no check (plaintext mode, test hosts), the one test the plaintext hot path pays.
   */
  #rights: Rights | undefined;
  /** The credential digest the rights came with (AccessTable#credentialOf), for a reload's check. */
  #credential: string | undefined;
  /** The identity's counters (STATS `access.identities`), counted into directly. */
  #counters: IdentityCounters | undefined;
  /** Closes the connection as `key_removed` (a HELLO whose key a reload removed as it was answered). */
  readonly #keyGone: (reason: string) => void;

  /**
   * `remote`: the peer's address, for logs. `wake`: pushes wait (spec §3.15);
   * the connection should flush soon, calling {@link emitPushes}.
   */
  constructor(
    host: ConnectionHost,
    gate: SecureGate,
    answers: AnswerQueue,
    remote: () => string,
    wake: () => void = () => {},
    keyGone: (reason: string) => void = () => {},
  ) {
    this.#host = host;
    this.#keyGone = keyGone;
    this.#gate = gate;
    this.#answers = answers;
    this.#remote = remote;
    this.#pushes = new PendingInvalidations((body) => {
      const id = this.nextServerId();
      this.#enqueue(Number(id >> 32n), Number(id & 0xffff_ffffn), Status.INVALIDATE, body, true);
    }, wake);
    this.#assembler = new FragmentAssembler((host.maxValueSize ?? DEFAULT_MAX_VALUE_SIZE) + REQUEST_OVERHEAD_LIMIT, (total) => this.#gather(total));
  }

  /**
   * A first fragment announces `total` bytes: counted against the server's bound on
   * messages being gathered (a first fragment of 16 bytes makes the server allocate up to
   * --max-value-size), or refused.
   */
  #gather(total: number): boolean {
    const host = this.#host;
    if (host.assembling !== undefined && !host.assembling(total)) return false;
    this.#gathering = total;
    return true;
  }

  /** The message being gathered is done (run, refused or broken) or the connection closed: its bytes are released. */
  releaseGathering(): void {
    if (this.#gathering === 0) return;
    this.#host.assembling?.(-this.#gathering);
    this.#gathering = 0;
  }

  /** The rights this connection's identity holds (spec §3.17); `undefined`: every right, unchecked. */
  get rights(): Rights | undefined {
    return this.#rights;
  }

  /** The credential digest its rights came with, for a reload's check (spec §6.8). */
  get credential(): string | undefined {
    return this.#credential;
  }

  /**
   * Issue 25: this connection authenticated as `rights` (a TLS client certificate at accept;
   * HELLO's key id, see {@link handle}): every later request is checked against them and
   * counted for the identity. Plaintext connections never call it.
   */
  authenticate(rights: Rights): void {
    const access = this.#host.access;
    this.#rights = rights;
    this.#credential = access?.table.credentialOf(rights);
    this.#counters = access?.counters.of(rights.id) ?? new IdentityCounters(); // a host without access control: counted apart
  }

  /** How this connection's answers may be framed (spec §2.4): CAPS decides. */
  get framing(): AnswerFraming {
    return this.#framing;
  }

  /** A fragmented request is partly in: the frame timeout runs while none arrives (spec §2.4). */
  get midMessage(): boolean {
    return this.#assembler.midMessage;
  }

  /**
   * Handles one frame (used before the next `take()`: the decoder refills it).
   * `mode` `'busy'`: the frame was read after a drain began and gets BUSY
   * (spec §5.3). Returns a {@link Refusal} when the connection must close.
   * A sealed envelope (spec §6.7) is opened here and its frames are then
   * handled by {@link handleEnveloped}, while {@link enveloped} says some remain.
   */
  handle(raw: RawFrame, mode: 'execute' | 'busy'): Refusal | undefined {
    // spec §2.4: a later fragment of a message carries its identifier (and, sealed, its number).
    const fragment = this.#assembler.fragmentNumber(raw.opcode, raw.idHi, raw.idLo);
    if (this.#host.keys !== undefined) {
      // Secure mode: the gate's checks (§6.3 monotonic identifiers, §6.4 the tag), the body
      // opened where the decoder left it (issue 18: no buffer per frame).
      const admitted = this.#gate.admit(raw, fragment);
      switch (admitted.kind) {
        case 'refused':
          return admitted;
        case 'hello':
          // spec §3.17: the session's rights are its key id's in the table it was accepted under.
          if (this.#host.access !== undefined && !this.#helloRights()) return undefined;
          // spec §6.5: HELLO's answer is plaintext; the client has no keys until it reads it.
          this.queue(raw.idHi, raw.idLo, Status.OK, admitted.reply, false);
          return undefined;
        case 'busy':
          // spec §6.2: BUSY over the rate limit, in plaintext as HELLO's OK would be.
          this.queue(raw.idHi, raw.idLo, Status.BUSY, admitted.reply, false);
          return undefined;
        case 'envelope':
          this.#envelope.load(raw.source, raw.bodyStart, raw.length - TAG_SIZE);
          return undefined;
        case 'opened':
          return this.#take(raw, raw.length - TAG_SIZE, mode); // the plaintext: the body's bytes before the tag
      }
    }
    if (fragment === 0 && this.#answers.includesId(raw.idHi, raw.idLo)) {
      // spec §2.2: in plaintext mode an identifier must not repeat one still in flight.
      const error = ProtocolError.of('REPLAY', `identifier ${idOf(raw)} is already in flight`);
      return { error, reason: error.message };
    }
    return this.#take(raw, raw.length, mode);
  }

  /**
   * HELLO was accepted: the session takes its key id's rights (spec §3.17). The gate read
   * the current keys, so the id is in the current table; should it not be (a reload
   * between), the connection is closed as `key_removed` and false returned.
   */
  #helloRights(): boolean {
    const keyId = this.#gate.keyId ?? '';
    const rights = this.#host.access?.table.forKey(keyId);
    if (rights === undefined) {
      this.#keyGone(`a reload removed key id ${keyId} as its HELLO was answered`);
      return false;
    }
    this.authenticate(rights);
    return true;
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
    const admitted = this.#gate.admitInner(inner, this.#assembler.fragmentNumber(inner.opcode, inner.idHi, inner.idLo));
    if (admitted.kind === 'refused') return admitted;
    return this.#take(inner, inner.length, mode);
  }

  /**
   * One admitted frame whose plaintext body is `length` bytes at its position, through the
   * fragment assembler (spec §2.4): a frame that is no fragment runs as it is (nothing
   * copied); a message runs once its last fragment is in, from the one buffer it was
   * gathered in; a message over the limit is answered TOO_LARGE at its first fragment
   * (non-fatal) and its other fragments are dropped; broken fragment rules are fatal.
   */
  #take(raw: RawFrame, length: number, mode: 'execute' | 'busy'): Refusal | undefined {
    const assembler = this.#assembler;
    const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, length);
    switch (step) {
      case 'frame':
        return this.#run(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, length, mode);
      case 'more':
        return undefined;
      case 'message': {
        const message = assembler.message;
        this.releaseGathering();
        return this.#run(assembler.code, assembler.idHi, assembler.idLo, message, 0, message.length, mode);
      }
      case 'refused': {
        if (!assembler.refusedForSize) {
          this.queue(assembler.idHi, assembler.idLo, Status.BUSY, BUSY_GATHERING);
          this.#host.countRequest('sent');
          return undefined;
        }
        const limit = assembler.limit;
        const text = `request of ${assembler.total} bytes exceeds the server's limit of ${limit} (--max-value-size ${limit - REQUEST_OVERHEAD_LIMIT} + ${REQUEST_OVERHEAD_LIMIT})`;
        this.queue(assembler.idHi, assembler.idLo, Status.TOO_LARGE, Buffer.from(text));
        this.#host.countRequest('sent');
        return undefined;
      }
      default:
        this.releaseGathering();
        return { error: step, reason: step.message };
    }
  }

  /** Reads, executes and answers one request whose plaintext body is `length` bytes of `source` from `bodyStart`. */
  #run(opcode: number, idHi: number, idLo: number, source: Buffer, bodyStart: number, length: number, mode: 'execute' | 'busy'): undefined {
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
        const maxBody = this.maxReplyBody;
        const rights = this.#rights;
        // spec §3.17: a connection with rights (secure mode, a client certificate) is checked and counted.
        if (rights !== undefined) reply = this.#runAs(rights, request, maxBody);
        // spec §2.4: a client that declared fragments in CAPS gets values of any size.
        else if (request.op === 'CAPS') reply = this.#caps(request.features);
        else if (request.op === 'TRACKING' && this.#host.tracking !== undefined) reply = this.#tracking(request);
        else reply = execute(request, this.#host, maxBody, this.#framing === 'fragments' ? Number.POSITIVE_INFINITY : maxBody, this.#leaseOwner);
        // spec §3.15: a KEYS connection holds a value it read, and one it stored (after the push for that change).
        if (this.#trackingMode === TrackingMode.KEYS && reply.status === Status.OK && (answersValue(request.op) || request.op === 'SET' || (request.op === 'LEASE' && leaseAnsweredValue(reply)))) {
          this.trackRead(request);
        }
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
   * One request of a connection with rights (spec §3.17): refused FORBIDDEN before it runs
   * (and before MOVED) when its identity lacks a class it needs or its key is outside the
   * prefixes; TRACKING's prefixes must lie inside them; LIST and SCAN answer only keys
   * inside them; STATS without admin answers the identity's own counters. Counted for the
   * identity: every request, reads that hit or missed, stored writes.
   */
  #runAs(rights: Rights, request: RequestView, maxBody: number): Reply {
    const counters = this.#counters as IdentityCounters; // set with the rights (authenticate)
    counters.requests += 1;
    const op = request.op;
    // spec §3.17: STATS needs read, or admin (ACCESS_NEEDS.STATS.orAdmin: the server-wide STATS is admin's, read or not).
    let reason: ForbiddenReason | undefined = rights.check(ACCESS_NEEDS[op], request.keySource, request.keyStart, request.keyLength);
    if (reason === undefined && op === 'TRACKING' && request.trackingMode === TrackingMode.PREFIXES && !rights.everyKey) {
      for (const prefix of request.prefixes) if (!rights.covers(prefix)) reason = 'prefix';
    }
    if (reason !== undefined) {
      this.#host.access?.counters.forbidden(rights, reason, counters);
      return { status: Status.FORBIDDEN, body: Buffer.from(rights.message(reason)) };
    }
    if (op === 'CAPS') return this.#caps(request.features);
    if (op === 'TRACKING' && this.#host.tracking !== undefined) return this.#tracking(request);
    // spec §5.2, §3.17: STATS is the server's for admin, the identity's own for read alone.
    if (op === 'STATS' && !rights.may('admin')) return { status: Status.OK, body: scopedStats(rights, counters) };
    const reply = execute(request, this.#host, maxBody, this.#framing === 'fragments' ? Number.POSITIVE_INFINITY : maxBody, this.#leaseOwner, rights.keyFilter);
    const { status } = reply;
    switch (op) {
      case 'GET':
      case 'GETS':
      case 'GAT':
        if (status === Status.OK) counters.keyspace_hits += 1;
        else if (status === Status.NOT_FOUND) counters.keyspace_misses += 1;
        break;
      case 'LEASE':
        // A HIT is a read that found the key; GRANTED, WAIT and STALE found none live.
        if (status === Status.OK) {
          if (reply.body?.[0] === LeaseState.HIT) counters.keyspace_hits += 1;
          else counters.keyspace_misses += 1;
        }
        break;
      case 'SET':
      case 'INCR':
        if (status === Status.OK) counters.total_sets += 1;
        break;
    }
    return reply;
  }

  /**
   * Adds one answer to this turn's output. In a secure session its body is
   * sealed now, with the header it will be written with as associated data;
   * fatal statuses stay plaintext (spec §6.5), and so does HELLO's OK (`seal` false).
   */
  queue(idHi: number, idLo: number, status: number, body: Buffer | undefined, seal = !isFatalStatus(status)): void {
    // spec §3.15: pushes for changes made before this answer's request ran (or while it ran) go first.
    if (this.#pushes.pending) this.emitPushes();
    this.#enqueue(idHi, idLo, status, body, seal);
  }

  /** {@link queue} without the pushes: the one place an answer or a push enters the output. */
  #enqueue(idHi: number, idLo: number, status: number, body: Buffer | undefined, seal: boolean): void {
    const cipher = seal ? this.#gate.sending : undefined;
    const cap = cipher === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
    if (body !== undefined && body.length > cap && this.#framing === 'fragments' && !isFatalStatus(status)) {
      // The answer's own copy stays pinned until its last fragment is queued, however slowly the
      // peer reads: it counts in the bound on large messages in flight (ConnectionHost#assembling),
      // so peers that never read cannot pin one copy each (an outside review: 20 of them, 1.4 GiB).
      const pinned = body.length;
      if (this.#host.assembling !== undefined && !this.#host.assembling(pinned)) {
        ({ status, body } = { status: Status.BUSY, body: BUSY_SENDING });
      } else {
        // spec §2.4: as fragments, a window at a time (AnswerQueue#fillFragments).
        const done = (): void => void this.#host.assembling?.(-pinned);
        this.#answers.pushFragmented(idHi, idLo, status, body, cipher, cipher !== undefined && this.#gate.envelopes, cap, done);
        return;
      }
    }
    if (body !== undefined && body.length > cap) {
      // The executor sizes answers to the cap; one that still does not fit (a bug) becomes a
      // non-fatal TOO_LARGE here, never a frame over spec §2.1 or a throw in writeHeader.
      this.#host.logger.error({ remote: this.#remote(), status, length: body.length, cap }, 'answer too large for one frame: sent TOO_LARGE');
      ({ status, body } = tooLargeForFrame(body.length, cap));
    }
    this.#answers.pushId(idHi, idLo, status, body, cipher, cipher !== undefined && this.#gate.envelopes);
  }

  /** The next server-originated identifier (spec §2.2, ≥ 2^63): a fatal error's or a push's. */
  nextServerId(): bigint {
    return this.#serverId++;
  }

  /**
   * Queues the INVALIDATE pushes that wait (spec §3.15) into the output, in
   * order: before the next answer ({@link queue}) and at each flush. In a
   * secure session each is sealed like an answer, with its own server
   * identifier as nonce in a per-frame session (§6.4) or inside this turn's
   * envelope (§6.7). Not while an answer streams as fragments (the caller
   * checks): fragments are contiguous (§2.4), and the push comes after them.
   */
  emitPushes(): void {
    const frames = this.#pushes.emit();
    if (frames > 0) this.#host.tracking?.countPush(frames);
  }

  /** Whether INVALIDATE pushes wait to be queued. */
  get pushesPending(): boolean {
    return this.#pushes.pending;
  }

  /**
   * spec §3.15: this connection (in KEYS mode) was answered the value of the
   * request's key: it is told when the key changes. GET, GETS and GAT call it
   * here; LEASE's HIT and STALE answers (§3.16) are to call it too.
   */
  trackRead(request: RequestView): void {
    if (this.#trackingMode !== TrackingMode.KEYS) return;
    this.#host.tracking?.track(this.#trackingId, request.keySource, request.keyStart, request.keyLength);
  }

  /** spec §3.16: the connection closed: the leases it holds end now, so their keys are free at once, not after lease_ms. */
  releaseLeases(): void {
    this.#host.leases?.release(this.#leaseOwner);
  }

  /** The connection ended or closed: its registration is dropped (its pairs lazily) and no push waits. */
  stopTracking(): void {
    this.#host.tracking?.unregister(this.#trackingId);
    this.#trackingId = 0;
    this.#trackingMode = TrackingMode.OFF;
    this.#pushes.stop();
  }

  /** spec §3.15: TRACKING replaces this connection's mode (leaving KEYS forgets its keys: a new registration). */
  #tracking(request: RequestView): Reply {
    const table = this.#host.tracking;
    if (table === undefined) return TRACKING_OK;
    if (request.trackingMode === TrackingMode.KEYS && this.#trackingMode === TrackingMode.KEYS) return TRACKING_OK; // keeps its keys
    table.unregister(this.#trackingId);
    this.#trackingMode = request.trackingMode;
    this.#trackingId = table.register(this.#pushes, request.trackingMode, request.prefixes);
    return TRACKING_OK;
  }

  /** spec §3.13: records whether the client takes fragmented answers and answers with what the server supports. */
  #caps(features: number): Reply {
    this.#framing = (features & Feature.FRAGMENTS) !== 0 ? 'fragments' : 'one-frame';
    const maxValueSize = this.#host.maxValueSize ?? DEFAULT_MAX_VALUE_SIZE;
    return { status: Status.OK, body: encodeCapsBody({ minor: SERVER_MINOR, features: SERVER_FEATURES, maxValueSize }) };
  }

  /**
   * The largest response body this connection can frame (spec §2.1): once a secure
   * session seals every answer, 16 bytes of it are the tag (§6.4).
   */
  get maxReplyBody(): number {
    return this.#gate.sending === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
  }
}
