// bench/memory-protocols.mjs: the workloads of the harness's memory part give
// every server the same keys and sizes, and each protocol's answer reader
// counts a refused write by its reason (Conduit OUT_OF_MEMORY, Redis -OOM,
// memcached SERVER_ERROR) instead of throwing, and reads the item count.
// Every stream is fed whole and byte by byte.
import { describe, expect, it } from 'vitest';
import { CHURN_MAX, CHURN_MIN, churnWorkload, fillWorkload, keyOf, protocols, type Protocol } from '../../bench/memory-protocols.mjs';
import { FrameDecoder, Status, encodeResponse, parseRequest } from '../../src/index.js';

/** What a reader reports for `stream`, fed in one chunk or one byte at a time. */
function readAll(protocol: Protocol, stream: Buffer, byteByByte: boolean): { sets: (string | null)[]; items: number | null; stats: Record<string, number> | null } {
  const sets: (string | null)[] = [];
  let items: number | null = null;
  let stats: Record<string, number> | null = null;
  const read = protocol.answers({
    set: (reason) => sets.push(reason),
    count: (n, s) => {
      items = n;
      stats = s;
    },
  });
  if (byteByByte) for (let i = 0; i < stream.length; i += 1) read(stream.subarray(i, i + 1));
  else read(stream);
  return { sets, items, stats };
}

describe('bench memory workloads', () => {
  it('names 16-byte keys', () => {
    expect(keyOf(42)).toBe('k:00000000000042');
    expect(keyOf(3_999_999)).toHaveLength(16);
  });

  it('fills distinct keys 0 … n − 1 with one value size', () => {
    const w = fillWorkload({ keys: 3, valueBytes: 100 });
    const seen: [number, number][] = [];
    while (w.next()) seen.push([w.key, w.size]);
    expect(seen).toEqual([[0, 100], [1, 100], [2, 100]]);
    expect([w.writes, w.bytes]).toEqual([3, 300]);
  });

  it('churns the same seeded sequence every time, sizes 16 B – 4 KiB, until the goal is written', () => {
    const run = (seed: number) => {
      const w = churnWorkload({ goalBytes: 200_000, keySpace: 4_000_000, seed });
      const seq: number[] = [];
      while (w.next()) {
        expect(w.size).toBeGreaterThanOrEqual(CHURN_MIN);
        expect(w.size).toBeLessThan(CHURN_MAX);
        expect(w.key).toBeLessThan(4_000_000);
        seq.push(w.key, w.size);
      }
      expect(w.bytes).toBeGreaterThanOrEqual(200_000);
      expect(w.bytes - seq.at(-1)!).toBeLessThan(200_000);
      return seq;
    };
    expect(run(17)).toEqual(run(17));
    expect(run(17)).not.toEqual(run(18));
  });
});

describe('bench memory protocols', () => {
  const value = Buffer.from('vvvv');

  it('encodes a Conduit SET frame the server decodes', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(Buffer.concat(protocols.conduit.set(keyOf(7), value, 9)));
    const frame = decoder.read();
    if (frame === undefined || !('opcode' in frame)) throw new Error('no frame');
    expect(frame.id).toBe(9n);
    expect(parseRequest(frame)).toMatchObject({ op: 'SET', key: Buffer.from('k:00000000000007'), value, ttlMs: 0 });
  });

  it('encodes RESP and memcached SETs byte for byte', () => {
    expect(Buffer.concat(protocols.resp.set('k:1', value, 1)).toString()).toBe('*3\r\n$3\r\nSET\r\n$3\r\nk:1\r\n$4\r\nvvvv\r\n');
    expect(Buffer.concat(protocols.memcache.set('k:1', value, 1)).toString()).toBe('set k:1 0 0 4\r\nvvvv\r\n');
    expect(Buffer.concat(protocols.resp.count()).toString()).toBe('*1\r\n$6\r\nDBSIZE\r\n');
    expect(Buffer.concat(protocols.memcache.count()).toString()).toBe('stats\r\n');
  });

  for (const byteByByte of [false, true]) {
    const how = byteByByte ? 'byte by byte' : 'whole';
    it(`counts Conduit OUT_OF_MEMORY answers as refused and reads STATS curr_items (${how})`, () => {
      const stats = { curr_items: 369_334, bytes: 66_062_686, limit_maxbytes: 67_108_864, evictions: 5, uptime: 3 };
      const stream = Buffer.concat([
        ...encodeResponse(1n, Status.OK),
        ...encodeResponse(2n, Status.OUT_OF_MEMORY, Buffer.from('store is full and eviction is off')),
        ...encodeResponse(3n, Status.OK),
        ...encodeResponse(0xffff_ffffn, Status.OK, Buffer.from(JSON.stringify(stats))),
      ]);
      expect(readAll(protocols.conduit, stream, byteByByte)).toEqual({
        sets: [null, 'OUT_OF_MEMORY', null],
        items: 369_334,
        stats: { bytes: 66_062_686, limit_maxbytes: 67_108_864, evictions: 5 },
      });
    });

    it(`counts Redis -OOM answers as refused and reads DBSIZE (${how})`, () => {
      const stream = Buffer.from("+OK\r\n-OOM command not allowed when used memory > 'maxmemory'.\r\n+OK\r\n:322692\r\n");
      expect(readAll(protocols.resp, stream, byteByByte)).toEqual({ sets: [null, 'OOM', null], items: 322_692, stats: {} });
    });

    it(`counts memcached SERVER_ERROR answers as refused and reads stats curr_items (${how})`, () => {
      const stream = Buffer.from(
        'STORED\r\nSERVER_ERROR out of memory storing object\r\nSTORED\r\nSTAT pid 1\r\nSTAT curr_items 349504\r\nSTAT bytes 60000000\r\nSTAT limit_maxbytes 67108864\r\nSTAT evictions 9\r\nEND\r\n',
      );
      expect(readAll(protocols.memcache, stream, byteByByte)).toEqual({
        sets: [null, 'SERVER_ERROR out of memory storing object', null],
        items: 349_504,
        stats: { bytes: 60_000_000, limit_maxbytes: 67_108_864, evictions: 9 },
      });
    });
  }

  it('throws on an answer that is neither a stored, a refusal nor a count', () => {
    expect(() => readAll(protocols.resp, Buffer.from('$3\r\nabc\r\n'), false)).toThrow(/unexpected answer/);
    expect(() => readAll(protocols.memcache, Buffer.from('VALUE k 0 1\r\n'), false)).toThrow(/unexpected answer/);
    expect(() => readAll(protocols.conduit, Buffer.from([0x81, 0, 0, 0]), false)).not.toThrow(); // incomplete: waits
    expect(() => readAll(protocols.conduit, Buffer.from('garbage garbage!'), false)).toThrow(/bad answer/);
  });
});
