import { describe, expect, it } from 'vitest';
import { targetOf, type TargetFlags } from '../../src/cli/cli-target.js';

const defaults: TargetFlags = { host: '127.0.0.1', port: '7171', discover: true, sources: { host: 'default', port: 'default' } };
const flags = (over: Partial<TargetFlags>): TargetFlags => ({ ...defaults, ...over, sources: { ...defaults.sources, ...over.sources } });

describe('conduit-cli target flags → client options (issue 20)', () => {
  it('one server asks TOPOLOGY by default (discover), not with --no-discover; a socket likewise', () => {
    expect(targetOf(defaults)).toEqual({ options: { host: '127.0.0.1', port: 7171, discover: true }, target: '127.0.0.1:7171' });
    expect(targetOf(flags({ discover: false, port: '7200', sources: { port: 'cli' } }))).toEqual({
      options: { host: '127.0.0.1', port: 7200, discover: false },
      target: '127.0.0.1:7200',
    });
    expect(targetOf(flags({ socket: '/run/c.sock', sources: { socket: 'cli' } }))).toEqual({ options: { socket: '/run/c.sock', discover: true }, target: '/run/c.sock' });
  });

  it('--servers: host:port, [IPv6]:port and socket paths, trimmed, as the pool names them; no discover', () => {
    const servers = ' 10.0.0.1:7171, cache-b.internal:7172,[::1]:7173 ,/run/c.sock,';
    expect(targetOf(flags({ servers, sources: { servers: 'cli' } }))).toEqual({
      options: { servers: ['10.0.0.1:7171', 'cache-b.internal:7172', '[::1]:7173', '/run/c.sock'] },
      target: '10.0.0.1:7171,cache-b.internal:7172,[::1]:7173,/run/c.sock',
    });
  });

  it('a bad --servers entry is one line naming the flag (or CONDUIT_SERVERS) and the entry', () => {
    const cases: [string, string][] = [
      ['x', '--servers: "x" is not host:port (IPv6 as [::1]:7171) or a socket path'],
      ['a:1,b', '--servers: "b" is not host:port (IPv6 as [::1]:7171) or a socket path'],
      ['::1:7171', '--servers: "::1:7171" is not host:port (IPv6 as [::1]:7171) or a socket path'],
      ['[zz]:7171', '--servers: "[zz]:7171" is not host:port (IPv6 as [::1]:7171) or a socket path'],
      ['a:', '--servers: "a:" is not host:port (IPv6 as [::1]:7171) or a socket path'],
      ['a:0', '--servers: "a:0" has port 0, not from 1 to 65535'],
      ['a:70000', '--servers: "a:70000" has port 70000, not from 1 to 65535'],
      [' , ', '--servers: give at least one host:port'],
      ['a:1,A:1', '--servers: "A:1" is listed twice'],
    ];
    for (const [servers, message] of cases) expect(() => targetOf(flags({ servers, sources: { servers: 'cli' } }))).toThrow(message);
    expect(() => targetOf(flags({ servers: 'x', sources: { servers: 'env' } }))).toThrow('CONDUIT_SERVERS: "x" is not host:port');
  });

  it('--servers excludes --host, --port and --socket given by flag or variable, naming both; their defaults do not count', () => {
    expect(() => targetOf(flags({ servers: 'a:1', port: '7200', sources: { servers: 'cli', port: 'cli' } }))).toThrow('--servers excludes --port');
    expect(() => targetOf(flags({ servers: 'a:1', host: 'h', sources: { servers: 'cli', host: 'env' } }))).toThrow('--servers excludes CONDUIT_HOST');
    expect(() => targetOf(flags({ servers: 'a:1', socket: '/s', sources: { servers: 'env', socket: 'cli' } }))).toThrow('CONDUIT_SERVERS excludes --socket');
  });

  it('--port keeps its check, naming the flag or CONDUIT_PORT', () => {
    expect(() => targetOf(flags({ port: '0', sources: { port: 'cli' } }))).toThrow("--port must be from 1 to 65535, got '0'");
    expect(() => targetOf(flags({ port: 'x', sources: { port: 'env' } }))).toThrow("CONDUIT_PORT must be from 1 to 65535, got 'x'");
  });
});
