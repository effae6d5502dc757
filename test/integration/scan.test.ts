// SCAN over real sockets (spec §3.10): ConduitClient.scan walks every key in bounded calls,
// each answer within one frame of the connection (§2.1: 65,508 body bytes once sealed), in
// plaintext and in both secure sealings; conduit-cli list keeps its output on top of it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConduitClient, encodeRequest, MAX_BODY_SIZE, Status } from '../../src/index.js';
import { runCli } from '../support/cli.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
// 240-byte keys: 8,192 of them (one call's entry bound) would be 2 MB, so every answer is cut by the frame.
const longKey = (i: number): Buffer => Buffer.from(`scan:${String(i).padStart(6, '0')}:`.padEnd(240, 'x'));

async function fill(client: ConduitClient, count: number): Promise<void> {
  const writes: Promise<boolean>[] = [];
  for (let i = 0; i < count; i += 1) writes.push(client.set(longKey(i), 'v'));
  for (let i = 0; i < 100; i += 1) writes.push(client.set(`other:${i}`, 'v'));
  expect((await Promise.all(writes)).every(Boolean)).toBe(true);
}

describe('SCAN over sockets', () => {
  for (const mode of ['plaintext', 'secure envelopes', 'secure frames'] as const) {
    it(`${mode}: client.scan yields every matching key; each page fits one frame`, async () => {
      const secure = mode !== 'plaintext';
      const { port } = await startServer(secure ? { keys: [key] } : {});
      const client = new ConduitClient(secure ? { port, key, sealing: mode === 'secure frames' ? 'frames' : 'envelopes' } : { port });
      try {
        await client.connect();
        await fill(client, 3_000);
        const seen = new Set<string>();
        for await (const k of client.scan({ prefix: 'scan:', count: 65_535 })) seen.add(k.toString('latin1'));
        expect(seen.size).toBe(3_000);
        for (let i = 0; i < 3_000; i += 1) expect(seen.has(longKey(i).toString('latin1'))).toBe(true);
        // One page by hand: the body is cut to the connection's frame (16 bytes less once sealed).
        const cap = secure ? MAX_BODY_SIZE - 16 : MAX_BODY_SIZE;
        // A call also stops after about 2 ms of work (spec §3.10), which a loaded machine can reach first:
        // every page fits, and of a few tries at least one is cut by size, at a bucket boundary near the cap.
        let nearCap = 0;
        for (let attempt = 0; attempt < 5 && nearCap === 0; attempt += 1) {
          const page = await client.scanPage(0n, { prefix: 'scan:', count: 65_535 });
          expect(page.cursor).not.toBe(0n);
          expect(8 + page.keys.length * 241).toBeLessThanOrEqual(cap);
          if (8 + page.keys.length * 241 > cap - 48 * 241) nearCap += 1;
        }
        expect(nearCap).toBe(1);
      } finally {
        await client.close();
      }
    });
  }

  it("another server's cursor (same --max-memory) starts over there: every key of that server is returned (issue 19, finding 5)", async () => {
    const a = await startServer({ maxMemory: 8 * 1024 * 1024 });
    const b = await startServer({ maxMemory: 8 * 1024 * 1024 });
    const onA = new ConduitClient({ port: a.port });
    const onB = new ConduitClient({ port: b.port });
    try {
      await Promise.all([onA.connect(), onB.connect()]);
      await Promise.all(Array.from({ length: 3_000 }, (_, i) => onA.set(`a:${i}`, 'v')));
      await Promise.all(Array.from({ length: 3_000 }, (_, i) => onB.set(`b:${i}`, 'v')));
      let cursor = 0n;
      for (let call = 0; call < 5; call += 1) cursor = (await onA.scanPage(cursor, { count: 300 })).cursor;
      expect(cursor & 0xffff_ffffn).toBeGreaterThan(0n); // mid-table on server a
      const seen = new Set<string>();
      do {
        const page = await onB.scanPage(cursor, { count: 1_000 });
        for (const k of page.keys) seen.add(k.toString('latin1'));
        cursor = page.cursor;
      } while (cursor !== 0n);
      // a and b draw their tags apart (equal with chance 2^-16, then a's cursor would resume on b)
      for (let i = 0; i < 3_000; i += 1) expect(seen.has(`b:${i}`), `b:${i}`).toBe(true);
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });

  it('raw frames: SCAN on an empty store answers a slice of buckets; count 0 is BAD_REQUEST and the connection carries on', async () => {
    const { port } = await startServer();
    const raw = await rawClient(port);
    raw.write([
      ...encodeRequest(1n, { op: 'SCAN', cursor: 0n, count: 1, prefix: Buffer.alloc(0) }),
      Buffer.from('010d000a000000000000003100000000000000000000', 'hex'), // spec §9.3: count 0
      ...encodeRequest(2n, { op: 'HEALTH' }),
    ]);
    await raw.waitFrames(3);
    expect(raw.frames.map((f) => [f.opcode, String(f.id), f.body.toString('hex')])).toEqual([
      // 64 MiB: 2^18 buckets, 131,072 a call, no keys yet; the cursor is this server's tag, epoch 0, bucket 131,072
      [Status.OK, '1', expect.stringMatching(/^(?!0000)[0-9a-f]{4}000000020000$/)],
      [Status.BAD_REQUEST, '49', Buffer.from('SCAN count must be at least 1').toString('hex')],
      [Status.OK, '2', ''],
    ]);
  });

  it('conduit-cli list walks with SCAN: distinct keys, --limit cut with its notice', async () => {
    const { port } = await startServer();
    const client = new ConduitClient({ port });
    try {
      await client.connect();
      await fill(client, 2_500);
    } finally {
      await client.close();
    }
    const all = await runCli(['--port', String(port), 'list', 'scan:', '--limit', '65535']);
    const lines = all.stdout.toString('latin1').split('\n').filter(Boolean);
    expect(new Set(lines).size).toBe(2_500);
    expect(lines).toHaveLength(2_500);
    expect(all.stderr.toString()).toBe('');
    const cut = await runCli(['--port', String(port), 'list', 'other:', '--limit', '10']);
    expect(cut.stdout.toString().split('\n').filter(Boolean)).toHaveLength(10);
    expect(cut.stderr.toString()).toMatch(/more keys match/);
  });
});
