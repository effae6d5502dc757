import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/index.js';
import { makeCerts, type TestCerts } from '../support/certs.js';
import { runCli } from '../support/cli.js';
import { startServer } from '../support/server.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
function client(options: ConstructorParameters<typeof ConduitClient>[0]): ConduitClient {
  const c = new ConduitClient({ reconnect: false, ...options });
  clients.push(c);
  return c;
}

describe('TLS and mTLS', () => {
  it('serves over TLS to a client that trusts the CA, and refuses one that does not', async () => {
    const { port } = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const c = client({ port, tls: { ca: certs.ca } });
    expect(await c.set('k', 'v')).toBe(true);
    expect(await c.getString('k')).toBe('v');
    await expect(client({ port, tls: { ca: certs.otherCa } }).connect()).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
  });

  it('secure mode works inside TLS', async () => {
    const key = { id: 'app', secret: randomBytes(32) };
    const { port } = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey }, keys: [key] });
    const c = client({ port, tls: { ca: certs.ca }, key });
    expect(await c.incr('n', 2n)).toBe(2n);
  });

  it('with client auth, a client without a certificate is refused and one with a certificate is served', async () => {
    const { port, server } = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true } });
    const anonymous = client({ port, tls: { ca: certs.ca } });
    await expect(anonymous.get('k')).rejects.toMatchObject({ code: expect.stringMatching(/^(CONNECT_FAILED|CONNECTION_LOST)$/) });
    const mismatched = client({ port, tls: { ca: certs.ca, cert: certs.otherCa, key: certs.clientKey } });
    await expect(mismatched.get('k')).rejects.toMatchObject({ code: 'CONNECT_FAILED' });
    const authorised = client({ port, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    expect(await authorised.set('k', 'v')).toBe(true);
    // The SET, and the CAPS ConduitClient sends first on every connection (spec §3.13): nothing from the refused two.
    expect(server.counters.total_commands_processed).toBe(2);
  });

  it('conduit-cli speaks TLS with --tls-ca, and mTLS with --tls-cert/--tls-key', async () => {
    const { port } = await startServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, clientAuth: true } });
    const base = ['--port', String(port), '--tls-ca', certs.paths.ca];
    expect((await runCli([...base, '--tls-cert', certs.paths.clientCert, '--tls-key', certs.paths.clientKey, 'set', 'k', 'v'])).code).toBe(0);
    const refused = await runCli([...base, 'get', 'k']);
    expect(refused.code).toBe(2);
  });
});
