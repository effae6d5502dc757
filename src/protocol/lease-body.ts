/**
 * LEASE's OK answer body (spec §3.16, protocol 1.3): `state u8`,
 * `token u64`, then the value (the rest). HIT: token 0 and the key's value;
 * GRANTED: this caller's new lease token (never 0), no value; WAIT: token 0,
 * no value; STALE: token 0 and the key's previous value. Beside
 * `messages.ts`, as the other answer bodies are.
 *
 * @example
 * ```ts
 * const answer = decodeLeaseAnswer(frame.body);
 * if (!(answer instanceof ProtocolError) && answer.state === LeaseState.GRANTED) compute(answer.token);
 * ```
 * @module
 */
import { LeaseState, type LeaseStateValue } from './constants.js';
import { ConduitError, type ProtocolError } from './errors.js';
import { badRequest } from './request-reader.js';

/** spec §3.16: the fixed head of LEASE's OK body, `state u8` + `token u64`. */
export const LEASE_HEAD_SIZE = 9;

const U64_MAX = (1n << 64n) - 1n;

/** What a LEASE answered (spec §3.16). */
export interface LeaseAnswer {
  readonly state: LeaseStateValue;
  /** GRANTED: the lease token to SET with; 0n otherwise. */
  readonly token: bigint;
  /** HIT: the value; STALE: the previous value; empty otherwise. A view into the body. */
  readonly value: Buffer;
}

/**
 * The head of a LEASE answer: `state` and `token` in 9 bytes, to send
 * before the value (not copied). Throws `BAD_REQUEST` when the token does not
 * suit the state (GRANTED needs 1..2^64−1, the others 0n).
 *
 * @example
 * ```ts
 * const body = [encodeLeaseHead(LeaseState.HIT, 0n), value];
 * ```
 */
export function encodeLeaseHead(state: LeaseStateValue, token: bigint): Buffer {
  if (state === LeaseState.GRANTED ? token < 1n || token > U64_MAX : token !== 0n) {
    throw new ConduitError('BAD_REQUEST', `lease token ${token} does not suit state ${state}`);
  }
  const head = Buffer.allocUnsafe(LEASE_HEAD_SIZE);
  head[0] = state;
  head.writeBigUInt64BE(token, 1);
  return head;
}

/**
 * Decodes LEASE's OK body, or returns a BAD_REQUEST error when it breaks
 * spec §3.16 (shorter than 9 bytes, an unknown state, a token that does not
 * suit the state, a value with GRANTED or WAIT). Never throws.
 *
 * @example
 * ```ts
 * decodeLeaseAnswer(Buffer.from('000000000000000000', 'hex')); // { state: 0, token: 0n, value: <> }
 * ```
 */
export function decodeLeaseAnswer(body: Buffer): LeaseAnswer | ProtocolError {
  if (body.length < LEASE_HEAD_SIZE) return badRequest(`a LEASE answer is at least ${LEASE_HEAD_SIZE} bytes, got ${body.length}`);
  const state = body[0] as number;
  const token = body.readBigUInt64BE(1);
  const value = body.subarray(LEASE_HEAD_SIZE);
  switch (state) {
    case LeaseState.HIT:
    case LeaseState.STALE:
      if (token !== 0n) return badRequest(`a LEASE answer in state ${state} carries token 0, got ${token}`);
      return { state, token, value };
    case LeaseState.GRANTED:
    case LeaseState.WAIT:
      if ((state === LeaseState.GRANTED) === (token === 0n)) return badRequest(`a LEASE answer in state ${state} carries ${state === LeaseState.GRANTED ? 'a token' : 'token 0'}`);
      if (value.length !== 0) return badRequest(`a LEASE answer in state ${state} carries no value, got ${value.length} bytes`);
      return { state, token, value };
    default:
      return badRequest(`LEASE state ${state} is not 0 (hit), 1 (granted), 2 (wait) or 3 (stale)`);
  }
}
