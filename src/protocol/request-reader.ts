import { ProtocolError } from './errors.js';
import {
  LEASE_STALE_OK,
  MAX_KEY_SIZE,
  MAX_TRACKING_PREFIXES,
  Opcode,
  opcodeName,
  QUIET_BIT,
  SET_CAS,
  SET_FLAGS_MASK,
  SET_KEEPTTL,
  SET_LEASE,
  SET_NX,
  SET_XX,
  TrackingMode,
  type TrackingModeValue,
} from './constants.js';

/**
 * The one reader of request bodies (spec §3), writing into a reused
 * {@link RequestView} instead of allocating a request object and a `Buffer`
 * view per key and value: the server's hot path runs a GET or SET straight
 * from the frame's bytes (issue 17). `parseRequestParts` (messages.ts) is
 * this reader plus {@link RequestView.toRequest}, for callers that want a
 * plain object.
 *
 * @module
 */

/** spec §3.3: a SET body's fixed part before the key: flags u8, ttl_ms u32, key_len u8. */
export const SET_FIXED_SIZE = 6;
/** spec §3.11: a compare-and-set SET's expected version, a u64 between key_len and the key. */
export const SET_VERSION_SIZE = 8;

/** Name of a request operation, e.g. `'SET'`. */
export type RequestOp =
  | 'GET'
  | 'SET'
  | 'DELETE'
  | 'LIST'
  | 'SCAN'
  | 'RENEW'
  | 'HEALTH'
  | 'SHUTDOWN'
  | 'STATS'
  | 'INCR'
  | 'TTL'
  | 'FLUSH'
  | 'GETS'
  | 'GAT'
  | 'CAPS'
  | 'TOPOLOGY'
  | 'TRACKING'
  | 'LEASE'
  | 'RELOAD'
  | 'HELLO';

const EMPTY = Buffer.alloc(0);

/**
 * One request's fields as positions in the bytes it came in, refilled in
 * place by {@link readRequest} for every frame. The key (LIST's prefix,
 * HELLO's body) is `keyLength` bytes of `keySource` from `keyStart`; a SET's
 * value is `valueLength` bytes of `valueSource` from `valueStart`. Valid until
 * the next read into it and only while those bytes are unchanged: run it,
 * then let it go. Fields an opcode does not define keep whatever they held.
 *
 * @example
 * ```ts
 * const view = new RequestView();
 * if (readRequest(Opcode.GET, Buffer.from('user:1'), false, view) === undefined) store.getView(view.key());
 * ```
 */
export class RequestView {
  op: RequestOp = 'HEALTH';
  keySource: Buffer = EMPTY;
  keyStart = 0;
  keyLength = 0;
  valueSource: Buffer = EMPTY;
  valueStart = 0;
  valueLength = 0;
  /**
   * SET: the expected version of a compare-and-set (spec §3.11), 0 = none. A
   * number: versions are below 2^53, so a larger wire value, read inexactly,
   * still matches no item.
   */
  version = 0;
  /** SET with CAS: the expected version's high and low 32 bits, exact (for {@link requestOf} in messages.ts). */
  versionHi = 0;
  versionLo = 0;
  /** SET, RENEW, INCR, GAT: 0 = no expiry (RENEW, GAT: remove it). */
  ttlMs = 0;
  nx = false;
  xx = false;
  keepTtl = false;
  /** LIST: at most this many keys; SCAN: about this many index entries examined. */
  limit = 0;
  /** SCAN: where the iteration resumes (0n starts it). */
  cursor = 0n;
  /** INCR: the signed amount. */
  delta = 0n;
  /**
   * spec §2.5 (protocol 1.1): the OPCODE byte had QUIET set (only SET, DELETE
   * and RENEW get here with it): an OK is not answered. Set on every read.
   */
  quiet = false;
  /** CAPS: the feature bits the client understands (spec §3.13). */
  features = 0;
  /**
   * SET: the lease token of a lease set (spec §3.16, protocol 1.3), 0n = none.
   * A BigInt read only when the flag is set, so a plain SET pays nothing.
   */
  leaseToken = 0n;
  /** LEASE: how long a granted lease lasts, 1 to 2^32 − 1 ms (spec §3.16). */
  leaseMs = 0;
  /** LEASE: the caller takes the previous value while another caller holds the lease (`LEASE_STALE_OK`). */
  staleOk = false;
  /** TRACKING: the requested {@link TrackingMode} (spec §3.15). */
  trackingMode: TrackingModeValue = TrackingMode.OFF;
  /** TRACKING in PREFIXES mode: the prefixes, views into the body (empty otherwise). */
  prefixes: Buffer[] = [];

  /** The key (LIST: the prefix; HELLO: the body) as a `Buffer` view: one allocation, for the ops off the hot path. */
  key(): Buffer {
    return this.keySource.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  /** A SET's value as a `Buffer` view. */
  value(): Buffer {
    return this.valueSource.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** Points the key at `length` bytes of `source` from `start`. */
  setKey(source: Buffer, start = 0, length = source.length - start): this {
    this.keySource = source;
    this.keyStart = start;
    this.keyLength = length;
    return this;
  }

  /** Points the value at `length` bytes of `source` from `start`. */
  setValue(source: Buffer, start = 0, length = source.length - start): this {
    this.valueSource = source;
    this.valueStart = start;
    this.valueLength = length;
    return this;
  }
}

/** A BAD_REQUEST error with `message` (spec §4.1: non-fatal). */
export function badRequest(message: string): ProtocolError {
  return ProtocolError.of('BAD_REQUEST', message);
}

/** spec §3.1: a key is 1–250 bytes; the error for a key of `length` bytes, if any. */
export function keyError(length: number): ProtocolError | undefined {
  if (length === 0) return badRequest('key is empty');
  if (length > MAX_KEY_SIZE) return badRequest(`key is ${length} bytes, the limit is ${MAX_KEY_SIZE}`);
  return undefined;
}

/** spec §2.5, §7: QUIET on an operation that is not a write is BAD_REQUEST; on no operation at all, UNKNOWN_OPCODE. */
function quietRefusal(op: number): ProtocolError {
  const name = opcodeName(op);
  if (name === undefined) return unknownOpcode(op | QUIET_BIT);
  return badRequest(`QUIET is defined for SET, DELETE and RENEW only, not ${name}`);
}

function unknownOpcode(opcode: number): ProtocolError {
  return ProtocolError.of('UNKNOWN_OPCODE', `opcode 0x${opcode.toString(16).padStart(2, '0')} is not defined`);
}

function shortBody(op: string, need: number, got: number): ProtocolError {
  return badRequest(`${op} body needs at least ${need} bytes, got ${got}`);
}

function emptyBody(op: 'HEALTH' | 'SHUTDOWN' | 'STATS' | 'FLUSH' | 'TOPOLOGY' | 'RELOAD', length: number, into: RequestView): ProtocolError | undefined {
  if (length !== 0) return badRequest(`${op} takes an empty body, got ${length} bytes`);
  into.op = op;
  return undefined;
}

/**
 * Validates a request frame's body, `length` bytes of `source` from `start`,
 * for its opcode (spec §3) and writes the request into `into`; returns the
 * error to answer it with instead, leaving `into` undefined in meaning. Never throws, allocates nothing on success
 * but INCR's `bigint`. The framing is intact whatever this finds, so every
 * error is non-fatal: answer it with the frame's identifier and carry on
 * (spec §4.1). `reservedId`: the identifier's top bit is set (spec §2.2).
 *
 * @example
 * ```ts
 * const error = readRequest(raw.opcode, raw.source, raw.bodyStart, raw.length, raw.idHi >= 0x8000_0000, view);
 * if (error === undefined && view.op === 'GET') answer(store.getView(view.key()));
 * ```
 */
export function readRequest(
  opcode: number,
  source: Buffer,
  start: number,
  length: number,
  reservedId: boolean,
  into: RequestView,
): ProtocolError | undefined {
  into.quiet = (opcode & QUIET_BIT) !== 0;
  if (reservedId) {
    return badRequest('identifiers with the top bit set are reserved for the server');
  }
  if (into.quiet) {
    // spec §2.5: QUIET is bit 6 of OPCODE and defined for the writes only; the operation is the rest.
    opcode &= ~QUIET_BIT;
    if (opcode !== Opcode.SET && opcode !== Opcode.DELETE && opcode !== Opcode.RENEW) return quietRefusal(opcode);
  }
  switch (opcode) {
    case Opcode.GET:
    case Opcode.DELETE:
    case Opcode.TTL: {
      const error = keyError(length);
      if (error !== undefined) return error;
      into.op = opcode === Opcode.GET ? 'GET' : opcode === Opcode.DELETE ? 'DELETE' : 'TTL';
      into.setKey(source, start, length);
      return undefined;
    }
    case Opcode.SET: {
      if (length < SET_FIXED_SIZE) return shortBody('SET', SET_FIXED_SIZE, length);
      const flags = source[start] as number;
      const ttlMs = source.readUInt32BE(start + 1);
      const keyLength = source[start + 5] as number;
      if ((flags & ~SET_FLAGS_MASK) !== 0) {
        return badRequest(`SET flags 0x${flags.toString(16)} set undefined bits`);
      }
      const nx = (flags & SET_NX) !== 0;
      const xx = (flags & SET_XX) !== 0;
      const keepTtl = (flags & SET_KEEPTTL) !== 0;
      if (nx && xx) return badRequest('SET flags NX and XX exclude each other');
      if (keepTtl && ttlMs !== 0) return badRequest('SET flag KEEPTTL excludes a ttl_ms other than 0');
      const invalidKey = keyError(keyLength);
      if (invalidKey !== undefined) return invalidKey;
      // spec §3.11: with CAS, the expected version sits between key_len and the key;
      // spec §3.16 (1.3): with LEASE, the lease token sits there instead.
      const cas = (flags & SET_CAS) !== 0;
      const lease = (flags & SET_LEASE) !== 0;
      const keyAt = cas || lease ? SET_FIXED_SIZE + SET_VERSION_SIZE : SET_FIXED_SIZE;
      let version = 0;
      let leaseToken = 0n;
      if (cas) {
        if (nx) return badRequest('SET flags NX and CAS exclude each other');
        if (lease) return badRequest('SET flags CAS and LEASE exclude each other');
        if (length < keyAt) return shortBody('SET with CAS', keyAt, length);
        into.versionHi = source.readUInt32BE(start + 6);
        into.versionLo = source.readUInt32BE(start + 10);
        version = into.versionHi * 2 ** 32 + into.versionLo;
        if (version === 0) return badRequest('SET CAS version 0 is never assigned');
      } else if (lease) {
        if (nx || xx) return badRequest('SET flag LEASE excludes NX and XX');
        if (length < keyAt) return shortBody('SET with LEASE', keyAt, length);
        leaseToken = source.readBigUInt64BE(start + 6);
        if (leaseToken === 0n) return badRequest('SET lease token 0 is never granted');
      }
      const valueStart = keyAt + keyLength;
      if (valueStart > length) {
        return badRequest(`SET key_len ${keyLength} runs past the ${length}-byte body`);
      }
      into.op = 'SET';
      into.setKey(source, start + keyAt, keyLength);
      into.setValue(source, start + valueStart, length - valueStart);
      into.version = version;
      into.leaseToken = leaseToken;
      into.ttlMs = ttlMs;
      into.nx = nx;
      into.xx = xx;
      into.keepTtl = keepTtl;
      return undefined;
    }
    case Opcode.LIST: {
      if (length < 2) return shortBody('LIST', 2, length);
      const limit = source.readUInt16BE(start);
      if (limit === 0) return badRequest('LIST limit must be at least 1');
      if (length - 2 > MAX_KEY_SIZE) {
        return badRequest(`LIST prefix is ${length - 2} bytes, the limit is ${MAX_KEY_SIZE}`);
      }
      into.op = 'LIST';
      into.limit = limit;
      into.setKey(source, start + 2, length - 2);
      return undefined;
    }
    case Opcode.SCAN: {
      // spec §3.10: cursor u64, count u16 (1–65,535), prefix (0–250 bytes).
      if (length < 10) return shortBody('SCAN', 10, length);
      const count = source.readUInt16BE(start + 8);
      if (count === 0) return badRequest('SCAN count must be at least 1');
      if (length - 10 > MAX_KEY_SIZE) {
        return badRequest(`SCAN prefix is ${length - 10} bytes, the limit is ${MAX_KEY_SIZE}`);
      }
      into.op = 'SCAN';
      into.cursor = source.readBigUInt64BE(start);
      into.limit = count;
      into.setKey(source, start + 10, length - 10);
      return undefined;
    }
    case Opcode.GETS: {
      // spec §3.11: the body is the key, as GET's.
      const error = keyError(length);
      if (error !== undefined) return error;
      into.op = 'GETS';
      into.setKey(source, start, length);
      return undefined;
    }
    case Opcode.RENEW:
    case Opcode.GAT: {
      // spec §3.6, §3.12: ttl_ms u32, then the key.
      const op = opcode === Opcode.RENEW ? 'RENEW' : 'GAT';
      if (length < 5) return shortBody(op, 5, length);
      const error = keyError(length - 4);
      if (error !== undefined) return error;
      into.op = op;
      into.ttlMs = source.readUInt32BE(start);
      into.setKey(source, start + 4, length - 4);
      return undefined;
    }
    case Opcode.INCR: {
      if (length < 13) return shortBody('INCR', 13, length);
      const error = keyError(length - 12);
      if (error !== undefined) return error;
      into.op = 'INCR';
      into.delta = source.readBigInt64BE(start);
      into.ttlMs = source.readUInt32BE(start + 8);
      into.setKey(source, start + 12, length - 12);
      return undefined;
    }
    case Opcode.HEALTH:
      return emptyBody('HEALTH', length, into);
    case Opcode.SHUTDOWN:
      return emptyBody('SHUTDOWN', length, into);
    case Opcode.STATS:
      return emptyBody('STATS', length, into);
    case Opcode.FLUSH:
      return emptyBody('FLUSH', length, into);
    case Opcode.TOPOLOGY:
      return emptyBody('TOPOLOGY', length, into);
    case Opcode.RELOAD:
      // spec §3.17 (protocol 1.4): no body.
      return emptyBody('RELOAD', length, into);
    case Opcode.CAPS:
      // spec §3.13: features u32, nothing else.
      if (length !== 4) return badRequest(`CAPS body is features u32 (4 bytes), got ${length} bytes`);
      into.op = 'CAPS';
      into.features = source.readUInt32BE(start);
      return undefined;
    case Opcode.TRACKING:
      return readTracking(source, start, length, into);
    case Opcode.LEASE: {
      // spec §3.16: lease_ms u32 (≥ 1), flags u8 (bit 0 STALE_OK), then the key.
      if (length < 6) return shortBody('LEASE', 6, length);
      const leaseMs = source.readUInt32BE(start);
      const flags = source[start + 4] as number;
      if (leaseMs === 0) return badRequest('LEASE lease_ms must be at least 1');
      if ((flags & ~LEASE_STALE_OK) !== 0) return badRequest(`LEASE flags 0x${flags.toString(16)} set undefined bits`);
      const error = keyError(length - 5);
      if (error !== undefined) return error;
      into.op = 'LEASE';
      into.leaseMs = leaseMs;
      into.staleOk = flags !== 0;
      into.setKey(source, start + 5, length - 5);
      return undefined;
    }
    case Opcode.HELLO:
      into.op = 'HELLO';
      into.setKey(source, start, length);
      return undefined;
    default:
      return unknownOpcode(opcode);
  }
}

/**
 * TRACKING's body (spec §3.15): `mode u8`; in PREFIXES mode then `count u8`
 * (1–16) and that many `len u8` + prefix (0–250 bytes). Exact: nothing may
 * follow.
 */
function readTracking(source: Buffer, start: number, length: number, into: RequestView): ProtocolError | undefined {
  if (length < 1) return shortBody('TRACKING', 1, length);
  const mode = source[start] as number;
  if (mode === TrackingMode.OFF || mode === TrackingMode.KEYS) {
    if (length !== 1) return badRequest(`TRACKING mode ${mode} is 1 byte, got ${length} bytes`);
    into.op = 'TRACKING';
    into.trackingMode = mode;
    into.prefixes = [];
    return undefined;
  }
  if (mode !== TrackingMode.PREFIXES) return badRequest(`TRACKING mode ${mode} is not 0 (off), 1 (keys) or 2 (prefixes)`);
  if (length < 2) return shortBody('TRACKING with prefixes', 2, length);
  const count = source[start + 1] as number;
  if (count < 1 || count > MAX_TRACKING_PREFIXES) return badRequest(`TRACKING lists 1 to ${MAX_TRACKING_PREFIXES} prefixes, got ${count}`);
  const prefixes: Buffer[] = [];
  let at = 2;
  for (let i = 0; i < count; i += 1) {
    if (at >= length) return badRequest(`TRACKING prefix ${i} runs past the ${length}-byte body`);
    const prefixLength = source[start + at] as number;
    if (prefixLength > MAX_KEY_SIZE) return badRequest(`TRACKING prefix ${i} is ${prefixLength} bytes, the limit is ${MAX_KEY_SIZE}`);
    if (at + 1 + prefixLength > length) return badRequest(`TRACKING prefix ${i} runs past the ${length}-byte body`);
    prefixes.push(source.subarray(start + at + 1, start + at + 1 + prefixLength));
    at += 1 + prefixLength;
  }
  if (at !== length) return badRequest(`TRACKING body has ${length - at} bytes after its prefixes`);
  into.op = 'TRACKING';
  into.trackingMode = TrackingMode.PREFIXES;
  into.prefixes = prefixes;
  return undefined;
}
