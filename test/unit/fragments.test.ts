import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import {
  FragmentAssembler,
  fragmentCount,
  fragmentFrames,
  FrameCipher,
  FrameDecoder,
  MORE,
  Opcode,
  ProtocolError,
  Status,
  TAG_SIZE,
  VERSION_REQUEST,
} from '../../src/index.js';
import { encodeHeader } from '../../src/protocol/header.js';
import { fragmentPrefix } from '../../src/crypto/frame-cipher.js';
import { observeNonces } from '../../src/crypto/nonce-audit.js';
import { chunkings } from '../support/chunking.js';

/** The wire bytes of `message` sent as fragments of at most `maxBody` body bytes, with identifier `id`. */
function wire(code: number, id: bigint, message: Buffer, maxBody: number): Buffer {
  const out: Buffer[] = [];
  for (const f of fragmentFrames(code, [message], maxBody)) {
    out.push(encodeHeader(VERSION_REQUEST, f.code, f.length, id), ...f.body);
  }
  return Buffer.concat(out);
}

/** A raw frame: header fields and body. */
function frame(code: number, id: bigint, body: Buffer): Buffer {
  return Buffer.concat([encodeHeader(VERSION_REQUEST, code, body.length, id), body]);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

type Outcome = { kind: 'frame'; code: number; body: Buffer } | { kind: 'message'; code: number; body: Buffer } | { kind: 'refused'; total: number } | { kind: 'error'; error: ProtocolError };

/** Decodes `chunks` and feeds every frame to an assembler, as a server's pump does. */
function run(chunks: Buffer[], limit = 1 << 20): Outcome[] {
  const decoder = new FrameDecoder({ direction: 'request' });
  const assembler = new FragmentAssembler(limit);
  const out: Outcome[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let raw = decoder.take(); raw !== undefined; raw = decoder.take()) {
      if (raw instanceof ProtocolError) throw raw;
      const step = assembler.feed(raw.opcode, raw.idHi, raw.idLo, raw.source, raw.bodyStart, raw.length);
      if (step === 'frame') out.push({ kind: 'frame', code: raw.opcode, body: Buffer.from(raw.body) });
      else if (step === 'message') out.push({ kind: 'message', code: assembler.code, body: assembler.message });
      else if (step === 'refused') out.push({ kind: 'refused', total: assembler.total });
      else if (step instanceof ProtocolError) out.push({ kind: 'error', error: step });
    }
  }
  return out;
}

describe('FragmentAssembler (spec §2.4)', () => {
  const message = randomBytes(40);
  const stream = Buffer.concat([
    frame(Opcode.HEALTH, 1n, Buffer.alloc(0)),
    wire(Opcode.SET, 2n, message, 16), // 4 + 40 bytes in fragments of 16: 3 fragments
    frame(Opcode.HEALTH, 3n, Buffer.alloc(0)),
  ]);

  it('splits a 40-byte message into fragments of 16 with the total first and MORE on all but the last', () => {
    const frames = [...fragmentFrames(Opcode.SET, [message.subarray(0, 10), message.subarray(10)], 16)];
    expect(frames.map((f) => [f.index, f.code, f.length])).toEqual([
      [0, Opcode.SET | MORE, 16],
      [1, Opcode.SET | MORE, 16],
      [2, Opcode.SET, 12],
    ]);
    expect(frames[0]?.body[0]).toEqual(u32(40));
    expect(Buffer.concat(frames.flatMap((f) => f.body)).subarray(4)).toEqual(message);
    expect(fragmentCount(40, 16)).toBe(3);
    expect(fragmentCount(64 * 1024 * 1024, 65_524)).toBe(1025);
  });

  it('refuses to fragment a body that fits one frame (it would read as an unfragmented frame)', () => {
    expect(() => [...fragmentFrames(Opcode.SET, [Buffer.alloc(12)], 16)]).toThrow(RangeError);
  });

  for (const { name, chunks } of chunkings(stream)) {
    it(`reassembles between unfragmented frames, fed ${name}`, () => {
      const out = run(chunks);
      expect(out.map((o) => o.kind)).toEqual(['frame', 'message', 'frame']);
      expect(out[1]).toEqual({ kind: 'message', code: Opcode.SET, body: message });
    });
  }

  it('allocates the message once at total and hands it over (no concatenation)', () => {
    const assembler = new FragmentAssembler(100);
    const body = Buffer.concat([u32(6), Buffer.from('abc')]);
    expect(assembler.feed(Opcode.SET | MORE, 0, 9, body, 0, body.length)).toBe('more');
    expect(assembler.midMessage).toBe(true);
    expect(assembler.fragmentNumber(Opcode.SET | MORE, 0, 9)).toBe(1);
    expect(assembler.fragmentNumber(Opcode.SET, 0, 10)).toBe(0);
    expect(assembler.feed(Opcode.SET, 0, 9, Buffer.from('def'), 0, 3)).toBe('message');
    expect(assembler.message.toString()).toBe('abcdef');
    expect(assembler.message.buffer.byteLength).toBeGreaterThanOrEqual(6);
    expect([assembler.idHi, assembler.idLo, assembler.state]).toEqual([0, 9, 'idle']);
  });

  it('refuses a total over the limit at the first fragment, then checks and drops the rest', () => {
    const big = randomBytes(200);
    const out = run([Buffer.concat([wire(Opcode.SET, 5n, big, 64), frame(Opcode.HEALTH, 6n, Buffer.alloc(0))])], 100);
    expect(out).toEqual([{ kind: 'refused', total: 200 }, { kind: 'frame', code: Opcode.HEALTH, body: Buffer.alloc(0) }]);
  });

  it('still finds BAD_FRAGMENT inside a refused message', () => {
    const bytes = wire(Opcode.SET, 5n, randomBytes(200), 64);
    const out = run([Buffer.concat([bytes.subarray(0, 76), frame(Opcode.HEALTH, 6n, Buffer.alloc(0))])], 100);
    expect(out.map((o) => o.kind)).toEqual(['refused', 'error']);
  });

  const malformed: [string, Buffer][] = [
    ['a first fragment too short for its total', frame(Opcode.SET | MORE, 1n, Buffer.from([0, 0, 1]))],
    ['a total of 0', frame(Opcode.SET | MORE, 1n, u32(0))],
    ['a fragment that overshoots the total', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.SET, 1n, Buffer.from('cde'))])],
    ['a first fragment that overshoots the total', frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(1), Buffer.from('ab')]))],
    ['a last fragment that leaves bytes missing', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.SET, 1n, Buffer.from('c'))])],
    ['MORE set once total bytes are in', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.SET | MORE, 1n, Buffer.from('cd'))])],
    ['an empty later fragment', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.SET | MORE, 1n, Buffer.alloc(0))])],
    ['an interleaved frame (another identifier)', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.HEALTH, 2n, Buffer.alloc(0))])],
    ['an interleaved frame (same identifier, another operation)', Buffer.concat([frame(Opcode.SET | MORE, 1n, Buffer.concat([u32(4), Buffer.from('ab')])), frame(Opcode.GET, 1n, Buffer.from('cd'))])],
  ];
  for (const [name, bytes] of malformed) {
    for (const { name: how, chunks } of chunkings(bytes).slice(0, 3)) {
      it(`${name} is a fatal BAD_FRAGMENT (fed ${how}), and nothing after it is used`, () => {
        const out = run([...chunks, frame(Opcode.HEALTH, 9n, Buffer.alloc(0))]);
        expect(out.length).toBe(1);
        const only = out[0];
        expect(only?.kind).toBe('error');
        if (only?.kind !== 'error') return;
        expect(only.error.code).toBe('BAD_FRAGMENT');
        expect(only.error.status).toBe(Status.BAD_FRAGMENT);
        expect(only.error.fatal).toBe(true);
      });
    }
  }

  it('asks admit() with the total of each first fragment within the limit; false refuses it, not for its size', () => {
    const asked: number[] = [];
    const assembler = new FragmentAssembler(100, (total) => {
      asked.push(total);
      return total < 50;
    });
    const first = (total: number): Buffer => Buffer.concat([u32(total), Buffer.from('ab')]);
    expect(assembler.feed(Opcode.SET | MORE, 0, 1, first(60), 0, 6)).toBe('refused');
    expect(assembler.refusedForSize).toBe(false);
    expect(assembler.feed(Opcode.SET, 0, 1, Buffer.alloc(58), 0, 58)).toBe('more'); // dropped, still checked
    expect(assembler.feed(Opcode.SET | MORE, 0, 2, first(200), 0, 6)).toBe('refused');
    expect(assembler.refusedForSize).toBe(true);
    expect(assembler.feed(Opcode.SET, 0, 2, Buffer.alloc(198), 0, 198)).toBe('more');
    expect(assembler.feed(Opcode.SET | MORE, 0, 3, first(4), 0, 6)).toBe('more');
    expect(assembler.feed(Opcode.SET, 0, 3, Buffer.from('cd'), 0, 2)).toBe('message');
    expect(asked).toEqual([60, 4]); // never asked for a total over the limit
  });

  it('validates its limit', () => {
    expect(() => new FragmentAssembler(0)).toThrow(/limit must be an integer/);
  });
});

describe('FrameCipher with fragment numbers (spec §6.4 nonce rule)', () => {
  const key = randomBytes(32);
  const prefix = randomBytes(16);

  it('fragment 0 is today’s nonce; fragment i XORs u32be(i) into the last 4 prefix bytes', () => {
    const cipher = new FrameCipher(key, prefix);
    const plaintext = randomBytes(100);
    for (const i of [0, 1, 2, 1024, 0x01020304]) {
      const h = encodeHeader(VERSION_REQUEST, Opcode.SET | MORE, plaintext.length + TAG_SIZE, 7n);
      const p = Buffer.from(prefix);
      p.writeUInt32BE((p.readUInt32BE(12) ^ i) >>> 0, 12);
      expect(Buffer.from(fragmentPrefix(prefix, i))).toEqual(p);
      const reference = xchacha20poly1305(key, Buffer.concat([p, h.subarray(4)]), h).encrypt(plaintext);
      const sealed = cipher.seal(h, plaintext, i);
      expect(sealed.equals(Buffer.from(reference))).toBe(true);
      expect(new FrameCipher(key, prefix).open(h, sealed, i)).toEqual(plaintext);
      if (i !== 0) expect(new FrameCipher(key, prefix).open(h, sealed, 0)).toBeUndefined();
    }
    expect(cipher.seal(encodeHeader(1, 0, 16, 1n), Buffer.alloc(0))).toEqual(cipher.seal(encodeHeader(1, 0, 16, 1n), Buffer.alloc(0), 0));
  });

  it('the nonce audit sees a distinct nonce for every fragment of every message', () => {
    const seen = new Set<string>();
    let count = 0;
    const stop = observeNonces((fp, nonce) => {
      seen.add(fp + nonce.toString('hex'));
      count += 1;
    });
    try {
      const cipher = new FrameCipher(key, prefix);
      for (let id = 1n; id <= 3n; id += 1n) {
        for (const f of fragmentFrames(Opcode.SET, [randomBytes(300)], 100)) {
          const plain = Buffer.concat(f.body);
          cipher.seal(encodeHeader(VERSION_REQUEST, f.code, plain.length + TAG_SIZE, id), plain, f.index);
        }
        cipher.seal(encodeHeader(VERSION_REQUEST, Opcode.GET, 1 + TAG_SIZE, id + 100n), Buffer.from('k'));
      }
    } finally {
      stop();
    }
    expect(count).toBe(3 * 4 + 3);
    expect(seen.size).toBe(count);
  });
});
