// Issue 25's property: no sequence of requests by an identity limited to `app1:` changes or
// reveals a key outside `app1:`. Random requests of every operation (keys and LIST/SCAN/TRACKING
// prefixes inside and outside, random values) go to a real ConduitServer on 127.0.0.1 — through
// the binary protocol in secure mode, and through the RESP port as a `[[tokens]]` user — and
// after each sequence every outside key is compared, through an unlimited admin identity, with
// its state before; no answer (nor INVALIDATE push) may carry an outside key's value, nor its
// name unless the request itself named it; LIST, SCAN and KEYS never list one.
// (TRACKING is turned off right after each TRACKING request: ConduitClient without a near cache
// ends its connection on an INVALIDATE push; access-binary's tests cover the pushes' prefixes.)
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposedServer } from '../../src/cli/compose.js';
import { ConduitClient, Status, TrackingMode, type Request } from '../../src/index.js';
import type { PreSharedKey } from '../../src/crypto/handshake.js';
import type { AccessToken } from '../../src/crypto/keys.js';
import { decodeListBody } from '../../src/protocol/messages.js';
import { decodeScanBody, type ScanPage } from '../../src/protocol/scan-body.js';
import { RespWire, decodeReply, type RespValue } from '../support/resp-wire.js';

const PREFIX = 'app1:';
const rule = { prefixes: [Buffer.from(PREFIX)], allow: new Set(['read', 'write'] as const) };
const adminKey: PreSharedKey = { id: 'admin', secret: randomBytes(32) };
const limitedKey: PreSharedKey = { id: 'app1', secret: randomBytes(32), rule };
const limitedToken: AccessToken = { id: 'web1', token: `web1-${randomBytes(12).toString('hex')}`, rule };

/**
 * Keys outside `app1:`: another app's, near misses of the prefix (no colon, other case, one
 * byte off, a NUL, binary), and the empty-prefix neighbourhood. Each holds a distinctive value.
 */
const OUTSIDE_KEYS: Buffer[] = [
  'app2:secret1', 'app2:secret2', 'zz-outside-1', 'app1', 'APP1:k', 'app1;k', 'app:1k', 'ap', 'a', 'app10:k', 'shared:x',
].map((k) => Buffer.from(k)).concat([Buffer.from([0x61, 0x70, 0x70, 0x31, 0x00, 0x3a]), Buffer.from([0xff, 0x61, 0x70, 0x70, 0x31, 0x3a]), Buffer.from([0x00])]);
const outsideValue = (i: number): Buffer => Buffer.from(`OUTSIDE-VALUE-${i}-${randomBytes(6).toString('hex')}`);
const OUTSIDE_VALUES = OUTSIDE_KEYS.map((_, i) => outsideValue(i));
/** Names distinctive enough that finding them in an answer means they leaked ('app1', 'a' are in every inside key). */
const DISTINCTIVE = OUTSIDE_KEYS.filter((k) => k.length >= 6 && !k.subarray(0, 5).equals(Buffer.from(PREFIX)) && !k.equals(Buffer.from('app1;k')));
const isInside = (key: Buffer): boolean => key.subarray(0, PREFIX.length).equals(Buffer.from(PREFIX)) && key.length >= PREFIX.length;

const keyArb = fc.oneof(
  fc.constantFrom(...OUTSIDE_KEYS),
  fc.constantFrom('app1:a', 'app1:b', 'app1:c', 'app1:', 'app1:n').map((k) => Buffer.from(k)),
  fc.uint8Array({ minLength: 0, maxLength: 8 }).map((tail) => Buffer.concat([Buffer.from(PREFIX), tail])),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((u) => Buffer.from(u)),
);
const prefixArb = fc.oneof(
  fc.constantFrom('', 'a', 'ap', 'app', 'app1', 'app1:', 'app1:a', 'app2:', 'zz', 'APP1:', 'shared:').map((p) => Buffer.from(p)),
  fc.uint8Array({ maxLength: 6 }).map((u) => Buffer.from(u)),
);
const valueArb = fc.oneof(fc.constantFrom('1', '42', '-7', 'v'), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 12 })).map((v) => Buffer.from(v));
const ttlArb = fc.constantFrom(0, 1, 50, 60_000);

const requestArb: fc.Arbitrary<Request> = fc.oneof(
  keyArb.map((key): Request => ({ op: 'GET', key })),
  keyArb.map((key): Request => ({ op: 'GETS', key })),
  keyArb.map((key): Request => ({ op: 'TTL', key })),
  fc
    .record({ key: keyArb, value: valueArb, ttlMs: ttlArb, nx: fc.boolean(), xx: fc.boolean(), version: fc.constantFrom(undefined, 1n, 5n), leaseToken: fc.constantFrom(undefined, 3n), quiet: fc.boolean() })
    // A lease-token SET is plain otherwise (the encoder refuses it with NX, XX or a version).
    .map(({ nx, xx, version, leaseToken, ...r }): Request =>
      leaseToken !== undefined
        ? { op: 'SET', ...r, nx: false, xx: false, keepTtl: false, leaseToken }
        : { op: 'SET', ...r, nx: nx && !xx && version === undefined, xx, keepTtl: false, ...(version === undefined ? {} : { version }) },
    ),
  fc.record({ key: keyArb, quiet: fc.boolean() }).map((r): Request => ({ op: 'DELETE', ...r })),
  fc.record({ key: keyArb, delta: fc.bigInt({ min: -5n, max: 5n }), ttlMs: ttlArb }).map((r): Request => ({ op: 'INCR', ...r })),
  fc.record({ key: keyArb, ttlMs: ttlArb, quiet: fc.boolean() }).map((r): Request => ({ op: 'RENEW', ...r })),
  fc.record({ key: keyArb, ttlMs: ttlArb }).map((r): Request => ({ op: 'GAT', ...r })),
  fc.record({ key: keyArb, leaseMs: fc.constantFrom(1, 1_000), staleOk: fc.boolean() }).map((r): Request => ({ op: 'LEASE', ...r })),
  fc.record({ prefix: prefixArb, limit: fc.constantFrom(1, 3, 1000, 65_535) }).map((r): Request => ({ op: 'LIST', ...r })),
  fc.record({ prefix: prefixArb, count: fc.constantFrom(1, 2, 100, 65_535), cursor: fc.constantFrom(0n, 1n, 12_345n, 2n ** 63n) }).map((r): Request => ({ op: 'SCAN', ...r })),
  fc.array(prefixArb, { minLength: 1, maxLength: 4 }).map((prefixes): Request => ({ op: 'TRACKING', mode: TrackingMode.PREFIXES, prefixes })),
  fc.constantFrom<Request>({ op: 'TRACKING', mode: TrackingMode.KEYS }, { op: 'TRACKING', mode: TrackingMode.OFF }),
  fc.constantFrom<Request>({ op: 'STATS' }, { op: 'FLUSH' }, { op: 'SHUTDOWN' }, { op: 'RELOAD' }, { op: 'HEALTH' }, { op: 'TOPOLOGY' }, { op: 'CAPS', features: 0x7f }),
);

let composed: ComposedServer;
let port = 0;
let respPort = 0;
let admin: ConduitClient;
let limited: ConduitClient;

beforeAll(async () => {
  composed = new ComposedServer({ host: '127.0.0.1', port: 0, respPort: 0, shutdownTimeoutMs: 2_000, keys: [adminKey, limitedKey], tokens: [limitedToken] });
  ({ port, respPort: respPort = 0 } = await composed.listen());
  admin = new ConduitClient({ host: '127.0.0.1', port, key: { id: adminKey.id, secret: adminKey.secret } });
  limited = new ConduitClient({ host: '127.0.0.1', port, key: { id: limitedKey.id, secret: limitedKey.secret } });
  await Promise.all([admin.connect(), limited.connect()]);
  await Promise.all(OUTSIDE_KEYS.map((k, i) => admin.set(k, OUTSIDE_VALUES[i] as Buffer, i % 3 === 0 ? { ttlMs: 3_600_000 } : {})));
}, 30_000);

afterAll(async () => {
  admin?.destroy();
  limited?.destroy();
  await composed?.close();
}, 30_000);

/** Every outside key's value, version and whether it expires, as the admin sees them. */
async function outsideSnapshot(): Promise<string[]> {
  return Promise.all(
    OUTSIDE_KEYS.map(async (k) => {
      const got = await admin.getWithVersion(k);
      const ttl = await admin.ttl(k);
      return `${k.toString('hex')} ${got === undefined ? 'absent' : `${got.value.toString('latin1')} v${got.version}`} ttl:${ttl === undefined ? 'absent' : ttl === -1 ? 'none' : 'set'}`;
    }),
  );
}

/** What in `answer` reveals an outside key, given the `asked` bytes of the request that got it. */
function leaks(answer: Buffer, asked: Buffer): string[] {
  const found: string[] = [];
  OUTSIDE_VALUES.forEach((v, i) => {
    if (answer.includes(v)) found.push(`the value of ${OUTSIDE_KEYS[i]?.toString('hex')}`);
  });
  for (const name of DISTINCTIVE) if (answer.includes(name) && !asked.includes(name)) found.push(`the name ${name.toString('latin1')}`);
  return found;
}

/** The bytes of a request that may legitimately come back (its key or prefixes). */
function askedOf(request: Request): Buffer {
  if ('key' in request) return request.key;
  if (request.op === 'LIST' || request.op === 'SCAN') return request.prefix;
  if (request.op === 'TRACKING') return Buffer.concat(request.prefixes ?? []);
  return Buffer.alloc(0);
}

describe('a key limited to app1: never changes or reveals a key outside it', () => {
  it('through the binary protocol (secure mode), any sequence of any requests', async () => {
    const before = await outsideSnapshot();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 25 }), async (requests) => {
        const problems: string[] = [];
        for (const request of requests) {
          sent += 1;
          // A quiet write is answered only when refused: a HEALTH after it settles it (spec §2.5).
          const quiet = 'quiet' in request && request.quiet === true;
          // TRACKING is turned OFF again at once: this client has no near cache to take pushes
          // (an INVALIDATE to it would end the connection), and nothing else writes meanwhile.
          const [{ status, body }] = await Promise.all([
            limited.exchange(request),
            quiet ? limited.health() : undefined,
            request.op === 'TRACKING' ? limited.exchange({ op: 'TRACKING', mode: TrackingMode.OFF }) : undefined,
          ]);
          const where = `${request.op} ${askedOf(request).toString('hex')} → 0x${status.toString(16)}`;
          for (const leak of leaks(body, askedOf(request))) problems.push(`${where}: answer reveals ${leak}`);
          if (status === Status.OK && request.op === 'LIST') {
            const list = decodeListBody(body);
            if (!(list instanceof Error)) for (const k of list.keys) if (!isInside(k)) problems.push(`${where}: LIST listed ${k.toString('hex')}`);
          }
          if (status === Status.OK && request.op === 'SCAN') {
            const page = decodeScanBody(body) as ScanPage;
            for (const k of page.keys) if (!isInside(k)) problems.push(`${where}: SCAN listed ${k.toString('hex')}`);
          }
        }
        const after = await outsideSnapshot();
        if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`outside keys changed:\n${before.join('\n')}\n→\n${after.join('\n')}`);
        expect(problems).toEqual([]);
      }),
      { numRuns: 60, interruptAfterTimeLimit: 60_000 },
    );
    expect(sent).toBeGreaterThan(60);
  }, 120_000);

  it('through the RESP port (AUTH web1 token), any sequence of any commands', async () => {
    const before = await outsideSnapshot();
    const wire = await RespWire.connect(respPort);
    try {
      expect((await wire.command(['AUTH', limitedToken.id, limitedToken.token])).toString()).toBe('+OK\r\n');
      const k = keyArb;
      const commandArb: fc.Arbitrary<Buffer[]> = fc.oneof(
        k.map((key) => [Buffer.from('GET'), key]),
        fc.array(k, { minLength: 1, maxLength: 4 }).map((keys) => [Buffer.from('MGET'), ...keys]),
        fc.tuple(k, valueArb).map(([key, v]) => [Buffer.from('SET'), key, v]),
        fc.tuple(k, valueArb).map(([key, v]) => [Buffer.from('SET'), key, v, Buffer.from('GET')]),
        fc.array(fc.tuple(k, valueArb), { minLength: 1, maxLength: 3 }).map((pairs) => [Buffer.from('MSET'), ...pairs.flat()]),
        fc.array(k, { minLength: 1, maxLength: 3 }).map((keys) => [Buffer.from('DEL'), ...keys]),
        fc.array(k, { minLength: 1, maxLength: 3 }).map((keys) => [Buffer.from('EXISTS'), ...keys]),
        k.map((key) => [Buffer.from('INCR'), key]),
        k.map((key) => [Buffer.from('TTL'), key]),
        k.map((key) => [Buffer.from('GETDEL'), key]),
        k.map((key) => [Buffer.from('GETEX'), key, Buffer.from('PX'), Buffer.from('60000')]),
        k.map((key) => [Buffer.from('EXPIRE'), key, Buffer.from('60')]),
        k.map((key) => [Buffer.from('PERSIST'), key]),
        k.map((key) => [Buffer.from('APPEND'), key, Buffer.from('x')]),
        fc.tuple(k, k).map(([a, c]) => [Buffer.from('RENAME'), a, c]),
        fc.tuple(k, k).map(([a, c]) => [Buffer.from('COPY'), a, c]),
        fc.constantFrom('*', 'app*', 'app1:*', 'app2:*', '*secret*', '?pp1*', 'zz*', '[a-z]*').map((p) => [Buffer.from('KEYS'), Buffer.from(p)]),
        fc.tuple(fc.constantFrom('0', '1', '17'), fc.constantFrom('*', 'app2:*', '*')).map(([c, p]) => [Buffer.from('SCAN'), Buffer.from(c), Buffer.from('MATCH'), Buffer.from(p), Buffer.from('COUNT'), Buffer.from('1000')]),
        fc.constantFrom(['DBSIZE'], ['FLUSHALL'], ['FLUSHDB'], ['INFO'], ['INFO', 'keyspace'], ['RANDOMKEY'], ['ACL', 'LOAD'], ['ACL', 'WHOAMI'], ['CONFIG', 'RESETSTAT']).map((a) => a.map((s) => Buffer.from(s))),
      );
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 25 }), async (commands) => {
          const problems: string[] = [];
          for (const args of commands) {
            sent += 1;
            const reply = await wire.command(args);
            const asked = Buffer.concat(args.slice(1));
            const where = `${args.map((a) => a.toString('latin1')).join(' ')} → ${reply.toString('latin1').slice(0, 80)}`;
            for (const leak of leaks(reply, asked)) problems.push(`${where}: reveals ${leak}`);
            const name = args[0]?.toString().toUpperCase();
            if (name === 'KEYS' || name === 'SCAN' || name === 'RANDOMKEY') {
              for (const listed of keysIn(decodeReply(reply))) if (!isInside(listed)) problems.push(`${where}: listed ${listed.toString('hex')}`);
            }
          }
          const after = await outsideSnapshot();
          if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`outside keys changed:\n${before.join('\n')}\n→\n${after.join('\n')}`);
          expect(problems).toEqual([]);
        }),
        { numRuns: 60, interruptAfterTimeLimit: 60_000 },
      );
      expect(sent).toBeGreaterThan(60);
      expect(wire.closed).toBe(false);
    } finally {
      wire.destroy();
    }
  }, 120_000);
});

/** Every bulk string of a KEYS / SCAN / RANDOMKEY reply (SCAN's cursor is the first, a number). */
function keysIn(value: RespValue): Buffer[] {
  if (value.type === '$') return value.value === null ? [] : [value.value];
  if (value.type !== '*' || value.value === null) return [];
  const items = value.value;
  // SCAN: [cursor, [keys…]]
  if (items.length === 2 && items[1]?.type === '*') return keysIn(items[1]);
  return items.flatMap((item) => keysIn(item));
}
