// CI smoke test of the README's start command: `npx conduit-server` with no
// configuration must listen on 127.0.0.1:7171, answer HEALTH and SET/GET,
// and exit 0 on SIGTERM. Bounded: gives up after 20 s. Stops what it starts.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';

const child = spawn('npx', ['conduit-server'], { stdio: ['ignore', 'inherit', 'pipe'], detached: true });
const kill = (signal) => {
  try {
    process.kill(-child.pid, signal); // npx and the server it runs
  } catch {}
};
const deadline = setTimeout(() => {
  console.error('smoke: conduit-server did not answer within 20 s');
  kill('SIGKILL');
  process.exit(1);
}, 20_000);
let stderr = '';
child.stderr.on('data', (chunk) => {
  stderr += chunk;
  if (stderr.includes('conduit-server listening')) ready();
});

let started = false;
function ready() {
  if (started) return;
  started = true;
  const socket = connect({ host: '127.0.0.1', port: 7171 });
  // SET greeting=hello (id 1), GET greeting (id 2), spec/conduit-v1.md section 3.
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
    const ok = reply[1] === 0 && reply[13] === 0 && reply.subarray(24).toString() === 'hello';
    socket.destroy();
    if (!ok) {
      console.error(`smoke: unexpected reply ${reply.toString('hex')}`);
      kill('SIGKILL');
      process.exit(1);
    }
    kill('SIGTERM');
  });
  socket.on('error', (err) => {
    console.error(`smoke: ${err.message}`);
    kill('SIGKILL');
    process.exit(1);
  });
  socket.write(Buffer.concat([set, get]));
}

// 'close', not 'exit': npx may end before the server it ran (both get the SIGTERM), and the
// server's last log lines arrive on the stderr pipe they share; 'close' waits for both.
child.on('close', (code, signal) => {
  clearTimeout(deadline);
  if ((code === 0 || signal === 'SIGTERM') && stderr.includes('shutdown complete')) {
    console.log('smoke: npx conduit-server started, answered SET/GET, and stopped cleanly');
    process.exit(0);
  }
  console.error(`smoke: conduit-server exited with ${code ?? signal}\n${stderr}`);
  process.exit(1);
});
