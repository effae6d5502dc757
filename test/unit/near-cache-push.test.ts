import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, Status, encodeResponse, type ClientOptions } from '../../src/index.js';
import { trackingFake, type TrackingFake } from '../support/tracking-fake.js';

// The near cache against a fake 1.3 server on a raw socket (issue 21): the order of answers and
// INVALIDATE pushes (spec §3.15, §2.3) is the test's, byte for byte.

const clients: ConduitClient[] = [];
function client(fake: TrackingFake, options: ClientOptions = { nearCache: {} }): ConduitClient {
  const c = new ConduitClient({ port: fake.port, reconnect: { baseDelayMs: 5, maxDelayMs: 20 }, ...options });
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const gets = (fake: TrackingFake): string[] => fake.requests.flatMap((r) => (r.op === 'GET' ? [r.key.toString()] : []));
const code = (err: unknown): string => (err instanceof ConduitError ? err.code : String(err));
const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !what(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(what()).toBe(true);
};

describe('near cache: TRACKING and hits', () => {
  it('sends TRACKING KEYS right after CAPS on connect, then answers a second get locally with a fresh copy', async () => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('v1'));
    const c = client(fake);
    const first = await c.get('k');
    expect(fake.requests.slice(0, 3).map((r) => r.op)).toEqual(['CAPS', 'TRACKING', 'GET']);
    expect(fake.requests[1]).toMatchObject({ mode: 1 });
    const second = (await c.get('k')) as Buffer;
    expect(second.toString()).toBe('v1');
    expect(second).not.toBe(first);
    expect(await c.getString('k')).toBe('v1');
    expect(gets(fake)).toEqual(['k']);
    expect(c.nearCacheStats()).toMatchObject({ state: 'on', hits: 2, misses: 1, entries: 1 });
  });

  it('sends TRACKING PREFIXES with the prefixes option', async () => {
    const fake = await trackingFake();
    const c = client(fake, { nearCache: { prefixes: ['user:', 'cart:'] } });
    await c.get('user:1');
    expect(fake.requests[1]).toMatchObject({ op: 'TRACKING', mode: 2, prefixes: [Buffer.from('user:'), Buffer.from('cart:')] });
  });

  it('a missing key is not kept: the next get asks again', async () => {
    const fake = await trackingFake();
    const c = client(fake);
    expect(await c.get('absent')).toBeUndefined();
    expect(await c.get('absent')).toBeUndefined();
    expect(gets(fake)).toEqual(['absent', 'absent']);
  });

  it('a server without TRACKING leaves the near cache off, says so once, and every get goes to the server', async () => {
    const fake = await trackingFake({ tracking: false });
    fake.values.set('k', Buffer.from('v'));
    const c = client(fake);
    const off: unknown[] = [];
    c.on('near-cache-off', (event) => off.push(event));
    await c.get('k');
    await c.get('k');
    expect(gets(fake)).toEqual(['k', 'k']);
    expect(c.nearCacheStats()).toMatchObject({ state: 'off', hits: 0, entries: 0 });
    fake.sockets.at(-1)?.destroy(); // a reconnect to the same server: not reported again
    await until(() => fake.requests.filter((r) => r.op === 'TRACKING').length === 2);
    await c.get('k');
    expect(off).toEqual([{ code: 'UNKNOWN_OPCODE', reason: expect.stringMatching(/does not support TRACKING/) }]);
  });

  it('a client without nearCache sends no TRACKING', async () => {
    const fake = await trackingFake();
    const c = client(fake, {});
    await c.get('k');
    expect(fake.requests.map((r) => r.op)).toEqual(['CAPS', 'GET']);
  });
});

describe('near cache: INVALIDATE pushes on the wire (spec §3.15)', () => {
  it('a push between two answers drops its key and settles nothing: both gets get their own answers', async () => {
    const fake = await trackingFake();
    fake.values.set('a', Buffer.from('A'));
    fake.values.set('b', Buffer.from('B'));
    const c = client(fake);
    await c.connect();
    const seen: unknown[] = [];
    c.on('invalidate', (keys) => seen.push(keys));
    fake.hold = (r) => r.op === 'GET';
    const [a, b] = [c.get('a'), c.get('b')];
    await until(() => fake.held.length === 2);
    fake.release([fake.push(['a'])], 1); // answer a, push a, answer b: one chunk
    expect([(await a)?.toString(), (await b)?.toString()]).toEqual(['A', 'B']);
    expect(seen).toEqual([[Buffer.from('a')]]);
    fake.hold = () => false;
    await c.get('a');
    await c.get('b');
    expect(gets(fake)).toEqual(['a', 'b', 'a']); // b was a hit, a asked again
    expect(c.nearCacheStats()).toMatchObject({ invalidations: 1, hits: 1 });
  });

  it('concurrent gets of one key send one GET and each caller gets its own copy', async () => {
    const fake = await trackingFake();
    fake.values.set('hot', Buffer.from('H'));
    const c = client(fake);
    await c.connect();
    await until(() => c.nearCacheStats().state === 'on'); // TRACKING acknowledged: before that nothing is kept or joined
    fake.hold = (r) => r.op === 'GET';
    const callers = [c.get('hot'), c.get('hot'), c.getString('hot')];
    await until(() => fake.held.length === 1);
    fake.release();
    const [a, b, text] = await Promise.all(callers);
    expect([a?.toString(), b?.toString(), text]).toEqual(['H', 'H', 'H']);
    expect(a).not.toBe(b);
    expect(gets(fake)).toEqual(['hot']);
  });

  it('a get that starts after a push for its key, or after a write of it, does not join the GET sent before: it asks anew', async () => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('old'));
    const c = client(fake);
    await c.connect();
    await until(() => c.nearCacheStats().state === 'on');
    const seen: unknown[] = [];
    c.on('invalidate', (keys) => seen.push(keys));
    fake.hold = (r) => r.op === 'GET';
    const before = c.get('k');
    await until(() => fake.held.length === 1);
    fake.values.set('k', Buffer.from('new'));
    fake.sockets.at(-1)?.write(fake.push(['k'])); // the change reached this client before the GET's answer
    await until(() => seen.length === 1);
    const after = c.get('k');
    await until(() => fake.held.length === 2); // a GET of its own, not the one in flight
    fake.release();
    expect((await before)?.toString()).toBe('old'); // the held answer was made before the change
    expect((await after)?.toString()).toBe('new');
    expect(gets(fake)).toEqual(['k', 'k']);
    fake.sockets.at(-1)?.write(fake.push(['k'])); // 'new' was kept: drop it, so the next get asks
    await until(() => seen.length === 2);
    fake.hold = (r) => r.op === 'GET' || r.op === 'SET'; // answers stay in request order
    const third = c.get('k');
    await until(() => fake.held.length === 1);
    const write = c.set('k', 'mine');
    const fourth = c.get('k');
    await until(() => fake.held.length === 3); // GET, SET, and a GET of its own: the write took the key out
    fake.release();
    await write;
    await Promise.all([third, fourth]);
    expect(gets(fake)).toEqual(['k', 'k', 'k', 'k']);
  });

  it('a push inside a burst of answers, before the answer it concerns, leaves that answer kept (it is newer)', async () => {
    const fake = await trackingFake();
    for (const k of ['x', 'y', 'z']) fake.values.set(k, Buffer.from(k.toUpperCase()));
    const c = client(fake);
    await c.connect();
    fake.hold = (r) => r.op === 'GET';
    const answers = ['x', 'y', 'z'].map((k) => c.get(k));
    await until(() => fake.held.length === 3);
    fake.release([fake.push(['y', 'z']), fake.push(['x'])], 1); // answer x, push y z, push x, answer y, answer z
    expect((await Promise.all(answers)).map(String)).toEqual(['X', 'Y', 'Z']);
    fake.hold = () => false;
    for (const k of ['x', 'y', 'z']) await c.get(k);
    expect(gets(fake)).toEqual(['x', 'y', 'z', 'x']);
  });

  it('an ALL push drops everything (a whole-cache drop) and says all', async () => {
    const fake = await trackingFake();
    fake.values.set('a', Buffer.from('A'));
    fake.values.set('b', Buffer.from('B'));
    const c = client(fake);
    await c.get('a');
    await c.get('b');
    const seen: unknown[] = [];
    c.on('invalidate', (keys) => seen.push(keys));
    fake.sockets.at(-1)?.write(fake.push('all'));
    await until(() => seen.length === 1);
    expect(seen).toEqual(['all']);
    expect(c.nearCacheStats()).toMatchObject({ entries: 0, drops: 1, invalidations: 1 });
    await c.get('a');
    expect(gets(fake)).toEqual(['a', 'b', 'a']);
  });

  it.each([
    ['an unknown kind', Buffer.from([7])],
    ['a count of 0', Buffer.from([0, 0, 0])],
    ['a count that disagrees with the keys', Buffer.from([0, 0, 2, 1, 0x61])],
    ['bytes after ALL', Buffer.from([1, 0])],
  ])('a malformed push (%s) breaks the connection: what was outstanding fails PROTOCOL_ERROR', async (_name, body) => {
    const fake = await trackingFake();
    const c = client(fake);
    await c.connect();
    fake.hold = (r) => r.op === 'GET';
    const pending = c.get('k').catch(code);
    await until(() => fake.held.length === 1);
    fake.held.length = 0;
    fake.sockets.at(-1)?.write(Buffer.concat(encodeResponse(2n ** 63n + 5n, Status.INVALIDATE, body)));
    expect(await pending).toBe('PROTOCOL_ERROR');
  });

  it('a client that did not turn tracking on treats a push as today: a protocol violation', async () => {
    const fake = await trackingFake();
    const c = client(fake, {});
    await c.connect();
    fake.hold = (r) => r.op === 'GET';
    const pending = c.get('k').catch(code);
    await until(() => fake.held.length === 1);
    fake.release([fake.push(['k'])], 0);
    expect(await pending).toBe('PROTOCOL_ERROR');
  });
});

describe('near cache: own writes and connections', () => {
  it.each([
    ['set', (c: ConduitClient) => c.set('k', 'new')],
    ['delete', (c: ConduitClient) => c.delete('k')],
    ['incr', (c: ConduitClient) => c.incr('k').catch(() => 0n)],
    ['renew', (c: ConduitClient) => c.renew('k', 1000)],
    ['getAndTouch', (c: ConduitClient) => c.getAndTouch('k', 1000)],
    ['a quiet set', (c: ConduitClient) => c.set('k', 'new', { quiet: true })],
    ['flush', (c: ConduitClient) => c.flush()],
  ])('%s drops its own entry when it is sent', async (name, write) => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('old'));
    const c = client(fake);
    await c.get('k');
    const writing = write(c);
    expect(c.nearCacheStats().entries).toBe(0); // at once, before any answer
    await writing;
    const after = await c.get('k');
    if (name === 'set') {
      // A stored set puts the value it wrote back (spec §3.15: the server tracks the writer): a hit.
      // Not a quiet one: it settles at a later fence, after pushes for changes made since.
      expect(after?.toString()).toBe('new');
      expect(gets(fake)).toEqual(['k']);
    } else {
      expect(gets(fake)).toEqual(['k', 'k']);
    }
  });

  it('a set answered OK and a push for a later change in the same chunk: the push wins (the fill is in the decoder)', async () => {
    const fake = await trackingFake();
    const c = client(fake);
    await c.connect();
    await until(() => c.nearCacheStats().state === 'on');
    fake.hold = (r) => r.op === 'SET';
    const write = c.set('k', 'mine');
    await until(() => fake.held.length === 1);
    fake.values.set('k', Buffer.from('theirs')); // another client's change, executed after this SET
    fake.release([fake.push(['k'])]); // OK, then the push: one chunk
    expect(await write).toBe(true);
    fake.hold = () => false;
    expect((await c.get('k'))?.toString()).toBe('theirs');
    expect(gets(fake)).toEqual(['k']);
  });

  it('a write sent before a GET answer arrives wins over that answer (the answer is not kept)', async () => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('old'));
    const c = client(fake);
    await c.connect();
    fake.hold = (r) => r.op === 'GET' || r.op === 'DELETE';
    const read = c.get('k'); // executed before the DELETE: answers 'old'
    const write = c.delete('k');
    await until(() => fake.held.length === 2);
    fake.release(); // no push at all: only the rule keeps 'old' out
    expect((await read)?.toString()).toBe('old');
    await write;
    fake.hold = () => false;
    expect(await c.get('k')).toBeUndefined();
    expect(gets(fake)).toEqual(['k', 'k']);
  });

  it('a lost connection drops everything, and the new one asks for tracking again before any other request', async () => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('v'));
    const c = client(fake);
    await c.get('k');
    expect(c.nearCacheStats().entries).toBe(1);
    fake.sockets.at(-1)?.destroy();
    await until(() => c.nearCacheStats().drops === 1);
    // Only the drop: with a 5 ms reconnect the new connection may already have tracking back on ('off' was racy).
    expect(c.nearCacheStats().entries).toBe(0);
    await until(() => fake.sockets.length === 2);
    await c.get('k');
    const second = fake.requests.slice(fake.requests.map((r) => r.op).lastIndexOf('CAPS'));
    expect(second.map((r) => r.op)).toEqual(['CAPS', 'TRACKING', 'GET']);
    expect(c.nearCacheStats()).toMatchObject({ state: 'on', entries: 1 });
  });

  it('close drops everything', async () => {
    const fake = await trackingFake();
    fake.values.set('k', Buffer.from('v'));
    const c = client(fake);
    await c.get('k');
    await c.close();
    expect(c.nearCacheStats()).toMatchObject({ entries: 0, drops: 1 });
  });
});
