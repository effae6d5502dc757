// Issue 18 on real sockets: --max-handshakes-per-second answers the HELLOs of one
// address past its burst with BUSY (spec §6.2), before any key work, and counts them;
// a healthy client connects again once the bucket has refilled.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, generateEphemeral, Status } from '../../src/index.js';
import { helloFrame } from '../../src/crypto/secure-channel.js';
import { HELLO_REPLY_SIZE } from '../../src/crypto/handshake.js';
import { rawClient, startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens `n` raw connections from 127.0.0.1, each sending one HELLO naming `keyId`; their first answers. */
async function flood(port: number, n: number, keyId = 'app'): Promise<{ status: number; id: bigint; body: Buffer }[]> {
  const raws = await Promise.all(Array.from({ length: n }, () => rawClient(port)));
  for (const raw of raws) raw.write(helloFrame(keyId, generateEphemeral().publicKey, 7n));
  await Promise.all(raws.map((raw) => raw.waitFrames(1)));
  return raws.map((raw) => {
    const frame = raw.frames[0];
    if (frame === undefined) throw new Error('no answer');
    return { status: frame.opcode, id: frame.id, body: frame.body };
  });
}

describe('--max-handshakes-per-second (issue 18, spec §6.2)', () => {
  it('a flood of HELLOs from one address gets BUSY past the burst, counted in STATS and /metrics; a healthy client connects after the window', async () => {
    const { server, port } = await startServer({ keys: [key], maxHandshakesPerSecond: 5, httpPort: 0 });
    const answers = await flood(port, 12);
    const ok = answers.filter((a) => a.status === Status.OK);
    const busy = answers.filter((a) => a.status === Status.BUSY);
    expect(ok).toHaveLength(5);
    expect(ok.every((a) => a.body.length === HELLO_REPLY_SIZE && a.id === 7n)).toBe(true);
    expect(busy).toHaveLength(7);
    // A request-level BUSY (§4): the HELLO's own identifier, a plaintext message, no server key.
    expect(busy.every((a) => a.id === 7n && a.body.toString() === 'too many handshakes from this address; retry later')).toBe(true);
    expect(server.counters.rejected_handshakes).toBe(7);
    expect(server.counters.auth_failures).toBe(0);
    const text = await server.metrics?.registry.metrics();
    expect(text?.split('\n')).toContain('conduit_handshakes_rejected_total 7');

    // While the bucket is empty the reference client fails connect with BUSY…
    const early = new ConduitClient({ port, key, reconnect: false });
    clients.push(early);
    await expect(early.connect()).rejects.toMatchObject({ code: 'BUSY' });
    // …and once it has refilled (5 a second: a second at most), a healthy client connects and works.
    await sleep(1_100);
    const healthy = new ConduitClient({ port, key, reconnect: false });
    clients.push(healthy);
    await healthy.connect();
    await healthy.set('k', 'v');
    expect(await healthy.getString('k')).toBe('v');
    const stats = await healthy.stats();
    expect(stats.rejected_handshakes).toBe(8);
  });

  it('the limit comes before the key lookup: past the burst, unknown key ids get BUSY, not AUTH_FAILED, and the connection stays open for a later HELLO', async () => {
    // One a second: the bucket stays empty for a second after the flood, ample for the next HELLO.
    const { server, port } = await startServer({ keys: [key], maxHandshakesPerSecond: 1 });
    const answers = await flood(port, 3, 'nobody');
    expect(answers.map((a) => a.status).sort()).toEqual([Status.BUSY, Status.BUSY, Status.AUTH_FAILED].sort());
    expect(server.counters.rejected_handshakes).toBe(2);
    // A BUSY connection still awaits HELLO (it is not fatal): after the window it can handshake.
    const raw = await rawClient(port);
    raw.write(helloFrame('app', generateEphemeral().publicKey));
    await raw.waitFrames(1);
    expect(raw.frames[0]?.opcode).toBe(Status.BUSY);
    await sleep(1_100);
    raw.write(helloFrame('app', generateEphemeral().publicKey));
    await raw.waitFrames(2);
    expect(raw.frames[1]).toMatchObject({ opcode: Status.OK, id: 0n });
    expect(raw.closed).toBe(false);
  });

  it('0 turns the limit off: 40 HELLOs at once all get OK', async () => {
    const { server, port } = await startServer({ keys: [key], maxHandshakesPerSecond: 0 });
    const answers = await flood(port, 40);
    expect(answers.every((a) => a.status === Status.OK)).toBe(true);
    expect(server.counters.rejected_handshakes).toBe(0);
  });

  it('the default lets a pool of 100 connections reconnecting at once through', async () => {
    const { server, port } = await startServer({ keys: [key] });
    const answers = await flood(port, 100);
    expect(answers.filter((a) => a.status === Status.OK)).toHaveLength(100);
    expect(server.counters.rejected_handshakes).toBe(0);
  });
});
