// Regression (outside attack on issue 15's build): with --shards 1024 (64 MiB) or --max-memory 1mb
// (16 shards) no value over 64,976 bytes could be stored, although a frame carries 65,517, and
// the refusal said "cannot be stored within the memory budget" beside STATS showing the budget
// almost empty. The server warns at start, and TOO_LARGE names the per-shard share.
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

/** Collects the shard-budget warnings (others, such as a low open-files limit, may come too). */
function collecting(): { warnings: string[]; logger: never } {
  const warnings: string[] = [];
  const warn = (_: object, m: string): void => {
    if (m.includes('shards holds')) warnings.push(m);
  };
  return { warnings, logger: { debug() {}, info() {}, error() {}, warn } as never };
}

describe('regression: one shard too small for a frame-sized item', () => {
  it('warns at start and says so in TOO_LARGE', async () => {
    const { warnings, logger } = collecting();
    const { port } = await startServer({ maxMemory: 1024 * 1024, shards: 16, logger });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^each of the 16 shards holds 65536 bytes of the 1048576-byte budget: values over about \d+ bytes cannot be stored \(TOO_LARGE\)/);
    const largest = Number(/values over about (\d+) bytes/.exec(warnings[0] ?? '')?.[1]);
    const c = await rawClient(port);
    const set = (id: bigint, length: number): Buffer[] =>
      encodeRequest(id, { op: 'SET', key: Buffer.from('k'.repeat(16)), value: Buffer.alloc(length), ttlMs: 0, nx: false, xx: false, keepTtl: false });
    c.write(Buffer.concat([...set(1n, largest), ...set(2n, largest + 16)]));
    await c.waitFrames(2);
    expect(c.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.TOO_LARGE]);
    expect(c.frames[1]?.body.toString()).toBe("item is larger than one shard's share of the memory budget (--max-memory divided by --shards)");
  });

  it('does not warn when a shard holds the largest item a frame carries', async () => {
    const { warnings, logger } = collecting();
    await startServer({ maxMemory: 64 * 1024 * 1024, shards: 16, logger });
    expect(warnings).toEqual([]);
  });

  it('over HTTP, 413 says the same instead of "not stored"', async () => {
    const { httpPort } = await startServer({ maxMemory: 1024 * 1024, shards: 16, httpPort: 0 });
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/keys/big`, { method: 'PUT', body: new Uint8Array(65_000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'TOO_LARGE', message: "item is larger than one shard's share of the memory budget (--max-memory divided by --shards)" });
  });
});
