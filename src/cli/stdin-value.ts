/**
 * The value of `conduit-cli set KEY -`: all of stdin, at most `limit` bytes
 * (a value travels as fragments up to the server's `--max-value-size`, spec
 * §2.4). Redirected from a file (`< 10mb.bin`) its size is known up front:
 * refused before reading when too large, else read into one buffer
 * allocated once. From a pipe it is counted while it streams and refused
 * the moment it passes the limit.
 *
 * @example
 * ```ts
 * const value = await readStdinValue(64 * 2 ** 20); // throws StdinTooLarge past 64 MiB
 * ```
 * @module
 */
import { fstatSync, readSync } from 'node:fs';

/** stdin held more than the limit: nothing was sent. */
export class StdinTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the value on stdin ('-') is larger than ${limit} bytes, the largest value conduit-cli sends`);
    this.name = 'StdinTooLarge';
  }
}

/** Reads a regular file on fd 0 into one buffer of its size (one more byte is tried, in case it grew). */
function readFileFd(size: number, limit: number): Buffer {
  if (size > limit) throw new StdinTooLarge(limit);
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for (;;) {
    const n = readSync(0, buffer, filled, size - filled, null);
    if (n === 0) return buffer.subarray(0, filled);
    filled += n;
    if (filled === size) break;
  }
  // The file grew while we read it: take what fits, as long as all of it fits.
  const probe = Buffer.allocUnsafe(1);
  if (readSync(0, probe, 0, 1, null) === 0) return buffer;
  throw new StdinTooLarge(limit);
}

/** Reads a pipe (or terminal) to its end, refusing past `limit`. */
function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stream.removeListener('data', onData);
        stream.pause();
        reject(new StdinTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks, size)));
    stream.once('error', reject);
  });
}

/**
 * All of stdin as one value of at most `limit` bytes; rejects with
 * {@link StdinTooLarge} past it.
 *
 * @example
 * ```ts
 * await readStdinValue(1024); // `printf hello | conduit-cli set k -` → <Buffer 68 65 6c 6c 6f>
 * ```
 */
export async function readStdinValue(limit: number): Promise<Buffer> {
  const stat = fstatSync(0);
  return stat.isFile() ? readFileFd(stat.size, limit) : readStream(process.stdin, limit);
}
