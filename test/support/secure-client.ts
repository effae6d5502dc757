import { ConduitError, deriveSessionKeys, FrameCipher, finishHello, generateEphemeral, type PreSharedKey, type Request, type SecureSession } from '../../src/index.js';
import { helloFrame, sealedRequest } from '../../src/crypto/secure-channel.js';
import { OPTION_ENVELOPES } from '../../src/crypto/handshake.js';
import { FIRST_ENVELOPE_ID, HEADER_SIZE, SEALED, VERSION_REQUEST } from '../../src/protocol/constants.js';
import { writeHeader } from '../../src/protocol/header.js';
import { encodeRequest, encodeRequestBody } from '../../src/protocol/messages.js';
import { RawClient } from './raw-client.js';
import { rawClient } from './server.js';

/** A raw socket that has done the handshake by hand, to send crafted encrypted frames. */
export interface SecureRaw {
  raw: RawClient;
  session: SecureSession;
  /** The bytes of `request` with identifier `id`, sealed for this session. */
  seal(id: bigint, request: Request): Buffer;
  /** `request` with identifier `id` as the plaintext frame it is inside an envelope (spec §6.7). */
  plain(id: bigint, request: Request): Buffer;
  /**
   * A sealed envelope (spec §6.7) holding `frames` (plaintext frames, joined), with the
   * next envelope identifier unless `id` is given (the counter does not move then).
   */
  envelope(frames: readonly Buffer[], id?: bigint): Buffer;
}

/**
 * Does the handshake with `key` on a raw socket. With `ignoreConfirmation`
 * it plays an attacker holding the wrong key: it derives its session from the
 * server's reply even though the key confirmation failed (spec §6.2), so it
 * can still send frames sealed under that wrong key.
 */
export async function secureRaw(port: number, key: PreSharedKey, { ignoreConfirmation = false, envelopes = false } = {}): Promise<SecureRaw> {
  const raw = await rawClient(port);
  const ephemeral = generateEphemeral();
  const options = envelopes ? OPTION_ENVELOPES : undefined;
  raw.write(helloFrame(key.id, ephemeral.publicKey, 0n, options));
  await raw.waitFrames(1);
  const reply = raw.frames.shift();
  if (reply === undefined) throw new Error('no handshake reply');
  let session = finishHello(reply.body, 0n, ephemeral, key, options);
  if (session instanceof ConduitError && ignoreConfirmation) {
    const serverPub = reply.body.subarray(0, 32);
    const dh = ephemeral.sharedSecret(serverPub);
    if (dh === undefined) throw new Error('the server sent a low-order public key');
    const keys = deriveSessionKeys(dh, key.secret, key.id, ephemeral.publicKey, serverPub);
    session = { send: new FrameCipher(keys.c2s, keys.prefixC2s), receive: new FrameCipher(keys.s2c, keys.prefixS2c), envelopes: false };
  }
  if (session instanceof ConduitError) throw session;
  const established = session;
  let nextEnvelope = FIRST_ENVELOPE_ID;
  return {
    raw,
    session,
    seal(id, request) {
      const { opcode, body } = encodeRequestBody(request);
      return sealedRequest(established.send, opcode, id, Buffer.concat(body));
    },
    plain: (id, request) => Buffer.concat(encodeRequest(id, request)),
    envelope(frames, id) {
      const plaintext = Buffer.concat(frames);
      const out = Buffer.alloc(HEADER_SIZE + plaintext.length + 16);
      writeHeader(out, 0, VERSION_REQUEST, SEALED, plaintext.length + 16, id ?? nextEnvelope++);
      plaintext.copy(out, HEADER_SIZE);
      established.send.sealInPlace(out, 0, plaintext.length);
      return out;
    },
  };
}
