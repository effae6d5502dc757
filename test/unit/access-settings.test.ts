// Issue 25, from an outside review: conduit-server's credentials at start and at reload agree.
// CONDUIT_KEY may not take a reserved id or a file key's secret, a reload may not bring
// [[certificates]] without --tls-client-auth nor remove the tokens that are the HTTP or RESP
// port's only credential, and a client certificate with several CNs matches no rule.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { accessSettings, guardedReload } from '../../src/cli/access-settings.js';
import { generateKey, parseKeySpec } from '../../src/crypto/keys.js';
import { ALL_RIGHTS } from '../../src/protocol/access.js';
import { peerCommonName } from '../../src/server/access/peer-certificate.js';
import type { AccessConfig } from '../../src/server/access/access-table.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-access-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = generateKey();

function keyFile(lines: readonly string[]): string {
  const path = join(dir, `keys-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('CONDUIT_KEY beside the key file', () => {
  it('refuses a reserved id, with or without a file', () => {
    for (const id of ['default', 'http-token', 'unmatched-certificate']) {
      const key = parseKeySpec(`${id}:${generateKey()}`);
      expect(() => accessSettings(undefined, key, 'CONDUIT_KEY')).toThrow(new TypeError(`CONDUIT_KEY: key id '${id}' is reserved`));
    }
  });

  it("refuses a secret the file gives a (limited) key: the two ids would open each other's rights", () => {
    const path = keyFile(['[[keys]]', 'id = "app1"', `key = "${KEY}"`, 'prefixes = ["app1:"]']);
    expect(() => accessSettings(path, parseKeySpec(`ops:${KEY}`), 'CONDUIT_KEY')).toThrow(new TypeError(`CONDUIT_KEY's key is also key 'app1' of ${path}: each id needs its own key`));
    expect(accessSettings(path, parseKeySpec(`ops:${generateKey()}`), 'CONDUIT_KEY').keys.map((k) => k.id)).toEqual(['app1', 'ops']);
  });
});

describe('guardedReload: a reload installs only what a start would', () => {
  const token = { id: 'web', token: 'tok-0123456789abcdef', rule: ALL_RIGHTS };
  const config = (tokens: AccessConfig['tokens'], certificates: AccessConfig['certificates'] = []): AccessConfig => ({ keys: [], tokens, certificates });

  it('refuses [[certificates]] without --tls-client-auth', () => {
    const load = guardedReload(() => config([], [{ id: 'c', subject: 'c.internal', rule: ALL_RIGHTS }]), {}, 'keys.toml');
    expect(load).toThrow(new TypeError('keys.toml: [[certificates]] need --tls-client-auth (with --tls-cert, --tls-key and --tls-ca); restart with it to use them'));
    const withAuth = guardedReload(() => config([], [{ id: 'c', subject: 'c.internal', rule: ALL_RIGHTS }]), { tls: { cert: 'x', key: 'y', clientAuth: true } }, 'keys.toml');
    expect(withAuth().certificates).toHaveLength(1);
  });

  it('refuses to remove the last token while tokens alone guard HTTP or RESP', () => {
    const none = (): AccessConfig => config([]);
    expect(guardedReload(none, { tokens: [token], httpPort: 0 }, 'k.toml')).toThrow(/only credential of the HTTP gateway: a reload would open it/);
    expect(guardedReload(none, { tokens: [token], respPort: 0 }, 'k.toml')).toThrow(/only credential of the RESP port/);
    expect(guardedReload(none, { tokens: [token], httpPort: 0, respSocket: '/tmp/r.sock' }, 'k.toml')).toThrow(/the HTTP gateway and the RESP port/);
    // Another credential stays, or there were no tokens to begin with: the reload goes through.
    expect(guardedReload(none, { tokens: [token], httpPort: 0, httpToken: 'h'.repeat(16) }, 'k.toml')().tokens).toEqual([]);
    expect(guardedReload(none, { tokens: [token], respPort: 0, respPassword: 'pw' }, 'k.toml')().tokens).toEqual([]);
    expect(guardedReload(none, { tokens: [], httpPort: 0 }, 'k.toml')().tokens).toEqual([]);
    expect(guardedReload(() => config([token]), { tokens: [token], httpPort: 0 }, 'k.toml')().tokens).toHaveLength(1);
  });
});

describe('peerCommonName', () => {
  const socket = (authorized: boolean, CN: unknown): Socket => ({ authorized, getPeerCertificate: () => ({ subject: { CN } }) }) as unknown as Socket;

  it('is the one CN of a verified certificate', () => {
    expect(peerCommonName(socket(true, 'reports.internal'))).toBe('reports.internal');
  });

  it('is undefined for several CNs (either order), none, an unverified certificate, or a plain socket', () => {
    expect(peerCommonName(socket(true, ['reports.internal', 'other']))).toBeUndefined();
    expect(peerCommonName(socket(true, ['other', 'reports.internal']))).toBeUndefined();
    expect(peerCommonName(socket(true, undefined))).toBeUndefined();
    expect(peerCommonName(socket(false, 'reports.internal'))).toBeUndefined();
    expect(peerCommonName({} as Socket)).toBeUndefined();
  });
});

describe('AccessTable.credentialOf: only rights a file entry gave carry its credential', () => {
  it('an unruled certificate whose CN is a key id keeps no credential, so removing that key does not close it', async () => {
    const { AccessTable } = await import('../../src/server/access/access-table.js');
    const secret = Buffer.from(generateKey(), 'base64');
    const table = new AccessTable({ keys: [{ id: 'app1', secret }], tokens: [], certificates: [] });
    const byCertificate = table.forCertificate('app1'); // every right: the file has no [[certificates]]
    expect(table.credentialOf(byCertificate)).toBeUndefined();
    const byKey = table.forKey('app1');
    expect(byKey === undefined ? undefined : table.credentialOf(byKey)).toMatch(/^[0-9a-f]{64}$/);
    const next = new AccessTable({ keys: [{ id: 'ops', secret: Buffer.from(generateKey(), 'base64') }], tokens: [], certificates: [] });
    expect(next.holds(byCertificate, table.credentialOf(byCertificate))).toBe(true);
    expect(byKey !== undefined && next.holds(byKey, table.credentialOf(byKey))).toBe(false);
  });
});
