import { ConduitError, ProtocolError } from '../protocol/errors.js';
import { LeaseState, MAX_TTL_MS, Status } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';
import { decodeLeaseAnswer, type LeaseAnswer } from '../protocol/lease-body.js';
import type { Request } from '../protocol/messages.js';
import { bytes, okOr, statusError, asTrue, type Bytes } from './commands.js';

/**
 * `ConduitClient.getOrSet` (spec §3.16, protocol 1.3): read a key, and on a
 * miss let exactly one caller compute it, Facebook's leases (Nishtala et
 * al., NSDI '13, §3.2.1) on the client side. LEASE answers HIT (the value),
 * GRANTED (this caller computes and stores with its token), WAIT (another
 * caller computes: retry with a bounded backoff) or STALE (the key's previous
 * value while another caller computes). Here, apart from client.ts, which
 * only hands it its one way to send a request (routed by key in a pool).
 *
 * @example
 * ```ts
 * const value = await getOrSetLoop(send, Buffer.from('user:1'), () => loadUser(1), { leaseMs: 5_000 });
 * ```
 * @module
 */

/** Options of {@link ConduitClient.getOrSet}. */
export interface GetOrSetOptions {
  /** Expiry of the value a granted caller stores, in ms; 0 (default) = none. */
  ttlMs?: number;
  /** How long a granted lease lasts (1 to 2^32 − 1 ms): a holder that dies is taken over after it. Default 10,000. */
  leaseMs?: number;
  /** While another caller computes, take the key's previous value if the server kept one (STALE) instead of waiting. Default false. */
  staleWhileRevalidate?: boolean;
  /** How long to retry WAIT before rejecting `TIMEOUT`, in ms. Default `leaseMs` + 1,000. */
  waitMs?: number;
}

/** Sends one request and decodes its answer: ConduitClient's own path (routed by key in a pool). */
export type Send = <T>(request: Request, decode: (frame: Frame) => T) => Promise<T>;

/** The first WAIT backs off this long; each next one twice as long, up to {@link MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 5;
/** The longest pause between two LEASEs of one call. */
export const MAX_BACKOFF_MS = 100;
/** Default {@link GetOrSetOptions.leaseMs}. */
export const DEFAULT_LEASE_MS = 10_000;

const NO_LEASES = 'the server does not support leases (CAPS Feature.LEASES, protocol 1.3, spec §3.16): getOrSet needs LEASE';

/**
 * The answer to LEASE (spec §3.16): OK decodes (a body that does not is a
 * PROTOCOL_ERROR, and the connection is given up); UNKNOWN_OPCODE means a
 * server before protocol 1.3, named as such; any other status is its error.
 *
 * @example
 * ```ts
 * const answer = await send({ op: 'LEASE', key, leaseMs: 10_000, staleOk: false }, leaseAnswer);
 * ```
 */
export function leaseAnswer(frame: Frame): LeaseAnswer {
  if (frame.opcode === Status.UNKNOWN_OPCODE) throw new ConduitError('UNKNOWN_OPCODE', NO_LEASES);
  if (frame.opcode !== Status.OK) throw statusError(frame);
  const answer = decodeLeaseAnswer(frame.body);
  if (answer instanceof ProtocolError) throw new ConduitError('PROTOCOL_ERROR', answer.message);
  // A reassembled answer (spec §2.4) is the client's own; a one-frame body is copied out.
  return (frame as { owned?: boolean }).owned === true ? answer : { ...answer, value: Buffer.from(answer.value) };
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['ttlMs', 'leaseMs', 'staleWhileRevalidate', 'waitMs']);

/** `options` with defaults, or a TypeError naming the first option out of range. */
export function resolveGetOrSetOptions(options: GetOrSetOptions): Required<GetOrSetOptions> {
  if (typeof options !== 'object' || options === null) throw new TypeError('getOrSet options must be an object');
  const unknown = Object.keys(options).find((name) => !KNOWN_OPTIONS.has(name));
  if (unknown !== undefined) throw new TypeError(`getOrSet option ${unknown} is not an option (ttlMs, leaseMs, staleWhileRevalidate, waitMs)`);
  const { ttlMs = 0, leaseMs = DEFAULT_LEASE_MS, staleWhileRevalidate = false } = options;
  if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > MAX_TTL_MS) throw new TypeError(`ttlMs option must be an integer from 0 to ${MAX_TTL_MS}, got ${String(ttlMs)}`);
  if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > 0xffff_ffff) {
    throw new TypeError(`leaseMs option must be an integer from 1 to 4294967295, got ${String(leaseMs)}`);
  }
  if (typeof staleWhileRevalidate !== 'boolean') throw new TypeError(`staleWhileRevalidate option must be a boolean, got ${String(staleWhileRevalidate)}`);
  const { waitMs = leaseMs + 1_000 } = options;
  if (typeof waitMs !== 'number' || !Number.isFinite(waitMs) || waitMs < 0) throw new TypeError(`waitMs option must be a finite number of ms ≥ 0, got ${String(waitMs)}`);
  return { ttlMs, leaseMs, staleWhileRevalidate, waitMs };
}

/**
 * LEASE until the key's value is in hand (spec §3.16): HIT or STALE → that
 * value; GRANTED → `await compute()`, stored with the token (SET + LEASE)
 * and returned, also when the server refuses the set (NOT_STORED: a change
 * of the key revoked the lease meanwhile, so the newer state stays); WAIT →
 * retried after 5, 10, 20, … up to 100 ms, until `waitMs` has passed, then
 * `TIMEOUT`. A `compute` that throws rejects with its error (the lease then
 * lapses after `leaseMs`, and another caller takes over); any other failure
 * of LEASE or of the set (BUSY, TOO_LARGE, CONNECTION_LOST…) rejects with it.
 *
 * @example
 * ```ts
 * await getOrSetLoop(send, key, async () => JSON.stringify(await db.user(1)), resolveGetOrSetOptions({ ttlMs: 60_000 }));
 * ```
 */
export async function getOrSetLoop(send: Send, key: Buffer, compute: () => Bytes | Promise<Bytes>, options: Required<GetOrSetOptions>): Promise<Buffer> {
  const { ttlMs, leaseMs, staleWhileRevalidate, waitMs } = options;
  const giveUpAt = performance.now() + waitMs;
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    const answer = await send({ op: 'LEASE', key, leaseMs, staleOk: staleWhileRevalidate }, leaseAnswer);
    switch (answer.state) {
      case LeaseState.HIT:
      case LeaseState.STALE:
        return answer.value;
      case LeaseState.GRANTED: {
        const value = bytes(await compute(), 'compute result');
        const set: Request = { op: 'SET', key, value, ttlMs, nx: false, xx: false, keepTtl: false, leaseToken: answer.token };
        await send(set, okOr(asTrue, { status: Status.NOT_STORED, value: false }));
        return value;
      }
      case LeaseState.WAIT: {
        const left = giveUpAt - performance.now();
        if (left <= 0) throw new ConduitError('TIMEOUT', `getOrSet waited ${waitMs} ms (waitMs) for another caller's lease on the key to be set`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, left)));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        break;
      }
    }
  }
}
