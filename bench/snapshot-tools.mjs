// Tools of the snapshot benchmark (bench/snapshot.mjs, issue 22): the data
// set (keys and 4 KiB values made from a seeded pattern, so any value can be
// checked without keeping 1 GiB in this process), a raw line/byte reader for
// the memcached text protocol and readiness polls, the 1-GET-per-ms probe
// that measures a server's longest wait, the split of its samples into
// "during a save" and "between saves", and the disk baseline (the same bytes
// written, fsynced and read back by this process, no server).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { mulberry32 } from './zipf.mjs';

export const VALUE_BYTES = 4096;
const PATTERN = (() => {
  const next = mulberry32(22);
  const b = Buffer.alloc(2 * VALUE_BYTES);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(Math.floor(next() * 2 ** 32), i);
  return b;
})();

/** The key of item `i` (13 bytes). */
export const keyOf = (i) => `snap:${String(i).padStart(8, '0')}`;

/** The value of item `i`: 4 KiB of a seeded pseudo-random pattern (incompressible), starting with `i` so every value differs. */
export function valueOf(i) {
  const at = (i * 131) % VALUE_BYTES;
  const v = Buffer.from(PATTERN.subarray(at, at + VALUE_BYTES));
  v.writeUInt32LE(i >>> 0, 0);
  return v;
}

/** `count` item indexes to check after a load: the first, the last and a seeded sample between. */
export function sampleIndexes(items, count, seed = 7) {
  const next = mulberry32(seed);
  const out = new Set([0, items - 1]);
  while (out.size < Math.min(items, count)) out.add(Math.floor(next() * items));
  return [...out];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock ms with sub-ms resolution (the servers stamp saves with Date.now()). */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * A raw connection that reads replies with a parser: `read(parse)` resolves
 * with `parse(buf)`'s value once it returns `{ value, used }` (null: not
 * complete yet). For the memcached text protocol and readiness polls.
 */
export class RawConn {
  #socket;
  #buf = Buffer.alloc(0);
  /** Readers in request order: each takes the next reply (pipelined requests answer in order). */
  #waiting = [];
  #error = null;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#pump();
    });
    const fail = (err) => {
      this.#error = err ?? new Error('connection closed');
      this.#pump();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(null));
  }

  /** Connects to 127.0.0.1:`port`; rejects when nothing listens. */
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        s.setNoDelay(true);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    });
  }

  write(buf) {
    this.#socket.write(buf);
  }

  /** Resolves with the next reply, parsed; rejects after `timeoutMs` without one (a benchmark never hangs on a silent server). */
  read(parse, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const w = { parse, resolve: null, reject: null };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((x) => x !== w);
        reject(new Error(`no complete reply after ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      w.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.#waiting.push(w);
      this.#pump();
    });
  }

  close() {
    this.#socket.destroy();
  }

  #pump() {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0];
      let r;
      try {
        r = w.parse(this.#buf);
      } catch (err) {
        this.#waiting.shift();
        w.reject(err);
        continue;
      }
      if (r === null) {
        if (this.#error === null) return;
        this.#waiting.shift();
        w.reject(this.#error);
        continue;
      }
      this.#buf = this.#buf.subarray(r.used);
      this.#waiting.shift();
      w.resolve(r.value);
    }
  }
}

/** A parser of `n` lines that must each equal `expected` (e.g. memcached's STORED). */
export const linesOf = (n, expected) => (buf) => {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const line = buf.toString('latin1', at, eol);
    if (line !== expected) throw new Error(`expected ${expected}, got ${JSON.stringify(line.slice(0, 80))}`);
    at = eol + 2;
  }
  return { value: n, used: at };
};

/** A parser of one line (any content). */
export const oneLine = (buf) => {
  const eol = buf.indexOf('\r\n');
  return eol < 0 ? null : { value: buf.toString('latin1', 0, eol), used: eol + 2 };
};

/** memcached `get` of one key: the value, or undefined on END. */
export const memcachedValue = (buf) => {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return null;
  const line = buf.toString('latin1', 0, eol);
  if (line === 'END') return { value: undefined, used: eol + 2 };
  const m = /^VALUE \S+ \d+ (\d+)/.exec(line);
  if (m === null) throw new Error(`memcached get: ${JSON.stringify(line.slice(0, 80))}`);
  const end = eol + 2 + Number(m[1]) + 2 + 5; // data, CRLF, END\r\n
  if (buf.length < end) return null;
  return { value: Buffer.from(buf.subarray(eol + 2, eol + 2 + Number(m[1]))), used: end };
};

/** memcached `stats`: the fields up to END. */
export const memcachedStats = (buf) => {
  const end = buf.indexOf('END\r\n');
  if (end < 0) return null;
  const stats = {};
  for (const line of buf.toString('latin1', 0, end).split('\r\n')) {
    const [, name, value] = line.split(' ');
    if (name !== undefined) stats[name] = value;
  }
  return { value: stats, used: end + 5 };
};

/**
 * Polls 127.0.0.1:`port` every `everyMs` until a connection opens and, with
 * `request`, the reply line satisfies `ready` (Redis answers -LOADING while it
 * loads). Resolves with the wall time (ms) it first did; bounded by `deadlineMs`.
 */
export async function pollReady(port, { request = null, ready = () => true, everyMs = 2, deadlineMs = 120_000 } = {}) {
  const until = Date.now() + deadlineMs;
  let conn = null;
  for (;;) {
    if (Date.now() > until) throw new Error(`127.0.0.1:${port} not ready after ${deadlineMs} ms`);
    if (conn === null) conn = await RawConn.open(port).catch(() => null);
    if (conn !== null) {
      if (request === null) {
        conn.close();
        return wallNow();
      }
      conn.write(request);
      const line = await conn.read(oneLine, 5_000).catch(() => null);
      if (line === null) conn = null;
      else if (ready(line)) {
        const at = wallNow();
        conn.close();
        return at;
      }
    }
    await sleep(everyMs);
  }
}

/**
 * The probe: one `get(i)` every ms (the next one waits for the previous
 * answer, then for its ms), up to `count` of them or until `shouldStop()`.
 * Returns every sample's wall send time and wait in ms.
 */
export async function probe(get, { count, shouldStop = () => false }) {
  const sent = [];
  const waits = [];
  const t0 = performance.now();
  for (let i = 0; i < count && !shouldStop(); i++) {
    const ahead = t0 + i - performance.now();
    if (ahead >= 1) await sleep(Math.floor(ahead));
    const at = wallNow();
    const s = performance.now();
    await get(i);
    waits.push(performance.now() - s);
    sent.push(at);
  }
  return { sent, waits };
}

/**
 * Splits probe samples by whether they overlap a save window `[start, end]`
 * (wall ms): the longest wait, p99 and counts during saves and between them.
 */
export function splitBySaves({ sent, waits }, windows) {
  const during = [];
  const between = [];
  for (let i = 0; i < sent.length; i++) {
    const a = sent[i];
    const b = a + waits[i];
    (windows.some(([s, e]) => a <= e && b >= s) ? during : between).push(waits[i]);
  }
  const summary = (xs) => {
    if (xs.length === 0) return { samples: 0, maxMs: null, p99Ms: null, p50Ms: null };
    const s = [...xs].sort((x, y) => x - y);
    const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { samples: s.length, maxMs: s[s.length - 1], p99Ms: at(0.99), p50Ms: at(0.5) };
  };
  return { during: summary(during), between: summary(between) };
}

/** Drops `file`'s pages from the page cache (GNU dd's nocache; the pages are clean after an fsync), so the next read comes from the disk. */
export function dropCache(file) {
  spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Percent of `file`'s pages in the page cache (util-linux fincore), or null without it. */
export function cachedPercent(file) {
  try {
    const out = execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES,SIZE', file]).toString().trim().split(/\s+/).map(Number);
    return out[1] > 0 ? (100 * out[0]) / out[1] : null;
  } catch {
    return null;
  }
}

/** The file system type and device under `dir` (df -T). */
export function filesystemOf(dir) {
  try {
    const [, line] = execFileSync('df', ['-T', dir]).toString().trim().split('\n');
    const [device, type] = line.split(/\s+/);
    return { type, device };
  } catch {
    return { type: '?', device: '?' };
  }
}

/**
 * The disk baseline: `bytes` written by this process to `file` in 4 MiB
 * writes, fsynced, read back from the page cache, then read again after its
 * pages were dropped. Seconds of each; the file is removed.
 */
export function diskBaseline(file, bytes) {
  const chunk = Buffer.alloc(4 * 2 ** 20);
  for (let i = 0; i < chunk.length; i += PATTERN.length) PATTERN.copy(chunk, i);
  const secs = (t) => (performance.now() - t) / 1000;
  try {
    const fd = openSync(file, 'w');
    let t = performance.now();
    for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
    const writeS = secs(t);
    t = performance.now();
    fsyncSync(fd);
    const fsyncS = secs(t);
    closeSync(fd);
    const readAll = () => {
      const r = openSync(file, 'r');
      const t0 = performance.now();
      while (readSync(r, chunk, 0, chunk.length, null) > 0);
      const s = secs(t0);
      closeSync(r);
      return s;
    };
    const readWarmS = readAll();
    dropCache(file);
    const coldCachedPercent = cachedPercent(file);
    const readColdS = readAll();
    return { bytes, writeS, fsyncS, readWarmS, readColdS, coldCachedPercent };
  } finally {
    rmSync(file, { force: true });
  }
}
