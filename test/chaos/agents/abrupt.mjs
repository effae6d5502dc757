// A client for the abrupt-clients scenario (issue 9, §7) that gets itself
// killed with SIGKILL in a bad moment: mid-header, mid-body of a SET, or with
// 1,000 GET responses pending that it never reads. It prints "ready" once its
// bytes have left and the server has had time to take them in, then waits to
// be killed (it exits by itself after 30 s, so it can never linger).
//
//   node abrupt.mjs '{"port":7171,"mode":"body","key":"abrupt-1"}'
import { connect } from 'node:net';
import { encodeRequest } from '../../../dist/index.js';

const { port, mode, key } = JSON.parse(process.argv[2] ?? '{}');
const frame = (id, request) => Buffer.concat(encodeRequest(BigInt(id), request));
const set = frame(1, { op: 'SET', key: Buffer.from(key), value: Buffer.alloc(8_192, 0x61), ttlMs: 0, nx: false, xx: false, keepTtl: false });
const bytes = {
  header: set.subarray(0, 7),
  body: set.subarray(0, 12 + 4_096),
  pending: Buffer.concat(Array.from({ length: 1_000 }, (_, i) => frame(i, { op: 'GET', key: Buffer.from(key) }))),
}[mode];
if (bytes === undefined) {
  console.error('usage: abrupt.mjs \'{"port":N,"mode":"header|body|pending","key":"…"}\'');
  process.exit(2);
}

setTimeout(() => process.exit(1), 30_000).unref();
const socket = connect({ host: '127.0.0.1', port }, () => {
  socket.pause(); // never reads: pending responses stay pending
  socket.write(bytes, () => setTimeout(() => console.log('ready'), 200));
});
socket.on('error', (err) => {
  console.error(`abrupt client: ${err.message}`);
  process.exit(1);
});
setInterval(() => {}, 1_000); // stay alive until killed
