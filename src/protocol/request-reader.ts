import { ProtocolError } from './errors.js';
import { MAX_KEY_SIZE, Opcode, opcodeName, QUIET_BIT, SET_CAS, SET_FLAGS_MASK, SET_KEEPTTL, SET_NX, SET_XX } from './constants.js';

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

function emptyBody(op: 'HEALTH' | 'SHUTDOWN' | 'STATS' | 'FLUSH' | 'TOPOLOGY', length: number, into: RequestView): ProtocolError | undefined {
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
      // spec §3.11: with CAS, the expected version sits between key_len and the key.
      const cas = (flags & SET_CAS) !== 0;
      const keyAt = cas ? SET_FIXED_SIZE + SET_VERSION_SIZE : SET_FIXED_SIZE;
      let version = 0;
      if (cas) {
        if (nx) return badRequest('SET flags NX and CAS exclude each other');
        if (length < keyAt) return shortBody('SET with CAS', keyAt, length);
        into.versionHi = source.readUInt32BE(start + 6);
        into.versionLo = source.readUInt32BE(start + 10);
        version = into.versionHi * 2 ** 32 + into.versionLo;
        if (version === 0) return badRequest('SET CAS version 0 is never assigned');
      }
      const valueStart = keyAt + keyLength;
      if (valueStart > length) {
        return badRequest(`SET key_len ${keyLength} runs past the ${length}-byte body`);
      }
      into.op = 'SET';
      into.setKey(source, start + keyAt, keyLength);
      into.setValue(source, start + valueStart, length - valueStart);
      into.version = version;
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
    case Opcode.CAPS:
      // spec §3.13: features u32, nothing else.
      if (length !== 4) return badRequest(`CAPS body is features u32 (4 bytes), got ${length} bytes`);
      into.op = 'CAPS';
      into.features = source.readUInt32BE(start);
      return undefined;
    case Opcode.HELLO:
      into.op = 'HELLO';
      into.setKey(source, start, length);
      return undefined;
    default:
      return unknownOpcode(opcode);
  }
}
