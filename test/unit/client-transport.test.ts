import { describe, expect, it } from 'vitest';
import { resolveClientOptions, type ClientOptions } from '../../src/client/options.js';
import { Transport, type TransportHost } from '../../src/client/transport.js';

const host: TransportHost = {
  onConnect: () => {},
  onReady: () => {},
  onAttemptFailed: () => {},
  onResponse: () => true,
  onChunkRead: () => {},
  onWritable: () => {},
  onBroken: () => {},
  onLost: () => {},
  onReconnectDue: () => {},
};

const transport = (options: ClientOptions): Transport => new Transport(resolveClientOptions(options), host);

describe('client transport: reconnect backoff', () => {
  it('doubles the delay from baseDelayMs up to maxDelayMs, each with jitter in [½, 1] of it, then gives up and starts again', () => {
    const t = transport({ reconnect: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 } });
    const ceilings = [100, 200, 300, 300];
    for (const [i, ceiling] of ceilings.entries()) {
      const next = t.backoff();
      expect(next?.attempt).toBe(i + 1);
      expect(next?.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(next?.delayMs).toBeLessThanOrEqual(ceiling);
    }
    expect(t.backoff()).toBeUndefined();
    expect(t.backoff()?.attempt).toBe(1); // the count started again
  });

  it('never reconnects with reconnect: false', () => {
    expect(transport({ reconnect: false }).backoff()).toBeUndefined();
  });

  it('has nothing to write to before a connection is attached', () => {
    const t = transport({});
    expect([t.connected, t.sink, t.sendCipher, t.reconnectScheduled]).toEqual([false, undefined, undefined, false]);
    t.reconnectAfter(60_000);
    expect(t.reconnectScheduled).toBe(true);
    t.close();
    expect(t.reconnectScheduled).toBe(false);
  });
});
