import { describe, expect, it } from 'vitest';
import { resolveServerOptions } from '../../src/server/options.js';
import { assignSlots } from '../../src/protocol/slots.js';

describe('resolveServerOptions refuses combinations the kernel would get wrong', () => {
  // Regression: a socket path past sun_path's size was cut short by bind(2) without an error.
  it('a socket path longer than a Unix socket path may be, by its bytes', () => {
    const limit = process.platform === 'linux' ? 107 : 103;
    expect(() => resolveServerOptions({ socket: `/tmp/${'s'.repeat(limit - 5)}` })).not.toThrow();
    expect(() => resolveServerOptions({ socket: `/tmp/${'s'.repeat(limit - 4)}` })).toThrow(
      `socket option is ${limit + 1} bytes long, more than the ${limit} bytes a Unix socket path may have here: choose a shorter path`,
    );
    // Bytes, not characters: 'é' is two bytes in UTF-8.
    expect(() => resolveServerOptions({ socket: `/tmp/${'é'.repeat(Math.ceil((limit - 4) / 2))}` })).toThrow(/socket option is \d+ bytes long/);
  });

  // Regression: the second listener failed as "already in use" with nothing else on the port.
  it('port equal to httpPort, unless TCP is off or the port is 0', () => {
    expect(() => resolveServerOptions({ port: 7171, httpPort: 7171 })).toThrow('httpPort option must differ from the port option, both are 7171');
    expect(() => resolveServerOptions({ port: 0, httpPort: 0 })).not.toThrow();
    expect(() => resolveServerOptions({ port: 7171, httpPort: 7171, tcp: false, socket: '/tmp/conduit.sock' })).not.toThrow();
  });
});

describe('maxValueSize (spec §2.4)', () => {
  it('is 1 MiB by default, from 65,517 to 64 MiB, and when given at most maxMemory', () => {
    expect(resolveServerOptions({}).maxValueSize).toBe(1024 * 1024);
    expect(() => resolveServerOptions({ maxValueSize: 65_516 })).toThrow('maxValueSize option must be an integer from 65517 to 67108864, got 65516');
    expect(() => resolveServerOptions({ maxValueSize: 64 * 1024 * 1024 + 1 })).toThrow(/from 65517 to 67108864/);
    expect(() => resolveServerOptions({ maxMemory: 4 * 1024 * 1024, maxValueSize: 8 * 1024 * 1024 })).toThrow(
      'maxValueSize option must not exceed maxMemory option (4194304 bytes), got 8388608',
    );
    expect(resolveServerOptions({ maxMemory: 128 * 1024 * 1024, maxValueSize: 64 * 1024 * 1024 }).maxValueSize).toBe(64 * 1024 * 1024);
  });

  it('a budget under the default 1 MiB limit gets a limit it holds, not an error (an outside review: --max-memory 512kb refused to start)', () => {
    expect(resolveServerOptions({ maxMemory: 512 * 1024 }).maxValueSize).toBe(512 * 1024);
    expect(resolveServerOptions({ maxMemory: 16 * 1024 }).maxValueSize).toBe(65_517); // the smallest limit (spec §2.4)
    const resolved = resolveServerOptions({ maxMemory: 512 * 1024 });
    expect(resolveServerOptions(resolved).maxValueSize).toBe(512 * 1024); // resolving again (as ComposedServer does) holds
    expect(() => resolveServerOptions({ maxMemory: 512 * 1024, maxValueSize: 1024 * 1024 })).toThrow(/must not exceed maxMemory/);
  });
});

describe('group (spec §3.14)', () => {
  const nodes = ['127.0.0.1:7171', '127.0.0.1:7172'];
  const group = { self: 0, epoch: 1, nodes, table: assignSlots(nodes) };

  it('is undefined by default (standalone) and accepted when it is a map every client can decode', () => {
    expect(resolveServerOptions({}).group).toBeUndefined();
    expect(resolveServerOptions({ group }).group).toBe(group);
  });

  it('refuses a group that breaks §3.14 with a message naming group', () => {
    const bad: unknown[] = [
      null,
      { ...group, nodes: [] },
      { ...group, nodes: Array.from({ length: 65 }, (_, i) => `n${i}`) },
      { ...group, nodes: ['', 'b'] },
      { ...group, nodes: ['x'.repeat(256), 'b'] },
      { ...group, nodes: ['a', 'a'] },
      { ...group, self: 2 },
      { ...group, self: -1 },
      { ...group, epoch: 2 ** 32 },
      { ...group, epoch: 1.5 },
      { ...group, table: new Uint8Array(100) },
      { ...group, table: Array.from(group.table) },
      { ...group, table: new Uint8Array(16_384).fill(2) },
    ];
    for (const g of bad) {
      expect(() => resolveServerOptions({ group: g as never })).toThrow(/^group option/);
    }
  });
});
