import { VERSION_REQUEST } from '../protocol/constants.js';
import { encodeHeader, headerOf, writeHeader, type Frame } from '../protocol/header.js';
import { encodeRequest } from '../protocol/messages.js';
import { frameBytes } from '../protocol/output-batch.js';
import { TAG_SIZE, type FrameCipher } from './frame-cipher.js';
import { encodeHello } from './handshake.js';

/**
 * The wire steps of a secure session (spec §6), written once for the server,
 * the client and the tests: HELLO's frame, and opening and sealing a frame
 * body. Which frames are sealed is the caller's business (spec §6.5: HELLO
 * and its answer, and fatal errors, travel in plaintext).
 *
 * @module
 */

/** A sealed body as written: ciphertext, then the 16-byte tag (spec §6.4). */
export type SealedBody = readonly [ciphertext: Buffer, tag: Buffer];

/**
 * The whole HELLO request frame (spec §6.2): identifier `id` (a client uses
 * 0), the key id and the client's ephemeral public key, and for a protocol
 * 1.1 HELLO the `options` byte (spec §6.7).
 *
 * @example
 * ```ts
 * const ephemeral = generateEphemeral();
 * socket.write(helloFrame('app', ephemeral.publicKey));                       // 1.0
 * socket.write(helloFrame('app', ephemeral.publicKey, 0n, OPTION_ENVELOPES)); // 1.1, asks for envelopes
 * ```
 */
export function helloFrame(keyId: string, clientPub: Uint8Array, id = 0n, options?: number): Buffer {
  return Buffer.concat(encodeRequest(id, { op: 'HELLO', body: encodeHello(keyId, clientPub, options) }));
}

/**
 * Authenticates and decrypts a received frame's body with the header it
 * came with as associated data (spec §6.4). Returns the frame with its
 * plaintext body, or `undefined` when it does not authenticate: nothing of a
 * forged frame is used.
 *
 * @example
 * ```ts
 * const plain = openFrame(session.receive, frame);
 * if (plain === undefined) closeWith('AUTH_FAILED');
 * ```
 */
export function openFrame(cipher: FrameCipher, frame: Frame): Frame | undefined {
  const plaintext = cipher.open(headerOf(frame), frame.body);
  return plaintext === undefined ? undefined : { ...frame, length: plaintext.length, body: plaintext };
}

/**
 * {@link openFrame} without a copy: the frame's body is opened where it
 * lies (a view of the socket's chunk, the decoder's bytes), its ciphertext
 * overwritten by the plaintext, which the returned frame's body views. The
 * header is laid out in `scratch` (12 bytes, one per connection): nothing is
 * allocated for the bytes (issue 18). Returns `undefined` when the frame does
 * not authenticate; its body is then zeroed. `fragment`: the frame's
 * fragment number (spec §2.4, §6.4's nonce rule), 0 for every frame that is
 * not a later fragment.
 *
 * @example
 * ```ts
 * const scratch = Buffer.allocUnsafe(12);
 * const plain = openFrameInPlace(session.receive, decoder.read() as Frame, scratch);
 * ```
 */
export function openFrameInPlace(cipher: FrameCipher, frame: Frame, scratch: Buffer, fragment = 0): Frame | undefined {
  const { body } = frame;
  writeHeader(scratch, 0, frame.version, frame.opcode, frame.length, frame.id);
  if (!cipher.openBody(scratch, body, 0, body.length, fragment)) return undefined;
  const length = body.length - TAG_SIZE;
  return { version: frame.version, opcode: frame.opcode, id: frame.id, length, body: body.subarray(0, length) };
}

/**
 * Seals `plaintext` for the frame (`version`, `code`, `id`) it will be
 * written in: the associated data is that frame's header, whose LENGTH
 * counts the tag (spec §6.4). Returns ciphertext and tag apart, to be
 * written one after the other, so a large value is not copied once more.
 *
 * @example
 * ```ts
 * batch.push(Status.OK, id, sealFrame(session.send, VERSION_RESPONSE, Status.OK, id, value));
 * ```
 */
export function sealFrame(cipher: FrameCipher, version: number, code: number, id: bigint, plaintext: Uint8Array): SealedBody {
  return cipher.sealDetached(encodeHeader(version, code, plaintext.length + TAG_SIZE, id), plaintext);
}

/**
 * A whole sealed request frame in one buffer: for tests and tools that
 * craft frames by hand.
 *
 * @example
 * ```ts
 * raw.write(sealedRequest(session.send, Opcode.HEALTH, 1n, Buffer.alloc(0)));
 * ```
 */
export function sealedRequest(cipher: FrameCipher, opcode: number, id: bigint, plaintext: Uint8Array): Buffer {
  return frameBytes(VERSION_REQUEST, opcode, id, sealFrame(cipher, VERSION_REQUEST, opcode, id, plaintext));
}
