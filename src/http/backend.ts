/**
 * What the gateway's routes run against: a {@link GatewayBackend}. Every
 * `/v1/keys` route is one protocol request (and, with `If-Match`, the
 * GETS that checks it first); a backend runs it and gives the reply,
 * whatever its status. {@link LocalBackend} runs it through `execute()`
 * on the store of the server in this process, as the gateway always has;
 * `ForwardingBackend` (forwarding.ts) sends it over the protocol with a
 * `ConduitClient`, as the `--workers` primary does.
 *
 * @module
 */
import { Status } from '../protocol/constants.js';
import { viewOf, type Request } from '../protocol/messages.js';
import { RequestView } from '../protocol/request-reader.js';
import { execute, type ExecutionContext, type Reply } from '../server/execute.js';
import type { Store } from '../store/store.js';
import type { LeaseTable } from '../server/leases.js';
import { failedPrecondition } from './failure.js';
import { ifMatchHolds, type IfMatch } from './if-match.js';

/**
 * Whether `/readyz` says the gateway can serve: `draining` while graceful
 * shutdown runs (spec §5.3), `unreachable` when a forwarding gateway cannot
 * reach its server (`code` is the client's, e.g. `CONNECT_FAILED`).
 */
export type Readiness = { readonly state: 'ready' } | { readonly state: 'draining' } | { readonly state: 'unreachable'; readonly code: string; readonly message: string };

/**
 * What the gateway's routes run against. `run` and the others return a
 * value, or a promise of one when the backend has to wait (forwarding):
 * the local one answers synchronously, so that nothing else runs between
 * an `If-Match` check and its write.
 *
 * @example
 * ```ts
 * const reply = await backend.run({ op: 'GET', key: Buffer.from('k') });
 * ```
 */
export interface GatewayBackend {
  /**
   * Runs `request` and gives its reply, whatever the status. With
   * `condition` (an `If-Match`), first reads the key's version by GETS and
   * throws the 412 `HttpFailure` when the condition does not hold; a SET
   * then carries that version as its compare-and-set (spec §3.11).
   * Throws an `HttpFailure` when the request could not be answered
   * (forwarding: the server could not be reached, or did not answer).
   */
  run(request: Request, condition?: IfMatch): Reply | Promise<Reply>;
  /** The STATS JSON (spec §5.2) `/v1/stats` answers. */
  stats(): Buffer | Promise<Buffer>;
  /** What `/readyz` answers. */
  readiness(): Readiness | Promise<Readiness>;
}

/** What a {@link LocalBackend} needs from the server it fronts. */
export interface GatewayHost {
  readonly store: Store;
  /** spec §3.16: the server's leases, so a DELETE over HTTP revokes a key's lease as one over the protocol does. */
  readonly leases?: LeaseTable;
  /** True once graceful shutdown began (`/readyz` answers 503). */
  readonly draining: boolean;
  /** The STATS JSON (spec §5.2). */
  statsJson(): Buffer;
}

/**
 * The largest answer body `execute()` may give here: HTTP bodies are not
 * frames, so none (a GET returns any stored value; spec §2.1's caps are for
 * protocol connections).
 */
const HTTP_MAX_BODY = Number.POSITIVE_INFINITY;

/**
 * The version `condition` needs the key to have, from the key's GETS reply
 * (`undefined` when it is absent); throws the 412 when the condition does
 * not hold. Both backends check `If-Match` this one way.
 *
 * @example
 * ```ts
 * const version = checkIfMatch({ kind: 'any' }, getsReply); // the current version
 * ```
 */
export function checkIfMatch(condition: IfMatch, gets: Reply): bigint {
  const current = gets.status === Status.OK ? (gets.body as Buffer).readBigUInt64BE(0) : undefined;
  if (!ifMatchHolds(condition, current)) throw failedPrecondition(current === undefined ? 'NOT_FOUND' : 'EXISTS');
  return current as bigint;
}

/**
 * `request` with the compare-and-set a checked `If-Match` gives it: a SET
 * stores only if the key still has `version`. DELETE and INCR have no
 * compare-and-set on the wire; locally nothing runs between the check and
 * them, forwarded they follow it (see forwarding.ts).
 *
 * @example
 * ```ts
 * withVersion({ op: 'SET', key, value, ttlMs: 0, nx: false, xx: false, keepTtl: false }, 7n).version; // 7n
 * ```
 */
export function withVersion(request: Request, version: bigint): Request {
  return request.op === 'SET' ? { ...request, version } : request;
}

/**
 * The gateway over the store of the server in this process: each request
 * runs through `execute()`, synchronously, as a binary-protocol connection
 * runs it.
 *
 * @example
 * ```ts
 * const gateway = new HttpGateway(new LocalBackend(server), metrics, options);
 * ```
 */
export class LocalBackend implements GatewayBackend {
  readonly #host: GatewayHost;
  /** What `execute()` runs the key routes against: the host's store; STATS and SHUTDOWN have no route through it. */
  readonly #context: ExecutionContext;

  constructor(host: GatewayHost) {
    this.#host = host;
    this.#context = {
      store: host.store,
      leases: host.leases,
      answersCopied: false, // a response body may wait in the socket while other requests write
      stats: () => host.statsJson(),
      shutdown: () => ({ status: Status.FORBIDDEN, body: Buffer.from('SHUTDOWN is not available over HTTP') }),
    };
  }

  run(request: Request, condition?: IfMatch): Reply {
    if (condition === undefined) return this.#execute(request);
    // No await from the check to the write: nothing else runs in between (and a SET's CAS checks again).
    return this.#execute(withVersion(request, checkIfMatch(condition, this.#execute({ op: 'GETS', key: keyOf(request) }))));
  }

  stats(): Buffer {
    return this.#host.statsJson();
  }

  readiness(): Readiness {
    return this.#host.draining ? { state: 'draining' } : { state: 'ready' };
  }

  #execute(request: Request): Reply {
    // One view per request, not one per gateway: two requests of a route may be in flight.
    return execute(viewOf(request, new RequestView()), this.#context, HTTP_MAX_BODY);
  }
}

/**
 * The key of a key-bearing request (the only ones a route sends with a condition).
 *
 * @example
 * ```ts
 * keyOf({ op: 'DELETE', key }); // key
 * ```
 */
export function keyOf(request: Request): Buffer {
  if (!('key' in request)) throw new TypeError(`${request.op} has no key`);
  return request.key;
}
