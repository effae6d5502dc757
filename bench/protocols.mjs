// The raw load generator shared by the benchmarks: pre-encoded requests for
// Conduit frames, RESP and the memcached text protocol, reply counters that
// allocate nothing per reply, and a loop that keeps P requests in flight on
// each of N connections for a fixed time.
import { connect } from 'node:net';
import { encodeRequest } from '../dist/index.js';

/** Pre-encoded requests per connection; their identifiers cycle, far more than P. */
const RING = 4096;

/**
 * A reply counter over a byte stream: `next(buf, at)` returns the offset just
 * past the reply starting at `at`, or -1 when that reply is not complete yet
 * (it throws on a reply that is not a success). Bytes of an incomplete reply
 * wait for the next chunk.
 */
function counter(next) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    let n = 0;
    for (let end = next(buf, at); end >= 0; end = next(buf, at)) {
      at = end;
      n += 1;
    }
    pending = buf.subarray(at);
    return n;
  };
}

/** Raw protocols: pre-encoded requests and reply counters that allocate nothing per reply. */
export const raw = {
  conduit: {
    encode(op, key, value, id) {
      const k = Buffer.from(key);
      const r = op === 'GET' ? { op: 'GET', key: k } : { op: 'SET', key: k, value, ttlMs: 0, nx: false, xx: false, keepTtl: false };
      return Buffer.concat(encodeRequest(BigInt(id), r));
    },
    counter: () =>
      counter((buf, at) => {
        if (buf.length - at < 12) return -1;
        const end = at + 12 + buf.readUInt16BE(at + 2);
        if (end > buf.length) return -1;
        if (buf[at] !== 0x81 || buf[at + 1] !== 0) throw new Error(`conduit: unexpected reply status ${buf[at + 1]}`);
        return end;
      }),
  },
  resp: {
    encode(op, key, value) {
      const parts = op === 'GET' ? [Buffer.from('GET'), Buffer.from(key)] : [Buffer.from('SET'), Buffer.from(key), value];
      return Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.flatMap((p) => [Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n')])]);
    },
    counter: () =>
      counter((buf, at) => {
        const eol = buf.indexOf('\r\n', at);
        if (eol < 0) return -1;
        if (buf[at] === 0x2b) return eol + 2; // +OK
        if (buf[at] !== 0x24) throw new Error(`redis: unexpected reply ${buf.toString('latin1', at, eol)}`);
        const len = Number(buf.toString('latin1', at + 1, eol));
        if (len < 0) throw new Error('redis: GET missed (keyspace not filled)');
        return eol + 4 + len > buf.length ? -1 : eol + 4 + len;
      }),
  },
  memcache: {
    encode(op, key, value) {
      return op === 'GET'
        ? Buffer.from(`get ${key}\r\n`)
        : Buffer.concat([Buffer.from(`set ${key} 0 0 ${value.length}\r\n`), value, Buffer.from('\r\n')]);
    },
    counter: () =>
      counter((buf, at) => {
        const eol = buf.indexOf('\r\n', at);
        if (eol < 0) return -1;
        const line = buf.toString('latin1', at, Math.min(eol, at + 64));
        if (line === 'STORED') return eol + 2;
        if (line === 'END') throw new Error('memcached: GET missed (keyspace not filled)');
        if (!line.startsWith('VALUE ')) throw new Error(`memcached: unexpected reply ${line}`);
        const end = eol + 2 + Number(line.split(' ')[3]) + 2 + 5; // data, \r\n, "END\r\n"
        return end > buf.length ? -1 : end;
      }),
  },
};

/**
 * Keeps `pipeline` requests in flight on each of `connections` sockets for
 * `seconds`, records each latency in µs through `record`, checks every reply
 * through the adapter's counter, and resolves the number of replies.
 */
export async function loadRaw({ adapter, port, op, key, value, pipeline, connections, seconds, record }) {
  // Encode and connect first: the clock starts only when every connection is ready.
  const ready = await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const frames = Array.from({ length: RING }, (_, i) => adapter.encode(op, key(c * 7919 + i * 31), value, c * RING + i));
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      return { frames, socket };
    }),
  );
  const stopAt = performance.now() + seconds * 1000;
  let total = 0;
  await Promise.all(
    ready.map(async ({ frames, socket }) => {
      const count = adapter.counter();
      const sentAt = new Float64Array(RING);
      let next = 0;
      let done = 0;
      const send = (n) => {
        const batch = [];
        for (let i = 0; i < n; i += 1, next += 1) {
          sentAt[next % RING] = performance.now();
          batch.push(frames[next % RING]);
        }
        socket.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
      };
      await new Promise((resolve, reject) => {
        socket.on('error', reject);
        socket.on('data', (chunk) => {
          let n;
          try {
            n = count(chunk);
          } catch (err) {
            reject(err);
            return;
          }
          const now = performance.now();
          for (let i = 0; i < n; i += 1) record(Math.max(1, Math.round((now - sentAt[(done + i) % RING]) * 1000)));
          done += n;
          if (now < stopAt) send(n);
          else if (done === next) resolve();
        });
        send(pipeline);
      });
      total += done;
      socket.destroy();
    }),
  );
  return total;
}
