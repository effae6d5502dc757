import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { connect } from 'node:net';
import type { Logger } from '../config/logger.js';

/**
 * The Unix socket path a server listens on, claimed safely: `--socket PATH`
 * never deletes what is at PATH unless it is a stale socket.
 *
 * @module
 */

/** A listen error with a stable `code` (errno-style) and the path it is about. */
function listenError(code: 'EADDRINUSE' | 'ENOTSOCK', path: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, path, syscall: 'listen' });
}

/** What kind of thing is at a path, for an error message. */
function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a named pipe';
  return 'not a socket';
}

/** True when something accepts connections on the Unix socket at `path`; false when it refuses (stale). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(Object.assign(new Error(`cannot check socket path ${path}: ${err.code ?? err.message}`), { code: err.code, path }));
    });
  });
}

/**
 * Makes way for the Unix socket at `path`: nothing there is fine; a socket that refuses
 * connections is stale (left by a crash) and is removed; a socket where a server answers
 * is in use (`EADDRINUSE`), and anything else (a file, a directory) is not a socket
 * (`ENOTSOCK`): both are left untouched and the error names the path.
 *
 * @example
 * ```ts
 * await claimSocketPath('/run/conduit.sock', logger); // then listen({ path })
 * ```
 */
export async function claimSocketPath(path: string, logger: Logger): Promise<void> {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stats.isSocket()) {
    throw listenError('ENOTSOCK', path, `socket path ${path} is ${kindOf(stats)}, not a socket: left untouched; choose another path or remove it`);
  }
  if (await socketAnswers(path)) {
    throw listenError('EADDRINUSE', path, `socket path ${path} is in use: a server answers there; stop it or choose another path`);
  }
  unlinkSync(path);
  logger.info({ socket: path }, 'removed a stale socket file (nothing answered there)');
}

