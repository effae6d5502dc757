import { Opcode, Status } from '../protocol/constants.js';
import { encodeI64, encodeListBody } from '../protocol/messages.js';
import type { RequestView } from '../protocol/request-reader.js';
import { encodeTopologyBody, SLOT_SCHEME, STANDALONE } from '../protocol/topology-body.js';
import type { IncrRefusal, Store, WriteOutcome } from '../store/store.js';

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
  /** spec §2.4: a SET whose value is longer is TOO_LARGE, whatever its framing (`--max-value-size`). Default: no limit. */
  readonly maxValueSize?: number;
  /**
   * spec §3.14 (protocol 1.2): the server's group, whose TOPOLOGY it answers and whose
   * other servers' keys it answers MOVED. `undefined`: standalone (and the HTTP gateway,
   * which executes locally), which owns every key.
   */
  readonly group?: KeyOwnership | undefined;
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
 * of its own, since its fragments go out over several turns. Store outcomes
 * become statuses here, and only here: the store never speaks in wire statuses.
 *
 * @example
 * ```ts
 * const reply = execute(viewOf({ op: 'GET', key }, new RequestView()), context, MAX_BODY_SIZE); // { status: 0, body: value }
 * ```
 */
export function execute(request: RequestView, context: ExecutionContext, maxBody: number, maxValue = maxBody): Reply {
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
      if (request.leaseToken !== 0n) return { status: Status.BAD_REQUEST, body: Buffer.from('SET flags 0x10 set undefined bits') };
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
    case 'DELETE':
      return store.delete(request.key()) ? OK : NOT_FOUND;
    case 'LIST': {
      // spec §3.5: the body is 1 byte of flag, then what fits in one frame of this connection.
      const { keys, truncated } = store.list(request.key(), request.limit, maxBody - 1);
      return { status: Status.OK, body: encodeListBody(keys, truncated) };
    }
    case 'SCAN': {
      // spec §3.10: 8 bytes of cursor, then whole buckets' keys that fit one frame of this connection.
      return { status: Status.OK, body: store.scan(request.cursor, request.limit, request.key(), maxBody - 8) };
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
    case 'TRACKING':
    case 'LEASE':
      // Protocol 1.3 (spec §3.15, §3.16) is parsed; until this server runs it, it answers as a 1.2 server did.
      return { status: Status.UNKNOWN_OPCODE, body: Buffer.from(`unknown opcode 0x${Opcode[request.op].toString(16)}`) };
    case 'HELLO':
      // spec §6: a server without keys refuses the handshake, without closing.
      return { status: Status.FORBIDDEN, body: Buffer.from('secure mode is not enabled on this server') };
  }
}
