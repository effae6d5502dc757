import { describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { encodeHello, generateEphemeral } from '../../src/crypto/handshake.js';
import { helloFrame, openFrame, sealedRequest, sealFrame } from '../../src/crypto/secure-channel.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { Opcode, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import type { Frame } from '../../src/protocol/header.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import { frameBytes } from '../../src/protocol/output-batch.js';

const key = Buffer.alloc(32, 7);
const prefix = Buffer.alloc(16, 9);

function decodeOne(bytes: Buffer, direction: 'request' | 'response'): Frame {
  const decoder = new FrameDecoder({ direction });
  decoder.push(bytes);
  const frame = decoder.read();
  if (frame === undefined || !('body' in frame)) throw new Error('no frame');
  return frame;
}

describe('secure channel (spec §6)', () => {
  it('opens what it sealed, in both directions, and the frame is framed as sent', () => {
    for (const [version, direction] of [[VERSION_REQUEST, 'request'], [VERSION_RESPONSE, 'response']] as const) {
      const body = sealFrame(new FrameCipher(key, prefix), version, Status.OK, 42n, Buffer.from('value'));
      expect(body[1].length).toBe(TAG_SIZE);
      const frame = decodeOne(frameBytes(version, Status.OK, 42n, body), direction);
      expect(frame.length).toBe(5 + TAG_SIZE);
      const opened = openFrame(new FrameCipher(key, prefix), frame);
      expect(opened?.body.toString()).toBe('value');
      expect(opened?.length).toBe(5);
    }
  });

  it('refuses a frame whose header, body or tag changed (the header is associated data)', () => {
    const bytes = sealedRequest(new FrameCipher(key, prefix), Opcode.GET, 3n, Buffer.from('k'));
    for (let i = 0; i < bytes.length; i += 1) {
      if (i === 0 || i === 2 || i === 3) continue; // VERSION and LENGTH: the decoder itself refuses those
      const forged = Buffer.from(bytes);
      forged[i] = (forged[i] as number) ^ 1;
      const frame = decodeOne(forged, 'request');
      expect(openFrame(new FrameCipher(key, prefix), frame)).toBeUndefined();
    }
  });

  it('builds HELLO as the request encoder does (spec §6.2)', () => {
    const { publicKey } = generateEphemeral();
    expect(helloFrame('app', publicKey).equals(Buffer.concat(encodeRequest(0n, { op: 'HELLO', body: encodeHello('app', publicKey) })))).toBe(true);
    expect(decodeOne(helloFrame('app', publicKey), 'request')).toMatchObject({ opcode: Opcode.HELLO, id: 0n });
  });
});
