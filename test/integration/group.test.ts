// A group of two servers in one process (spec §3.14, protocol 1.2): each answers TOPOLOGY
// with the group's map, answers MOVED naming the owner to every key-bearing request whose
// slot it does not own (executing nothing), and runs the per-server operations on its own
// keys. Raw sockets, plaintext and secure, so the bytes are the spec's, not a client's.
import { describe, expect, it } from 'vitest';
import { decodeMovedBody, decodeTopologyBody, encodeRequest, generateKey, Status, type PreSharedKey, type Request, type ServerOptions } from '../../src/index.js';
import { assignSlots, slotOf } from '../../src/protocol/slots.js';
import { STANDALONE } from '../../src/protocol/topology-body.js';
import { fragmentedRequest, PLAIN_BODY, Reassembler, SEALED_BODY, type Message } from '../support/fragments.js';
import type { RawClient } from '../support/raw-client.js';
import { secureRaw } from '../support/secure-client.js';
import { rawClient, startServer } from '../support/server.js';
import { freePort } from '../support/ports.js';


interface Group {
  names: string[];
  table: Uint8Array;
  ports: number[];
  servers: Awaited<ReturnType<typeof startServer>>[];
}

async function startGroup(extra: Partial<ServerOptions> = {}): Promise<Group> {
  const ports = [await freePort(), await freePort()];
  const names = ports.map((port) => `127.0.0.1:${port}`);
  const table = assignSlots(names);
  const servers = [];
  for (const [self, port] of ports.entries()) servers.push(await startServer({ port, group: { self, epoch: 1, nodes: names, table }, ...extra }));
  return { names, table, ports, servers };
}

/** A key whose slot server `owner` owns, the `n`th such. */
function keyOwnedBy(group: Group, owner: number, n = 0): Buffer {
  for (let i = 0; ; i++) {
    const key = Buffer.from(`key:${i}`);
    if (group.table[slotOf(key)] === owner && n-- === 0) return key;
  }
}

/** A raw connection, plaintext or secure, that numbers its requests and reassembles its answers. */
class Peer {
  readonly raw: RawClient;
  readonly #seal: ((id: bigint, request: Request) => Buffer) | undefined;
  readonly #reassembler: Reassembler;
  readonly maxBody: number;
  readonly cipher: ConstructorParameters<typeof Reassembler>[0];
  readonly sendCipher: Parameters<typeof fragmentedRequest>[3];
  #id = 1n;
  #seen = 0;

  private constructor(raw: RawClient, secure: Awaited<ReturnType<typeof secureRaw>> | undefined) {
    this.raw = raw;
    this.#seal = secure === undefined ? undefined : (id, request) => secure.seal(id, request);
    this.cipher = secure?.session.receive;
    this.sendCipher = secure?.session.send;
    this.#reassembler = new Reassembler(this.cipher);
    this.maxBody = secure === undefined ? PLAIN_BODY : SEALED_BODY;
  }

  static async open(port: number, key: PreSharedKey | undefined): Promise<Peer> {
    if (key === undefined) return new Peer(await rawClient(port), undefined);
    const secure = await secureRaw(port, key);
    return new Peer(secure.raw, secure);
  }

  nextId(): bigint {
    return this.#id++;
  }

  /** The bytes of `requests`, numbered from the next identifier on. */
  bytes(requests: readonly Request[]): Buffer {
    return Buffer.concat(requests.map((request) => this.frame(this.nextId(), request)));
  }

  frame(id: bigint, request: Request): Buffer {
    return this.#seal === undefined ? Buffer.concat(encodeRequest(id, request)) : this.#seal(id, request);
  }

  /** Waits for `n` more answers and returns them. */
  async answers(n: number): Promise<Message[]> {
    const want = this.#seen + n;
    await this.raw.until(() => this.#reassembler.take(this.raw.frames).length >= want, 10_000, `${want} answers`);
    const got = this.#reassembler.messages.slice(this.#seen, want);
    this.#seen = want;
    return got;
  }

  async ask(requests: readonly Request[], answered = requests.length): Promise<Message[]> {
    this.raw.write(this.bytes(requests));
    return this.answers(answered);
  }
}

const opts = { ttlMs: 0, nx: false, xx: false, keepTtl: false };
/** Every key-bearing request (spec §3.14) for `key`, with whether it is a quiet write. */
function keyBearing(key: Buffer): Request[] {
  return [
    { op: 'GET', key },
    { op: 'SET', key, value: Buffer.from('v'), ...opts },
    { op: 'SET', key, value: Buffer.from('v'), ...opts, nx: true },
    { op: 'SET', key, value: Buffer.from('v'), ...opts, xx: true, keepTtl: true },
    { op: 'SET', key, value: Buffer.from('v'), ...opts, version: 5n },
    { op: 'SET', key, value: Buffer.from('v'), ...opts, quiet: true },
    { op: 'DELETE', key },
    { op: 'DELETE', key, quiet: true },
    { op: 'RENEW', key, ttlMs: 1_000 },
    { op: 'RENEW', key, ttlMs: 1_000, quiet: true },
    { op: 'INCR', key, delta: 1n, ttlMs: 0 },
    { op: 'TTL', key },
    { op: 'GETS', key },
    { op: 'GAT', key, ttlMs: 0 },
  ];
}

async function stats(peer: Peer): Promise<{ moved: number; group: unknown; keys: number }> {
  const [answer] = await peer.ask([{ op: 'STATS' }]);
  const parsed = JSON.parse(answer?.body.toString() ?? '{}') as { moved: number; group: unknown; curr_items: number };
  return { moved: parsed.moved, group: parsed.group, keys: parsed.curr_items };
}

function expectMoved(answer: Message | undefined, group: Group, key: Buffer): void {
  expect(answer?.status).toBe(Status.MOVED);
  const slot = slotOf(key);
  const node = group.table[slot] as number;
  expect(decodeMovedBody(answer?.body ?? Buffer.alloc(0))).toEqual({ slot, node, epoch: 1, name: group.names[node] });
}

describe('a group of two servers (spec §3.14)', () => {
  for (const mode of ['plaintext', 'secure'] as const) {
    const key: PreSharedKey | undefined = mode === 'secure' ? { id: 'group', secret: Buffer.from(generateKey(), 'base64') } : undefined;
    const extra = key === undefined ? {} : { keys: [key] };

    it(`${mode}: TOPOLOGY answers the group's map, each server naming itself`, async () => {
      const group = await startGroup(extra);
      for (const self of [0, 1]) {
        const peer = await Peer.open(group.ports[self] as number, key);
        const [answer] = await peer.ask([{ op: 'TOPOLOGY' }]);
        expect(answer?.status).toBe(Status.OK);
        expect(decodeTopologyBody(answer?.body ?? Buffer.alloc(0))).toEqual({ scheme: 1, self, epoch: 1, nodes: group.names, table: group.table });
        expect((await stats(peer)).group).toEqual({ self, epoch: 1, nodes: group.names });
      }
    });

    it(`${mode}: every key-bearing request is answered MOVED by the non-owner, naming the owner, and run by the owner`, async () => {
      const group = await startGroup(extra);
      for (const owner of [0, 1]) {
        const other = 1 - owner;
        const k = keyOwnedBy(group, owner);
        const requests = keyBearing(k);
        const wrong = await Peer.open(group.ports[other] as number, key);
        const right = await Peer.open(group.ports[owner] as number, key);
        const [wrongBefore, rightBefore] = [await stats(wrong), await stats(right)];
        // The quiet writes too: a MOVED is a failure, so it is answered (spec §2.5).
        const answers = await wrong.ask(requests);
        for (const answer of answers) expectMoved(answer, group, k);
        const wrongStats = await stats(wrong);
        expect(wrongStats.moved - wrongBefore.moved).toBe(requests.length);
        expect(wrongStats.keys).toBe(wrongBefore.keys); // nothing was executed there
        expect(await stats(right)).toEqual(rightBefore);

        // Run in order by the owner: the quiet SET succeeds and is not answered (the quiet DELETE and RENEW fail, and are).
        const ran = await right.ask([...requests, { op: 'HEALTH' }], requests.length);
        expect(ran.every((a) => a.status !== Status.MOVED)).toBe(true);
        expect(ran.map((a) => a.status)).toEqual([
          Status.NOT_FOUND, // GET
          Status.OK, // SET
          Status.NOT_STORED, // SET NX
          Status.OK, // SET XX KEEPTTL
          Status.EXISTS, // SET CAS with another version
          // quiet SET: OK, not answered
          Status.OK, // DELETE
          Status.NOT_FOUND, // quiet DELETE of a key just deleted: answered
          Status.NOT_FOUND, // RENEW
          Status.NOT_FOUND, // quiet RENEW: answered
          Status.OK, // INCR creates it
          Status.OK, // TTL
          Status.OK, // GETS
          Status.OK, // GAT
          Status.OK, // HEALTH
        ]);
        const rightStats = await stats(right);
        expect(rightStats.moved).toBe(rightBefore.moved);
        expect(rightStats.keys).toBe(rightBefore.keys + 1);
      }
    });

    it(`${mode}: a fragmented SET to the non-owner is answered MOVED once it is whole, and stores nothing`, async () => {
      const group = await startGroup({ ...extra, maxValueSize: 4 * 1024 * 1024 });
      const k = keyOwnedBy(group, 1);
      const peer = await Peer.open(group.ports[0] as number, key);
      const value = Buffer.alloc(200_000, 9);
      const parts = fragmentedRequest(peer.nextId(), { op: 'SET', key: k, value, ...opts }, peer.maxBody, peer.sendCipher);
      expect(parts.length).toBeGreaterThan(2);
      peer.raw.write(parts);
      const [answer] = await peer.answers(1);
      expectMoved(answer, group, k);
      const quietParts = fragmentedRequest(peer.nextId(), { op: 'SET', key: k, value, ...opts, quiet: true }, peer.maxBody, peer.sendCipher);
      peer.raw.write(quietParts);
      expectMoved((await peer.answers(1))[0], group, k); // a quiet fragmented SET too
      expect(await stats(peer)).toMatchObject({ moved: 2, keys: 0 });
    });

    it(`${mode}: LIST and SCAN see only the server's own keys; FLUSH empties only its own`, async () => {
      const group = await startGroup(extra);
      const peers = [await Peer.open(group.ports[0] as number, key), await Peer.open(group.ports[1] as number, key)];
      const owned = [0, 1].map((owner) => [0, 1, 2].map((n) => keyOwnedBy(group, owner, n)));
      for (const owner of [0, 1]) {
        const sets = (owned[owner] as Buffer[]).map((k): Request => ({ op: 'SET', key: k, value: Buffer.from('v'), ...opts }));
        const answers = await (peers[owner] as Peer).ask(sets);
        expect(answers.map((a) => a.status)).toEqual([Status.OK, Status.OK, Status.OK]);
      }
      for (const owner of [0, 1]) {
        const peer = peers[owner] as Peer;
        const expected = (owned[owner] as Buffer[]).map((k) => k.toString()).sort();
        const [list] = await peer.ask([{ op: 'LIST', prefix: Buffer.from('key:'), limit: 100 }]);
        expect(list?.status).toBe(Status.OK);
        expect(parseKeys(list?.body.subarray(1)).sort()).toEqual(expected);
        const scanned: string[] = [];
        let cursor = 0n;
        do {
          const [scan] = await peer.ask([{ op: 'SCAN', cursor, count: 1000, prefix: Buffer.alloc(0) }]);
          expect(scan?.status).toBe(Status.OK);
          cursor = scan?.body.readBigUInt64BE(0) ?? 0n;
          scanned.push(...parseKeys(scan?.body.subarray(8)));
        } while (cursor !== 0n);
        expect([...new Set(scanned)].sort()).toEqual(expected);
      }
      expect((await (peers[0] as Peer).ask([{ op: 'FLUSH' }]))[0]?.status).toBe(Status.OK);
      expect((await stats(peers[0] as Peer)).keys).toBe(0);
      expect((await stats(peers[1] as Peer)).keys).toBe(3);
    });

    it(`${mode}: TOPOLOGY and a MOVED exchange byte by byte and split at every point`, async () => {
      const group = await startGroup(extra);
      const k = keyOwnedBy(group, 1);
      const peer = await Peer.open(group.ports[0] as number, key);
      const exchange: Request[] = [{ op: 'TOPOLOGY' }, { op: 'GET', key: k }, { op: 'SET', key: k, value: Buffer.from('v'), ...opts, quiet: true }];
      const check = (answers: Message[]): void => {
        expect(answers[0]?.status).toBe(Status.OK);
        expect(decodeTopologyBody(answers[0]?.body ?? Buffer.alloc(0))).toMatchObject({ self: 0, nodes: group.names });
        expectMoved(answers[1], group, k);
        expectMoved(answers[2], group, k);
      };
      const bytes = peer.bytes(exchange);
      await peer.raw.writeByteByByte(bytes);
      check(await peer.answers(3));
      for (let split = 1; split < bytes.length; split++) {
        const next = peer.bytes(exchange);
        peer.raw.write(next.subarray(0, split));
        await new Promise((resolve) => setImmediate(resolve));
        peer.raw.write(next.subarray(split));
        check(await peer.answers(3));
      }
    });
  }

  it('a standalone server answers TOPOLOGY with no servers, never MOVED, STATS group null, and /metrics counts MOVED', async () => {
    const { port } = await startServer();
    const peer = await Peer.open(port, undefined);
    const [topology, get] = await peer.ask([{ op: 'TOPOLOGY' }, { op: 'GET', key: Buffer.from('foo') }]);
    expect(topology?.body.toString('hex')).toBe('01ff0000000000');
    expect(decodeTopologyBody(topology?.body ?? Buffer.alloc(0))).toMatchObject({ self: STANDALONE, nodes: [] });
    expect(get?.status).toBe(Status.NOT_FOUND);
    expect(await stats(peer)).toMatchObject({ moved: 0, group: null });

    const group = await startGroup({ httpPort: 0 });
    const k = keyOwnedBy(group, 1);
    const wrong = await Peer.open(group.ports[0] as number, undefined);
    expectMoved((await wrong.ask([{ op: 'GET', key: k }]))[0], group, k);
    const text = await (await fetch(`http://127.0.0.1:${group.servers[0]?.httpPort}/metrics`)).text();
    expect(text).toMatch(/^conduit_moved_total 1$/m);
  });
});

function parseKeys(body: Buffer | undefined): string[] {
  const keys: string[] = [];
  if (body === undefined) return keys;
  for (let at = 0; at < body.length; ) {
    const length = body[at] as number;
    keys.push(body.toString('utf8', at + 1, at + 1 + length));
    at += 1 + length;
  }
  return keys;
}
