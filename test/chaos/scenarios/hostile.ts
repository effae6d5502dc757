// Scenario 1 of issue 9: hostile bytes. Every malformed-frame class of
// spec/vectors-v1.json (spec §7) and a few that need a live connection, each
// against the live server; then a seeded fuzzer process sends random and
// mutated frames over many connections while a healthy client keeps going.
// On a 2-core machine the fuzzer's own load slows every process, so the
// healthy client's p99 is compared with two references: an idle machine, and
// the same fuzzer aimed at a decoy server on the same core (the control that
// isolates what the hostile traffic does to *this* server).
import { generateKey, SERVER_ID_BASE, Status } from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { vectors } from '../../support/vectors.js';
import { agent, b, count, frame, HealthyClient, ms, pidOf, serve, sleep, stat, statsOf, type Findings, type Scenario, type Size } from '../harness.js';

/** A malformed input and what the spec says the server does with it. */
interface HostileClass {
  name: string;
  /** Bytes to write, then whether to end our side. */
  bytes: Buffer;
  end: boolean;
  /** Responses before the error, the error's status (undefined: none sent), and whether the server closes. */
  framesBefore: number;
  status: number | undefined;
  fatal: boolean;
  /** Serve this one on the secure server. */
  secure?: boolean;
}

function classes(): HostileClass[] {
  const fromSpec = vectors.malformed
    .filter((v) => v.direction === 'request')
    .map((v) => ({
      name: v.name,
      bytes: Buffer.from(v.hex, 'hex'),
      end: v.stage === 'end',
      framesBefore: v.framesBefore,
      status: v.error.status ?? undefined,
      fatal: v.error.fatal,
    }));
  const health = (id: number): Buffer => frame(id, { op: 'HEALTH' });
  return [
    ...fromSpec,
    { name: 'identifier reused while still in flight', bytes: Buffer.concat([health(5), health(5)]), end: false, framesBefore: 1, status: Status.REPLAY, fatal: true },
    { name: '64 KiB of random bytes', bytes: Buffer.concat([Buffer.from([0xff]), Buffer.from(Array.from({ length: 65_535 }, (_, i) => (i * 131 + 7) % 256))]), end: false, framesBefore: 0, status: Status.BAD_VERSION, fatal: true },
    { name: 'connect, send nothing, end', bytes: Buffer.alloc(0), end: true, framesBefore: 0, status: undefined, fatal: true },
    { name: 'plaintext GET to a secure server', bytes: frame(1, { op: 'GET', key: b('k') }), end: false, framesBefore: 0, status: Status.AUTH_REQUIRED, fatal: true, secure: true },
  ];
}

/** Sends one class on a fresh connection; returns what went differently from the spec, or undefined. */
async function attack(port: number, c: HostileClass): Promise<string | undefined> {
  const raw = await RawClient.connect(port);
  try {
    if (c.bytes.length > 0) raw.write(c.bytes);
    if (c.end) raw.socket.end();
    if (c.fatal) {
      await raw.waitClosed();
      const expected = c.framesBefore + (c.status === undefined ? 0 : 1);
      if (raw.frames.length !== expected) return `${raw.frames.length} frames, expected ${expected}`;
      const last = raw.frames.at(-1);
      if (c.status !== undefined && (last?.opcode !== c.status || last.id !== SERVER_ID_BASE)) return `ended with status ${last?.opcode} id ${last?.id}`;
      if (raw.error !== undefined) return `reset: ${raw.error.message}`;
      return undefined;
    }
    await raw.waitFrames(c.framesBefore + 1);
    if (raw.frames[c.framesBefore]?.opcode !== c.status) return `status ${raw.frames[c.framesBefore]?.opcode}`;
    raw.write(frame(9_000, { op: 'HEALTH' })); // the connection must still work
    await raw.waitFrames(c.framesBefore + 2);
    return raw.closed ? 'closed' : undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    raw.destroy();
  }
}

async function malformedClasses(size: Size, f: Findings): Promise<void> {
  const server = await serve(size, []);
  const secure = await serve(size, [], { CONDUIT_KEY: `chaos:${generateKey()}` });
  const list = classes();
  const wrong: string[] = [];
  for (const c of list) {
    const why = await attack(c.secure === true ? secure.port : server.port, c);
    if (why !== undefined) wrong.push(`${c.name}: ${why}`);
  }
  const probe = await RawClient.connect(server.port);
  const stats = await statsOf(probe);
  probe.destroy();
  const alive = server.child.exitCode === null && secure.child.exitCode === null;
  const closing = list.filter((c) => c.fatal && c.status !== undefined && c.secure !== true).length;
  f.figure(
    `${list.length} malformed classes (${list.length - 4} from spec §7's vectors, plus a reused identifier, 64 KiB of garbage, an empty connection, plaintext to a secure server): ` +
      `${list.length - wrong.length}/${list.length} got their specified status and close behaviour; ` +
      `protocol_error disconnects counted ${stats.disconnects.protocol_error}`,
  );
  f.expect(`at least 15 classes (got ${list.length})`, list.length >= 15);
  f.expect(`every class behaves as specified${wrong.length > 0 ? ` (not: ${wrong.join('; ')})` : ''}`, wrong.length === 0);
  f.expect(`the protocol_error counter counts each class the server closed (${stats.disconnects.protocol_error} of ${closing})`, stats.disconnects.protocol_error === closing);
  f.expect('both servers still run', alive);
}

async function liveFuzzer(size: Size, f: Findings): Promise<void> {
  const server = await serve(size, []);
  const seconds = size.quick ? 4 : 40;
  const rate = size.quick ? 10_000 : 40_000;
  const connections = size.quick ? 8 : 32;
  const seed = Number(process.env.CHAOS_SEED ?? 9);
  const baseline = await HealthyClient.measure(server.port, size.quick ? 500 : 5_000);
  // Control: the same fuzzer, same cores, aimed at a decoy server; the healthy client still talks to ours.
  const decoy = await serve(size, []);
  const controlSeconds = size.quick ? 2 : 10;
  const controlClient = await HealthyClient.connect(server.port);
  controlClient.start(10_000_000, controlSeconds * 1_000 + 5_000);
  const decoyFuzzer = agent(size, 'fuzzer', { port: decoy.port, seconds: controlSeconds, connections, rate, seed }, controlSeconds * 1_000 + 30_000);
  await decoyFuzzer.done;
  const control = await controlClient.stop();
  decoy.child.kill('SIGKILL');
  await decoy.exited;
  const healthy = await HealthyClient.connect(server.port);
  healthy.start(10_000_000, seconds * 1_000 + 5_000);
  const fuzzer = agent(size, 'fuzzer', { port: server.port, seconds, connections, rate, seed }, seconds * 1_000 + 30_000);
  const { code, stdout } = await fuzzer.done;
  const during = await healthy.stop();
  const totals = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    sent: number;
    answered: number;
    opened: number;
    closedByServer: number;
    abandoned: number;
    badResponses: number;
  };
  await sleep(100);
  const probe = await RawClient.connect(server.port);
  const stats = await statsOf(probe);
  probe.destroy();
  const target = size.quick ? 20_000 : 1_000_000;
  f.figure(
    `live fuzzer (seed ${seed}, ${connections} connections, ${seconds} s): ${count(totals.sent)} random and mutated frames sent, ` +
      `${count(totals.answered)} answered, ${count(totals.closedByServer)} connections closed by the server for a fatal error ` +
      `(${count(totals.opened)} opened, ${count(totals.abandoned)} given up by the fuzzer mid-frame), ${totals.badResponses} malformed responses; ` +
      `server crashes ${server.child.exitCode === null ? 0 : 1}; healthy client ${count(during.count)} GET/SET, ${healthy.wrong} wrong, ` +
      `p99 ${ms(during.p99)} during vs ${ms(baseline.p99)} on an idle machine (${(during.p99 / baseline.p99).toFixed(1)}×) and ` +
      `${ms(control.p99)} while the same fuzzer hit a decoy server for ${controlSeconds} s (${(during.p99 / control.p99).toFixed(1)}×); p50 ${ms(during.p50)} vs ${ms(baseline.p50)} idle`,
  );
  f.expect(`the fuzzer ran to its end (exit ${code})`, code === 0);
  f.expect(`at least ${count(target)} frames sent (got ${count(totals.sent)})`, totals.sent >= target);
  f.expect(`every response the server sent decodes (${totals.badResponses} did not)`, totals.badResponses === 0);
  f.expect(`the server still runs and answers (pid ${pidOf(server)}, ${stat(stats, 'connected_clients')} clients)`, server.child.exitCode === null);
  f.expect(`the healthy client got every answer right (${healthy.wrong} wrong)`, healthy.wrong === 0 && during.count > 0);
  f.expectTiming(
    `healthy p99 ${ms(during.p99)} within 2× of its baseline under the same machine load, ${ms(control.p99)} (idle machine: ${ms(baseline.p99)})`,
    during.p99 <= 2 * control.p99,
  );
}

export const hostile: Scenario = {
  number: 1,
  id: 'hostile',
  title: 'Hostile bytes',
  budgetMs: 180_000,
  async run(size, f) {
    await malformedClasses(size, f);
    await liveFuzzer(size, f);
  },
};
