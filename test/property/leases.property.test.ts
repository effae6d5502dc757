// Leases model test (spec §3.16): random LEASEs, lease sets (with live, spent, lapsed
// and other keys' tokens), plain SETs, DELETEs, INCRs and clock moves on a few keys,
// run through execute() over a store whose change hook feeds the lease table, as the
// server wires them; each answer is checked against a model of the rules: one live
// lease per absent key, a lease set stored only with its key's live token, any other
// change revoking it, a lapsed lease taken over.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLeaseAnswer, LeaseState, Status, Store, type Request } from '../../src/index.js';
import { viewOf } from '../../src/protocol/messages.js';
import { RequestView } from '../../src/protocol/request-reader.js';
import { execute, type ExecutionContext } from '../../src/server/execute.js';
import { LeaseTable } from '../../src/server/leases.js';
import { FakeClock } from '../support/fake-clock.js';

const KEYS = ['a', 'b', 'c'];
type Op =
  | { kind: 'lease'; key: number; leaseMs: number }
  | { kind: 'leaseSet'; key: number; token: number }
  | { kind: 'set' | 'delete' | 'incr'; key: number }
  | { kind: 'wait'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('lease' as const), key: fc.nat(2), leaseMs: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant('leaseSet' as const), key: fc.nat(2), token: fc.nat(20) }),
  fc.record({ kind: fc.constantFrom('set' as const, 'delete' as const, 'incr' as const), key: fc.nat(2) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 60 }) }),
);

describe('leases against a model (spec §3.16)', () => {
  it('every answer is the model’s', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = new FakeClock();
        const leases = new LeaseTable({ maxMemory: 1 << 22, clock: clock.read });
        const store = new Store({ maxMemory: 1 << 22, clock: clock.read, activeExpiry: false, onChange: (c) => leases.changed(c.cause, c.key, () => c.previousValue()) });
        const context: ExecutionContext = { store, leases, answersCopied: true, stats: () => Buffer.alloc(0), shutdown: () => ({ status: Status.FORBIDDEN, body: undefined }) };
        const run = (request: Request): { status: number; body: Buffer | undefined } => execute(viewOf(request, new RequestView()), context, 65_524);
        // The model: which keys hold a value, and each key's live lease.
        const present = new Set<number>();
        const live = new Map<number, { token: bigint; until: number }>();
        const tokens: bigint[] = []; // every token granted, any key
        try {
          for (const o of ops) {
            const key = Buffer.from(KEYS[(o as { key: number }).key ?? 0] as string);
            const k = (o as { key: number }).key;
            switch (o.kind) {
              case 'wait':
                clock.advance(o.ms);
                break;
              case 'lease': {
                const reply = run({ op: 'LEASE', key, leaseMs: o.leaseMs, staleOk: false });
                expect(reply.status).toBe(Status.OK);
                const answer = decodeLeaseAnswer(reply.body ?? Buffer.alloc(0));
                if (!('state' in answer)) throw answer;
                const lease = live.get(k);
                if (present.has(k)) expect(answer.state).toBe(LeaseState.HIT);
                else if (lease !== undefined && lease.until > clock.now) expect(answer.state).toBe(LeaseState.WAIT);
                else {
                  expect(answer.state).toBe(LeaseState.GRANTED);
                  expect(tokens).not.toContain(answer.token); // never reused
                  tokens.push(answer.token);
                  live.set(k, { token: answer.token, until: clock.now + o.leaseMs });
                }
                break;
              }
              case 'leaseSet': {
                const token = tokens[o.token % Math.max(tokens.length, 1)] ?? 1n;
                const reply = run({ op: 'SET', key, value: Buffer.from('filled'), ttlMs: 0, nx: false, xx: false, keepTtl: false, leaseToken: token });
                const lease = live.get(k);
                const wins = lease !== undefined && lease.token === token && lease.until > clock.now;
                expect(reply.status).toBe(wins ? Status.OK : Status.NOT_STORED);
                if (lease !== undefined && lease.token === token) live.delete(k); // used or lapsed: spent either way
                if (wins) present.add(k);
                break;
              }
              case 'set':
                expect(run({ op: 'SET', key, value: Buffer.from('7'), ttlMs: 0, nx: false, xx: false, keepTtl: false }).status).toBe(Status.OK);
                present.add(k);
                live.delete(k);
                break;
              case 'incr':
                // 'filled' is no integer: NOT_INTEGER changes nothing (and revokes nothing: there is no lease on a present key).
                run({ op: 'INCR', key, delta: 1n, ttlMs: 0 });
                if (!present.has(k)) present.add(k);
                live.delete(k);
                break;
              case 'delete':
                run({ op: 'DELETE', key });
                present.delete(k);
                live.delete(k);
                break;
            }
          }
          const outstanding = [...live.values()].filter((l) => l.until > clock.now).length;
          expect(leases.stats().outstanding).toBe(outstanding);
        } finally {
          store.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
