import type { AccessRule } from '../protocol/access.js';
import { hkdfSync } from 'node:crypto';
import { ConduitError, ProtocolError } from '../protocol/errors.js';
import { Status, VERSION_RESPONSE } from '../protocol/constants.js';
import { encodeHeader } from '../protocol/header.js';
import { FrameCipher, TAG_SIZE } from './frame-cipher.js';
import { generateEphemeral, type Ephemeral } from './x25519.js';

export { ephemeralFromPrivate, generateEphemeral, x25519Choice, type Ephemeral, type X25519Name } from './x25519.js';

/** spec §6.2: HELLO's version byte. */
export const HELLO_VERSION = 1;
/** X25519 public keys are 32 bytes (RFC 7748 §5). */
export const PUBLIC_KEY_SIZE = 32;
/** Pre-shared keys are 32 random bytes (spec §6.1). */
export const PSK_SIZE = 32;
/** Key ids are 1–64 bytes of UTF-8 (spec §6.1). */
export const MAX_KEY_ID_SIZE = 64;
/** spec §6.3: the HKDF info string's prefix. */
const INFO_PREFIX = Buffer.from('conduit/1', 'utf8');
/** The body of the server's OK to HELLO: server_pub ‖ key-confirmation tag. */
export const HELLO_REPLY_SIZE = PUBLIC_KEY_SIZE + TAG_SIZE;
/** The body of the OK to a protocol 1.1 HELLO (spec §6.2): server_pub ‖ the sealed `accepted` byte. */
export const HELLO_REPLY_11_SIZE = PUBLIC_KEY_SIZE + 1 + TAG_SIZE;
/** spec §6.7: bit 0 of HELLO's `options` asks for sealed envelopes; of `accepted`, grants them. */
export const OPTION_ENVELOPES = 0x01;

/** A named pre-shared key. */
export interface PreSharedKey {
  /** Its name, 1–64 bytes of UTF-8, sent in HELLO. */
  readonly id: string;
  /** 32 secret bytes. */
  readonly secret: Buffer;
  /**
   * What a session of this key may do (spec §3.17, issue 25): its prefixes and classes.
   * A server's; absent means every right (and a client ignores it).
   */
  readonly rule?: AccessRule;
}

/** The four values HKDF derives for one session (spec §6.3). */
export interface SessionKeys {
  readonly c2s: Buffer;
  readonly s2c: Buffer;
  readonly prefixC2s: Buffer;
  readonly prefixS2c: Buffer;
}

/** One side's ciphers of an established secure session. */
export interface SecureSession {
  /** Seals what this side sends. */
  readonly send: FrameCipher;
  /** Opens what this side receives. */
  readonly receive: FrameCipher;
  /** Both sides agreed to sealed envelopes (spec §6.7, protocol 1.1): frames travel in them. */
  readonly envelopes: boolean;
}

/**
 * okm = HKDF-SHA256(ikm = dh, salt = PSK, info = "conduit/1" ‖ key_id ‖
 * client_pub ‖ server_pub [‖ options], 96 bytes), split as spec §6.3 says.
 * `options`: the byte a protocol 1.1 HELLO carried (undefined for a 1.0
 * HELLO, whose info ends with server_pub).
 *
 * @example
 * ```ts
 * const keys = deriveSessionKeys(dh, psk.secret, psk.id, clientPub, serverPub);
 * ```
 */
export function deriveSessionKeys(
  dh: Uint8Array,
  psk: Uint8Array,
  keyId: string,
  clientPub: Uint8Array,
  serverPub: Uint8Array,
  options?: number,
): SessionKeys {
  const parts = [INFO_PREFIX, Buffer.from(keyId, 'utf8'), clientPub, serverPub];
  if (options !== undefined) parts.push(Buffer.from([options]));
  const info = Buffer.concat(parts);
  const okm = Buffer.from(hkdfSync('sha256', dh, psk, info, 96));
  return {
    c2s: okm.subarray(0, 32),
    s2c: okm.subarray(32, 64),
    prefixC2s: okm.subarray(64, 80),
    prefixS2c: okm.subarray(80, 96),
  };
}

/**
 * Encodes HELLO's body: `version u8 = 1`, `key_id_len u8`, key id,
 * `client_pub` (spec §6.2), then, for a protocol 1.1 HELLO, the `options`
 * byte (spec §6.7: {@link OPTION_ENVELOPES} asks for sealed envelopes).
 *
 * @example
 * ```ts
 * encodeHello('app', generateEphemeral().publicKey);                   // 1.0
 * encodeHello('app', generateEphemeral().publicKey, OPTION_ENVELOPES); // 1.1, asks for envelopes
 * ```
 */
export function encodeHello(keyId: string, clientPub: Uint8Array, options?: number): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length < 1 || id.length > MAX_KEY_ID_SIZE) {
    throw new ConduitError('BAD_REQUEST', `key id must be 1 to ${MAX_KEY_ID_SIZE} bytes of UTF-8, got ${id.length}`);
  }
  const tail = options === undefined ? [] : [Buffer.from([options])];
  return Buffer.concat([Buffer.from([HELLO_VERSION, id.length]), id, clientPub, ...tail]);
}

/**
 * The OK header that answers HELLO `id`; it is also the confirmation's
 * associated data. `size`: the reply body's, 48 for a 1.0 HELLO (the
 * default), {@link HELLO_REPLY_11_SIZE} for a 1.1 one.
 *
 * @example
 * ```ts
 * helloReplyHeader(0n); // 81 00 0030 0000000000000000
 * ```
 */
export function helloReplyHeader(id: bigint, size = HELLO_REPLY_SIZE): Buffer {
  return encodeHeader(VERSION_RESPONSE, Status.OK, size, id);
}

function sessionOf(keys: SessionKeys, side: 'client' | 'server', envelopes: boolean): SecureSession {
  const c2s = new FrameCipher(keys.c2s, keys.prefixC2s);
  const s2c = new FrameCipher(keys.s2c, keys.prefixS2c);
  return side === 'client' ? { send: c2s, receive: s2c, envelopes } : { send: s2c, receive: c2s, envelopes };
}

/** spec §6.5: the one message every handshake or authentication failure carries on the wire. */
export const AUTH_FAILED_MESSAGE = 'authentication failed';

/** Why the server refused a HELLO; logged, never sent (spec §6.5: one message for all). */
export type HelloRefusalReason = 'bad_version' | 'malformed' | 'unknown_key_id' | 'bad_public_key';

/**
 * A refused HELLO: the fatal `AUTH_FAILED` to send, whose message is the same
 * for every reason so a prober learns nothing about which key ids exist
 * (spec §6.5), and the precise reason for the server's log.
 *
 * @example
 * ```ts
 * const result = acceptHello(body, id, keys);
 * if (result instanceof HelloRefusal) log.warn({ reason: result.reason, keyId: result.keyId }, 'handshake refused');
 * ```
 */
export class HelloRefusal extends ProtocolError {
  constructor(
    readonly reason: HelloRefusalReason,
    /** The key id HELLO named, when it got that far. */
    readonly keyId: string | undefined,
  ) {
    super('AUTH_FAILED', AUTH_FAILED_MESSAGE, Status.AUTH_FAILED);
    this.name = 'HelloRefusal';
  }
}

/**
 * The server's side of the handshake (spec §6.2): finds the key HELLO names,
 * derives the session, and returns it with the OK body (server_pub ‖
 * key-confirmation tag) and the key id, or the {@link HelloRefusal} to send.
 *
 * Version, length and key id are checked before anything costly: the
 * ephemeral key pair and the shared secret (two X25519 operations, about
 * 55 µs in libsodium, 110 µs in node:crypto) are computed only for a known
 * key id, so a flood of HELLOs naming unknown ids costs a table lookup each.
 * (The server's per-address HELLO rate limit comes before this function.) `ephemeral` is a key pair (test vectors) or the function that makes
 * one, called only then.
 *
 * @example
 * ```ts
 * const result = acceptHello(frame.body, frame.id, keys);
 * if (result instanceof ProtocolError) return fatal(result);
 * ```
 */
export function acceptHello(
  body: Buffer,
  id: bigint,
  keys: ReadonlyMap<string, Buffer>,
  ephemeral: Ephemeral | (() => Ephemeral) = generateEphemeral,
): { session: SecureSession; reply: Buffer; keyId: string } | HelloRefusal {
  if (body.length < 2 || body[0] !== HELLO_VERSION) return new HelloRefusal('bad_version', undefined);
  const idLength = body[1] as number;
  // 1.0: the body ends with client_pub; 1.1 adds the options byte (spec §6.2).
  const keyEnd = 2 + idLength + PUBLIC_KEY_SIZE;
  if (idLength < 1 || idLength > MAX_KEY_ID_SIZE || (body.length !== keyEnd && body.length !== keyEnd + 1)) {
    return new HelloRefusal('malformed', undefined);
  }
  const keyId = body.toString('utf8', 2, 2 + idLength);
  const psk = keys.get(keyId);
  if (psk === undefined) return new HelloRefusal('unknown_key_id', keyId);
  const own = typeof ephemeral === 'function' ? ephemeral() : ephemeral;
  const clientPub = body.subarray(2 + idLength, keyEnd);
  const dh = own.sharedSecret(clientPub);
  if (dh === undefined) return new HelloRefusal('bad_public_key', keyId);
  const options = body.length === keyEnd ? undefined : (body[keyEnd] as number);
  if (options === undefined) {
    const session = sessionOf(deriveSessionKeys(dh, psk, keyId, clientPub, own.publicKey), 'server', false);
    const tag = session.send.seal(helloReplyHeader(id), Buffer.alloc(0));
    return { session, reply: Buffer.concat([own.publicKey, tag]), keyId };
  }
  // spec §6.7: grant what is asked of what this server knows (envelopes); reserved bits never.
  const accepted = options & OPTION_ENVELOPES;
  const session = sessionOf(deriveSessionKeys(dh, psk, keyId, clientPub, own.publicKey, options), 'server', accepted !== 0);
  const sealed = session.send.seal(helloReplyHeader(id, HELLO_REPLY_11_SIZE), Buffer.from([accepted]));
  return { session, reply: Buffer.concat([own.publicKey, sealed]), keyId };
}

/**
 * The client's side (spec §6.2): checks the server's OK to HELLO `id` and
 * its key confirmation, and returns the session, or `AUTH_FAILED` when the
 * server holds another key (or is not the server it claims). `options`: the
 * byte the HELLO carried (a 1.1 HELLO, spec §6.7), `undefined` for a 1.0
 * one; the session has envelopes when the server granted them.
 *
 * @example
 * ```ts
 * const session = finishHello(reply.body, helloId, ephemeral, key, OPTION_ENVELOPES);
 * ```
 */
export function finishHello(body: Buffer, id: bigint, ephemeral: Ephemeral, key: PreSharedKey, options?: number): SecureSession | ConduitError {
  const size = options === undefined ? HELLO_REPLY_SIZE : HELLO_REPLY_11_SIZE;
  if (body.length !== size) return new ConduitError('AUTH_FAILED', 'handshake reply is malformed');
  const serverPub = body.subarray(0, PUBLIC_KEY_SIZE);
  const dh = ephemeral.sharedSecret(serverPub);
  if (dh === undefined) return new ConduitError('AUTH_FAILED', 'server public key is invalid');
  const keys = deriveSessionKeys(dh, key.secret, key.id, ephemeral.publicKey, serverPub, options);
  const session = sessionOf(keys, 'client', false);
  const confirmed = session.receive.open(helloReplyHeader(id, size), body.subarray(PUBLIC_KEY_SIZE));
  if (confirmed === undefined) {
    return new ConduitError('AUTH_FAILED', `the server does not hold key '${key.id}' (key confirmation failed)`);
  }
  const accepted = options === undefined ? 0 : (confirmed[0] as number);
  if ((accepted & ~(options ?? 0)) !== 0) {
    // spec §6.7: a server grants a subset of what was asked; anything else is not a server we know.
    return new ConduitError('AUTH_FAILED', `the server granted options 0x${accepted.toString(16)} that were not asked for`);
  }
  return { ...session, envelopes: (accepted & OPTION_ENVELOPES) !== 0 };
}
