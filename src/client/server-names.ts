/**
 * Server names of a pool (spec §3.14): the string a client connects to,
 * `host:port` (an IPv6 host in brackets) or an absolute Unix socket path.
 * Names are what the ring hashes, so every client must spell a server the
 * same way: hosts are lowercased and IPv6 hosts bracketed before hashing.
 *
 * @example
 * ```ts
 * normaliseServerName('LOCALHOST:7171'); // 'localhost:7171'
 * addressOf('[::1]:7171'); // { host: '::1', port: 7171 }
 * ```
 * @module
 */
import { isIP } from 'node:net';
import { MAX_NODES } from '../protocol/slots.js';
import { MAX_NODE_NAME } from '../protocol/topology-body.js';

/** Where a server is reached: TCP host and port, or a Unix socket path. */
export type ServerAddress = { readonly host: string; readonly port: number } | { readonly socket: string };

/** Hosts that name "every interface" when a server listens: a client reaches them at the host it asked. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

function parse(name: string): ServerAddress | undefined {
  // spec §3.14: a name is 1–255 bytes; a control character (a NUL in a socket path) is never one.
  if (Buffer.byteLength(name) > MAX_NODE_NAME || /[\u0000-\u001f\u007f]/.test(name)) return undefined;
  if (name.startsWith('/')) return { socket: name };
  let host: string;
  let portText: string;
  if (name.startsWith('[')) {
    const close = name.indexOf(']:');
    if (close < 0) return undefined;
    host = name.slice(1, close);
    portText = name.slice(close + 2);
    if (!host.includes(':')) return undefined; // brackets are for IPv6 only
  } else {
    const colon = name.lastIndexOf(':');
    if (colon <= 0 || name.indexOf(':') !== colon) return undefined; // an unbracketed IPv6 is ambiguous
    host = name.slice(0, colon);
    portText = name.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65_535 || host === '' || /[\s/]/.test(host)) return undefined;
  return { host: canonicalHost(host.toLowerCase()), port };
}

/**
 * One spelling per IP literal, so that `[0:0:0:0:0:0:0:1]:7171` and `[::1]:7171` are one server
 * (the WHATWG URL parser's canonical form). Host names are left as written: `localhost` and
 * `127.0.0.1` are two names (README "Scaling out": list each server once, one way).
 */
function canonicalHost(host: string): string {
  if (isIP(host) === 0) return host;
  const hostname = new URL(`http://${host.includes(':') ? `[${host}]` : host}/`).hostname;
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/**
 * The canonical spelling of an address: `host:port` with a lowercase host,
 * `[v6]:port`, or the socket path as it is.
 *
 * @example
 * ```ts
 * nameOf({ host: '::1', port: 7171 }); // '[::1]:7171'
 * ```
 */
export function nameOf(address: ServerAddress): string {
  if ('socket' in address) return address.socket;
  const host = address.host.toLowerCase();
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}

/**
 * Parses a server name (`host:port`, `[v6]:port` or `/socket/path`), or
 * returns `undefined` when it is none of them.
 *
 * @example
 * ```ts
 * addressOf('10.0.0.1:7171'); // { host: '10.0.0.1', port: 7171 }
 * addressOf('/run/conduit.sock'); // { socket: '/run/conduit.sock' }
 * ```
 */
export function addressOf(name: string): ServerAddress | undefined {
  return parse(name);
}

/**
 * `name` normalised (see {@link nameOf}); throws a `TypeError` naming
 * `option` when it is not a server name.
 *
 * @example
 * ```ts
 * normaliseServerName('Cache-1:7171'); // 'cache-1:7171'
 * ```
 */
export function normaliseServerName(name: unknown, option = 'servers'): string {
  const address = typeof name === 'string' ? parse(name) : undefined;
  if (address === undefined) {
    throw new TypeError(`${option} option entries must be 'host:port', '[v6]:port' or an absolute socket path, got ${JSON.stringify(name)}`);
  }
  return nameOf(address);
}

/**
 * The `servers` option validated: 1–64 names, each normalised, none twice.
 *
 * @example
 * ```ts
 * serverList(['127.0.0.1:7171', '[::1]:7172']); // ['127.0.0.1:7171', '[::1]:7172']
 * ```
 */
export function serverList(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > MAX_NODES) {
    const got = Array.isArray(servers) ? `${servers.length} entries` : typeof servers;
    throw new TypeError(`servers option must be an array of 1 to ${MAX_NODES} server names, got ${got}`);
  }
  // Array.from visits holes (`[, 'a:1']`) as undefined, which map() would skip and leave in the list.
  const names = Array.from(servers as unknown[], (s) => normaliseServerName(s));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new TypeError(`servers option names ${name} twice (after normalisation)`);
    seen.add(name);
  }
  return names;
}

/**
 * Where to reach a server a group named: its address, except that a
 * wildcard host (`0.0.0.0`, `::`), which a server listening on every
 * interface reports, is reached at `via`, the host the client discovered
 * the group through (design of issue 20).
 *
 * @example
 * ```ts
 * reachAt('0.0.0.0:7172', '10.0.0.5'); // { host: '10.0.0.5', port: 7172 }
 * ```
 */
export function reachAt(name: string, via: string): ServerAddress | undefined {
  const address = parse(name);
  if (address === undefined || 'socket' in address) return address;
  return WILDCARDS.has(address.host) ? { host: via, port: address.port } : address;
}
