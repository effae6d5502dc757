// Regression (issue 15 item 1): the executor sized LIST, STATS and GET answers for plaintext
// frames; in a secure session each body grows by the 16-byte tag (spec §6.4).
import { describe, expect, it } from 'vitest';
import { MAX_BODY_SIZE, Status, Store, TAG_SIZE, type Request } from '../../src/index.js';
import { viewOf } from '../../src/protocol/messages.js';
import { RequestView } from '../../src/protocol/request-reader.js';
import { execute as executeView, type ExecutionContext } from '../../src/server/execute.js';

/** The executor runs a RequestView; these tests write plain requests. */
const execute = (request: Request, ctx: ExecutionContext, cap: number) => executeView(viewOf(request, new RequestView()), ctx, cap);

const SECURE_CAP = MAX_BODY_SIZE - TAG_SIZE;
const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };

function context(store: Store): ExecutionContext & { asked: number[] } {
  const asked: number[] = [];
  return {
    store,
    answersCopied: false,
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

describe('execute maps the store outcomes to wire statuses (spec §3.3, §3.8)', () => {
  const refusals = {
    TOO_LARGE: 'item is larger than the memory budget can hold (--max-memory)',
    OUT_OF_MEMORY: 'store is full and eviction is off',
    NOT_INTEGER: 'value is not an integer or the result is out of range',
  };
  const answer = (store: Store, request: Request): [number, string | undefined] => {
    const reply = execute(request, context(store), MAX_BODY_SIZE);
    return [reply.status, reply.body?.toString()];
  };

  it('SET: stored → OK, not_stored → NOT_STORED (empty), too_large and out_of_memory → their status and message', () => {
    const store = new Store({ maxMemory: 4 * 1024, shards: 1, eviction: 'none', activeExpiry: false });
    // 4 KiB: 14 pages of 256 B (pageSizeFor); a 1,000-byte value is a large object of 5 pages.
    const set = (key: string, value: Buffer, nx = false): Request => ({ op: 'SET', key: Buffer.from(key), value, ...options, nx });
    expect(answer(store, set('a', Buffer.alloc(1_000)))).toEqual([Status.OK, undefined]);
    expect(answer(store, set('a', Buffer.alloc(1), true))).toEqual([Status.NOT_STORED, undefined]);
    expect(answer(store, set('big', Buffer.alloc(8_000)))).toEqual([Status.TOO_LARGE, refusals.TOO_LARGE]);
    expect(answer(store, set('b', Buffer.alloc(1_000)))).toEqual([Status.OK, undefined]);
    // Two items of 5 pages leave 4 of the 14: a third does not fit.
    expect(answer(store, set('c', Buffer.alloc(1_000)))).toEqual([Status.OUT_OF_MEMORY, refusals.OUT_OF_MEMORY]);
    store.close();
  });

  it('INCR: a value, or not_integer and overflow both → NOT_INTEGER with one message', () => {
    const store = new Store({ maxMemory: 1024 * 1024, shards: 1, activeExpiry: false });
    const incr = (key: string, delta: bigint): Request => ({ op: 'INCR', key: Buffer.from(key), delta, ttlMs: 0 });
    const reply = execute(incr('n', 41n), context(store), MAX_BODY_SIZE);
    expect([reply.status, reply.body?.readBigInt64BE(0)]).toEqual([Status.OK, 41n]);
    store.set(Buffer.from('text'), Buffer.from('abc'), options);
    expect(store.incr(Buffer.from('text'), 1n)).toBe('not_integer');
    expect(answer(store, incr('text', 1n))).toEqual([Status.NOT_INTEGER, refusals.NOT_INTEGER]);
    store.set(Buffer.from('max'), Buffer.from('9223372036854775807'), options);
    expect(store.incr(Buffer.from('max'), 1n)).toBe('overflow');
    expect(answer(store, incr('max', 1n))).toEqual([Status.NOT_INTEGER, refusals.NOT_INTEGER]);
    store.close();
  });

  it('GET: a copy for the HTTP gateway, a view only for a caller that copies answers at once', () => {
    const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 1, activeExpiry: false });
    const get: Request = { op: 'GET', key: Buffer.from('k') };
    store.set(Buffer.from('k'), Buffer.from('old'), options);
    const copy = execute(get, context(store), MAX_BODY_SIZE).body;
    const view = execute(get, { ...context(store), answersCopied: true }, MAX_BODY_SIZE).body;
    store.set(Buffer.from('k'), Buffer.from('new'), options); // same size: overwritten in its chunk
    expect(copy?.toString()).toBe('old'); // the gateway's body outlives later writes
    expect(view?.toString()).toBe('new'); // a view: why a connection must copy it when it queues it
    store.close();
  });
});
