import { describe, expect, it } from 'vitest';
import { encodeRequest, FrameDecoder, MAX_BODY_SIZE, ProtocolError, type Frame } from '../../src/index.js';
import { encodeHeader, type RawFrame } from '../../src/protocol/header.js';
import { decode } from '../support/chunking.js';

const get = (id: bigint, key: string): Buffer => Buffer.concat(encodeRequest(id, { op: 'GET', key: Buffer.from(key) }));

describe('FrameDecoder.take (the server hot path: one reused frame, identifier as u32 halves)', () => {
  const ids = [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn, 0x0123_4567_89ab_cdefn];
  // Built by hand: encodeRequest refuses the reserved identifiers (top bit set) a peer may still send.
  const stream = Buffer.concat(ids.map((id, i) => Buffer.concat([encodeHeader(0x01, 0x00, `k${i}`.length, id), Buffer.from(`k${i}`)])));

  it('gives the same frames as read(), fed whole, byte by byte and at every split', () => {
    const feeds: Buffer[][] = [[stream], [...stream].map((b) => Buffer.from([b]))];
    for (let cut = 1; cut < stream.length; cut += 1) feeds.push([stream.subarray(0, cut), stream.subarray(cut)]);
    for (const chunks of feeds) {
      const decoder = new FrameDecoder({ direction: 'request' });
      const seen: [bigint, string][] = [];
      let reused: RawFrame | undefined;
      for (const chunk of chunks) {
        decoder.push(chunk);
        for (let raw = decoder.take(); raw !== undefined; raw = decoder.take()) {
          if (raw instanceof ProtocolError) throw raw;
          if (reused !== undefined) expect(raw).toBe(reused);
          reused = raw;
          seen.push([(BigInt(raw.idHi) << 32n) | BigInt(raw.idLo), raw.body.toString()]);
        }
      }
      expect(seen).toEqual(ids.map((id, i) => [id, `k${i}`]));
    }
  });

  it('keeps the decoder contract: one typed error, then nothing', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(Buffer.from([0x81, 0, 0, 0]));
    expect((decoder.take() as ProtocolError).code).toBe('BAD_VERSION');
    decoder.push(get(1n, 'a'));
    expect(decoder.take()).toBeUndefined();
  });
});

describe('FrameDecoder', () => {
  it('decodes many frames from one chunk, in order', () => {
    const stream = Buffer.concat(Array.from({ length: 100 }, (_, i) => get(BigInt(i), `key-${i}`)));
    const { frames, error } = decode([stream], 'request');
    expect(error).toBeUndefined();
    expect(frames.map((f) => [f.id, f.body.toString()])).toEqual(
      Array.from({ length: 100 }, (_, i) => [BigInt(i), `key-${i}`]),
    );
  });

  it('hands out a view into the chunk when the frame sits in one chunk', () => {
    const chunk = Buffer.concat([get(1n, 'abc'), get(2n, 'de')]);
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(chunk);
    const first = decoder.read() as Frame;
    expect(first.body.buffer).toBe(chunk.buffer);
    expect(first.body.byteOffset).toBe(chunk.byteOffset + 12);
  });

  it('copies a body that spans chunks into a buffer of its own', () => {
    const frame = get(1n, 'abcdef');
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(frame.subarray(0, 14));
    expect(decoder.read()).toBeUndefined();
    expect(decoder.midFrame).toBe(true);
    decoder.push(frame.subarray(14));
    const item = decoder.read() as Frame;
    expect(item.body.toString()).toBe('abcdef');
    frame.fill(0x7a); // the copy must not see later changes to the chunks
    expect(item.body.toString()).toBe('abcdef');
    expect(decoder.midFrame).toBe(false);
    expect(decoder.buffered).toBe(0);
  });

  it('checks LENGTH before buffering any body byte (spec §2.1)', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(Buffer.from([0x01, 0x01, 0xff, 0xf5])); // LENGTH 65525, header incomplete
    const error = decoder.read();
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('FRAME_TOO_LARGE');
    expect(decoder.buffered).toBe(0);
  });

  it('accepts LENGTH exactly at the cap', () => {
    const header = Buffer.from([0x01, 0x00, 0xff, 0xf4, 0, 0, 0, 0, 0, 0, 0, 9]);
    const { frames, error } = decode([header, Buffer.alloc(MAX_BODY_SIZE, 0x61)], 'request');
    expect(error).toBeUndefined();
    expect(frames[0]?.body.length).toBe(MAX_BODY_SIZE);
  });

  it('honours a lower maxBodySize', () => {
    const { error } = decode([get(1n, 'abcd')], 'request', 3);
    expect(error?.code).toBe('FRAME_TOO_LARGE');
    expect(decode([get(1n, 'abc')], 'request', 3).error).toBeUndefined();
  });

  it('rejects invalid options with a message naming the option', () => {
    expect(() => new FrameDecoder({ direction: 'request', maxBodySize: MAX_BODY_SIZE + 1 })).toThrow(/maxBodySize/);
    expect(() => new FrameDecoder({ direction: 'both' as 'request' })).toThrow(/direction/);
  });

  it('stays dead after an error: no second error, no frames, pushes dropped', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect((decoder.read() as ProtocolError).code).toBe('BAD_VERSION');
    expect(decoder.dead).toBe(true);
    decoder.push(get(1n, 'k'));
    expect(decoder.read()).toBeUndefined();
    expect(decoder.buffered).toBe(0);
    expect(decoder.end()).toBeUndefined();
  });

  it('end() reports a truncated frame once and then stays dead', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(get(1n, 'abc').subarray(0, 13));
    expect(decoder.read()).toBeUndefined();
    const error = decoder.end();
    expect(error?.code).toBe('TRUNCATED_FRAME');
    expect(error?.fatal).toBe(true);
    decoder.push(get(2n, 'x'));
    expect(decoder.read()).toBeUndefined();
  });

  it('end() between frames is clean', () => {
    const decoder = new FrameDecoder({ direction: 'request' });
    decoder.push(get(1n, 'abc'));
    const frame = decoder.read() as Frame;
    expect([frame.version, frame.opcode, frame.length, frame.id, frame.body.toString()]).toEqual([0x01, 0x00, 3, 1n, 'abc']);
    expect(decoder.read()).toBeUndefined();
    expect(decoder.end()).toBeUndefined();
  });

  it('names the other direction when a response is sent to a server', () => {
    const { error } = decode([Buffer.from('810000000000000000000001', 'hex')], 'request');
    expect(error?.message).toMatch(/other direction/);
  });
});
