import {
  ConduitError,
  encodeHello,
  encodeRequest,
  finishHello,
  generateEphemeral,
  HEADER_SIZE,
  Opcode,
  TAG_SIZE,
  writeHeader,
  type PreSharedKey,
  type Request,
  type SecureSession,
} from '../../src/index.js';
import { RawClient } from './raw-client.js';
import { rawClient } from './server.js';

/** A raw socket that has done the handshake by hand, to send crafted encrypted frames. */
export interface SecureRaw {
  raw: RawClient;
  session: SecureSession;
  /** The bytes of `request` with identifier `id`, sealed for this session. */
  seal(id: bigint, request: Request): Buffer;
}

export async function secureRaw(port: number, key: PreSharedKey): Promise<SecureRaw> {
  const raw = await rawClient(port);
  const ephemeral = generateEphemeral();
  const body = encodeHello(key.id, ephemeral.publicKey);
  const hello = Buffer.alloc(HEADER_SIZE + body.length);
  writeHeader(hello, 0, 0x01, Opcode.HELLO, body.length, 0n);
  body.copy(hello, HEADER_SIZE);
  raw.write(hello);
  await raw.waitFrames(1);
  const reply = raw.frames.shift();
  if (reply === undefined) throw new Error('no handshake reply');
  const session = finishHello(reply.body, 0n, ephemeral, key);
  if (session instanceof ConduitError) throw session;
  return {
    raw,
    session,
    seal(id, request) {
      const [head, ...rest] = encodeRequest(id, request);
      const plaintext = Buffer.concat([(head as Buffer).subarray(HEADER_SIZE), ...rest]);
      const header = Buffer.alloc(HEADER_SIZE);
      writeHeader(header, 0, 0x01, (head as Buffer)[1] as number, plaintext.length + TAG_SIZE, id);
      return Buffer.concat([header, session.send.seal(header, plaintext)]);
    },
  };
}
