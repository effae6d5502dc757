// Protocol 1.1's HELLO options (spec §6.2, §6.3, §6.7): a 1.0 HELLO is answered as
// before; a 1.1 HELLO's options byte is bound into the keys, its answer grants a
// subset of what was asked, sealed in the key confirmation.
import { describe, expect, it } from 'vitest';
import {
  acceptHello,
  deriveSessionKeys,
  encodeHello,
  finishHello,
  generateEphemeral,
  HELLO_REPLY_11_SIZE,
  HELLO_REPLY_SIZE,
  helloReplyHeader,
  OPTION_ENVELOPES,
  type SecureSession,
} from '../../src/crypto/handshake.js';
import { FrameCipher } from '../../src/crypto/frame-cipher.js';
import { ConduitError, ProtocolError } from '../../src/protocol/errors.js';

const psk = { id: 'app', secret: Buffer.alloc(32, 9) };
const keys = new Map([[psk.id, psk.secret]]);

/** HELLO with `asked` options (undefined: a 1.0 HELLO); the client then believes it sent `told` ('1.0': none). */
function handshake(asked: number | undefined, told: number | '1.0' | 'same' = 'same'): { server: SecureSession; client: SecureSession | ConduitError; reply: Buffer } {
  const ephemeral = generateEphemeral();
  const accepted = acceptHello(encodeHello(psk.id, ephemeral.publicKey, asked), 0n, keys);
  if (accepted instanceof ProtocolError) throw accepted;
  const options = told === 'same' ? asked : told === '1.0' ? undefined : told;
  return { server: accepted.session, reply: accepted.reply, client: finishHello(accepted.reply, 0n, ephemeral, psk, options) };
}

describe('HELLO options (spec §6.7)', () => {
  it('a 1.0 HELLO gets the 48-byte answer and a session sealing per frame', () => {
    const { server, client, reply } = handshake(undefined);
    expect(reply.length).toBe(HELLO_REPLY_SIZE);
    expect(server.envelopes).toBe(false);
    expect(client).toMatchObject({ envelopes: false });
  });

  it('a 1.1 HELLO asking for envelopes gets them, in a 49-byte answer; asking for none gets none', () => {
    const asked = handshake(OPTION_ENVELOPES);
    expect(asked.reply.length).toBe(HELLO_REPLY_11_SIZE);
    expect(asked.server.envelopes).toBe(true);
    expect(asked.client).toMatchObject({ envelopes: true });
    const none = handshake(0);
    expect(none.reply.length).toBe(HELLO_REPLY_11_SIZE);
    expect(none.server.envelopes).toBe(false);
    expect(none.client).toMatchObject({ envelopes: false });
  });

  it('the options byte is bound into the keys: removed or changed on the way, the key confirmation fails', () => {
    expect(handshake(OPTION_ENVELOPES, '1.0').client).toMatchObject({ code: 'AUTH_FAILED', message: 'handshake reply is malformed' });
    expect(handshake(undefined, OPTION_ENVELOPES).client).toMatchObject({ code: 'AUTH_FAILED', message: 'handshake reply is malformed' });
    expect(handshake(0x03, OPTION_ENVELOPES).client).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('key confirmation failed') });
    expect(handshake(0, OPTION_ENVELOPES).client).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringContaining('key confirmation failed') });
  });

  it('a client refuses an answer granting what it did not ask for', () => {
    // A server of its own making (right keys, wrong grant): accepted = envelopes, asked = 0.
    const ephemeral = generateEphemeral();
    const server = generateEphemeral();
    const accepted = acceptHello(encodeHello(psk.id, ephemeral.publicKey, 0), 0n, keys, server);
    if (accepted instanceof ProtocolError) throw accepted;
    const serverPub = accepted.reply.subarray(0, 32);
    const shared = server.sharedSecret(ephemeral.publicKey);
    if (shared === undefined) throw new Error('no shared secret');
    const k = deriveSessionKeys(shared, psk.secret, psk.id, ephemeral.publicKey, serverPub, 0);
    const forgedGrant = new FrameCipher(k.s2c, k.prefixS2c).seal(helloReplyHeader(0n, HELLO_REPLY_11_SIZE), Buffer.from([OPTION_ENVELOPES]));
    const client = finishHello(Buffer.concat([serverPub, forgedGrant]), 0n, ephemeral, psk, 0);
    expect(client).toMatchObject({ code: 'AUTH_FAILED', message: 'the server granted options 0x1 that were not asked for' });
  });

  it('a HELLO with more than one byte after the public key is malformed', () => {
    const body = Buffer.concat([encodeHello(psk.id, generateEphemeral().publicKey, OPTION_ENVELOPES), Buffer.from([0])]);
    expect(acceptHello(body, 0n, keys)).toMatchObject({ code: 'AUTH_FAILED', reason: 'malformed' });
  });
});
