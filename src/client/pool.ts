/**
 * The server pool behind a `ConduitClient` made with `servers` or
 * `discover` (spec §3.14, issue 20): one single-server client per server,
 * each key-bearing request sent to its key's server by the {@link Ring},
 * a MOVED answer followed once, the failure policy (`'fail'` or `'eject'`),
 * and the per-server requests (LIST, SCAN, STATS, FLUSH, HEALTH, CAPS) sent
 * to every server and merged (fan-out.ts).
 *
 * Every server is a whole single-server client, so each guarantee of one
 * (order, bounds, timeouts, nothing retried after a lost connection) holds
 * per server; the only request the pool sends twice is one a server
 * answered MOVED, which that server did not execute (spec §3.14).
 *
 * Over ~450 lines only for the JSDoc of its fan-out methods, each a few lines.
 *
 * @example
 * ```ts
 * const pool = new Pool(settings, (address) => memberFor(address), emitter);
 * await pool.call({ op: 'GET', key }, decodeGet);
 * ```
 * @module
 */
import type { EventEmitter } from 'node:events';
import { Status } from '../protocol/constants.js';
import { ConduitError, ProtocolError } from '../protocol/errors.js';
import type { Frame } from '../protocol/header.js';
import { encodeListBody, type Request } from '../protocol/messages.js';
import { slotOf } from '../protocol/slots.js';
import { decodeMovedBody, decodeTopologyBody, STANDALONE, type Topology } from '../protocol/topology-body.js';
import type { ServerCapabilities } from './capabilities.js';
import { bytes, statusError, valueOf, type ListReply, type ReloadResult, type ScanOptions, type ScanReply } from './commands.js';
import { commonCapabilities, joinCursor, mergeLists, mergeStats, named, settleAll, splitCursor } from './fan-out.js';
import { Ring } from './ring.js';
import { addressOf, nameOf, reachAt, type ServerAddress } from './server-names.js';
import { setManyLoop, type SetManyEntry, type SetManyOptions, type SetManyResult } from './set-many.js';

/** What a pool does when one of its servers is down (see {@link PoolSettings.failurePolicy}). */
export type FailurePolicy = 'fail' | 'eject';

/** A pool's own settings, validated (options.ts `resolvePoolOptions`). */
export interface PoolSettings {
  /** The servers' names (`servers`), normalised; `undefined` with `discover`. */
  readonly servers: readonly string[] | undefined;
  /** The address `discover` asks TOPOLOGY of; `undefined` with `servers`. */
  readonly discover: ServerAddress | undefined;
  readonly failurePolicy: FailurePolicy;
  readonly ejectAfter: number;
  readonly ejectRetryMs: number;
}

/** The public commands of one server's client that the pool uses (a `ConduitClient` for one server). */
export interface MemberClient {
  connect(): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  health(): Promise<number>;
  flush(): Promise<void>;
  reload(): Promise<ReloadResult>;
  stats(): Promise<Record<string, unknown>>;
  list(prefix: Buffer, limit: number): Promise<ListReply>;
  scanPage(cursor: bigint, options: ScanOptions): Promise<ScanReply>;
  capabilities(): Promise<ServerCapabilities>;
  readonly pending: { inflight: number; queued: number };
  // any: EventEmitter's own listener type, which a narrower one does not accept
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** One server of the pool: its client, and the client's internal call (request + decoder) and queue bound. */
export interface Member {
  readonly client: MemberClient;
  call<T>(request: Request, decode: (frame: Frame) => T | Promise<T>): Promise<T>;
  full(): boolean;
}

/** An answer as `ConduitClient#exchange` gives it. */
export interface Exchanged {
  status: number;
  body: Buffer;
}

/** Whether the pool knows its servers: always with `servers`; with `discover`, after TOPOLOGY. */
type TopologyState = 'static' | 'unknown' | 'known';

/** spec §3.14: the failures that say a server is unreachable, counted by the 'eject' policy. */
const CONNECTION_FAILURES = new Set(['CONNECT_FAILED', 'CONNECTION_LOST', 'TIMEOUT']);

/** Keyless requests a pool sends to every server: the answer is the first failure, else the first OK. */
const TO_EVERY_SERVER = new Set(['HEALTH', 'FLUSH', 'SHUTDOWN', 'RELOAD']);

/** A merged answer as `exchange` gives it: OK with `body`, or the status a server failed with (local failures reject). */
async function statusOf(body: () => Promise<Buffer>): Promise<Exchanged> {
  try {
    return { status: Status.OK, body: await body() };
  } catch (err) {
    if (err instanceof ConduitError && err.status !== undefined) return { status: err.status, body: Buffer.from(err.message) };
    throw err;
  }
}

/**
 * The pool: routing, MOVED, the failure policy and fan-out. Created by
 * `ConduitClient`, which passes a factory for one server's client.
 *
 * @example
 * ```ts
 * const pool = new Pool({ servers: ['127.0.0.1:7171'], discover: undefined, failurePolicy: 'fail', ejectAfter: 3, ejectRetryMs: 5000 }, factory, emitter);
 * pool.serverFor(Buffer.from('k')); // '127.0.0.1:7171'
 * ```
 */
export class Pool {
  readonly #settings: PoolSettings;
  readonly #create: (address: ServerAddress) => Member;
  readonly #events: EventEmitter;
  #ring: Ring;
  #members: Member[];
  /** Each member's address, spelled canonically: how a rediscovered group reuses connections. */
  #addresses: string[];
  #topology: TopologyState;
  #epoch = 0;
  #discovering: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;
  /** Consecutive connection-level failures per server ('eject'). */
  #failures: number[];
  readonly #retries = new Map<number, NodeJS.Timeout>();
  #state: 'open' | 'closed' = 'open';

  constructor(settings: PoolSettings, create: (address: ServerAddress) => Member, events: EventEmitter) {
    this.#settings = settings;
    this.#create = create;
    this.#events = events;
    const addresses: ServerAddress[] =
      settings.servers === undefined ? [settings.discover as ServerAddress] : settings.servers.map((name) => addressOf(name) as ServerAddress);
    this.#addresses = addresses.map(nameOf);
    this.#ring = new Ring(settings.servers ?? this.#addresses);
    this.#members = addresses.map((address) => this.#member(address));
    this.#failures = this.#members.map(() => 0);
    this.#topology = settings.servers === undefined ? 'unknown' : 'static';
  }

  #member(address: ServerAddress): Member {
    const member = this.#create(address);
    const server = nameOf(address);
    member.client.on('reconnecting', (info: Record<string, unknown>) => this.#events.emit('reconnecting', { ...info, server }));
    member.client.on('error', (err: unknown) => {
      if (this.#events.listenerCount('error') > 0) this.#events.emit('error', named(server, err));
    });
    return member;
  }

  /** Requests written and waiting, summed over the servers. */
  get pending(): { inflight: number; queued: number } {
    let inflight = 0;
    let queued = 0;
    for (const m of this.#members) {
      const p = m.client.pending;
      inflight += p.inflight;
      queued += p.queued;
    }
    return { inflight, queued };
  }

  /**
   * The name of the server `key` goes to now (a group's own spelling with `discover`).
   *
   * @example
   * ```ts
   * pool.serverFor(Buffer.from('user:42')); // '127.0.0.1:7172'
   * ```
   */
  serverFor(key: Buffer): string {
    return this.#ring.names[this.#ring.ownerOf(slotOf(key))] as string;
  }

  /**
   * Sends a key-bearing request to its key's server; `decode` makes the
   * answer into the result. A MOVED answer is followed once (spec §3.14).
   *
   * @example
   * ```ts
   * await pool.call({ op: 'GET', key }, decodeGet);
   * ```
   */
  call<T>(request: Request, decode: (frame: Frame) => T): Promise<T> {
    if (this.#topology === 'unknown') return this.#discover().then(() => this.call(request, decode));
    const key = (request as { key?: Buffer }).key;
    if (key === undefined) return Promise.reject(new ConduitError('BAD_REQUEST', `${request.op} is per server: a pool sends it with its own method`));
    return this.#send(this.#ring.ownerOf(slotOf(key)), request, decode, false);
  }

  #send<T>(index: number, request: Request, decode: (frame: Frame) => T, resent: boolean): Promise<T> {
    const routed = (frame: Frame): T | Promise<T> => (frame.opcode === Status.MOVED ? this.#follow(index, request, decode, frame, resent) : decode(frame));
    const result = (this.#members[index] as Member).call(request, routed);
    return this.#settings.failurePolicy === 'eject' ? this.#counted(index, result) : result;
  }

  /**
   * spec §3.14: a server answered MOVED: the request was not executed, so it
   * is resent once, to the owner the answer names (with `discover`, after
   * one refresh of the map when the answer's epoch is not the pool's).
   */
  #follow<T>(index: number, request: Request, decode: (frame: Frame) => T, frame: Frame, resent: boolean): Promise<T> {
    const error = statusError(frame); // MOVED, its message naming the owner; PROTOCOL_ERROR for a body that does not decode
    const moved = decodeMovedBody(frame.body);
    if (moved instanceof ProtocolError || resent || this.#state === 'closed') throw error;
    const key = (request as { key: Buffer }).key;
    if (this.#settings.discover !== undefined && moved.epoch !== this.#epoch) {
      return this.#refresh(index).then(() => this.#send(this.#ring.ownerOf(slotOf(key)), request, decode, true));
    }
    const owner = this.#indexOf(moved.name);
    if (owner < 0) throw error;
    return Promise.resolve().then(() => this.#send(owner, request, decode, true));
  }

  /** The index of the server a MOVED names: as spelled, or normalised (a `servers` pool's names are). */
  #indexOf(name: string): number {
    const at = this.#ring.names.indexOf(name);
    if (at >= 0) return at;
    const address = addressOf(name);
    return address === undefined ? -1 : this.#ring.names.indexOf(nameOf(address));
  }

  /** 'eject': a success resets the server's count; a connection-level failure adds to it. */
  #counted<T>(index: number, result: Promise<T>): Promise<T> {
    return result.then(
      (value) => {
        this.#failures[index] = 0;
        return value;
      },
      (err: unknown) => {
        if (err instanceof ConduitError && CONNECTION_FAILURES.has(err.code)) this.#failed(index, err);
        throw err;
      },
    );
  }

  #failed(index: number, error: ConduitError): void {
    const count = (this.#failures[index] ?? 0) + 1;
    this.#failures[index] = count;
    if (count < this.#settings.ejectAfter || this.#state === 'closed' || !this.#ring.eject(index)) return;
    const server = this.#ring.names[index] as string;
    this.#events.emit('server-down', { server, error: named(server, error) });
    this.#events.emit('ring-changed', { servers: this.#ring.live });
    this.#retryLater(index);
  }

  /** 'eject': after `ejectRetryMs`, a HEALTH check; passing it puts the server back in the ring. */
  #retryLater(index: number): void {
    const timer = setTimeout(() => {
      this.#retries.delete(index);
      const member = this.#members[index];
      if (member === undefined || this.#state === 'closed') return;
      member.client.health().then(
        () => this.#rejoin(index),
        () => {
          if (this.#state === 'open') this.#retryLater(index);
        },
      );
    }, this.#settings.ejectRetryMs);
    timer.unref();
    this.#retries.set(index, timer);
  }

  #rejoin(index: number): void {
    if (this.#state === 'closed') return;
    this.#failures[index] = 0;
    if (!this.#ring.restore(index)) return;
    this.#events.emit('server-up', { server: this.#ring.names[index] as string });
    this.#events.emit('ring-changed', { servers: this.#ring.live });
  }

  /** `discover`: the first TOPOLOGY, asked once however many calls wait for it; a failure lets the next call ask again. */
  #discover(): Promise<void> {
    this.#discovering ??= this.#askTopology(0).then(
      (topology) => this.#apply(topology),
      (err: unknown) => {
        this.#discovering = undefined;
        throw err;
      },
    );
    return this.#discovering;
  }

  /** `discover`: a MOVED from another epoch: the map is stale; one TOPOLOGY for every request that saw it. */
  #refresh(from: number): Promise<void> {
    this.#refreshing ??= this.#askTopology(from)
      .then((topology) => this.#apply(topology))
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /** TOPOLOGY (spec §3.14); a 1.0 server's UNKNOWN_OPCODE is a standalone server's answer. */
  #askTopology(index: number): Promise<Topology> {
    const standalone: Topology = { scheme: 1, self: STANDALONE, epoch: 0, nodes: [], table: new Uint8Array(0) };
    return (this.#members[index] as Member).call({ op: 'TOPOLOGY' }, (frame) => {
      if (frame.opcode === Status.UNKNOWN_OPCODE) return standalone;
      if (frame.opcode !== Status.OK) throw statusError(frame);
      const topology = decodeTopologyBody(valueOf(frame));
      if (topology instanceof ProtocolError) throw new ConduitError('PROTOCOL_ERROR', `TOPOLOGY answer: ${topology.message}`);
      return topology;
    });
  }

  /**
   * `discover`: the group's map becomes the ring. A standalone server is a
   * pool of one, the address given. Connections to servers still in the
   * group are kept; those to servers no longer in it close.
   */
  #apply(topology: Topology): void {
    this.#epoch = topology.epoch;
    this.#topology = 'known';
    if (topology.nodes.length === 0 || this.#state === 'closed') return;
    const seed = this.#settings.discover as ServerAddress;
    const via = 'host' in seed ? seed.host : '127.0.0.1';
    const addresses = topology.nodes.map((name) => reachAt(name, via));
    const bad = topology.nodes.find((_, i) => addresses[i] === undefined);
    if (bad !== undefined) throw new ConduitError('PROTOCOL_ERROR', `TOPOLOGY names a server that is not host:port or a socket path: ${bad}`);
    const before = this.#ring.names;
    const members: Member[] = [];
    const spelled: string[] = [];
    const kept = new Set<number>();
    for (const address of addresses as ServerAddress[]) {
      const name = nameOf(address);
      const old = this.#addresses.indexOf(name);
      if (old >= 0) kept.add(old);
      members.push(old >= 0 ? (this.#members[old] as Member) : this.#member(address));
      spelled.push(name);
    }
    this.#members.forEach((m, i) => {
      if (!kept.has(i)) void m.client.close();
    });
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    this.#members = members;
    this.#addresses = spelled;
    this.#failures = members.map(() => 0);
    this.#ring = new Ring(topology.nodes, topology.table);
    if (before.join('\n') !== topology.nodes.join('\n')) this.#events.emit('ring-changed', { servers: this.#ring.live });
  }

  /** The members in the ring now, with their names and indices. */
  #live(): { names: string[]; members: Member[] } {
    const names: string[] = [];
    const members: Member[] = [];
    this.#ring.names.forEach((name, i) => {
      if (this.#ring.has(i)) {
        names.push(name);
        members.push(this.#members[i] as Member);
      }
    });
    return { names, members };
  }

  async #everyServer<T>(each: (member: Member, index: number) => Promise<T>): Promise<{ names: string[]; results: T[] }> {
    if (this.#topology === 'unknown') await this.#discover();
    const { names, members } = this.#live();
    const results = await settleAll(names, (_, i) => each(members[i] as Member, i));
    return { names, results };
  }

  /**
   * Connects to every server in the ring (discovering the group first with
   * `discover`); rejects with the first failure, naming its server, once
   * every attempt has ended; the servers that connected stay connected.
   *
   * @example
   * ```ts
   * await pool.connect();
   * ```
   */
  async connect(): Promise<void> {
    await this.#everyServer((m) => m.client.connect());
  }

  /**
   * HEALTH on every server in the ring: the slowest round trip; rejects when any fails, naming it.
   *
   * @example
   * ```ts
   * const ms = await pool.health();
   * ```
   */
  async health(): Promise<number> {
    return Math.max(...(await this.#everyServer((m) => m.client.health())).results);
  }

  /**
   * FLUSH on every server in the ring; rejects when any fails, naming it and
   * the servers that did flush (it is not atomic: they stay flushed).
   *
   * @example
   * ```ts
   * await pool.flush();
   * ```
   */
  async flush(): Promise<void> {
    await this.#everyServer((m) => m.client.flush());
  }

  /**
   * RELOAD on every server in the ring (spec §3.17): the first server's sizes
   * and the sessions closed on all of them; rejects when any fails, naming it
   * (the servers that reloaded keep their new tables).
   *
   * @example
   * ```ts
   * const { closed } = await pool.reload();
   * ```
   */
  async reload(): Promise<ReloadResult> {
    const { results } = await this.#everyServer((m) => m.client.reload());
    const first = results[0] as ReloadResult;
    return { ...first, closed: results.reduce((sum, r) => sum + r.closed, 0) };
  }

  /**
   * STATS of every server in the ring, merged (fan-out.ts `mergeStats`).
   *
   * @example
   * ```ts
   * (await pool.stats()).curr_items;
   * ```
   */
  async stats(): Promise<Record<string, unknown>> {
    const { names, results } = await this.#everyServer((m) => m.client.stats());
    return mergeStats(names, results);
  }

  /**
   * LIST on every server in the ring, merged: at most `limit` keys in all.
   *
   * @example
   * ```ts
   * await pool.list(Buffer.from('user:'), 100);
   * ```
   */
  async list(prefix: Buffer, limit: number): Promise<ListReply> {
    return mergeLists((await this.#everyServer((m) => m.client.list(prefix, limit))).results, limit);
  }

  /**
   * What every server in the ring supports (fan-out.ts `commonCapabilities`).
   *
   * @example
   * ```ts
   * (await pool.capabilities()).scan;
   * ```
   */
  async capabilities(): Promise<ServerCapabilities> {
    return commonCapabilities((await this.#everyServer((m) => m.client.capabilities())).results);
  }

  /**
   * One SCAN call of an iteration over every server, one server after the
   * other: the cursor carries the server's index above bit 64 and that
   * server's own cursor below (fan-out.ts), so 0n starts and 0n ends as for
   * one server. Servers out of the ring are skipped.
   *
   * @example
   * ```ts
   * const { cursor, keys } = await pool.scanPage(0n, { prefix: 'user:' });
   * ```
   */
  async scanPage(cursor: bigint, options: ScanOptions): Promise<ScanReply> {
    if (this.#topology === 'unknown') await this.#discover();
    let { server, cursor: at } = splitCursor(cursor);
    if (server >= this.#ring.names.length) throw new ConduitError('BAD_REQUEST', `cursor ${cursor} names server ${server} of a pool of ${this.#ring.names.length}`);
    while (server < this.#ring.names.length && !this.#ring.has(server)) [server, at] = [server + 1, 0n];
    const member = this.#members[server];
    if (member === undefined) return { cursor: 0n, keys: [] };
    let page: ScanReply;
    try {
      page = await member.client.scanPage(at, options);
    } catch (err) {
      throw named(this.#ring.names[server] as string, err);
    }
    if (page.cursor !== 0n) return { cursor: joinCursor(server, page.cursor), keys: page.keys };
    return { cursor: server + 1 < this.#ring.names.length ? joinCursor(server + 1, 0n) : 0n, keys: page.keys };
  }

  /**
   * `setMany` over the pool: the entries grouped by server, each group
   * pipelined within its server's queue bound (set-many.ts), results in entry order.
   *
   * @example
   * ```ts
   * await pool.setMany(entries, true, (k, v, o) => client.set(k, v, o));
   * ```
   */
  async setMany(
    entries: Iterable<SetManyEntry>,
    quiet: boolean,
    set: (key: Buffer, value: SetManyEntry[1], options: SetManyOptions) => Promise<boolean>,
  ): Promise<SetManyResult[]> {
    if (this.#topology === 'unknown') await this.#discover();
    const groups = new Map<number, { at: number[]; entries: SetManyEntry[] }>();
    let n = 0;
    for (const [key, value, options] of entries) {
      const k = bytes(key, 'key');
      const owner = this.#ring.ownerOf(slotOf(k));
      let group = groups.get(owner);
      if (group === undefined) groups.set(owner, (group = { at: [], entries: [] }));
      group.at.push(n++);
      group.entries.push([k, value, options]);
    }
    const results: SetManyResult[] = new Array<SetManyResult>(n);
    await Promise.all(
      [...groups].map(async ([owner, group]) => {
        const member = this.#members[owner] as Member;
        const done = await setManyLoop(group.entries, (k, v, o) => set(k as Buffer, v, o), () => member.full(), quiet);
        done.forEach((r, i) => (results[group.at[i] as number] = r));
      }),
    );
    return results;
  }

  /**
   * `exchange` over the pool: a key-bearing request goes to its key's
   * server (MOVED followed); HEALTH, FLUSH and SHUTDOWN go to every server
   * in the ring and resolve with the first answer that is not OK, else the
   * first; STATS and LIST resolve with the merged answer's body (as
   * `stats()` and `list()` merge); SCAN, CAPS, TOPOLOGY and HELLO reject
   * `BAD_REQUEST` (a pool's SCAN cursor does not fit the wire's u64: use
   * `scanPage`).
   *
   * @example
   * ```ts
   * await pool.exchange({ op: 'GET', key });
   * ```
   */
  async exchange(request: Request): Promise<Exchanged> {
    const answer = (frame: Frame): Exchanged => ({ status: frame.opcode, body: valueOf(frame) });
    if ((request as { key?: Buffer }).key !== undefined) return this.call(request, answer);
    if (request.op === 'STATS') return statusOf(async () => Buffer.from(JSON.stringify(await this.stats())));
    if (request.op === 'LIST') return statusOf(async () => (({ keys, truncated }) => encodeListBody(keys, truncated))(await this.list(request.prefix, request.limit)));
    if (!TO_EVERY_SERVER.has(request.op)) return this.call(request, answer);
    const { results } = await this.#everyServer((m) => m.call(request, answer));
    return results.find((r) => r.status !== Status.OK) ?? (results[0] as Exchanged);
  }

  /**
   * Closes every server's client gracefully.
   *
   * @example
   * ```ts
   * await pool.close();
   * ```
   */
  async close(): Promise<void> {
    this.#stop();
    await Promise.all(this.#members.map((m) => m.client.close()));
  }

  /**
   * Closes every server's client at once.
   *
   * @example
   * ```ts
   * pool.destroy();
   * ```
   */
  destroy(): void {
    this.#stop();
    for (const m of this.#members) m.client.destroy();
  }

  #stop(): void {
    this.#state = 'closed';
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
  }
}
