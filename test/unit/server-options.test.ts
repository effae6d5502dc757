import { describe, expect, it } from 'vitest';
import { resolveServerOptions } from '../../src/server/options.js';

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
