import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { openFrame, openFrameInPlace, sealFrame } from '../../src/crypto/secure-channel.js';
import { HEADER_SIZE, MAX_BODY_SIZE, Opcode, Status, VERSION_REQUEST, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import type { Frame } from '../../src/protocol/header.js';
import { frameBytes, OutputBatch } from '../../src/protocol/output-batch.js';

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
  function decoded(bytes: Buffer): Frame {
    const decoder = new FrameDecoder({ direction: 'response' });
    decoder.push(bytes);
    const frame = decoder.read();
    if (frame === undefined || !('body' in frame)) throw new Error('no frame');
    return frame;
  }

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
