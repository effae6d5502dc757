// Regression (issue 15 item 1): the executor sized LIST, STATS and GET answers for plaintext
// frames; in a secure session each body grows by the 16-byte tag (spec §6.4).
import { describe, expect, it } from 'vitest';
import { MAX_BODY_SIZE, Status, Store, TAG_SIZE } from '../../src/index.js';
import { execute, type ExecutionContext } from '../../src/server/execute.js';

const SECURE_CAP = MAX_BODY_SIZE - TAG_SIZE;
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };

function context(store: Store): ExecutionContext & { asked: number[] } {
  const asked: number[] = [];
  return {
    store,
    asked,
    stats: (maxBytes) => {
      asked.push(maxBytes);
      return Buffer.alloc(Math.min(maxBytes, 10));
    },
    shutdown: () => ({ status: Status.FORBIDDEN, body: undefined }),
  };
}

describe('regression: answers sized for plaintext in secure mode', () => {
  it.each([MAX_BODY_SIZE, SECURE_CAP])('LIST fills but never passes a body cap of %i bytes', (cap) => {
    const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 4, eviction: 'lru' });
    for (let i = 0; i < 1_200; i += 1) store.set(Buffer.from(`k${String(i).padStart(4, '0')}`.padEnd(69, 'x')), Buffer.from('v'), options);
    const reply = execute({ op: 'LIST', prefix: Buffer.alloc(0), limit: 65_535 }, context(store), cap);
    expect(reply.status).toBe(Status.OK);
    expect(reply.body?.length).toBe(1 + Math.floor((cap - 1) / 70) * 70);
    expect(reply.body?.[0]).toBe(1);
  });

  it('STATS is asked for a body within the connection cap', () => {
    const ctx = context(new Store({ maxMemory: 1024 * 1024, shards: 1, eviction: 'lru' }));
    execute({ op: 'STATS' }, ctx, SECURE_CAP);
    expect(ctx.asked).toEqual([SECURE_CAP]);
  });

  it('GET of a value larger than the cap is a non-fatal TOO_LARGE with a message; one that fits is OK', () => {
    const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 1, eviction: 'lru' });
    store.set(Buffer.from('big'), Buffer.alloc(SECURE_CAP + 1), options);
    store.set(Buffer.from('fit'), Buffer.alloc(SECURE_CAP), options);
    const big = execute({ op: 'GET', key: Buffer.from('big') }, context(store), SECURE_CAP);
    expect(big.status).toBe(Status.TOO_LARGE);
    expect(big.body?.toString()).toBe(`answer of ${SECURE_CAP + 1} bytes does not fit in one frame (at most ${SECURE_CAP} here)`);
    expect(execute({ op: 'GET', key: Buffer.from('big') }, context(store), MAX_BODY_SIZE).body?.length).toBe(SECURE_CAP + 1);
    expect(execute({ op: 'GET', key: Buffer.from('fit') }, context(store), SECURE_CAP).body?.length).toBe(SECURE_CAP);
  });
});
