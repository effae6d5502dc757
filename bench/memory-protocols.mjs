// The workloads and wire protocols of the memory benchmarks (bench/memory.mjs):
// the key and size sequences every server gets alike, and per protocol the
// encoding of a SET, the request that reads the item count, and a reader of
// the answers that counts a refused write by its reason (Conduit status,
// Redis error, memcached SERVER_ERROR line) instead of throwing. No I/O
// here, so the unit tests read it (test/unit/bench-memory.test.ts).
import { FrameDecoder, encodeRequest, statusName } from '../dist/index.js';

/** Value sizes of the churn workload: 16 B up to 4 KiB (exclusive), uniform. */
export const CHURN_MIN = 16;
export const CHURN_MAX = 4096;

/**
 * The i-th key of every workload: 16 bytes, `k:` and 14 digits.
 *
 * @example
 * keyOf(42); // 'k:00000000000042'
 */
export const keyOf = (i) => `k:${String(i).padStart(14, '0')}`;

/**
 * Distinct keys 0 … keys − 1, each with a `valueBytes` value. A workload is
 * `{ next(): boolean, key, size, writes, bytes }`: `next()` moves to the next
 * write (key index and value size) or says there is none.
 *
 * @example
 * const w = fillWorkload({ keys: 2, valueBytes: 100 });
 * while (w.next()) console.log(keyOf(w.key), w.size); // k:…0 100, k:…1 100
 */
export function fillWorkload({ keys, valueBytes }) {
  const w = {
    key: -1,
    size: valueBytes,
    writes: 0,
    bytes: 0,
    next() {
      if (w.writes >= keys) return false;
      w.key = w.writes;
      w.writes += 1;
      w.bytes += valueBytes;
      return true;
    },
  };
  return w;
}

/**
 * Random keys of `keySpace` with random sizes CHURN_MIN … CHURN_MAX − 1 until
 * `goalBytes` of values are written. The generator (an LCG seeded with
 * `seed`; 17 is bench/store-fill.mjs's and docs/STORAGE.md's) makes the
 * same sequence for every server.
 *
 * @example
 * const w = churnWorkload({ goalBytes: 10 * 64 * 2 ** 20, keySpace: 4_000_000, seed: 17 });
 */
export function churnWorkload({ goalBytes, keySpace, seed = 17 }) {
  let s = seed >>> 0;
  const random = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const w = {
    key: -1,
    size: 0,
    writes: 0,
    bytes: 0,
    next() {
      if (w.bytes >= goalBytes) return false;
      w.key = Math.floor(random() * keySpace);
      w.size = CHURN_MIN + Math.floor(random() * (CHURN_MAX - CHURN_MIN));
      w.writes += 1;
      w.bytes += w.size;
      return true;
    },
  };
  return w;
}

// ---- protocols -------------------------------------------------------------------

/**
 * A line reader for the text protocols: calls `onLine(line)` with each
 * complete `\r\n`-terminated line (latin1, without the terminator) and keeps
 * a partial line for the next chunk. SET answers are one line in RESP and
 * in memcached's text protocol; no value bytes come back.
 */
function lines(onLine) {
  let pending = '';
  return (chunk) => {
    const text = pending + chunk.toString('latin1');
    let at = 0;
    for (let eol = text.indexOf('\r\n', at); eol >= 0; eol = text.indexOf('\r\n', at)) {
      onLine(text.slice(at, eol));
      at = eol + 2;
    }
    pending = text.slice(at);
  };
}

const pick = (o, names) => Object.fromEntries(names.filter((n) => o[n] !== undefined).map((n) => [n, o[n]]));

/** Conduit's STATS request goes last, under an identifier no SET uses. */
const COUNT_ID = 0xffff_ffffn;

/**
 * One adapter per protocol: `set(key, value, id)` encodes a SET as buffers,
 * `count()` the request that reads the item count, and `answers(sink)` a
 * reader for the answer stream that calls `sink.set(reason)` per SET answer
 * (`null` when stored, else why not: a status name or the error line) and
 * `sink.count(items, stats)` for the count (`stats`: the server's `bytes`,
 * `limit_maxbytes`, `evictions` where it tells them). Bad bytes throw.
 *
 * @example
 * const read = protocols.resp.answers({ set: (reason) => …, count: (n) => … });
 * socket.on('data', read);
 */
export const protocols = {
  conduit: {
    set: (key, value, id) => encodeRequest(BigInt(id), { op: 'SET', key: Buffer.from(key, 'latin1'), value, ttlMs: 0, nx: false, xx: false, keepTtl: false }),
    count: () => encodeRequest(COUNT_ID, { op: 'STATS' }),
    answers(sink) {
      const decoder = new FrameDecoder({ direction: 'response' });
      return (chunk) => {
        decoder.push(chunk);
        for (let frame = decoder.read(); frame !== undefined; frame = decoder.read()) {
          if (!('opcode' in frame)) throw new Error(`conduit-server: bad answer: ${frame.message}`);
          if (frame.id === COUNT_ID) {
            if (frame.opcode !== 0) throw new Error(`conduit-server: STATS answered ${statusName(frame.opcode)}`);
            const stats = JSON.parse(frame.body.toString('utf8'));
            sink.count(Number(stats.curr_items), pick(stats, ['bytes', 'item_bytes', 'limit_maxbytes', 'evictions']));
          } else {
            sink.set(frame.opcode === 0 ? null : (statusName(frame.opcode) ?? `status ${frame.opcode}`));
          }
        }
      };
    },
  },
  resp: {
    set: (key, value) => [Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n`, 'latin1'), value, Buffer.from('\r\n')],
    count: () => [Buffer.from('*1\r\n$6\r\nDBSIZE\r\n')],
    answers(sink) {
      return lines((line) => {
        if (line === '+OK') sink.set(null);
        else if (line.startsWith('-')) sink.set(line.slice(1).split(' ', 1)[0]); // -OOM command not allowed … → OOM
        else if (/^:\d+$/.test(line)) sink.count(Number(line.slice(1)), {});
        else throw new Error(`redis-server: unexpected answer ${JSON.stringify(line.slice(0, 80))}`);
      });
    },
  },
  memcache: {
    set: (key, value) => [Buffer.from(`set ${key} 0 0 ${value.length}\r\n`, 'latin1'), value, Buffer.from('\r\n')],
    count: () => [Buffer.from('stats\r\n')],
    answers(sink) {
      const stats = {};
      return lines((line) => {
        if (line === 'STORED') sink.set(null);
        else if (line.startsWith('STAT ')) {
          const [, name, value] = line.split(' ');
          stats[name] = Number(value);
        } else if (line === 'END') {
          if (stats.curr_items === undefined) throw new Error('memcached: stats without curr_items');
          sink.count(stats.curr_items, pick(stats, ['bytes', 'limit_maxbytes', 'evictions']));
        } else if (/^(SERVER_ERROR|CLIENT_ERROR|ERROR|NOT_STORED)/.test(line)) sink.set(line); // e.g. SERVER_ERROR out of memory storing object
        else throw new Error(`memcached: unexpected answer ${JSON.stringify(line.slice(0, 80))}`);
      });
    },
  },
};
