// File descriptors: every connection, HTTP connection and listener holds one.
// When they run out, accept() fails with EMFILE and libuv closes the pending
// connection unseen (its "EMFILE trick"): the client sees a close without a
// BUSY and the server nothing. So the server checks its limit at start and
// watches for exhaustion while running (issue 15, item 11).
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Descriptors kept for what is not a client connection: listeners, logs, the event loop, TLS, a BUSY being sent. */
export const FD_MARGIN = 64;
/** The HTTP gateway's share: it refuses connections past this many (`http.Server.maxConnections`). */
export const HTTP_MAX_CONNECTIONS = 256;

/** A process's open-files limit (RLIMIT_NOFILE); `Infinity` for "unlimited". */
export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/**
 * The "Max open files" row of a Linux `/proc/<pid>/limits` text, or
 * `undefined` when it has none (another system, or an unreadable file).
 *
 * @example
 * ```ts
 * parseOpenFilesLimit('Max open files            1024                 4096                 files     \n');
 * // { soft: 1024, hard: 4096 }
 * ```
 */
export function parseOpenFilesLimit(text: string): OpenFilesLimit | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s+files\s*$/m.exec(text);
  if (match === null) return undefined;
  const value = (s: string | undefined): number => (s === 'unlimited' || s === undefined ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: value(match[1]), hard: value(match[2]) };
}

/** This process's open-files limit; `undefined` where `/proc/self/limits` does not exist (not Linux). */
export function readOpenFilesLimit(): OpenFilesLimit | undefined {
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The warning to log at start when `maxConnections` client connections, the
 * HTTP gateway's share and {@link FD_MARGIN} spare descriptors do not fit
 * the soft limit; `undefined` when they do. It names both numbers and both fixes.
 *
 * @example
 * ```ts
 * fdShortfall({ soft: 256, hard: 4096 }, 10_000, 0); // "--max-connections 10000 + 64 spare … exceed …"
 * ```
 */
export function fdShortfall(limit: OpenFilesLimit, maxConnections: number, httpConnections: number): string | undefined {
  const needed = maxConnections + httpConnections + FD_MARGIN;
  if (needed <= limit.soft) return undefined;
  const http = httpConnections > 0 ? ` + ${httpConnections} HTTP connections` : '';
  const room = limit.soft - httpConnections - FD_MARGIN;
  const raise = `Raise it (ulimit -n ${needed}${Number.isFinite(limit.hard) ? `; hard limit ${limit.hard}` : ''})`;
  return (
    `--max-connections ${maxConnections}${http} + ${FD_MARGIN} spare file descriptors = ${needed} exceed the soft open-files limit ` +
    `(RLIMIT_NOFILE) of ${limit.soft}: ` +
    (room >= 1
      ? `past about ${room} connections the OS refuses new ones (EMFILE) without a BUSY. ${raise} or lower --max-connections to ${room}`
      : `it is too small to serve connections reliably; new ones are refused (EMFILE) without a BUSY. ${raise}`)
  );
}

/**
 * True when this process cannot open one more descriptor right now (EMFILE or
 * ENFILE): opens and closes `/dev/null`. Called only while the connection
 * count is near the limit, so it costs nothing in normal running.
 *
 * @example
 * ```ts
 * if (descriptorsExhausted()) log.error({}, 'out of file descriptors');
 * ```
 */
export function descriptorsExhausted(): 'EMFILE' | 'ENFILE' | undefined {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? code : undefined;
  }
}
