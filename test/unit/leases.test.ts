import { describe, expect, it } from 'vitest';
import { LeaseTable, MAX_LEASE_MS, MAX_LEASES_PER_OWNER, STALE_BYTES_DIVISOR, type ChangeCause } from '../../src/server/leases.js';
import { FakeClock } from '../support/fake-clock.js';
import { encodeLeaseHead, LeaseState, Status } from '../../src/index.js';
import { leaseAnsweredValue, type Reply } from '../../src/server/execute.js';

// spec §3.16: the lease table alone, on a fake clock (execute.ts asks the store first,
// so every key given to acquire() here stands for an absent one).

const key = Buffer.from('user:1');
const MiB = 1024 * 1024;

function table(clock = new FakeClock(), options: Partial<ConstructorParameters<typeof LeaseTable>[0]> = {}): LeaseTable {
  return new LeaseTable({ maxMemory: 64 * MiB, clock: clock.read, ...options });
}

function granted(leases: LeaseTable, k = key, leaseMs = 1_000): bigint {
  const outcome = leases.acquire(k, leaseMs, false);
  if (outcome.state !== 'granted') throw new Error(`expected granted, got ${outcome.state}`);
  return outcome.token;
}

describe('LeaseTable (spec §3.16)', () => {
  it('grants one caller a non-zero token; the others wait until it sets', () => {
    const leases = table();
    const token = granted(leases);
    expect(token).not.toBe(0n);
    expect(leases.acquire(key, 1_000, false)).toEqual({ state: 'wait' });
    expect(leases.acquire(key, 1_000, true)).toEqual({ state: 'wait' }); // no stale value kept
    expect(leases.fulfil(key, token)).toBe(true);
    expect(leases.stats()).toMatchObject({ outstanding: 0, granted: 1, waits: 2, fulfilled: 1, refused: 0 });
  });

  it('each token is drawn at random (not counted up from the last), never 0 (attack review: a client could guess the next grant)', () => {
    const leases = table(new FakeClock(), { maxLeases: 2_000, maxLeasesPerOwner: 2_000 });
    const tokens = Array.from({ length: 1_000 }, (_, i) => granted(leases, Buffer.from(`k${i}`)));
    expect(tokens).not.toContain(0n);
    expect(new Set(tokens).size).toBe(1_000);
    for (let i = 1; i < tokens.length; i += 1) {
      const delta = (tokens[i] as bigint) - (tokens[i - 1] as bigint);
      expect(delta < 0n ? -delta : delta).toBeGreaterThan(1n << 32n); // 2^-31 per pair to fail by chance
    }
  });

  it('a drawn 0 is drawn again (spec §3.16: a token is never 0)', () => {
    let fills = 0;
    // The first pool is all zeros but for its last token; later pools count 1, 2, …
    const random = (buffer: Buffer): void => {
      fills += 1;
      buffer.fill(0);
      buffer.writeBigUInt64BE(BigInt(fills), buffer.length - 8);
    };
    const leases = table(new FakeClock(), { random });
    expect(granted(leases, Buffer.from('a'))).toBe(1n);
    expect(granted(leases, Buffer.from('b'))).toBe(2n);
    expect(fills).toBe(2);
  });

  it('a set with a wrong or spent token is refused (a stale set)', () => {
    const leases = table();
    const token = granted(leases);
    expect(leases.fulfil(key, token + 1n)).toBe(false);
    expect(leases.fulfil(key, token)).toBe(true);
    expect(leases.fulfil(key, token)).toBe(false); // the lease ended with its set
    expect(leases.fulfil(Buffer.from('other'), token)).toBe(false);
    expect(leases.stats()).toMatchObject({ fulfilled: 1, refused: 3 });
  });

  it.each<ChangeCause>(['set', 'delete', 'incr', 'renew', 'gat', 'expired', 'evicted'])('a %s of the key revokes its lease', (cause) => {
    const leases = table();
    const token = granted(leases);
    leases.changed(cause, key, () => undefined);
    expect(leases.fulfil(key, token)).toBe(false);
    expect(leases.stats()).toMatchObject({ outstanding: 0, revoked: 1, refused: 1 });
    expect(leases.acquire(key, 1_000, false).state).toBe('granted'); // the next caller fills it
  });

  it('a DELETE revokes the lease though the key is absent (the store reports no removal then)', () => {
    const leases = table();
    const token = granted(leases);
    leases.deleted(Buffer.from('other'));
    leases.deleted(key);
    expect(leases.fulfil(key, token)).toBe(false);
    expect(leases.stats()).toMatchObject({ revoked: 1, refused: 1 });
  });

  it('a flush revokes every lease; a change of another key revokes none', () => {
    const leases = table();
    const a = granted(leases, Buffer.from('a'));
    const b = granted(leases, Buffer.from('b'));
    leases.changed('delete', Buffer.from('c'), () => undefined);
    expect(leases.stats()).toMatchObject({ outstanding: 2, revoked: 0 });
    leases.changed('flush', undefined, () => undefined);
    expect(leases.fulfil(Buffer.from('a'), a)).toBe(false);
    expect(leases.fulfil(Buffer.from('b'), b)).toBe(false);
    expect(leases.stats()).toMatchObject({ outstanding: 0, revoked: 2 });
  });

  it('a lapsed lease is taken over by the next caller; the old token then loses', () => {
    const clock = new FakeClock();
    const leases = table(clock);
    const old = granted(leases, key, 300);
    clock.advance(299);
    expect(leases.acquire(key, 300, false).state).toBe('wait');
    clock.advance(1);
    const fresh = granted(leases, key, 300);
    expect(fresh).not.toBe(old);
    expect(leases.fulfil(key, old)).toBe(false);
    expect(leases.fulfil(key, fresh)).toBe(true);
    expect(leases.stats()).toMatchObject({ granted: 2, expired: 1, refused: 1, fulfilled: 1 });
  });

  it('a set with a lapsed token that no one took over is still refused', () => {
    const clock = new FakeClock();
    const leases = table(clock);
    const token = granted(leases, key, 300);
    clock.advance(300);
    expect(leases.fulfil(key, token)).toBe(false);
    expect(leases.stats()).toMatchObject({ outstanding: 0, expired: 1, refused: 1 });
  });

  it('keeps a lease-filled key’s previous value when it is deleted or expires, and serves it STALE while a lease is out', () => {
    const clock = new FakeClock();
    for (const cause of ['delete', 'expired'] as const) {
      const leases = table(clock);
      expect(leases.fulfil(key, granted(leases))).toBe(true);
      leases.filled(key);
      leases.changed(cause, key, () => Buffer.from('old'));
      const token = granted(leases); // the first caller after the removal computes
      expect(leases.acquire(key, 1_000, true)).toEqual({ state: 'stale', value: Buffer.from('old') });
      expect(leases.acquire(key, 1_000, false)).toEqual({ state: 'wait' }); // without STALE_OK
      expect(leases.fulfil(key, token)).toBe(true);
      expect(leases.stats()).toMatchObject({ stale_served: 1, stale_values: 1, stale_bytes: 3 });
    }
  });

  it('keeps no previous value for a key a plain SET stored, nor after eviction; a new value drops the kept one', () => {
    const leases = table();
    leases.changed('delete', key, () => Buffer.from('plain')); // never lease-filled
    granted(leases);
    expect(leases.acquire(key, 1_000, true).state).toBe('wait');

    const evicted = table();
    evicted.filled(key);
    evicted.changed('evicted', key, () => Buffer.from('old'));
    granted(evicted);
    expect(evicted.acquire(key, 1_000, true).state).toBe('wait');

    const rewritten = table();
    rewritten.filled(key);
    rewritten.changed('delete', key, () => Buffer.from('old'));
    rewritten.changed('set', key, () => undefined); // a plain SET: live again, not lease-filled
    granted(rewritten);
    expect(rewritten.acquire(key, 1_000, true).state).toBe('wait');
    expect(rewritten.stats()).toMatchObject({ stale_values: 0, stale_bytes: 0 });
  });

  it('a renew or gat keeps the key lease-filled', () => {
    const leases = table();
    leases.filled(key);
    leases.changed('renew', key, () => Buffer.from('v'));
    leases.changed('gat', key, () => Buffer.from('v'));
    leases.changed('delete', key, () => Buffer.from('v'));
    granted(leases);
    expect(leases.acquire(key, 1_000, true).state).toBe('stale');
  });

  it('a stale value is kept for its window only', () => {
    const clock = new FakeClock();
    const leases = table(clock, { staleWindowMs: 500 });
    leases.filled(key);
    leases.changed('delete', key, () => Buffer.from('old'));
    granted(leases, key, 10_000);
    clock.advance(499);
    expect(leases.acquire(key, 1_000, true).state).toBe('stale');
    clock.advance(1);
    expect(leases.acquire(key, 1_000, true).state).toBe('wait');
    expect(leases.stats()).toMatchObject({ stale_values: 0, stale_bytes: 0 });
  });

  it('answers BUSY past the lease bound, and grants again once a lease lapses', () => {
    const clock = new FakeClock();
    const leases = table(clock, { maxLeases: 2 });
    granted(leases, Buffer.from('a'), 100);
    granted(leases, Buffer.from('b'), 200);
    expect(leases.acquire(Buffer.from('c'), 100, false)).toEqual({ state: 'busy' });
    expect(leases.acquire(Buffer.from('a'), 100, false)).toEqual({ state: 'wait' }); // a key with a lease still answers
    clock.advance(100);
    expect(leases.acquire(Buffer.from('c'), 100, false).state).toBe('granted');
    expect(leases.stats()).toMatchObject({ outstanding: 2, busy: 1, expired: 1 });
  });

  it('at the bound, a lease granted after a sweep with a shorter lease_ms is swept when it lapses', () => {
    const clock = new FakeClock();
    const leases = table(clock, { maxLeases: 2 });
    granted(leases, Buffer.from('a'), 1_000);
    granted(leases, Buffer.from('b'), 1_000);
    expect(leases.acquire(Buffer.from('c'), 100, false).state).toBe('busy'); // swept: nothing lapses before 1,000 ms
    leases.deleted(Buffer.from('b'));
    granted(leases, Buffer.from('c'), 10); // lapses long before a
    clock.advance(10);
    expect(leases.acquire(Buffer.from('d'), 100, false).state).toBe('granted');
  });

  it('one owner holds at most its share of the bound: past it only its LEASE is BUSY (attack review: one client held every cold key)', () => {
    const clock = new FakeClock();
    const leases = table(clock, { maxLeases: 10, maxLeasesPerOwner: 3 });
    for (const name of ['a', 'b', 'c']) expect(leases.acquire(Buffer.from(name), 1_000, false, 1).state).toBe('granted');
    expect(leases.acquire(Buffer.from('d'), 1_000, false, 1)).toEqual({ state: 'busy' });
    expect(leases.acquire(Buffer.from('d'), 1_000, false, 2).state).toBe('granted'); // another owner is unaffected
    expect(leases.acquire(Buffer.from('e'), 1_000, false)).toMatchObject({ state: 'granted' }); // no owner: not counted per owner
    expect(leases.acquire(Buffer.from('a'), 1_000, false, 1)).toEqual({ state: 'wait' }); // a key with a lease still answers
    // A lease that ends (set, revoked, lapsed) gives its owner room again.
    const c = leases.acquire(Buffer.from('c'), 1_000, false, 2);
    expect(c.state).toBe('wait');
    leases.deleted(Buffer.from('a'));
    expect(leases.acquire(Buffer.from('f'), 1_000, false, 1).state).toBe('granted');
    expect(leases.acquire(Buffer.from('g'), 1_000, false, 1)).toEqual({ state: 'busy' });
    clock.advance(1_000);
    expect(leases.acquire(Buffer.from('g'), 1_000, false, 1).state).toBe('granted'); // swept: its lapsed leases left its share
    expect(leases.stats()).toMatchObject({ busy: 2, revoked: 1 });
  });

  it('an owner\'s close ends its leases at once: their keys are granted to others, their tokens\' sets are NOT_STORED', () => {
    const leases = table(new FakeClock(), { maxLeasesPerOwner: 2 });
    const a = leases.acquire(Buffer.from('a'), 60_000, false, 7);
    const b = leases.acquire(Buffer.from('b'), 60_000, false, 7);
    const other = granted(leases, Buffer.from('c'));
    if (a.state !== 'granted' || b.state !== 'granted') throw new Error('expected grants');
    expect(leases.acquire(Buffer.from('x'), 60_000, false, 7).state).toBe('busy');
    leases.release(7);
    leases.release(7); // twice, or an owner with none: nothing
    leases.release(99);
    expect(leases.stats()).toMatchObject({ outstanding: 1, revoked: 2, expired: 0 });
    expect(leases.fulfil(Buffer.from('a'), a.token)).toBe(false);
    expect(leases.acquire(Buffer.from('b'), 1_000, false, 8).state).toBe('granted');
    expect(leases.fulfil(Buffer.from('c'), other)).toBe(true); // another owner's lease stands
    expect(leases.acquire(Buffer.from('x'), 60_000, false, 7).state).toBe('granted'); // a reused id starts with no share used
  });

  it('a flush ends every owner\'s share too', () => {
    const leases = table(new FakeClock(), { maxLeasesPerOwner: 1 });
    expect(leases.acquire(Buffer.from('a'), 1_000, false, 1).state).toBe('granted');
    leases.changed('flush', undefined, () => undefined);
    expect(leases.acquire(Buffer.from('b'), 1_000, false, 1).state).toBe('granted');
  });

  it('caps lease_ms at MAX_LEASE_MS: a longer lease is granted for the cap (spec §3.16: a server may shorten it)', () => {
    const clock = new FakeClock();
    const leases = table(clock);
    const token = granted(leases, key, 0xffff_ffff);
    clock.advance(MAX_LEASE_MS - 1);
    expect(leases.acquire(key, 1_000, false)).toEqual({ state: 'wait' });
    clock.advance(1);
    expect(leases.acquire(key, 1_000, false).state).toBe('granted'); // taken over after 300 s, not 49.7 days
    expect(leases.fulfil(key, token)).toBe(false);
    const short = table(clock, { maxLeaseMs: 50 });
    granted(short, key, 10_000);
    clock.advance(50);
    expect(short.acquire(key, 1_000, false).state).toBe('granted');
    expect(MAX_LEASE_MS).toBe(300_000);
    expect(MAX_LEASES_PER_OWNER).toBe(1_024);
  });

  it('bounds stale values by count and by bytes (maxMemory / 16), dropping the oldest', () => {
    const byCount = table(new FakeClock(), { maxStaleValues: 2 });
    for (const name of ['a', 'b', 'c']) {
      byCount.filled(Buffer.from(name));
      byCount.changed('delete', Buffer.from(name), () => Buffer.from(name));
    }
    expect(byCount.stats()).toMatchObject({ stale_values: 2, stale_bytes: 2 });
    granted(byCount, Buffer.from('a'));
    expect(byCount.acquire(Buffer.from('a'), 1_000, true).state).toBe('wait'); // the oldest went
    granted(byCount, Buffer.from('c'));
    expect(byCount.acquire(Buffer.from('c'), 1_000, true).state).toBe('stale');

    const maxMemory = 16 * 1024;
    const cap = maxMemory / STALE_BYTES_DIVISOR;
    const byBytes = table(new FakeClock(), { maxMemory });
    for (const [name, size] of [['x', cap], ['y', cap / 2], ['z', cap + 1]] as const) {
      byBytes.filled(Buffer.from(name));
      byBytes.changed('delete', Buffer.from(name), () => Buffer.alloc(size));
    }
    // x (cap) was dropped for y; z (over the cap on its own) was never kept.
    expect(byBytes.stats()).toMatchObject({ stale_values: 1, stale_bytes: cap / 2 });
  });

  it('remembers at most maxLeaseFilledKeys keys as lease-filled, forgetting the oldest', () => {
    const leases = table(new FakeClock(), { maxLeaseFilledKeys: 2 });
    for (const name of ['a', 'b', 'c']) leases.filled(Buffer.from(name));
    for (const name of ['a', 'b', 'c']) leases.changed('delete', Buffer.from(name), () => Buffer.from(name));
    expect(leases.stats()).toMatchObject({ stale_values: 2 });
  });

  it('validates its options, naming them', () => {
    expect(() => new LeaseTable({ maxMemory: 0 })).toThrow(/maxMemory option/);
    expect(() => new LeaseTable({ maxMemory: 1024, maxLeases: 0 })).toThrow(/maxLeases option/);
    expect(() => new LeaseTable({ maxMemory: 1024, maxLeasesPerOwner: 0 })).toThrow(/maxLeasesPerOwner option/);
    expect(() => new LeaseTable({ maxMemory: 1024, maxLeaseMs: 1.5 })).toThrow(/maxLeaseMs option/);
    expect(() => new LeaseTable({ maxMemory: 1024, staleWindowMs: 1.5 })).toThrow(/staleWindowMs option/);
  });
});

describe('leaseAnsweredValue (spec §3.15 tracking of LEASE reads)', () => {
  it('is true for HIT and STALE answers only', () => {
    const answer = (state: number, token = 0n): Reply => ({ status: Status.OK, body: Buffer.concat([encodeLeaseHead(state as 0, state === LeaseState.GRANTED ? 1n : token), Buffer.from('v')]) });
    expect(leaseAnsweredValue(answer(LeaseState.HIT))).toBe(true);
    expect(leaseAnsweredValue(answer(LeaseState.STALE))).toBe(true);
    expect(leaseAnsweredValue(answer(LeaseState.GRANTED))).toBe(false);
    expect(leaseAnsweredValue(answer(LeaseState.WAIT))).toBe(false);
    expect(leaseAnsweredValue({ status: Status.BUSY, body: Buffer.from([0]) })).toBe(false);
    expect(leaseAnsweredValue({ status: Status.OK, body: undefined })).toBe(false);
  });
});
