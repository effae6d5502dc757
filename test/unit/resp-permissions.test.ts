/**
 * Users and permissions on the RESP port (issue 25, docs/RESP.md "Users and
 * permissions"): runCommand with a session's rights against a real Store,
 * exact reply bytes in RESP2 and RESP3. The classes below are written out by
 * hand (not read from permissions.ts), so the table is an independent oracle;
 * the NOPERM texts are Redis 7.0.15's (checked against Debian's redis-server
 * with `ACL SETUSER u on >p ~app1:* +@read`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessClass, AccessRule } from '../../src/protocol/access.js';
import type { AccessConfig } from '../../src/server/access/access-table.js';
import { Rights } from '../../src/server/access/rights.js';
import { COMMAND_TABLE } from '../../src/server/resp/command-table.js';
import { IDENTITIES, IN, NOPERM_KEYS, noperm, OUT, SAMPLES } from '../support/resp-access.js';
import { makeHarness, type Harness, type HarnessOptions } from '../support/resp-harness.js';

const harnesses: Harness[] = [];
function make(options: HarnessOptions = {}): Harness {
  const h = makeHarness(options);
  harnesses.push(h);
  return h;
}
afterEach(() => {
  for (const h of harnesses.splice(0)) h.close();
});

const OK = '+OK\r\n';
const err = (text: string): string => `-${text}\r\n`;
const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const WRONGPASS = err('WRONGPASS invalid username-password pair or user is disabled.');
const NOAUTH = err('NOAUTH Authentication required.');

const rule = (allow: readonly AccessClass[], prefixes?: readonly string[]): AccessRule => ({
  prefixes: prefixes?.map((p) => Buffer.from(p)),
  allow: new Set(allow),
});
const rights = (id: string, allow: readonly AccessClass[], prefixes?: readonly string[]): Rights => new Rights(id, 'token', rule(allow, prefixes));

describe('rights per command', () => {
  it('the samples name every command and subcommand of the table', () => {
    const named = new Set(SAMPLES.map((s) => s.name));
    const table = COMMAND_TABLE.flatMap((c) => (c.subcommands ?? [c]).map((s) => s.name));
    expect(table.filter((n) => !named.has(n))).toEqual([]);
  });

  for (const protocol of [2, 3] as const) {
    it(`every command × class × key in/out of the prefix: it runs, or Redis's NOPERM, class first (RESP${protocol})`, { timeout: 20_000 }, () => {
      for (const identity of IDENTITIES) {
        for (const sample of SAMPLES) {
          for (const key of [IN, OUT]) {
            const h = makeHarness({ protocol, reload: () => ({ keys: [], tokens: [], certificates: [] }) });
            try {
              h.store.set(Buffer.from(IN), Buffer.from('1'));
              h.store.set(Buffer.from(OUT), Buffer.from('1'));
              const r = rights('app1', identity.allow, ['app1:']);
              h.identify(r);
              const args = sample.args.map((a) => (a === 'K' ? key : a));
              const reply = h.run(...args);
              const lacking = sample.needs.find((c) => !identity.allow.includes(c));
              const where = `${identity.label}: ${args.join(' ')}`;
              if (lacking !== undefined) {
                expect(reply, where).toBe(noperm(sample.name));
                expect(h.access.counters.of('app1').forbidden[lacking], where).toBe(1);
              } else if (sample.keyed && key === OUT) {
                expect(reply, where).toBe(NOPERM_KEYS);
                expect(h.access.counters.of('app1').forbidden.prefix, where).toBe(1);
              } else {
                expect(reply, where).not.toMatch(/^-NOPERM/);
                expect(h.access.counters.forbiddenTotal, where).toBe(0);
              }
              // Refused or not, the request is counted for the identity; a keyed command never touches the outside key.
              expect(h.access.counters.of('app1').requests, where).toBe(1);
              if (key === OUT && sample.keyed) expect(h.store.get(Buffer.from(OUT))?.toString(), where).toBe('1');
            } finally {
              h.close();
            }
          }
        }
      }
    });
  }

  it('a session without rights and one with every right are not checked', { timeout: 5000 }, () => {
    const h = make();
    h.store.set(Buffer.from(OUT), Buffer.from('1'));
    expect(h.run('GET', OUT)).toBe(bulk('1'));
    expect(h.run('FLUSHALL')).toBe(OK);
    h.identify(Rights.all('default', 'password'));
    expect(h.run('SET', OUT, '2')).toBe(OK);
    expect(h.run('DBSIZE')).toBe(':1\r\n');
    expect(h.access.counters.of('default').requests).toBe(2);
    expect(h.access.counters.of('default').total_sets).toBe(1);
  });

  it('a multi-key command with one key outside is refused whole: nothing read, written or deleted', { timeout: 5000 }, () => {
    const h = make();
    h.store.set(Buffer.from('app1:a'), Buffer.from('1'));
    h.store.set(Buffer.from('app2:b'), Buffer.from('2'));
    h.identify(rights('app1', ['read', 'write'], ['app1:']));
    expect(h.run('MGET', 'app1:a', 'app2:b')).toBe(NOPERM_KEYS);
    expect(h.run('MGET', 'app1:a', 'app1:x')).toBe('*2\r\n$1\r\n1\r\n$-1\r\n');
    expect(h.run('MSET', 'app1:a', '9', 'app2:b', '9')).toBe(NOPERM_KEYS);
    expect(h.run('MSETNX', 'app1:n', '9', 'app2:n', '9')).toBe(NOPERM_KEYS);
    expect(h.run('DEL', 'app1:a', 'app2:b')).toBe(NOPERM_KEYS);
    expect(h.run('UNLINK', 'app2:b', 'app1:a')).toBe(NOPERM_KEYS);
    expect(h.run('EXISTS', 'app1:a', 'app2:b')).toBe(NOPERM_KEYS);
    expect(h.store.get(Buffer.from('app1:a'))?.toString()).toBe('1');
    expect(h.store.get(Buffer.from('app2:b'))?.toString()).toBe('2');
    expect(h.store.get(Buffer.from('app1:n'))).toBeUndefined();
    // MSET's values are not keys (step 2): a value that looks like an outside key is fine.
    expect(h.run('MSET', 'app1:a', 'app2:b', 'app1:c', 'app2:b')).toBe(OK);
    expect(h.access.counters.of('app1').forbidden).toEqual({ read: 0, write: 0, admin: 0, prefix: 6 });
  });

  it('SET needs read too only with its GET option; an expiry value spelled "get" is not the option', { timeout: 5000 }, () => {
    const h = make();
    h.identify(rights('w', ['write'], ['app1:']));
    expect(h.run('SET', 'app1:k', 'v', 'GET')).toBe(noperm('set'));
    expect(h.run('SET', 'app1:k', 'v', 'NX', 'gEt')).toBe(noperm('set'));
    expect(h.run('SET', 'app1:k', 'v', 'EX', 'get')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('SET', 'app1:k', 'v', 'KEEPTTL')).toBe(OK);
    // A write-only identity outside its prefix: the key is refused (the class is there).
    expect(h.run('SET', 'app2:k', 'v')).toBe(NOPERM_KEYS);
    expect(h.access.counters.of('w').forbidden).toEqual({ read: 2, write: 0, admin: 0, prefix: 1 });
  });

  it('checks arity and AUTH before rights, and rights before the arguments', { timeout: 5000 }, () => {
    const h = make();
    h.identify(rights('r', ['read'], ['app1:']));
    expect(h.run('GET')).toBe(err("ERR wrong number of arguments for 'get' command"));
    expect(h.run('DBSIZE', 'x')).toBe(err("ERR wrong number of arguments for 'dbsize' command"));
    expect(h.run('FLUSHALL', 'x', 'y')).toBe(noperm('flushall')); // arity -1: the rights come before its syntax
    expect(h.run('ACL')).toBe(err("ERR wrong number of arguments for 'acl' command"));
    expect(h.run('SET', 'app1:k', 'v', 'BOGUS')).toBe(noperm('set'));
    expect(h.run('GET', '')).toBe(NOPERM_KEYS); // an empty key is outside every prefix but ""
    expect(h.access.counters.of('r').requests).toBe(3);
    const p = make({ password: 'secret' });
    expect(p.run('FLUSHALL')).toBe(NOAUTH);
  });

  it('the NOPERM reasons reach the forbidden hook (conduit_forbidden_total) with the identity', { timeout: 5000 }, () => {
    const h = make();
    const seen: string[] = [];
    h.access.counters.onForbidden = (id, reason) => seen.push(`${id}:${reason}`);
    h.identify(rights('batch', ['read'], ['jobs:']));
    h.run('FLUSHDB');
    h.run('GET', 'other');
    h.run('SET', 'jobs:1', 'x');
    h.run('GET', 'jobs:1');
    expect(seen).toEqual(['batch:admin', 'batch:prefix', 'batch:write']);
    expect(h.access.toJSON()).toMatchObject({ forbidden_total: 3 });
  });
});

describe('KEYS, SCAN and INFO for a limited identity', () => {
  function seeded(): Harness {
    const h = make();
    for (const k of ['app1:a', 'app1:b', 'app2:c', 'shared:d', 'zzz']) h.store.set(Buffer.from(k), Buffer.from('v'));
    return h;
  }
  const sortedKeys = (reply: string): string[] =>
    reply
      .split('\r\n')
      .filter((l, i, all) => i > 0 && all[i - 1]?.startsWith('$'))
      .sort();

  it('KEYS answers only the keys inside the prefixes (Redis would refuse KEYS; docs/RESP.md)', { timeout: 5000 }, () => {
    const h = seeded();
    h.identify(rights('app1', ['read'], ['app1:', 'shared:']));
    expect(sortedKeys(h.run('KEYS', '*'))).toEqual(['app1:a', 'app1:b', 'shared:d']);
    expect(h.run('KEYS', 'app2:*')).toBe('*0\r\n');
    expect(h.run('KEYS', 'app2:c')).toBe('*0\r\n'); // a literal pattern: no walk, still filtered
    expect(h.run('KEYS', 'app1:a')).toBe(`*1\r\n${bulk('app1:a')}`);
    expect(sortedKeys(h.run('KEYS', '*[bc]*'))).toEqual(['app1:b']);
    expect(h.access.counters.forbiddenTotal).toBe(0);
  });

  it('SCAN walks every key once and yields none outside the prefixes', { timeout: 5000 }, () => {
    const h = seeded();
    for (let i = 0; i < 300; i++) h.store.set(Buffer.from(`${i % 2 === 0 ? 'app1' : 'app2'}:n${i}`), Buffer.from('v'));
    h.identify(rights('app1', ['read'], ['app1:']));
    const seen: string[] = [];
    let cursor = '0';
    do {
      const reply = h.run('SCAN', cursor, 'COUNT', '7');
      const lines = reply.split('\r\n');
      cursor = lines[2] as string;
      seen.push(...sortedKeys(`x\r\n${lines.slice(4).join('\r\n')}`));
    } while (cursor !== '0');
    expect(seen.every((k) => k.startsWith('app1:'))).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(152);
    cursor = '0';
    do {
      const lines = h.run('SCAN', cursor, 'MATCH', 'app2:*', 'COUNT', '1000').split('\r\n');
      expect(lines[3]).toBe('*0');
      cursor = lines[2] as string;
    } while (cursor !== '0');
  });

  it('INFO without admin is the server section, whatever is asked; with admin every section', { timeout: 5000 }, () => {
    const h = seeded();
    h.identify(rights('app1', ['read'], ['app1:']));
    for (const args of [['INFO'], ['INFO', 'keyspace'], ['INFO', 'all'], ['INFO', 'stats', 'clients']]) {
      const text = h.run(...args);
      expect(text, args.join(' ')).toMatch(/^\$\d+\r\n# Server\r\n/);
      expect(text, args.join(' ')).not.toContain('# Keyspace');
      expect(text, args.join(' ')).not.toContain('# Clients');
    }
    h.identify(rights('ops', ['admin']));
    expect(h.run('INFO', 'keyspace')).toBe(bulk('# Keyspace\r\ndb0:keys=5\r\n'));
    expect(h.run('INFO')).toContain('# Clients');
  });

  it('INFO without admin in RESP3 is a verbatim string of the server section', { timeout: 5000 }, () => {
    const h = make({ protocol: 3 });
    h.identify(rights('app1', ['read']));
    expect(h.run('INFO', 'keyspace')).toMatch(/^=\d+\r\ntxt:# Server\r\nredis_version:7\.0\.0\r\n/);
  });
});

describe('per-identity counters', () => {
  it('counts requests, hits, misses and sets of the identity, not of others', { timeout: 5000 }, () => {
    const h = make();
    h.identify(rights('app1', ['read', 'write'], ['app1:']));
    h.run('SET', 'app1:a', '1');
    h.run('MSET', 'app1:b', '2', 'app1:c', '3');
    h.run('INCR', 'app1:n');
    h.run('APPEND', 'app1:a', 'x');
    h.run('GET', 'app1:a');
    h.run('GET', 'app1:none');
    h.run('MGET', 'app1:b', 'app1:zz');
    h.run('GETDEL', 'app1:c');
    h.run('GETEX', 'app1:gone');
    h.run('SETNX', 'app1:a', 'no');
    h.run('GET', 'app2:x');
    expect(h.access.counters.of('app1').toJSON()).toEqual({
      requests: 11,
      keyspace_hits: 3,
      keyspace_misses: 3,
      total_sets: 5,
      forbidden: { read: 0, write: 0, admin: 0, prefix: 1 },
    });
    expect(h.access.counters.toJSON()).toEqual({ app1: h.access.counters.of('app1').toJSON() });
  });
});

describe('AUTH with users', () => {
  const token = 'app1-token-0123456789';
  const tokens = [
    { id: 'app1', token, rule: rule(['read', 'write'], ['app1:']) },
    { id: 'ops', token: 'ops-token-0123456789', rule: rule(['read', 'write', 'admin']) },
  ];

  it('tokens alone make AUTH required; AUTH user token takes the entry\'s rights; failures are WRONGPASS', { timeout: 5000 }, () => {
    const h = make({ tokens });
    expect(h.session.authenticated).toBe(false);
    expect(h.run('GET', 'app1:k')).toBe(NOAUTH);
    expect(h.run('AUTH', token)).toBe(WRONGPASS); // no --resp-password: the default user is off, not nopass
    expect(h.run('AUTH', 'default', token)).toBe(WRONGPASS);
    expect(h.run('AUTH', 'app1', 'wrong-token-0123456789')).toBe(WRONGPASS);
    expect(h.run('AUTH', 'APP1', token)).toBe(WRONGPASS); // user names are case-sensitive
    expect(h.run('AUTH', 'ops', token)).toBe(WRONGPASS); // another user's token
    expect(h.run('AUTH', Buffer.from([0x61, 0x70, 0x70, 0x31, 0xff]), token)).toBe(WRONGPASS);
    expect(h.run('AUTH', 'app1', token)).toBe(OK);
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('app1'));
    expect(h.run('SET', 'app1:k', 'v')).toBe(OK);
    expect(h.run('SET', 'app2:k', 'v')).toBe(NOPERM_KEYS);
    expect(h.run('FLUSHALL')).toBe(noperm('flushall'));
    // A failed AUTH later keeps the session as it was (Redis).
    expect(h.run('AUTH', 'ops', 'nope')).toBe(WRONGPASS);
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('app1'));
    // Another user's AUTH switches the rights.
    expect(h.run('AUTH', 'ops', 'ops-token-0123456789')).toBe(OK);
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('ops'));
    expect(h.run('DBSIZE')).toBe(':1\r\n');
  });

  it('--resp-password is the default user with every right; tokens log in beside it', { timeout: 5000 }, () => {
    const h = make({ password: 'secret', tokens });
    expect(h.run('AUTH', 'secret')).toBe(OK);
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('default'));
    expect(h.session.rights?.unrestricted).toBe(true);
    expect(h.run('SET', 'app2:k', 'v')).toBe(OK);
    expect(h.run('AUTH', 'default', 'secret')).toBe(OK);
    expect(h.run('AUTH', 'app1', token)).toBe(OK);
    expect(h.run('GET', 'app2:k')).toBe(NOPERM_KEYS);
  });

  it('HELLO 3 AUTH user token logs in and switches to RESP3; NOPERM is the same line there', { timeout: 5000 }, () => {
    const h = make({ tokens });
    expect(h.run('HELLO', '3', 'AUTH', 'app1', 'wrong')).toBe(WRONGPASS);
    expect(h.session.protocol).toBe(2);
    expect(h.run('HELLO', '3', 'AUTH', 'app1', token)).toMatch(/^%7\r\n\$6\r\nserver\r\n/);
    expect(h.session.protocol).toBe(3);
    expect(h.run('GET', 'app2:k')).toBe(NOPERM_KEYS);
    expect(h.run('DBSIZE')).toBe(noperm('dbsize'));
    expect(h.run('GET', 'app1:k')).toBe('_\r\n');
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('app1'));
  });

  it('without AUTH required: WHOAMI is default, AUTH default <anything> keeps the session as it was', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('default'));
    h.identify(rights('cert', ['read'], ['app1:'])); // a client certificate's rights at accept
    expect(h.run('AUTH', 'default', 'anything')).toBe(OK);
    expect(h.run('HELLO', '2', 'AUTH', 'default', 'x')).toContain('$6\r\nserver\r\n');
    expect(h.run('ACL', 'WHOAMI')).toBe(bulk('cert'));
    expect(h.run('SET', 'app1:k', 'v')).toBe(noperm('set'));
  });
});

describe('ACL', () => {
  const config = (tokens: AccessConfig['tokens']): AccessConfig => ({ keys: [], tokens, certificates: [] });
  const admin = { id: 'ops', token: 'ops-token-0123456789', rule: rule(['admin']) };
  const reader = { id: 'r', token: 'reader-token-0123456789', rule: rule(['read']) };

  it('ACL LOAD needs admin and re-reads the file: +OK, or -ERR with the refusal', { timeout: 5000 }, () => {
    let next: AccessConfig | Error = config([admin, reader]);
    const h = make({
      tokens: [admin, reader],
      reload: () => {
        if (next instanceof Error) throw next;
        return next;
      },
    });
    expect(h.run('AUTH', 'r', reader.token)).toBe(OK);
    expect(h.run('ACL', 'LOAD')).toBe(noperm('acl|load'));
    expect(h.access.counters.of('r').forbidden.admin).toBe(1);
    expect(h.run('AUTH', 'ops', admin.token)).toBe(OK);
    expect(h.run('ACL', 'LOAD')).toBe(OK);
    next = new TypeError('keys.toml: tokens[1]: token must be at least 16 bytes');
    expect(h.run('ACL', 'LOAD')).toBe(err('ERR keys.toml: tokens[1]: token must be at least 16 bytes'));
    next = config([admin]);
    expect(h.run('acl', 'load')).toBe(OK);
    // The new table: r is gone for new logins.
    expect(h.run('AUTH', 'r', reader.token)).toBe(WRONGPASS);
    expect(h.access.toJSON()).toMatchObject({ tokens: 1, reloads: 2, reload_failures: 1 });
  });

  it('ACL LOAD without a key file answers why; other ACL subcommands are unknown', { timeout: 5000 }, () => {
    const h = make();
    expect(h.run('ACL', 'LOAD')).toBe(err('ERR nothing to reload: the server was started without --key-file'));
    expect(h.run('ACL', 'HELP')).toBe(err("ERR unknown subcommand 'HELP'. Try ACL HELP."));
    expect(h.run('ACL', 'SETUSER', 'u', 'on')).toBe(err("ERR unknown subcommand 'SETUSER'. Try ACL HELP."));
    expect(h.run('ACL', 'WHOAMI', 'x')).toBe(err("ERR wrong number of arguments for 'acl|whoami' command"));
  });
});
