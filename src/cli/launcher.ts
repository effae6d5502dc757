// `conduit-server` under `npx`: stop when the process that launched it is gone.
import { readFileSync, realpathSync } from 'node:fs';

/** How often a server started by npm checks that the process that started it is still there. */
const LAUNCHER_POLL_MS = 500;

/** The parent pid of `pid` from `/proc/<pid>/stat` (Linux), or undefined where there is no /proc. */
function parentOf(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isSafeInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a Node process (its `/proc/<pid>/exe` is this node or npm's); false where unknown. */
function runsNode(pid: number): boolean {
  const nodes = [process.execPath, process.env.npm_node_execpath].filter((p): p is string => p !== undefined);
  try {
    const exe = realpathSync(`/proc/${pid}/exe`);
    return nodes.some((node) => {
      try {
        return realpathSync(node) === exe;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Whether process `pid` is gone (signal 0 checks without sending; EPERM means it exists). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Under `npx conduit-server` npm runs the server through `sh -c`, and that shell does not pass
 * SIGTERM on: a supervisor's SIGTERM to npx's pid ends npm and the shell and would leave the
 * server running as an orphan holding the port. Started by npm (npm sets npm_lifecycle_event),
 * the server treats the loss of its launcher as a stop request. The launcher is the parent, and,
 * when the parent is that shell rather than npm itself, the shell's parent too: a SIGHUP or
 * SIGKILL to npx's pid ends npm but leaves the shell (and so the server's parent) alive, and
 * only the loss of npm tells. Not otherwise: a server
 * started in the background of a shell that exits (`conduit-server &`, nohup) keeps serving,
 * and `npm start` (which execs the server, so npm is the parent) does not watch npm's own parent.
 *
 * @example
 * ```ts
 * watchLauncher((reason) => server.close().then(() => process.exit(0)));
 * ```
 */
export function watchLauncher(stop: (reason: string) => void): void {
  if (process.env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  // Read once at start: after npm is gone the shell's parent would read as init or a subreaper.
  const npm = runsNode(parent) ? undefined : parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && !gone(parent) && (npm === undefined || !gone(npm))) return;
    clearInterval(timer);
    stop(process.ppid === parent && npm !== undefined && gone(npm) ? 'npm process exited' : 'parent process exited');
  }, LAUNCHER_POLL_MS);
  timer.unref();
}
