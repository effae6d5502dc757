/**
 * Reading one HTTP request body into memory, bounded: the gateway's PUT
 * takes values up to `--max-value-size` (64 MiB at most, spec §2.4), so the
 * body is refused before it is read when `Content-Length` says it is too
 * long, and the moment a chunked body passes the limit otherwise. With a
 * `Content-Length` the value is read into one buffer allocated once (no
 * list of chunks, no second copy); a chunked body is kept as its chunks and
 * joined once at the end.
 *
 * @example
 * ```ts
 * const value = await readBody(req, 1_048_576); // rejects with BodyTooLarge past 1 MiB
 * ```
 * @module
 */
import type { IncomingMessage } from 'node:http';

/**
 * The body is longer than the limit: `declared` is its `Content-Length`
 * when it said so up front, `undefined` when a chunked body passed the
 * limit while it streamed. The rest of the body is not read: the
 * connection cannot be reused and must be closed after the answer.
 */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly declared: number | undefined,
  ) {
    super(declared === undefined ? `body exceeds the limit of ${limit} bytes` : `body of ${declared} bytes exceeds the limit of ${limit}`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * The whole body of `req`, at most `limit` bytes; rejects with
 * {@link BodyTooLarge} (before reading anything when `Content-Length` is
 * over the limit), or with the stream's error when the body is cut short.
 *
 * @example
 * ```ts
 * try {
 *   await readBody(req, limit);
 * } catch (err) {
 *   if (err instanceof BodyTooLarge) answer413AndClose(err.message);
 * }
 * ```
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const header = req.headers['content-length'];
  // Node's parser has checked the header's syntax (digits only) and enforces it: exactly this many bytes follow.
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) return Promise.reject(new BodyTooLarge(limit, declared));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      reject(err);
    };
    // Content-Length: one allocation of the declared size, chunks copied into place.
    const whole = declared === undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let size = 0;
    function onData(chunk: Buffer): void {
      if (settled) return;
      if (size + chunk.length > (whole?.length ?? limit)) {
        fail(new BodyTooLarge(limit, declared));
        return;
      }
      if (whole === undefined) chunks.push(chunk);
      else chunk.copy(whole, size);
      size += chunk.length;
    }
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      if (whole !== undefined && size !== whole.length) return fail(new Error(`body ended after ${size} of ${whole.length} bytes`));
      settled = true;
      resolve(whole ?? Buffer.concat(chunks, size));
    });
    req.once('error', fail);
    // A client that goes away mid-body: 'end' never comes.
    req.once('aborted', () => fail(new Error('the client closed the connection before the body ended')));
  });
}
