// Regression (issue 15 item 5): a connection ran all its buffered frames in one turn of the
// event loop and every LIST walked every key, so one client's pipelined LISTs over a big
// keyspace stalled every other client until the whole batch was done. Now one LIST examines a
// bounded number of entries and a connection yields after its turn's budget: another
// client's GET is answered while the LIST client's answers are still outstanding.
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

const req = (id: bigint, r: Request): Buffer => Buffer.concat(encodeRequest(id, r));
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };

describe('regression: LIST blocks everyone', () => {
  it('a GET sent after 64 pipelined LISTs over 200k keys began is answered before the LIST batch completes', async () => {
    const { port, server } = await startServer({ maxMemory: 512 * 1024 * 1024 });
    const value = Buffer.from('v');
    for (let i = 0; i < 200_000; i += 1) server.store.set(Buffer.from(`key:${i}`), value, options);
    server.store.set(Buffer.from('probe'), Buffer.from('answer'), options);
    const lister = await rawClient(port);
    const getter = await rawClient(port);
    const lists = 64;
    // A prefix nothing matches: the LIST that costs most (it examines every entry it may).
    lister.write(Buffer.concat(Array.from({ length: lists }, (_, i) => req(BigInt(i + 1), { op: 'LIST', prefix: Buffer.from('none:'), limit: 1000 }))));
    await lister.waitFrames(1, 30_000); // the server is executing the batch
    getter.write(req(1n, { op: 'GET', key: Buffer.from('probe') }));
    await getter.waitFrames(1, 30_000);
    const listAnswersAtGet = lister.frames.length;
    expect(getter.frames[0]?.opcode).toBe(Status.OK);
    expect(getter.frames[0]?.body.toString()).toBe('answer');
    expect(listAnswersAtGet).toBeLessThan(lists);
    await lister.waitFrames(lists, 30_000);
    expect(lister.frames.map((f) => f.opcode)).toEqual(Array.from({ length: lists }, () => Status.OK));
    expect(lister.frames.map((f) => f.id)).toEqual(Array.from({ length: lists }, (_, i) => BigInt(i + 1)));
    expect(lister.frames.every((f) => f.body.equals(Buffer.from([1])))).toBe(true); // none listed, more may match
  });
});
