import { LeaseState, Opcode, Status } from '../protocol/constants.js';
import { encodeLeaseHead, LEASE_HEAD_SIZE } from '../protocol/lease-body.js';
import { encodeI64, encodeListBody } from '../protocol/messages.js';
import type { RequestView } from '../protocol/request-reader.js';
import { encodeTopologyBody, SLOT_SCHEME, STANDALONE } from '../protocol/topology-body.js';
import type { KeyFilter } from '../store/list.js';
import type { IncrRefusal, Store, WriteOutcome } from '../store/store.js';
import { NO_OWNER, type LeaseTable } from './leases.js';

/** A response before framing: its status and body. */
export interface Reply {
  readonly status: number;
  readonly body: Buffer | undefined;
}

const OK: Reply = { status: Status.OK, body: undefined };
const NOT_FOUND: Reply = { status: Status.NOT_FOUND, body: undefined };
const NOT_STORED: Reply = { status: Status.NOT_STORED, body: undefined };
// spec §3.11: a compare-and-set found another version (memcached's EXISTS).
const EXISTS: Reply = { status: Status.EXISTS, body: undefined };
// spec §3.8: a value that is not an i64 and a result out of range are both NOT_INTEGER, with one message.
const NOT_INTEGER: Reply = { status: Status.NOT_INTEGER, body: Buffer.from('value is not an integer or the result is out of range') };
/**
 * The reply to each store outcome other than a value (spec §3.3, §3.8): the
 * wire status, and for refusals the message, on the wire and over HTTP alike.
 * Shared objects: a refusal allocates nothing.
 */
const OUTCOME_REPLY: Readonly<Record<WriteOutcome | IncrRefusal, Reply>> = {
  stored: OK,
  not_stored: NOT_STORED,
  version_mismatch: EXISTS,
  not_found: NOT_FOUND,
  // spec §3.3: the item needs more pages than the whole budget holds (only a tiny --max-memory gets here).
  too_large: {
    status: Status.TOO_LARGE,
    body: Buffer.from('item is larger than the memory budget can hold (--max-memory)'),
  },
  out_of_memory: { status: Status.OUT_OF_MEMORY, body: Buffer.from('store is full and eviction is off') },
  not_integer: NOT_INTEGER,
  overflow: NOT_INTEGER,
};

/** A non-fatal TOO_LARGE for an answer whose body cannot fit in one frame of this connection. */
export function tooLargeForFrame(length: number, maxBody: number): Reply {
  return { status: Status.TOO_LARGE, body: Buffer.from(`answer of ${length} bytes does not fit in one frame (at most ${maxBody} here)`) };
}

/**
 * spec §3.14: what the executor asks a server of a group (group.ts's SlotOwnership): its
 * TOPOLOGY answer, and MOVED for a request whose key another server owns.
 */
export interface KeyOwnership {
  readonly topology: Reply;
  /** MOVED naming the key's owner, or `undefined` when this server runs the request. */
  moved(request: RequestView): Reply | undefined;
}

/** What the executor needs besides the store: server-level answers. */
export interface ExecutionContext {
  readonly store: Store;
  /**
   * True when the caller copies (or seals) every answer body before it runs the next
   * request, as a connection does when it queues an answer: a GET's body is then a view
   * of the store's bytes (`Store.getView`), not a copy of its own. False (the HTTP
   * gateway, whose response may wait in the socket): a copy.
   */
  readonly answersCopied: boolean;
  /** STATS body: the store's counters and the server's (spec §5.2), at most `maxBytes` long. */
  stats(maxBytes: number): Buffer;
  /** Handles SHUTDOWN; returns the reply (FORBIDDEN unless allowed). */
  shutdown(): Reply;
  /**
   * spec §3.17 (protocol 1.4): RELOAD, re-reading the key file: OK with the new table's
   * sizes as JSON, or NOT_STORED with the error line (nothing changed). Absent (the HTTP
   * gateway, test hosts): RELOAD is an unknown opcode, as on a 1.3 server.
   */
  reload?(): Reply;
  /** spec §2.4: a SET whose value is longer is TOO_LARGE, whatever its framing (`--max-value-size`). Default: no limit. */
  readonly maxValueSize?: number;
  /**
   * spec §3.14 (protocol 1.2): the server's group, whose TOPOLOGY it answers and whose
   * other servers' keys it answers MOVED. `undefined`: standalone (and the HTTP gateway,
   * which executes locally), which owns every key.
   */
  readonly group?: KeyOwnership | undefined;
  /**
   * spec §3.16 (protocol 1.3): the server's lease table, which runs LEASE and SET's lease
   * token, and which a DELETE revokes. `undefined`: LEASE is an unknown opcode, a lease SET
   * BAD_REQUEST. The HTTP gateway passes the server's (it has no LEASE route; its DELETEs revoke).
   */
  readonly leases?: LeaseTable | undefined;
}

/**
 * spec §3.13: CAPS is about the connection it comes on, so a connection answers it
 * (request-handler.ts); where there is none (the HTTP gateway) it is an unknown opcode.
 */
const CAPS_UNKNOWN: Reply = { status: Status.UNKNOWN_OPCODE, body: Buffer.from('CAPS is answered by a binary-protocol connection') };

/** spec §3.14: a server that is not in a group owns every key: no servers, no table. */
const STANDALONE_TOPOLOGY: Reply = {
  status: Status.OK,
  body: encodeTopologyBody({ scheme: SLOT_SCHEME, self: STANDALONE, epoch: 0, nodes: [], table: new Uint8Array(0) }),
};

/** spec §2.4: the TOO_LARGE of a SET over --max-value-size. */
function valueTooLarge(length: number, limit: number): Reply {
  return { status: Status.TOO_LARGE, body: Buffer.from(`value of ${length} bytes exceeds the server's limit of ${limit} (--max-value-size)`) };
}

/**
 * `value` as memory of its own: a view of the store's bytes is copied, a copy (the store
 * hands one for a large object) is kept. For an answer sent as fragments (spec §2.4)
 * over several turns, while other connections may write the store.
 */
function owned(value: Buffer): Buffer {
  return value.byteOffset === 0 && value.buffer.byteLength === value.length ? value : Buffer.from(value);
}

/**
 * Runs one validated request against the store and returns its reply
 * (spec §3). Synchronous: the store is in-process. The request is a
 * {@link RequestView}: a GET or SET runs from the positions of its key and
 * value in the bytes they came in, with no object or view of its own
 * (issue 17); the other operations make a view of their key. `maxBody` is
 * the largest response body the connection can frame: `MAX_BODY_SIZE` in
 * plaintext, 16 bytes less once a secure session seals every answer (spec
 * §2.1, §6.4), and `Infinity` for the HTTP gateway, whose answers are not
 * frames. `maxValue` is the largest value answer (GET, GETS, GAT) the
 * connection can send: `maxBody` unless its client takes fragments (spec
 * §2.4, CAPS §3.13), then any; a value longer than `maxBody` is then memory
 * of its own, since its fragments go out over several turns. `owner` is the
 * connection's id in the lease table (spec §3.16: its share of the leases,
 * which end when it closes; `NO_OWNER` for the HTTP gateway). `filter`: the
 * keys LIST and SCAN may answer (spec §3.17: an identity limited to some
 * prefixes sees only the keys inside them); absent, every key. Store outcomes
 * become statuses here, and only here: the store never speaks in wire statuses.
 *
 * @example
 * ```ts
 * const reply = execute(viewOf({ op: 'GET', key }, new RequestView()), context, MAX_BODY_SIZE); // { status: 0, body: value }
 * ```
 */
export function execute(request: RequestView, context: ExecutionContext, maxBody: number, maxValue = maxBody, owner = NO_OWNER, filter?: KeyFilter): Reply {
  const { store, group } = context;
  if (group !== undefined) {
    // spec §3.14: a key another server owns is not executed here, so the client may resend it there.
    const moved = group.moved(request);
    if (moved !== undefined) return moved;
  }
  switch (request.op) {
    case 'GET': {
      const { keySource, keyStart, keyLength } = request;
      // A value longer than this connection can take comes back as its length, not copied.
      const value = context.answersCopied ? store.getViewAt(keySource, keyStart, keyLength, maxValue) : store.getAt(keySource, keyStart, keyLength, maxValue);
      if (value === undefined) return NOT_FOUND;
      // spec §2.1, §6.4: a value over one frame of a connection that did not declare fragments
      // (a 1.0 client, or a secure session's 16 bytes less) is TOO_LARGE.
      if (typeof value === 'number') return tooLargeForFrame(value, maxBody);
      return { status: Status.OK, body: value.length > maxBody && context.answersCopied ? owned(value) : value };
    }
    case 'SET': {
      const { keySource, keyStart, keyLength, valueSource, valueStart, valueLength } = request;
      const { maxValueSize } = context;
      if (maxValueSize !== undefined && valueLength > maxValueSize) return valueTooLarge(valueLength, maxValueSize);
      if (request.leaseToken !== 0n) return leaseSet(request, context);
      // The view carries ttlMs, nx, xx and keepTtl: it is the SetOptions too.
      const outcome = store.setAt(keySource, keyStart, keyLength, valueSource, valueStart, valueLength, request);
      return outcome === 'stored' ? OK : OUTCOME_REPLY[outcome];
    }
    case 'GETS': {
      // spec §3.11: version u64, then the value.
      const read = store.getWithVersion(request.key(), maxValue - 8);
      if (read === undefined) return NOT_FOUND;
      if (typeof read === 'number') return tooLargeForFrame(read + 8, maxBody);
      const body = Buffer.allocUnsafe(8 + read.value.length);
      body.writeUInt32BE(Math.floor(read.version / 2 ** 32), 0);
      body.writeUInt32BE(read.version >>> 0, 4);
      body.set(read.value, 8);
      return { status: Status.OK, body };
    }
    case 'GAT': {
      const value = store.getAndTouch(request.key(), request.ttlMs, maxValue);
      if (value === undefined) return NOT_FOUND;
      if (typeof value === 'number') return tooLargeForFrame(value, maxBody);
      return { status: Status.OK, body: value };
    }
    case 'DELETE': {
      const key = request.key();
      const removed = store.delete(key);
      // spec §3.16: a DELETE revokes the key's lease even when the key is absent (as it is while a lease is out).
      context.leases?.deleted(key);
      return removed ? OK : NOT_FOUND;
    }
    case 'LIST': {
      // spec §3.5: the body is 1 byte of flag, then what fits in one frame of this connection.
      const { keys, truncated } = store.list(request.key(), request.limit, maxBody - 1, filter);
      return { status: Status.OK, body: encodeListBody(keys, truncated) };
    }
    case 'SCAN': {
      // spec §3.10: 8 bytes of cursor, then whole buckets' keys that fit one frame of this connection.
      return { status: Status.OK, body: store.scan(request.cursor, request.limit, request.key(), maxBody - 8, filter) };
    }
    case 'RENEW':
      return store.renew(request.key(), request.ttlMs) ? OK : NOT_FOUND;
    case 'TTL': {
      const ttl = store.ttl(request.key());
      return ttl === undefined ? NOT_FOUND : { status: Status.OK, body: encodeI64(BigInt(ttl)) };
    }
    case 'INCR': {
      const result = store.incr(request.key(), request.delta, request.ttlMs);
      return typeof result === 'bigint' ? { status: Status.OK, body: encodeI64(result) } : OUTCOME_REPLY[result];
    }
    case 'HEALTH':
      return OK;
    case 'STATS':
      return { status: Status.OK, body: context.stats(maxBody) };
    case 'FLUSH':
      store.flush();
      return OK;
    case 'SHUTDOWN':
      return context.shutdown();
    case 'CAPS':
      return CAPS_UNKNOWN;
    case 'TOPOLOGY':
      return group?.topology ?? STANDALONE_TOPOLOGY;
    case 'LEASE':
      return lease(request, context, maxBody, maxValue, owner);
    case 'RELOAD':
      return context.reload?.() ?? unknownOpcode('RELOAD');
    case 'TRACKING':
      // Protocol 1.3 (spec §3.15) is parsed; until this server runs it, it answers as a 1.2 server did.
      return unknownOpcode(request.op);
    case 'HELLO':
      // spec §6: a server without keys refuses the handshake, without closing.
      return { status: Status.FORBIDDEN, body: Buffer.from('secure mode is not enabled on this server') };
  }
}

/** What a server that does not run a 1.3 or 1.4 operation answers (spec §3.1): as a server of the minor before. */
function unknownOpcode(op: 'TRACKING' | 'LEASE' | 'RELOAD'): Reply {
  return { status: Status.UNKNOWN_OPCODE, body: Buffer.from(`unknown opcode 0x${Opcode[op].toString(16)}`) };
}

const LEASE_BUSY: Reply = { status: Status.BUSY, body: Buffer.from('too many leases outstanding; retry later') };
const LEASE_WAIT: Reply = { status: Status.OK, body: encodeLeaseHead(LeaseState.WAIT, 0n) };

/**
 * spec §3.15, §3.16: whether `reply`, the answer to a LEASE, carries a value the client
 * may keep (HIT or STALE), so a connection in KEYS tracking mode is to be tracked for the
 * key, as after a GET. Tracking is per connection, so the connection's request handler
 * asks this after `execute()` (with tracking, issue 21: `answersValue(op) || (op ===
 * 'LEASE' && leaseAnsweredValue(reply))`); GRANTED and WAIT carry none.
 *
 * @example
 * ```ts
 * if (request.op === 'LEASE' && leaseAnsweredValue(reply)) this.trackRead(request);
 * ```
 */
export function leaseAnsweredValue(reply: Reply): boolean {
  const state = reply.status === Status.OK ? reply.body?.[0] : undefined;
  return state === LeaseState.HIT || state === LeaseState.STALE;
}

/**
 * LEASE (spec §3.16): the key's value when it is live (HIT, a GET in the
 * counters); else the lease table decides GRANTED, WAIT or STALE (BUSY past
 * its bound). A HIT or STALE value over one frame of a connection that did
 * not declare fragments is TOO_LARGE, as GET's is.
 */
function lease(request: RequestView, context: ExecutionContext, maxBody: number, maxValue: number, owner: number): Reply {
  const { store, leases } = context;
  if (leases === undefined) return unknownOpcode('LEASE');
  const { keySource, keyStart, keyLength } = request;
  const room = maxValue - LEASE_HEAD_SIZE;
  // A view: copied at once behind the head, before anything else runs.
  const value = store.getViewAt(keySource, keyStart, keyLength, room);
  if (typeof value === 'number') return tooLargeForFrame(value + LEASE_HEAD_SIZE, maxBody);
  if (value !== undefined) {
    // A read that answered a value: tracked by the connection (leaseAnsweredValue).
    return { status: Status.OK, body: withHead(LeaseState.HIT, value) };
  }
  // spec §3.16: the connection is the lease's owner: its share of the bound, and its close ends the lease.
  const outcome = leases.acquire(request.key(), request.leaseMs, request.staleOk, owner);
  switch (outcome.state) {
    case 'granted':
      return { status: Status.OK, body: encodeLeaseHead(LeaseState.GRANTED, outcome.token) };
    case 'wait':
      return LEASE_WAIT;
    case 'busy':
      return LEASE_BUSY;
    case 'stale':
      if (outcome.value.length > room) return tooLargeForFrame(outcome.value.length + LEASE_HEAD_SIZE, maxBody);
      return { status: Status.OK, body: withHead(LeaseState.STALE, outcome.value) };
  }
}

/** `state`'s head (token 0) and `value` in one buffer of the answer's own. */
function withHead(state: typeof LeaseState.HIT | typeof LeaseState.STALE, value: Buffer): Buffer {
  const body = Buffer.allocUnsafe(LEASE_HEAD_SIZE + value.length);
  body.fill(0, 0, LEASE_HEAD_SIZE);
  body[0] = state;
  body.set(value, LEASE_HEAD_SIZE);
  return body;
}

/**
 * A SET with a lease token (spec §3.16): stored only while the token is the
 * key's live lease, which ends here; otherwise NOT_STORED (lapsed, taken
 * over, revoked: a stale set). Stored, the key is remembered as lease-filled
 * (its value may later be served STALE).
 */
function leaseSet(request: RequestView, context: ExecutionContext): Reply {
  const { store, leases } = context;
  if (leases === undefined) return { status: Status.BAD_REQUEST, body: Buffer.from('SET flags 0x10 set undefined bits') };
  const key = request.key();
  if (!leases.fulfil(key, request.leaseToken)) return NOT_STORED;
  const { keySource, keyStart, keyLength, valueSource, valueStart, valueLength } = request;
  const outcome = store.setAt(keySource, keyStart, keyLength, valueSource, valueStart, valueLength, request);
  if (outcome !== 'stored') return OUTCOME_REPLY[outcome];
  leases.filled(key);
  return OK;
}
