import { aeadChoice } from '../crypto/aead-choice.js';
import { loadKeyFile } from '../crypto/keys.js';
import { MAX_VALUE_SIZE_LIMIT } from '../protocol/constants.js';
import { serverList } from './server-names.js';
import { resolveNearCacheOptions, type NearCacheOptions, type ResolvedNearCacheOptions } from './near-cache.js';

/** Reconnect settings of a {@link ClientOptions}. */
export interface ReconnectOptions {
  /** Attempts after a lost connection before giving up (queued requests then reject). Default 20. */
  maxAttempts?: number;
  /** First delay; each attempt doubles it, with jitter. Default 50 ms. */
  baseDelayMs?: number;
  /** Longest delay between attempts. Default 2,000 ms. */
  maxDelayMs?: number;
}

/** A pre-shared key for secure mode (spec §6). */
export interface ClientKey {
  /** The key's id, as the server knows it. */
  id: string;
  /** 32 bytes, or their base64. */
  secret: Buffer | Uint8Array | string;
}

/** TLS settings (PEM contents). */
export interface ClientTlsOptions {
  /** CA(s) to trust for the server's certificate. */
  ca?: string | Buffer;
  /** Client certificate, for servers that require one (mTLS). */
  cert?: string | Buffer;
  /** Client private key. */
  key?: string | Buffer;
  /** Name to check the server certificate against (default: host). */
  servername?: string;
}

/** Options of a {@link ConduitClient}. Times in milliseconds. */
export interface ClientOptions {
  /** Server host. Default `'127.0.0.1'`. */
  host?: string;
  /** Server port. Default 7171. */
  port?: number;
  /** Unix domain socket path; used instead of host/port when set. */
  socket?: string;
  /** How long one connection attempt may take. Default 5,000. */
  connectTimeoutMs?: number;
  /** How long a request may wait for its response, queued time included. Default 5,000. */
  requestTimeoutMs?: number;
  /** Requests written and awaiting a response at once. Default 1,024. */
  maxInflight?: number;
  /** Requests waiting beyond `maxInflight`; past it calls reject with `QUEUE_FULL`. Default 10,000. */
  maxQueued?: number;
  /**
   * Reconnect after this many written requests timed out in a row with no
   * response between them (the server is up but silent). The connection is
   * also given up as soon as every request in flight has timed out.
   * Default 3.
   */
  maxSilentTimeouts?: number;
  /** Reconnect after a lost connection (`false`: never). */
  reconnect?: ReconnectOptions | false;
  /** Secure mode: handshake with this key on every (re)connect; frames are then encrypted and authenticated. */
  key?: ClientKey;
  /** Secure mode with a key file (TOML `[[keys]]`, as the server reads): its key `keyId`, or its first. */
  keyFile?: string;
  /** Which key of `keyFile` to use. */
  keyId?: string;
  /**
   * Secure mode: how requests and responses are sealed. `'envelopes'` (the
   * default) asks the server in HELLO for sealed envelopes (spec §6.7,
   * protocol 1.1: the frames written together share one AEAD) and seals per
   * frame if it does not grant them; `'frames'` sends a protocol 1.0 HELLO
   * and seals every frame alone (spec §6.4), as a 1.0 server requires (it
   * refuses the 1.1 HELLO with AUTH_FAILED).
   */
  sealing?: Sealing;
  /** Connect with TLS. */
  tls?: ClientTlsOptions;
  /**
   * The largest response body the client takes (spec §2.4, protocol 1.1): a
   * fragmented answer announcing more fails its request with `TOO_LARGE`,
   * and the rest of it is discarded unbuffered (the connection stays
   * usable). Default 64 MiB (67,108,864), also the most allowed.
   */
  maxValueSize?: number;
  /**
   * A pool (spec §3.14, issue 20): the servers, each `host:port`,
   * `[v6]:port` or an absolute Unix socket path, 1–64 of them. Each key goes
   * to one server, chosen by its slot (Redis Cluster's CRC16 hash slots,
   * assigned to the servers' names by rendezvous hashing), so every client
   * with the same servers, in any order, sends a key to the same server.
   * Excludes `host`, `port`, `socket` and `discover`; every other option
   * applies to each server.
   */
  servers?: readonly string[];
  /**
   * Ask the server at `host`/`port` (or `socket`) which group it is in
   * (TOPOLOGY, spec §3.14) and use the group's servers as the pool; a
   * standalone or protocol 1.0 server is a pool of one. Excludes `servers`.
   */
  discover?: boolean;
  /**
   * What a pool does while one of its servers is down. `'fail'` (default):
   * that server's keys reject at once with `CONNECTION_LOST` or
   * `CONNECT_FAILED`, the other servers' keys are unaffected. `'eject'`:
   * after `ejectAfter` consecutive connection-level failures (`CONNECT_FAILED`,
   * `CONNECTION_LOST`, `TIMEOUT`) the server leaves the ring and its keys go
   * to the other servers (as misses) until a HEALTH check, every
   * `ejectRetryMs`, passes.
   */
  failurePolicy?: 'fail' | 'eject';
  /** `'eject'`: consecutive connection-level failures that take a server out of the ring. Default 3. */
  ejectAfter?: number;
  /** `'eject'`: how long an ejected server stays out before a HEALTH check may bring it back. Default 5,000. */
  ejectRetryMs?: number;
  /**
   * A near cache (issue 21, spec §3.15): `get` answers from values kept in
   * this process, which the server's INVALIDATE pushes keep correct. On
   * every connection the client turns tracking on (TRACKING, after CAPS);
   * a server without it leaves the near cache off (`'near-cache-off'`
   * event). `maxEntries` (default 10,000), `maxBytes` (default 16 MiB),
   * `ttlMs` (default 0: no local expiry), `prefixes` (1–16: broadcast mode,
   * every change under them is pushed, instead of the keys this client read).
   * One server only: not with `servers` or `discover`.
   */
  nearCache?: NearCacheOptions;
}


/** The secure-mode sealing a client asks for (see {@link ClientOptions.sealing}). */
export type Sealing = 'envelopes' | 'frames';

/** {@link ClientOptions} with every default filled in. */
export interface ResolvedClientOptions {
  host: string;
  port: number;
  socket: string | undefined;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxInflight: number;
  maxQueued: number;
  maxSilentTimeouts: number;
  reconnect: Required<ReconnectOptions> | false;
  key: { id: string; secret: Buffer } | undefined;
  sealing: Sealing;
  tls: ClientTlsOptions | undefined;
  maxValueSize: number;
  nearCache: ResolvedNearCacheOptions | undefined;
}

/** The pool's options, with the per-server options they leave (see {@link resolvePoolOptions}). */
export interface ResolvedPoolOptions {
  /** `servers`, normalised; `undefined` with `discover`. */
  servers: string[] | undefined;
  /** Where `discover` asks; `undefined` with `servers`. */
  discover: { host: string; port: number } | { socket: string } | undefined;
  failurePolicy: 'fail' | 'eject';
  ejectAfter: number;
  ejectRetryMs: number;
  /** What each server's own client is made with: every option but the pool's and the address. */
  perServer: ClientOptions;
}

/**
 * The pool options of `options`, validated (TypeErrors naming the option),
 * or `undefined` for a single-server client (neither `servers` nor `discover`).
 *
 * @example
 * ```ts
 * resolvePoolOptions({ servers: ['127.0.0.1:7171', '127.0.0.1:7172'] })?.servers; // both, normalised
 * resolvePoolOptions({ port: 7171 }); // undefined
 * ```
 */
export function resolvePoolOptions(options: ClientOptions): ResolvedPoolOptions | undefined {
  const { servers, discover, failurePolicy = 'fail', ejectAfter = 3, ejectRetryMs = 5_000, host, port, socket, ...perServer } = options;
  if (discover !== undefined && typeof discover !== 'boolean') throw new TypeError(`discover option must be a boolean, got ${String(discover)}`);
  if (failurePolicy !== 'fail' && failurePolicy !== 'eject') {
    throw new TypeError(`failurePolicy option must be 'fail' or 'eject', got ${String(failurePolicy)}`);
  }
  integer('ejectAfter', ejectAfter, 1, 1_000_000);
  integer('ejectRetryMs', ejectRetryMs, 1, 2_147_483_647);
  if (servers === undefined && discover !== true) {
    // These only mean something for a pool: a single client given one was probably meant to be one.
    const given = (['failurePolicy', 'ejectAfter', 'ejectRetryMs'] as const).find((name) => options[name] !== undefined);
    if (given !== undefined) throw new TypeError(`${given} option needs servers or discover: true (a pool)`);
    return undefined;
  }
  // A pool's near cache would need every member's pushes and the ring's moves to reach one map: not built (issue 21).
  if (perServer.nearCache !== undefined) throw new TypeError('nearCache option needs a single server: it cannot be used with servers or discover');
  const common = { failurePolicy, ejectAfter, ejectRetryMs, perServer };
  if (servers !== undefined) {
    if (discover === true) throw new TypeError('discover and servers options exclude each other: discover finds the servers itself');
    if (host !== undefined || port !== undefined || socket !== undefined) {
      throw new TypeError('servers option excludes host, port and socket: name every server in servers');
    }
    return { servers: serverList(servers), discover: undefined, ...common };
  }
  // Validated as a single server's address would be.
  const address = Object.fromEntries(Object.entries({ host, port, socket }).filter(([, v]) => v !== undefined));
  const seed = resolveClientOptions({ ...perServer, ...address });
  return { servers: undefined, discover: seed.socket !== undefined ? { socket: seed.socket } : { host: seed.host, port: seed.port }, ...common };
}

function withoutKeyFile(options: ClientOptions): Omit<ClientOptions, 'keyFile' | 'keyId'> {
  const { keyFile: _file, keyId: _id, ...rest } = options;
  return rest;
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} option must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/**
 * The defaults spread once under `options`, validated; throws a `TypeError`
 * naming the option and its range.
 *
 * @example
 * ```ts
 * resolveClientOptions({ port: 7171 }).requestTimeoutMs; // 5000
 * ```
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const reconnect =
    options.reconnect === false
      ? false
      : { maxAttempts: 20, baseDelayMs: 50, maxDelayMs: 2_000, ...(options.reconnect ?? {}) };
  const o: ResolvedClientOptions = {
    host: '127.0.0.1',
    port: 7171,
    socket: undefined,
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    maxInflight: 1_024,
    maxQueued: 10_000,
    maxSilentTimeouts: 3,
    sealing: 'envelopes',
    maxValueSize: MAX_VALUE_SIZE_LIMIT, // protocol 1.1's ceiling: a client takes whatever a server may hold
    ...withoutKeyFile(options),
    reconnect,
    key: undefined,
    tls: options.tls,
    nearCache: resolveNearCacheOptions(options.nearCache),
  };
  if (options.keyFile !== undefined) {
    if (options.key !== undefined) throw new TypeError('key and keyFile options exclude each other');
    const keys = loadKeyFile(options.keyFile);
    const chosen = options.keyId === undefined ? keys[0] : keys.find((k) => k.id === options.keyId);
    if (chosen === undefined) throw new TypeError(`keyId option '${options.keyId ?? ''}' is not in ${options.keyFile}`);
    o.key = chosen;
  } else if (options.key !== undefined) {
    const { id, secret } = options.key;
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'base64') : Buffer.from(secret);
    const idSize = typeof id === 'string' ? Buffer.byteLength(id, 'utf8') : 0;
    if (idSize < 1 || idSize > 64) throw new TypeError(`key.id option must be 1 to 64 bytes of UTF-8, got ${idSize}`);
    if (bytes.length !== 32) throw new TypeError(`key.secret option must be 32 bytes (or their base64), got ${bytes.length}`);
    o.key = { id, secret: bytes };
  }
  // Issue 18: secure mode's frame AEAD is chosen with the options, so a bad CONDUIT_AEAD is this
  // TypeError from the constructor rather than a throw inside the socket's data handler at HELLO.
  if (o.key !== undefined) aeadChoice();
  if (o.sealing !== 'envelopes' && o.sealing !== 'frames') {
    throw new TypeError(`sealing option must be 'envelopes' or 'frames', got ${String(o.sealing)}`);
  }
  if (typeof o.host !== 'string' || o.host === '') throw new TypeError('host option must be a host name or address');
  integer('port', o.port, 1, 65_535);
  if (o.socket !== undefined && (typeof o.socket !== 'string' || o.socket === '')) {
    throw new TypeError('socket option must be a file path');
  }
  integer('connectTimeoutMs', o.connectTimeoutMs, 1, 2_147_483_647);
  integer('requestTimeoutMs', o.requestTimeoutMs, 1, 2_147_483_647);
  integer('maxInflight', o.maxInflight, 1, 1_000_000);
  integer('maxQueued', o.maxQueued, 0, 100_000_000);
  integer('maxSilentTimeouts', o.maxSilentTimeouts, 1, 1_000_000);
  integer('maxValueSize', o.maxValueSize, 1, MAX_VALUE_SIZE_LIMIT);
  if (reconnect !== false) {
    if (reconnect.maxAttempts !== Infinity) integer('reconnect.maxAttempts', reconnect.maxAttempts, 0, 1_000_000);
    integer('reconnect.baseDelayMs', reconnect.baseDelayMs, 1, 600_000);
    integer('reconnect.maxDelayMs', reconnect.maxDelayMs, reconnect.baseDelayMs, 600_000);
  }
  return o;
}
