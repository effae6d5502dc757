import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/server/deadlines.js';

// Every `now` is given, far from the clock the deadlines were set by: nothing here waits or races.
const limits = { frameTimeoutMs: 1_000, idleTimeoutMs: 5_000, handshakeTimeoutMs: 2_000 };
const later = (ms: number): number => performance.now() + ms;

describe('Deadlines', () => {
  it('nothing has expired right away', () => {
    const before = performance.now();
    const deadlines = new Deadlines();
    for (const state of ['open', 'awaiting_hello'] as const) expect(deadlines.expired(before, limits, state)).toBeUndefined();
  });

  it('a handshake not done in time closes for handshake_timeout, only while awaiting HELLO', () => {
    const deadlines = new Deadlines();
    expect(deadlines.expired(later(3_000), limits, 'awaiting_hello')).toEqual({
      cause: 'handshake_timeout',
      reason: 'handshake not completed within 2000 ms',
    });
    expect(deadlines.expired(later(3_000), limits, 'open')).toBeUndefined();
  });

  it('a frame pending while reading closes for frame_timeout; not while paused, nor once whole', () => {
    const deadlines = new Deadlines();
    deadlines.framePending(true, true, 0);
    expect(deadlines.expired(later(1_500), limits, 'open')).toEqual({ cause: 'frame_timeout', reason: 'frame not completed within 1000 ms' });
    deadlines.framePending(true, false, 0); // paused by backpressure: whole frames may be waiting
    expect(deadlines.expired(later(1_500), limits, 'open')).toBeUndefined();
    deadlines.framePending(true, true, 0);
    deadlines.framePending(false, true, 1);
    expect(deadlines.expired(later(1_500), limits, 'open')).toBeUndefined();
  });

  it('no activity closes for idle, unless the idle timeout is 0', () => {
    const deadlines = new Deadlines();
    expect(deadlines.expired(later(6_000), limits, 'open')).toEqual({ cause: 'idle', reason: 'no data for 5000 ms' });
    expect(deadlines.expired(later(6_000), { ...limits, idleTimeoutMs: 0 }, 'open')).toBeUndefined();
  });

  it('once our side ended only the linger deadline counts: the peer gets a frame timeout to close', () => {
    const deadlines = new Deadlines();
    deadlines.framePending(true, true, 0);
    deadlines.ended();
    expect(deadlines.expired(later(500), limits, 'ended')).toBeUndefined();
    expect(deadlines.expired(later(10_000), limits, 'ended')).toBe('linger');
  });
});
