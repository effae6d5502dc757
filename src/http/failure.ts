/**
 * How the gateway answers what went wrong: the HTTP status of each
 * protocol status (spec §4), the one error a route throws to answer with
 * JSON `{ error, message }`, and the reply → error step both backends
 * share, so an outcome reads the same whether the request ran in process
 * or was forwarded.
 *
 * @module
 */
import { statusName, type StatusName } from '../protocol/constants.js';
import type { LocalErrorCode } from '../protocol/errors.js';
import type { Reply } from '../server/execute.js';

/** HTTP status of each protocol status (spec §4), for errors and outcomes. */
export const HTTP_STATUS: Record<StatusName, number> = {
  OK: 200,
  NOT_FOUND: 404,
  NOT_STORED: 412,
  EXISTS: 412,
  BAD_REQUEST: 400,
  UNKNOWN_OPCODE: 404,
  NOT_INTEGER: 409,
  TOO_LARGE: 413,
  FORBIDDEN: 403,
  BUSY: 503,
  OUT_OF_MEMORY: 507,
  MOVED: 421,
  // spec §3.15: a push, never the answer to a request; a backend that returned one would be at fault.
  INVALIDATE: 500,
  FRAME_TOO_LARGE: 413,
  BAD_VERSION: 400,
  AUTH_REQUIRED: 401,
  AUTH_FAILED: 401,
  REPLAY: 400,
  BAD_FRAGMENT: 400,
  INTERNAL: 500,
};

/** The `error` of a gateway answer: a protocol status, or a client's local failure when forwarding (spec §4.3). */
export type FailureCode = StatusName | LocalErrorCode;

/**
 * Thrown inside a route to answer with an error and its code.
 *
 * @example
 * ```ts
 * throw new HttpFailure('BAD_REQUEST', 'ttl must be at most 4294967295 ms');
 * ```
 */
export class HttpFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly close = false,
    /** The HTTP status, when it is not the code's usual one (421 for a refused Host, 502–504 upstream). */
    readonly httpStatus = HTTP_STATUS[code as StatusName] ?? 500,
    /** The server behind a forwarding gateway could not answer (counted in `conduit_gateway_upstream_errors_total`). */
    readonly upstream = false,
  ) {
    super(message);
  }
}

/** The message of an outcome whose reply has no body (the protocol sends none for these). */
const OUTCOME_MESSAGE: Partial<Record<StatusName, string>> = {
  NOT_FOUND: 'no such key',
  NOT_STORED: 'the nx/xx condition prevented the write',
};

/**
 * The protocol status name of a reply (`INTERNAL` for a byte protocol 1 does not assign).
 *
 * @example
 * ```ts
 * replyStatusName({ status: Status.NOT_FOUND }); // 'NOT_FOUND'
 * ```
 */
export function replyStatusName(reply: Reply): StatusName {
  return statusName(reply.status) ?? 'INTERNAL';
}

/**
 * The error a reply that is not OK stands for: its code, and its message as on the wire.
 *
 * @example
 * ```ts
 * if (reply.status !== Status.OK) throw failureOf(reply);
 * ```
 */
export function failureOf(reply: Reply): HttpFailure {
  const name = replyStatusName(reply);
  const body = reply.body;
  return new HttpFailure(name, body !== undefined && body.length > 0 ? body.toString() : (OUTCOME_MESSAGE[name] ?? 'not stored'));
}

/**
 * The 412 of an `If-Match` that does not hold: the key is absent, or has another version.
 *
 * @example
 * ```ts
 * throw failedPrecondition('NOT_FOUND'); // 412 "If-Match: the key is absent"
 * ```
 */
export function failedPrecondition(code: 'NOT_FOUND' | 'EXISTS'): HttpFailure {
  const message = code === 'NOT_FOUND' ? 'If-Match: the key is absent' : "If-Match does not name the key's current version";
  return new HttpFailure(code, message, false, 412);
}
