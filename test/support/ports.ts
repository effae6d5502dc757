import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now: for a group whose names must be known before its
 * servers are built, or a server that must come back on the same port. Another process may take
 * it before it is used (a small race the callers accept).
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const address = s.address();
  await new Promise((r) => s.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
