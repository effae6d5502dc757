/**
 * The gateway forwarding over the protocol: each route's request is sent
 * with `ConduitClient#exchange` to the server that holds the key (a pooled
 * client routes by key, design of issue 20), and its answer, whatever the
 * status, becomes the same HTTP answer the in-process gateway gives.
 *
 * What the client could not do is the upstream's fault, not the caller's,
 * and is answered as a gateway (RFC 9110 §15.6.3–15.6.5):
 *
 * | client failure (spec §4.3)                         | HTTP |
 * |----------------------------------------------------|------|
 * | `CONNECTION_LOST`, `PROTOCOL_ERROR`, `TRUNCATED_FRAME`, `UNKNOWN_STATUS` | 502 |
 * | `MOVED` still, after the client's own resend (spec §3.14)                | 502 |
 * | `CONNECT_FAILED`, `QUEUE_FULL`, `CLOSED`                                  | 503 |
 * | `TIMEOUT`                                                                 | 504 |
 *
 * with the JSON `{ error: CODE, message }` of every gateway error, counted
 * in `conduit_gateway_upstream_errors_total{code}`.
 *
 * `If-Match` on PUT is as strong as in process: the SET carries the
 * version as its compare-and-set (spec §3.11). On DELETE and `…/incr` the
 * protocol has no compare-and-set, so the check (a GETS) and the write are
 * two requests: a write by another client between them is not seen.
 *
 * @module
 */
import type { Logger } from '../config/logger.js';
import { Status, type StatusName } from '../protocol/constants.js';
import { ConduitError, type LocalErrorCode } from '../protocol/errors.js';
import type { Request } from '../protocol/messages.js';
import { decodeMovedBody } from '../protocol/topology-body.js';
import { AccessControl } from '../server/access/access-control.js';
import type { AccessConfig } from '../server/access/access-table.js';
import type { Reply } from '../server/execute.js';
import { checkIfMatch, keyOf, withVersion, type GatewayBackend, type Readiness } from './backend.js';
import { HttpFailure } from './failure.js';
import type { IfMatch } from './if-match.js';

/** What a {@link ForwardingBackend} needs of its client: a `ConduitClient`, single or pooled, satisfies it. */
export interface ForwardingClient {
  exchange(request: Request): Promise<{ status: number; body: Buffer }>;
  stats(): Promise<Record<string, unknown>>;
  health(): Promise<number>;
}

/** Options of a {@link ForwardingBackend}. */
export interface ForwardingOptions {
  /** True once the process that runs the gateway began its graceful shutdown (`/readyz` answers 503 `draining`). */
  draining?: () => boolean;
}

/** The HTTP status of each local failure of the client (see the table above). */
const UPSTREAM_STATUS: Readonly<Record<LocalErrorCode, number>> = {
  CONNECTION_LOST: 502,
  PROTOCOL_ERROR: 502,
  TRUNCATED_FRAME: 502,
  UNKNOWN_STATUS: 502,
  CONNECT_FAILED: 503,
  QUEUE_FULL: 503,
  CLOSED: 503,
  TIMEOUT: 504,
  SNAPSHOT_FAILED: 500, // a server's own save failing: no client call raises it
};

/** spec §3.14: the 502 of a key whose owner the gateway's client still did not reach. */
function movedFailure(message: string): HttpFailure {
  return new HttpFailure('MOVED', message, false, 502, true);
}

/**
 * The HTTP error of a client rejection: a local failure (or MOVED) is the
 * upstream's, 502–504; a status raised by the client itself (`TOO_LARGE`
 * for an answer over its `maxValueSize`) keeps its usual HTTP status.
 *
 * @example
 * ```ts
 * upstreamFailure(new ConduitError('TIMEOUT', 'no response within 5000 ms')).httpStatus; // 504
 * ```
 */
export function upstreamFailure(err: unknown): unknown {
  if (!(err instanceof ConduitError)) return err;
  if (err.code === 'MOVED') return movedFailure(err.message);
  const status = UPSTREAM_STATUS[err.code as LocalErrorCode] as number | undefined;
  if (status !== undefined) return new HttpFailure(err.code, `upstream: ${err.message}`, false, status, true);
  return new HttpFailure(err.code as StatusName, err.message);
}

/**
 * A gateway backend that forwards every request over the protocol.
 *
 * @example
 * ```ts
 * const client = new ConduitClient({ servers: ['127.0.0.1:7171', '127.0.0.1:7172'] });
 * const gateway = new HttpGateway(new ForwardingBackend(client), new GatewayMetrics(), options);
 * ```
 */
export class ForwardingBackend implements GatewayBackend {
  readonly #client: ForwardingClient;
  readonly #draining: () => boolean;

  constructor(client: ForwardingClient, options: ForwardingOptions = {}) {
    this.#client = client;
    this.#draining = options.draining ?? (() => false);
  }

  async run(request: Request, condition?: IfMatch): Promise<Reply> {
    if (condition === undefined) return this.#exchange(request);
    const version = checkIfMatch(condition, await this.#exchange({ op: 'GETS', key: keyOf(request) }));
    return this.#exchange(withVersion(request, version));
  }

  async stats(): Promise<Buffer> {
    try {
      return Buffer.from(JSON.stringify(await this.#client.stats()));
    } catch (err) {
      throw upstreamFailure(err);
    }
  }

  async readiness(): Promise<Readiness> {
    if (this.#draining()) return { state: 'draining' };
    try {
      await this.#client.health();
      return { state: 'ready' };
    } catch (err) {
      if (!(err instanceof ConduitError)) throw err;
      return { state: 'unreachable', code: err.code, message: err.message };
    }
  }

  async #exchange(request: Request): Promise<Reply> {
    let reply: Reply;
    try {
      reply = await this.#client.exchange(request);
    } catch (err) {
      throw upstreamFailure(err);
    }
    if (reply.status !== Status.MOVED) return reply;
    // spec §3.14: not executed; a pooled client already resent it once to the owner named.
    const moved = decodeMovedBody(reply.body ?? Buffer.alloc(0));
    if (moved instanceof Error) throw movedFailure(`the server answered MOVED with a malformed body: ${moved.message}`);
    throw movedFailure(`slot ${moved.slot} is owned by ${moved.name} (epoch ${moved.epoch}), which the gateway's client did not reach; the request was not executed`);
  }
}

/**
 * The access control of a gateway with no server in its process (issue 25): the
 * `--workers` primary's, built from the key file it was started with, given to
 * both its `HttpGateway`'s `access` option and its `ForwardingMetrics`.
 * `--http-token` is a bearer with every right (id `http-token`); `load` re-reads
 * the key file for `reload()` (SIGHUP). The gateway holds no sessions, since it
 * looks each request's token up in the current table, so a reload closes nothing
 * and applies from the next request on.
 *
 * @example
 * ```ts
 * const access = gatewayAccess(readKeyFile(path), { httpToken, logger, load: () => readKeyFile(path) });
 * const gateway = new HttpGateway(new ForwardingBackend(client), new ForwardingMetrics({ access }), { ...options, token: undefined, access });
 * process.on('SIGHUP', () => access.reload());
 * ```
 */
export function gatewayAccess(
  config: AccessConfig,
  how: { readonly httpToken: string | undefined; readonly logger: Logger; readonly load: (() => AccessConfig) | undefined },
): AccessControl {
  return new AccessControl(config, { httpToken: how.httpToken }, { logger: how.logger, load: how.load, sessions: () => [] });
}
