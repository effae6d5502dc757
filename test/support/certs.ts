import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a throwaway CA, a server certificate for 127.0.0.1/localhost, and a client certificate. */
export interface TestCerts {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  otherCa: Buffer;
  paths: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>;
}

/** Makes the certificates with the openssl command, at test time; no private key is ever committed. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-certs-'));
  const f = (name: string): string => join(dir, name);
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const leaf = (name: string, cn: string, ext: string): void => {
    writeFileSync(f(`${name}.ext`), ext);
    run('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  run('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=conduit test CA', '-days', '2');
  run('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.crt'), '-subj', '/CN=some other CA', '-days', '2');
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'conduit test client', 'extendedKeyUsage=clientAuth\n');
  const paths = { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
  return {
    dir,
    ca: readFileSync(paths.ca),
    serverCert: readFileSync(paths.serverCert),
    serverKey: readFileSync(paths.serverKey),
    clientCert: readFileSync(paths.clientCert),
    clientKey: readFileSync(paths.clientKey),
    otherCa: readFileSync(f('other.crt')),
    paths,
  };
}
