// Regression (issue 15 item 1): an exception thrown inside a connection's event handlers
// (here: a fault injected into the request counter, run for every request outside the
// executor's own try) escaped the socket's 'data' handler and ended the process. It must
// close only that connection, logged at error and counted as an internal disconnect.
import { describe, expect, it } from 'vitest';
import { encodeRequest, Status, type Request } from '../../src/index.js';
import { rawClient, startServer } from '../support/server.js';

const req = (id: bigint, r: Request): Buffer => Buffer.concat(encodeRequest(id, r));

describe('regression: an exception in a connection handler kills the process', () => {
  it('closes only that connection, counts it as internal and logs it at error; other clients are served', async () => {
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (o: unknown) => errors.push(o) };
    const { port, server } = await startServer({ logger: logger as never });
    const other = await rawClient(port);
    const victim = await rawClient(port);
    other.write(req(1n, { op: 'HEALTH' }));
    await other.waitFrames(1);
    // The next request counted throws once, as a bug in the handler path would.
    const counters = server.counters as { total_commands_processed: number };
    let stored = counters.total_commands_processed;
    let armed = true;
    Object.defineProperty(counters, 'total_commands_processed', {
      configurable: true,
      enumerable: true,
      get: () => stored,
      set: (n: number) => {
        if (armed) {
          armed = false;
          throw new Error('injected fault');
        }
        stored = n;
      },
    });
    victim.write(req(1n, { op: 'HEALTH' }));
    await victim.waitClosed(3_000);
    expect(server.counters.disconnects.internal).toBe(1);
    expect(errors).toHaveLength(1);
    other.write(req(2n, { op: 'HEALTH' }));
    await other.waitFrames(2);
    expect(other.frames.map((f) => f.opcode)).toEqual([Status.OK, Status.OK]);
    expect(other.closed).toBe(false);
  });
});
