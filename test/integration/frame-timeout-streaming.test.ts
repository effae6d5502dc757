// Regression (issue 15 item 9): the frame-timeout clock started the first time a read ended
// mid-frame and was reset only when a read ended exactly on a frame boundary, so a client
// streaming frames in pieces that never line up with frame ends was cut after --frame-timeout
// although every frame completed within milliseconds. The clock must time only the frame
// pending now.
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';
import { seeded } from '../support/seeded.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const set = (i: number): Request => ({
  op: 'SET', key: Buffer.from(`stream-${i}`), value: Buffer.alloc(4096, i & 0xff), ttlMs: 0, nx: false, xx: false, keepTtl: false,
});


describe('regression: the frame timeout cuts healthy streaming clients', () => {
  it('a client streaming SETs in 0.5-1.5 KB pieces that never end on a frame boundary is not disconnected; a stalled one is', async () => {
    const { port, server } = await startServer({ frameTimeoutMs: 300 });
    const streaming = await rawClient(port);
    const frames = Array.from({ length: 60 }, (_, i) => Buffer.concat(encodeRequest(BigInt(i + 1), set(i))));
    const stream = Buffer.concat(frames);
    const boundaries = new Set<number>();
    for (let at = 0, i = 0; i < frames.length; i += 1) boundaries.add((at += (frames[i] as Buffer).length));
    const next = seeded(15);
    let sent = 0;
    let pieces = 0;
    // 60 frames of ~4.1 KB in ~250 pieces 10 ms apart: about 2.5 s, eight frame timeouts.
    while (sent < stream.length) {
      let end = Math.min(stream.length, sent + 512 + Math.floor(next() * 1024));
      if (end < stream.length && boundaries.has(end)) end += 1; // every read ends mid-frame
      streaming.write(stream.subarray(sent, end));
      sent = end;
      pieces += 1;
      await sleep(10);
    }
    await streaming.waitFrames(frames.length, 5_000);
    expect(pieces).toBeGreaterThan(200);
    expect(streaming.closed).toBe(false);
    expect(streaming.frames.map((f) => f.opcode)).toEqual(frames.map(() => Status.OK));
    expect(server.counters.disconnects.frame_timeout).toBe(0);

    // A client that really stops mid-frame, after whole frames, is still cut.
    const stalled = await rawClient(port);
    stalled.write(Buffer.concat([(frames[0] as Buffer), (frames[1] as Buffer).subarray(0, 2000)]));
    await stalled.waitClosed(3_000);
    expect(stalled.frames.map((f) => f.opcode)).toEqual([Status.OK]);
    expect(server.counters.disconnects.frame_timeout).toBe(1);
  });
});
