// Scenario 17 (issue 15 item 9): streaming clients and the frame timeout. Clients stream 4 KB
// SETs in random 0.5-1.5 KB pieces at about 455 KiB/s each, so nearly every read the server
// makes ends mid-frame although every frame completes within milliseconds. The frame-timeout
// clock used to run from the first such read until one happened to end on a frame boundary,
// and cut such a client after --frame-timeout (10.2 s with the default 10 s). Now it times
// only the frame pending: no streaming client is cut, a client that stalls mid-frame still is.
import { Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import {  count, frame, ms, serve, setRequest, sleep, stat, statsOf, until, type Scenario } from '../harness.js';
import { seeded } from '../../support/seeded.js';

const RATE = 455 * 1024; // bytes per second per client
const VALUE = Buffer.alloc(4_096, 0x73);

/** Streams `frames` at RATE in random 512-1,535-byte pieces, none ending on a frame boundary; resolves with the pieces sent. */
async function stream(c: RawClient, frames: Buffer[], random: () => number): Promise<number> {
  const all = Buffer.concat(frames);
  const boundaries = new Set<number>();
  for (let at = 0, i = 0; i < frames.length; i += 1) boundaries.add((at += (frames[i] as Buffer).length));
  const started = performance.now();
  let sent = 0;
  let pieces = 0;
  while (sent < all.length && !c.closed) {
    while (sent < all.length && sent < ((performance.now() - started) / 1000) * RATE) {
      let end = Math.min(all.length, sent + 512 + Math.floor(random() * 1_024));
      if (end < all.length && boundaries.has(end)) end += 1; // a read may still end on one if the kernel merges pieces
      c.write(all.subarray(sent, end));
      sent = end;
      pieces += 1;
    }
    await sleep(2);
  }
  return pieces;
}


export const streaming: Scenario = {
  number: 17,
  id: 'streaming',
  title: 'Streaming clients and the frame timeout',
  budgetMs: 90_000,
  async run(size, f) {
    const seconds = size.quick ? 2 : 12;
    const frameTimeout = size.quick ? 500 : 10_000; // full size: the default, as in the report
    const clients = 4;
    const server = await serve(size, size.quick ? ['--frame-timeout', `${frameTimeout}ms`] : []);
    const perClient = Math.ceil((RATE * seconds) / (VALUE.length + 40));
    const streamers = await Promise.all(Array.from({ length: clients }, () => RawClient.connect(server.port)));
    // A client that sends one whole SET and half the next, then nothing.
    const stalled = await RawClient.connect(server.port);
    const half = frame(2, setRequest('stalled:2', VALUE));
    const stalledAt = performance.now();
    let stalledClosedAt = 0;
    stalled.socket.on('close', () => (stalledClosedAt = performance.now()));
    stalled.write(Buffer.concat([frame(1, setRequest('stalled:1', VALUE)), half.subarray(0, half.length >> 1)]));

    const started = performance.now();
    const pieces = await Promise.all(
      streamers.map((c, k) => stream(c, Array.from({ length: perClient }, (_, i) => frame(i + 1, setRequest(`stream:${k}:${i}`, VALUE))), seeded(17 + k))),
    );
    const streamedMs = performance.now() - started;
    await until(() => streamers.every((c) => c.frames.length >= perClient || c.closed), 30_000, 'every streamed SET to be answered');
    await until(() => stalledClosedAt > 0, frameTimeout + 5_000, 'the stalled client to be cut');
    const admin = await RawClient.connect(server.port);
    const stats = await statsOf(admin);
    admin.destroy();
    const cut = streamers.filter((c) => c.closed || c.ended).length;
    const answered = streamers.reduce((sum, c) => sum + c.frames.filter((fr) => fr.opcode === Status.OK).length, 0);
    const timeouts = stats.disconnects.frame_timeout ?? -1;
    const stalledMs = stalledClosedAt - stalledAt;
    const rate = (perClient * (VALUE.length + 40)) / (streamedMs / 1000) / 1024;
    for (const c of [...streamers, stalled]) c.destroy();
    f.figure(
      `${clients} clients streaming ${count(perClient)} SETs of 4 KB each in ${count(pieces.reduce((x, y) => x + y, 0))} pieces of 0.5-1.5 KB over ${ms(streamedMs)} ` +
        `(${rate.toFixed(0)} KiB/s each), --frame-timeout ${ms(frameTimeout)}: ${cut} disconnected, ${count(answered)}/${count(clients * perClient)} SETs answered OK; ` +
        `a client stalled mid-frame cut after ${ms(stalledMs)} (frame_timeout counter ${timeouts}; total_commands_processed ${count(stat(stats, 'total_commands_processed'))})`,
    );
    f.expect(`0 streaming clients disconnected (got ${cut})`, cut === 0);
    f.expect(`every streamed SET answered OK (${answered}/${clients * perClient})`, answered === clients * perClient);
    f.expect(`the stalled client cut by the frame timeout, and only it (frame_timeout ${timeouts}, its first SET answered: ${stalled.frames[0]?.opcode === Status.OK})`, timeouts === 1 && stalled.frames[0]?.opcode === Status.OK);
    f.expectTiming(`the stalled client cut within the frame timeout ±1 s (${ms(stalledMs)} for ${ms(frameTimeout)})`, Math.abs(stalledMs - frameTimeout) <= 1_000);
  },
};
