// Scenario 12 (issue 15 item 1): answers sized for plaintext in secure mode. In a secure
// session every answer grows by the 16-byte tag (spec §6.4); LIST, STATS and values stored
// over HTTP at the plaintext limit used to produce frames over spec §2.1 or, past 65,535,
// an exception that ended the process. Every cap boundary is hit here against a secure
// conduit-server: each answer's frame is checked and the process must stay up.
import { generateKey, MAX_BODY_SIZE, Status, Store, TAG_SIZE, type PreSharedKey, type Request } from '../../../src/index.js';
import type { ServerProcess } from '../../support/cli.js';
import { CheckedClient } from '../../support/checked-client.js';
import { b, count, serve, setRequest, type Scenario, type Size } from '../harness.js';
import { httpPut } from '../../support/http-put.js';

const SECURE_CAP = MAX_BODY_SIZE - TAG_SIZE;
const TOKEN = 'chaos-secure-sizes-token';


async function secureServer(size: Size, shards: number): Promise<{ server: ServerProcess; key: PreSharedKey; httpPort: number }> {
  const key: PreSharedKey = { id: 'sizes', secret: Buffer.from(generateKey(), 'base64') };
  const server = await serve(size, ['--shards', String(shards), '--max-memory', '1gb', '--http-port', '0'], {
    CONDUIT_KEY: `${key.id}:${key.secret.toString('base64')}`,
    CONDUIT_HTTP_TOKEN: TOKEN,
  });
  const line = server.logs().find((l) => l.msg === 'conduit-server listening');
  return { server, key, httpPort: Number(String(line?.http).split(':').at(-1)) };
}

const alive = (server: ServerProcess): boolean => server.child.exitCode === null && server.child.signalCode === null;

export const secureSizes: Scenario = {
  number: 12,
  id: 'secure-sizes',
  title: 'Secure answer sizes',
  budgetMs: 120_000,
  async run(size, f) {
    const clients: CheckedClient[] = [];
    const servers: ServerProcess[] = [];
    let wrong = 0;
    const expect = (ok: boolean): void => {
      if (!ok) wrong += 1;
    };

    // One secure server with 256 shards (STATS near the cap), --http-port for the HTTP-stored values.
    const main = await secureServer(size, 256);
    servers.push(main.server);
    const c = await CheckedClient.connect(main.server.port, main.key);
    clients.push(c);
    // STATS with 256 shards, polled after every SET: the body starts near 65,300 bytes and grows.
    let statsAnswers = 0;
    let detailed = 0;
    const polls = size.quick ? 200 : 600;
    for (let i = 0; i < polls; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => [setRequest(`s${i + j}`, b('v')), { op: 'STATS' } as Request]).flat();
      for (const [j, a] of (await c.ask(batch)).entries()) {
        expect(a.status === Status.OK);
        if (j % 2 === 0) continue;
        statsAnswers += 1;
        if ((JSON.parse(a.body.toString()) as { shards: unknown[] }).shards.length > 0) detailed += 1;
      }
    }

    // LIST: for each key length, more keys than one frame holds; the answer must fill the
    // secure cap to within one key, never pass it. 52, 69, 102 and 105 put the plaintext-sized
    // answer inside 65,509-65,524 (sealed: over §2.1) or past 65,535 (sealed: the crash).
    const lengths = size.quick ? [20, 52, 69, 105, 250] : [4, 8, 20, 28, 40, 52, 64, 69, 75, 86, 102, 105, 120, 200, 250];
    let lists = 0;
    for (const length of lengths) {
      await c.ask([{ op: 'FLUSH' }]);
      const n = Math.ceil(MAX_BODY_SIZE / (length + 1)) + 100;
      for (let i = 0; i < n; i += 1_000) {
        const batch = Array.from({ length: Math.min(1_000, n - i) }, (_, j) => setRequest(Buffer.from(String(i + j).padStart(length, 'k').slice(-length)), b('v')));
        for (const a of await c.ask(batch)) expect(a.status === Status.OK);
      }
      for (const limit of [1_000, 65_535]) {
        const [list] = await c.ask([{ op: 'LIST', prefix: Buffer.alloc(0), limit }]);
        lists += 1;
        const fits = Math.min(limit, Store.LIST_SCAN_LIMIT, Math.floor((SECURE_CAP - 1) / (length + 1)));
        expect(list?.status === Status.OK && list.body.length === 1 + fits * (length + 1) && list.body[0] === 1);
      }
    }

    // HTTP-stored values at and around the secure and plaintext limits, read over secure frames. Protocol
    // 1.1 (spec §2.4): PUT stores any value up to --max-value-size; this raw client declared no fragments
    // (a 1.0 client), so an answer too large for its secure frame is a non-fatal TOO_LARGE, never a crash.
    const plainMax = MAX_BODY_SIZE - 6 - 3; // one plaintext SET frame with a 3-byte key (spec §3.3)
    const values = [SECURE_CAP - 1, SECURE_CAP, SECURE_CAP + 1, plainMax - 1, plainMax];
    let refused = 0;
    for (const [i, length] of values.entries()) {
      const status = await httpPut(main.httpPort, `v${String(i).padStart(2, '0')}`, Buffer.alloc(length, i), TOKEN);
      expect(status === 204);
    }
    const gets = await c.ask([...values.map((_, i) => ({ op: 'GET', key: b(`v${String(i).padStart(2, '0')}`) }) as Request), { op: 'HEALTH' }]);
    for (const [i, length] of values.entries()) {
      const a = gets[i];
      if (length <= SECURE_CAP) expect(a?.status === Status.OK && a.body.length === length);
      else expect(a?.status === Status.TOO_LARGE);
      if (a?.status === Status.TOO_LARGE) refused += 1;
    }
    expect(gets.at(-1)?.status === Status.OK);

    // STATS with 1,024 shards: the per-shard detail never fits; the answer must still be whole.
    const wide = await secureServer(size, 1_024);
    servers.push(wide.server);
    const w = await CheckedClient.connect(wide.server.port, wide.key);
    clients.push(w);
    for (let i = 0; i < 50; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => [setRequest(`w${i + j}`, b('v')), { op: 'STATS' } as Request]).flat();
      for (const [j, a] of (await w.ask(batch)).entries()) {
        expect(a.status === Status.OK);
        if (j % 2 === 1) statsAnswers += 1;
      }
    }

    const checked = clients.reduce((sum, x) => sum + x.answers, 0);
    const largest = Math.max(...clients.map((x) => x.largest));
    const over = clients.reduce((sum, x) => sum + x.overLimit, 0);
    const exits = servers.map((s) => (alive(s) ? 'none' : String(s.child.exitCode ?? s.child.signalCode)));
    for (const x of clients) x.destroy();
    f.figure(
      `secure servers (256 and 1,024 shards): ${count(checked)} answers checked (${lists} LISTs over keys of ${lengths.length} lengths from ${lengths[0]} to ${lengths.at(-1)} bytes, ` +
        `${count(statsAnswers)} STATS polled after every SET, ${values.length} HTTP PUTs of ${values.join(', ')} bytes, all stored; ${refused} answered TOO_LARGE to a 1.0 client as a secure frame could not carry them, the rest read back whole); ` +
        `largest frame LENGTH ${count(largest)} (limit ${count(MAX_BODY_SIZE)}); ${over} frames over the limit; STATS with per-shard detail ${detailed}/${polls}; ` +
        `process exit code: ${exits.join(', ')}`,
    );
    f.expect(`0 frames over spec §2.1 (got ${over}; largest ${largest})`, over === 0 && largest <= MAX_BODY_SIZE);
    f.expect(`every answer as expected: LISTs fill the secure cap, values over it TOO_LARGE for a 1.0 client (${wrong} wrong)`, wrong === 0);
    f.expect(`both processes alive (exit code ${exits.join(', ')})`, exits.every((e) => e === 'none'));
  },
};
