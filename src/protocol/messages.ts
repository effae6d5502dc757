// About 480 lines, past the ~450 guide: the one encoder and the one parser of every request body
// (spec §3, with protocol 1.1's GETS, CAS, GAT, SCAN, CAPS and the QUIET bit, 1.3's TRACKING and LEASE) stay together so each
// wire step has one copy; answer bodies with their own shape live beside it (scan-body.ts,
// caps-body.ts, key-list.ts).
import { ConduitError, ProtocolError } from './errors.js';
import {
  HEADER_SIZE,
  LEASE_STALE_OK,
  MAX_BODY_SIZE,
  MAX_TRACKING_PREFIXES,
  MAX_CLIENT_ID,
  MAX_KEY_SIZE,
  Opcode,
  QUIET_BIT,
  SET_CAS,
  SET_KEEPTTL,
  SET_LEASE,
  SET_NX,
  SET_XX,
  TrackingMode,
  type TrackingModeValue,
  VERSION_REQUEST,
  VERSION_RESPONSE,
} from './constants.js';
import { encodeHeader, writeHeader, type Frame } from './header.js';
import { keyListBody, readKeyList } from './key-list.js';
import { checkKey, checkTtl, I64_MAX, I64_MIN } from './validate.js';
import { badRequest, readRequest, RequestView, SET_FIXED_SIZE, SET_VERSION_SIZE, type RequestOp } from './request-reader.js';

const U64_MAX = (1n << 64n) - 1n;

export { SET_FIXED_SIZE, SET_VERSION_SIZE, type RequestOp };

const EMPTY = Buffer.alloc(0);

/**
 * A request as its opcode's body defines it (spec §3). Keys and values are
 * views into the frame body when parsed: copy what you keep.
 */
export type Request =
  | { readonly op: 'GET'; readonly key: Buffer }
  | {
      readonly op: 'SET';
      readonly key: Buffer;
      readonly value: Buffer;
      /** 0 = no expiry. */
      readonly ttlMs: number;
      readonly nx: boolean;
      readonly xx: boolean;
      readonly keepTtl: boolean;
      /** spec §3.11: store only when the key holds this version; absent (or 0n) = unconditional. */
      readonly version?: bigint;
      /** spec §3.16 (protocol 1.3): a lease set with this token; absent (or 0n) = a plain SET. */
      readonly leaseToken?: bigint;
      /** spec §2.5 (protocol 1.1): QUIET, answered only when the status is not OK. */
      readonly quiet?: boolean;
    }
  | { readonly op: 'GETS'; readonly key: Buffer }
  | { readonly op: 'GAT'; readonly key: Buffer; /** 0 = remove the expiry. */ readonly ttlMs: number }
  | { readonly op: 'DELETE'; readonly key: Buffer; /** spec §2.5: QUIET. */ readonly quiet?: boolean }
  | { readonly op: 'LIST'; readonly prefix: Buffer; readonly limit: number }
  | {
      readonly op: 'SCAN';
      /** 0n starts an iteration (spec §3.10). */
      readonly cursor: bigint;
      /** About this many index entries examined, 1–65,535. */
      readonly count: number;
      readonly prefix: Buffer;
    }
  | { readonly op: 'RENEW'; readonly key: Buffer; /** 0 = remove the expiry. */ readonly ttlMs: number; /** spec §2.5: QUIET. */ readonly quiet?: boolean }
  | { readonly op: 'HEALTH' }
  | { readonly op: 'SHUTDOWN' }
  | { readonly op: 'STATS' }
  | { readonly op: 'INCR'; readonly key: Buffer; readonly delta: bigint; readonly ttlMs: number }
  | { readonly op: 'TTL'; readonly key: Buffer }
  | { readonly op: 'FLUSH' }
  /** spec §3.14 (protocol 1.2): the group's slot map. */
  | { readonly op: 'TOPOLOGY' }
  /** spec §3.15 (protocol 1.3): tracking for this connection; `prefixes` only in PREFIXES mode (1–16 of 0–250 bytes). */
  | { readonly op: 'TRACKING'; readonly mode: TrackingModeValue; readonly prefixes?: readonly Buffer[] }
  /** spec §3.16 (protocol 1.3): GET, or a lease on a miss for `leaseMs` (≥ 1); `staleOk` takes the previous value while another caller holds the lease. */
  | { readonly op: 'LEASE'; readonly key: Buffer; readonly leaseMs: number; readonly staleOk: boolean }
  /** spec §3.17 (protocol 1.4): re-read the server's key file (needs admin). */
  | { readonly op: 'RELOAD' }
  | {
      readonly op: 'CAPS';
      /** spec §3.13: what the client understands, {@link Feature} bits (bit 0: it accepts fragmented responses). */
      readonly features: number;
    }
  | { readonly op: 'HELLO'; /** Defined by secure mode (spec §6). */ readonly body: Buffer };


/**
 * Validates a request frame's body for its opcode (spec §3) and returns the
 * request, or the error to answer it with. Never throws. The framing is
 * intact whatever this finds, so every error it returns is non-fatal: answer
 * it with the frame's identifier and carry on (spec §4.1).
 *
 * @example
 * ```ts
 * const request = parseRequest(frame);
 * if (request instanceof ProtocolError) return reply(frame.id, request.status, request.message);
 * if (request.op === 'GET') return store.get(request.key);
 * ```
 */
export function parseRequest(frame: Frame): Request | ProtocolError {
  return parseRequestParts(frame.opcode, frame.body, frame.id > MAX_CLIENT_ID);
}

/**
 * {@link parseRequest} from a frame's parts: `reservedId` is whether the
 * identifier's top bit is set (spec §2.2). The reading is request-reader.ts's
 * `readRequest`; this makes a plain object of the view it fills.
 *
 * @example
 * ```ts
 * const request = parseRequestParts(raw.opcode, raw.body, raw.idHi >= 0x8000_0000);
 * ```
 */
export function parseRequestParts(opcode: number, body: Buffer, reservedId: boolean): Request | ProtocolError {
  const view = new RequestView();
  return readRequest(opcode, body, 0, body.length, reservedId, view) ?? requestOf(view);
}

/**
 * The plain {@link Request} a {@link RequestView} describes (keys and values
 * as views of its bytes).
 *
 * @example
 * ```ts
 * const request = requestOf(view); // { op: 'GET', key: <Buffer …> }
 * ```
 */
export function requestOf(view: RequestView): Request {
  const request = plainOf(view);
  // spec §2.5: `quiet` only when set, so a 1.0 request reads as before.
  return view.quiet && (request.op === 'SET' || request.op === 'DELETE' || request.op === 'RENEW') ? { ...request, quiet: true } : request;
}

function plainOf(view: RequestView): Request {
  switch (view.op) {
    case 'GET':
    case 'GETS':
    case 'DELETE':
    case 'TTL':
      return { op: view.op, key: view.key() };
    case 'SET': {
      const set = { op: 'SET', key: view.key(), value: view.value(), ttlMs: view.ttlMs, nx: view.nx, xx: view.xx, keepTtl: view.keepTtl } as const;
      if (view.leaseToken !== 0n) return { ...set, leaseToken: view.leaseToken };
      return view.version === 0 ? set : { ...set, version: (BigInt(view.versionHi) << 32n) | BigInt(view.versionLo) };
    }
    case 'GAT':
      return { op: 'GAT', ttlMs: view.ttlMs, key: view.key() };
    case 'LIST':
      return { op: 'LIST', limit: view.limit, prefix: view.key() };
    case 'SCAN':
      return { op: 'SCAN', cursor: view.cursor, count: view.limit, prefix: view.key() };
    case 'RENEW':
      return { op: 'RENEW', ttlMs: view.ttlMs, key: view.key() };
    case 'INCR':
      return { op: 'INCR', delta: view.delta, ttlMs: view.ttlMs, key: view.key() };
    case 'HELLO':
      return { op: 'HELLO', body: view.key() };
    case 'CAPS':
      return { op: 'CAPS', features: view.features };
    case 'TRACKING':
      return view.trackingMode === TrackingMode.PREFIXES ? { op: 'TRACKING', mode: view.trackingMode, prefixes: view.prefixes } : { op: 'TRACKING', mode: view.trackingMode };
    case 'LEASE':
      return { op: 'LEASE', key: view.key(), leaseMs: view.leaseMs, staleOk: view.staleOk };
    default:
      return { op: view.op };
  }
}

/**
 * Points `view` at the fields of `request` (keys and values by reference):
 * how a caller holding a plain {@link Request}, the HTTP gateway, runs it
 * through the executor the binary protocol uses.
 *
 * @example
 * ```ts
 * execute(viewOf({ op: 'GET', key }, new RequestView()), context, Infinity);
 * ```
 */
export function viewOf(request: Request, view: RequestView): RequestView {
  view.op = request.op;
  view.quiet = quietBit(request) !== 0;
  switch (request.op) {
    case 'GET':
    case 'GETS':
    case 'DELETE':
    case 'TTL':
      return view.setKey(request.key);
    case 'SET':
      view.versionHi = Number((request.version ?? 0n) >> 32n);
      view.versionLo = Number((request.version ?? 0n) & 0xffff_ffffn);
      view.version = view.versionHi * 2 ** 32 + view.versionLo;
      view.leaseToken = request.leaseToken ?? 0n;
      view.ttlMs = request.ttlMs;
      view.nx = request.nx;
      view.xx = request.xx;
      view.keepTtl = request.keepTtl;
      return view.setKey(request.key).setValue(request.value);
    case 'LIST':
      view.limit = request.limit;
      return view.setKey(request.prefix);
    case 'SCAN':
      view.cursor = request.cursor;
      view.limit = request.count;
      return view.setKey(request.prefix);
    case 'RENEW':
    case 'GAT':
      view.ttlMs = request.ttlMs;
      return view.setKey(request.key);
    case 'INCR':
      view.delta = request.delta;
      view.ttlMs = request.ttlMs;
      return view.setKey(request.key);
    case 'HELLO':
      return view.setKey(request.body);
    case 'CAPS':
      view.features = request.features;
      return view;
    case 'TRACKING':
      view.trackingMode = request.mode;
      view.prefixes = request.prefixes === undefined ? [] : [...request.prefixes];
      return view;
    case 'LEASE':
      view.leaseMs = request.leaseMs;
      view.staleOk = request.staleOk;
      return view.setKey(request.key);
    default:
      return view;
  }
}

function checkId(id: bigint, limit: bigint): void {
  if (id < 0n || id > limit) throw new ConduitError('BAD_REQUEST', `identifier ${id} is outside 0..${limit}`);
}

function checkBodySize(length: number, limit = MAX_BODY_SIZE): void {
  if (length > limit) {
    throw new ConduitError('TOO_LARGE', `body of ${length} bytes exceeds the ${limit === MAX_BODY_SIZE ? 'frame ' : ''}limit of ${limit}`);
  }
}

/**
 * Encodes a request frame (spec §3) as buffers to write in order: the header
 * and fixed fields in one small buffer, then a SET's value as given, never
 * copied. Throws a {@link ConduitError} (`BAD_REQUEST`, or `TOO_LARGE` past
 * the frame cap) on invalid input: this checks program input, not wire input.
 *
 * @example
 * ```ts
 * socket.write(Buffer.concat(encodeRequest(1n, { op: 'GET', key: Buffer.from('k') })));
 * ```
 */
export function encodeRequest(id: bigint, request: Request): Buffer[] {
  checkId(id, MAX_CLIENT_ID);
  return encode(request, id, MAX_BODY_SIZE);
}

/** A request's opcode and body without a header: what an output batch frames (see OutputBatch). */
export interface RequestBody {
  readonly opcode: number;
  /** The body as buffers to write in order: fixed fields, then a SET's value as given (not copied). */
  readonly body: Buffer[];
}

/**
 * Encodes a request's body only (spec §3), validated as {@link encodeRequest}
 * does; the identifier and header are added when the frame is written, so a
 * client can encode at call time and number requests at write time.
 * `maxBody` is the largest body accepted (`TOO_LARGE` above): one frame's
 * by default; a client that may fragment (spec §2.4) passes the message
 * limit and frames a larger body with `fragmentFrames` (fragments.ts).
 *
 * @example
 * ```ts
 * const { opcode, body } = encodeRequestBody({ op: 'GET', key: Buffer.from('k') });
 * batch.push(opcode, 1n, body);
 * ```
 */
export function encodeRequestBody(request: Request, maxBody = MAX_BODY_SIZE): RequestBody {
  return { opcode: Opcode[request.op] | quietBit(request), body: encode(request, undefined, maxBody) };
}

/** spec §2.5: QUIET_BIT when `request` is a quiet write, else 0. */
function quietBit(request: Request): number {
  return 'quiet' in request && request.quiet === true ? QUIET_BIT : 0;
}

/**
 * The one request encoder: with an identifier the first buffer starts with
 * the header (HEADER_SIZE bytes); without, it holds the fixed fields only.
 */
function encode(request: Request, id: bigint | undefined, maxBody: number): Buffer[] {
  const at = id === undefined ? 0 : HEADER_SIZE; // where the fixed fields start
  const quiet = quietBit(request); // spec §2.5: set on SET, DELETE and RENEW only (the type allows no other)
  /** The header (when framing) plus `extra` bytes of fixed fields, with `tail` copied after the header. */
  const head = (opcode: number, length: number, extra: number, tail: Uint8Array | undefined): Buffer => {
    const out = Buffer.allocUnsafe(at + extra);
    if (id !== undefined) writeHeader(out, 0, VERSION_REQUEST, opcode, length, id);
    if (tail !== undefined) out.set(tail, at);
    return out;
  };
  switch (request.op) {
    case 'GET':
    case 'GETS':
    case 'DELETE':
    case 'TTL':
      checkKey(request.key);
      return [head(Opcode[request.op] | quiet, request.key.length, request.key.length, request.key)];
    case 'SET': {
      const { key, value, ttlMs } = request;
      checkKey(key);
      checkTtl(ttlMs);
      if (request.nx && request.xx) throw new ConduitError('BAD_REQUEST', 'nx and xx exclude each other');
      if (request.keepTtl && ttlMs !== 0) throw new ConduitError('BAD_REQUEST', 'keepTtl excludes ttlMs');
      // A plain SET (no version) compares no BigInt: this runs for every SET a client makes.
      const version = request.version;
      if (version !== undefined && (version < 0n || version > U64_MAX)) throw new ConduitError('BAD_REQUEST', `version ${version} is outside 0..2^64-1`);
      const cas = version !== undefined && version !== 0n; // spec §3.11: without a version the frame is protocol 1.0's, unchanged
      if (cas && request.nx) throw new ConduitError('BAD_REQUEST', 'nx and version exclude each other');
      // spec §3.16 (1.3): a lease set carries its token where CAS's version sits.
      const leaseToken = request.leaseToken;
      const lease = leaseToken !== undefined && leaseToken !== 0n;
      if (lease) {
        if (cas) throw new ConduitError('BAD_REQUEST', 'version and leaseToken exclude each other');
        if (request.nx || request.xx) throw new ConduitError('BAD_REQUEST', 'leaseToken excludes nx and xx');
        if (leaseToken < 0n || leaseToken > U64_MAX) throw new ConduitError('BAD_REQUEST', `leaseToken ${leaseToken} is outside 1..2^64-1`);
      }
      const keyAt = cas || lease ? SET_FIXED_SIZE + SET_VERSION_SIZE : SET_FIXED_SIZE;
      const fixed = keyAt + key.length;
      const length = fixed + value.length;
      checkBodySize(length, maxBody);
      const out = head(Opcode.SET | quiet, length, fixed, undefined);
      out[at] = (request.nx ? SET_NX : 0) | (request.xx ? SET_XX : 0) | (request.keepTtl ? SET_KEEPTTL : 0) | (cas ? SET_CAS : 0) | (lease ? SET_LEASE : 0);
      out.writeUInt32BE(ttlMs, at + 1);
      out[at + 5] = key.length;
      if (cas) out.writeBigUInt64BE(version as bigint, at + SET_FIXED_SIZE);
      if (lease) out.writeBigUInt64BE(leaseToken, at + SET_FIXED_SIZE);
      out.set(key, at + keyAt);
      return value.length === 0 ? [out] : [out, value];
    }
    case 'LIST': {
      const { prefix, limit } = request;
      if (prefix.length > MAX_KEY_SIZE) {
        throw new ConduitError('BAD_REQUEST', `prefix must be at most ${MAX_KEY_SIZE} bytes, got ${prefix.length}`);
      }
      if (!Number.isInteger(limit) || limit < 1 || limit > 0xffff) {
        throw new ConduitError('BAD_REQUEST', `limit must be an integer from 1 to 65535, got ${limit}`);
      }
      const out = head(Opcode.LIST, 2 + prefix.length, 2 + prefix.length, undefined);
      out.writeUInt16BE(limit, at);
      out.set(prefix, at + 2);
      return [out];
    }
    case 'SCAN': {
      const { cursor, count, prefix } = request;
      if (prefix.length > MAX_KEY_SIZE) {
        throw new ConduitError('BAD_REQUEST', `prefix must be at most ${MAX_KEY_SIZE} bytes, got ${prefix.length}`);
      }
      if (!Number.isInteger(count) || count < 1 || count > 0xffff) {
        throw new ConduitError('BAD_REQUEST', `count must be an integer from 1 to 65535, got ${count}`);
      }
      if (cursor < 0n || cursor > 0xffff_ffff_ffff_ffffn) {
        throw new ConduitError('BAD_REQUEST', `cursor ${cursor} is outside the u64 range`);
      }
      const out = head(Opcode.SCAN, 10 + prefix.length, 10 + prefix.length, undefined);
      out.writeBigUInt64BE(cursor, at);
      out.writeUInt16BE(count, at + 8);
      out.set(prefix, at + 10);
      return [out];
    }
    case 'RENEW':
    case 'GAT': {
      checkKey(request.key);
      checkTtl(request.ttlMs);
      const length = 4 + request.key.length;
      const out = head(Opcode[request.op] | quiet, length, length, undefined);
      out.writeUInt32BE(request.ttlMs, at);
      out.set(request.key, at + 4);
      return [out];
    }
    case 'INCR': {
      checkKey(request.key);
      checkTtl(request.ttlMs);
      if (request.delta < I64_MIN || request.delta > I64_MAX) {
        throw new ConduitError('BAD_REQUEST', `delta ${request.delta} is outside the i64 range`);
      }
      const length = 12 + request.key.length;
      const out = head(Opcode.INCR, length, length, undefined);
      out.writeBigInt64BE(request.delta, at);
      out.writeUInt32BE(request.ttlMs, at + 8);
      out.set(request.key, at + 12);
      return [out];
    }
    case 'HEALTH':
    case 'SHUTDOWN':
    case 'STATS':
    case 'FLUSH':
    case 'TOPOLOGY':
    case 'RELOAD':
      return [head(Opcode[request.op], 0, 0, undefined)];
    case 'CAPS': {
      const { features } = request;
      if (!Number.isInteger(features) || features < 0 || features > 0xffff_ffff) {
        throw new ConduitError('BAD_REQUEST', `features must be a u32, got ${features}`);
      }
      const out = head(Opcode.CAPS, 4, 4, undefined);
      out.writeUInt32BE(features, at);
      return [out];
    }
    case 'TRACKING':
      return [trackingBody(request.mode, request.prefixes, head)];
    case 'LEASE': {
      // spec §3.16: lease_ms u32 (≥ 1), flags u8, key.
      const { key, leaseMs } = request;
      checkKey(key);
      if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > 0xffff_ffff) {
        throw new ConduitError('BAD_REQUEST', `leaseMs must be an integer from 1 to 4294967295, got ${leaseMs}`);
      }
      const length = 5 + key.length;
      const out = head(Opcode.LEASE, length, length, undefined);
      out.writeUInt32BE(leaseMs, at);
      out[at + 4] = request.staleOk ? LEASE_STALE_OK : 0;
      out.set(key, at + 5);
      return [out];
    }
    case 'HELLO':
      checkBodySize(request.body.length);
      return [head(Opcode.HELLO, request.body.length, request.body.length, request.body)];
  }
}

/** TRACKING's body (spec §3.15): `mode u8`, and in PREFIXES mode `count u8` and each `len u8` + prefix. */
function trackingBody(
  mode: number,
  prefixes: readonly Buffer[] | undefined,
  head: (opcode: number, length: number, extra: number, tail: Uint8Array | undefined) => Buffer,
): Buffer {
  if (mode === TrackingMode.OFF || mode === TrackingMode.KEYS) {
    if (prefixes !== undefined && prefixes.length > 0) throw new ConduitError('BAD_REQUEST', 'prefixes are for tracking mode 2 (PREFIXES) only');
    return head(Opcode.TRACKING, 1, 1, Uint8Array.of(mode));
  }
  if (mode !== TrackingMode.PREFIXES) throw new ConduitError('BAD_REQUEST', `tracking mode must be 0, 1 or 2, got ${mode}`);
  if (prefixes === undefined || prefixes.length < 1 || prefixes.length > MAX_TRACKING_PREFIXES) {
    throw new ConduitError('BAD_REQUEST', `prefixes must list 1 to ${MAX_TRACKING_PREFIXES} prefixes, got ${prefixes?.length ?? 0}`);
  }
  let length = 2;
  for (const prefix of prefixes) {
    if (prefix.length > MAX_KEY_SIZE) throw new ConduitError('BAD_REQUEST', `prefix must be at most ${MAX_KEY_SIZE} bytes, got ${prefix.length}`);
    length += 1 + prefix.length;
  }
  const fields = Buffer.allocUnsafe(length);
  fields[0] = mode;
  fields[1] = prefixes.length;
  let at = 2;
  for (const prefix of prefixes) {
    fields[at] = prefix.length;
    fields.set(prefix, at + 1);
    at += 1 + prefix.length;
  }
  return head(Opcode.TRACKING, length, length, fields);
}

/**
 * Encodes a response frame: the header, then `body` as given (not copied).
 * Identifiers may use the whole u64 range: server-originated frames use the
 * top half (spec §2.2).
 *
 * @example
 * ```ts
 * socket.write(Buffer.concat(encodeResponse(frame.id, Status.OK, value)));
 * ```
 */
export function encodeResponse(id: bigint, status: number, body: Uint8Array = EMPTY): Buffer[] {
  checkId(id, 0xffff_ffff_ffff_ffffn);
  checkBodySize(body.length);
  const header = encodeHeader(VERSION_RESPONSE, status, body.length, id);
  return body.length === 0 ? [header] : [header, Buffer.from(body.buffer, body.byteOffset, body.length)];
}

/**
 * Encodes an error response: the status and a UTF-8 message as body (spec
 * §4), the message cut to fit a frame.
 *
 * @example
 * ```ts
 * encodeError(frame.id, Status.NOT_INTEGER, 'value is not an integer');
 * ```
 */
export function encodeError(id: bigint, status: number, message: string): Buffer[] {
  let body = Buffer.from(message, 'utf8');
  if (body.length > MAX_BODY_SIZE) body = body.subarray(0, MAX_BODY_SIZE);
  return encodeResponse(id, status, body);
}

/**
 * Encodes the body of an INCR or TTL response: one big-endian i64 (spec §3.8, §3.9).
 *
 * @example
 * ```ts
 * encodeResponse(id, Status.OK, encodeI64(42n));
 * ```
 */
export function encodeI64(value: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(value);
  return out;
}

/**
 * Decodes an INCR or TTL response body, or returns a BAD_REQUEST error when it
 * is not exactly 8 bytes.
 *
 * @example
 * ```ts
 * const ttl = decodeI64(frame.body); // -1n: no expiry
 * ```
 */
export function decodeI64(body: Buffer): bigint | ProtocolError {
  if (body.length !== 8) return badRequest(`an i64 body is 8 bytes, got ${body.length}`);
  return body.readBigInt64BE(0);
}

/** The decoded body of a LIST response (spec §3.5). */
export interface ListResult {
  /** Keys that start with the prefix, in no particular order. */
  readonly keys: Buffer[];
  /** True when more keys matched than the response holds. */
  readonly truncated: boolean;
}

/**
 * Encodes a LIST response body: `truncated u8`, then `key_len u8, key` per key
 * (spec §3.5). The caller keeps it within {@link MAX_BODY_SIZE}.
 *
 * @example
 * ```ts
 * encodeListBody([Buffer.from('a'), Buffer.from('b')], false); // <00 01 61 01 62>
 * ```
 */
export function encodeListBody(keys: readonly Uint8Array[], truncated: boolean): Buffer {
  const out = keyListBody(1, keys);
  out[0] = truncated ? 1 : 0;
  return out;
}

/**
 * Decodes a LIST response body, or returns a BAD_REQUEST error when it is
 * malformed. Keys are views into `body`.
 *
 * @example
 * ```ts
 * const { keys, truncated } = decodeListBody(frame.body) as ListResult;
 * ```
 */
export function decodeListBody(body: Buffer): ListResult | ProtocolError {
  if (body.length < 1) return badRequest('LIST response body is empty');
  const flag = body[0] as number;
  if (flag > 1) return badRequest(`LIST truncated byte is ${flag}, not 0 or 1`);
  const keys = readKeyList(body, 1, 'LIST');
  if (keys instanceof ProtocolError) return keys;
  return { keys, truncated: flag === 1 };
}

