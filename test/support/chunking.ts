import { FrameDecoder, ProtocolError, type Frame } from '../../src/index.js';

/** One way of cutting a byte stream into socket chunks. */
export interface Chunking {
  name: string;
  chunks: Buffer[];
}

/**
 * spec §9: every case is fed whole, byte by byte, and split in two at every
 * offset. Returns those chunkings of `bytes`.
 */
export function chunkings(bytes: Buffer): Chunking[] {
  const out: Chunking[] = [{ name: 'whole', chunks: [bytes] }];
  out.push({ name: 'byte by byte', chunks: [...bytes].map((b) => Buffer.from([b])) });
  for (let at = 1; at < bytes.length; at += 1) {
    out.push({ name: `split at ${at}`, chunks: [bytes.subarray(0, at), bytes.subarray(at)] });
  }
  return out;
}

/** What a decoder produced from a stream: its frames, the error it ended with, and what end() said. */
export interface Decoded {
  frames: Frame[];
  error: ProtocolError | undefined;
  endError: ProtocolError | undefined;
}

/** Feeds `chunks` to a fresh decoder, draining it after every push as a socket handler does. */
export function decode(chunks: Buffer[], direction: 'request' | 'response', maxBodySize?: number): Decoded {
  const decoder = new FrameDecoder(maxBodySize === undefined ? { direction } : { direction, maxBodySize });
  const frames: Frame[] = [];
  let error: ProtocolError | undefined;
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let item = decoder.read(); item !== undefined; item = decoder.read()) {
      if (item instanceof ProtocolError) {
        if (error !== undefined) throw new Error('decoder returned a second error');
        error = item;
      } else {
        if (error !== undefined) throw new Error('decoder returned a frame after its error');
        // Copy: a view may point into a chunk the caller reuses.
        frames.push({ ...item, body: Buffer.from(item.body) });
      }
    }
  }
  return { frames, error, endError: decoder.end() };
}
