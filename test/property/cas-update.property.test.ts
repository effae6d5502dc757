// CAS model test (issue 19 item 2): concurrent update() loops on one counter
// lose no increment. First over the store with fast-check's scheduler, which
// interleaves every read and write of several updaters in every order it
// tries; then on real sockets, several ConduitClients against one server.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, Store } from '../../src/index.js';
import { updateLoop, type VersionedOps } from '../../src/client/versioned.js';
import { startServer } from '../support/server.js';

const counter = Buffer.from('counter');
const plusOne = (old: Buffer | undefined): Buffer => Buffer.from(String(Number(old?.toString() ?? '0') + 1));

describe('update() over the store, every interleaving fast-check tries', () => {
  it('n updaters × m increments leave the counter at n·m, each write applied exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), async (s, updaters, increments) => {
        const store = new Store({ activeExpiry: false, maxMemory: 4 * 1024 * 1024 });
        try {
          // Each read and write is a scheduled task: the scheduler decides which updater goes next.
          const ops: VersionedOps = {
            read: (key) =>
              s.schedule(Promise.resolve(), 'read').then(() => {
                const r = store.getWithVersion(key);
                return r && { value: r.value, version: BigInt(r.version) };
              }),
            write: (key, value, version) =>
              s.schedule(Promise.resolve(), 'write').then(
                () => store.set(key, value, version === undefined ? { nx: true } : { version: Number(version) }) === 'stored',
              ),
          };
          const loops = Array.from({ length: updaters }, async () => {
            for (let i = 0; i < increments; i += 1) await updateLoop(ops, counter, plusOne, 1000);
          });
          await s.waitFor(Promise.all(loops));
          expect(store.get(counter)?.toString()).toBe(String(updaters * increments));
        } finally {
          store.close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a broken write that ignores the version loses increments (the property can fail)', async () => {
    const store = new Store({ activeExpiry: false, maxMemory: 4 * 1024 * 1024 });
    try {
      const ops: VersionedOps = {
        read: async (key) => {
          const r = store.getWithVersion(key);
          return r && { value: r.value, version: BigInt(r.version) };
        },
        write: async (key, value) => store.set(key, value) === 'stored',
      };
      await Promise.all(Array.from({ length: 4 }, () => updateLoop(ops, counter, plusOne, 10)));
      expect(Number(store.get(counter)?.toString())).toBeLessThan(4);
    } finally {
      store.close();
    }
  });
});

const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

describe('update() on real sockets', () => {
  it.each([
    ['plaintext', false],
    ['secure mode with sealed envelopes', true],
  ])('several clients × concurrent update() loops on one counter, %s: no increment lost', async (_name, secure) => {
    const key = { id: 'app', secret: randomBytes(32) };
    const { port } = await startServer(secure ? { keys: [key] } : {});
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 5, max: 20 }), async (nClients, loopsEach, increments) => {
        const name = `counter:${randomBytes(6).toString('hex')}`;
        const cs = Array.from({ length: nClients }, () => new ConduitClient({ port, ...(secure ? { key } : {}) }));
        clients.push(...cs);
        await Promise.all(cs.map((c) => c.connect()));
        await Promise.all(
          cs.flatMap((c) =>
            Array.from({ length: loopsEach }, async () => {
              for (let i = 0; i < increments; i += 1) await c.update(name, plusOne, { attempts: 1000 });
            }),
          ),
        );
        expect((await cs[0]!.get(name))?.toString()).toBe(String(nClients * loopsEach * increments));
        for (const c of cs) c.destroy();
      }),
      { numRuns: 5 },
    );
  });
});
