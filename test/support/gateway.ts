import { afterEach } from 'vitest';
import { ForwardingBackend, type ForwardingClient, type ForwardingOptions } from '../../src/http/forwarding.js';
import { ForwardingMetrics } from '../../src/http/gateway-metrics.js';
import { HttpGateway } from '../../src/http/gateway.js';
import { ConduitClient, type ClientOptions, type ConduitServer, type ServerOptions } from '../../src/index.js';
import { startServer } from './server.js';

/**
 * Where the gateway's routes run: `local`, the server's own store (what `conduit-server --http-port`
 * runs), or `forwarding`, a gateway of its own in front of the server, sending every request over the
 * protocol with a ConduitClient (what the `--workers` primary runs).
 */
export type GatewayMode = 'local' | 'forwarding';
export const GATEWAY_MODES: readonly GatewayMode[] = ['local', 'forwarding'];

const gateways: HttpGateway[] = [];
const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  for (const c of clients.splice(0)) c.destroy();
});

/** A forwarding gateway on 127.0.0.1, port 0, in front of `client`; closed after the test. */
export async function forwardingGateway(
  client: ForwardingClient,
  options: { secure?: boolean; token?: string; bodyTimeoutMs?: number; maxValueSize?: number; allowedHosts?: readonly string[] } & ForwardingOptions = {},
): Promise<{ base: string; httpPort: number; metrics: ForwardingMetrics }> {
  const metrics = new ForwardingMetrics();
  const gateway = new HttpGateway(new ForwardingBackend(client, { draining: options.draining }), metrics, {
    host: '127.0.0.1',
    port: 0,
    token: options.token,
    secure: options.secure ?? false,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
    maxValueSize: options.maxValueSize ?? 1024 * 1024,
    allowedHosts: options.allowedHosts,
  });
  gateways.push(gateway);
  const httpPort = (await gateway.listen()).port;
  return { base: `http://127.0.0.1:${httpPort}`, httpPort, metrics };
}

/** A client, destroyed after the test. */
export function forwardingClient(options: ClientOptions): ConduitClient {
  const client = new ConduitClient(options);
  clients.push(client);
  return client;
}

/**
 * A server on 127.0.0.1, port 0, and an HTTP gateway over it in `mode`, with the server's HTTP settings
 * (token, secure mode, --frame-timeout, --max-value-size, allowed hosts); all closed after the test.
 * `port` is the server's protocol port, `server` the server (its store is the one the routes reach).
 */
export async function startGateway(
  mode: GatewayMode,
  options: Partial<ServerOptions> = {},
): Promise<{ base: string; httpPort: number; port: number; server: ConduitServer; metrics: ForwardingMetrics | undefined }> {
  if (mode === 'local') {
    const { server, port, httpPort } = await startServer({ httpPort: 0, ...options });
    return { base: `http://127.0.0.1:${httpPort ?? 0}`, httpPort: httpPort ?? 0, port, server, metrics: undefined };
  }
  const { server, port } = await startServer(options);
  const o = server.options;
  const client = forwardingClient({ port, ...(o.keys[0] === undefined ? {} : { key: o.keys[0] }) });
  const forwarding = await forwardingGateway(client, {
    secure: o.keys.length > 0,
    token: o.httpToken,
    bodyTimeoutMs: o.frameTimeoutMs,
    maxValueSize: o.maxValueSize,
    allowedHosts: o.httpAllowedHosts,
  });
  return { ...forwarding, port, server };
}
