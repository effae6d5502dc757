import { isFatalStatus, Status, statusName, type StatusName } from './constants.js';

/**
 * Codes of failures that never cross the wire as a status byte (spec §4.3):
 * raised locally by the decoder or the client.
 *
 * - `TRUNCATED_FRAME`: the stream ended inside a frame.
 * - `UNKNOWN_STATUS`: a response status protocol 1 does not assign.
 * - `PROTOCOL_ERROR`: the server broke the protocol (a response out of order,
 *   an unknown identifier, a malformed frame); the client closed the connection.
 * - `TIMEOUT`: no response within `requestTimeoutMs`; a late one is discarded.
 * - `QUEUE_FULL`: `maxQueued` requests already wait; shed load.
 * - `CONNECTION_LOST`: the connection failed with the request outstanding; it
 *   may or may not have been executed.
 * - `CONNECT_FAILED`: the server could not be reached.
 * - `CLOSED`: the client was closed or destroyed.
 * - `SNAPSHOT_FAILED`: the server could not save its snapshot file (or, with
 *   `--snapshot-strict`, load it): docs/SNAPSHOT.md.
 */
export type LocalErrorCode =
  | 'TRUNCATED_FRAME'
  | 'UNKNOWN_STATUS'
  | 'PROTOCOL_ERROR'
  | 'TIMEOUT'
  | 'QUEUE_FULL'
  | 'CONNECTION_LOST'
  | 'CONNECT_FAILED'
  | 'CLOSED'
  | 'SNAPSHOT_FAILED';

/** Every stable code a {@link ConduitError} can carry. Match on these, never on messages. */
export type ConduitErrorCode = Exclude<StatusName, 'OK'> | LocalErrorCode;

/**
 * The one base class of every error Conduit raises or returns. `code` is
 * stable and documented in spec §4; `status` is the wire status byte, or
 * `undefined` for local failures that have none.
 *
 * @example
 * ```ts
 * try {
 *   await client.incr('name');
 * } catch (err) {
 *   if (err instanceof ConduitError && err.code === 'NOT_INTEGER') { ... }
 * }
 * ```
 */
export class ConduitError extends Error {
  /** Stable machine-readable code, e.g. `'NOT_FOUND'` or `'TRUNCATED_FRAME'`. */
  readonly code: ConduitErrorCode;
  /** Wire status byte (spec §4), `undefined` for local errors. */
  readonly status: number | undefined;

  constructor(code: ConduitErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'ConduitError';
    this.code = code;
    this.status = status;
  }

  /**
   * The error a status byte and its UTF-8 message stand for.
   *
   * @example
   * ```ts
   * ConduitError.fromStatus(0x42, 'value is not an integer').code; // 'NOT_INTEGER'
   * ```
   */
  static fromStatus(status: number, message: string): ConduitError {
    const name = statusName(status);
    if (name === undefined || name === 'OK') {
      return new ConduitError('UNKNOWN_STATUS', `unknown status 0x${status.toString(16)}: ${message}`, status);
    }
    return new ConduitError(name, message, status);
  }
}

/**
 * A protocol violation found while decoding or validating a frame. `fatal`
 * tells whether the framing or trust is lost (the connection must close,
 * spec §4.1) or intact (answer with the status and carry on).
 *
 * @example
 * ```ts
 * const result = parseRequest(frame);
 * if (result instanceof ProtocolError) sendError(frame.id, result.status, result.message);
 * ```
 */
export class ProtocolError extends ConduitError {
  /** True when the receiver must close the connection after reporting it. */
  readonly fatal: boolean;

  constructor(code: ConduitErrorCode, message: string, status?: number) {
    super(code, message, status);
    this.name = 'ProtocolError';
    this.fatal = status === undefined || isFatalStatus(status);
  }

  /**
   * A protocol error for a status name, e.g. `ProtocolError.of('BAD_REQUEST', 'key is empty')`.
   *
   * @example
   * ```ts
   * ProtocolError.of('FRAME_TOO_LARGE', 'LENGTH 70000 exceeds 65524').fatal; // true
   * ```
   */
  static of(code: Exclude<StatusName, 'OK'>, message: string): ProtocolError {
    return new ProtocolError(code, message, Status[code]);
  }
}
