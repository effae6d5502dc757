import { afterEach } from 'vitest';
import { ComposedServer } from '../../src/cli/compose.js';
import type { ConduitServer, ServerOptions } from '../../src/index.js';
import { RawClient } from './raw-client.js';

const started: ComposedServer[] = [];
const clients: RawClient[] = [];

// Every server and client a test starts is stopped after it, pass or fail.
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/**
 * Starts a server on 127.0.0.1, port 0, stopped after the test; with `httpPort`, the HTTP
 * gateway in front of it too, as conduit-server composes them (src/cli/compose.ts); with
 * `respPort`, the RESP listener too (`respPort` in the result).
 */
export async function startServer(
  options: Partial<ServerOptions> = {},
): Promise<{ server: ConduitServer; port: number; httpPort: number | undefined; respPort: number | undefined; close: () => Promise<void> }> {
  const composed = new ComposedServer({ host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2_000, ...options });
  started.push(composed);
  const { port, httpPort, respPort } = await composed.listen();
  return { server: composed.server, port, httpPort, respPort, close: () => composed.close() };
}

/** A raw client, destroyed after the test. */
export async function rawClient(port: number | string): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}
