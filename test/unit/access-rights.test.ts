// Issue 25: an identity's rights (Rights), one generation of credentials (AccessTable), the
// reload that swaps them (AccessControl, spec §6.8), the per-identity counters, and the store's
// LIST/SCAN filter that keeps a limited identity's answers inside its prefixes.
import { describe, expect, it } from 'vitest';
import { ACCESS_NEEDS, type AccessClass, type AccessRule } from '../../src/protocol/access.js';
import { decodeScanBody, type ScanPage } from '../../src/protocol/scan-body.js';
import { Rights } from '../../src/server/access/rights.js';
import { AccessTable, UNMATCHED_CERTIFICATE_ID, type AccessConfig } from '../../src/server/access/access-table.js';
import { AccessControl, type ReloadableSession } from '../../src/server/access/access-control.js';
import { AccessCounters, scopedStats } from '../../src/server/access/access-counters.js';
import type { Logger } from '../../src/config/logger.js';
import { Store } from '../../src/store/store.js';

const rule = (prefixes: string[] | undefined, allow: AccessClass[] = ['read', 'write', 'admin']): AccessRule => ({
  prefixes: prefixes?.map((p) => Buffer.from(p, 'latin1')),
  allow: new Set(allow),
});
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const secret = (seed: number): Buffer => Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 7) & 0xff));

describe('Rights', () => {
  it('check: the first missing class, then the prefix; undefined when allowed', () => {
    const r = new Rights('app1', 'key', rule(['app1:'], ['read']));
    const inside = bytes('app1:x');
    const outside = bytes('app2:x');
    expect(r.check(ACCESS_NEEDS.GET, inside, 0, inside.length)).toBeUndefined();
    expect(r.check(ACCESS_NEEDS.GET, outside, 0, outside.length)).toBe('prefix');
    expect(r.check(ACCESS_NEEDS.SET, inside, 0, inside.length)).toBe('write');
    expect(r.check(ACCESS_NEEDS.SET, outside, 0, outside.length)).toBe('write');
    expect(r.check(ACCESS_NEEDS.GAT, inside, 0, inside.length)).toBe('write');
    expect(r.check(ACCESS_NEEDS.FLUSH)).toBe('admin');
    expect(r.check(ACCESS_NEEDS.HEALTH)).toBeUndefined();
    // LIST and SCAN filter their answer; check does not refuse them for a prefix.
    expect(r.check(ACCESS_NEEDS.LIST, outside, 0, outside.length)).toBeUndefined();
    const w = new Rights('w', 'key', rule(['app1:'], ['write']));
    expect(w.check(ACCESS_NEEDS.GAT, inside, 0, inside.length)).toBe('read');
    expect(w.check(ACCESS_NEEDS.LIST)).toBe('read');
  });

  it('check reads the key at start/length inside a larger source', () => {
    const r = new Rights('app1', 'key', rule(['app1:'], ['read']));
    const frame = Buffer.concat([bytes('xxxx'), bytes('app1:k'), bytes('app2:k')]);
    expect(r.check(ACCESS_NEEDS.GET, frame, 4, 6)).toBeUndefined();
    expect(r.check(ACCESS_NEEDS.GET, frame, 10, 6)).toBe('prefix');
    // A key shorter than the prefix is outside, even when the bytes after it would match.
    expect(r.check(ACCESS_NEEDS.GET, frame, 4, 3)).toBe('prefix');
  });

  it('keyAllowed for binary keys: every byte value against two-byte prefixes of every byte value', () => {
    const wrong: string[] = [];
    for (let p = 0; p < 256; p += 1) {
      const r = new Rights(`p${p}`, 'key', { prefixes: [Buffer.from([p, 0xff - p])], allow: new Set(['read']) });
      for (let b = 0; b < 256; b += 1) {
        if (r.keyAllowed(Buffer.from([p, b, 0x00]), 0, 3) !== (b === 0xff - p)) wrong.push(`prefix ${p}: second byte ${b}`);
        if (r.keyAllowed(Buffer.from([b, 0xff - p]), 0, 2) !== (b === p)) wrong.push(`prefix ${p}: first byte ${b}`);
      }
      if (r.keyAllowed(Buffer.from([p]), 0, 1)) wrong.push(`prefix ${p}: its first byte alone`);
    }
    expect(wrong).toEqual([]);
  });

  it('"" among the prefixes is every key; no prefixes field is every key; [] is no key', () => {
    const empty = new Rights('e', 'token', { prefixes: [bytes('a:'), Buffer.alloc(0)], allow: new Set(['read']) });
    const all = new Rights('all', 'token', rule(undefined, ['read']));
    const none = new Rights('none', 'token', rule([], ['read']));
    for (const key of [bytes(''), bytes('a:1'), Buffer.from([0, 255, 10])]) {
      expect(empty.keyAllowed(key, 0, key.length)).toBe(true);
      expect(all.keyAllowed(key, 0, key.length)).toBe(true);
      expect(none.keyAllowed(key, 0, key.length)).toBe(false);
    }
    expect(empty.everyKey && all.everyKey).toBe(true);
    expect(none.everyKey).toBe(false);
    expect(empty.unrestricted).toBe(false); // read only
    expect(new Rights('x', 'key', { prefixes: [Buffer.alloc(0)], allow: new Set(['read', 'write', 'admin']) }).unrestricted).toBe(true);
  });

  it('covers: a TRACKING prefix inside one of the prefixes', () => {
    const r = new Rights('app1', 'key', rule(['app1:', 'shared:'], ['read']));
    expect(r.covers(bytes('app1:'))).toBe(true);
    expect(r.covers(bytes('app1:users:'))).toBe(true);
    expect(r.covers(bytes('shared:x'))).toBe(true);
    expect(r.covers(bytes('app1'))).toBe(false);
    expect(r.covers(bytes(''))).toBe(false);
    expect(r.covers(bytes('app2:'))).toBe(false);
    expect(Rights.all('a', 'key').covers(bytes(''))).toBe(true);
    expect(Rights.none('n', 'certificate').covers(bytes('app1:'))).toBe(false);
  });

  it('Rights.all is unrestricted; Rights.none refuses everything but the class-less operations', () => {
    const all = Rights.all('admin', 'key');
    expect(all.unrestricted).toBe(true);
    for (const n of Object.values(ACCESS_NEEDS)) expect(all.check(n, bytes('z'), 0, 1)).toBeUndefined();
    const none = Rights.none(UNMATCHED_CERTIFICATE_ID, 'certificate');
    expect(none.check(ACCESS_NEEDS.GET, bytes('a'), 0, 1)).toBe('read');
    expect(none.check(ACCESS_NEEDS.CAPS)).toBeUndefined();
    expect(none.check(ACCESS_NEEDS.TOPOLOGY)).toBeUndefined();
    expect(['read', 'write', 'admin'].map((c) => none.may(c as AccessClass))).toEqual([false, false, false]);
  });

  it('message names the identity and the class or prefix rule', () => {
    const r = new Rights('app1', 'key', rule(['app1:', 'shared:'], ['read']));
    expect(r.message('write')).toBe("key 'app1' may not write (allow: read)");
    expect(r.message('admin')).toBe("key 'app1' may not admin (allow: read)");
    expect(r.message('prefix')).toBe('key \'app1\' may only touch keys starting with "app1:" or "shared:"');
    expect(new Rights('web', 'token', rule([], [])).message('read')).toBe("token 'web' may not read (allow: nothing)");
    expect(new Rights('web', 'token', rule([], [])).message('prefix')).toBe("token 'web' may touch no key");
  });

  it('describe shows prefixes (null: every key) and classes', () => {
    expect(new Rights('app1', 'key', rule(['app1:'], ['write', 'read'])).describe()).toEqual({ key_id: 'app1', kind: 'key', prefixes: ['app1:'], allow: ['read', 'write'] });
    expect(Rights.all('default', 'password').describe()).toEqual({ key_id: 'default', kind: 'password', prefixes: null, allow: ['read', 'write', 'admin'] });
  });
});

const config = (over: Partial<AccessConfig> = {}): AccessConfig => ({
  keys: [
    { id: 'admin', secret: secret(1) },
    { id: 'app1', secret: secret(2), rule: rule(['app1:'], ['read', 'write']) },
    { id: 'app2', secret: secret(3), rule: rule(['app2:'], ['read']) },
  ],
  tokens: [{ id: 'web', token: 'web-token-0123456789', rule: rule(['app1:'], ['read']) }],
  certificates: [{ id: 'batch', subject: 'batch.example', rule: rule(undefined, ['admin']) }],
  ...over,
});

describe('AccessTable', () => {
  const table = new AccessTable(config(), { respPassword: 'resp-pass', httpToken: 'http-bearer-token' });

  it('looks up keys, tokens, users and certificates', () => {
    expect(table.secure).toBe(true);
    expect([...(table.keys?.keys() ?? [])]).toEqual(['admin', 'app1', 'app2']);
    expect(table.keys?.get('app1')).toEqual(secret(2));
    expect(table.forKey('admin')?.unrestricted).toBe(true);
    expect(table.forKey('app1')?.describe()).toEqual({ key_id: 'app1', kind: 'key', prefixes: ['app1:'], allow: ['read', 'write'] });
    expect(table.forKey('nobody')).toBeUndefined();
    expect(table.forToken('web-token-0123456789')?.id).toBe('web');
    expect(table.forToken('http-bearer-token')?.describe()).toMatchObject({ key_id: 'http-token', kind: 'password', prefixes: null });
    expect(table.forToken('web-token-012345678')).toBeUndefined();
    expect(table.forUser('web', bytes('web-token-0123456789'))?.id).toBe('web');
    expect(table.forUser('web', bytes('resp-pass'))).toBeUndefined();
    expect(table.forUser(undefined, bytes('resp-pass'))?.id).toBe('default');
    expect(table.forUser('default', bytes('resp-pass'))?.unrestricted).toBe(true);
    expect(table.forUser('default', bytes('web-token-0123456789'))).toBeUndefined();
    expect(table.forUser('app1', bytes('anything'))).toBeUndefined(); // keys are not RESP users
    expect(table.forCertificate('batch.example').describe()).toMatchObject({ key_id: 'batch', allow: ['admin'] });
    expect(table.forCertificate('other.example').id).toBe(UNMATCHED_CERTIFICATE_ID);
    expect(table.forCertificate(undefined).may('read')).toBe(false);
    expect(table.httpAuthRequired && table.respAuthRequired && table.certificateRules).toBe(true);
  });

  it('without certificate rules every certificate has every right; without tokens nothing needs auth', () => {
    const plain = new AccessTable({ keys: [], tokens: [], certificates: [] });
    expect(plain.secure).toBe(false);
    expect(plain.keys).toBeUndefined();
    expect(plain.forCertificate('anyone').unrestricted).toBe(true);
    expect(plain.httpAuthRequired || plain.respAuthRequired || plain.certificateRules).toBe(false);
    expect(plain.forUser(undefined, bytes('x'))).toBeUndefined();
  });

  it('holds after a reload: kept credentials hold (even with new rights), changed or removed ones do not', () => {
    const app1 = table.forKey('app1') as Rights;
    const app2 = table.forKey('app2') as Rights;
    const admin = table.forKey('admin') as Rights;
    const web = table.forToken('web-token-0123456789') as Rights;
    const batch = table.forCertificate('batch.example');
    const bearer = table.forToken('http-bearer-token') as Rights;
    const next = new AccessTable(
      config({
        keys: [
          { id: 'admin', secret: secret(1) },
          { id: 'app1', secret: secret(2), rule: rule(['app1:'], ['read']) }, // rights changed, key kept
          { id: 'app3', secret: secret(3) }, // app2 removed (its secret moved to another id)
        ],
        tokens: [{ id: 'web', token: 'web-token-changed-0000', rule: rule(['app1:'], ['read']) }],
        certificates: [{ id: 'batch', subject: 'batch2.example', rule: rule(undefined, ['admin']) }],
      }),
      { httpToken: 'http-bearer-token' },
    );
    expect(next.holds(admin, table.credentialOf(admin))).toBe(true);
    expect(next.holds(app1, table.credentialOf(app1))).toBe(true);
    expect(next.holds(app2, table.credentialOf(app2))).toBe(false);
    expect(next.holds(web, table.credentialOf(web))).toBe(false);
    expect(next.holds(batch, table.credentialOf(batch))).toBe(false);
    expect(next.holds(bearer, table.credentialOf(bearer))).toBe(true); // command-line credentials are not the file's
    expect(next.holds(app2, undefined)).toBe(true); // no credential kept: nothing to compare
    expect(table.credentialOf(app1)).not.toBe(table.credentialOf(app2));
  });
});

/** A logger that keeps its lines. */
function recorder(): Logger & { lines: { level: string; fields: object; message: string }[] } {
  const lines: { level: string; fields: object; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

class Session implements ReloadableSession {
  closed: string[] = [];
  constructor(
    readonly rights: Rights | undefined,
    readonly credential: string | undefined,
  ) {}
  disconnect(cause: 'key_removed', reason: string): void {
    this.closed.push(`${cause}: ${reason}`);
  }
}

describe('AccessControl.reload (spec §6.8)', () => {
  function control(load?: () => AccessConfig, sessions: Session[] = []) {
    const logger = recorder();
    const access = new AccessControl(config(), {}, { logger, load, sessions: () => sessions });
    return { access, logger, sessions };
  }

  it('a loader that throws is refused with one error line; the table stays', () => {
    const { access, logger } = control(() => {
      throw new TypeError('keys.toml: keys[1]: allow has "delete"');
    });
    const before = access.table;
    expect(access.reload()).toEqual({ ok: false, error: 'keys.toml: keys[1]: allow has "delete"' });
    expect(access.table).toBe(before);
    expect(logger.lines).toEqual([{ level: 'error', fields: { error: 'keys.toml: keys[1]: allow has "delete"' }, message: 'reload refused: the previous keys and rights stay' }]);
    expect(access.toJSON()).toMatchObject({ reloads: 0, reload_failures: 1, last_reload: { result: 'refused', error: 'keys.toml: keys[1]: allow has "delete"' } });
  });

  it('without a key file there is nothing to reload', () => {
    const { access, logger } = control(undefined);
    expect(access.reloadable).toBe(false);
    expect(access.reload()).toEqual({ ok: false, error: 'nothing to reload: the server was started without --key-file' });
    expect(logger.lines).toHaveLength(1);
  });

  it('a switch between secure and plaintext mode is refused both ways', () => {
    const { access, logger } = control(() => config({ keys: [] }));
    const before = access.table;
    const out = access.reload();
    expect(out.ok).toBe(false);
    expect(!out.ok && out.error).toMatch(/cannot turn secure mode off/);
    expect(access.table).toBe(before);
    const plain = new AccessControl({ keys: [], tokens: config().tokens, certificates: [] }, {}, { logger, load: () => config(), sessions: () => [] });
    const out2 = plain.reload();
    expect(!out2.ok && out2.error).toMatch(/cannot turn a plaintext server into secure mode/);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  it('closes exactly the sessions whose credential went; others keep their rights', () => {
    const table = new AccessTable(config());
    const mk = (rights: Rights | undefined) => new Session(rights, rights === undefined ? undefined : table.credentialOf(rights));
    const admin = mk(table.forKey('admin'));
    const app1 = mk(table.forKey('app1'));
    const app1b = mk(table.forKey('app1'));
    const app2 = mk(table.forKey('app2'));
    const web = mk(table.forToken('web-token-0123456789'));
    const plaintext = mk(undefined);
    const sessions = [admin, app1, app1b, app2, web, plaintext];
    let next = config();
    const { access, logger } = control(() => next, sessions);
    next = config({
      keys: [{ id: 'admin', secret: secret(1) }, { id: 'app1', secret: secret(2), rule: rule(['app1:'], ['read']) }],
      tokens: [{ id: 'web', token: 'web-token-0123456789', rule: rule(['app9:'], ['read']) }],
    });
    expect(access.reload()).toEqual({ ok: true, keys: 2, tokens: 1, certificates: 1, closed: 1 });
    expect(app2.closed).toEqual(["key_removed: a reload removed its key 'app2'"]);
    for (const s of [admin, app1, app1b, web, plaintext]) expect(s.closed).toEqual([]);
    // The sessions keep the rights they started with; new ones get the new rights.
    expect(app1.rights?.may('write')).toBe(true);
    expect(access.table.forKey('app1')?.may('write')).toBe(false);
    expect(access.table.forKey('app2')).toBeUndefined();
    expect(logger.lines).toEqual([{ level: 'info', fields: { keys: 2, tokens: 1, certificates: 1, closed: 1 }, message: 'access reloaded' }]);
    // A closed session leaves the server's set; a changed key secret closes too.
    sessions.splice(sessions.indexOf(app2), 1);
    next = config({ keys: [{ id: 'admin', secret: secret(1) }, { id: 'app1', secret: secret(9) }] });
    expect(access.reload()).toMatchObject({ ok: true, closed: 2 });
    expect(app1.closed).toHaveLength(1);
    expect(app1b.closed).toHaveLength(1);
    expect(admin.closed).toEqual([]);
    expect(access.toJSON()).toMatchObject({ keys: 2, reloads: 2, reload_failures: 0, last_reload: { result: 'ok', closed: 2 } });
  });

  it('reload(config) takes the given config instead of the loader', () => {
    const { access } = control(() => {
      throw new TypeError('not called');
    });
    expect(access.reload(config({ tokens: [] }))).toEqual({ ok: true, keys: 3, tokens: 0, certificates: 1, closed: 0 });
    expect(access.table.httpAuthRequired).toBe(false);
  });
});

describe('AccessCounters', () => {
  it('counts refusals per identity and reason, and fires the metric hook', () => {
    const counters = new AccessCounters();
    const hook: string[] = [];
    counters.onForbidden = (id, reason) => hook.push(`${id}/${reason}`);
    const app1 = new Rights('app1', 'key', rule(['app1:'], ['read']));
    const mine = counters.of('app1');
    expect(counters.of('app1')).toBe(mine);
    counters.forbidden(app1, 'write', mine);
    counters.forbidden(app1, 'prefix');
    counters.forbidden(Rights.none('web', 'token'), 'read');
    mine.requests += 3;
    expect(hook).toEqual(['app1/write', 'app1/prefix', 'web/read']);
    expect(counters.forbiddenTotal).toBe(3);
    expect(counters.toJSON()).toEqual({
      app1: { requests: 3, keyspace_hits: 0, keyspace_misses: 0, total_sets: 0, forbidden: { read: 0, write: 1, admin: 0, prefix: 1 } },
      web: { requests: 0, keyspace_hits: 0, keyspace_misses: 0, total_sets: 0, forbidden: { read: 1, write: 0, admin: 0, prefix: 0 } },
    });
    expect(JSON.parse(scopedStats(app1, mine).toString())).toEqual({
      scope: 'identity', key_id: 'app1', kind: 'key', prefixes: ['app1:'], allow: ['read'],
      requests: 3, keyspace_hits: 0, keyspace_misses: 0, total_sets: 0, forbidden: { read: 0, write: 1, admin: 0, prefix: 1 },
    });
  });
});

describe('Store LIST and SCAN with a filter', () => {
  const options = { ttlMs: 0, nx: false, xx: false, keepTtl: false };
  const store = new Store({ maxMemory: 64 * 1024 * 1024, shards: 4, eviction: 'lru' });
  const inside: string[] = [];
  for (let i = 0; i < 3000; i += 1) {
    const key = i % 3 === 0 ? `app1:${i}` : i % 3 === 1 ? `app2:${i}` : `app1${i}`;
    if (key.startsWith('app1:')) inside.push(key);
    store.set(Buffer.from(key), Buffer.from('v'), options);
  }
  const binaryKey = Buffer.from([0x61, 0x70, 0x70, 0x31, 0x3a, 0x00, 0xff]);
  store.set(binaryKey, Buffer.from('v'), options);
  inside.push(binaryKey.toString('latin1'));
  const rights = new Rights('app1', 'key', rule(['app1:'], ['read']));
  const filter = (s: Uint8Array, a: number, l: number): boolean => rights.keyAllowed(s, a, l);

  it('LIST never returns a key the filter refuses, whatever the prefix', () => {
    for (const prefix of ['', 'a', 'app', 'app1', 'app1:', 'app2:', 'app1:1']) {
      const { keys } = store.list(Buffer.from(prefix), 65_535, Infinity, filter);
      expect(keys.every((k) => k.toString('latin1').startsWith('app1:'))).toBe(true);
      expect(keys.map((k) => k.toString('latin1')).sort()).toEqual(inside.filter((k) => k.startsWith(prefix)).sort());
    }
  });

  it('SCAN returns every allowed key at least once and never a refused one, for any count', () => {
    for (const [prefix, count] of [['', 1], ['', 100], ['app', 7], ['app2:', 50], ['app1:', 1000]] as const) {
      const seen = new Set<string>();
      let cursor = 0n;
      let calls = 0;
      do {
        const page = decodeScanBody(store.scan(cursor, count, Buffer.from(prefix), 65_500, filter)) as ScanPage;
        for (const k of page.keys) {
          expect(k.toString('latin1').startsWith('app1:')).toBe(true);
          seen.add(k.toString('latin1'));
        }
        cursor = page.cursor;
        calls += 1;
      } while (cursor !== 0n && calls < 100_000);
      expect(cursor).toBe(0n);
      expect([...seen].sort()).toEqual(inside.filter((k) => k.startsWith(prefix)).sort());
    }
  });
});
