import { describe, expect, it } from 'vitest';
import {
  acceptHello,
  ConduitError,
  encodeHello,
  ephemeralFromPrivate,
  finishHello,
  FrameCipher,
  Opcode,
  ProtocolError,
  Status,
  VERSION_REQUEST,
  VERSION_RESPONSE,
  type Frame,
} from '../../src/index.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { OutputBatch } from '../../src/protocol/output-batch.js';
import { decodeOne, vectors } from '../support/vectors.js';

/** spec/vectors-v1.json → secure11 (spec §6.6), written by scripts/secure-vectors.mjs. */
interface Envelope {
  /** The frames inside, each as sent in plaintext (spec §2). */
  frames: string[];
  /** Their concatenation: what the envelope seals. */
  plaintext: string;
  /** The whole envelope frame, header ‖ ciphertext ‖ tag. */
  frame: string;
}

interface Secure11Vectors {
  psk: string;
  keyId: string;
  clientPrivate: string;
  serverPrivate: string;
  options: string;
  accepted: string;
  k_c2s: string;
  k_s2c: string;
  p_c2s: string;
  p_s2c: string;
  helloFrame: string;
  replyHeader: string;
  replyFrame: string;
  request: Envelope;
  response: Envelope;
}

const all = vectors as unknown as { secure: { replyFrame: string; request: { plaintext: string } }; secure11: Secure11Vectors };
const v = all.secure11;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const options = Number.parseInt(v.options, 16);

/** What a batch writes, joined. */
function written(batch: OutputBatch): Buffer {
  const chunks: Buffer[] = [];
  batch.writeTo({ write: (chunk) => (chunks.push(Buffer.from(chunk)), true), cork() {}, uncork() {} });
  return Buffer.concat(chunks);
}

/** Every frame an EnvelopeReader hands out of `plaintext` (laid at `start` of a larger buffer), then what ended it. */
function readAll(direction: 'request' | 'response', plaintext: Buffer, start = 0): { frames: string[]; end: ProtocolError | undefined } {
  const source = Buffer.concat([Buffer.alloc(start, 0xee), plaintext, Buffer.alloc(3, 0xee)]);
  const reader = new EnvelopeReader(direction);
  reader.load(source, start, plaintext.length);
  const frames: string[] = [];
  for (let n = 0; n <= 64; n += 1) {
    const item = reader.take();
    if (item === undefined || item instanceof ProtocolError) return { frames, end: item };
    const header = Buffer.alloc(12);
    header[0] = item.version;
    header[1] = item.opcode;
    header.writeUInt16BE(item.length, 2);
    header.writeUInt32BE(item.idHi, 4);
    header.writeUInt32BE(item.idLo, 8);
    frames.push(Buffer.concat([header, item.body]).toString('hex'));
  }
  throw new Error('the reader never ended');
}

// Written before src/ had the 1.1 API, against the one agreed for issue 18:
// encodeHello(keyId, pub, options?), finishHello(…, key, options?),
// SecureSession#envelopes, OutputBatch#pushEnveloped (sealed by writeTo,
// envelope identifiers from 2^63) and EnvelopeReader ({ direction },
// load(source, start, length), take()) over an envelope's opened plaintext.
//
// The vectors were computed without src/ (scripts/secure-vectors.mjs:
// node:crypto X25519 and HKDF, noble's XChaCha20-Poly1305 with the whole
// 24-byte nonce), from the keys of the 1.0 vectors (RFC 7748 §6.1's pairs).
describe('protocol 1.1 secure-mode vectors (spec §6.2, §6.3, §6.7; §6.6 secure11)', () => {
  const client = ephemeralFromPrivate(hex(v.clientPrivate));
  const server = ephemeralFromPrivate(hex(v.serverPrivate));
  const psk = { id: v.keyId, secret: hex(v.psk) };
  const keys = new Map([[v.keyId, psk.secret]]);
  const hello = decodeOne(hex(v.helloFrame), 'request');
  const reply = decodeOne(hex(v.replyFrame), 'response');

  /** The server's side of the 1.1 handshake, from the vector HELLO. */
  const serverSide = () => {
    const accepted = acceptHello(hello.body, hello.id, keys, server);
    if (accepted instanceof ProtocolError) throw accepted;
    return accepted;
  };
  /** The client's side, finished on the vector reply. */
  const clientSide = () => {
    const session = finishHello(reply.body, reply.id, client, psk, options);
    if (session instanceof ConduitError) throw session;
    return session;
  };

  it('HELLO with the options byte (§6.2)', () => {
    const body = encodeHello(v.keyId, client.publicKey, options);
    expect(body.toString('hex')).toBe(hex(v.helloFrame).subarray(12).toString('hex'));
    expect(body.length).toBe(2 + v.keyId.length + 32 + 1);
  });

  it('the server grants envelopes with the 49-byte reply, and the client reads the grant (§6.2, §6.3)', () => {
    const accepted = serverSide();
    expect(accepted.keyId).toBe(v.keyId);
    expect(accepted.reply.length).toBe(49);
    expect(accepted.reply.toString('hex')).toBe(reply.body.toString('hex'));
    expect(accepted.session.envelopes).toBe(true);
    expect(clientSide().envelopes).toBe(true);
    // The reply's last 17 bytes are `accepted` sealed under k_s2c with the reply's header (§6.2).
    const confirmation = new FrameCipher(hex(v.k_s2c), hex(v.p_s2c)).open(hex(v.replyHeader), reply.body.subarray(32));
    expect(confirmation?.toString('hex')).toBe(v.accepted);
  });

  it('a 1.0 HELLO still gets a 1.0 session, without envelopes', () => {
    const accepted = acceptHello(encodeHello(v.keyId, client.publicKey), 0n, keys, server);
    if (accepted instanceof ProtocolError) throw accepted;
    expect(accepted.reply.toString('hex')).toBe(hex(all.secure.replyFrame).subarray(12).toString('hex'));
    expect(accepted.session.envelopes).not.toBe(true);
  });

  it('the options byte is bound into the keys: a reply for the other HELLO fails key confirmation (§6.3)', () => {
    // A 1.0 reply to a client that asked for envelopes (the byte removed on the way) …
    const stripped = finishHello(hex(all.secure.replyFrame).subarray(12), 0n, client, psk, options);
    expect(stripped instanceof ConduitError && stripped.code).toBe('AUTH_FAILED');
    // … and the 1.1 reply to a client that did not ask (the byte added on the way).
    const added = finishHello(reply.body, reply.id, client, psk);
    expect(added instanceof ConduitError && added.code).toBe('AUTH_FAILED');
    // The byte changed on the way: the server answers options 0x00 under other keys.
    const changed = Buffer.from(hello.body);
    changed[changed.length - 1] = 0x00;
    const accepted = acceptHello(changed, 0n, keys, server);
    if (accepted instanceof ProtocolError) throw accepted;
    const refused = finishHello(accepted.reply, 0n, client, psk, options);
    expect(refused instanceof ConduitError && refused.code).toBe('AUTH_FAILED');
  });

  it('a client that asked and was not granted seals per frame (§6.7 agreement)', () => {
    // The reply a server gives when it grants nothing: accepted = 0x00, same keys (the HELLO is the same).
    const header = hex(v.replyHeader);
    const body = Buffer.concat([server.publicKey, new FrameCipher(hex(v.k_s2c), hex(v.p_s2c)).seal(header, Buffer.from([0x00]))]);
    const session = finishHello(body, 0n, client, psk, options);
    if (session instanceof ConduitError) throw session;
    expect(session.envelopes).toBe(false);
  });

  it('the client lays the two requests out in one envelope, 2^63, and seals it on write (§6.7)', () => {
    const [set, get] = v.request.frames.map((f) => decodeOne(hex(f), 'request')) as [Frame, Frame];
    expect(set.opcode).toBe(Opcode.SET);
    expect(set.body.toString('hex')).toBe(all.secure.request.plaintext);
    const session = clientSide();
    const batch = new OutputBatch(VERSION_REQUEST);
    batch.pushEnveloped(Opcode.SET, 0, 1, set.body, session.send);
    batch.pushEnveloped(Opcode.GET, 0, 2, get.body, session.send);
    expect(written(batch).toString('hex')).toBe(v.request.frame);

    // The same with the SET as its parts (fixed fields, key, value), as the client pushes it.
    const parts = clientSide();
    const split = new OutputBatch(VERSION_REQUEST);
    split.pushEnveloped(Opcode.SET, 0, 1, [set.body.subarray(0, 6), set.body.subarray(6, 14), set.body.subarray(14)], parts.send);
    split.pushEnveloped(Opcode.GET, 0, 2, get.body, parts.send);
    expect(written(split).toString('hex')).toBe(v.request.frame);
  });

  it('the server answers in one envelope, 2^63, and the next envelope is 2^63 + 1 (§6.7 nonces)', () => {
    const session = serverSide().session;
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    batch.pushEnveloped(Status.OK, 0, 1, undefined, session.send);
    batch.pushEnveloped(Status.OK, 0, 2, Buffer.from('hello'), session.send);
    expect(written(batch).toString('hex')).toBe(v.response.frame);

    batch.pushEnveloped(Status.OK, 0, 3, Buffer.from('again'), session.send);
    const next = written(batch);
    expect(next.subarray(0, 12).toString('hex')).toBe(`81110021${(2n ** 63n + 1n).toString(16)}`);
    const opened = new FrameCipher(hex(v.k_s2c), hex(v.p_s2c)).open(next.subarray(0, 12), next.subarray(12));
    expect(opened?.toString('hex')).toBe(`810000050000000000000003${Buffer.from('again').toString('hex')}`);
  });

  it('each side opens the other’s envelope and reads the frames inside (§6.7)', () => {
    const request = decodeOne(hex(v.request.frame), 'request');
    expect(request.opcode).toBe(0x11);
    expect(request.id).toBe(2n ** 63n);
    const plain = serverSide().session.receive.open(hex(v.request.frame).subarray(0, 12), request.body);
    expect(plain?.toString('hex')).toBe(v.request.plaintext);
    for (const start of [0, 5]) expect(readAll('request', plain ?? Buffer.alloc(0), start)).toEqual({ frames: v.request.frames, end: undefined });

    const response = decodeOne(hex(v.response.frame), 'response');
    expect(response.opcode).toBe(0x11);
    const answers = clientSide().receive.open(hex(v.response.frame).subarray(0, 12), response.body);
    expect(answers?.toString('hex')).toBe(v.response.plaintext);
    for (const start of [0, 5]) expect(readAll('response', answers ?? Buffer.alloc(0), start)).toEqual({ frames: v.response.frames, end: undefined });
  });

  it('an empty envelope holds no frame; a frame of the other direction or one running past the end is fatal (§6.7 failures)', () => {
    expect(readAll('request', Buffer.alloc(0))).toEqual({ frames: [], end: undefined });
    const wrongWay = readAll('request', hex(v.response.plaintext)).end;
    expect(wrongWay instanceof ProtocolError && [wrongWay.code, wrongWay.fatal]).toEqual(['BAD_VERSION', true]);
    const cut = hex(v.request.plaintext).subarray(0, -1); // the GET's key one byte short
    const past = readAll('request', cut);
    expect(past.frames).toEqual([v.request.frames[0]]);
    expect(past.end instanceof ProtocolError && [past.end.code, past.end.fatal]).toEqual(['FRAME_TOO_LARGE', true]);
    const headerCut = readAll('response', hex(v.response.plaintext).subarray(0, 12 + 5)); // the second header cut
    expect(headerCut.frames).toEqual([v.response.frames[0]]);
    expect(headerCut.end instanceof ProtocolError && headerCut.end.code).toBe('FRAME_TOO_LARGE');
  });
});
