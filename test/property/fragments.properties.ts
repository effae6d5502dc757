// Fragments (spec §2.4): any message, cut into fragments of any frame size and the byte stream
// cut anywhere, comes back whole, in plaintext and sealed per frame with §6.4's fragment nonces;
// and any stream of fragment-like frames, however broken, never throws and is refused only as
// BAD_FRAGMENT (fatal) or TOO_LARGE (a total over the limit).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import { FragmentAssembler, fragmentFrames, FrameCipher, FrameDecoder, MORE, Opcode, ProtocolError, TAG_SIZE, VERSION_REQUEST } from '../../src/index.js';
import { encodeHeader } from '../../src/protocol/header.js';

/** Cuts `bytes` at the given fractions of its length (sorted, deduplicated). */
function cut(bytes: Buffer, fractions: readonly number[]): Buffer[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].filter((p) => p > 0 && p < bytes.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

const key = randomBytes(32);
const prefix = randomBytes(16);

/** A frame a broken or hostile sender might send mid-message: any code with or without MORE, a few identifiers, short bodies. */
const frameArb = fc.record({
  code: fc.oneof(fc.constant(Opcode.SET), fc.constant(Opcode.SET | MORE), fc.integer({ min: 0, max: 0xff })),
  id: fc.integer({ min: 0, max: 2 }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    // A plausible first fragment: a small total, then bytes.
    fc.tuple(fc.integer({ min: 0, max: 80 }), fc.uint8Array({ maxLength: 40 })).map(([total, rest]) => {
      const b = new Uint8Array(4 + rest.length);
      new DataView(b.buffer).setUint32(0, total);
      b.set(rest, 4);
      return b;
    }),
  ),
});

/**
 * The fragment properties (spec §2.4), run by fragments.property.test.ts and by `just fuzz`
 * (test/fuzz/fuzz.test.ts) beside the codec's.
 */
export const fragmentProperties: Record<string, fc.IProperty<unknown[]>> = {
  'fragments: any message, frame size and split, plaintext or sealed, comes back whole': fc.property(
        fc.integer({ min: 1, max: 300 * 1024 }),
        fc.integer({ min: 5, max: 65_508 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        fc.boolean(),
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        (anyLength, maxBody, splits, sealed, id) => {
          const length = Math.min(anyLength, 200 * maxBody); // at most ~200 fragments: a small frame size stays quick
          const message = Buffer.alloc(length);
          for (let i = 0; i < length; i += 1) message[i] = (i * 131 + (i >> 8)) & 0xff; // deterministic: counterexamples replay
          const send = new FrameCipher(key, prefix);
          const receive = new FrameCipher(key, prefix);
          const frames: Buffer[] = [];
          if (length + 4 <= maxBody) {
            frames.push(encodeHeader(VERSION_REQUEST, Opcode.SET, length, id), message); // fits: one plain frame
            if (sealed) return; // covered by the frame cipher's own tests
          } else {
            for (const f of fragmentFrames(Opcode.SET, [message.subarray(0, length >> 1), message.subarray(length >> 1)], maxBody)) {
              const header = encodeHeader(VERSION_REQUEST, f.code, f.length + (sealed ? TAG_SIZE : 0), id);
              const body = Buffer.concat(f.body);
              frames.push(header, sealed ? send.seal(header, body, f.index) : body);
            }
          }
          const decoder = new FrameDecoder({ direction: 'request' });
          const assembler = new FragmentAssembler(length);
          const whole: Buffer[] = [];
          for (const chunk of cut(Buffer.concat(frames), splits)) {
            decoder.push(chunk);
            for (let raw = decoder.take(); raw !== undefined; raw = decoder.take()) {
              if (raw instanceof ProtocolError) throw raw;
              let n = raw.length;
              if (sealed) {
                const header = encodeHeader(raw.version, raw.opcode, raw.length, (BigInt(raw.idHi) << 32n) | BigInt(raw.idLo));
                const fragment = assembler.fragmentNumber(raw.opcode, raw.idHi, raw.idLo);
                expect(receive.openBody(header, raw.source, raw.bodyStart, raw.length, fragment)).toBe(true);
                n -= TAG_SIZE;
              }
              const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, n);
              if (step instanceof ProtocolError) throw step;
              if (step === 'frame') whole.push(Buffer.from(raw.source.subarray(raw.bodyStart, raw.bodyStart + n)));
              if (step === 'message') whole.push(assembler.message);
              expect(step).not.toBe('refused');
            }
          }
          expect(whole).toHaveLength(1);
          expect(whole[0]?.equals(message)).toBe(true);
          expect(assembler.state).toBe('idle');
        },
      ),

  'fragments: malformed streams never throw and end only in BAD_FRAGMENT or TOO_LARGE': fc.property(fc.array(frameArb, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (frames, limit) => {
        const assembler = new FragmentAssembler(limit);
        let failed = false;
        for (const { code, id, body } of frames) {
          const step = assembler.feed(code, 0, id, body, 0, body.length);
          if (failed) {
            expect(step).toBe('more'); // nothing is used after the framing is lost
            continue;
          }
          if (step instanceof ProtocolError) {
            expect(step.code).toBe('BAD_FRAGMENT');
            expect(step.fatal).toBe(true);
            expect(assembler.state).toBe('failed');
            failed = true;
          } else if (step === 'message') {
            expect(assembler.message.length).toBe(assembler.total);
            expect(assembler.total).toBeLessThanOrEqual(limit);
          } else if (step === 'refused') {
            expect(assembler.total).toBeGreaterThan(limit);
          } else if (step === 'frame') {
            expect(code & MORE).toBe(0);
          }
        }
      }),
};
