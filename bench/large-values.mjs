// Large values (issue 19, item 1): SET and GET of 1 MiB and 16 MiB values,
// Conduit through ConduitClient (plaintext, and secure mode sealed per frame
// and in envelopes) vs Redis through ioredis (the Node Redis client the
// harness already uses), in one run, the systems alternating inside every
// round. A Conduit value that does not fit one frame travels as fragments
// (spec §2.4); before fragments, such a request fails, and the row records
// the failure instead of a figure, so the script runs either way.
//
// One connection per system with PIPELINE requests in flight over a few
// keys (the value overwritten in place, so the servers hold KEYS values per
// size and no more); every GET checked (length and the bytes at both ends).
// Each measurement lasts SECONDS and at most MAX_OPS requests; MB/s is
// value bytes moved (10^6 bytes) per second. The harness (bench/harness.mjs)
// runs this as its `large` part, on servers of its own, after the others;
// bench/report.mjs renders the table and the target (≥ 0.8× Redis's MB/s).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ConduitClient } from '../dist/index.js';
import { conduitArgs, freePort, startConduit, startRedis, stop, waitForPort } from './lib.mjs';

/** The value sizes the issue names: 1 MiB and 16 MiB. */
export const LARGE_SIZES = [2 ** 20, 16 * 2 ** 20];
/** conduit-server's --max-value-size for the run: room for the largest value (spec §2.4). */
const MAX_VALUE = '64mb';

/**
 * The parameters of the large-value part: the full run, or the ~5 s smoke
 * version (`smoke`, BENCH_QUICK=1: 1 MiB only, one round, a short window).
 *
 * @example
 * largeParameters(false); // { sizes: [1048576, 16777216], rounds: 3, seconds: 2, pipeline: 4, keys: 4, maxOps: 2000 }
 */
export function largeParameters(smoke) {
  return {
    sizes: smoke ? [2 ** 20] : LARGE_SIZES,
    rounds: Number(process.env.BENCH_LARGE_ROUNDS ?? (smoke ? 1 : 3)),
    seconds: Number(process.env.BENCH_LARGE_SECONDS ?? (smoke ? 0.25 : 2)),
    pipeline: 4,
    keys: 4,
    maxOps: smoke ? 200 : 2_000,
  };
}

/** Measurements of one run: systems × sizes × {SET, GET} × rounds. */
export function largeSteps(p) {
  return p.rounds * p.sizes.length * 2 * 4;
}

/**
 * Runs the large-value part: starts conduit-server (plaintext and secure,
 * `--max-value-size 64mb`) and redis-server on free loopback ports, measures,
 * stops them by pid. `step(what)` is called before every measurement.
 * Resolves `{ parameters, results }`, each result
 * `{ system, server, op, size, rounds: [{ mbps, ops, seconds } | { error }] }`.
 *
 * @example
 * const large = await runLarge(largeParameters(false), progress(largeSteps(p)));
 */
export async function runLarge(p, step = () => {}) {
  const secret = randomBytes(32);
  const ports = { conduit: await freePort(), secure: await freePort(), redis: await freePort() };
  // Four 16 MiB answers in flight exceed the default --max-output-buffer (16mb).
  const conduitFlags = ['--max-output-buffer', '256mb', ...(supportsMaxValueSize() ? ['--max-value-size', MAX_VALUE] : [])];
  const servers = {
    conduit: startConduit(ports.conduit, conduitFlags),
    'conduit-secure': startConduit(ports.secure, conduitFlags, { CONDUIT_KEY: `bench:${secret.toString('base64')}` }),
    redis: startRedis(ports.redis),
  };
  try {
    await Promise.all(Object.values(ports).map((port) => waitForPort(port)));
    const conduit = (port, extra = {}) => async () => {
      const c = new ConduitClient({ port, ...extra });
      await c.connect();
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.close() };
    };
    const systems = [
      { name: 'Conduit · ConduitClient', server: 'conduit', connect: conduit(ports.conduit) },
      { name: 'Conduit · ConduitClient, secure mode', server: 'conduit-secure', connect: conduit(ports.secure, { key: { id: 'bench', secret }, sealing: 'frames' }) },
      { name: 'Conduit · ConduitClient, secure mode, envelopes', server: 'conduit-secure', connect: conduit(ports.secure, { key: { id: 'bench', secret }, sealing: 'envelopes' }) },
      {
        name: 'Redis · ioredis',
        server: 'redis',
        connect: async () => {
          const r = new Redis({ port: ports.redis, host: '127.0.0.1', lazyConnect: true });
          await r.connect();
          return { get: (k) => r.getBuffer(k), set: (k, v) => r.set(k, v), close: () => r.quit() };
        },
      },
    ];
    // A distinct byte pattern per size, so a GET that returns the other size's value fails the check.
    const values = new Map(p.sizes.map((size, i) => [size, Buffer.alloc(size, 0x61 + i)]));
    const samples = new Map();
    for (let round = 0; round < p.rounds; round += 1) {
      for (const size of p.sizes) {
        for (const op of ['SET', 'GET']) {
          for (const system of systems) {
            step(`large ${system.name} ${op} ${size / 2 ** 20} MiB`);
            const key = `${system.name}|${op}|${size}`;
            if (!samples.has(key)) samples.set(key, []);
            samples.get(key).push(await measure(system, op, values.get(size), p));
          }
        }
      }
    }
    const results = [];
    for (const size of p.sizes) {
      for (const op of ['SET', 'GET']) {
        for (const system of systems) results.push({ system: system.name, server: system.server, op, size, rounds: samples.get(`${system.name}|${op}|${size}`) });
      }
    }
    return { parameters: p, results };
  } finally {
    await Promise.all(Object.values(servers).map((child) => stop(child)));
  }
}

/** True when this build's conduit-server takes --max-value-size (protocol 1.1, spec §2.4): older builds would refuse the flag. */
function supportsMaxValueSize() {
  try {
    return execFileSync(process.execPath, [...conduitArgs(), '--help'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().includes('--max-value-size');
  } catch {
    return false;
  }
}

/**
 * One measurement: a fresh connection, the keys written once (for GET), then
 * `pipeline` loops of `op` until `seconds` pass or `maxOps` requests are
 * done. A failed request ends the measurement as `{ error }` (its code and
 * message): the row then shows why instead of a figure.
 */
async function measure(system, op, value, p) {
  let c;
  try {
    c = await system.connect();
    const keyOf = (i) => `large:${value.length}:${i % p.keys}`;
    if (op === 'GET') for (let i = 0; i < p.keys; i += 1) await c.set(keyOf(i), value);
    let issued = 0;
    const started = performance.now();
    const stopAt = started + p.seconds * 1000;
    await Promise.all(
      Array.from({ length: p.pipeline }, async () => {
        while (performance.now() < stopAt && issued < p.maxOps) {
          const i = issued;
          issued += 1;
          if (op === 'SET') {
            await c.set(keyOf(i), value);
          } else {
            const got = await c.get(keyOf(i));
            if (got == null || got.length !== value.length || got[0] !== value[0] || got[got.length - 1] !== value[value.length - 1]) {
              throw new Error(`${system.name}: GET of a ${value.length}-byte value returned ${got == null ? 'nothing' : `${got.length} bytes`}`);
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { ops: issued, seconds, mbps: (issued * value.length) / 1e6 / seconds };
  } catch (err) {
    return { error: `${err.code ? `${err.code}: ` : ''}${String(err.message ?? err).split('\n')[0]}` };
  } finally {
    await c?.close().catch(() => {});
  }
}
