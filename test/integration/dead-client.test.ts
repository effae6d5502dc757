// Regression (outside attack on issue 15's build): 20 clients each wrote 1,000 × (LIST, INCR)
// and reset their connections at once; the server went on executing their buffered pipelines
// turn after turn (the counter still rising 22 s later), a CPU amplification for nobody.
// What a closed connection left buffered is not executed.
import { describe, expect, it } from 'vitest';
import { encodeRequest, type Request } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('regression: the server kept executing the pipeline of a client that reset', () => {
  it('stops executing a connection once it has closed', async () => {
    const { port, server } = await startServer();
    for (let i = 0; i < 200_000; i += 1) server.store.set(Buffer.from(`key:${i}`), Buffer.from('v'));
    const pairs = 1_000;
    const frames: Buffer[] = [];
    for (let i = 0; i < pairs; i += 1) {
      const list: Request = { op: 'LIST', prefix: Buffer.from('nothing-matches:'), limit: 10 };
      const incr: Request = { op: 'INCR', key: Buffer.from('ctr'), delta: 1n, ttlMs: 0 };
      frames.push(...encodeRequest(BigInt(2 * i + 1), list), ...encodeRequest(BigInt(2 * i + 2), incr));
    }
    const c = await rawClient(port);
    c.socket.write(Buffer.concat(frames));
    await sleep(20); // the server is busy with the pipeline (each LIST examines thousands of entries)
    c.socket.resetAndDestroy();
    const deadline = performance.now() + 10_000;
    while (server.counters.connected_clients > 0 && performance.now() < deadline) await sleep(5);
    expect(server.counters.connected_clients).toBe(0);
    const counter = (): bigint => BigInt(server.store.get(Buffer.from('ctr'))?.toString() ?? '0');
    const atClose = counter();
    await sleep(300);
    expect(counter()).toBe(atClose); // nothing more executed for the closed connection
    expect(atClose).toBeLessThan(BigInt(pairs)); // and the pipeline was cut short, not run to its end
  });
});
