// CI: prints one real /metrics scrape of a server that served a few requests,
// for `promtool check metrics` (issue 15 item 16). Loopback only, bounded.
import { ConduitClient } from '../dist/index.js';
// What conduit-server runs: the server and, with httpPort, the HTTP gateway in front of it.
import { ComposedServer } from '../dist/cli/compose.js';

const server = new ComposedServer({ host: '127.0.0.1', port: 0, httpPort: 0 });
const { port, httpPort } = await server.listen();
const client = new ConduitClient({ port, requestTimeoutMs: 5_000 });
try {
  await client.set('a', '1');
  await client.get('a');
  await client.get('missing');
  await client.incr('n');
  await fetch(`http://127.0.0.1:${httpPort}/v1/keys/b`, { method: 'PUT', body: 'x', signal: AbortSignal.timeout(5_000) });
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  process.stdout.write(await res.text());
} finally {
  client.destroy();
  await server.close();
}
