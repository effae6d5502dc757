import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDuration } from '../config/units.js';
import { ACCESS_NEEDS, type AccessNeed, type ForbiddenReason } from '../protocol/access.js';
import { MAX_BODY_SIZE, Status } from '../protocol/constants.js';
import type { Request } from '../protocol/messages.js';
import { I64_MAX, I64_MIN, keyLengthError } from '../protocol/validate.js';
import type { AccessControl } from '../server/access/access-control.js';
import { scopedStats, type IdentityCounters } from '../server/access/access-counters.js';
import type { Rights } from '../server/access/rights.js';
import type { Reply } from '../server/execute.js';
import { HTTP_MAX_CONNECTIONS } from '../server/fd-limit.js';
import { isLoopbackHost, normaliseHost, parseAuthority, sameOrigin, type Authority } from './authority.js';
import type { GatewayBackend } from './backend.js';
import { failedPrecondition, failureOf, HttpFailure, replyStatusName } from './failure.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { IfMatchSyntaxError, parseIfMatch, type IfMatch } from './if-match.js';
import { BodyTooLarge, readBody } from './body.js';

export type { GatewayHost } from './backend.js';

/** Options of an {@link HttpGateway}. */
export interface GatewayOptions {
  host: string;
  port: number;
  /**
   * Bearer token the data routes require; `undefined`: none (in secure mode they then answer 403).
   * Must be `undefined` when `access` is given: its table holds `--http-token`.
   */
  token: string | undefined;
  /** The binary protocol is in secure mode: data routes need a token. */
  secure: boolean;
  /**
   * Issue 25 (spec §3.17): the credentials and rights the data routes check, looked up in
   * `access.table` on every request. A bearer is `--http-token` (every right, counted as
   * `http-token`, from the table's extras) or a `[[tokens]]` token with its `prefixes` and
   * `allow`; any of them makes the data routes need one. Each identity's requests, hits,
   * misses, sets and refusals are counted in `access.counters` (STATS `access`, and
   * `conduit_forbidden_total` through its hook). Without it, `token` alone decides, with
   * every right and no counting (the gateway before issue 25).
   */
  access?: AccessControl;
  /** A request body must arrive within this many ms (slow bodies get 408). */
  bodyTimeoutMs: number;
  /** The longest value a PUT may store: the server's `--max-value-size` (spec §2.4). */
  maxValueSize: number;
  /**
   * Host names and addresses (no port) the gateway answers besides loopback
   * literals and `localhost`; `host`, when it is not loopback, is added.
   * Default none.
   */
  allowedHosts?: readonly string[];
}

/** An idle keep-alive connection is closed after this long (Node's default, stated so that it stays one). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How long a refused request's 4xx may take to flush before its connection is destroyed anyway. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Who sent a data-route request (issue 25): the rights of its bearer token and the
 * counters of its identity. `undefined` where no token is needed: every right, uncounted.
 */
interface Identity {
  readonly rights: Rights;
  readonly counters: IdentityCounters;
}

/** One data-route request as it goes: when it started (for the metrics) and who sent it. */
interface Call {
  readonly started: number;
  readonly identity: Identity | undefined;
}

/** The i64 body of an OK INCR or TTL reply (spec §3.8, §3.9). */
function i64Of(reply: Reply): bigint {
  return (reply.body as Buffer).readBigInt64BE(0);
}

/**
 * A path segment percent-decoded to raw bytes (RFC 3986 §2.1), so any binary
 * key can be addressed; `undefined` when a `%` is not followed by two hex digits.
 */
function decodeSegment(segment: string): Buffer | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i += 1) {
    const c = segment.charCodeAt(i);
    if (c === 0x25) {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(segment[i] ?? '', 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

/** The request's `If-Match` (RFC 9110 §13.1.1), or `undefined`; a malformed one is a 400 naming the header. */
function ifMatchOf(req: IncomingMessage): IfMatch | undefined {
  try {
    return parseIfMatch(req.headers['if-match']);
  } catch (err) {
    if (err instanceof IfMatchSyntaxError) throw new HttpFailure('BAD_REQUEST', err.message);
    throw err;
  }
}

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new HttpFailure('BAD_REQUEST', `${name} must be true, false, 1, 0 or empty, got '${value}'`);
}

/** The token of `Authorization: Bearer <token>`; a missing header or another scheme is a 401 AUTH_REQUIRED. */
function bearerOf(req: IncomingMessage): string {
  // RFC 7235 §2.1: the auth-scheme is case-insensitive (`bearer`, `BEARER`), followed by one or more spaces.
  const credentials = /^(\S+) +(.*)$/.exec(req.headers.authorization ?? '');
  if (credentials === null || credentials[1]?.toLowerCase() !== 'bearer') {
    throw new HttpFailure('AUTH_REQUIRED', 'send Authorization: Bearer <token>');
  }
  return credentials[2] ?? '';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The HTTP/1.1 gateway of a Conduit server: the same keys over
 * `/v1/keys/{key}` routes, `/v1/stats`, health and readiness probes, and
 * Prometheus metrics at `/metrics`. Errors are JSON `{ error, message }`
 * with the protocol's codes (spec §4). Only requests for a loopback or
 * allowed `Host`, and without a foreign `Origin`, are answered (see
 * `#checkHostAndOrigin`). GET answers the item's version as `ETag` and PUT
 * honours `If-Match` (spec §3.11). What a route's request runs against is
 * its {@link GatewayBackend}: the store of the server in this process
 * (`LocalBackend`), or servers reached over the protocol
 * (`ForwardingBackend`, forwarding.ts). With `access` (issue 25, spec
 * §3.17), each bearer token has its rights: the class of each route (GET,
 * HEAD and …/ttl read; PUT, DELETE and …/incr write; `/v1/stats` read or
 * admin: the server's STATS with admin, the token's own with read alone) and its key prefixes
 * are checked before the route runs, and a refusal is a 403 `FORBIDDEN`.
 *
 * @example
 * ```ts
 * const options = { host: '127.0.0.1', port: 7172, token: undefined, secure: false, bodyTimeoutMs: 10_000, maxValueSize: 1 << 20 };
 * const gateway = new HttpGateway(new LocalBackend(server), metrics, options);
 * await gateway.listen();
 * ```
 */
export class HttpGateway {
  readonly #backend: GatewayBackend;
  readonly #metrics: GatewayMetrics;
  readonly #options: GatewayOptions;
  readonly #token: Buffer | undefined;
  /** Hosts answered besides loopback literals and `localhost` (lower case, IPv6 without brackets). */
  readonly #allowedHosts: ReadonlySet<string>;
  readonly #server: Server;

  constructor(backend: GatewayBackend, metrics: GatewayMetrics, options: GatewayOptions) {
    this.#backend = backend;
    this.#metrics = metrics;
    this.#options = options;
    if (options.access !== undefined && options.token !== undefined) {
      throw new TypeError("token and access exclude each other: give --http-token to the AccessControl (its extras' httpToken)");
    }
    this.#token = options.token === undefined ? undefined : digest(options.token);
    const allowed = new Set((options.allowedHosts ?? []).map(normaliseHost));
    // Bound to a specific public address: requests naming that address are for us. A wildcard names no host.
    const bound = normaliseHost(options.host);
    if (!isLoopbackHost(bound) && bound !== '0.0.0.0' && bound !== '::') allowed.add(bound);
    this.#allowedHosts = allowed;
    // Like the protocol port's --frame-timeout: the whole request, headers and body, must arrive within it.
    const timeouts = {
      requestTimeout: options.bodyTimeoutMs,
      headersTimeout: options.bodyTimeoutMs,
      // Node checks those timeouts on this interval (30 s by default): often enough to keep them.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(options.bodyTimeoutMs / 4))),
      // Between requests the connection holds a maxConnections slot too; Node's default, stated so it stays.
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    };
    this.#server = createServer(timeouts, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
    });
    this.#server.maxConnections = HTTP_MAX_CONNECTIONS; // its share of file descriptors (issue 15 item 11)
    // Full, a connection is dropped: the slots kept by idle keep-alive connections are freed then,
    // so clients that send one request and sit idle cannot hold every slot for the keep-alive
    // timeout and lock out the probes (an outside review of issue 25; half-sent requests still
    // hold theirs until the request timeout, the slowloris bound).
    this.#server.on('drop', () => this.#server.closeIdleConnections());
    // Malformed or too slow requests get a clean 4xx and a close; nothing escapes.
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (!socket.writable) return void socket.destroy();
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      // http.Server sockets allow half-open connections, so end() alone only sends our FIN and waits for the
      // peer's: a slowloris never sends it and kept the connection, and its maxConnections slot, for good
      // (probes included). So the socket is destroyed as soon as the answer is handed to the kernel, or
      // after a short grace when a peer that does not read keeps it from being flushed.
      const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      socket.once('finish', () => socket.destroy());
      socket.once('close', () => clearTimeout(grace));
    });
  }

  /** Listens; resolves with the address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const method = req.method ?? 'GET';
    // Every route, probes and metrics included: a DNS-rebinding page must not read metrics either.
    this.#checkHostAndOrigin(req);
    if (path === '/healthz') return this.#text(res, 200, 'ok\n');
    if (path === '/readyz') return this.#ready(res);
    if (path === '/metrics') {
      const body = await this.#metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.#metrics.registry.contentType });
      return void res.end(body);
    }
    if (!path.startsWith('/v1/')) throw new HttpFailure('NOT_FOUND', `no route ${path}`);
    const call: Call = { started, identity: this.#authorize(req) };
    if (path === '/v1/stats') {
      if (method !== 'GET') throw new HttpFailure('BAD_REQUEST', `${method} is not allowed on /v1/stats`);
      const stats = await this.#stats(call);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(stats);
    }
    const match = /^\/v1\/keys\/([^/]*)(\/incr|\/ttl)?$/.exec(path);
    if (match === null) throw new HttpFailure('NOT_FOUND', `no route ${path}`);
    const key = decodeSegment(match[1] ?? '');
    if (key === undefined) throw new HttpFailure('BAD_REQUEST', 'malformed percent-encoding in the key');
    const invalidKey = keyLengthError(key.length); // spec §3.1, the encoder's check and message
    if (invalidKey !== undefined) throw new HttpFailure('BAD_REQUEST', invalidKey.message);
    const sub = match[2];

    // Each route is a protocol request the backend runs (execute() in process, or forwarded).
    // spec §3.17: its class and its key are checked before anything runs, its body read included;
    // an If-Match (the GETS that checks it) does not change the class: PUT, DELETE and incr are writes.
    if (sub === '/ttl') {
      if (method !== 'GET') throw new HttpFailure('BAD_REQUEST', `${method} is not allowed on .../ttl`);
      this.#check(call, ACCESS_NEEDS.TTL, 'TTL', key);
      const reply = await this.#execute({ op: 'TTL', key }, call);
      return this.#json(res, 200, { ttl_ms: Number(i64Of(reply)) });
    }
    if (sub === '/incr') {
      if (method !== 'POST') throw new HttpFailure('BAD_REQUEST', `${method} is not allowed on .../incr`);
      this.#check(call, ACCESS_NEEDS.INCR, 'INCR', key);
      const condition = ifMatchOf(req);
      await this.#drain(req);
      const by = query.get('by') ?? '1';
      // spec §3.8: the delta is an i64 on the wire; HTTP takes the same range.
      const delta = /^-?\d{1,20}$/.test(by) ? BigInt(by) : undefined;
      if (delta === undefined || delta < I64_MIN || delta > I64_MAX) {
        throw new HttpFailure('BAD_REQUEST', `by must be an integer from ${I64_MIN} to ${I64_MAX}, got '${by}'`);
      }
      const reply = await this.#execute({ op: 'INCR', key, delta, ttlMs: this.#ttl(query) }, call, condition);
      return this.#json(res, 200, { value: i64Of(reply).toString() });
    }
    switch (method) {
      case 'GET':
      case 'HEAD': {
        this.#check(call, ACCESS_NEEDS.GET, 'GET', key);
        // spec §3.11: GETS, so the answer carries the item's version as its ETag (for If-Match).
        const body = (await this.#execute({ op: 'GETS', key }, call, undefined, 'GET')).body as Buffer;
        const value = body.subarray(8);
        const etag = `"${body.readBigUInt64BE(0)}"`;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': value.length, etag });
        return void res.end(method === 'HEAD' ? undefined : value);
      }
      case 'PUT': {
        this.#check(call, ACCESS_NEEDS.SET, 'SET', key);
        // The value is the body: up to --max-value-size, what a SET may store however it is framed (spec §2.4).
        const condition = ifMatchOf(req);
        const options = { ttlMs: this.#ttl(query), nx: flag(query, 'nx'), xx: flag(query, 'xx'), keepTtl: flag(query, 'keepttl') };
        // spec §3.3: the flag rules parseRequest applies to a SET frame, named as the query names them.
        if (options.nx && options.xx) throw new HttpFailure('BAD_REQUEST', 'nx and xx exclude each other');
        if (options.keepTtl && options.ttlMs !== 0) throw new HttpFailure('BAD_REQUEST', 'keepttl excludes ttl');
        if (options.nx && condition !== undefined) throw new HttpFailure('BAD_REQUEST', 'nx excludes If-Match');
        const value = await this.#value(req);
        try {
          // With If-Match the SET carries the version checked as its compare-and-set (spec §3.11).
          await this.#execute({ op: 'SET', key, value, ...options }, call, condition);
        } catch (err) {
          if (condition !== undefined && err instanceof HttpFailure && (err.code === 'NOT_FOUND' || err.code === 'EXISTS')) throw failedPrecondition(err.code);
          throw err;
        }
        res.writeHead(204);
        return void res.end();
      }
      case 'DELETE': {
        this.#check(call, ACCESS_NEEDS.DELETE, 'DELETE', key);
        const condition = ifMatchOf(req);
        await this.#drain(req);
        await this.#execute({ op: 'DELETE', key }, call, condition);
        res.writeHead(204);
        return void res.end();
      }
      default:
        throw new HttpFailure('BAD_REQUEST', `${method} is not allowed on /v1/keys/{key}`);
    }
  }

  /**
   * `/v1/stats` (spec §5.2, §3.17): STATS needs `read` or `admin`, as on the protocol: the
   * server's STATS for an identity with `admin` (and where no token is needed), its own
   * rights and counters for one with `read` alone.
   */
  async #stats(call: Call): Promise<Buffer> {
    const identity = call.identity;
    if (identity === undefined) return this.#backend.stats();
    const reason = identity.rights.check(ACCESS_NEEDS.STATS);
    if (reason !== undefined) this.#refuse(identity, reason);
    return identity.rights.may('admin') ? this.#backend.stats() : scopedStats(identity.rights, identity.counters);
  }

  /**
   * spec §3.17: refuses (403 FORBIDDEN, counted) a request of `label` that needs `need`
   * on `key` when its identity lacks the class or the key is outside its prefixes.
   */
  #check(call: Call, need: AccessNeed, label: string, key: Buffer): void {
    const identity = call.identity;
    if (identity === undefined) return;
    const reason = identity.rights.check(need, key, 0, key.length);
    if (reason === undefined) return;
    // Counted with the other answers of the route, as a FORBIDDEN reply from the backend would be.
    this.#metrics.request(label, 'FORBIDDEN', (performance.now() - call.started) / 1000);
    this.#refuse(identity, reason);
  }

  /** Counts a refusal for its identity (and `conduit_forbidden_total`, through the counters' hook) and throws its 403. */
  #refuse(identity: Identity, reason: ForbiddenReason): never {
    this.#options.access?.counters.forbidden(identity.rights, reason, identity.counters);
    throw new HttpFailure('FORBIDDEN', identity.rights.message(reason));
  }

  /**
   * Runs one request on the backend (with `condition`, an `If-Match` it
   * checks first: a 412 that does not hold is thrown uncounted) and counts
   * it in the metrics; returns the OK reply, or throws the outcome or
   * refusal as the HTTP error (its message is the reply's, as on the wire).
   * `label`: the operation the metrics count it as (an HTTP GET runs a GETS
   * for its ETag and is counted as the GET it is). The caller's identity, if
   * any, counts a GETS that found or missed its key and a SET or INCR that
   * stored (issue 25: STATS `access.identities`).
   */
  async #execute(request: Request, call: Call, condition?: IfMatch, label: string = request.op): Promise<Reply> {
    const pending = this.#backend.run(request, condition);
    // The local backend answers at once: no turn is spent waiting for it.
    const reply = pending instanceof Promise ? await pending : pending;
    const name = replyStatusName(reply);
    this.#metrics.request(label, name, (performance.now() - call.started) / 1000);
    const counters = call.identity?.counters;
    if (counters !== undefined) {
      if (request.op === 'GETS') {
        if (reply.status === Status.OK) counters.keyspace_hits += 1;
        else if (reply.status === Status.NOT_FOUND) counters.keyspace_misses += 1;
      } else if ((request.op === 'SET' || request.op === 'INCR') && reply.status === Status.OK) {
        counters.total_sets += 1;
      }
    }
    if (reply.status === Status.OK) return reply;
    throw failureOf(reply);
  }

  /** `/readyz`: 200 when the backend can serve, 503 while draining or when a forwarding gateway cannot reach its server. */
  async #ready(res: ServerResponse): Promise<void> {
    const readiness = await this.#backend.readiness();
    if (readiness.state === 'ready') return this.#text(res, 200, 'ready\n');
    this.#text(res, 503, readiness.state === 'draining' ? 'draining\n' : `unreachable: ${readiness.code}: ${readiness.message}\n`);
  }

  /**
   * Refuses DNS rebinding and cross-site requests. A browser page can make
   * `attacker.example` resolve to 127.0.0.1 and then talk to us as "its own"
   * site, and any page can send a "simple" cross-site POST without a
   * preflight. Both carry the page's name: the first in `Host` (421 unless
   * the host is a loopback literal, `localhost` or allowed), the second in
   * `Origin` (403 unless it is this very origin). Clients that are not
   * browsers send no `Origin` and are unaffected. A request with no `Host`
   * at all (HTTP/1.0; Node refuses HTTP/1.1 without one) cannot come from a
   * browser, so it is treated like a binary-protocol client and answered.
   */
  #checkHostAndOrigin(req: IncomingMessage): void {
    const hostHeader = req.headers.host;
    let authority: Authority | undefined;
    if (hostHeader !== undefined) {
      authority = parseAuthority(hostHeader.trim());
      if (authority === undefined || !(isLoopbackHost(authority.host) || this.#allowedHosts.has(authority.host))) {
        throw new HttpFailure(
          'FORBIDDEN',
          `this gateway does not answer for Host '${hostHeader}': use a loopback address or localhost, or list the name in --http-allowed-hosts`,
          false,
          421,
        );
      }
    }
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (authority === undefined || !sameOrigin(origin, authority)) {
      throw new HttpFailure('FORBIDDEN', `cross-origin requests are refused (Origin '${origin}')`, false, 403);
    }
  }

  /**
   * The HTTP counterpart of secure mode (spec §6): the data routes' bearer token. With
   * `access` (issue 25), the token's identity, or `undefined` where none is needed;
   * without it, `--http-token` alone, compared in constant time (always `undefined`).
   */
  #authorize(req: IncomingMessage): Identity | undefined {
    const access = this.#options.access;
    if (access === undefined) {
      if (this.#token === undefined) {
        if (this.#options.secure) throw new HttpFailure('FORBIDDEN', 'the server is in secure mode: data routes need --http-token');
        return undefined;
      }
      if (!timingSafeEqual(digest(bearerOf(req)), this.#token)) throw new HttpFailure('AUTH_FAILED', 'wrong token');
      return undefined;
    }
    // Issue 25 (spec §6.8): the table is the current one at each request, a keep-alive
    // connection's included: nothing is remembered between requests, so a reload
    // (SIGHUP, `conduit-cli admin reload`) applies to HTTP from the next request on, and
    // a token it removed answers 401 at once.
    const table = access.table;
    if (!table.httpAuthRequired) {
      if (this.#options.secure || table.secure) {
        throw new HttpFailure('FORBIDDEN', 'the server is in secure mode: data routes need --http-token or a [[tokens]] entry in --key-file');
      }
      return undefined;
    }
    // The table compares SHA-256 digests of tokens, so a lookup takes the same time whichever bytes match.
    const rights = table.forToken(bearerOf(req));
    if (rights === undefined) throw new HttpFailure('AUTH_FAILED', 'wrong token');
    const counters = access.counters.of(rights.id);
    counters.requests += 1;
    return { rights, counters };
  }

  #ttl(query: URLSearchParams): number {
    const text = query.get('ttl');
    if (text === null || text === '') return 0;
    let ttl: number;
    try {
      ttl = parseDuration(text, 'ttl');
    } catch (err) {
      throw new HttpFailure('BAD_REQUEST', (err as Error).message);
    }
    if (ttl > 0xffff_ffff) throw new HttpFailure('BAD_REQUEST', 'ttl must be at most 4294967295 ms');
    // 0 means "no expiry" (spec §3.3): a non-zero TTL that rounds to 0 ms (`0.4`, `0.0001s`) must not become one.
    if (ttl === 0 && /[1-9]/.test(text)) throw new HttpFailure('BAD_REQUEST', `ttl must be 0 (no expiry) or at least 1 ms, got '${text}'`);
    return ttl;
  }

  /**
   * A PUT's value: the body, refused (413, connection closed, the rest unread) past
   * --max-value-size, before reading when Content-Length says so, else the moment it streams past.
   */
  #value(req: IncomingMessage): Promise<Buffer> {
    const limit = this.#options.maxValueSize;
    return readBody(req, limit).catch((err: unknown) => {
      if (!(err instanceof BodyTooLarge)) throw err;
      const what = err.declared === undefined ? 'the value' : `a value of ${err.declared} bytes`;
      throw new HttpFailure('TOO_LARGE', `${what} exceeds --max-value-size (${limit} bytes)`, true);
    });
  }

  /** Consumes a body nobody needs (at most one frame's worth), so keep-alive stays in sync. */
  #drain(req: IncomingMessage): Promise<void> {
    return readBody(req, MAX_BODY_SIZE).then(
      () => undefined,
      (err: unknown) => {
        throw err instanceof BodyTooLarge ? new HttpFailure('TOO_LARGE', err.message, true) : err;
      },
    );
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #text(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #fail(res: ServerResponse, err: unknown): void {
    const failure = err instanceof HttpFailure ? err : new HttpFailure('INTERNAL', 'internal error');
    if (failure.upstream) this.#metrics.upstreamError?.(failure.code);
    if (res.headersSent) return void res.destroy();
    const text = JSON.stringify({ error: failure.code, message: failure.message });
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (failure.code === 'AUTH_REQUIRED' || failure.code === 'AUTH_FAILED') headers['www-authenticate'] = 'Bearer';
    if (failure.close) headers.connection = 'close';
    res.writeHead(failure.httpStatus, headers);
    res.end(text);
    if (failure.close) res.once('finish', () => res.socket?.destroySoon());
  }
}
