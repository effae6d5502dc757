/**
 * Numbers of Conduit protocol 1.0, exactly as `spec/conduit-v1.md` states them.
 * Everything the codec, server and client agree on lives here and nowhere else.
 *
 * @example
 * ```ts
 * import { Opcode, HEADER_SIZE } from 'conduit-cache';
 * const header = Buffer.alloc(HEADER_SIZE);
 * header[1] = Opcode.GET;
 * ```
 * @module
 */

/** spec §2: every frame starts with this many header bytes. */
export const HEADER_SIZE = 12;

/** spec §2.1: a whole frame (header + body) never exceeds 65,536 bytes. */
export const MAX_FRAME_SIZE = 65_536;

/** spec §2.1: the largest LENGTH a frame may carry (65,536 − 12). */
export const MAX_BODY_SIZE = MAX_FRAME_SIZE - HEADER_SIZE;

/** spec §3.1: keys are 1 to 250 bytes of any value. */
export const MAX_KEY_SIZE = 250;

/** spec §2: VERSION byte of a protocol-1 request (direction bit clear). */
export const VERSION_REQUEST = 0x01;

/** spec §2: VERSION byte of a protocol-1 response (direction bit set). */
export const VERSION_RESPONSE = 0x81;

/**
 * spec §2.2: identifiers with the top bit set are reserved for frames the
 * server originates; its per-connection counter starts here.
 */
export const SERVER_ID_BASE = 1n << 63n;

/** spec §2.2: one past the largest identifier a client may use in a request. */
export const MAX_CLIENT_ID = SERVER_ID_BASE - 1n;

/** spec §3.3: SET flag bit 0, store only when the key is absent. */
export const SET_NX = 0x01;
/** spec §3.3: SET flag bit 1, store only when the key is present. */
export const SET_XX = 0x02;
/** spec §3.3: SET flag bit 2, keep the key's current expiry. */
export const SET_KEEPTTL = 0x04;
/**
 * spec §3.11 (protocol 1.1): SET flag bit 3, compare-and-set; a u64 expected
 * version follows key_len, and the write stores only when the key holds it.
 */
export const SET_CAS = 0x08;
/**
 * spec §3.16 (protocol 1.3): SET flag bit 4, a lease set; a u64 lease token
 * follows key_len (where CAS's version sits), and the write stores only while
 * that token is the key's live lease.
 */
export const SET_LEASE = 0x10;
/** Every SET flag bit spec §3.3, §3.11 and §3.16 define; any other bit set is BAD_REQUEST. */
export const SET_FLAGS_MASK = SET_NX | SET_XX | SET_KEEPTTL | SET_CAS | SET_LEASE;

/** spec §3.3 and §3.6: the largest TTL a frame can carry (u32 milliseconds). */
export const MAX_TTL_MS = 0xffff_ffff;

/**
 * Request opcodes (spec §3). 0x00–0x06 keep the numbering of the original
 * Conduit opcode table.
 */
export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  DELETE: 0x02,
  LIST: 0x03,
  RENEW: 0x04,
  HEALTH: 0x05,
  SHUTDOWN: 0x06,
  STATS: 0x07,
  INCR: 0x08,
  TTL: 0x09,
  FLUSH: 0x0a,
  /** spec §3.11 (protocol 1.1): GET with the value's version. */
  GETS: 0x0b,
  /** spec §3.12 (protocol 1.1): get-and-touch. */
  GAT: 0x0c,
  /** Protocol 1.1 (spec §3.10): a bounded slice of the keys from a cursor. */
  SCAN: 0x0d,
  /** spec §3.13 (protocol 1.1): the capability exchange. */
  CAPS: 0x0e,
  /** spec §3.14 (protocol 1.2): which server of a group owns which slots. */
  TOPOLOGY: 0x0f,
  HELLO: 0x10,
  /** spec §3.15 (protocol 1.3): turn client tracking on or off for this connection. */
  TRACKING: 0x12,
  /** spec §3.16 (protocol 1.3): GET that hands one caller a lease on a miss. */
  LEASE: 0x13,
  /** spec §3.17 (protocol 1.4): re-read the server's key file (admin). */
  RELOAD: 0x14,
} as const;

/**
 * OPCODE (requests) and status (responses) of a sealed envelope (spec §6.7,
 * protocol 1.1): only in a secure session that agreed to envelopes; not a
 * request, so not in {@link Opcode}.
 */
export const SEALED = 0x11;

/** spec §6.7: a direction's first envelope has this identifier (2^63), each next one one more. */
export const FIRST_ENVELOPE_ID = 1n << 63n;

/**
 * spec §2, §2.5 (protocol 1.1): bit 6 of a request's OPCODE byte, QUIET. A
 * SET, DELETE or RENEW with it set is answered only when its status is not
 * OK; the operation is the OPCODE byte without it.
 */
export const QUIET_BIT = 0x40;

/**
 * spec §2, §2.4 (protocol 1.1): bit 7 of a request's OPCODE byte and of a
 * response's status byte, MORE: another fragment of this message follows.
 */
export const MORE = 0x80;

/**
 * spec §2.4: the first fragment's body starts with `total u32`, the length of
 * the whole message body after this prefix.
 */
export const FRAGMENT_TOTAL_SIZE = 4;

/** spec §2.4: `--max-value-size` is at most 64 MiB. */
export const MAX_VALUE_SIZE_LIMIT = 64 * 1024 * 1024;

/** spec §2.4: `--max-value-size` is 1 MiB unless configured. */
export const DEFAULT_MAX_VALUE_SIZE = 1024 * 1024;

/**
 * spec §2.4: a fragmented request may carry this much beyond
 * `--max-value-size`: SET's fixed fields (6), a CAS version (8), a 250-byte
 * key, with room to spare (272 in all).
 */
export const REQUEST_OVERHEAD_LIMIT = 272;

/**
 * spec §3.13: the feature bits of CAPS. A client's request sets
 * `FRAGMENTS` when it accepts fragmented responses; the server's answer
 * says what it supports.
 */
export const Feature = {
  /** spec §2.4: fragments (a client: it accepts fragmented responses). */
  FRAGMENTS: 0x01,
  /** spec §3.11–3.12: versions, GETS, CAS, GAT. */
  VERSIONS: 0x02,
  /** spec §3.10: SCAN. */
  SCAN: 0x04,
  /** spec §2.5: quiet writes. */
  QUIET: 0x08,
  /** spec §3.14 (protocol 1.2): TOPOLOGY, and MOVED for a key another server of the group owns. */
  TOPOLOGY: 0x10,
  /** spec §3.15 (protocol 1.3): TRACKING, and INVALIDATE pushes to a connection that turned it on. */
  TRACKING: 0x20,
  /** spec §3.16 (protocol 1.3): LEASE, and SET's LEASE flag. */
  LEASES: 0x40,
  /** spec §3.17 (protocol 1.4): RELOAD, and FORBIDDEN for a request outside its identity's rights. */
  RELOAD: 0x80,
} as const;

/** The name of a request opcode, e.g. `'GET'`. */
export type OpcodeName = keyof typeof Opcode;
/** The byte value of a request opcode. */
export type OpcodeValue = (typeof Opcode)[OpcodeName];

/** Response status codes, the OPCODE byte of a response (spec §4). */
export const Status = {
  OK: 0x00,
  NOT_FOUND: 0x01,
  NOT_STORED: 0x02,
  /** spec §3.11 (protocol 1.1): a compare-and-set found another version. */
  EXISTS: 0x03,
  BAD_REQUEST: 0x40,
  UNKNOWN_OPCODE: 0x41,
  NOT_INTEGER: 0x42,
  TOO_LARGE: 0x43,
  FORBIDDEN: 0x44,
  BUSY: 0x45,
  OUT_OF_MEMORY: 0x46,
  /** spec §3.14 (protocol 1.2): another server of the group owns the key; the body names it. */
  MOVED: 0x47,
  /**
   * spec §3.15 (protocol 1.3): a push, not an answer: only with a
   * server-originated identifier, only to a connection that turned tracking
   * on; its body lists the keys whose values changed (or "all").
   */
  INVALIDATE: 0x10,
  FRAME_TOO_LARGE: 0x60,
  BAD_VERSION: 0x61,
  AUTH_REQUIRED: 0x62,
  AUTH_FAILED: 0x63,
  REPLAY: 0x64,
  /** spec §2.4 (protocol 1.1): fragments that break the rules; the framing is lost (fatal). */
  BAD_FRAGMENT: 0x65,
  INTERNAL: 0x7f,
} as const;

/** The name of a response status, e.g. `'NOT_FOUND'`. */
export type StatusName = keyof typeof Status;
/** The byte value of a response status. */
export type StatusValue = (typeof Status)[StatusName];

const opcodeNames = new Map<number, OpcodeName>(
  Object.entries(Opcode).map(([name, value]) => [value, name as OpcodeName]),
);
const statusNames = new Map<number, StatusName>(
  Object.entries(Status).map(([name, value]) => [value, name as StatusName]),
);

/**
 * The name of an opcode byte, or `undefined` when protocol 1 defines none.
 *
 * @example
 * ```ts
 * opcodeName(0x08); // 'INCR'
 * ```
 */
export function opcodeName(opcode: number): OpcodeName | undefined {
  return opcodeNames.get(opcode);
}

/**
 * The name of a status byte, or `undefined` when protocol 1 defines none.
 *
 * @example
 * ```ts
 * statusName(0x01); // 'NOT_FOUND'
 * ```
 */
export function statusName(status: number): StatusName | undefined {
  return statusNames.get(status);
}

/**
 * spec §4.1: statuses 0x60–0x6F mean the framing or the trust is lost; the
 * sender closes the connection right after the frame.
 *
 * @example
 * ```ts
 * isFatalStatus(Status.BAD_VERSION); // true
 * isFatalStatus(Status.NOT_FOUND);   // false
 * ```
 */
export function isFatalStatus(status: number): boolean {
  return status >= 0x60 && status <= 0x6f;
}

/** spec §3.15 (protocol 1.3): the TRACKING request's `mode` byte. */
export const TrackingMode = {
  /** Stop tracking; forget this connection's tracked keys. */
  OFF: 0,
  /** Track the keys whose values this connection read. */
  KEYS: 1,
  /** Broadcast: every change of a key under one of the listed prefixes; no per-key memory. */
  PREFIXES: 2,
} as const;

/** The byte value of a {@link TrackingMode}. */
export type TrackingModeValue = (typeof TrackingMode)[keyof typeof TrackingMode];

/** spec §3.15: a TRACKING request in PREFIXES mode lists 1 to this many prefixes. */
export const MAX_TRACKING_PREFIXES = 16;

/**
 * spec §3.15: a sender keeps every INVALIDATE body at most this long, so a
 * push fits one frame and one sealed envelope (65,508 − 12) with room to
 * spare, and is never fragmented.
 */
export const MAX_PUSH_BODY = 65_000;

/** spec §3.16 (protocol 1.3): LEASE's `flags` bit 0: answer STALE with the previous value while another caller holds the lease. */
export const LEASE_STALE_OK = 0x01;

/** spec §3.16 (protocol 1.3): the `state` byte of LEASE's OK answer. */
export const LeaseState = {
  /** The key is live: its value follows, token 0. */
  HIT: 0,
  /** The key is absent: this caller holds a new lease (token ≠ 0), no value. */
  GRANTED: 1,
  /** Another caller holds a live lease: retry later; token 0, no value. */
  WAIT: 2,
  /** As WAIT, with the key's previous value (the caller set {@link LEASE_STALE_OK}). */
  STALE: 3,
} as const;

/** The byte value of a {@link LeaseState}. */
export type LeaseStateValue = (typeof LeaseState)[keyof typeof LeaseState];
