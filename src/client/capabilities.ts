import { decodeCapsBody } from '../protocol/caps-body.js';
import { ConduitError, ProtocolError } from '../protocol/errors.js';
import { Feature, REQUEST_OVERHEAD_LIMIT, Status } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';
import { statusError } from './commands.js';

/**
 * What the server of one connection supports, from CAPS (spec §3.13,
 * protocol 1.1), and what that means for a request too large for one frame:
 * send it as fragments (spec §2.4), wait for the answer to CAPS, or fail it
 * alone with `TOO_LARGE`. CAPS is the client's first request on every
 * connection and is pipelined: only a request that needs fragments waits
 * for its answer.
 *
 * @module
 */

/**
 * The answer to CAPS (spec §3.13): what the server of the current
 * connection supports. A protocol 1.0 server answers CAPS `UNKNOWN_OPCODE`:
 * then `minor` is 0 and every feature false.
 */
export interface ServerCapabilities {
  /** The protocol's minor version: 1 for a 1.1 server, 0 for a 1.0 one. */
  readonly minor: number;
  /** It takes fragmented requests and sends fragmented answers (spec §2.4). */
  readonly fragments: boolean;
  /** Versions, GETS, CAS and GAT (spec §3.11–3.12). */
  readonly versions: boolean;
  /** SCAN (spec §3.10). */
  readonly scan: boolean;
  /** Quiet writes (spec §2.5). */
  readonly quietWrites: boolean;
  /** The server's `--max-value-size` in bytes; a 1.0 server's values fit one frame: `undefined`. */
  readonly maxValueSize: number | undefined;
}

/** What a protocol 1.0 server supports: none of 1.1. */
export const PROTOCOL_1_0: ServerCapabilities = Object.freeze({
  minor: 0,
  fragments: false,
  versions: false,
  scan: false,
  quietWrites: false,
  maxValueSize: undefined,
});

/** What to do now with a request whose body does not fit one frame. */
export type LargeVerdict = 'send' | 'wait' | ConduitError;

/** Where the answer to this connection's CAPS is: not yet, here, or it failed (timed out, connection lost). */
type State = { readonly name: 'asking' } | { readonly name: 'known'; readonly caps: ServerCapabilities } | { readonly name: 'failed'; readonly error: ConduitError };

/**
 * One connection's capabilities: asked once (the CAPS request the client
 * puts first in its queue), then known for the connection's life.
 *
 * @example
 * ```ts
 * const caps = new ConnectionCapabilities();
 * queue.enqueueFirst(opcode, body, (frame) => caps.settle(frame));
 * caps.verdict(10_000_000, 65_524); // 'wait' until the answer, then 'send' or a TOO_LARGE error
 * ```
 */
export class ConnectionCapabilities {
  #state: State = { name: 'asking' };
  readonly promise: Promise<ServerCapabilities>;
  #resolve!: (caps: ServerCapabilities) => void;
  #reject!: (error: ConduitError) => void;

  constructor() {
    this.promise = new Promise<ServerCapabilities>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => {}); // nobody may ask: a failed CAPS is then only the large requests' business
  }

  /**
   * The answer to CAPS, as the request's decoder: `OK` with its body, or
   * `UNKNOWN_OPCODE` from a 1.0 server; any other status fails CAPS (thrown,
   * so the CAPS request rejects with it too).
   */
  settle(frame: Frame): ServerCapabilities {
    if (frame.opcode === Status.UNKNOWN_OPCODE) return this.#known(PROTOCOL_1_0);
    if (frame.opcode !== Status.OK) {
      const error = statusError(frame);
      this.fail(error);
      throw error;
    }
    const caps = decodeCapsBody(frame.body);
    if (caps instanceof ProtocolError) {
      // spec §4.3: an answer that does not decode; the queue closes the connection, this connection's CAPS failed.
      const error = new ConduitError('PROTOCOL_ERROR', `CAPS answer: ${caps.message}`);
      this.fail(error);
      throw error;
    }
    const has = (bit: number): boolean => (caps.features & bit) !== 0;
    return this.#known({
      minor: caps.minor,
      fragments: has(Feature.FRAGMENTS),
      versions: has(Feature.VERSIONS),
      scan: has(Feature.SCAN),
      quietWrites: has(Feature.QUIET),
      maxValueSize: caps.maxValueSize,
    });
  }

  /** CAPS got no answer (timeout, lost connection, undecodable body): large requests on this connection fail. */
  fail(error: ConduitError): void {
    if (this.#state.name !== 'asking') return;
    this.#state = { name: 'failed', error };
    this.#reject(error);
  }

  #known(caps: ServerCapabilities): ServerCapabilities {
    if (this.#state.name === 'asking') {
      this.#state = { name: 'known', caps };
      this.#resolve(caps);
    }
    return caps;
  }

  /**
   * A request body of `size` bytes, over `frameLimit` (one frame of this
   * connection): send it as fragments, wait for CAPS's answer, or fail it
   * with `TOO_LARGE` saying why (a 1.0 server, no fragments, or more than the
   * server's `--max-value-size` plus the fields around a value).
   */
  verdict(size: number, frameLimit: number): LargeVerdict {
    const state = this.#state;
    if (state.name === 'asking') return 'wait';
    const what = `a request body of ${size} bytes does not fit one frame (${frameLimit} bytes)`;
    if (state.name === 'failed') {
      return new ConduitError('TOO_LARGE', `${what}, and the server did not say whether it takes fragments (CAPS: ${state.error.code})`);
    }
    const caps = state.caps;
    if (caps.minor === 0) return new ConduitError('TOO_LARGE', `${what}, and the server speaks protocol 1.0, which has no fragments (spec §2.4)`);
    if (!caps.fragments) return new ConduitError('TOO_LARGE', `${what}, and the server does not take fragments (spec §2.4)`);
    if (caps.maxValueSize !== undefined && size > caps.maxValueSize + REQUEST_OVERHEAD_LIMIT) {
      return new ConduitError('TOO_LARGE', `a request body of ${size} bytes exceeds what the server takes: its --max-value-size is ${caps.maxValueSize} bytes (spec §2.4)`);
    }
    return 'send';
  }
}
