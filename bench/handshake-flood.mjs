// Handshake flood (issue 18, spec §6.2): how many HELLOs a second one attacking
// client on 127.0.0.1 makes a secure conduit-server answer OK (each one a key
// pair, an X25519 and an HKDF), and how much a healthy secure client's GET
// p99 suffers, with --max-handshakes-per-second off (0) and at its default.
//
// The attacker is a child process (this script with `attack`) running LOOPS
// loops of connect – HELLO naming the real key id – first answer – close, for
// FLOOD_SECONDS or MAX_ATTEMPTS, whichever comes first. The healthy client is
// a ConduitClient in this process doing one GET at a time. The server is
// pinned to core 0 when taskset exists; everything is stopped by pid at exit.
// Run with `npm run build && node bench/handshake-flood.mjs` (about 30 s);
// prints the figures as text, writes nothing. FLOOD_SECONDS, LOOPS to resize.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConduitClient, FrameDecoder, generateEphemeral, ProtocolError, Status } from '../dist/index.js';
import { helloFrame } from '../dist/crypto/secure-channel.js';
import { serverDefaults } from '../dist/server/options.js';
import { cpuSeconds, freePort, percentile, sleep, startConduit, stop, waitForPort } from './lib.mjs';

const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 5);
const BASELINE_SECONDS = 3;
const LOOPS = Number(process.env.LOOPS ?? 32);
const MAX_ATTEMPTS = 500_000;

/** The attacker (child process): loops of connect – HELLO – first answer – close; prints its tally as JSON. */
async function attack(port, keyId, seconds) {
  const tally = { attempts: 0, ok: 0, busy: 0, other: 0, errors: 0 };
  const bytes = helloFrame(keyId, generateEphemeral('node').publicKey);
  const end = performance.now() + seconds * 1000;
  const once = () =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const decoder = new FrameDecoder({ direction: 'response' });
      const done = (what) => {
        tally[what] += 1;
        socket.destroy();
        resolve();
      };
      socket.setTimeout(5_000, () => done('errors'));
      socket.on('error', () => done('errors'));
      socket.on('connect', () => socket.write(bytes));
      socket.on('data', (chunk) => {
        decoder.push(chunk);
        const frame = decoder.read();
        if (frame === undefined) return;
        if (frame instanceof ProtocolError) return done('other');
        done(frame.opcode === Status.OK ? 'ok' : frame.opcode === Status.BUSY ? 'busy' : 'other');
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      while (performance.now() < end && tally.attempts < MAX_ATTEMPTS) {
        tally.attempts += 1;
        await once();
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ ...tally, seconds: (performance.now() - started) / 1000 })}\n`);
}

/** GETs one at a time until `stop()`; resolves with the sorted latencies (ms). */
function healthy(client) {
  const latencies = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const value = await client.getString('probe');
      if (value !== 'ok') throw new Error(`healthy GET answered ${value}`);
      latencies.push(performance.now() - t);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies.sort((a, b) => a - b);
    },
  };
}

/**
 * One server with `limit` HELLOs a second per address: the healthy p99 before and during a
 * flood of HELLOs naming `floodKeyId` (an unknown id costs a table lookup: the floor that
 * connection churn alone costs).
 */
async function measure(limit, key, floodKeyId = key.id) {
  const port = await freePort();
  const server = startConduit(port, ['--max-handshakes-per-second', String(limit)], { CONDUIT_KEY: `${key.id}:${key.secret.toString('base64')}` });
  try {
    await waitForPort(port);
    const client = new ConduitClient({ port, key, reconnect: false });
    await client.connect();
    await client.set('probe', 'ok');
    const before = healthy(client);
    await sleep(BASELINE_SECONDS * 1000);
    const quiet = await before.stop();
    const during = healthy(client);
    const cpu0 = cpuSeconds(server.pid);
    const attacker = spawn(process.execPath, [fileURLToPath(import.meta.url), 'attack', String(port), floodKeyId, String(FLOOD_SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    attacker.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => attacker.once('exit', resolve));
    const killer = setTimeout(() => attacker.kill('SIGKILL'), (FLOOD_SECONDS + 20) * 1000);
    await exited;
    clearTimeout(killer);
    const cpu = cpuSeconds(server.pid) - cpu0;
    const flooded = await during.stop();
    const stats = await client.stats();
    client.destroy();
    const tally = JSON.parse(out);
    return {
      limit,
      ...tally,
      okPerSecond: tally.ok / tally.seconds,
      attemptsPerSecond: tally.attempts / tally.seconds,
      serverCpu: cpu / tally.seconds,
      p99Before: percentile(quiet, 99),
      p99During: percentile(flooded, 99),
      p50Before: percentile(quiet, 50),
      p50During: percentile(flooded, 50),
      getsBefore: quiet.length,
      getsDuring: flooded.length,
      rejected: stats.rejected_handshakes,
    };
  } finally {
    await stop(server);
  }
}

if (process.argv[2] === 'attack') {
  await attack(Number(process.argv[3]), process.argv[4], Number(process.argv[5]));
} else {
  const key = { id: 'app', secret: randomBytes(32) };
  const ms = (x) => `${x.toFixed(2)} ms`;
  const runs = [
    { limit: 0, keyId: key.id, label: '0 (off)' },
    { limit: serverDefaults.maxHandshakesPerSecond, keyId: key.id, label: `${serverDefaults.maxHandshakesPerSecond} (default)` },
    { limit: 0, keyId: 'nobody', label: '0 (off), HELLOs naming an unknown key id (AUTH_FAILED, no key work: the cost of the connections alone)' },
  ];
  for (const { limit, keyId, label } of runs) {
    const r = await measure(limit, key, keyId);
    const refused = keyId === key.id ? r.busy : r.other; // AUTH_FAILED for the unknown id
    if (r.ok + refused !== r.attempts || r.rejected !== r.busy) throw new Error(`tally does not add up: ${JSON.stringify(r)}`);
    console.log(
      `--max-handshakes-per-second ${label}: one client, ${LOOPS} loops for ${r.seconds.toFixed(1)} s: ` +
        `${Math.round(r.attemptsPerSecond)} HELLOs/s sent, ${Math.round(r.okPerSecond)} handshakes/s forced (${r.ok} OK, ${r.busy} BUSY, ${r.other} AUTH_FAILED, ${r.errors} errors), ` +
        `server CPU ${(r.serverCpu * 100).toFixed(0)} % of a core (${Math.round((r.serverCpu * 1e6) / r.attemptsPerSecond)} µs per attempt); healthy GET p99 ${ms(r.p99Before)} before, ${ms(r.p99During)} during ` +
        `(p50 ${ms(r.p50Before)} / ${ms(r.p50During)}; ${r.getsBefore} / ${r.getsDuring} GETs)`,
    );
  }
}
