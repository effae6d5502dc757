import { Status } from '../protocol/constants.js';
import { encodeI64, encodeListBody } from '../protocol/messages.js';
import type { RequestView } from '../protocol/request-reader.js';
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
 * frames. Store outcomes become statuses here, and only here: the store
 * never speaks in wire statuses.
 *
 * @example
 * ```ts
 * const reply = execute(viewOf({ op: 'GET', key }, new RequestView()), context, MAX_BODY_SIZE); // { status: 0, body: value }
 * ```
 */
export function execute(request: RequestView, context: ExecutionContext, maxBody: number): Reply {
  const { store } = context;
  switch (request.op) {
    case 'GET': {
      const { keySource, keyStart, keyLength } = request;
      const value = context.answersCopied ? store.getViewAt(keySource, keyStart, keyLength) : store.getAt(keySource, keyStart, keyLength);
      if (value === undefined) return NOT_FOUND;
      // spec §6.4: a value stored at the plaintext limit (over HTTP, or by a plaintext
      // client of a server whose keys were added later) cannot be sealed in one frame.
      if (value.length > maxBody) return tooLargeForFrame(value.length, maxBody);
      return { status: Status.OK, body: value };
    }
    case 'SET': {
      const { keySource, keyStart, keyLength, valueSource, valueStart, valueLength } = request;
      // The view carries ttlMs, nx, xx and keepTtl: it is the SetOptions too.
      const outcome = store.setAt(keySource, keyStart, keyLength, valueSource, valueStart, valueLength, request);
      return outcome === 'stored' ? OK : OUTCOME_REPLY[outcome];
    }
    case 'GETS': {
      // spec §3.11: version u64, then the value.
      const read = store.getWithVersion(request.key());
      if (read === undefined) return NOT_FOUND;
      if (read.value.length + 8 > maxBody) return tooLargeForFrame(read.value.length + 8, maxBody);
      const body = Buffer.allocUnsafe(8 + read.value.length);
      body.writeUInt32BE(Math.floor(read.version / 2 ** 32), 0);
      body.writeUInt32BE(read.version >>> 0, 4);
      body.set(read.value, 8);
      return { status: Status.OK, body };
    }
    case 'GAT': {
      const value = store.getAndTouch(request.key(), request.ttlMs);
      if (value === undefined) return NOT_FOUND;
      if (value.length > maxBody) return tooLargeForFrame(value.length, maxBody);
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
    case 'HELLO':
      // spec §6: a server without keys refuses the handshake, without closing.
      return { status: Status.FORBIDDEN, body: Buffer.from('secure mode is not enabled on this server') };
  }
}
