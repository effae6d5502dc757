import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../support/resp-harness.js';

const harnesses: Harness[] = [];
function make(...a: Parameters<typeof makeHarness>): Harness {
  const h = makeHarness(...a);
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

describe('RESP dispatcher', () => {
  it('answers unknown commands, wrong arity and HTTP lines as Redis 7.0 does', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('foo', 'a', 'b')).toBe("-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    expect(h.run('FOO')).toBe("-ERR unknown command 'FOO', with args beginning with: \r\n");
    expect(h.run('get')).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect(h.run('CLIENT')).toBe("-ERR wrong number of arguments for 'client' command\r\n");
    expect(h.run('client', 'foo')).toBe("-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n");
    expect(h.run('client', 'setname')).toBe("-ERR wrong number of arguments for 'client|setname' command\r\n");
    expect(h.run('Host:', 'x')).toBe('');
    expect(h.after).toBe('drop');
    expect(h.run('POST', '/', 'HTTP/1.1')).toBe('');
    expect(h.after).toBe('drop');
  });

  it('runs GET, SET, DEL, PING, QUIT', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('GET', 'k')).toBe('$-1\r\n');
    expect(h.run('SET', 'k', 'hello')).toBe('+OK\r\n');
    expect(h.run('get', 'k')).toBe('$5\r\nhello\r\n');
    expect(h.run('DEL', 'k', 'x')).toBe(':1\r\n');
    expect(h.run('PING')).toBe('+PONG\r\n');
    expect(h.run('PING', 'hi')).toBe('$2\r\nhi\r\n');
    expect(h.run('QUIT')).toBe('+OK\r\n');
    expect(h.after).toBe('close');
  });

  it('gates commands behind AUTH when a password is set', { timeout: 5000 }, () => {
    const h = make({ password: 'secret' });
    expect(h.run('GET', 'k')).toBe('-NOAUTH Authentication required.\r\n');
    expect(h.run('AUTH', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    expect(h.run('HELLO', '3')).toContain('-NOAUTH HELLO must be called');
    expect(h.run('AUTH', 'secret')).toBe('+OK\r\n');
    expect(h.run('GET', 'k')).toBe('$-1\r\n');
  });

  it('switches to RESP3 with HELLO 3', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('HELLO', '3')).toBe(
      '%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n',
    );
    expect(h.session.protocol).toBe(3);
    expect(h.out.protocol).toBe(3);
    expect(h.run('GET', 'k')).toBe('_\r\n');
  });
});
