import { isIP } from 'node:net';
import type { PreSharedKey } from '../crypto/handshake.js';
import { checkKeyStrength, type AccessToken, type CertificateRule } from '../crypto/keys.js';
import type { AccessConfig } from './access/access-table.js';
import { DEFAULT_MAX_VALUE_SIZE, MAX_BODY_SIZE, MAX_VALUE_SIZE_LIMIT } from '../protocol/constants.js';
import { SET_FIXED_SIZE } from '../protocol/request-reader.js';
import { MAX_NODES, SLOT_COUNT } from '../protocol/slots.js';
import { MAX_NODE_NAME } from '../protocol/topology-body.js';
import type { EvictionPolicy } from '../store/store.js';
import { silentLogger, type Logger } from '../config/logger.js';

/** TLS settings of the listener (PEM contents, not paths). */
export interface ServerTlsOptions {
  /** Certificate chain. */
  cert: string | Buffer;
  /** Private key. */
  key: string | Buffer;
  /** CA(s) that sign client certificates, for `clientAuth`. */
  ca?: string | Buffer;
  /** Require a client certificate signed by `ca` (mTLS). */
  clientAuth?: boolean;
}

/**
 * A server's place in a group of servers that share the key space (spec §3.14, protocol 1.2).
 *
 * @example
 * ```ts
 * const nodes = ['127.0.0.1:7171', '127.0.0.1:7172'];
 * const group: ServerGroup = { self: 1, epoch: 1, nodes, table: assignSlots(nodes) };
 * ```
 */
export interface ServerGroup {
  /** This server's index in `nodes`. */
  readonly self: number;
  /** u32; changes whenever `nodes` changes, so a client can tell a stale map (spec §3.14). */
  readonly epoch: number;
  /** Every server's name, as clients connect to it: `host:port` (IPv6 in brackets) or a Unix socket path; 1–64, each 1–255 UTF-8 bytes, distinct. */
  readonly nodes: readonly string[];
  /** 16,384 entries, entry `s` the index in `nodes` of slot `s`'s owner: `assignSlots(nodes)`. */
  readonly table: Uint8Array;
}

/** Options of a {@link ConduitServer}. Sizes in bytes, times in milliseconds. */
export interface ServerOptions {
  /** TCP host to bind. Default `'127.0.0.1'`. */
  host: string;
  /** TCP port; 0 picks a free one. Default 7171. */
  port: number;
  /** Unix domain socket path to listen on instead of TCP (`tcp: false`) or beside it. */
  socket: string | undefined;
  /** Listen on TCP as well when `socket` is set. Default true. */
  tcp: boolean;
  /** Memory budget of the store. Default 64 MiB. */
  maxMemory: number;
  /** Store shards, a power of two. Default 16. */
  shards: number;
  /** Eviction policy. Default `'lru'`. */
  eviction: EvictionPolicy;
  /** Connections served at once; the next gets BUSY and a close. Default 10,000. */
  maxConnections: number;
  /** Responses a connection may have unsent before the server stops reading it. Default 1024. */
  maxInflight: number;
  /** Unwritten output a connection may hold before it is disconnected. Default 16 MiB. */
  maxOutputBuffer: number;
  /**
   * Output all connections together may hold (queued, or written and not yet taken by the
   * kernel); past it the largest holders are disconnected. Default: a quarter of `maxMemory`,
   * at least twice `maxOutputBuffer`. Why a quarter: queued output is memory on top of the
   * store's budget (in secure mode every queued answer is a fresh ciphertext, not a view of
   * the stored value), so the process's data stays within about 1.25 × `maxMemory` however
   * many clients stop reading. Why the floor: one slow reader alone then meets its own
   * `maxOutputBuffer` first (which it may pass by one batch before the check), as before.
   */
  maxOutputMemory: number;
  /** Close a connection silent this long; 0 = never. Default 0. */
  idleTimeoutMs: number;
  /** Close a connection whose started frame is not complete within this. Default 10 s. */
  frameTimeoutMs: number;
  /**
   * Secure mode: close a connection whose HELLO has not been answered OK within this, so
   * unauthenticated connections cannot hold --max-connections slots (spec §6.2). Default 5 s.
   */
  handshakeTimeoutMs: number;
  /**
   * Secure mode: HELLOs one source address may have answered per second, and in a burst
   * (a token bucket per address); past it HELLO is answered BUSY before any key work (spec
   * §6.2). 0 = no limit. Default 500: a pool of a few hundred connections reconnecting at
   * once passes, while one address can make the server do at most 500 handshakes a second.
   */
  maxHandshakesPerSecond: number;
  /**
   * spec §3.15 (protocol 1.3): the most keys the tracking table holds; past it the oldest
   * tracked key is invalidated (pushed to its holders) and forgotten. 1 to 100,000,000.
   * Default 1,000,000 (about 60 MB of heap for 16-byte keys read by one connection each).
   */
  trackingMaxKeys: number;
  /** Allow the SHUTDOWN opcode. Default false. */
  allowShutdown: boolean;
  /** Longest graceful drain before connections are destroyed. Default 10 s. */
  shutdownTimeoutMs: number;
  /** Highest LENGTH accepted (spec §2.1 allows a lower cap). Default 65,524. */
  maxBodySize: number;
  /**
   * The largest value a SET may store, whatever its framing (spec §2.4: larger ones are
   * TOO_LARGE; a fragmented request larger than this + 272 is refused at its first
   * fragment). From {@link MIN_MAX_VALUE_SIZE} (every value one 1.0 frame carries) to
   * 64 MiB, and at most `maxMemory` when given. Default 1 MiB.
   */
  maxValueSize: number;
  /**
   * Pre-shared keys; any key turns on secure mode (spec §6): every connection must start with HELLO.
   * A key's `rule` limits what its sessions may do (spec §3.17, issue 25); without one, every right.
   */
  keys: readonly PreSharedKey[];
  /**
   * Issue 25: HTTP bearer tokens and RESP users (a key file's `[[tokens]]`), each with its
   * rights. Any token makes the HTTP data routes and the RESP port require one. Default none.
   */
  tokens: readonly AccessToken[];
  /**
   * Issue 25: rights of TLS client certificates by subject CN (a key file's `[[certificates]]`);
   * with any, a certificate none names gets no right. Default none (every certificate: every right).
   */
  certificates: readonly CertificateRule[];
  /**
   * Issue 25: re-reads the credentials (the key file) for a reload (SIGHUP, RELOAD); throws a
   * `TypeError` naming the file and entry when it is bad. `undefined`: nothing to reload.
   */
  reloadAccess: (() => AccessConfig) | undefined;
  /** Serve TLS instead of plain TCP. */
  tls: ServerTlsOptions | undefined;
  /**
   * Port of the HTTP gateway (`/v1/keys`, `/metrics`, probes); `undefined`: off; 0 picks one.
   * `conduit-server` starts the gateway (src/cli/compose.ts); a {@link ConduitServer} alone
   * only keeps the metrics it serves and counts its share of file descriptors.
   */
  httpPort: number | undefined;
  /** Host of the HTTP gateway. Default `'127.0.0.1'`. */
  httpHost: string;
  /** Bearer token the HTTP data routes require (in secure mode they need one). */
  httpToken: string | undefined;
  /**
   * Host names or addresses (no port) the HTTP gateway answers for besides
   * loopback literals, `localhost` and a non-loopback `httpHost`; any other
   * `Host` gets 421 (DNS rebinding). Default none.
   */
  httpAllowedHosts: readonly string[];
  /**
   * Port of the RESP listener (docs/RESP.md: Redis clients on the same store); `undefined`: off
   * (the default); 0 picks one. Its connections count against `maxConnections` with the others.
   */
  respPort: number | undefined;
  /** Host of the RESP listener; `undefined`: `host`. */
  respHost: string | undefined;
  /** Unix socket path the RESP listener also (or only, without `respPort`) listens on. */
  respSocket: string | undefined;
  /** The password RESP clients must give with AUTH (or HELLO … AUTH); `undefined`: none. */
  respPassword: string | undefined;
  /** Log sink. Default: no logging. */
  logger: Logger;
  /**
   * The group this server is one of (spec §3.14): it answers TOPOLOGY with the group's map
   * and MOVED to a request whose key another server owns. `undefined` (the default):
   * standalone, owning every key. Set by `conduit-server --workers` for each worker.
   */
  group: ServerGroup | undefined;
  /**
   * Issue 22 (docs/SNAPSHOT.md): load `file` before listening, save it after the drain at
   * close() and every `intervalMs` (0: at shutdown only; else at least 1 s); a bad file stops
   * the start when `strict`, else it is moved aside; `key` (32 bytes) seals it. Default: none.
   */
  snapshot: ServerSnapshotOptions | undefined;
}

/**
 * The `snapshot` option of a {@link ServerOptions}.
 *
 * @example
 * ```ts
 * const snapshot: ServerSnapshotOptions = { file: '/var/lib/conduit/cache.snap', intervalMs: 0, strict: false };
 * ```
 */
export interface ServerSnapshotOptions {
  file: string;
  intervalMs: number;
  strict: boolean;
  key?: Uint8Array;
}

/**
 * spec §2.4: the smallest `maxValueSize`: the largest value one unfragmented plaintext
 * SET carries (65,524 − 6 fixed bytes − a 1-byte key), so a 1.0 client's every SET is
 * judged by the memory budget alone, as before protocol 1.1.
 */
export const MIN_MAX_VALUE_SIZE = MAX_BODY_SIZE - SET_FIXED_SIZE - 1;

/** The defaults of every {@link ServerOptions} field. */
export const serverDefaults: Readonly<ServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 7171,
  socket: undefined,
  tcp: true,
  maxMemory: 64 * 1024 * 1024,
  shards: 16,
  eviction: 'lru' as EvictionPolicy,
  maxConnections: 10_000,
  maxInflight: 1024,
  maxOutputBuffer: 16 * 1024 * 1024,
  maxOutputMemory: 32 * 1024 * 1024, // twice the default maxOutputBuffer; recomputed from maxMemory when not given
  idleTimeoutMs: 0,
  frameTimeoutMs: 10_000,
  handshakeTimeoutMs: 5_000,
  maxHandshakesPerSecond: 500,
  trackingMaxKeys: 1_000_000,
  allowShutdown: false,
  shutdownTimeoutMs: 10_000,
  maxBodySize: MAX_BODY_SIZE,
  maxValueSize: DEFAULT_MAX_VALUE_SIZE,
  keys: [],
  tokens: [],
  certificates: [],
  reloadAccess: undefined,
  tls: undefined,
  httpPort: undefined,
  httpHost: '127.0.0.1',
  httpToken: undefined,
  httpAllowedHosts: [],
  respPort: undefined,
  respHost: undefined,
  respSocket: undefined,
  respPassword: undefined,
  logger: silentLogger,
  group: undefined,
  snapshot: undefined,
});

/**
 * Longest Unix socket path: `sun_path` holds 108 bytes with its NUL on Linux, 104 on macOS and the BSDs.
 * A longer one is not refused by bind(2) on Linux but silently cut short.
 */
const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;

function integer(label: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(`${label} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/** How option messages name an option by default: "port option", "httpToken option". */
const optionLabel = (name: keyof ServerOptions): string => `${name} option`;

/**
 * The defaults spread once under `options`, validated; throws a `TypeError`
 * naming the option and its range. `label` says how a message names an option
 * ("httpToken option" by default; `conduit-server` passes the flag, variable or
 * config-file setting the user wrote, e.g. "CONDUIT_HTTP_TOKEN").
 *
 * @example
 * ```ts
 * resolveServerOptions({ port: 0 }).maxInflight; // 1024
 * resolveServerOptions({ httpToken: 'short' }, () => '--http-token'); // throws: --http-token must be at least 16 characters
 * ```
 */
export function resolveServerOptions(options: Partial<ServerOptions>, label: (name: keyof ServerOptions) => string = optionLabel): ServerOptions {
  const o: ServerOptions = { ...serverDefaults, ...options };
  if (options.maxOutputMemory === undefined && Number.isSafeInteger(o.maxMemory) && Number.isSafeInteger(o.maxOutputBuffer)) {
    o.maxOutputMemory = Math.max(Math.floor(o.maxMemory / 4), 2 * o.maxOutputBuffer);
  }
  if (options.maxValueSize === undefined && Number.isSafeInteger(o.maxMemory)) {
    // A budget under the default limit (tests, tiny sidecars) gets a limit it can hold, not an error.
    o.maxValueSize = Math.min(DEFAULT_MAX_VALUE_SIZE, Math.max(MIN_MAX_VALUE_SIZE, o.maxMemory));
  }
  if (typeof o.host !== 'string' || o.host.trim() === '') throw new TypeError(`${label('host')} must be a host name or address`);
  integer(label('port'), o.port, 0, 65_535);
  if (o.socket !== undefined && (typeof o.socket !== 'string' || o.socket === '')) {
    throw new TypeError(`${label('socket')} must be a file path`);
  }
  checkSocketPath(o.socket, label('socket'));
  if (!o.tcp && o.socket === undefined) throw new TypeError(`${label('tcp')} may be false only with a socket path`);
  integer(label('maxConnections'), o.maxConnections, 1, 1_000_000);
  integer(label('maxInflight'), o.maxInflight, 1, 1_000_000);
  integer(label('maxOutputBuffer'), o.maxOutputBuffer, 65_536, Number.MAX_SAFE_INTEGER);
  integer(label('idleTimeoutMs'), o.idleTimeoutMs, 0, 2_147_483_647);
  integer(label('maxOutputMemory'), o.maxOutputMemory, 65_536, Number.MAX_SAFE_INTEGER);
  integer(label('frameTimeoutMs'), o.frameTimeoutMs, 1, 2_147_483_647);
  integer(label('handshakeTimeoutMs'), o.handshakeTimeoutMs, 1, 2_147_483_647);
  integer(label('maxHandshakesPerSecond'), o.maxHandshakesPerSecond, 0, 1_000_000);
  integer(label('trackingMaxKeys'), o.trackingMaxKeys, 1, 100_000_000);
  integer(label('shutdownTimeoutMs'), o.shutdownTimeoutMs, 0, 2_147_483_647);
  integer(label('maxBodySize'), o.maxBodySize, 0, MAX_BODY_SIZE);
  integer(label('maxValueSize'), o.maxValueSize, MIN_MAX_VALUE_SIZE, MAX_VALUE_SIZE_LIMIT);
  if (Number.isSafeInteger(o.maxMemory) && o.maxValueSize > Math.max(MIN_MAX_VALUE_SIZE, o.maxMemory)) {
    // spec §2.4: a limit no store of this budget can reach would only promise what SET then refuses.
    throw new TypeError(`${label('maxValueSize')} must not exceed ${label('maxMemory')} (${o.maxMemory} bytes), got ${o.maxValueSize}`);
  }
  const ids = new Set<string>();
  for (const key of o.keys) {
    if (ids.has(key.id)) throw new TypeError(`${label('keys')} names key id '${key.id}' twice`);
    if (key.secret.length !== 32) throw new TypeError(`${label('keys')}: key '${key.id}' must be 32 bytes`);
    checkKeyStrength(key.id, key.secret, label('keys'));
    ids.add(key.id);
  }
  if (o.tls !== undefined && (o.tls.cert === undefined || o.tls.key === undefined)) {
    throw new TypeError(`${label('tls')} needs cert and key`);
  }
  if (o.tls?.clientAuth === true && o.tls.ca === undefined) throw new TypeError('tls.clientAuth needs tls.ca to check client certificates');
  if (o.httpPort !== undefined) integer(label('httpPort'), o.httpPort, 0, 65_535);
  if (o.tcp && o.port !== 0 && o.httpPort === o.port) {
    // Both listeners would bind it, and the second would fail as "already in use" with nothing else there.
    throw new TypeError(`${label('httpPort')} must differ from the port option, both are ${o.port}`);
  }
  if (o.httpToken !== undefined && o.httpToken.length < 16) throw new TypeError(`${label('httpToken')} must be at least 16 characters`);
  if (!Array.isArray(o.httpAllowedHosts)) throw new TypeError(`${label('httpAllowedHosts')} must be an array of host names or addresses`);
  for (const host of o.httpAllowedHosts) {
    // A name (letters, digits, '-', '.', '_'), an IPv4 address, or an IPv6 one with or without brackets; no port.
    const bare = typeof host === 'string' && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (typeof bare !== 'string' || !(/^[A-Za-z0-9._-]+$/.test(bare) || isIP(bare) !== 0)) {
      throw new TypeError(`${label('httpAllowedHosts')} must hold host names or addresses without a port, got '${String(host)}'`);
    }
  }
  checkResp(o, label);
  if (o.group !== undefined) checkGroup(o.group, label('group'));
  if (o.snapshot !== undefined) checkSnapshot(o.snapshot, label('snapshot'));
  return o;
}

/** The kernel would cut a long Unix socket path short without an error: the file lands elsewhere and outlives the server. */
function checkSocketPath(path: string | undefined, label: string): void {
  if (path !== undefined && process.platform !== 'win32' && Buffer.byteLength(path) > SOCKET_PATH_MAX) {
    throw new TypeError(
      `${label} is ${Buffer.byteLength(path)} bytes long, more than the ${SOCKET_PATH_MAX} bytes a Unix socket path may have here: choose a shorter path`,
    );
  }
}

/** Issue 23: the RESP listener's port, host, socket and password; its port and socket differ from the others. */
function checkResp(o: ServerOptions, label: (name: keyof ServerOptions) => string): void {
  if (o.respPort !== undefined) {
    integer(label('respPort'), o.respPort, 0, 65_535);
    if (o.respPort !== 0 && o.tcp && o.respPort === o.port) {
      throw new TypeError(`${label('respPort')} must differ from ${label('port')}, both are ${o.port}`);
    }
    if (o.respPort !== 0 && o.respPort === o.httpPort) {
      throw new TypeError(`${label('respPort')} must differ from ${label('httpPort')}, both are ${o.respPort}`);
    }
  }
  if (o.respHost !== undefined && (typeof o.respHost !== 'string' || o.respHost.trim() === '')) {
    throw new TypeError(`${label('respHost')} must be a host name or address`);
  }
  if (o.respSocket !== undefined) {
    if (typeof o.respSocket !== 'string' || o.respSocket === '') throw new TypeError(`${label('respSocket')} must be a file path`);
    checkSocketPath(o.respSocket, label('respSocket'));
    if (o.respSocket === o.socket) throw new TypeError(`${label('respSocket')} must differ from ${label('socket')}, both are ${o.respSocket}`);
  }
  if (o.respPassword !== undefined && (typeof o.respPassword !== 'string' || o.respPassword === '')) {
    throw new TypeError(`${label('respPassword')} must not be empty`);
  }
  if (o.respPort === undefined && o.respSocket === undefined && (o.respHost !== undefined || o.respPassword !== undefined)) {
    throw new TypeError(`${label(o.respHost !== undefined ? 'respHost' : 'respPassword')} needs ${label('respPort')} or ${label('respSocket')}`);
  }
}

/** Issue 22: a snapshot file, its interval (0, or 1 s up to the longest timer), strictness and key. */
function checkSnapshot(snapshot: ServerSnapshotOptions, label: string): void {
  if (typeof snapshot !== 'object' || snapshot === null) throw new TypeError(`${label} must be an object with file, intervalMs and strict`);
  if (typeof snapshot.file !== 'string' || snapshot.file === '') throw new TypeError(`${label}: file must be a file path`);
  if (snapshot.intervalMs !== 0) integer(`${label}: intervalMs (0 = at shutdown only)`, snapshot.intervalMs, 1_000, 2_147_483_647);
  if (typeof snapshot.strict !== 'boolean') throw new TypeError(`${label}: strict must be true or false`);
  if (snapshot.key !== undefined && (!(snapshot.key instanceof Uint8Array) || snapshot.key.length !== 32)) {
    throw new TypeError(`${label}: key must be 32 bytes`);
  }
}

/** spec §3.14: a group's map every client can decode and every server of it agrees on. */
function checkGroup(group: ServerGroup, label: string): void {
  if (typeof group !== 'object' || group === null) throw new TypeError(`${label} must be an object with self, epoch, nodes and table`);
  const { self, epoch, nodes, table } = group;
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_NODES) {
    throw new TypeError(`${label}: nodes must be an array of 1 to ${MAX_NODES} server names`);
  }
  for (const name of nodes) {
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name) > MAX_NODE_NAME) {
      throw new TypeError(`${label}: nodes must hold names of 1 to ${MAX_NODE_NAME} bytes, got '${String(name)}'`);
    }
  }
  if (new Set(nodes).size !== nodes.length) throw new TypeError(`${label}: nodes must name each server once`);
  integer(`${label}: self`, self, 0, nodes.length - 1);
  integer(`${label}: epoch`, epoch, 0, 0xffff_ffff);
  if (!(table instanceof Uint8Array) || table.length !== SLOT_COUNT) {
    throw new TypeError(`${label}: table must be a Uint8Array of ${SLOT_COUNT} entries (assignSlots(nodes))`);
  }
  const past = table.findIndex((owner) => owner >= nodes.length);
  if (past !== -1) throw new TypeError(`${label}: table names server ${table[past]} for slot ${past}, past the ${nodes.length} in nodes`);
}

/**
 * True for addresses only this machine reaches: 127.0.0.0/8, ::1,
 * `localhost` (Redis protected mode allows these without a password).
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1'); // true
 * isLoopback('0.0.0.0');   // false
 * ```
 */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (host.toLowerCase().startsWith('::ffff:')) return isLoopback(host.slice(7));
  return false;
}
