// Issue 17: values live in slab chunks that a later write may overwrite in place (same key, same
// size class) or hand to another key (a freed chunk is the next one given out). A GET's answer is
// copied out at execute time, so a write later in the same pipelined batch must not change it,
// in plaintext and in secure mode (whether an answer is sealed when it is executed or when the batch is
// flushed: today sealing copies it at once, so the secure case guards a change of that order).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { openFrame } from '../../src/crypto/secure-channel.js';
import { secureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';

const set = (key: string, value: Buffer): Request => ({ op: 'SET', key: Buffer.from(key), value, ttlMs: 0, nx: false, xx: false, keepTtl: false });
const get = (key: string): Request => ({ op: 'GET', key: Buffer.from(key) });
const del = (key: string): Request => ({ op: 'DELETE', key: Buffer.from(key) });

/** One batch: each GET is followed by a write that reuses the chunk the value was read from. */
function batch(): { requests: Request[]; expected: (Buffer | undefined)[] } {
  const a = Buffer.alloc(100, 0x61);
  const b = Buffer.alloc(100, 0x62);
  const c = Buffer.alloc(99, 0x63);
  const d = Buffer.alloc(3_000, 0x64);
  const requests = [
    set('k', a),
    get('k'), // a
    set('k', b), // same class: written in place over a
    get('k'), // b
    set('k', c), // still the same chunk
    del('k'), // its chunk is freed …
    set('other', a), // … and handed to another key (same class)
    get('other'), // a
    set('other', d), // another class: the chunk is freed, then …
    set('third', b), // … reused by a third key
    get('other'),
  ];
  const expected = [undefined, a, undefined, b, undefined, undefined, undefined, a, undefined, undefined, d];
  return { requests, expected };
}

describe('a GET answer is a copy, not a view of the store (issue 17)', () => {
  it('plaintext: writes later in the same pipelined batch leave earlier GET answers intact', async () => {
    const { port } = await startServer();
    const c = await rawClient(port);
    const { requests, expected } = batch();
    c.write(Buffer.concat(requests.flatMap((r, i) => encodeRequest(BigInt(i + 1), r))));
    await c.waitFrames(requests.length);
    expect(c.frames.map((f) => f.opcode)).toEqual(requests.map(() => Status.OK));
    for (const [i, value] of expected.entries()) {
      if (value !== undefined) expect(c.frames[i]?.body.equals(value), `answer ${i + 1}`).toBe(true);
    }
  });

  it('secure mode: the same, every answer sealed', async () => {
    const key = { id: 'app', secret: randomBytes(32) };
    const { port } = await startServer({ keys: [key] });
    const s = await secureRaw(port, key);
    const { requests, expected } = batch();
    s.raw.write(Buffer.concat(requests.map((r, i) => s.seal(BigInt(i + 1), r))));
    await s.raw.waitFrames(requests.length);
    const answers = s.raw.frames.map((f) => openFrame(s.session.receive, f));
    expect(answers.map((a) => a?.opcode)).toEqual(requests.map(() => Status.OK));
    for (const [i, value] of expected.entries()) {
      if (value !== undefined) expect(answers[i]?.body.equals(value), `answer ${i + 1}`).toBe(true);
    }
  });
});
