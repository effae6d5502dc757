import { describe, expect, it } from 'vitest';
import { RespWriter } from '../../src/protocol/resp-writer.js';

describe('RespWriter.release', () => {
  it('keeps what is queued, and writes the same bytes after a release as before it', () => {
    const out = new RespWriter();
    out.simple('OK');
    out.release(); // something is queued: nothing is dropped
    out.bulk(Buffer.from('hello'));
    expect(out.take().toString()).toBe('+OK\r\n$5\r\nhello\r\n');
    out.release(); // empty: the buffer goes back
    expect(out.length).toBe(0);
    out.integer(42);
    out.bulk(Buffer.alloc(40_000, 0x61)); // grows past the first block
    const taken = out.take();
    expect(taken.subarray(0, 13).toString()).toBe(':42\r\n$40000\r\n');
    expect(taken.length).toBe(5 + 8 + 40_000 + 2);
  });
});
