import { ConduitError, deriveSessionKeys, FrameCipher, finishHello, generateEphemeral, type PreSharedKey, type Request, type SecureSession } from '../../src/index.js';
import { helloFrame, sealedRequest } from '../../src/crypto/secure-channel.js';
import { encodeRequestBody } from '../../src/protocol/messages.js';
import { RawClient } from './raw-client.js';
import { rawClient } from './server.js';

/** A raw socket that has done the handshake by hand, to send crafted encrypted frames. */
export interface SecureRaw {
  raw: RawClient;
  session: SecureSession;
  /** The bytes of `request` with identifier `id`, sealed for this session. */
  seal(id: bigint, request: Request): Buffer;
}

/**
 * Does the handshake with `key` on a raw socket. With `ignoreConfirmation`
 * it plays an attacker holding the wrong key: it derives its session from the
 * server's reply even though the key confirmation failed (spec §6.2), so it
 * can still send frames sealed under that wrong key.
 */
export async function secureRaw(port: number, key: PreSharedKey, { ignoreConfirmation = false } = {}): Promise<SecureRaw> {
  const raw = await rawClient(port);
  const ephemeral = generateEphemeral();
  raw.write(helloFrame(key.id, ephemeral.publicKey));
  await raw.waitFrames(1);
  const reply = raw.frames.shift();
  if (reply === undefined) throw new Error('no handshake reply');
  let session = finishHello(reply.body, 0n, ephemeral, key);
  if (session instanceof ConduitError && ignoreConfirmation) {
    const serverPub = reply.body.subarray(0, 32);
    const dh = ephemeral.sharedSecret(serverPub);
    if (dh === undefined) throw new Error('the server sent a low-order public key');
    const keys = deriveSessionKeys(dh, key.secret, key.id, ephemeral.publicKey, serverPub);
    session = { send: new FrameCipher(keys.c2s, keys.prefixC2s), receive: new FrameCipher(keys.s2c, keys.prefixS2c) };
  }
  if (session instanceof ConduitError) throw session;
  return {
    raw,
    session,
    seal(id, request) {
      const { opcode, body } = encodeRequestBody(request);
      return sealedRequest(session.send, opcode, id, Buffer.concat(body));
    },
  };
}
