// CI smoke test of the README's start commands, each checked for exactly what
// the README promises: it listens on 127.0.0.1:7171 with no configuration,
// answers SET/GET, and on the stop signal the README names the server drains
// ("shutdown complete"), the command exits with the status the README gives,
// port 7171 is free again and no server process is left (no orphan).
// Bounded: each case gives up after 60 s (npx's first run builds the package).
// Stops what it starts, by pid.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const PORT = 7171;
const cases = [
  // The supervisor/container commands: SIGTERM to the pid they started.
  { command: 'npm', args: ['start'], stop: 'SIGTERM to its pid', exit: 0 },
  { command: 'npm', args: ['start'], stop: 'Ctrl-C', exit: 0 },
  { command: './dist/cli/server.js', args: [], stop: 'SIGTERM to its pid', exit: 0 },
  // npx in a terminal: Ctrl-C drains the server, and npm re-raises the signal on itself
  // (the shell shows status 130).
  { command: 'npx', args: ['conduit-server'], stop: 'Ctrl-C', exit: 'SIGINT' },
  // SIGTERM to npx's pid ends npm at once by that signal (status 143); the server sees its
  // launcher go and drains on its own.
  { command: 'npx', args: ['conduit-server'], stop: 'SIGTERM to its pid', exit: 'SIGTERM' },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const portFree = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(PORT, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** SET greeting=hello (id 1), GET greeting (id 2), spec/conduit-v1.md section 3; resolves true if GET answers hello. */
function setGet() {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: PORT });
    const key = Buffer.from('greeting');
    const value = Buffer.from('hello');
    const set = Buffer.alloc(12 + 6 + key.length + value.length);
    set.writeUInt8(0x01, 0);
    set.writeUInt8(0x01, 1);
    set.writeUInt16BE(6 + key.length + value.length, 2);
    set.writeBigUInt64BE(1n, 4);
    set.writeUInt8(key.length, 17);
    key.copy(set, 18);
    value.copy(set, 18 + key.length);
    const get = Buffer.alloc(12 + key.length);
    get.writeUInt8(0x01, 0);
    get.writeUInt16BE(key.length, 2);
    get.writeBigUInt64BE(2n, 4);
    key.copy(get, 12);
    let reply = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length < 12 + 12 + value.length) return;
      socket.destroy();
      resolve(reply[1] === 0 && reply[13] === 0 && reply.subarray(24).toString() === 'hello');
    });
    socket.on('error', () => resolve(false));
    socket.write(Buffer.concat([set, get]));
  });
}

async function run({ command, args, stop, exit }) {
  const name = `${[command === process.execPath ? 'node' : command, ...args].join(' ')} (${stop})`;
  if (!(await portFree())) throw new Error(`${name}: port ${PORT} is busy before the start`);
  // Its own process group, as a terminal gives a foreground job: Ctrl-C is SIGINT to the whole group.
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const logs = () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  let serverPid;
  const deadline = setTimeout(() => {
    console.error(`smoke: ${name}: no clean stop within 60 s\n${stderr}`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    process.exit(1);
  }, 60_000);
  try {
    while (!logs().some((l) => l.msg === 'conduit-server listening')) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before listening`);
      await sleep(50);
    }
    const listening = logs().find((l) => l.msg === 'conduit-server listening');
    serverPid = listening.pid;
    if (listening.address !== `127.0.0.1:${PORT}`) throw new Error(`listens on ${listening.address}`);
    if (!(await setGet())) throw new Error('SET/GET did not answer hello');
    if (stop === 'Ctrl-C') process.kill(-child.pid, 'SIGINT');
    else process.kill(child.pid, 'SIGTERM');
    const { code, signal } = await closed;
    if ((code ?? signal) !== exit) throw new Error(`exited with ${code ?? signal}, the README says ${exit}`);
    for (let i = 0; i < 100 && alive(serverPid); i += 1) await sleep(50);
    if (alive(serverPid)) throw new Error(`server pid ${serverPid} still runs 5 s after the command exited (orphan)`);
    if (!logs().some((l) => l.msg === 'shutdown complete')) throw new Error('the server did not drain ("shutdown complete" missing)');
    if (!(await portFree())) throw new Error(`port ${PORT} still held after the stop`);
    console.log(`smoke: ${name}: listened, answered SET/GET, drained, exit ${code ?? signal}, port free, no orphan`);
  } catch (err) {
    console.error(`smoke: ${name}: ${err.message}\n${stderr}`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    process.exit(1);
  } finally {
    clearTimeout(deadline);
  }
}

for (const c of cases) await run(c);
