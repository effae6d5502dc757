import { describe, expect, it } from 'vitest';
import {
  acceptHello,
  deriveSessionKeys,
  encodeHello,
  ephemeralFromPrivate,
  FrameCipher,
  finishHello,
  parseRequest,
  ConduitError,
  ProtocolError,
} from '../../src/index.js';
import { readFileSync } from 'node:fs';
import { decodeOne, specPath, vectors } from '../support/vectors.js';

interface SecureVectors {
  psk: string;
  keyId: string;
  clientPrivate: string;
  clientPublic: string;
  serverPrivate: string;
  serverPublic: string;
  dh: string;
  okm: string;
  k_c2s: string;
  k_s2c: string;
  p_c2s: string;
  p_s2c: string;
  helloFrame: string;
  replyFrame: string;
  request: { plaintext: string; frame: string };
  response: { plaintext: string; frame: string };
}

const v = (vectors as unknown as { secure: SecureVectors }).secure;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
// The vectors were computed by an independent implementation (RFC 7748's
// X25519 ladder and RFC 5869 HKDF in Python, noble's xchacha20poly1305), with
// RFC 7748 §6.1's key pairs as the ephemeral keys.
describe('secure-mode vectors (spec §6.6)', () => {
  const client = ephemeralFromPrivate(hex(v.clientPrivate));
  const server = ephemeralFromPrivate(hex(v.serverPrivate));
  const psk = { id: v.keyId, secret: hex(v.psk) };

  it('appear in spec/conduit-v1.md §6.6', () => {
    const spec = readFileSync(specPath, 'utf8');
    for (const value of [v.helloFrame, v.replyFrame, v.k_c2s, v.k_s2c, v.p_c2s, v.p_s2c, v.request.frame, v.response.frame]) {
      expect(spec).toContain(`\`${value}\``);
    }
  });

  it('public keys and HELLO bytes', () => {
    expect(client.publicKey.toString('hex')).toBe(v.clientPublic);
    expect(server.publicKey.toString('hex')).toBe(v.serverPublic);
    const body = encodeHello(v.keyId, client.publicKey);
    expect(hex(v.helloFrame).subarray(12).equals(body)).toBe(true);
  });

  it('derived keys', () => {
    const keys = deriveSessionKeys(hex(v.dh), psk.secret, v.keyId, client.publicKey, server.publicKey);
    expect([keys.c2s, keys.s2c, keys.prefixC2s, keys.prefixS2c].map((b) => b.toString('hex'))).toEqual([v.k_c2s, v.k_s2c, v.p_c2s, v.p_s2c]);
  });

  it('the server’s reply to HELLO and the client’s key confirmation', () => {
    const hello = decodeOne(hex(v.helloFrame), 'request');
    const accepted = acceptHello(hello.body, hello.id, new Map([[v.keyId, psk.secret]]), server);
    if (accepted instanceof ProtocolError) throw accepted;
    const reply = decodeOne(hex(v.replyFrame), 'response');
    expect(accepted.reply.equals(reply.body)).toBe(true);
    const session = finishHello(reply.body, reply.id, client, psk);
    expect(session).not.toBeInstanceOf(ConduitError);
    const wrong = finishHello(reply.body, reply.id, client, { id: v.keyId, secret: Buffer.alloc(32, 7) });
    expect(wrong).toBeInstanceOf(ConduitError);
    expect((wrong as ConduitError).code).toBe('AUTH_FAILED');
  });

  it('one encrypted request and response', () => {
    const c2s = new FrameCipher(hex(v.k_c2s), hex(v.p_c2s));
    const s2c = new FrameCipher(hex(v.k_s2c), hex(v.p_s2c));
    const request = hex(v.request.frame);
    expect(c2s.seal(request.subarray(0, 12), hex(v.request.plaintext)).equals(request.subarray(12))).toBe(true);
    const plaintext = c2s.open(request.subarray(0, 12), request.subarray(12));
    expect(plaintext?.toString('hex')).toBe(v.request.plaintext);
    const frame = decodeOne(request, 'request');
    expect(parseRequest({ ...frame, body: plaintext ?? Buffer.alloc(0) })).toMatchObject({ op: 'SET', key: Buffer.from('greeting'), value: Buffer.from('hello') });
    const response = hex(v.response.frame);
    expect(s2c.seal(response.subarray(0, 12), Buffer.alloc(0)).equals(response.subarray(12))).toBe(true);
  });

  it('rejects an unknown key id and a malformed HELLO with AUTH_FAILED', () => {
    const body = encodeHello('other', client.publicKey);
    const unknown = acceptHello(body, 0n, new Map([[v.keyId, psk.secret]]), server);
    expect(unknown instanceof ProtocolError && unknown.code === 'AUTH_FAILED' && unknown.fatal).toBe(true);
    const short = acceptHello(body.subarray(0, 10), 0n, new Map([[v.keyId, psk.secret]]), server);
    expect(short instanceof ProtocolError && short.code).toBe('AUTH_FAILED');
    const lowOrder = acceptHello(encodeHello(v.keyId, Buffer.alloc(32)), 0n, new Map([[v.keyId, psk.secret]]), server);
    expect(lowOrder instanceof ProtocolError && lowOrder.code).toBe('AUTH_FAILED'); // all-zero X25519 result rejected
  });
});
