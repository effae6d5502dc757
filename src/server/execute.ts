import { Status } from '../protocol/constants.js';
import { encodeI64, encodeListBody, type Request } from '../protocol/messages.js';
import type { Store } from '../store/store.js';

/** A response before framing: its status and body. */
export interface Reply {
  readonly status: number;
  readonly body: Buffer | undefined;
}

const OK: Reply = { status: Status.OK, body: undefined };
const NOT_FOUND: Reply = { status: Status.NOT_FOUND, body: undefined };
const NOT_STORED: Reply = { status: Status.NOT_STORED, body: undefined };
/** The message of each refusal a store write can give (spec §3.3, §3.8), on the wire and over HTTP alike. */
export const refusalMessages: Readonly<Record<number, Buffer>> = {
  // Items are bounded per shard (spec §3.3): name the knobs, as the total budget may look ample.
  [Status.TOO_LARGE]: Buffer.from("item is larger than one shard's share of the memory budget (--max-memory divided by --shards)"),
  [Status.OUT_OF_MEMORY]: Buffer.from('store is full and eviction is off'),
  [Status.NOT_INTEGER]: Buffer.from('value is not an integer or the result is out of range'),
};

function refusal(status: number): Reply {
  return { status, body: refusalMessages[status] };
}

/** A non-fatal TOO_LARGE for an answer whose body cannot fit in one frame of this connection. */
export function tooLargeForFrame(length: number, maxBody: number): Reply {
  return { status: Status.TOO_LARGE, body: Buffer.from(`answer of ${length} bytes does not fit in one frame (at most ${maxBody} here)`) };
}

/** What the executor needs besides the store: server-level answers. */
export interface ExecutionContext {
  readonly store: Store;
  /** STATS body: the store's counters and the server's (spec §5.2), at most `maxBytes` long. */
  stats(maxBytes: number): Buffer;
  /** Handles SHUTDOWN; returns the reply (FORBIDDEN unless allowed). */
  shutdown(): Reply;
}

/**
 * Runs one validated request against the store and returns its reply
 * (spec §3). Synchronous: the store is in-process. `maxBody` is the largest
 * response body the connection can frame: `MAX_BODY_SIZE` in plaintext, 16
 * bytes less once a secure session seals every answer (spec §2.1, §6.4).
 *
 * @example
 * ```ts
 * const reply = execute({ op: 'GET', key }, context, MAX_BODY_SIZE); // { status: 0, body: value }
 * ```
 */
export function execute(request: Request, context: ExecutionContext, maxBody: number): Reply {
  const { store } = context;
  switch (request.op) {
    case 'GET': {
      const value = store.get(request.key);
      if (value === undefined) return NOT_FOUND;
      // spec §6.4: a value stored at the plaintext limit (over HTTP, or by a plaintext
      // client of a server whose keys were added later) cannot be sealed in one frame.
      if (value.length > maxBody) return tooLargeForFrame(value.length, maxBody);
      return { status: Status.OK, body: value };
    }
    case 'SET': {
      const status = store.set(request.key, request.value, request);
      return status === Status.OK ? OK : status === Status.NOT_STORED ? NOT_STORED : refusal(status);
    }
    case 'DELETE':
      return store.delete(request.key) ? OK : NOT_FOUND;
    case 'LIST': {
      // spec §3.5: the body is 1 byte of flag, then what fits in one frame of this connection.
      const { keys, truncated } = store.list(request.prefix, request.limit, maxBody - 1);
      return { status: Status.OK, body: encodeListBody(keys, truncated) };
    }
    case 'RENEW':
      return store.renew(request.key, request.ttlMs) ? OK : NOT_FOUND;
    case 'TTL': {
      const ttl = store.ttl(request.key);
      return ttl === undefined ? NOT_FOUND : { status: Status.OK, body: encodeI64(BigInt(ttl)) };
    }
    case 'INCR': {
      const result = store.incr(request.key, request.delta, request.ttlMs);
      return typeof result === 'bigint' ? { status: Status.OK, body: encodeI64(result) } : refusal(result);
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
