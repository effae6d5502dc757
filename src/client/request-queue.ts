import Denque from 'denque';
import type { FrameCipher } from '../crypto/frame-cipher.js';
import { ConduitError } from '../protocol/errors.js';
import { TAG_SIZE } from '../crypto/frame-cipher.js';
import { MAX_BODY_SIZE, Opcode, QUIET_BIT, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';
import { OutputBatch, type FrameSink } from '../protocol/output-batch.js';
import { pushFragments } from './fragment-writer.js';

/**
 * The client's requests from call to result, with no socket in sight:
 *
 * ```
 *             in flight (written, in order)          queued (not written yet)
 *   #inflight: [ r4 | r5 | r6 ]            #queued: [ r7 | r8 | r9 ]
 *                ^           ^                        ^            ^
 *                |           |                        |            enqueue() adds at the tail
 *                |           +------- writeTo() ------+ moves from the head, up to maxInflight,
 *                |                                      numbered (and sealed), in one write
 *                settle(): the next answer must carry r4's identifier (spec §2.3)
 *
 *   r5 timed out: settled already, it keeps its slot so that its late answer
 *   is recognised and dropped, never given to r6.
 * ```
 *
 * Quiet writes (spec §2.5) are answered only when they fail, so an answer
 * may skip them: it settles every older quiet write as succeeded, then its
 * own request (§2.3). Quiet writes last in flight get a fence, a HEALTH the
 * queue adds itself, so some answer always comes; one slot is kept for it.
 *
 * ```
 *   #inflight: [ q4 | q5 | q6 | fence7 ]   answer 7: q4, q5, q6 succeeded, then 7
 *                                          answer 5: q4 succeeded, q5 failed (its status)
 * ```
 *
 * A request is queued, then in flight, then settled (resolved, rejected, or
 * timed out). A request that times out in flight keeps its slot until its
 * late answer comes or the connection is given up. `flushAll(err)` rejects
 * everything at once, as on a closed client.
 *
 * @module
 */

/** Turns a response frame into a call's result; throws the {@link ConduitError} it stands for. */
export type ReplyDecoder = (frame: Frame) => unknown;

/** The limits of a {@link RequestQueue}: see {@link ClientOptions} for each. */
export interface QueueLimits {
  readonly maxInflight: number;
  readonly maxQueued: number;
  readonly requestTimeoutMs: number;
  readonly maxSilentTimeouts: number;
}

/** One request: encoded once at call time; numbered (and sealed) when written. */
interface Pending {
  readonly opcode: number;
  readonly body: Buffer[];
  /** The body's bytes: over one frame, it is sent as fragments (spec §2.4). */
  readonly size: number;
  readonly decode: ReplyDecoder;
  readonly resolve: (value: never) => void;
  readonly reject: (error: ConduitError) => void;
  readonly deadline: number;
  /** spec §2.5: a quiet write (OPCODE bit 6), settled by a later answer when it succeeds. */
  readonly quiet: boolean;
  id: bigint;
  /** Resolved, rejected or timed out: a late answer is discarded. */
  settled: boolean;
}

/**
 * What {@link RequestQueue.writeTo} does with a request whose body of `size`
 * bytes is over `frameLimit`: send it in fragments, wait, or fail it alone.
 */
export type LargeGate = (size: number, frameLimit: number) => 'send' | 'wait' | ConduitError;

/** Without a gate, a request over one frame fails alone (nothing said the server takes fragments). */
const refuseLarge: LargeGate = (size, frameLimit) => new ConduitError('TOO_LARGE', `body of ${size} bytes exceeds the frame limit of ${frameLimit}`);

/** The sweep runs this often while anything is outstanding. */
const SWEEP_MS = 10;

const violation = (message: string): ConduitError => new ConduitError('PROTOCOL_ERROR', `${message}; connection closed`);

const EMPTY = Buffer.alloc(0);
const FENCE_BODY = [EMPTY];
const ignore = (): void => {};

/**
 * The queue of one client: requests queued → in flight → settled,
 * identifiers, matching answers, timeouts.
 *
 * @example
 * ```ts
 * const queue = new RequestQueue(limits, (waiting) => {});
 * const { opcode, body } = encodeRequestBody({ op: 'HEALTH' });
 * const answer = queue.enqueue(opcode, body, okOr(asVoid));
 * queue.writeTo(socket, undefined); // written with identifier 0
 * queue.settle(frame);              // frame: the answer to 0
 * ```
 */
export class RequestQueue {
  readonly #limits: QueueLimits;
  readonly #queued = new Denque<Pending>();
  readonly #inflight = new Denque<Pending>();
  readonly #batch = new OutputBatch(VERSION_REQUEST);
  readonly #onSwept: (waiting: boolean) => void;
  #nextId = 0n;
  /** In-flight requests that timed out since the last answer on this connection. */
  #silentTimeouts = 0;
  #sweepTimer: NodeJS.Timeout | undefined;

  /** `onSwept(waiting)` runs after every sweep; `waiting`: something in flight may still be answered in time. */
  constructor(limits: QueueLimits, onSwept: (waiting: boolean) => void) {
    this.#limits = limits;
    this.#onSwept = onSwept;
  }

  /** Requests waiting to be written. */
  get queued(): number {
    return this.#queued.length;
  }

  /** Requests written and awaiting their answer (timed-out ones included until it comes). */
  get inflight(): number {
    return this.#inflight.length;
  }

  /** No room for one more: maxInflight written plus maxQueued waiting (bounded memory). */
  get full(): boolean {
    return this.#queued.length + this.#inflight.length >= this.#limits.maxQueued + this.#limits.maxInflight;
  }

  /** Some request still waits for its result (not only timed-out ones whose answers would be dropped). */
  get outstanding(): boolean {
    return this.#queued.length > 0 || this.#inflight.toArray().some((p) => !p.settled);
  }

  /**
   * Queues a request, its deadline counted from now, queued time included,
   * and starts the sweep. Rejects with QUEUE_FULL when {@link full}.
   */
  enqueue<T>(opcode: number, body: Buffer[], decode: (frame: Frame) => T): Promise<T> {
    // Bounded memory: at most maxInflight written plus maxQueued waiting (quiet writes and fences included).
    if (this.full) return Promise.reject(new ConduitError('QUEUE_FULL', `${this.#limits.maxQueued} requests are already waiting`));
    let quiet = (opcode & QUIET_BIT) !== 0;
    if (quiet && this.#limits.maxInflight < 2) {
      // A quiet write needs a second slot for its fence (see writeTo); with one slot it is sent as a plain write.
      opcode &= ~QUIET_BIT;
      quiet = false;
    }
    return this.#add(opcode, body, decode, quiet, 'back');
  }

  /**
   * Queues a request ahead of every queued one, whatever the bounds: the
   * client's CAPS, the first request of every connection (spec §3.13).
   */
  enqueueFirst<T>(opcode: number, body: Buffer[], decode: (frame: Frame) => T): Promise<T> {
    return this.#add(opcode, body, decode, false, 'front');
  }

  #add<T>(opcode: number, body: Buffer[], decode: (frame: Frame) => T, quiet: boolean, end: 'front' | 'back'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + this.#limits.requestTimeoutMs;
      let size = 0;
      for (let i = 0; i < body.length; i += 1) size += (body[i] as Buffer).length;
      const pending: Pending = { opcode, body, size, decode, resolve: resolve as (value: never) => void, reject, deadline, quiet, id: -1n, settled: false };
      if (end === 'back') this.#queued.push(pending);
      else this.#queued.unshift(pending);
      this.startSweep();
    });
  }

  /** A new connection: identifiers start again at `firstId` (1 in a secure session: HELLO used 0, spec §6.2). */
  restart(firstId: bigint): void {
    this.#nextId = firstId;
    this.#silentTimeouts = 0;
    this.#batch.restartEnvelopes(); // spec §6.7: a new session's first envelope is 2^63 again
  }

  /**
   * Moves queued requests into flight, up to maxInflight, and writes them in
   * one write through the output batch; in a secure session each body is
   * sealed for its frame (spec §6.4), or, when the session agreed to them
   * (`envelopes`), the requests go in sealed envelopes, one AEAD for all
   * (spec §6.7). Quiet writes last in flight get their fence (a HEALTH, spec
   * §2.5) when `fence` is `'end-of-turn'`, or at once when more quiet writes
   * wait for the slot kept for it; with `'when-blocked'` the caller writes
   * the end-of-turn fence later (see {@link unfenced}), so quiet writes made
   * over several ticks of one turn share one. Returns false when `sink`
   * asks to wait for 'drain'.
   */
  writeTo(
    sink: FrameSink,
    cipher: FrameCipher | undefined,
    envelopes = false,
    fence: 'end-of-turn' | 'when-blocked' = 'end-of-turn',
    large: LargeGate = refuseLarge,
  ): boolean {
    const inflight = this.#inflight;
    const max = this.#limits.maxInflight;
    // spec §2.1, §6.4: one frame's body; a sealed one leaves room for the tag.
    const frameLimit = cipher === undefined ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
    let blocked = false;
    while (inflight.length < max) {
      const next = this.#queued.peekFront();
      if (next === undefined) break;
      if (next.settled) {
        this.#queued.shift(); // timed out while queued
        continue;
      }
      // spec §2.5: a quiet write leaves the last slot to the fence that will settle it.
      if (next.quiet && inflight.length >= max - 1) {
        blocked = true;
        break;
      }
      if (next.size > frameLimit) {
        // Fragments (spec §2.4) only once CAPS said the server takes them: until its answer, this
        // request and every one after it wait (requests keep their order); a refusal fails it alone.
        const verdict = large(next.size, frameLimit);
        if (verdict === 'wait') break;
        if (verdict !== 'send') {
          this.#queued.shift();
          next.settled = true;
          next.reject(verdict);
          continue;
        }
      }
      this.#queued.shift();
      this.#write(next, cipher, envelopes, frameLimit);
    }
    // Quiet writes last in flight: no answer may ever come for them, so a HEALTH follows them (spec §2.5, §3.7).
    if ((blocked || fence === 'end-of-turn') && this.unfenced) this.#write(this.#fence(), cipher, envelopes, frameLimit);
    return this.#batch.writeTo(sink);
  }

  /** The newest request in flight is a quiet write: nothing written after it will answer, so it needs a fence. */
  get unfenced(): boolean {
    return this.#inflight.peekBack()?.quiet === true;
  }

  /** What would be written last is a quiet write (the newest queued one, or, with none queued, the newest in flight). */
  get endsQuiet(): boolean {
    const last = this.#queued.peekBack();
    return last === undefined ? this.unfenced : last.quiet;
  }

  /** A HEALTH the queue sends itself after quiet writes (spec §2.5); its own outcome goes nowhere. */
  #fence(): Pending {
    const deadline = performance.now() + this.#limits.requestTimeoutMs;
    return { opcode: Opcode.HEALTH, body: FENCE_BODY, decode: ignore, resolve: ignore, reject: ignore, deadline, quiet: false, size: 0, id: -1n, settled: false };
  }

  /**
   * Numbers `next`, puts it in flight and lays it out in the output batch
   * (sealed in a secure session; as fragments when its body is over
   * `frameLimit`, spec §2.4).
   */
  #write(next: Pending, cipher: FrameCipher | undefined, envelopes: boolean, frameLimit: number): void {
    const batch = this.#batch;
    const id = this.#nextId;
    this.#nextId += 1n;
    next.id = id;
    this.#inflight.push(next);
    if (next.size > frameLimit) {
      pushFragments(batch, next.opcode, id, next.body, frameLimit, cipher, envelopes);
      return;
    }
    if (cipher === undefined) {
      batch.push(next.opcode, id, next.body);
      return;
    }
    // Sealed as it is laid out in the output block (issue 18): one plaintext, a SET's parts joined there.
    const body = next.body.length === 1 ? next.body[0] : next.body;
    const idHi = Number(id >> 32n);
    const idLo = Number(id & 0xffff_ffffn);
    if (envelopes) batch.pushEnveloped(next.opcode, idHi, idLo, body, cipher);
    else batch.pushSealed(next.opcode, idHi, idLo, body, cipher);
  }

  /**
   * Settles the oldest request in flight with `frame`, its answer (spec
   * §2.3: answers keep request order), after the quiet writes before it
   * that the answer skipped, as succeeded (§2.5). Returns the error to give
   * the connection up with when the peer broke the protocol: an answer to
   * anything else, or one whose body does not decode.
   */
  settle(frame: Frame): ConduitError | undefined {
    this.#silentTimeouts = 0; // the peer answers
    const inflight = this.#inflight;
    // Nearly every answer is the oldest request's, not a quiet write's (spec §2.3): no skipping to do.
    const oldest = inflight.peekFront();
    if (oldest !== undefined && !oldest.quiet && oldest.id === frame.id) {
      inflight.shift();
      return oldest.settled ? undefined : this.#answer(oldest, frame); // settled: timed out, the late answer goes nowhere
    }
    return this.#settleBehindQuiet(frame);
  }

  /** {@link settle} of an answer that may skip quiet writes (spec §2.5), or breaks §2.3. */
  #settleBehindQuiet(frame: Frame): ConduitError | undefined {
    const inflight = this.#inflight;
    // spec §2.3, §2.5: the answer is the oldest request's, or one's behind quiet writes only.
    let at = 0;
    for (let p = inflight.peekAt(0); p !== undefined && p.quiet && p.id !== frame.id; p = inflight.peekAt(at)) at += 1;
    const head = inflight.peekAt(at);
    if (head === undefined && at === 0) return violation(`response ${frame.id} with no request outstanding`);
    if (head === undefined || head.id !== frame.id) {
      const expected = at === 0 ? `the oldest outstanding request is ${head?.id}` : `the requests it may answer are ${inflight.peekFront()?.id}..${head?.id ?? 'the last'}`;
      return violation(`response ${frame.id} while ${expected}`);
    }
    // Checked first, settled second: a violation leaves the quiet writes to fail with the connection.
    for (let i = 0; i < at; i += 1) this.#succeeded(inflight.shift() as Pending);
    inflight.shift();
    if (head.settled) return undefined; // timed out: the late answer goes nowhere
    return this.#answer(head, frame);
  }

  /** Settles `head`, just taken out of flight, with `frame`, its answer; a PROTOCOL_ERROR to give the connection up with. */
  #answer(head: Pending, frame: Frame): ConduitError | undefined {
    head.settled = true;
    let result: unknown;
    try {
      result = head.decode(frame);
    } catch (err) {
      // A status (NOT_INTEGER, TOO_LARGE, …) fails this call only. A body that does not decode is a
      // PROTOCOL_ERROR (spec §4.3): the peer is broken and nothing more it sends can be trusted, so the
      // connection closes as for any other violation (§2.3) instead of serving the next call.
      if (err instanceof ConduitError && err.code !== 'PROTOCOL_ERROR') {
        head.reject(err);
        return undefined;
      }
      const error = violation(`undecodable response ${frame.id}: ${err instanceof Error ? err.message : String(err)}`);
      head.reject(error);
      return error;
    }
    head.resolve(result as never);
    return undefined;
  }

  /** A quiet write an answer behind it proved applied (spec §2.5): its result is an OK's, with no body. */
  #succeeded(quiet: Pending): void {
    if (quiet.settled) return; // timed out: its fence's answer came too late for it as well
    quiet.settled = true;
    try {
      quiet.resolve(quiet.decode({ version: VERSION_RESPONSE, opcode: Status.OK, length: 0, id: quiet.id, body: EMPTY }) as never);
    } catch (err) {
      quiet.reject(err instanceof ConduitError ? err : new ConduitError('PROTOCOL_ERROR', String(err)));
    }
  }

  /**
   * Rejects with TIMEOUT what is past its deadline at `now`, oldest first
   * (deadlines grow with call order). Queued, it leaves the queue; in flight,
   * it keeps its slot so its late answer is recognised and dropped. Returns
   * whether something in flight may still be answered in time.
   */
  expire(now: number): boolean {
    for (let head = this.#queued.peekFront(); head !== undefined && (head.settled || head.deadline <= now); head = this.#queued.peekFront()) {
      this.#queued.shift();
      if (!head.settled) this.#timeOut(head);
    }
    // spec §2.5: a quiet write in flight times out with the request after it that would settle it (its fence).
    let quietFrom = -1;
    for (let i = 0; i < this.#inflight.length; i += 1) {
      const p = this.#inflight.peekAt(i) as Pending;
      if (p.quiet) {
        if (quietFrom < 0) quietFrom = i;
        continue;
      }
      if (p.deadline > now) return true;
      if (quietFrom >= 0) this.#timeOutQuiet(quietFrom, i, Number.POSITIVE_INFINITY);
      quietFrom = -1;
      if (!p.settled) {
        this.#timeOut(p);
        this.#silentTimeouts += 1;
      }
    }
    // Quiet writes with nothing behind them in flight (writeTo always adds a fence; kept for safety): their own deadlines.
    return quietFrom >= 0 && this.#timeOutQuiet(quietFrom, this.#inflight.length, now);
  }

  /** Times out the quiet writes in flight in [from, to) whose deadline is not after `now`; whether one is left to wait for. */
  #timeOutQuiet(from: number, to: number, now: number): boolean {
    let waiting = false;
    for (let j = from; j < to; j += 1) {
      const q = this.#inflight.peekAt(j) as Pending;
      if (q.settled) continue;
      if (q.deadline > now) waiting = true;
      else this.#timeOut(q);
    }
    return waiting;
  }

  #timeOut(p: Pending): void {
    p.settled = true;
    const what = p.quiet ? 'quiet write: no response after it' : 'no response';
    p.reject(new ConduitError('TIMEOUT', `${what} within ${this.#limits.requestTimeoutMs} ms`));
  }

  /**
   * Whether the peer looks up but silent after an {@link expire} that
   * returned `waiting`: a peer that stops answering while TCP stays up would
   * keep the timed-out requests' slots forever, and once maxInflight of them
   * pile up nothing is written again. So: nothing in flight can still be
   * answered in time, or maxSilentTimeouts timed out in a row with no answer
   * between them.
   */
  silent(waiting: boolean): boolean {
    return this.#inflight.length > 0 && (!waiting || this.#silentTimeouts >= this.#limits.maxSilentTimeouts);
  }

  /** The count of in-flight timeouts since the last answer, which starts again at 0. */
  takeSilentTimeouts(): number {
    const n = this.#silentTimeouts;
    this.#silentTimeouts = 0;
    return n;
  }

  /** Starts the periodic sweep (see {@link expire}), unless it runs already. */
  startSweep(): void {
    this.#sweepTimer ??= setInterval(() => this.#onSwept(this.expire(performance.now())), SWEEP_MS);
  }

  stopSweep(): void {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** Rejects every request waiting to be written with `error`. */
  rejectQueued(error: ConduitError): void {
    rejectAll(this.#queued, error);
  }

  /** Rejects every request in flight with `error`: their answers can no longer come. */
  rejectInflight(error: ConduitError): void {
    rejectAll(this.#inflight, error);
  }

  /** Rejects everything, queued and in flight, with `error`. */
  flushAll(error: ConduitError): void {
    rejectAll(this.#queued, error);
    rejectAll(this.#inflight, error);
  }
}

function rejectAll(queue: Denque<Pending>, error: ConduitError): void {
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    if (p.settled) continue;
    p.settled = true;
    p.reject(error);
  }
}
