/**
 * The names a request gives for where it is going and where it comes from
 * (`Host`, `Origin`), parsed and compared the way browsers serialise them:
 * what the gateway needs to refuse DNS rebinding and cross-site requests.
 *
 * @example
 * ```ts
 * const target = parseAuthority('localhost:7172'); // { host: 'localhost', port: 7172 }
 * sameOrigin('http://localhost:7172', target!);    // true
 * ```
 * @module
 */
import { isIP } from 'node:net';

/**
 * A `Host` header or an origin's authority split into a lower-case host (IPv6 without brackets) and its port.
 *
 * @example
 * ```ts
 * const a: Authority = { host: '::1', port: 7172 };
 * ```
 */
export interface Authority {
  host: string;
  port: number | undefined;
}

/**
 * Parses `name`, `name:port`, `1.2.3.4:port`, `[::1]:port` (RFC 9110 §7.2); `undefined` for anything else.
 *
 * @example
 * ```ts
 * parseAuthority('[::1]:7172'); // { host: '::1', port: 7172 }
 * ```
 */
export function parseAuthority(text: string): Authority | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@]+))(?::(\d{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const v6 = match[1];
  if (v6 !== undefined && isIP(v6) !== 6) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && port > 65_535) return undefined;
  return { host: v6 === undefined ? (match[2] ?? '').toLowerCase() : canonicalV6(v6), port };
}

/** One spelling per IPv6 address (`FD00:0::1` → `fd00::1`), as WHATWG URL serialises it. */
function canonicalV6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * Normalises one allowed host as written by the user (`name`, an IPv4 or IPv6 address, `[::1]`).
 *
 * @example
 * ```ts
 * normaliseHost('[FD00:0::1]'); // 'fd00::1'
 * ```
 */
export function normaliseHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) === 6 ? canonicalV6(bare) : bare.toLowerCase();
}

/**
 * Loopback literals and `localhost`: only this machine can be reached through them, whatever DNS says.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.2'); // true
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * True when `origin` (RFC 6454 serialisation) is the origin the request was
 * sent to: same host, same port (the scheme's default when absent). Both
 * http and https count, for a gateway behind a TLS-terminating proxy.
 *
 * @example
 * ```ts
 * sameOrigin('https://cache.example', { host: 'cache.example', port: 443 }); // true
 * ```
 */
export function sameOrigin(origin: string, target: Authority): boolean {
  const match = /^(https?):\/\/(.+)$/i.exec(origin.trim());
  if (match === null) return false; // `null` (sandboxed pages, file:) and other schemes
  const scheme = (match[1] ?? '').toLowerCase();
  const from = parseAuthority(match[2] ?? '');
  if (from === undefined) return false;
  const fallback = scheme === 'https' ? 443 : 80;
  return from.host === target.host && (from.port ?? fallback) === (target.port ?? fallback);
}
