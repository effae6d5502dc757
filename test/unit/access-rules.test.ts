// Issue 25: the access classes of every operation (spec §3.17, src/protocol/access.ts) and the
// key file that gives identities their rules (readKeyFile): every refusal names the file, the
// entry and the field, and a good file yields keys, tokens and certificates with their rules.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCESS_CLASSES, ACCESS_NEEDS, ALL_RIGHTS, FORBIDDEN_REASONS, MAX_PREFIXES, MAX_PREFIX_SIZE, parseAccessRule } from '../../src/protocol/access.js';
import { Opcode } from '../../src/protocol/constants.js';
import { generateKey, loadKeyFile, MIN_TOKEN_SIZE, readKeyFile, RESERVED_IDS } from '../../src/crypto/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'conduit-access-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** Writes `text` to a fresh key file and returns its path. */
function keyFile(text: string): string {
  files += 1;
  const path = join(dir, `keys-${files}.toml`);
  writeFileSync(path, text);
  return path;
}
const KEY_A = generateKey();
const KEY_B = generateKey();
const TOKEN = 'tok-0123456789abcdef';

describe('ACCESS_NEEDS (spec §3.17)', () => {
  it('has an entry for every request opcode and RELOAD, and nothing else', () => {
    const names = [...new Set([...Object.keys(Opcode), 'RELOAD'])].sort();
    expect(Object.keys(ACCESS_NEEDS).sort()).toEqual(names);
  });

  it('gives each operation the classes decision 2 names', () => {
    const classes = Object.fromEntries(Object.entries(ACCESS_NEEDS).map(([op, n]) => [op, [...n.classes].sort().join('+')]));
    expect(classes).toEqual({
      GET: 'read', GETS: 'read', TTL: 'read', LIST: 'read', SCAN: 'read', TRACKING: 'read', STATS: 'read',
      SET: 'write', DELETE: 'write', INCR: 'write', RENEW: 'write',
      GAT: 'read+write', LEASE: 'read+write',
      FLUSH: 'admin', SHUTDOWN: 'admin', RELOAD: 'admin',
      HEALTH: '', CAPS: '', TOPOLOGY: '', HELLO: '',
    });
  });

  it('gives each operation its key scope: one key, a filtered answer, TRACKING prefixes, or none', () => {
    for (const [op, n] of Object.entries(ACCESS_NEEDS)) {
      const expected = op === 'LIST' || op === 'SCAN' ? 'filter' : op === 'TRACKING' ? 'prefixes' : ['STATS', 'FLUSH', 'SHUTDOWN', 'RELOAD', 'HEALTH', 'CAPS', 'TOPOLOGY', 'HELLO'].includes(op) ? 'none' : 'key';
      expect(n.keys, op).toBe(expected);
    }
  });

  it('lets admin alone stand in only for STATS (the server-wide object is admin\'s)', () => {
    const orAdmin = Object.entries(ACCESS_NEEDS).filter(([, n]) => n.orAdmin).map(([op]) => op);
    expect(orAdmin).toEqual(['STATS']);
  });

  it('is frozen, entries included', () => {
    expect(Object.isFrozen(ACCESS_NEEDS)).toBe(true);
    for (const n of Object.values(ACCESS_NEEDS)) {
      expect(Object.isFrozen(n)).toBe(true);
      expect(Object.isFrozen(n.classes)).toBe(true);
    }
  });

  it('lists the classes and reasons in STATS order', () => {
    expect(ACCESS_CLASSES).toEqual(['read', 'write', 'admin']);
    expect(FORBIDDEN_REASONS).toEqual(['read', 'write', 'admin', 'prefix']);
    expect(ALL_RIGHTS.prefixes).toBeUndefined();
    expect([...ALL_RIGHTS.allow]).toEqual(['read', 'write', 'admin']);
  });
});

describe('parseAccessRule', () => {
  const where = 'keys.toml: keys[0]';

  it('without prefixes or allow: every key, every class', () => {
    const rule = parseAccessRule({}, where);
    expect(rule.prefixes).toBeUndefined();
    expect([...rule.allow]).toEqual(['read', 'write', 'admin']);
    expect(Object.isFrozen(rule)).toBe(true);
  });

  it('reads prefixes as UTF-8 bytes and allow as a set (duplicates fold)', () => {
    const rule = parseAccessRule({ prefixes: ['app1:', 'é:', ''], allow: ['read', 'read', 'write'] }, where);
    expect(rule.prefixes).toEqual([Buffer.from('app1:'), Buffer.from('é:', 'utf8'), Buffer.alloc(0)]);
    expect([...rule.allow]).toEqual(['read', 'write']);
  });

  it('an empty allow allows nothing; empty prefixes: no key', () => {
    const rule = parseAccessRule({ prefixes: [], allow: [] }, where);
    expect(rule.prefixes).toEqual([]);
    expect(rule.allow.size).toBe(0);
  });

  it.each([
    [{ allow: 'read' }, `${where}: allow must be an array of "read", "write", "admin"`],
    [{ allow: ['read', 'delete'] }, `${where}: allow has "delete"; the classes are "read", "write" and "admin"`],
    [{ allow: [1] }, `${where}: allow has 1; the classes are "read", "write" and "admin"`],
    [{ allow: ['READ'] }, `${where}: allow has "READ"; the classes are "read", "write" and "admin"`],
    [{ prefixes: 'app1:' }, `${where}: prefixes must be an array of strings`],
    [{ prefixes: ['a', 7] }, `${where}: prefixes[1] must be a string`],
    [{ prefixes: ['x'.repeat(MAX_PREFIX_SIZE + 1)] }, `${where}: prefixes[0] is 251 bytes, at most 250 (the longest key)`],
    [{ prefixes: ['é'.repeat(126)] }, `${where}: prefixes[0] is 252 bytes, at most 250 (the longest key)`],
    [{ prefixes: Array.from({ length: MAX_PREFIXES + 1 }, (_, i) => `p${i}:`) }, `${where}: prefixes has 65 entries, at most 64`],
  ])('refuses %j', (entry, message) => {
    expect(() => parseAccessRule(entry, where)).toThrow(new TypeError(message));
  });

  it('accepts the limits themselves: 64 prefixes of 250 bytes', () => {
    const rule = parseAccessRule({ prefixes: Array.from({ length: MAX_PREFIXES }, (_, i) => `${i}`.padEnd(MAX_PREFIX_SIZE, 'x')) }, where);
    expect(rule.prefixes).toHaveLength(MAX_PREFIXES);
  });
});

describe('readKeyFile: refusals', () => {
  const refusals: [string, string, (path: string) => string][] = [
    ['an unknown table', `[[users]]\nid = "a"\n`, (p) => `${p}: unknown table 'users'; a key file has [[keys]], [[tokens]] and [[certificates]]`],
    ['an unknown field of a key (a misspelt prefix)', `[[keys]]\nid = "a"\nkey = "${KEY_A}"\nprefix = ["app1:"]\n`, (p) => `${p}: keys[0]: unknown field 'prefix' (a keys entry has id, key, prefixes, allow)`],
    ['an unknown field of a token', `[[tokens]]\nid = "t"\ntoken = "${TOKEN}"\nkey = "x"\n`, (p) => `${p}: tokens[0]: unknown field 'key' (a tokens entry has id, token, prefixes, allow)`],
    ['an unknown field of a certificate', `[[certificates]]\nid = "c"\nsubject = "cn"\nallowed = ["read"]\n`, (p) => `${p}: certificates[0]: unknown field 'allowed' (a certificates entry has id, subject, prefixes, allow)`],
    ['the reserved id default', `[[tokens]]\nid = "default"\ntoken = "${TOKEN}"\n`, (p) => `${p}: tokens[0]: id 'default' is reserved`],
    ['the reserved id http-token', `[[keys]]\nid = "http-token"\nkey = "${KEY_A}"\n`, (p) => `${p}: keys[0]: id 'http-token' is reserved`],
    ['one id in two tables', `[[keys]]\nid = "app1"\nkey = "${KEY_A}"\n\n[[tokens]]\nid = "app1"\ntoken = "${TOKEN}"\n`, (p) => `${p}: tokens[0]: id 'app1' appears twice in the file`],
    ['one id twice in a table', `[[keys]]\nid = "app1"\nkey = "${KEY_A}"\n\n[[keys]]\nid = "app1"\nkey = "${KEY_B}"\n`, (p) => `${p}: keys[1]: id 'app1' appears twice in the file`],
    ['a short token', `[[tokens]]\nid = "t"\ntoken = "${'x'.repeat(MIN_TOKEN_SIZE - 1)}"\n`, (p) => `${p}: tokens[0]: token must be at least 16 bytes (conduit-cli keygen makes one)`],
    ['a token that is not a string', `[[tokens]]\nid = "t"\ntoken = 12345\n`, (p) => `${p}: tokens[0]: needs a string token`],
    ['a bad class', `[[keys]]\nid = "a"\nkey = "${KEY_A}"\nallow = ["read", "flush"]\n`, (p) => `${p}: keys[0]: allow has "flush"; the classes are "read", "write" and "admin"`],
    ['a long prefix', `[[tokens]]\nid = "t"\ntoken = "${TOKEN}"\nprefixes = ["${'p'.repeat(251)}"]\n`, (p) => `${p}: tokens[0]: prefixes[0] is 251 bytes, at most 250 (the longest key)`],
    ['too many prefixes', `[[certificates]]\nid = "c"\nsubject = "cn"\nprefixes = [${Array.from({ length: 65 }, (_, i) => `"p${i}:"`).join(', ')}]\n`, (p) => `${p}: certificates[0]: prefixes has 65 entries, at most 64`],
    ['a certificate without subject', `[[certificates]]\nid = "c"\nsubject = ""\n`, (p) => `${p}: certificates[0]: needs a non-empty string subject (the certificate's CN)`],
    ['an entry without id', `[[keys]]\nkey = "${KEY_A}"\n`, (p) => `${p}: keys[0]: needs a string id`],
    ['a key that is not 32 bytes', `[[keys]]\nid = "a"\nkey = "AAAA"\n`, (p) => `${p}: keys[0]: key must be 32 bytes in base64 (conduit-cli keygen makes one)`],
    ['a weak key', `[[keys]]\nid = "a"\nkey = "${Buffer.alloc(32, 7).toString('base64')}"\n`, (p) => `${p}: keys[0]: key 'a' is too weak: all 32 bytes are 0x07 (a key needs at least 8 distinct byte values in 32); make a random one with conduit-cli keygen`],
    ['keys = a plain table', `keys = 3\n`, (p) => `${p}: keys must be [[keys]] tables`],
    ['no entries at all', `\n`, (p) => `${p}: expected [[keys]] entries with id and key (or [[tokens]], [[certificates]])`],
  ];

  it.each(refusals)('refuses %s with a message naming the file, entry and field', (_name, text, message) => {
    const path = keyFile(text);
    expect(() => readKeyFile(path)).toThrow(new TypeError(message(path)));
  });

  it('reserves default, http-token and unmatched-certificate (the ids counters use for other credentials)', () => {
    expect([...RESERVED_IDS].sort()).toEqual(['default', 'http-token', 'unmatched-certificate']);
    const path = keyFile(['[[tokens]]', 'id = "unmatched-certificate"', `token = "${TOKEN}"`].join('\n'));
    expect(() => readKeyFile(path)).toThrow(new TypeError(`${path}: tokens[0]: id 'unmatched-certificate' is reserved`));
  });

  it('refuses one secret under two ids, for keys and for tokens (a limited id must not share an unlimited one\'s secret)', () => {
    const keys = keyFile(['[[keys]]', 'id = "ops"', `key = "${KEY_A}"`, '', '[[keys]]', 'id = "app1"', `key = "${KEY_A}"`, 'prefixes = ["app1:"]'].join('\n'));
    expect(() => readKeyFile(keys)).toThrow(new TypeError(`${keys}: keys[1] has the same key as keys[0]: each id needs its own key`));
    const tokens = keyFile(['[[tokens]]', 'id = "a"', `token = "${TOKEN}"`, '', '[[tokens]]', 'id = "b"', `token = "${TOKEN}"`].join('\n'));
    expect(() => readKeyFile(tokens)).toThrow(new TypeError(`${tokens}: tokens[1] has the same token as tokens[0]: each id needs its own token`));
  });
});

describe('readKeyFile: a good file', () => {
  const text = [
    '[[keys]]', 'id = "admin"', `key = "${KEY_A}"`, '',
    '[[keys]]', 'id = "app1"', `key = "${KEY_B}"`, 'prefixes = ["app1:", "shared:"]', 'allow = ["read", "write"]', '',
    '[[tokens]]', 'id = "web"', `token = "${TOKEN}"`, 'prefixes = ["app1:"]', 'allow = ["read"]', '',
    '[[certificates]]', 'id = "batch"', 'subject = "batch.example"', 'allow = ["admin"]', '',
  ].join('\n');

  it('yields the keys, tokens and certificates with their rules', () => {
    const file = readKeyFile(keyFile(text));
    expect(file.keys.map((k) => k.id)).toEqual(['admin', 'app1']);
    expect(file.keys[0]?.secret).toEqual(Buffer.from(KEY_A, 'base64'));
    expect(file.keys[0]?.rule?.prefixes).toBeUndefined();
    expect([...(file.keys[0]?.rule?.allow ?? [])]).toEqual(['read', 'write', 'admin']);
    expect(file.keys[1]?.rule?.prefixes).toEqual([Buffer.from('app1:'), Buffer.from('shared:')]);
    expect([...(file.keys[1]?.rule?.allow ?? [])]).toEqual(['read', 'write']);
    expect(file.tokens).toHaveLength(1);
    expect(file.tokens[0]).toMatchObject({ id: 'web', token: TOKEN });
    expect(file.tokens[0]?.rule.prefixes).toEqual([Buffer.from('app1:')]);
    expect([...(file.tokens[0]?.rule.allow ?? [])]).toEqual(['read']);
    expect(file.certificates).toHaveLength(1);
    expect(file.certificates[0]).toMatchObject({ id: 'batch', subject: 'batch.example' });
    expect([...(file.certificates[0]?.rule.allow ?? [])]).toEqual(['admin']);
  });

  it('loadKeyFile (clients) keeps only its keys', () => {
    expect(loadKeyFile(keyFile(text)).map((k) => k.id)).toEqual(['admin', 'app1']);
  });

  it('a file of only tokens is good for the server and refused by loadKeyFile', () => {
    const path = keyFile(`[[tokens]]\nid = "web"\ntoken = "${TOKEN}"\n`);
    expect(readKeyFile(path).keys).toEqual([]);
    expect(() => loadKeyFile(path)).toThrow(new TypeError(`${path}: expected [[keys]] entries with id and key`));
  });
});
