// spec §9.4 and §6.6 (protocol 1.1): the fragment vectors of spec/vectors-v1.json, each fed
// whole, byte by byte and split at every offset to the decoder and the fragment assembler;
// the sealed fragments of `secure11` opened and sealed again with the reference FrameCipher.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FragmentAssembler, FrameCipher, FrameDecoder, ProtocolError } from '../../src/index.js';
import { chunkings } from '../support/chunking.js';
import { specPath, vectors } from '../support/vectors.js';

interface FragmentVector {
  name: string;
  direction: 'request' | 'response';
  hex: string;
  frames: number;
  message?: { code: number; id: string; body: string };
  error?: { code: string; status: number; fatal: boolean };
}
interface SecureFragments {
  k_c2s: string;
  p_c2s: string;
  fragments: { message: string; plaintexts: string[]; frames: string[] };
}

const all = vectors as unknown as { fragments: FragmentVector[]; secure11: SecureFragments };
const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

/** Decodes and assembles `chunks`: the messages, or the error the stream ended with. */
function run(chunks: Buffer[], direction: 'request' | 'response'): { messages: { code: number; id: bigint; body: string }[]; error?: ProtocolError } {
  const decoder = new FrameDecoder({ direction });
  const assembler = new FragmentAssembler(1 << 20);
  const messages: { code: number; id: bigint; body: string }[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let raw = decoder.take(); raw !== undefined; raw = decoder.take()) {
      if (raw instanceof ProtocolError) return { messages, error: raw };
      const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, raw.length);
      if (step instanceof ProtocolError) return { messages, error: step };
      const id = (BigInt(raw.idHi) << 32n) | BigInt(raw.idLo);
      if (step === 'message') messages.push({ code: assembler.code, id, body: assembler.message.toString('hex') });
      if (step === 'frame') messages.push({ code: raw.opcode, id, body: raw.body.toString('hex') });
    }
  }
  return { messages };
}

describe('fragment vectors (spec §9.4)', () => {
  it('cover a request, a response and the malformed cases, each in the spec', () => {
    const spec = readFileSync(specPath, 'utf8');
    expect(all.fragments.length).toBeGreaterThanOrEqual(5);
    for (const v of all.fragments) expect(spec, v.name).toContain(`\`${v.hex}\``);
    for (const f of all.secure11.fragments.frames) expect(spec).toContain(`\`${f}\``);
  });

  for (const v of all.fragments) {
    it(`${v.name}, fed whole, byte by byte and at every split`, () => {
      for (const { name, chunks } of chunkings(bytes(v.hex))) {
        const { messages, error } = run(chunks, v.direction);
        if (v.message !== undefined) {
          expect(error, name).toBeUndefined();
          expect(messages, name).toEqual([{ code: v.message.code, id: BigInt(v.message.id), body: v.message.body }]);
        } else {
          expect(messages, name).toEqual([]);
          expect([error?.code, error?.status, error?.fatal], name).toEqual([v.error?.code, v.error?.status, v.error?.fatal]);
        }
      }
    });
  }
});

describe('sealed fragment vectors (spec §6.6, secure11.fragments)', () => {
  const s = all.secure11;
  it('open with fragment numbers 0, 1, 2 to the plaintexts, reassemble to the message, and seal back to the same bytes', () => {
    const receive = new FrameCipher(bytes(s.k_c2s), bytes(s.p_c2s));
    const send = new FrameCipher(bytes(s.k_c2s), bytes(s.p_c2s));
    const assembler = new FragmentAssembler(1 << 20);
    let last: string | ProtocolError = '';
    s.fragments.frames.forEach((hex, i) => {
      const frame = bytes(hex);
      const header = frame.subarray(0, 12);
      const raw = { opcode: header[1] as number, idHi: header.readUInt32BE(4), idLo: header.readUInt32BE(8) };
      const number = assembler.fragmentNumber(raw.opcode, raw.idHi, raw.idLo);
      expect(number).toBe(i);
      const plain = receive.open(header, frame.subarray(12), number);
      expect(plain?.toString('hex')).toBe(s.fragments.plaintexts[i]);
      expect(receive.open(header, frame.subarray(12), number + 1)).toBeUndefined();
      expect(Buffer.concat([header, send.seal(header, plain ?? Buffer.alloc(0), i)]).toString('hex')).toBe(hex);
      const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, plain ?? Buffer.alloc(0), 0, plain?.length ?? 0);
      last = step === 'message' ? assembler.message.toString('hex') : step;
    });
    expect(last).toBe(s.fragments.message);
  });
});
