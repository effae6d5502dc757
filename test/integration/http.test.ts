import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ConduitClient, encodeRequest } from '../../src/index.js';
import { startServerProcess } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';
import { GATEWAY_MODES, startGateway } from '../support/gateway.js';

// The route suites run against both backends (GATEWAY_MODES): the server's own store, and a
// gateway of its own forwarding to the server over the protocol, as the --workers primary does.

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe.each(GATEWAY_MODES)('HTTP gateway routes (%s backend)', (mode) => {
    it('PUT, GET, HEAD, DELETE, incr, ttl and stats with their statuses', async () => {
      const { base } = await startGateway(mode);
      const key = `${base}/v1/keys/greeting`;
      expect((await fetch(key, { method: 'PUT', body: 'hello' })).status).toBe(204);
      const got = await fetch(key);
      expect([got.status, got.headers.get('content-type'), await got.text()]).toEqual([200, 'application/octet-stream', 'hello']);
      const head = await fetch(key, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '5', '']);
      expect((await fetch(`${base}/v1/keys/missing`)).status).toBe(404);
      expect((await fetch(`${base}/v1/keys/missing`, { method: 'HEAD' })).status).toBe(404);
      expect((await fetch(`${key}?nx`, { method: 'PUT', body: 'x' })).status).toBe(412);
      expect(await json(await fetch(`${base}/v1/keys/absent?xx=true`, { method: 'PUT', body: 'x' }))).toEqual({
        error: 'NOT_STORED',
        message: expect.any(String),
      });
      expect((await fetch(`${key}?ttl=10s`, { method: 'PUT', body: 'hello' })).status).toBe(204);
      const ttl = await json(await fetch(`${key}/ttl`));
      expect(ttl.ttl_ms).toBeGreaterThan(9_000);
      expect((await fetch(`${key}?xx&keepttl`, { method: 'PUT', body: 'hi' })).status).toBe(204);
      expect((await json(await fetch(`${key}/ttl`))).ttl_ms).toBeGreaterThan(9_000);
      expect((await fetch(`${base}/v1/keys/missing/ttl`)).status).toBe(404);
      expect(await json(await fetch(`${base}/v1/keys/n/incr?by=9007199254740993`, { method: 'POST' }))).toEqual({ value: '9007199254740993' });
      expect(await json(await fetch(`${base}/v1/keys/n/incr?by=-3`, { method: 'POST' }))).toEqual({ value: '9007199254740990' });
      const notInteger = await fetch(`${key}/incr`, { method: 'POST' });
      expect([notInteger.status, (await json(notInteger)).error]).toEqual([409, 'NOT_INTEGER']);
      expect((await fetch(`${base}/v1/keys/n/incr?by=abc`, { method: 'POST' })).status).toBe(400);
      expect((await fetch(key, { method: 'DELETE' })).status).toBe(204);
      expect((await fetch(key, { method: 'DELETE' })).status).toBe(404);
      const stats = await json(await fetch(`${base}/v1/stats`));
      expect(stats).toMatchObject({ curr_items: 1, delete_hits: 1 });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
      expect((await fetch(key, { method: 'PATCH', body: 'x' })).status).toBe(400);
      // Regression (review): the same flag rules as SET on the wire (spec §3.3).
      expect((await fetch(`${key}?nx&xx`, { method: 'PUT', body: 'x' })).status).toBe(400);
      expect((await fetch(`${key}?keepttl&ttl=5s`, { method: 'PUT', body: 'x' })).status).toBe(400);
    });

    it('every store outcome keeps its HTTP status and message (issue 16: the routes run through execute())', async () => {
      const { base } = await startGateway(mode, { maxMemory: 16 * 1024, shards: 4, eviction: 'none' });
      const answer = async (path: string, init: RequestInit = {}): Promise<[number, unknown]> => {
        const res = await fetch(`${base}/v1/keys/${path}`, init);
        return [res.status, res.status === 204 ? undefined : await res.json()];
      };
      const put = (body: string | Uint8Array): RequestInit => ({ method: 'PUT', body });
      const failure = (error: string, message: string): Record<string, string> => ({ error, message });
      expect(await answer('missing')).toEqual([404, failure('NOT_FOUND', 'no such key')]);
      expect(await answer('missing/ttl')).toEqual([404, failure('NOT_FOUND', 'no such key')]);
      expect(await answer('missing', { method: 'DELETE' })).toEqual([404, failure('NOT_FOUND', 'no such key')]);
      expect(await answer('k', put('v'))).toEqual([204, undefined]);
      expect(await answer('k?nx', put('v'))).toEqual([412, failure('NOT_STORED', 'the nx/xx condition prevented the write')]);
      expect(await answer('k/incr', { method: 'POST' })).toEqual([409, failure('NOT_INTEGER', 'value is not an integer or the result is out of range')]);
      expect(await answer('max/incr?by=9223372036854775807', { method: 'POST' })).toEqual([200, { value: '9223372036854775807' }]);
      expect(await answer('max/incr', { method: 'POST' })).toEqual([409, failure('NOT_INTEGER', 'value is not an integer or the result is out of range')]);
      const tooLarge = 'item is larger than the memory budget can hold (--max-memory)';
      // 16 KiB holds items of at most 15,360 bytes (30 pages of 512 B), whatever --shards.
      expect(await answer('big', put(new Uint8Array(16_000)))).toEqual([413, failure('TOO_LARGE', tooLarge)]);
      let last: [number, unknown] = [204, undefined];
      for (let i = 0; i < 20 && last[0] === 204; i += 1) last = await answer(`fill${i}`, put(new Uint8Array(2_000)));
      expect(last).toEqual([507, failure('OUT_OF_MEMORY', 'store is full and eviction is off')]);
    });

    it('ETag / If-Match (spec §3.11): GET gives the version, PUT with If-Match stores only on a match, else 412', async () => {
      const { base, port } = await startGateway(mode);
      const key = `${base}/v1/keys/doc`;
      expect((await fetch(key, { method: 'PUT', body: 'v1' })).status).toBe(204);
      const got = await fetch(key);
      const etag = got.headers.get('etag')!;
      expect([got.status, await got.text()]).toEqual([200, 'v1']);
      expect(etag).toMatch(/^"[1-9]\d*"$/);
      expect((await fetch(key, { method: 'HEAD' })).headers.get('etag')).toBe(etag);
      const client = new ConduitClient({ port });
      await client.connect();
      expect(`"${(await client.getWithVersion('doc'))?.version}"`).toBe(etag); // one version, both protocols
      client.destroy();
      const stale = `"${BigInt(etag.slice(1, -1)) + 1n}"`;
      expect((await fetch(key, { method: 'PUT', body: 'v2', headers: { 'if-match': stale } })).status).toBe(412);
      expect(await (await fetch(key)).text()).toBe('v1');
      expect((await fetch(key, { method: 'PUT', body: 'v2', headers: { 'if-match': etag } })).status).toBe(204);
      expect((await fetch(key, { method: 'PUT', body: 'v3', headers: { 'if-match': etag } })).status).toBe(412);
      expect((await fetch(`${base}/v1/keys/gone`, { method: 'PUT', body: 'x', headers: { 'if-match': etag } })).status).toBe(412);
      expect((await fetch(`${base}/v1/keys/gone`)).status).toBe(404);
      const weak = await fetch(key, { method: 'PUT', body: 'x', headers: { 'if-match': `W/${etag}` } });
      expect(weak.status).toBe(412); // RFC 9110 §13.1.1: the strong comparison, a weak tag never matches
      const bad = await fetch(key, { method: 'PUT', body: 'x', headers: { 'if-match': 'nonsense' } });
      expect([bad.status, (await json(bad)).message]).toEqual([400, expect.stringContaining('If-Match must be')]);
      expect(await (await fetch(key)).text()).toBe('v2');
    });

    it('If-Match on DELETE and POST …/incr; * and lists of ETags (RFC 9110 §13.1.1)', async () => {
      const { base } = await startGateway(mode);
      const key = `${base}/v1/keys/c`;
      expect((await fetch(key, { method: 'PUT', body: '5' })).status).toBe(204);
      const etag = (await fetch(key)).headers.get('etag')!;
      const stale = `"${BigInt(etag.slice(1, -1)) + 7n}"`;
      // A stale tag changes nothing, on every method that writes.
      expect((await fetch(`${key}/incr`, { method: 'POST', headers: { 'if-match': stale } })).status).toBe(412);
      expect((await fetch(key, { method: 'DELETE', headers: { 'if-match': stale } })).status).toBe(412);
      expect(await (await fetch(key)).text()).toBe('5');
      // A list holds when one strong tag names the current version; * when the key exists.
      const incr = await fetch(`${key}/incr`, { method: 'POST', headers: { 'if-match': `${stale}, ${etag}` } });
      expect([incr.status, await json(incr)]).toEqual([200, { value: '6' }]);
      const now = (await fetch(key)).headers.get('etag')!;
      expect((await fetch(key, { method: 'PUT', body: '9', headers: { 'if-match': '*' } })).status).toBe(204);
      expect((await fetch(`${base}/v1/keys/none`, { method: 'PUT', body: '1', headers: { 'if-match': '*' } })).status).toBe(412);
      expect((await fetch(`${base}/v1/keys/none`)).status).toBe(404);
      expect((await fetch(key, { method: 'DELETE', headers: { 'if-match': now } })).status).toBe(412); // the PUT made a new version
      expect((await fetch(key, { method: 'DELETE', headers: { 'if-match': '*' } })).status).toBe(204);
      expect((await fetch(key)).status).toBe(404);
      const gone = await fetch(key, { method: 'DELETE', headers: { 'if-match': '*' } });
      expect([gone.status, (await json(gone)).message]).toEqual([412, 'If-Match: the key is absent']);
    });

    it('the HTTP and binary protocols share one store', async () => {
      const { base, port } = await startGateway(mode);
      const client = new ConduitClient({ port });
      await client.set('shared', 'from the protocol');
      expect(await (await fetch(`${base}/v1/keys/shared`)).text()).toBe('from the protocol');
      await fetch(`${base}/v1/keys/shared`, { method: 'PUT', body: 'from HTTP' });
      expect(await client.getString('shared')).toBe('from HTTP');
      client.destroy();
    });

    it('keys are percent-decoded bytes: binary keys work; 0 or 251 bytes and bad escapes are 400', async () => {
      const { base, port } = await startGateway(mode);
      const binary = Buffer.from([0x00, 0x2f, 0xff, 0x20, 0x25]);
      const encoded = [...binary].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      expect((await fetch(`${base}/v1/keys/${encoded}`, { method: 'PUT', body: new Uint8Array([1, 2, 3]) })).status).toBe(204);
      const client = new ConduitClient({ port });
      expect((await client.get(binary))?.equals(Buffer.from([1, 2, 3]))).toBe(true);
      client.destroy();
      expect((await fetch(`${base}/v1/keys/${'k'.repeat(250)}`, { method: 'PUT', body: 'v' })).status).toBe(204);
      const long = await fetch(`${base}/v1/keys/${'k'.repeat(251)}`, { method: 'PUT', body: 'v' });
      expect([long.status, (await json(long)).error]).toEqual([400, 'BAD_REQUEST']);
      expect((await fetch(`${base}/v1/keys/%zz`)).status).toBe(400);
      expect((await fetch(`${base}/v1/keys/`)).status).toBe(400);
    });

    it('oversize bodies: 413 from Content-Length and while streaming, then the connection closes', async () => {
      // The limit is --max-value-size (spec §2.4): here 100,000 bytes.
      const { base, server } = await startGateway(mode, { maxValueSize: 100_000 });
      const tooBig = await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: randomBytes(100_001) });
      expect([tooBig.status, (await json(tooBig)).error, tooBig.headers.get('connection')]).toEqual([413, 'TOO_LARGE', 'close']);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 20; i += 1) controller.enqueue(new Uint8Array(10_000));
          controller.close();
        },
      });
      const streamed = await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: stream, duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(server.store.get(Buffer.from('k'))).toBeUndefined();
      const fits = await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: randomBytes(100_000) });
      expect(fits.status).toBe(204);
    });

    it('507 when full with eviction off', async () => {
      const { base } = await startGateway(mode, { maxMemory: 16 * 1024, shards: 1, eviction: 'none' });
      let status = 204;
      for (let i = 0; i < 10 && status === 204; i += 1) status = (await fetch(`${base}/v1/keys/k${i}`, { method: 'PUT', body: randomBytes(4000) })).status;
      expect(status).toBe(507);
    });

    it('a slow body gets 408 and a malformed request 400; nothing crashes', async () => {
      const { base } = await startGateway(mode, { frameTimeoutMs: 500 });
      const port = Number(new URL(base).port);
      const send = (text: string): Promise<string> =>
        new Promise((resolve) => {
          const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
          let reply = '';
          socket.on('data', (d: Buffer) => (reply += d.toString()));
          socket.on('close', () => resolve(reply));
          socket.on('error', () => resolve(reply));
          setTimeout(() => socket.destroy(), 5_000);
        });
      expect(await send('PUT /v1/keys/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nab')).toMatch(/^HTTP\/1\.1 408/);
      expect(await send('NOT A REQUEST\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });
});

describe.each(GATEWAY_MODES)('HTTP auth in secure mode (%s backend)', (mode) => {
    it('without --http-token the data routes answer 403; probes and metrics stay open', async () => {
      const { base } = await startGateway(mode, { keys: [{ id: 'app', secret: randomBytes(32) }] });
      const denied = await fetch(`${base}/v1/keys/k`);
      expect([denied.status, (await json(denied)).error]).toEqual([403, 'FORBIDDEN']);
      for (const open of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${base}${open}`)).status).toBe(200);
    });

    it('with a token: missing or wrong → 401, right → served', async () => {
      const token = randomBytes(24).toString('base64url');
      const { base } = await startGateway(mode, { keys: [{ id: 'app', secret: randomBytes(32) }], httpToken: token });
      const missing = await fetch(`${base}/v1/keys/k`);
      expect([missing.status, missing.headers.get('www-authenticate'), (await json(missing)).error]).toEqual([401, 'Bearer', 'AUTH_REQUIRED']);
      const wrong = await fetch(`${base}/v1/keys/k`, { headers: { authorization: `Bearer ${token}x` } });
      expect([wrong.status, (await json(wrong)).error]).toEqual([401, 'AUTH_FAILED']);
      const right = await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${token}` } });
      expect(right.status).toBe(204);
    });
});

describe('/metrics', () => {
  it('parses as Prometheus text and counts what the test did', async () => {
    const { base, port, server } = await startGateway('local');
    const client = new ConduitClient({ port });
    await client.set('a', '1');
    await client.get('a');
    await client.get('a');
    await client.get('missing');
    await client.incr('a');
    await fetch(`${base}/v1/keys/b`, { method: 'PUT', body: 'x' });
    await fetch(`${base}/v1/keys/nope`);
    const raw = await RawClient.connect(port);
    raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await raw.waitClosed();
    raw.destroy();
    await raw.until(() => server.counters.connected_clients === 1, 2_000, 'the server to release the connection');
    const text = await (await fetch(`${base}/metrics`)).text();
    const families = parsePrometheus(text);
    const family = (name: string) => families.find((f) => f.name === name);
    const value = (name: string, labels: Record<string, string> = {}): number =>
      Number(family(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);
    expect(value('conduit_requests_total', { opcode: 'GET', status: 'OK' })).toBe(2);
    expect(value('conduit_requests_total', { opcode: 'GET', status: 'NOT_FOUND' })).toBe(2);
    expect(value('conduit_requests_total', { opcode: 'SET', status: 'OK' })).toBe(2);
    expect(value('conduit_requests_total', { opcode: 'INCR', status: 'OK' })).toBe(1);
    expect(value('conduit_keyspace_hits_total')).toBe(2);
    expect(value('conduit_keyspace_misses_total')).toBe(2);
    expect(value('conduit_items')).toBe(2);
    expect(value('conduit_memory_budget_bytes')).toBe(64 * 1024 * 1024);
    expect(value('conduit_memory_used_bytes')).toBeGreaterThan(0);
    expect(value('conduit_connections_open')).toBe(1);
    expect(value('conduit_connections_total')).toBe(2);
    expect(value('conduit_disconnects_total', { cause: 'protocol_error' })).toBe(1);
    expect(value('conduit_evictions_total')).toBe(0);
    expect(value('conduit_expirations_total', { how: 'swept' })).toBe(0);
    const latency = family('conduit_request_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    // This parser folds a histogram's label sets together, so the per-opcode counts are read from the text.
    expect(text).toMatch(/^conduit_request_duration_seconds_count\{opcode="GET"\} 4$/m);
    expect(text).toMatch(/^conduit_request_duration_seconds_count\{opcode="SET"\} 2$/m);
    expect(text).toMatch(/^conduit_request_duration_seconds_bucket\{le="\+Inf",opcode="INCR"\} 1$/m);
    expect(family('conduit_process_cpu_seconds_total')?.type).toBe('COUNTER');
    client.destroy();
  });
});

/**
 * The rules `promtool check metrics` (Prometheus 2.42, promlint) applies, checked on the text, so the
 * test does not need promtool installed. Returns one line per problem, in promtool's words.
 */
function promlint(text: string): string[] {
  const problems: string[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (m !== null) (m[1] === 'HELP' ? help : type).set(m[2] ?? '', m[3] ?? '');
  }
  const families = new Set([...help.keys(), ...type.keys()]);
  for (const name of families) {
    const kind = type.get(name);
    if (kind === undefined) problems.push(`${name} has no TYPE`);
    if ((help.get(name) ?? '') === '') problems.push(`${name} no help text`);
    if (kind === 'counter' && !name.endsWith('_total')) problems.push(`${name} counter metrics should have "_total" suffix`);
    if (kind !== 'counter' && name.endsWith('_total')) problems.push(`${name} non-counter metrics should not have "_total" suffix`);
    if (kind !== 'histogram' && kind !== 'summary' && /_(bucket|count|sum)$/.test(name)) {
      problems.push(`${name} non-histogram and non-summary metrics should not have "${name.slice(name.lastIndexOf('_'))}" suffix`);
    }
    if (/[A-Z]/.test(name)) problems.push(`${name} metric names should be written in 'snake_case' not 'camelCase'`);
    for (const [abbreviation, unit] of [['ms', 'seconds'], ['msec', 'seconds'], ['us', 'seconds'], ['sec', 'seconds'], ['kb', 'bytes'], ['mb', 'bytes'], ['bits', 'bytes'], ['percent', 'ratio']] as const) {
      if (new RegExp(`(^|_)${abbreviation}(_|$)`).test(name)) problems.push(`${name} use base unit "${unit}" instead of "${abbreviation}"`);
    }
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? \S+$/.exec(line);
    if (sample === null) {
      problems.push(`unparsable sample line: ${line}`);
      continue;
    }
    const name = sample[1] ?? '';
    const family = families.has(name) ? name : name.replace(/_(bucket|count|sum)$/, '');
    if (!families.has(family)) problems.push(`${name} sample without HELP/TYPE`);
    for (const label of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (/[A-Z]/.test(label[1] ?? '')) problems.push(`${name} label names should be written in 'snake_case' not 'camelCase'`);
    }
  }
  return problems;
}

describe('/metrics passes promtool check metrics (issue 15 item 16)', () => {
  it('no gauge named _total (prom-client exported three), every counter ends in _total, every family has HELP and TYPE', async () => {
    const { base, port } = await startGateway('local');
    const client = new ConduitClient({ port });
    await client.set('a', '1');
    await client.get('missing');
    await fetch(`${base}/v1/keys/b`, { method: 'PUT', body: 'x' });
    const text = await (await fetch(`${base}/metrics`)).text();
    client.destroy();
    expect(promlint(text)).toEqual([]);
    // The same through the parser: every family typed, counters and only counters named _total.
    const families = parsePrometheus(text);
    expect(families.length).toBeGreaterThan(30);
    expect(families.filter((f) => (f.type === 'COUNTER') !== f.name.endsWith('_total')).map((f) => `${f.name} ${f.type}`)).toEqual([]);
    expect(families.filter((f) => f.help === '').map((f) => f.name)).toEqual([]);
    // What the removed gauges said is still there, by type.
    expect(families.find((f) => f.name === 'conduit_nodejs_active_handles')?.type).toBe('GAUGE');
  });

  it('a secure server adds conduit_aead_info{implementation} 1, the frame AEAD STATS names (issue 18); a plaintext one has none', async () => {
    const { base, server } = await startGateway('local', { keys: [{ id: 'app', secret: randomBytes(32) }] });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(promlint(text)).toEqual([]);
    expect(server.aead).toMatch(/^(libsodium|node|noble)$/);
    expect(text).toContain('# TYPE conduit_aead_info gauge');
    expect(text.split('\n').filter((line) => line.startsWith('conduit_aead_info'))).toEqual([`conduit_aead_info{implementation="${server.aead}"} 1`]);
    expect(JSON.parse(server.statsJson().toString()).aead).toBe(server.aead);
    const plain = await startGateway('local');
    expect(await (await fetch(`${plain.base}/metrics`)).text()).not.toContain('conduit_aead_info');
    expect(JSON.parse(plain.server.statsJson().toString())).not.toHaveProperty('aead');
  });

  it('a forwarding gateway\'s /metrics: its own registry, counting what it forwarded, and conduit_gateway_upstream_errors_total', async () => {
    const { base } = await startGateway('forwarding');
    await fetch(`${base}/v1/keys/b`, { method: 'PUT', body: 'x' });
    await fetch(`${base}/v1/keys/b`);
    await fetch(`${base}/v1/keys/nope`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(promlint(text)).toEqual([]);
    const families = parsePrometheus(text);
    const value = (name: string, labels: Record<string, string>): number =>
      Number(families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);
    expect(value('conduit_requests_total', { opcode: 'SET', status: 'OK' })).toBe(1);
    expect(value('conduit_requests_total', { opcode: 'GET', status: 'OK' })).toBe(1);
    expect(value('conduit_requests_total', { opcode: 'GET', status: 'NOT_FOUND' })).toBe(1);
    expect(text).toContain('# TYPE conduit_gateway_upstream_errors_total counter');
    expect(families.find((f) => f.name === 'conduit_items')).toBeUndefined(); // the store's gauges are the servers'
  });

  it('the lint itself catches each rule it checks', () => {
    expect(promlint('# HELP a_total x\n# TYPE a_total gauge\na_total 1\n')).toEqual(['a_total non-counter metrics should not have "_total" suffix']);
    expect(promlint('# HELP a x\n# TYPE a counter\na 1\n')).toEqual(['a counter metrics should have "_total" suffix']);
    expect(promlint('# TYPE a gauge\na 1\n')).toEqual(['a no help text']);
    expect(promlint('# HELP a x\na 1\n')).toEqual(['a has no TYPE']);
    expect(promlint('# HELP a_count x\n# TYPE a_count gauge\na_count 1\n')).toEqual(['a_count non-histogram and non-summary metrics should not have "_count" suffix']);
    expect(promlint('# HELP aB x\n# TYPE aB gauge\naB{fooBar="1"} 1\n')).toEqual([
      "aB metric names should be written in 'snake_case' not 'camelCase'",
      "aB label names should be written in 'snake_case' not 'camelCase'",
    ]);
    expect(promlint('# HELP a_ms x\n# TYPE a_ms gauge\na_ms 1\n')).toEqual(['a_ms use base unit "seconds" instead of "ms"']);
    expect(promlint('b 1\n')).toEqual(['b sample without HELP/TYPE']);
  });
});

describe('/readyz during a SIGTERM drain', () => {
  it('answers 503 while connections drain, and the process then exits 0', async () => {
    const server = await startServerProcess(['--port', '0', '--http-port', '0', '--shutdown-timeout', '3s']);
    const http = String(server.logs().find((l) => l.msg === 'conduit-server listening')?.http);
    expect((await fetch(`http://${http}/readyz`)).status).toBe(200);
    // A client that does not read keeps the drain going: its answers cannot be flushed.
    const setup = new ConduitClient({ port: server.port });
    await setup.set('big', randomBytes(60_000));
    setup.destroy();
    const stuck = await RawClient.connect(server.port);
    stuck.socket.pause();
    stuck.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.concat(encodeRequest(BigInt(i), { op: 'GET', key: Buffer.from('big') })))));
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`http://${http}/readyz`)).status).toBe(503);
    stuck.destroy();
    expect((await server.exited).code).toBe(0);
  });
});

// Issue 15 item 1 kept PUT within one frame so the protocol could read every value back; protocol 1.1's
// fragments (spec §2.4) read back any value up to --max-value-size, so that is the limit now, in both modes.
describe.each(GATEWAY_MODES)('HTTP PUT takes values up to --max-value-size, each readable over the protocol (issue 19 item 1) (%s backend)', (mode) => {
    it('plaintext: a value of --max-value-size is stored and read back by ConduitClient, one byte more is 413 naming the limit', async () => {
      const limit = 200_000;
      const { base, port } = await startGateway(mode, { maxValueSize: limit });
      const value = randomBytes(limit);
      expect((await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: value })).status).toBe(204);
      const over = await fetch(`${base}/v1/keys/k`, { method: 'PUT', body: randomBytes(limit + 1) });
      expect([over.status, (await json(over)).message]).toEqual([413, `a value of ${limit + 1} bytes exceeds --max-value-size (${limit} bytes)`]);
      const client = new ConduitClient({ port });
      expect((await client.get('k'))?.equals(value)).toBe(true);
      client.destroy();
    });

    it('secure mode: the same limit; a secure ConduitClient reads the value back in fragments sealed one by one', async () => {
      const token = randomBytes(24).toString('base64url');
      const key = { id: 'app', secret: randomBytes(32) };
      const limit = 200_000;
      const { base, port } = await startGateway(mode, { keys: [key], httpToken: token, maxValueSize: limit });
      const put = (body: Buffer): Promise<Response> => fetch(`${base}/v1/keys/k`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
      const value = randomBytes(limit);
      expect((await put(value)).status).toBe(204);
      const over = await put(randomBytes(limit + 1));
      expect([over.status, (await json(over)).error]).toEqual([413, 'TOO_LARGE']);
      for (const sealing of ['frames', 'envelopes'] as const) {
        const client = new ConduitClient({ port, key, sealing });
        expect((await client.get('k'))?.equals(value)).toBe(true);
        client.destroy();
      }
    });
});

describe.each(GATEWAY_MODES)('HTTP query values outside the protocol ranges are 400 naming the parameter (issue 15 item 16) (%s backend)', (mode) => {
    it('a ttl that is not 0 but rounds to 0 ms is refused, not turned into "no expiry"; so are negative and non-numbers', async () => {
      const { base } = await startGateway(mode);
      for (const ttl of ['0.4', '0.0001s', '0.3ms', '-1', '-5s', 'abc', '1e3', 'NaN']) {
        const put = await fetch(`${base}/v1/keys/k?ttl=${ttl}`, { method: 'PUT', body: 'v' });
        const body = await json(put);
        expect([ttl, put.status, body.error, String(body.message).startsWith('ttl ')]).toEqual([ttl, 400, 'BAD_REQUEST', true]);
        expect([ttl, (await fetch(`${base}/v1/keys/n/incr?ttl=${ttl}`, { method: 'POST' })).status]).toEqual([ttl, 400]);
      }
      expect((await fetch(`${base}/v1/keys/k`)).status).toBe(404);
      expect((await fetch(`${base}/v1/keys/k?ttl=0`, { method: 'PUT', body: 'v' })).status).toBe(204);
      expect((await json(await fetch(`${base}/v1/keys/k/ttl`))).ttl_ms).toBe(-1);
      expect((await fetch(`${base}/v1/keys/k?ttl=0.000s`, { method: 'PUT', body: 'v' })).status).toBe(204);
      expect((await fetch(`${base}/v1/keys/k?ttl=1.4`, { method: 'PUT', body: 'v' })).status).toBe(204); // rounds to 1 ms
    });

    it('incr?by= takes exactly the i64 range', async () => {
      const { base } = await startGateway(mode);
      const incr = async (key: string, by: string): Promise<[number, Record<string, unknown>]> => {
        const res = await fetch(`${base}/v1/keys/${key}/incr?by=${encodeURIComponent(by)}`, { method: 'POST' });
        return [res.status, await json(res)];
      };
      expect(await incr('max', '9223372036854775807')).toEqual([200, { value: '9223372036854775807' }]);
      expect(await incr('min', '-9223372036854775808')).toEqual([200, { value: '-9223372036854775808' }]);
      const range = 'by must be an integer from -9223372036854775808 to 9223372036854775807';
      for (const by of ['9223372036854775808', '-9223372036854775809', '9999999999999999999', '-9999999999999999999', '99999999999999999999', '1.5', '', ' 1']) {
        expect([by, ...(await incr('x', by))]).toEqual([by, 400, { error: 'BAD_REQUEST', message: `${range}, got '${by}'` }]);
      }
      expect((await fetch(`${base}/v1/keys/x`)).status).toBe(404);
    });
});
