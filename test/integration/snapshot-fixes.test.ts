// Issue 22, the outside review's findings, through the real CLI (docs/SNAPSHOT.md): versions
// are never given twice across a restart (spec §3.11), --snapshot may not name the server's
// other files, a file is used once without --snapshot-interval (a kill -9 does not bring back a
// stale file), settings refused or warned about in one line.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConduitClient } from '../../src/index.js';
import { logLine, runServerToExit, startServerProcess, stopServer as stop } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-snapshot-fixes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const snapFile = (): string => join(dir, `cache-${(files += 1)}.snap`);

const clients: ConduitClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
function client(port: number): ConduitClient {
  const c = new ConduitClient({ port, requestTimeoutMs: 30_000 });
  clients.push(c);
  return c;
}


/** Expects exit 1 with exactly one line on stderr matching `message`. */
async function refused(args: string[], message: RegExp): Promise<string> {
  const { code, stderr } = await runServerToExit(args);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(message);
  expect(code).toBe(1);
  return stderr;
}

/** A CAS's outcome as a word: 'OK', 'REFUSED' (the version did not match: EXISTS or NOT_FOUND), or the error's code. */
async function cas(c: ConduitClient, key: string, value: string, version: bigint): Promise<string> {
  try {
    return (await c.set(key, value, { version })) ? 'OK' : 'REFUSED';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

describe('versions after a restart (spec §3.11: a version is never given twice)', () => {
  it('a key deleted before the stop and re-created after it never matches a CAS with its old version; an unchanged key still does', async () => {
    const file = snapFile();
    let server = await startServerProcess(['--port', '0', '--snapshot', file]);
    let c = client(server.port);
    await c.set('kept', 'k');
    await c.set('x', 'old');
    const kept = (await c.getWithVersion('kept'))!.version;
    const old = (await c.getWithVersion('x'))!.version;
    await c.delete('x');
    for (let i = 0; i < 5; i += 1) await c.set('churn', `v${i}`); // versions given after x's, then gone
    await c.delete('churn');
    expect(await stop(server)).toBe(0);
    server = await startServerProcess(['--port', '0', '--snapshot', file]);
    c = client(server.port);
    expect(await cas(c, 'x', 'cas-write', old)).toBe('REFUSED'); // x is missing: NOT_FOUND
    await c.set('x', 'DIFFERENT');
    const fresh = (await c.getWithVersion('x'))!.version;
    expect(fresh > old + 5n).toBe(true);
    expect(await cas(c, 'x', 'cas-write', old)).toBe('REFUSED');
    expect((await c.get('x'))?.toString()).toBe('DIFFERENT');
    for (let v = old; v <= old + 6n; v += 1n) expect(await cas(c, 'x', 'cas-write', v)).toBe('REFUSED');
    expect(await cas(c, 'kept', 'k2', kept)).toBe('OK'); // versions are kept
    expect(await stop(server)).toBe(0);
  });
});

describe('--snapshot naming another file of the server', () => {
  it('the config file, the key file or a TLS file: exit 1, one line naming both settings, the file untouched', async () => {
    const toml = join(dir, 'server.toml');
    writeFileSync(toml, `snapshot = "${toml}"\n`);
    await refused(['--config', toml], new RegExp(`snapshot in ${toml} ${toml} is the file of --config \\(${toml}\\)`));
    expect(existsSync(toml)).toBe(true);
    const keys = join(dir, 'keys.toml');
    writeFileSync(keys, '[[keys]]\nid = "a"\nkey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="\n');
    await refused(['--key-file', keys, '--snapshot', keys], /--snapshot .*keys\.toml is the file of --key-file/);
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'not a pem');
    await refused(['--tls-cert', cert, '--tls-key', join(dir, 'key.pem'), '--snapshot', join(dir, '.', 'cert.pem')], /--snapshot .*cert\.pem is the file of --tls-cert/);
  });
});

describe('a file is used once without --snapshot-interval (docs/SNAPSHOT.md §Loading)', () => {
  it('a kill -9 after a load starts empty at the next start, not with the stale file', async () => {
    const file = snapFile();
    let server = await startServerProcess(['--port', '0', '--snapshot', file]);
    await client(server.port).set('gone', 'soon');
    expect(await stop(server)).toBe(0);
    server = await startServerProcess(['--port', '0', '--snapshot', file]);
    expect(String(logLine(server, /loaded: 1 items/)?.msg)).toMatch(/the file is used once/);
    const c = client(server.port);
    expect((await c.get('gone'))?.toString()).toBe('soon');
    await c.delete('gone');
    expect(existsSync(file)).toBe(false);
    await stop(server, 'SIGKILL');
    server = await startServerProcess(['--port', '0', '--snapshot', file]);
    expect(logLine(server, /does not exist yet/)).toBeDefined();
    expect(await client(server.port).get('gone')).toBeUndefined();
    expect(await stop(server)).toBe(0);
  });

  it('with --snapshot-interval the last periodic save is loaded after a kill -9', async () => {
    const file = snapFile();
    let server = await startServerProcess(['--port', '0', '--snapshot', file, '--snapshot-interval', '1s']);
    const c = client(server.port);
    await c.set('kept', 'periodic');
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100)); // the first periodic save
    await stop(server, 'SIGKILL');
    server = await startServerProcess(['--port', '0', '--snapshot', file, '--snapshot-interval', '1s']);
    expect(String(logLine(server, /loaded: 1 items/)?.msg)).toMatch(/the file stays for crash recovery/);
    expect((await client(server.port).get('kept'))?.toString()).toBe('periodic');
    expect(existsSync(file)).toBe(true);
    expect(await stop(server)).toBe(0);
  });
});

describe('settings refused or warned about in one line', () => {
  it('a TOML snapshot that is not a string, a FILE ending with a slash', async () => {
    const toml = join(dir, 'number.toml');
    writeFileSync(toml, 'snapshot = 5\n');
    await refused(['--config', toml], new RegExp(`snapshot in ${toml} must be a file name \\(a string in quotes\\), got 5`));
    await refused(['--snapshot', `${dir}/`], /--snapshot .* ends with a slash: it names the snapshot file, not a directory/);
  });

  it('files of another worker count: one warn line naming them', async () => {
    const file = snapFile();
    writeFileSync(`${file}.0`, 'x');
    writeFileSync(`${file}.1`, 'x');
    const server = await startServerProcess(['--port', '0', '--snapshot', file]);
    const warn = logLine(server, /another worker count/);
    expect(warn?.level).toBe(40);
    expect(String(warn?.msg)).toContain(`${file}.0, ${file}.1`);
    expect(await stop(server)).toBe(0);
  });
});
