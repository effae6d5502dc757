// Scenario 11 of issue 9: secure mode (spec §6). Replays on the same and on
// new connections, every bit of a captured frame flipped, a wrong key, and a
// response frame reflected back: every one rejected, its connection closed,
// nothing executed, and the server's disconnect counters count each one.
// Issue 18: the whole scenario runs once per frame AEAD the server can use
// (CONDUIT_AEAD=libsodium where sodium-native loads, node, noble), each
// server checked to report it in STATS; the attacking clients seal with this
// process's own choice, so it also checks that the implementations agree.
import {
  ConduitClient,
  ConduitError,
  generateKey,
  isFatalStatus,
  Status,
  VERSION_RESPONSE,
  type PreSharedKey,
} from '../../../src/index.js';
import { RawClient } from '../../support/raw-client.js';
import { secureRaw } from '../../support/secure-client.js';
import { libsodiumAvailable } from '../../../src/crypto/aead-choice.js';
import type { AeadName } from '../../../src/crypto/frame-aead.js';
import { frameBytes } from '../../../src/protocol/output-batch.js';
import { SEALED } from '../../../src/protocol/constants.js';
import { b, count, serve, setRequest, type Findings, type Scenario, type Size } from '../harness.js';
import type { SecureRaw } from '../../support/secure-client.js';

type Outcome = { rejected: boolean; how: string };

/** How the server ended `raw`'s connection: rejected means closed, at most one frame, and that one a fatal status. */
async function outcome(raw: RawClient): Promise<Outcome> {
  await raw.waitClosed(5_000);
  const status = raw.frames.at(-1)?.opcode;
  const how = status === undefined ? 'frame timeout' : (Object.entries(Status).find(([, v]) => v === status)?.[0] ?? String(status));
  return { rejected: raw.closed || raw.ended ? status === undefined || isFatalStatus(status) : false, how };
}

export const secure: Scenario = {
  number: 11,
  id: 'secure',
  title: 'Secure mode',
  budgetMs: 240_000,
  async run(size, f) {
    const implementations: AeadName[] = libsodiumAvailable() ? ['libsodium', 'node', 'noble'] : ['node', 'noble'];
    if (!libsodiumAvailable()) f.figure('sodium-native does not load here: libsodium not run');
    for (const implementation of implementations) await attack(implementation, size, f);
  },
};

/** The whole scenario against a server on `implementation`; its figures and checks are prefixed with the name. */
async function attack(implementation: AeadName, size: Size, f: Findings): Promise<void> {
  const key: PreSharedKey = { id: 'chaos', secret: Buffer.from(generateKey(), 'base64') };
  const env = { CONDUIT_KEY: `${key.id}:${key.secret.toString('base64')}`, CONDUIT_AEAD: implementation };
  // Over a thousand sessions from one address in a few seconds (every bit flipped, each on its own
  // session): the handshake rate limit is scenario 18's subject, so it is off here.
  const server = await serve(size, ['--frame-timeout', '300ms', '--max-handshakes-per-second', '0'], env);
  const port = server.port;
  const admin = new ConduitClient({ port, key, reconnect: false });
  await admin.connect();
  const served = ((await admin.stats()) as { aead?: string }).aead;
  const counters = async (): Promise<{ closed: number; sets: number; commands: number }> => {
    const s = (await admin.stats()) as { disconnects: Record<string, number>; total_sets: number; total_commands_processed: number };
    return { closed: Object.values(s.disconnects).reduce((x, y) => x + y, 0), sets: s.total_sets, commands: s.total_commands_processed };
  };

  // A frame captured off the wire, after it was served once.
  const victim = await secureRaw(port, key);
  const captured = victim.seal(1n, setRequest('greeting', b('hello')));
  victim.raw.write(captured);
  await victim.raw.waitFrames(1);
  const answer = victim.raw.frames[0];
  if (answer?.opcode !== Status.OK) throw new Error('the captured SET was not served');
  const before = await counters();
  const outcomes: Outcome[] = [];

  victim.raw.write(captured); // replay on the same connection
  outcomes.push(await outcome(victim.raw));
  const plain = await RawClient.connect(port); // replay as the first frame of a new connection
  plain.write(captured);
  outcomes.push(await outcome(plain));
  plain.destroy();
  const other = await secureRaw(port, key); // replay inside another session
  other.raw.write(captured);
  outcomes.push(await outcome(other.raw));
  const replays = outcomes.map((o) => o.how).join(', ');

  // Every bit of the captured frame flipped, each on a fresh session.
  const bits = captured.length * 8;
  const flipped = await flipEveryBit(captured, () => secureRaw(port, key));
  outcomes.push(...flipped.outcomes);

  // Sealed envelopes (spec §6.7): one captured after it was served, replayed on its connection,
  // as a new connection's first frame and inside another session (where its identifier is the
  // expected one); then every bit of it flipped, each on a fresh session that agreed to envelopes.
  const mid = await counters();
  const holder = await secureRaw(port, key, { envelopes: true });
  const capturedEnvelope = holder.envelope([holder.plain(1n, setRequest('greeting', b('hello'))), holder.plain(2n, { op: 'GET', key: b('greeting') })]);
  holder.raw.write(capturedEnvelope);
  await holder.raw.waitFrames(1);
  if (holder.raw.frames[0]?.opcode !== SEALED) throw new Error('the captured envelope was not answered in an envelope');
  const beforeEnvelopes = await counters();
  const envelopeOutcomes: Outcome[] = [];
  holder.raw.write(capturedEnvelope);
  envelopeOutcomes.push(await outcome(holder.raw));
  const fresh = await RawClient.connect(port);
  fresh.write(capturedEnvelope);
  envelopeOutcomes.push(await outcome(fresh));
  fresh.destroy();
  const elsewhere = await secureRaw(port, key, { envelopes: true });
  elsewhere.raw.write(capturedEnvelope);
  envelopeOutcomes.push(await outcome(elsewhere.raw));
  const envelopeReplays = envelopeOutcomes.map((o) => o.how).join(', ');
  const envelopeBits = capturedEnvelope.length * 8;
  const flippedEnvelope = await flipEveryBit(capturedEnvelope, () => secureRaw(port, key, { envelopes: true }));
  envelopeOutcomes.push(...flippedEnvelope.outcomes);
  outcomes.push(...envelopeOutcomes);

  // A wrong key under a known key id: an honest client stops at the key confirmation, before
  // sending anything (spec §6.2); an attacker that ignores it and sends a sealed frame is refused.
  const wrongKey: PreSharedKey = { id: key.id, secret: Buffer.from(generateKey(), 'base64') };
  const honest = new ConduitClient({ port, key: wrongKey, reconnect: false });
  const wrongCode = await honest.connect().then(
    () => 'connected',
    (err: unknown) => (err instanceof ConduitError ? err.code : String(err)),
  );
  honest.destroy();
  const attacker = await secureRaw(port, wrongKey, { ignoreConfirmation: true });
  attacker.raw.write(attacker.seal(1n, setRequest('greeting', b('forged'))));
  const wrongOutcome = await outcome(attacker.raw);
  outcomes.push(wrongOutcome);

  // The server's own response frame reflected back to it.
  const mirror = await secureRaw(port, key);
  mirror.raw.write(frameBytes(VERSION_RESPONSE, answer.opcode, answer.id, answer.body));
  const reflectedOutcome = await outcome(mirror.raw);
  outcomes.push(reflectedOutcome);

  const after = await counters();
  await admin.close();
  const attacks = outcomes.length;
  const rejected = outcomes.filter((o) => o.rejected).length;
  const on = `[${implementation}]`;
  f.figure(
    `${on} replay on the same connection, as a new connection's first frame, and inside another session: ${replays}; ` +
      `every one of the ${count(bits)} bits of a captured ${captured.length}-byte frame flipped: ${flipped.rejected}/${count(bits)} rejected ` +
      `(${flipped.summary}); sealed envelopes: a captured one replayed ${envelopeReplays}, every one of its ${count(envelopeBits)} bits flipped: ` +
      `${flippedEnvelope.rejected}/${count(envelopeBits)} rejected (${flippedEnvelope.summary}), SETs executed by them ${after.sets - beforeEnvelopes.sets}; wrong key: ConduitClient.connect() fails with ${wrongCode} before sending a request, an attacker sending a frame sealed under it gets ${wrongOutcome.how}; reflected response frame: ${reflectedOutcome.how}; ` +
      `${rejected}/${attacks} attacks rejected, disconnect counters +${after.closed - before.closed}, SETs executed by attacks ${mid.sets - before.sets + (after.sets - beforeEnvelopes.sets)}`,
  );
  f.expect(`${on} the server seals with it (STATS aead: ${served})`, served === implementation);
  f.expect(`${on} every attack rejected and its connection closed (${rejected}/${attacks}; envelopes ${envelopeOutcomes.filter((o) => o.rejected).length}/${envelopeOutcomes.length})`, rejected === attacks);
  f.expect(`${on} a client with the wrong key fails at connect with AUTH_FAILED (${wrongCode})`, wrongCode === 'AUTH_FAILED');
  // Two windows of attacks, around the one legitimate envelope: each adds its closing STATS only.
  const sets = mid.sets - before.sets + (after.sets - beforeEnvelopes.sets);
  const commands = mid.commands - before.commands - 1 + (after.commands - beforeEnvelopes.commands - 1);
  f.expect(`${on} nothing executed (${sets} SETs, ${commands} commands besides STATS)`, sets === 0 && commands === 0);
  f.expect(`${on} the disconnect counters count every attack (+${after.closed - before.closed} for ${attacks})`, after.closed - before.closed === attacks);
}

/** Sends `captured` with each of its bits flipped, each on a fresh session from `connect`, 64 at a time. */
async function flipEveryBit(captured: Buffer, connect: () => Promise<SecureRaw>): Promise<{ outcomes: Outcome[]; rejected: number; summary: string }> {
  const hows = new Map<string, number>();
  const bits = captured.length * 8;
  const outcomes: Outcome[] = [];
  for (let start = 0; start < bits; start += 64) {
    const results = await Promise.all(
      Array.from({ length: Math.min(64, bits - start) }, async (_, i) => {
        const bit = start + i;
        const s = await connect();
        const flipped = Buffer.from(captured);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (0x80 >> (bit & 7));
        s.raw.write(flipped);
        const o = await outcome(s.raw);
        s.raw.destroy();
        return o;
      }),
    );
    for (const o of results) hows.set(o.how, (hows.get(o.how) ?? 0) + 1);
    outcomes.push(...results);
  }
  const summary = [...hows.entries()].map(([how, n]) => `${count(n)} ${how}`).join(', ');
  return { outcomes, rejected: outcomes.filter((o) => o.rejected).length, summary };
}
