import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyTooLarge, readBody } from '../../src/http/body.js';

/** A request body as the gateway sees it: a stream with headers. */
function request(headers: Record<string, string>): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

describe('readBody (the gateway PUT body, up to --max-value-size)', () => {
  it('with Content-Length: refused before a byte is read when it is over the limit', async () => {
    const req = request({ 'content-length': '1001' });
    req.write(Buffer.alloc(10));
    const err = await readBody(req as unknown as IncomingMessage, 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect(err).toMatchObject({ limit: 1000, declared: 1001, message: 'body of 1001 bytes exceeds the limit of 1000' });
    expect(req.readableLength).toBe(10); // nothing consumed
  });

  it('with Content-Length: the chunks land in one buffer of that size, byte for byte', async () => {
    const value = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const req = request({ 'content-length': String(value.length) });
    const body = readBody(req as unknown as IncomingMessage, value.length);
    for (let at = 0; at < value.length; at += 700) req.write(value.subarray(at, at + 700));
    req.end();
    const got = await body;
    expect(got.equals(value)).toBe(true);
    expect(got.buffer.byteLength).toBeGreaterThanOrEqual(value.length);
  });

  it('chunked (no Content-Length): refused the moment the count passes the limit, the rest unread', async () => {
    const req = request({});
    const body = readBody(req as unknown as IncomingMessage, 2500).catch((e: unknown) => e);
    req.write(Buffer.alloc(1000));
    req.write(Buffer.alloc(1000));
    await new Promise((r) => setImmediate(r));
    req.write(Buffer.alloc(1000)); // 3000 > 2500: refused here, before the end
    const err = await body;
    expect(err).toBeInstanceOf(BodyTooLarge);
    expect(err).toMatchObject({ limit: 2500, declared: undefined });
  });

  it('chunked within the limit: all of it, in order; an empty body is an empty buffer', async () => {
    const req = request({});
    const body = readBody(req as unknown as IncomingMessage, 2500);
    req.write(Buffer.from('ab'));
    req.end(Buffer.from('cd'));
    expect((await body).toString()).toBe('abcd');
    const empty = request({ 'content-length': '0' });
    const none = readBody(empty as unknown as IncomingMessage, 10);
    empty.end();
    expect((await none).length).toBe(0);
  });

  it('a body cut short rejects (no half value is stored)', async () => {
    const req = request({ 'content-length': '100' });
    const body = readBody(req as unknown as IncomingMessage, 1000).catch((e: unknown) => e);
    req.write(Buffer.alloc(40));
    req.emit('aborted');
    expect(await body).toBeInstanceOf(Error);
    const ended = request({ 'content-length': '100' });
    const short = readBody(ended as unknown as IncomingMessage, 1000).catch((e: unknown) => e);
    ended.end(Buffer.alloc(40));
    expect(String(await short)).toContain('body ended after 40 of 100 bytes');
  });
});
