import { afterEach } from 'vitest';
import { ConduitServer, type ServerOptions } from '../../src/index.js';
import { RawClient } from './raw-client.js';

const started: ConduitServer[] = [];
const clients: RawClient[] = [];

// Every server and client a test starts is stopped after it, pass or fail.
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(started.splice(0).map((s) => s.close()));
});

/** Starts a server on 127.0.0.1, port 0, stopped after the test. */
export async function startServer(
  options: Partial<ServerOptions> = {},
): Promise<{ server: ConduitServer; port: number; httpPort: number | undefined }> {
  const server = new ConduitServer({ host: '127.0.0.1', port: 0, shutdownTimeoutMs: 2_000, ...options });
  started.push(server);
  const { port, httpPort } = await server.listen();
  return { server, port, httpPort };
}

/** A raw client, destroyed after the test. */
export async function rawClient(port: number | string): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}
