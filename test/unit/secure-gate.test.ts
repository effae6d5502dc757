import { describe, expect, it } from 'vitest';
import { finishHello, generateEphemeral, type SecureSession } from '../../src/crypto/handshake.js';
import { helloFrame, sealedRequest } from '../../src/crypto/secure-channel.js';
import { takeOne } from '../support/vectors.js';
import { Opcode, VERSION_REQUEST } from '../../src/protocol/constants.js';
import type { RawFrame } from '../../src/protocol/header.js';
import { frameBytes } from '../../src/protocol/output-batch.js';
import { SecureGate, type GateAnswer } from '../../src/server/secure-gate.js';

const secret = Buffer.alloc(32, 5);
const keys = new Map([['app', secret]]);

/** The decoder's frame for `bytes` (the gate opens its body in place). */
const request = (bytes: Buffer): RawFrame => takeOne(bytes, 'request');

function refusal(admitted: GateAnswer): { code: string; reason: string } {
  if (!('kind' in admitted) || admitted.kind !== 'refused') throw new Error('not refused');
  return { code: admitted.error.code, reason: admitted.reason };
}

/** A gate past HELLO, and the client's session. */
function handshaken(): { gate: SecureGate; client: SecureSession } {
  const gate = new SecureGate(keys);
  const ephemeral = generateEphemeral();
  const admitted = gate.admit(request(helloFrame('app', ephemeral.publicKey)));
  if (!('kind' in admitted) || admitted.kind !== 'hello') throw new Error('HELLO refused');
  const client = finishHello(admitted.reply, 0n, ephemeral, { id: 'app', secret });
  if (!('send' in client)) throw new Error('key confirmation failed');
  return { gate, client };
}

describe('SecureGate (spec §6)', () => {
  it('is plaintext without keys, awaiting HELLO with them', () => {
    expect(new SecureGate(undefined).trust).toBe('plaintext');
    expect(new SecureGate(keys).trust).toBe('awaiting_hello');
  });

  it('refuses a first frame that is not HELLO with AUTH_REQUIRED', () => {
    const gate = new SecureGate(keys);
    expect(refusal(gate.admit(request(frameBytes(VERSION_REQUEST, Opcode.HEALTH, 1n, undefined))))).toEqual({
      code: 'AUTH_REQUIRED',
      reason: 'secure mode: the first frame must be HELLO',
    });
  });

  it('refuses an unknown key id with AUTH_FAILED and logs the reason, not on the wire (§6.5)', () => {
    const gate = new SecureGate(keys);
    const { code, reason } = refusal(gate.admit(request(helloFrame('other', generateEphemeral().publicKey))));
    expect(code).toBe('AUTH_FAILED');
    expect(reason).toBe('handshake failed: unknown key id (key id other)');
    expect(gate.trust).toBe('awaiting_hello');
  });

  it('answers HELLO with a reply the client confirms, then opens sealed frames', () => {
    const { gate, client } = handshaken();
    expect(gate.trust).toBe('handshaken');
    expect(gate.keyId).toBe('app');
    expect(gate.sending).toBeDefined();
    const bytes = sealedRequest(client.send, Opcode.GET, 1n, Buffer.from('k'));
    const raw = request(bytes);
    expect(gate.admit(raw)).toEqual({ kind: 'opened' });
    // Opened in place: the ciphertext byte after the header is the plaintext now, in the very input bytes.
    expect(raw.source).toBe(bytes);
    expect(raw.source.subarray(raw.bodyStart, raw.bodyStart + raw.length - 16).toString()).toBe('k');
    expect(gate.trust).toBe('authenticated');
  });

  it('refuses an identifier not above the last (REPLAY) and a forged frame (AUTH_FAILED)', () => {
    const { gate, client } = handshaken();
    const first = sealedRequest(client.send, Opcode.GET, 5n, Buffer.from('k'));
    expect(gate.admit(request(Buffer.from(first))).kind).toBe('opened');
    expect(refusal(gate.admit(request(first))).code).toBe('REPLAY');
    const forged = Buffer.from(sealedRequest(client.send, Opcode.GET, 6n, Buffer.from('k')));
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(refusal(gate.admit(request(forged)))).toEqual({ code: 'AUTH_FAILED', reason: 'frame 6 failed authentication (key id app)' });
    const high = sealedRequest(client.send, Opcode.GET, 0x1_0000_0000n, Buffer.from('k'));
    expect(gate.admit(request(high)).kind).toBe('opened'); // the high half counts: 2^32 > 5
    const lowHalfAbove = sealedRequest(client.send, Opcode.GET, 7n, Buffer.from('k'));
    expect(refusal(gate.admit(request(lowHalfAbove)))).toMatchObject({ code: 'REPLAY', reason: 'identifier 7 is not greater than 4294967296' });
  });

  it('refuses HELLO after the handshake', () => {
    const { gate, client } = handshaken();
    const hello = sealedRequest(client.send, Opcode.HELLO, 1n, Buffer.alloc(3));
    expect(refusal(gate.admit(request(hello)))).toEqual({ code: 'AUTH_FAILED', reason: 'HELLO after the handshake' });
  });

  it('is abandoned once when the peer leaves after HELLO, never after an authenticated frame', () => {
    const { gate } = handshaken();
    expect(gate.abandon()).toBe(true);
    expect(gate.trust).toBe('abandoned');
    expect(gate.abandon()).toBe(false);
    const other = handshaken();
    other.gate.admit(request(sealedRequest(other.client.send, Opcode.HEALTH, 1n, Buffer.alloc(0))));
    expect(other.gate.abandon()).toBe(false);
  });
});
