// HTTP gateway benchmark: autocannon against conduit-server's GET and PUT
// /v1/keys/k (100-byte value) and, in the same run, against a bare node:http
// server answering a fixed 100-byte body (the ceiling of Node HTTP here).
// 50 connections, pipelining 1 and 10, systems alternating each round.
// Run `npx just bench-http` (servers on core 0, autocannon on core 1).
// Env: BENCH_SECONDS (3), BENCH_ROUNDS (3); either set makes a partial run,
// saved under BENCH_OUT or a temp dir. A full run saves
// bench/results/http-<date>.json and regenerates bench/RESULTS.md.
import autocannon from 'autocannon';
import { freePort, isQuick, progress, saveRun, start, startConduit, waitForPort } from './lib.mjs';

const started = Date.now();
const QUICK = isQuick(['BENCH_SECONDS', 'BENCH_ROUNDS']);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const VALUE = Buffer.alloc(100, 0x76);

const conduitPort = await freePort();
const httpPort = await freePort();
const barePort = await freePort();
const conduit = startConduit(conduitPort, ['--http-port', String(httpPort)]);
// The ceiling: node:http doing nothing but answering 100 bytes (and reading a PUT body).
const bare = start(process.execPath, [
  '-e',
  `const body = Buffer.alloc(100, 0x76);
   require('node:http').createServer((req, res) => {
     req.resume();
     req.on('end', () => {
       if (req.method === 'PUT') { res.writeHead(204); res.end(); }
       else { res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100 }); res.end(body); }
     });
   }).listen(${barePort}, '127.0.0.1');`,
]);
await Promise.all([waitForPort(httpPort), waitForPort(barePort)]);

// Check the output before timing it.
const put = await fetch(`http://127.0.0.1:${httpPort}/v1/keys/k`, { method: 'PUT', body: VALUE });
const got = Buffer.from(await (await fetch(`http://127.0.0.1:${httpPort}/v1/keys/k`)).arrayBuffer());
if (put.status !== 204 || !got.equals(VALUE)) throw new Error('the gateway did not store and return the value');

const systems = {
  'conduit-server HTTP gateway': `http://127.0.0.1:${httpPort}/v1/keys/k`,
  'bare node:http (100-byte answer)': `http://127.0.0.1:${barePort}/v1/keys/k`,
};
const workloads = [];
for (const method of ['GET', 'PUT']) for (const pipelining of [1, 10]) workloads.push({ method, pipelining });
const samples = {};
const step = progress(ROUNDS * workloads.length * 2);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const w of workloads) {
    for (const [name, url] of Object.entries(systems)) {
      step(`${name.split(' ')[0]} ${w.method} pipelining ${w.pipelining}`);
      const r = await autocannon({
        url,
        method: w.method,
        body: w.method === 'PUT' ? VALUE : undefined,
        connections: 50,
        pipelining: w.pipelining,
        duration: SECONDS,
      });
      if (r.errors > 0 || r.non2xx > 0) throw new Error(`${name} ${w.method}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
      (samples[`${name}|${w.method}|${w.pipelining}`] ??= []).push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    }
  }
}
conduit.kill('SIGTERM');
bare.kill('SIGTERM');

const version = (await import('autocannon/package.json', { with: { type: 'json' } })).default.version;
const results = [];
for (const w of workloads) {
  for (const system of Object.keys(systems)) results.push({ system, ...w, rounds: samples[`${system}|${w.method}|${w.pipelining}`] });
}
saveRun({
  benchmark: 'http',
  command: 'npx just bench-http',
  quick: QUICK,
  started,
  versions: { autocannon: version },
  parameters: { seconds: SECONDS, rounds: ROUNDS, connections: 50, valueBytes: VALUE.length, pipelining: [1, 10] },
  results,
});
