import { describe, expect, it } from 'vitest';
import { FrameCipher, TAG_SIZE } from '../../src/crypto/frame-cipher.js';
import { sealFrame } from '../../src/crypto/secure-channel.js';
import { HEADER_SIZE, Status, VERSION_RESPONSE } from '../../src/protocol/constants.js';
import { frameBytes } from '../../src/protocol/output-batch.js';
import { AnswerQueue } from '../../src/server/answer-queue.js';

/** A socket stand-in that keeps what is written and the write callbacks, to run them by hand. */
class Sink {
  destroyed = false;
  readonly chunks: Buffer[] = [];
  readonly callbacks: (() => void)[] = [];
  write(chunk: Buffer, done?: () => void): boolean {
    this.chunks.push(chunk);
    if (done !== undefined) this.callbacks.push(done);
    return true;
  }
  cork(): void {}
  uncork(): void {}
}

function queue(): { answers: AnswerQueue; deltas: number[] } {
  const deltas: number[] = [];
  return { answers: new AnswerQueue((delta) => deltas.push(delta)), deltas };
}

describe('AnswerQueue', () => {
  it('writes queued answers in one write, framed as responses, and holds their bytes until the kernel takes them', () => {
    const { answers, deltas } = queue();
    answers.push(1n, Status.OK, Buffer.from('v'), undefined);
    answers.push(2n, Status.NOT_FOUND, undefined, undefined);
    expect(answers.pending).toBe(2);
    expect(answers.queuedBytes).toBe(2 * HEADER_SIZE + 1);
    expect(answers.heldBytes).toBe(2 * HEADER_SIZE + 1);
    expect(deltas).toEqual([HEADER_SIZE + 1, HEADER_SIZE]);

    const sink = new Sink();
    const settled: [number, number][] = [];
    expect(answers.write(sink, (bytes, count) => settled.push([bytes, count]))).toBe(true);
    expect(Buffer.concat(sink.chunks).equals(Buffer.concat([
      frameBytes(VERSION_RESPONSE, Status.OK, 1n, Buffer.from('v')),
      frameBytes(VERSION_RESPONSE, Status.NOT_FOUND, 2n, undefined),
    ]))).toBe(true);
    expect(answers.queuedBytes).toBe(0);
    expect(answers.unflushed).toBe(2);
    expect(answers.pending).toBe(2);

    for (const done of sink.callbacks) done();
    expect(settled).toEqual([[2 * HEADER_SIZE + 1, 2]]);
    answers.settle(2 * HEADER_SIZE + 1, 2);
    expect(answers.pending).toBe(0);
    expect(answers.heldBytes).toBe(0);
    expect(deltas.at(-1)).toBe(-(2 * HEADER_SIZE + 1));
  });

  it('seals with the cipher given, as sealFrame does, and counts the tag', () => {
    const key = Buffer.alloc(32, 1);
    const prefix = Buffer.alloc(16, 2);
    const { answers } = queue();
    answers.push(9n, Status.OK, Buffer.from('value'), new FrameCipher(key, prefix));
    expect(answers.heldBytes).toBe(HEADER_SIZE + 5 + TAG_SIZE);
    const sink = new Sink();
    answers.write(sink, () => {});
    const expected = frameBytes(VERSION_RESPONSE, Status.OK, 9n, sealFrame(new FrameCipher(key, prefix), VERSION_RESPONSE, Status.OK, 9n, Buffer.from('value')));
    expect(Buffer.concat(sink.chunks).equals(expected)).toBe(true);
  });

  it('knows the identifiers queued, until they are written (spec §2.2)', () => {
    const { answers } = queue();
    answers.push(5n, Status.OK, undefined, undefined);
    expect(answers.includes(5n)).toBe(true);
    expect(answers.includes(4n)).toBe(false);
    answers.write(new Sink(), () => {});
    expect(answers.includes(5n)).toBe(false);
  });

  it('writes nothing when empty, and drops and releases what a destroyed socket cannot take', () => {
    const { answers, deltas } = queue();
    const sink = new Sink();
    expect(answers.write(sink, () => {})).toBe(false);
    answers.push(1n, Status.OK, Buffer.from('abc'), undefined);
    sink.destroyed = true;
    expect(answers.write(sink, () => {})).toBe(false);
    expect(sink.chunks).toEqual([]);
    expect(answers.pending).toBe(0);
    expect(answers.heldBytes).toBe(0);
    expect(deltas).toEqual([HEADER_SIZE + 3, -(HEADER_SIZE + 3)]);
  });

  it('releases everything held at once, and a late settle releases nothing more', () => {
    const { answers, deltas } = queue();
    answers.push(1n, Status.OK, Buffer.from('abc'), undefined);
    answers.write(new Sink(), () => {});
    answers.releaseAll();
    expect(answers.heldBytes).toBe(0);
    answers.settle(HEADER_SIZE + 3, 1);
    expect(deltas).toEqual([HEADER_SIZE + 3, -(HEADER_SIZE + 3)]);
    expect(answers.unflushed).toBe(0);
  });
});
