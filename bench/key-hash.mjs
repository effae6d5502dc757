// The index hash's cost per key (issue 19, outside attack): the linear
// multiply-shift sum alone (the bucket function before the fix), the sum
// with the keyed fmix32 finalizer (src/store/slab/key-hash.ts), and, for
// scale, libsodium's SipHash-2-4 (`crypto_shorthash` from sodium-native, a
// keyed PRF). 16-byte and 250-byte keys, 4,096 distinct keys cycled, the
// median of 7 runs of 1M hashes each after a warm-up; a few seconds in all.
// Run: `npm run build && node bench/key-hash.mjs`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { KeyHash } from '../dist/store/slab/key-hash.js';

const require = createRequire(import.meta.url);
const KEYS = 4_096;
const N = 1_000_000;
const RUNS = 7;

function arena(length) {
  const bytes = Buffer.alloc(KEYS * length);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = (Math.random() * 256) | 0;
  return bytes;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** ns per call of `hashAt(i)` (i = the key's index), median of RUNS. */
function measure(hashAt) {
  let sink = 0;
  for (let i = 0; i < N; i += 1) sink ^= hashAt(i & (KEYS - 1)); // warm-up: optimized before timing
  const runs = [];
  for (let r = 0; r < RUNS; r += 1) {
    const t = performance.now();
    for (let i = 0; i < N; i += 1) sink ^= hashAt(i & (KEYS - 1));
    runs.push(((performance.now() - t) * 1e6) / N);
  }
  if (sink === 0.5) console.log(''); // keeps the loop's result alive
  return median(runs);
}

/** One contender in this process: `[name, ns per key]`. */
function run(contender, length) {
  const bytes = arena(length);
  if (contender === 'sodium') {
    const sodium = require('sodium-native');
    const key = Buffer.alloc(sodium.crypto_shorthash_KEYBYTES, 7);
    const out = Buffer.alloc(sodium.crypto_shorthash_BYTES);
    const views = Array.from({ length: KEYS }, (_, i) => bytes.subarray(i * length, (i + 1) * length));
    return ['SipHash-2-4 (sodium-native crypto_shorthash)', measure((i) => (sodium.crypto_shorthash(out, views[i], key), out[0]))];
  }
  const hash = new KeyHash(undefined, contender);
  const name = contender === 'linear' ? 'multiply-shift sum (before)' : 'sum + keyed fmix32 (now)';
  return [name, measure((i) => hash.of(bytes, i * length, length))];
}

if (process.argv[2] !== undefined) {
  // A child: one contender, so no other's code shares (and deoptimizes) its call sites.
  console.log(JSON.stringify(run(process.argv[2], Number(process.argv[3]))));
} else {
  console.log(`node ${process.version}, ${N.toLocaleString('en-US')} hashes a run, median of ${RUNS}, each contender in its own process`);
  console.log('| hash | key bytes | ns per key |');
  console.log('| --- | ---: | ---: |');
  for (const length of [16, 250]) {
    for (const contender of ['linear', 'fmix32', 'sodium']) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), contender, String(length)], { encoding: 'utf8' });
      if (child.status !== 0) {
        console.log(`| ${contender} | ${length} | failed: ${child.stderr.trim().split('\n')[0]} |`);
        continue;
      }
      const [name, ns] = JSON.parse(child.stdout);
      console.log(`| ${name} | ${length} | ${ns.toFixed(1)} |`);
    }
  }
}
