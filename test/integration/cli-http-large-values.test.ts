// Values larger than one frame through conduit-cli and the HTTP gateway
// (issue 19 item 1, spec §2.4): `conduit-cli set KEY - < file` then
// `get KEY > out`, byte for byte, plaintext and secure mode; HTTP PUT/GET of
// 64 MiB, refused past --max-value-size from Content-Length and while a
// chunked body streams.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConduitClient, generateKey } from '../../src/index.js';
import { cliBin, runCli } from '../support/cli.js';
import { startServer } from '../support/server.js';

const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'conduit-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `size` bytes that differ along the value, so a misplaced fragment shows. */
function patterned(size: number, seed = 7): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i + 4 <= size; i += 4) out.writeUInt32BE(((i >>> 2) * 2654435761 + seed) >>> 0, i);
  out.fill(seed, size - (size % 4));
  return out;
}

/** Runs `sh -c script` with `env` added (redirections to and from files); resolves its exit code and stderr. */
function sh(script: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('sh', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe('conduit-cli: set KEY - < file, get KEY > out (spec §2.4)', () => {
  for (const secure of [false, true]) {
    it(`${secure ? 'secure mode' : 'plaintext'}: a 64 MiB file round-trips byte for byte`, async () => {
      const secret = generateKey();
      const key = { id: 'cli', secret: Buffer.from(secret, 'base64') };
      const { port } = await startServer({ maxMemory: 256 * MiB, maxValueSize: 64 * MiB, ...(secure ? { keys: [key] } : {}) });
      const input = join(dir, `in-${secure}.bin`);
      const output = join(dir, `out-${secure}.bin`);
      writeFileSync(input, patterned(64 * MiB, secure ? 3 : 4));
      const env: Record<string, string> = secure ? { CONDUIT_KEY: `cli:${secret}` } : {};
      const cli = `"${process.execPath}" "${cliBin}" --port ${port} --timeout 60s`;
      expect(await sh(`${cli} set big - < "${input}"`, env)).toEqual({ code: 0, stderr: '' });
      expect(await sh(`${cli} get big > "${output}"`, env)).toEqual({ code: 0, stderr: '' });
      expect(readFileSync(output).equals(readFileSync(input))).toBe(true); // no newline added, nothing lost
    });
  }

  it('a value piped in is sent whole; over the server\'s --max-value-size it exits 2 with one line', async () => {
    const { port } = await startServer({ maxValueSize: MiB });
    const value = patterned(MiB - 10);
    expect((await runCli(['--port', String(port), 'set', 'piped', '-'], value)).code).toBe(0);
    const got = await runCli(['--port', String(port), 'get', 'piped']);
    expect(got.stdout.equals(value)).toBe(true);
    const over = await runCli(['--port', String(port), 'set', 'over', '-'], patterned(2 * MiB));
    expect(over.code).toBe(2);
    expect(over.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: TOO_LARGE: .*1048576/)]);
  });

  it('stdin larger than 64 MiB is refused before anything is sent, naming the argument', async () => {
    const { port, server } = await startServer({ maxValueSize: MiB });
    const input = join(dir, 'huge.bin');
    writeFileSync(input, Buffer.alloc(64 * MiB + 1));
    const cli = `"${process.execPath}" "${cliBin}" --port ${port}`;
    const result = await sh(`${cli} set huge - < "${input}"`);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("the value on stdin ('-') is larger than 67108864 bytes, the largest value conduit-cli sends\n");
    expect(server.store.stats().curr_items).toBe(0);
  });
});

/** A PUT whose body is streamed in `chunk`-byte pieces without Content-Length (chunked); resolves the status and body. */
function chunkedPut(port: number, path: string, total: number, chunk: number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(chunk, total - sent);
        sent += n;
        if (!req.write(Buffer.alloc(n, 1))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('HTTP gateway: PUT and GET of values up to --max-value-size (spec §2.4)', () => {
  for (const secure of [false, true]) {
    it(`${secure ? 'secure mode (bearer token)' : 'plaintext'}: 64 MiB PUT, GET and a ConduitClient read it back; one byte more is 413 naming the limit`, async () => {
      const token = randomBytes(24).toString('base64url');
      const key = { id: 'app', secret: randomBytes(32) };
      const { port, httpPort } = await startServer({
        httpPort: 0,
        maxMemory: 256 * MiB,
        maxValueSize: 64 * MiB,
        ...(secure ? { keys: [key], httpToken: token } : {}),
      });
      const base = `http://127.0.0.1:${httpPort ?? 0}/v1/keys`;
      const headers = secure ? { authorization: `Bearer ${token}` } : undefined;
      const value = patterned(64 * MiB, 9);
      expect((await fetch(`${base}/big`, { method: 'PUT', body: value, headers })).status).toBe(204);
      const got = await fetch(`${base}/big`, { headers });
      expect([got.status, got.headers.get('content-length')]).toEqual([200, String(64 * MiB)]);
      expect(Buffer.from(await got.arrayBuffer()).equals(value)).toBe(true);
      const c = new ConduitClient({ port, requestTimeoutMs: 60_000, ...(secure ? { key } : {}) });
      try {
        expect((await c.get('big'))?.equals(value)).toBe(true);
      } finally {
        c.destroy();
      }
      const over = await fetch(`${base}/over`, { method: 'PUT', body: Buffer.alloc(64 * MiB + 1), headers });
      expect([over.status, over.headers.get('connection'), await over.json()]).toEqual([
        413,
        'close',
        { error: 'TOO_LARGE', message: `a value of ${64 * MiB + 1} bytes exceeds --max-value-size (${64 * MiB} bytes)` },
      ]);
    });
  }

  it('a chunked body is refused the moment it passes --max-value-size; one within it is stored', async () => {
    const { httpPort, server } = await startServer({ httpPort: 0, maxValueSize: MiB });
    const port = httpPort ?? 0;
    const over = await chunkedPut(port, '/v1/keys/streamed', 3 * MiB, 64 * 1024).catch((err: NodeJS.ErrnoException) => ({ status: -1, body: err.code ?? '' }));
    // The answer comes before the body ends; the gateway then closes, so the client may see a reset instead.
    if (over.status !== -1) expect([over.status, JSON.parse(over.body)]).toEqual([413, { error: 'TOO_LARGE', message: `the value exceeds --max-value-size (${MiB} bytes)` }]);
    expect(server.store.get(Buffer.from('streamed'))).toBeUndefined();
    expect(await chunkedPut(port, '/v1/keys/fits', MiB, 100_000)).toEqual({ status: 204, body: '' });
    expect(server.store.get(Buffer.from('fits'))?.length).toBe(MiB);
  });
});
