import { describe, expect, it } from 'vitest';
import { ConnectionCapabilities, PROTOCOL_1_0 } from '../../src/client/capabilities.js';
import { encodeCapsBody, Status, type Frame } from '../../src/index.js';

const frame = (opcode: number, body: Buffer = Buffer.alloc(0)): Frame => ({ version: 0x81, opcode, id: 0n, length: body.length, body });
const caps11 = (features: number, maxValueSize: number): Frame => frame(Status.OK, encodeCapsBody({ minor: 1, features, maxValueSize }));

describe('ConnectionCapabilities (spec §3.13): what a request over one frame does', () => {
  it('waits until CAPS is answered, then sends within the server\'s limit (+272 for the fields around a value)', async () => {
    const caps = new ConnectionCapabilities();
    expect(caps.verdict(100_000, 65_524)).toBe('wait');
    expect(caps.settle(caps11(0x0f, 1_000_000))).toEqual({ minor: 1, fragments: true, versions: true, scan: true, quietWrites: true, maxValueSize: 1_000_000 });
    await expect(caps.promise).resolves.toMatchObject({ fragments: true });
    expect(caps.verdict(100_000, 65_524)).toBe('send');
    expect(caps.verdict(1_000_272, 65_524)).toBe('send');
    const over = caps.verdict(1_000_273, 65_524);
    expect(over).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('--max-value-size is 1000000 bytes') });
  });

  it('a 1.0 server (UNKNOWN_OPCODE), a 1.1 server without fragments, and a CAPS that failed: TOO_LARGE saying which', async () => {
    const old = new ConnectionCapabilities();
    expect(old.settle(frame(Status.UNKNOWN_OPCODE))).toBe(PROTOCOL_1_0);
    expect(old.verdict(70_000, 65_508)).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('protocol 1.0') });
    const without = new ConnectionCapabilities();
    without.settle(caps11(0x0e, 1_000_000));
    expect(without.verdict(70_000, 65_524)).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('does not take fragments') });
    const failed = new ConnectionCapabilities();
    failed.fail(Object.assign(new Error('x'), { code: 'TIMEOUT' }) as never);
    expect(failed.verdict(70_000, 65_524)).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('(CAPS: TIMEOUT)') });
    await expect(failed.promise).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('an error status fails CAPS with it; a malformed OK body is a PROTOCOL_ERROR (spec §4.3)', () => {
    const busy = new ConnectionCapabilities();
    expect(() => busy.settle(frame(Status.BUSY, Buffer.from('busy')))).toThrow(expect.objectContaining({ code: 'BUSY' }));
    expect(busy.verdict(70_000, 65_524)).toMatchObject({ message: expect.stringContaining('(CAPS: BUSY)') });
    const malformed = new ConnectionCapabilities();
    expect(() => malformed.settle(frame(Status.OK, Buffer.alloc(3)))).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
  });
});
