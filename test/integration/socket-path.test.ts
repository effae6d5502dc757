// Issue 15 item 4: --socket PATH used to delete whatever was at PATH. Now only a
// stale socket (one that refuses connections) is replaced; anything else is an error.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConduitServer, Status } from '../../src/index.js';
import { runServerToExit } from '../support/cli.js';
import { rawClient, startServer } from '../support/server.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'conduit-sock-'));
const HEALTH = Buffer.concat([Buffer.from([0x01, 0x05, 0, 0]), Buffer.alloc(8)]);

async function healthOver(path: string): Promise<number | undefined> {
  const c = await rawClient(path);
  c.write(HEALTH);
  await c.waitFrames(1);
  c.destroy();
  return c.frames[0]?.opcode;
}

describe('--socket PATH removes only a stale socket (issue 15 item 4)', () => {
  it('a regular file at PATH is left untouched and listen() fails with ENOTSOCK naming the path', async () => {
    const path = join(dir(), 'data.txt');
    writeFileSync(path, 'precious');
    const server = new ConduitServer({ socket: path, tcp: false });
    await expect(server.listen()).rejects.toMatchObject({
      code: 'ENOTSOCK',
      path,
      message: `socket path ${path} is a regular file, not a socket: left untouched; choose another path or remove it`,
    });
    expect(readFileSync(path, 'utf8')).toBe('precious');
    await server.close();
  });

  it('a directory at PATH is left untouched and named as one', async () => {
    const path = join(dir(), 'sub');
    mkdirSync(path);
    const server = new ConduitServer({ socket: path, tcp: false });
    await expect(server.listen()).rejects.toMatchObject({ code: 'ENOTSOCK', message: expect.stringContaining('is a directory, not a socket') });
    expect(statSync(path).isDirectory()).toBe(true);
    await server.close();
  });

  it('a second server on a live socket fails with EADDRINUSE and opens no TCP port; the first keeps answering', async () => {
    const path = join(dir(), 'conduit.sock');
    await startServer({ socket: path, tcp: false });
    expect(await healthOver(path)).toBe(Status.OK);
    const second = new ConduitServer({ socket: path, port: 0 });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE', message: `socket path ${path} is in use: a server answers there; stop it or choose another path` });
    await second.close();
    expect(await healthOver(path)).toBe(Status.OK);
    expect(await healthOver(path)).toBe(Status.OK);
  });

  it('a stale socket file (its server was killed) is replaced', async () => {
    const path = join(dir(), 'stale.sock');
    // A server killed with SIGKILL leaves its socket file behind, refusing connections.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(path).isSocket()).toBe(true);
    await startServer({ socket: path, tcp: false });
    expect(await healthOver(path)).toBe(Status.OK);
  });

  it('conduit-server --socket on a regular file exits 1 with one line naming the path', async () => {
    const path = join(dir(), 'notes');
    writeFileSync(path, 'keep me');
    const { code, stderr } = await runServerToExit(['--socket', path, '--no-tcp']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([`conduit-server: cannot listen: socket path ${path} is a regular file, not a socket: left untouched; choose another path or remove it`]);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });
});
