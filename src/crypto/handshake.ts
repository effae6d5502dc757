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

/** A named pre-shared key. */
export interface PreSharedKey {
  /** Its name, 1–64 bytes of UTF-8, sent in HELLO. */
  readonly id: string;
  /** 32 secret bytes. */
  readonly secret: Buffer;
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
}

/**
 * okm = HKDF-SHA256(ikm = dh, salt = PSK, info = "conduit/1" ‖ key_id ‖
 * client_pub ‖ server_pub, 96 bytes), split as spec §6.3 says.
 *
 * @example
 * ```ts
 * const keys = deriveSessionKeys(dh, psk.secret, psk.id, clientPub, serverPub);
 * ```
 */
export function deriveSessionKeys(dh: Uint8Array, psk: Uint8Array, keyId: string, clientPub: Uint8Array, serverPub: Uint8Array): SessionKeys {
  const info = Buffer.concat([INFO_PREFIX, Buffer.from(keyId, 'utf8'), clientPub, serverPub]);
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
 * `client_pub` (spec §6.2).
 *
 * @example
 * ```ts
 * encodeHello('app', generateEphemeral().publicKey);
 * ```
 */
export function encodeHello(keyId: string, clientPub: Uint8Array): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length < 1 || id.length > MAX_KEY_ID_SIZE) {
    throw new ConduitError('BAD_REQUEST', `key id must be 1 to ${MAX_KEY_ID_SIZE} bytes of UTF-8, got ${id.length}`);
  }
  return Buffer.concat([Buffer.from([HELLO_VERSION, id.length]), id, clientPub]);
}

/** The OK header that answers HELLO `id`; it is also the confirmation tag's associated data. */
export function helloReplyHeader(id: bigint): Buffer {
  return encodeHeader(VERSION_RESPONSE, Status.OK, HELLO_REPLY_SIZE, id);
}

function sessionOf(keys: SessionKeys, side: 'client' | 'server'): SecureSession {
  const c2s = new FrameCipher(keys.c2s, keys.prefixC2s);
  const s2c = new FrameCipher(keys.s2c, keys.prefixS2c);
  return side === 'client' ? { send: c2s, receive: s2c } : { send: s2c, receive: c2s };
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
  if (idLength < 1 || idLength > MAX_KEY_ID_SIZE || body.length !== 2 + idLength + PUBLIC_KEY_SIZE) {
    return new HelloRefusal('malformed', undefined);
  }
  const keyId = body.toString('utf8', 2, 2 + idLength);
  const psk = keys.get(keyId);
  if (psk === undefined) return new HelloRefusal('unknown_key_id', keyId);
  const own = typeof ephemeral === 'function' ? ephemeral() : ephemeral;
  const clientPub = body.subarray(2 + idLength);
  const dh = own.sharedSecret(clientPub);
  if (dh === undefined) return new HelloRefusal('bad_public_key', keyId);
  const session = sessionOf(deriveSessionKeys(dh, psk, keyId, clientPub, own.publicKey), 'server');
  const tag = session.send.seal(helloReplyHeader(id), Buffer.alloc(0));
  return { session, reply: Buffer.concat([own.publicKey, tag]), keyId };
}

/**
 * The client's side (spec §6.2): checks the server's OK to HELLO `id` and
 * its key-confirmation tag, and returns the session, or `AUTH_FAILED` when
 * the server holds another key (or is not the server it claims).
 *
 * @example
 * ```ts
 * const session = finishHello(reply.body, helloId, ephemeral, key);
 * ```
 */
export function finishHello(body: Buffer, id: bigint, ephemeral: Ephemeral, key: PreSharedKey): SecureSession | ConduitError {
  if (body.length !== HELLO_REPLY_SIZE) return new ConduitError('AUTH_FAILED', 'handshake reply is malformed');
  const serverPub = body.subarray(0, PUBLIC_KEY_SIZE);
  const dh = ephemeral.sharedSecret(serverPub);
  if (dh === undefined) return new ConduitError('AUTH_FAILED', 'server public key is invalid');
  const session = sessionOf(deriveSessionKeys(dh, key.secret, key.id, ephemeral.publicKey, serverPub), 'client');
  if (session.receive.open(helloReplyHeader(id), body.subarray(PUBLIC_KEY_SIZE)) === undefined) {
    return new ConduitError('AUTH_FAILED', `the server does not hold key '${key.id}' (key confirmation failed)`);
  }
  return session;
}
