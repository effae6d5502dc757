// The store's parts split out of store.ts (issue 16): the sweep timer, INCR's counter parsing and
// the shared key/TTL checks, each on its own.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConduitError, MAX_TTL_MS, Store } from '../../src/index.js';
import { checkKey, checkTtl, I64_MAX, I64_MIN, keyLengthError } from '../../src/protocol/validate.js';
import { counterValue } from '../../src/store/integer.js';
import { SWEEP_INTERVAL_MS, SweepTimer } from '../../src/store/sweep-timer.js';
import { FakeClock } from '../support/fake-clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SweepTimer', () => {
  it('sweeps every interval, again on the next turn while a backlog remains, and never after close', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    let backlog = 0;
    const sweeps: number[] = [];
    const timer = new SweepTimer(
      () => sweeps.push(backlog),
      () => backlog-- > 0,
    );
    vi.advanceTimersByTime(SWEEP_INTERVAL_MS - 1);
    expect(sweeps).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sweeps).toEqual([0]);
    backlog = 2; // two more due slices: swept on immediates, 1 ms of fake time later, not an interval later
    vi.advanceTimersByTime(SWEEP_INTERVAL_MS);
    expect(sweeps).toEqual([0, 2]);
    vi.advanceTimersByTime(1);
    expect(sweeps).toEqual([0, 2, 1]);
    vi.advanceTimersByTime(1);
    expect(sweeps).toEqual([0, 2, 1, 0]);
    vi.advanceTimersByTime(SWEEP_INTERVAL_MS - 1); // no backlog: back to the interval
    expect(sweeps).toHaveLength(4);
    vi.advanceTimersByTime(1);
    expect(sweeps).toHaveLength(5);
    timer.close();
    vi.advanceTimersByTime(10 * SWEEP_INTERVAL_MS);
    expect(sweeps).toHaveLength(5);
  });

  it("regression: a backlog's next slice is a ref'd immediate (an unref'd one waits in the poll phase for another timer); the interval timer stays unref'd", () => {
    const immediates: NodeJS.Immediate[] = [];
    const timeouts: NodeJS.Timeout[] = [];
    const realImmediate = globalThis.setImmediate;
    const realTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setImmediate').mockImplementation(((fn: () => void) => {
      const immediate = realImmediate(() => {});
      immediates.push(immediate);
      queueMicrotask(fn); // run the slice without waiting on the real loop
      return immediate;
    }) as typeof setImmediate);
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void) => {
      const timeout = realTimeout(() => {}, 0);
      timeouts.push(timeout);
      if (timeouts.length === 1) queueMicrotask(fn); // the first interval fires at once
      return timeout;
    }) as typeof setTimeout);
    let backlog = 3;
    let sweeps = 0;
    const timer = new SweepTimer(
      () => {
        sweeps += 1;
      },
      () => backlog-- > 0,
    );
    return new Promise<void>((resolve, reject) => {
      realImmediate(() => {
        timer.close();
        try {
          expect(sweeps).toBe(4); // the interval's, then three backlog slices
          expect(immediates.map((i) => i.hasRef())).toEqual([true, true, true]);
          expect(timeouts.length).toBe(2); // the first interval, then the next after the backlog
          expect(timeouts.map((t) => t.hasRef())).toEqual([false, false]);
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
  });

  it('a store with activeExpiry reclaims expired keys on its own timer, and stops at close()', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const clock = new FakeClock();
    const store = new Store({ clock: clock.read });
    for (let i = 0; i < 10; i += 1) store.set(Buffer.from(`k${i}`), Buffer.from('v'), { ttlMs: 100 });
    clock.advance(200);
    vi.advanceTimersByTime(SWEEP_INTERVAL_MS);
    expect([store.stats().expired_swept, store.stats().curr_items]).toEqual([10, 0]);
    store.set(Buffer.from('late'), Buffer.from('v'), { ttlMs: 100 });
    store.close();
    clock.advance(200);
    vi.advanceTimersByTime(10 * SWEEP_INTERVAL_MS);
    expect(store.stats().expired_swept).toBe(10);
  });
});

describe('counterValue (spec §3.8)', () => {
  it.each([
    ['0', 0n],
    ['-1', -1n],
    ['42', 42n],
    ['9223372036854775807', I64_MAX],
    ['-9223372036854775808', I64_MIN],
  ])('%s is the i64 %s', (text, value) => {
    expect(counterValue(Buffer.from(text))).toBe(value);
  });

  it.each(['', '-0', '01', '+1', ' 1', '1 ', '1.5', 'abc', '9223372036854775808', '-9223372036854775809', '99999999999999999999'])(
    '%j is not a counter',
    (text) => {
      expect(counterValue(Buffer.from(text))).toBeUndefined();
    },
  );
});

describe('protocol/validate: the shared checks', () => {
  it('keys of 1 to 250 bytes pass; 0 and 251 are BAD_REQUEST naming the field', () => {
    expect(keyLengthError(1)).toBeUndefined();
    expect(keyLengthError(250)).toBeUndefined();
    expect(keyLengthError(0)).toMatchObject({ code: 'BAD_REQUEST', message: 'key must be 1 to 250 bytes, got 0' });
    expect(keyLengthError(251, 'prefix')).toMatchObject({ code: 'BAD_REQUEST', message: 'prefix must be 1 to 250 bytes, got 251' });
    expect(() => checkKey(Buffer.alloc(250))).not.toThrow();
    expect(() => checkKey(Buffer.alloc(251))).toThrow(ConduitError);
  });

  it('TTLs are integers from 0 to the u32 maximum', () => {
    for (const ok of [0, 1, MAX_TTL_MS]) expect(() => checkTtl(ok)).not.toThrow();
    for (const bad of [-1, 0.5, MAX_TTL_MS + 1, Number.NaN]) {
      expect(() => checkTtl(bad)).toThrow(new ConduitError('BAD_REQUEST', `ttlMs must be an integer from 0 to ${MAX_TTL_MS}, got ${bad}`));
    }
  });
});
