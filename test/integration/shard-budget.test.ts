// Regression (outside attack on issue 15's build): with --shards 1024 (64 MiB) or --max-memory 1mb
// (16 shards) no value over 64,976 bytes could be stored, although a frame carries 65,517, and
// the refusal said "cannot be stored within the memory budget" beside STATS showing the budget
// almost empty. Since issue 17 the shards no longer split the budget (one slab engine holds every
// item): from 1 MiB up every frame-sized item fits, whatever --shards. Only a budget too small for
// such an item warns at start, and TOO_LARGE names --max-memory.
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

/** Collects the item-budget warnings (others, such as a low open-files limit, may come too). */
function collecting(): { warnings: string[]; logger: never } {
  const warnings: string[] = [];
  const warn = (_: object, m: string): void => {
    if (m.includes('memory budget holds items')) warnings.push(m);
  };
  return { warnings, logger: { debug() {}, info() {}, error() {}, warn } as never };
}

const set = (id: bigint, length: number): Buffer[] =>
  encodeRequest(id, { op: 'SET', key: Buffer.from('k'.repeat(16)), value: Buffer.alloc(length, 7), ttlMs: 0, nx: false, xx: false, keepTtl: false });

describe('regression: a budget too small for a frame-sized item', () => {
  it('--max-memory 1mb with 16 shards (and 64mb with 1024) stores a frame-sized value without a warning', async () => {
    for (const [maxMemory, shards] of [
      [1024 * 1024, 16],
      [64 * 1024 * 1024, 1024],
    ] as const) {
      const { warnings, logger } = collecting();
      const { port } = await startServer({ maxMemory, shards, logger });
      expect(warnings).toEqual([]);
      const c = await rawClient(port);
      c.write(Buffer.concat([...set(1n, 65_400), ...encodeRequest(2n, { op: 'GET', key: Buffer.from('k'.repeat(16)) })]));
      await c.waitFrames(2);
      expect(c.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.OK]);
      expect(c.frames[1]?.body.equals(Buffer.alloc(65_400, 7))).toBe(true);
    }
  });

  it('warns at start when the whole budget cannot hold one, and says so in TOO_LARGE', async () => {
    const { warnings, logger } = collecting();
    const { port } = await startServer({ maxMemory: 64 * 1024, shards: 16, logger });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the 65536-byte memory budget holds items of at most \d+ bytes: values over about \d+ bytes cannot be stored \(TOO_LARGE\)/);
    const largest = Number(/values over about (\d+) bytes/.exec(warnings[0] ?? '')?.[1]);
    const c = await rawClient(port);
    c.write(Buffer.concat([...set(1n, largest), ...set(2n, largest + 1)]));
    await c.waitFrames(2);
    expect(c.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.TOO_LARGE]);
    expect(c.frames[1]?.body.toString()).toBe('item is larger than the memory budget can hold (--max-memory)');
  });

  it('over HTTP, 413 says the same instead of "not stored"', async () => {
    const { httpPort } = await startServer({ maxMemory: 64 * 1024, shards: 16, httpPort: 0 });
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/keys/big`, { method: 'PUT', body: new Uint8Array(65_000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'TOO_LARGE', message: 'item is larger than the memory budget can hold (--max-memory)' });
  });
});
