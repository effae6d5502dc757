import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { openFrame, openFrameInPlace, sealFrame } from '../../src/crypto/secure-channel.js';
import { FIRST_ENVELOPE_ID, HEADER_SIZE, MAX_BODY_SIZE, Opcode, SEALED, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { decodeOne } from '../support/vectors.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { headerOf, idOf, type Frame } from '../../src/protocol/header.js';
import { frameBytes, MAX_ENVELOPE_PLAINTEXT, OutputBatch } from '../../src/protocol/output-batch.js';

/**
 * Issue 18: frames are sealed as they are laid out in the output block
 * (OutputBatch#pushSealed) and opened where the decoder left them
 * (openFrameInPlace, FrameCipher#openBody). Both must give exactly the
 * bytes of the copying path (sealFrame / openFrame), which the spec §6.6
 * vectors pin, on whichever frame AEAD this test project runs.
 */

const key = Buffer.alloc(32, 7);
const prefix = Buffer.alloc(16, 3);

/** What a batch writes, joined. */
function written(batch: OutputBatch): Buffer {
  const chunks: Buffer[] = [];
  batch.writeTo({ write: (chunk) => (chunks.push(Buffer.from(chunk)), true), cork() {}, uncork() {} });
  return Buffer.concat(chunks);
}

/** The copying path's bytes for one sealed frame. */
const expected = (version: number, code: number, id: bigint, plaintext: Buffer): Buffer =>
  frameBytes(version, code, id, sealFrame(new FrameCipher(key, prefix), version, code, id, plaintext));

const halves = (id: bigint): [number, number] => [Number(id >> 32n), Number(id & 0xffff_ffffn)];

describe('sealing in the output block (issue 18)', () => {
  it('gives the bytes sealFrame gives, for no body, one part and several parts, at 0 B to the largest sealed body', () => {
    for (const n of [0, 1, 100, 4096, 16 * 1024, MAX_BODY_SIZE - TAG_SIZE]) {
      const plaintext = Buffer.alloc(n, n % 251);
      const id = 0x0000_0001_0000_0002n + BigInt(n);
      const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
      const size = batch.pushSealed(Status.OK, ...halves(id), n === 0 ? undefined : plaintext, new FrameCipher(key, prefix));
      expect(size).toBe(HEADER_SIZE + n + TAG_SIZE);
      expect(written(batch).equals(expected(VERSION_RESPONSE, Status.OK, id, plaintext))).toBe(true);

      // A request's parts (a SET's fixed fields, then its value) are one plaintext.
      const parts = [plaintext.subarray(0, Math.min(6, n)), plaintext.subarray(Math.min(6, n))];
      const requests = new OutputBatch(VERSION_REQUEST);
      requests.pushSealed(Opcode.SET, ...halves(id), parts, new FrameCipher(key, prefix));
      expect(written(requests).equals(expected(VERSION_REQUEST, Opcode.SET, id, plaintext))).toBe(true);
    }
  });

  it('lays several sealed and plaintext frames out one after the other, each on its own nonce (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 3000 })), { minLength: 1, maxLength: 40 }), (frames) => {
        const cipher = new FrameCipher(key, prefix);
        const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
        const want: Buffer[] = [];
        frames.forEach(([sealed, bytes], i) => {
          const body = Buffer.from(bytes);
          const id = BigInt(i + 1);
          if (sealed) {
            batch.pushSealed(Status.OK, 0, i + 1, body, cipher);
            want.push(expected(VERSION_RESPONSE, Status.OK, id, body));
          } else {
            batch.pushFrame(Status.NOT_FOUND, 0, i + 1, body);
            want.push(frameBytes(VERSION_RESPONSE, Status.NOT_FOUND, id, body));
          }
        });
        expect(written(batch).equals(Buffer.concat(want))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('never aliases the plaintext: changing it after the push changes nothing written', () => {
    const value = Buffer.from('a value the store may overwrite in place');
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    batch.pushSealed(Status.OK, 0, 1, value, new FrameCipher(key, prefix));
    const want = expected(VERSION_RESPONSE, Status.OK, 1n, Buffer.from(value));
    value.fill(0);
    expect(written(batch).equals(want)).toBe(true);
  });
});

describe('opening where the decoder left the bytes (issue 18)', () => {
  /** The decoder's frame for `bytes`, the way the client reads responses. */
  const decoded = (bytes: Buffer): Frame => decodeOne(bytes, 'response');

  it('opens to what openFrame opens, into the received bytes themselves', () => {
    for (const n of [0, 1, 100, 4096, MAX_BODY_SIZE - TAG_SIZE]) {
      const plaintext = Buffer.alloc(n, 0x5a);
      const wire = expected(VERSION_RESPONSE, Status.OK, 9n, plaintext);
      const copied = openFrame(new FrameCipher(key, prefix), decoded(Buffer.from(wire)));
      const frame = decoded(wire);
      const opened = openFrameInPlace(new FrameCipher(key, prefix), frame, Buffer.alloc(HEADER_SIZE));
      expect(opened).toEqual(copied);
      expect(opened?.body.equals(plaintext)).toBe(true);
      if (n > 0) expect(opened?.body.buffer).toBe(wire.buffer); // no copy: a view of the received bytes
    }
  });

  it('refuses a flipped bit anywhere in the frame and zeroes what it would have opened', () => {
    const wire = expected(VERSION_RESPONSE, Status.OK, 9n, Buffer.from('secret'));
    for (let bit = 0; bit < wire.length * 8; bit += 1) {
      const flipped = Buffer.from(wire);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      const decoder = new FrameDecoder({ direction: 'response' });
      decoder.push(flipped);
      const frame = decoder.read();
      if (frame === undefined || !('body' in frame)) continue; // a flip in VERSION or LENGTH: the frame does not decode as one
      expect(openFrameInPlace(new FrameCipher(key, prefix), frame, Buffer.alloc(HEADER_SIZE))).toBeUndefined();
      expect(frame.body.subarray(0, Math.max(0, frame.body.length - TAG_SIZE)).every((b) => b === 0)).toBe(true);
    }
  });
});

describe('sealed envelopes in the output block (spec §6.7)', () => {
  /** Opens every envelope of `wire` and returns what it carried, frame by frame, plus the frames outside envelopes. */
  function unpack(wire: Buffer): { envelope: bigint | undefined; code: number; id: bigint; body: Buffer }[] {
    const decoder = new FrameDecoder({ direction: 'response' });
    decoder.push(wire);
    const out: { envelope: bigint | undefined; code: number; id: bigint; body: Buffer }[] = [];
    for (let f = decoder.read(); f !== undefined; f = decoder.read()) {
      if (f instanceof Error) throw f;
      if (f.opcode !== SEALED) {
        out.push({ envelope: undefined, code: f.opcode, id: f.id, body: Buffer.from(f.body) });
        continue;
      }
      const plaintext = new FrameCipher(key, prefix).open(headerOf(f), f.body);
      if (plaintext === undefined) throw new Error('envelope does not authenticate');
      const reader = new EnvelopeReader('response');
      reader.load(plaintext, 0, plaintext.length);
      for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
        if (inner instanceof Error) throw inner;
        out.push({ envelope: f.id, code: inner.opcode, id: idOf(inner), body: Buffer.from(inner.body) });
      }
    }
    return out;
  }

  it('lays the frames of a turn out in one envelope, sealed on write, identifiers 2^63 on', () => {
    const cipher = new FrameCipher(key, prefix);
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    const sizes = [batch.pushEnveloped(Status.OK, 0, 1, Buffer.from('one'), cipher), batch.pushEnveloped(Status.NOT_FOUND, 0, 2, undefined, cipher)];
    expect(sizes).toEqual([HEADER_SIZE + TAG_SIZE + HEADER_SIZE + 3, HEADER_SIZE]); // the envelope's header and tag come with its first frame
    expect(batch.count).toBe(2);
    const bytes = batch.bytes;
    expect(bytes).toBe((sizes[0] as number) + (sizes[1] as number));
    const first = written(batch);
    expect(first.length).toBe(bytes);
    batch.pushEnveloped(Status.OK, 0, 3, [Buffer.from('t'), Buffer.from('wo')], cipher);
    const second = written(batch);
    expect(unpack(Buffer.concat([first, second]))).toEqual([
      { envelope: FIRST_ENVELOPE_ID, code: Status.OK, id: 1n, body: Buffer.from('one') },
      { envelope: FIRST_ENVELOPE_ID, code: Status.NOT_FOUND, id: 2n, body: Buffer.alloc(0) },
      { envelope: FIRST_ENVELOPE_ID + 1n, code: Status.OK, id: 3n, body: Buffer.from('two') },
    ]);
  });

  it('never lets an envelope pass the size limit, seals a frame too large for one alone, and keeps a plaintext (fatal) frame outside', () => {
    const cipher = new FrameCipher(key, prefix);
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    const value = Buffer.alloc(100, 1);
    for (let i = 1; i <= 3000; i += 1) batch.pushEnveloped(Status.OK, 0, i, value, cipher); // 336,000 bytes of frames
    const tooLarge = Buffer.alloc(MAX_ENVELOPE_PLAINTEXT - HEADER_SIZE + 1, 2);
    batch.pushEnveloped(Status.OK, 0, 3001, tooLarge, cipher);
    batch.pushEnveloped(Status.OK, 0, 3002, Buffer.from('after'), cipher);
    batch.pushFrame(Status.AUTH_FAILED, 0x8000_0000, 0, Buffer.from('authentication failed'));
    const wire = written(batch);
    const frames = unpack(wire);
    expect(frames.map((f) => f.id)).toEqual([...Array.from({ length: 3002 }, (_, i) => BigInt(i + 1)), 1n << 63n]);
    expect(frames.slice(0, 3000).every((f) => f.envelope !== undefined && f.body.equals(value))).toBe(true);
    expect(frames[3000]).toEqual({ envelope: undefined, code: Status.OK, id: 3001n, body: expect.any(Buffer) }); // sealed alone (§6.4)
    expect(frames[3001]?.envelope).toBeDefined();
    expect(frames[3002]).toMatchObject({ envelope: undefined, code: Status.AUTH_FAILED }); // plaintext, after the envelope it closed
    expect(frames[3002]?.body.toString()).toBe('authentication failed');
    const envelopes = [...new Set(frames.map((f) => f.envelope).filter((e) => e !== undefined))];
    expect(envelopes).toEqual(envelopes.map((_, i) => FIRST_ENVELOPE_ID + BigInt(i)));
    // Every envelope on the wire within the limit; the lone frame opens to the value.
    const decoder = new FrameDecoder({ direction: 'response' });
    decoder.push(wire);
    for (let f = decoder.read(); f !== undefined; f = decoder.read()) {
      if (f instanceof Error) throw f;
      if (f.opcode === SEALED) expect(f.length - TAG_SIZE).toBeLessThanOrEqual(MAX_ENVELOPE_PLAINTEXT);
      if (f.id === 3001n) expect(new FrameCipher(key, prefix).open(headerOf(f), f.body)?.equals(tooLarge)).toBe(true);
    }
    expect(envelopes.length).toBeGreaterThanOrEqual(Math.ceil(336_000 / MAX_ENVELOPE_PLAINTEXT) + 1);
  });

  it('drops an open envelope with clear(): its identifier is not used', () => {
    const cipher = new FrameCipher(key, prefix);
    const batch = new OutputBatch(VERSION_RESPONSE, 'copy');
    batch.pushEnveloped(Status.OK, 0, 1, Buffer.from('dropped'), cipher);
    batch.clear();
    batch.pushEnveloped(Status.OK, 0, 2, Buffer.from('kept'), cipher);
    expect(unpack(written(batch)).map((f) => [f.envelope, f.id])).toEqual([[FIRST_ENVELOPE_ID, 2n]]);
  });
});

describe('EnvelopeReader (spec §6.7)', () => {
  it('reads whole frames and refuses the other direction, a frame past the end and half a header, once', () => {
    const frames = Buffer.concat([frameBytes(VERSION_REQUEST, Opcode.GET, 1n, Buffer.from('k')), frameBytes(VERSION_REQUEST, Opcode.HEALTH, 2n, undefined)]);
    const reader = new EnvelopeReader('request');
    reader.load(frames, 0, frames.length);
    const got = [];
    for (let f = reader.take(); f !== undefined; f = reader.take()) got.push(f instanceof Error ? f.code : [f.opcode, idOf(f), f.body.toString()]);
    expect(got).toEqual([[Opcode.GET, 1n, 'k'], [Opcode.HEALTH, 2n, '']]);
    const cases: [Buffer, string][] = [
      [frameBytes(VERSION_RESPONSE, Status.OK, 1n, undefined), 'BAD_VERSION'],
      [frameBytes(VERSION_REQUEST, Opcode.GET, 1n, Buffer.from('k')).subarray(0, 12), 'FRAME_TOO_LARGE'],
      [Buffer.concat([frameBytes(VERSION_REQUEST, Opcode.HEALTH, 1n, undefined), Buffer.alloc(11)]), 'FRAME_TOO_LARGE'],
    ];
    for (const [bytes, code] of cases) {
      reader.load(bytes, 0, bytes.length);
      let item = reader.take();
      if (item !== undefined && !(item instanceof Error)) item = reader.take();
      expect(item instanceof ProtocolError ? item.code : item).toBe(code);
      expect(reader.take()).toBeUndefined();
      expect(reader.pending).toBe(false);
    }
    expect(() => reader.load(frames, 1, frames.length)).toThrow(RangeError);
  });
});
