// Issue 15 item 7: --max-output-buffer bounds one connection, nothing bounded the
// sum. --max-output-memory bounds the output of all connections together.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, encodeRequest, HEADER_SIZE, TAG_SIZE, type Logger, type Request } from '../../src/index.js';
import { secureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const VALUE = 60 * 1024;
const BUDGET = 4 * 1024 * 1024;
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const get: Request = { op: 'GET', key: Buffer.from('big') };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const secure of [false, true]) {
  const mode = secure ? 'secure mode' : 'plaintext';
  describe(`--max-output-memory, ${mode} (issue 15 item 7)`, () => {
    it('many non-reading clients asking for many 60 KiB values keep the total under the budget + one response; a reading client is unaffected', async () => {
      const warnings: string[] = [];
      const logger: Logger = { info() {}, debug() {}, error() {}, warn: (fields, message) => warnings.push(`${message}: ${(fields as { reason?: string }).reason ?? ''}`) };
      const { port, server } = await startServer({
        maxOutputMemory: BUDGET,
        maxOutputBuffer: 256 * 1024 * 1024, // out of the way: the server-wide bound is under test
        ...(secure ? { keys: [key] } : {}),
        logger,
      });
      const value = randomBytes(VALUE);
      const reader = new ConduitClient({ port, reconnect: false, ...(secure ? { key } : {}) });
      clients.push(reader);
      await reader.connect();
      await reader.set('big', value);
      const n = 12;
      const perClient = 300; // 12 × 300 × 60 KiB = 211 MiB of answers, 53 × the budget
      for (let i = 0; i < n; i += 1) {
        if (secure) {
          const s = await secureRaw(port, key);
          s.raw.socket.pause();
          s.raw.write(Buffer.concat(Array.from({ length: perClient }, (_, j) => s.seal(BigInt(j + 1), get))));
        } else {
          const c = await rawClient(port);
          c.socket.pause();
          c.write(Buffer.concat(Array.from({ length: perClient }, (_, j) => Buffer.concat(encodeRequest(BigInt(j), get)))));
        }
      }
      // Meanwhile a client that reads its answers gets every one, correct.
      let correct = 0;
      for (let i = 0; i < 50; i += 1) if ((await reader.get('big'))?.equals(value) === true) correct += 1;
      const deadline = Date.now() + 10_000;
      while (server.counters.disconnects.output_memory < n - 2 && Date.now() < deadline) await sleep(20);
      const oneResponse = HEADER_SIZE + VALUE + (secure ? TAG_SIZE : 0);
      expect(correct).toBe(50);
      expect(server.outputMemory.peak).toBeGreaterThan(BUDGET); // the bound was reached …
      expect(server.outputMemory.peak).toBeLessThanOrEqual(BUDGET + oneResponse); // … and held within one response
      expect(server.counters.disconnects.output_memory).toBeGreaterThanOrEqual(n - 2);
      expect(server.counters.disconnects.output_buffer).toBe(0);
      expect(warnings.filter((w) => w.includes('over --max-output-memory 4194304')).length).toBe(server.counters.disconnects.output_memory);
      const stats = (await reader.stats()) as { disconnects: Record<string, number>; output_memory_peak: number };
      expect(stats.disconnects.output_memory).toBe(server.counters.disconnects.output_memory);
      expect(stats.output_memory_peak).toBe(server.outputMemory.peak);
      expect(await reader.get('big')).toEqual(value); // never disconnected
    }, 30_000);
  });
}

describe('--max-output-memory default', () => {
  it('is a quarter of maxMemory, at least twice maxOutputBuffer', async () => {
    const { resolveServerOptions } = await import('../../src/index.js');
    expect(resolveServerOptions({ maxMemory: 1024 ** 3 }).maxOutputMemory).toBe(256 * 1024 ** 2);
    expect(resolveServerOptions({}).maxOutputMemory).toBe(32 * 1024 ** 2);
    expect(resolveServerOptions({ maxMemory: 8 * 1024 ** 2, maxOutputBuffer: 1024 ** 2 }).maxOutputMemory).toBe(2 * 1024 ** 2);
    expect(resolveServerOptions({ maxMemory: 1024 ** 3, maxOutputMemory: 1024 ** 2 }).maxOutputMemory).toBe(1024 ** 2);
    expect(() => resolveServerOptions({ maxOutputMemory: 1000 })).toThrow('maxOutputMemory option must be an integer from 65536');
  });
});
