// RequestQueue's fragments (spec §2.4) as a receiver reads them: in
// plaintext, sealed per frame (fragment i under its own nonce, spec §6.4)
// and in sealed envelopes (§6.7: fragments too large for one sealed alone
// between envelopes, a short last one inside, in order), every byte of the
// value back through FragmentAssembler, nothing between the fragments.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { asTrue, okOr } from '../../src/client/commands.js';
import { RequestQueue } from '../../src/client/request-queue.js';
import { MAX_BODY_SIZE, MORE, Opcode, SEALED } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { FragmentAssembler, fragmentCount } from '../../src/protocol/fragments.js';
import { headerOf, idOf, type Frame } from '../../src/protocol/header.js';
import { encodeRequestBody } from '../../src/protocol/messages.js';

const key = Buffer.alloc(32, 9);
const prefix = Buffer.alloc(16, 4);
const limits = { maxInflight: 100, maxQueued: 100, requestTimeoutMs: 60_000, maxSilentTimeouts: 3 };
const queues: RequestQueue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.stopSweep();
});

function written(queue: RequestQueue, cipher: FrameCipher | undefined, envelopes: boolean): Buffer {
  const writes: Buffer[] = [];
  queue.writeTo({ write: (c: Buffer) => (writes.push(Buffer.from(c)), true), cork() {}, uncork() {} }, cipher, envelopes, 'end-of-turn', () => 'send');
  return Buffer.concat(writes);
}

const set = (k: string, value: Buffer) => encodeRequestBody({ op: 'SET', key: Buffer.from(k), value, ttlMs: 0, nx: false, xx: false, keepTtl: false }, 64 * 2 ** 20);

/**
 * Reads the requests in `bytes` as a server does: envelopes opened, frames sealed alone opened with their
 * fragment number, fragments reassembled. Returns each whole request (code, identifier, body) and the
 * identifiers of the frames in wire order.
 */
function receive(bytes: Buffer, cipher: FrameCipher | undefined): { requests: { code: number; id: bigint; body: Buffer }[]; order: bigint[] } {
  const decoder = new FrameDecoder({ direction: 'request' });
  decoder.push(bytes);
  const assembler = new FragmentAssembler(64 * 2 ** 20 + 272);
  const requests: { code: number; id: bigint; body: Buffer }[] = [];
  const order: bigint[] = [];
  const take = (frame: Frame): void => {
    order.push(frame.id);
    const hi = Number(frame.id >> 32n);
    const lo = Number(frame.id & 0xffff_ffffn);
    const step = assembler.feed(frame.opcode, hi, lo, frame.body, 0, frame.body.length);
    if (step instanceof ProtocolError) throw step;
    if (step === 'frame') requests.push({ code: frame.opcode, id: frame.id, body: Buffer.from(frame.body) });
    if (step === 'message') requests.push({ code: assembler.code, id: frame.id, body: assembler.message });
  };
  for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
    if (item instanceof ProtocolError) throw item;
    const frame = { ...item, body: Buffer.from(item.body) };
    if (cipher === undefined) {
      take(frame);
    } else if (frame.opcode === SEALED) {
      const plain = cipher.open(headerOf(frame), frame.body);
      if (plain === undefined) throw new Error(`envelope ${frame.id} does not authenticate`);
      const reader = new EnvelopeReader('request');
      reader.load(plain, 0, plain.length);
      for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
        if (inner instanceof ProtocolError) throw inner;
        take({ version: inner.version, opcode: inner.opcode, length: inner.length, id: idOf(inner), body: Buffer.from(inner.body) });
      }
    } else {
      const n = assembler.fragmentNumber(frame.opcode, Number(frame.id >> 32n), Number(frame.id & 0xffff_ffffn));
      const plain = cipher.open(headerOf(frame), frame.body, n);
      if (plain === undefined) throw new Error(`frame ${frame.id} (fragment ${n}) does not authenticate`);
      take({ ...frame, length: plain.length, body: plain });
    }
  }
  return { requests, order };
}

describe('RequestQueue: a request over one frame goes as fragments (spec §2.4)', () => {
  const value = Buffer.from(Array.from({ length: 5 * 65_508 + 123 }, (_, i) => (i * 7 + (i >> 16)) & 0xff));
  for (const mode of ['plaintext', 'sealed per frame', 'sealed envelopes'] as const) {
    it(`${mode}: the value comes back whole; small requests before and after are whole frames, in order`, () => {
      const queue = new RequestQueue(limits, () => {});
      queues.push(queue);
      queue.restart(1n);
      for (const [k, v] of [['a', Buffer.from('1')], ['big', value], ['b', Buffer.from('2')]] as const) {
        const { opcode, body } = set(k, v);
        void queue.enqueue(opcode, body, okOr(asTrue));
      }
      const sender = mode === 'plaintext' ? undefined : new FrameCipher(key, prefix);
      const bytes = written(queue, sender, mode === 'sealed envelopes');
      const { requests, order } = receive(bytes, mode === 'plaintext' ? undefined : new FrameCipher(key, prefix));
      expect(requests.map((r) => [r.code, r.id])).toEqual([[Opcode.SET, 1n], [Opcode.SET, 2n], [Opcode.SET, 3n]]);
      expect(requests[1]?.body.subarray(6 + 3).equals(value)).toBe(true);
      const frameLimit = mode === 'plaintext' ? MAX_BODY_SIZE : MAX_BODY_SIZE - TAG_SIZE;
      expect(order).toEqual([1n, ...Array.from({ length: fragmentCount(value.length + 9, frameLimit) }, () => 2n), 3n]);
    });
  }

  it('a fragment sealed with the wrong fragment number does not open (each has its own nonce)', () => {
    const queue = new RequestQueue(limits, () => {});
    queues.push(queue);
    const { opcode, body } = set('big', value);
    void queue.enqueue(opcode, body, okOr(asTrue));
    const bytes = written(queue, new FrameCipher(key, prefix), false);
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(bytes);
    const frames: Frame[] = [];
    for (let item = decoder.read(); item !== undefined; item = decoder.read()) if (!(item instanceof ProtocolError)) frames.push({ ...item, body: Buffer.from(item.body) });
    const receiver = new FrameCipher(key, prefix);
    const second = frames[1] as Frame;
    expect(second.opcode).toBe(Opcode.SET | MORE);
    expect(receiver.open(headerOf(second), second.body, 0)).toBeUndefined();
    expect(receiver.open(headerOf(second), second.body, 1)).toBeDefined();
  });
});
