// Quiet writes (spec §2.5, issue 19 item 5) against a real server: random
// sequences of quiet and normal SET / DELETE / RENEW, pipelined in one turn,
// many of them failing (NX on a present key, XX or DELETE or RENEW on an
// absent one, a value larger than the store's whole budget: TOO_LARGE),
// sometimes with a normal GET
// among them. Every promise settles, with what a model of the store
// predicts, whatever mix of quiet and normal requests surrounds it.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConduitClient, ConduitError, type ClientOptions } from '../../src/index.js';
import { startServer } from '../support/server.js';

const key = { id: 'app', secret: randomBytes(32) };
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

type Op =
  | { kind: 'set'; key: string; quiet: boolean; cond: 'none' | 'nx' | 'xx'; big: boolean }
  | { kind: 'delete'; key: string; quiet: boolean }
  | { kind: 'renew'; key: string; quiet: boolean }
  | { kind: 'get'; key: string };

const keyArb = fc.constantFrom('a', 'b', 'c', 'd');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, quiet: fc.boolean(), cond: fc.constantFrom('none' as const, 'nx' as const, 'xx' as const), big: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, quiet: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renew' as const), key: keyArb, quiet: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
);

/** The server's budget is 64 KiB: a SET of this value needs more than it holds, so it is TOO_LARGE and changes nothing (spec §3.3). */
const BIG = Buffer.alloc(65_000, 7);
const MAX_MEMORY = 64 * 1024;

/** What the model says each op settles with: a value, or an error code. */
function model(ops: readonly Op[], present: Set<string>): unknown[] {
  return ops.map((op, i) => {
    const has = present.has(op.key);
    switch (op.kind) {
      case 'set':
        if ((op.cond === 'nx' && has) || (op.cond === 'xx' && !has)) return false;
        if (op.big) return 'TOO_LARGE';
        present.add(op.key);
        return true;
      case 'delete':
        present.delete(op.key);
        return has;
      case 'renew':
        return has;
      case 'get':
        return has ? `v${lastSet(ops, i, op.key)}` : undefined;
    }
  });
}

/** The value the latest stored SET of `k` before `i` wrote (the model knows the sets are small there). */
function lastSet(ops: readonly Op[], i: number, k: string): string {
  const values = new Map<string, string>();
  const present = new Set<string>();
  for (let j = 0; j < i; j += 1) {
    const op = ops[j] as Op;
    if (op.key !== k) continue;
    if (op.kind === 'set') {
      const has = present.has(k);
      if ((op.cond === 'nx' && has) || (op.cond === 'xx' && !has) || op.big) continue;
      present.add(k);
      values.set(k, String(j));
    } else if (op.kind === 'delete') present.delete(k);
  }
  return values.get(k) ?? '?';
}

function run(c: ConduitClient, ops: readonly Op[]): Promise<unknown>[] {
  return ops.map((op, i) => {
    switch (op.kind) {
      case 'set':
        return c.set(op.key, op.big ? BIG : `v${i}`, { quiet: op.quiet, nx: op.cond === 'nx', xx: op.cond === 'xx' });
      case 'delete':
        return c.delete(op.key, { quiet: op.quiet });
      case 'renew':
        return c.renew(op.key, 60_000, { quiet: op.quiet });
      case 'get':
        return c.getString(op.key);
    }
  });
}

const modes: { name: string; secure: boolean; options: ClientOptions }[] = [
  { name: 'plaintext', secure: false, options: {} },
  { name: 'secure envelopes', secure: true, options: { key } },
];

describe('quiet and normal writes in random sequences settle as the model says', () => {
  for (const mode of modes) {
    it(`${mode.name}: every promise settles, quiet or not, with the outcome of its write in order`, async () => {
      const { port } = await startServer({ maxMemory: MAX_MEMORY, eviction: 'none', ...(mode.secure ? { keys: [key] } : {}) });
      const c = new ConduitClient({ host: '127.0.0.1', port, reconnect: false, requestTimeoutMs: 30_000, maxInflight: 8, ...mode.options });
      clients.push(c);
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
          await c.flush();
          const outcomes = await Promise.all(run(c, ops).map((p) => p.then((v) => v, (err: unknown) => (err instanceof ConduitError ? err.code : err))));
          expect(outcomes).toEqual(model(ops, new Set()));
        }),
        { numRuns: 60 },
      );
    }, 120_000);
  }
});
