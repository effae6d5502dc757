import { Redis as IORedis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { redisCli } from './redis.js';
import { decodeReply, RespWire, type RespValue } from './resp-wire.js';

/**
 * The clients of the RESP comparison (test/integration/resp-compat.test.ts):
 * each runs a list of commands against one server and turns the replies into
 * one string, so the same commands through the same client against Conduit's
 * RESP port and against redis-server can be compared for equality (value,
 * type, error text). Every client keeps what the wire told it apart: a bulk
 * string from a simple string, an integer from a bulk, an error's whole text.
 */

/** One command: its name and arguments. */
export type Cmd = readonly (string | Buffer)[];

/** The client kinds; `raw` and `raw3` are bare sockets (exact bytes), RESP2 and after `HELLO 3`. */
export const CLIENTS = ['raw', 'raw3', 'ioredis', 'ioredis3', 'node-redis', 'node-redis3', 'redis-cli', 'redis-cli3'] as const;
export type ClientKind = (typeof CLIENTS)[number];

/** How one row's replies are shaped for comparing. */
export interface Shape {
  /** Sort every array (and redis-cli's numbered lines): for KEYS, whose order is the server's own. */
  readonly sort?: boolean;
  /** Regexes whose matches are replaced by `…` in the reply text before comparing (ids, versions). */
  readonly mask?: readonly RegExp[];
}

/** A client connected to one server. */
export interface Runner {
  readonly kind: ClientKind;
  /** Runs `cmds` in order, resolving with one string per command (redis-cli: one string for all). */
  run(cmds: readonly Cmd[], shape: Shape): Promise<string[]>;
  close(): Promise<void>;
}

/** A plain-JSON form of a client library's reply, keeping types apart. */
export function libValue(x: unknown): unknown {
  if (x instanceof Error) return { err: x.message };
  if (Buffer.isBuffer(x)) return { bulk: x.toString('latin1') };
  if (typeof x === 'string') return { str: x };
  if (typeof x === 'number' || typeof x === 'bigint') return { int: String(x) };
  if (typeof x === 'boolean') return { bool: x };
  if (x === null || x === undefined) return null;
  if (Array.isArray(x)) return x.map(libValue);
  if (x instanceof Map) return { map: [...x.entries()].map(([k, v]) => [libValue(k), libValue(v)]) };
  if (x instanceof Set) return { set: [...x].map(libValue) };
  if (typeof x === 'object') return { map: Object.entries(x).map(([k, v]) => [k, libValue(v)]) };
  return { other: String(x) };
}

/** A RESP tree as plain JSON (for sorting and masking a raw reply). */
export function wireValue(v: RespValue): unknown {
  if (v.value === null) return { [v.type]: null };
  if (Buffer.isBuffer(v.value)) return { [v.type]: v.value.toString('latin1') };
  if (Array.isArray(v.value)) return { [v.type]: v.value.map(wireValue) };
  return { [v.type]: String(v.value) };
}

function sortDeep(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortDeep).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, sortDeep(v)]));
  return x;
}

function masked(text: string, shape: Shape): string {
  let t = text;
  for (const re of shape.mask ?? []) t = t.replace(re, '…');
  return t;
}

/** `value` as the compared string: sorted and masked per the row's shape. */
export function shaped(value: unknown, shape: Shape): string {
  return masked(JSON.stringify(shape.sort === true ? sortDeep(value) : value), shape);
}

/**
 * True when `a` and `b` are equal but for integers that differ by at most
 * `tolerance` (TTLs read a few milliseconds apart on two servers).
 *
 * @example
 * ```ts
 * closeEnough('(integer) 99', '(integer) 100', 1); // true
 * ```
 */
export function closeEnough(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (tolerance === 0) return false;
  const ta = a.split(/(-?\d+)/);
  const tb = b.split(/(-?\d+)/);
  if (ta.length !== tb.length) return false;
  return ta.every((x, i) => {
    const y = tb[i] ?? '';
    if (i % 2 === 0) return x === y;
    return Math.abs(Number(x) - Number(y)) <= tolerance;
  });
}

/** redis-cli's quoting of one argument on a stdin line: double quotes, `\xNN` for anything not printable. */
export function cliQuote(arg: string | Buffer): string {
  const b = typeof arg === 'string' ? Buffer.from(arg) : arg;
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}"`;
}

class RawRunner implements Runner {
  constructor(readonly kind: ClientKind, readonly wire: RespWire) {}
  async run(cmds: readonly Cmd[], shape: Shape): Promise<string[]> {
    const out: string[] = [];
    for (const cmd of cmds) {
      const reply = await this.wire.command(cmd);
      // Exact bytes, unless the row needs sorting or masking (then the decoded tree, types kept).
      out.push(shape.sort === true || shape.mask !== undefined ? shaped(wireValue(decodeReply(reply)), shape) : reply.toString('latin1'));
    }
    return out;
  }
  async close(): Promise<void> {
    this.wire.destroy();
  }
}

class IoRunner implements Runner {
  constructor(readonly kind: ClientKind, readonly client: IORedis) {}
  async run(cmds: readonly Cmd[], shape: Shape): Promise<string[]> {
    const out: string[] = [];
    for (const [name, ...args] of cmds) {
      const reply: unknown = await this.client.callBuffer(String(name), ...args).catch((e: unknown) => e);
      out.push(shaped(libValue(reply), shape));
    }
    return out;
  }
  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** What the runner uses of a node-redis client (its full type depends on the modules and RESP version). */
interface NodeRedis {
  withTypeMapping(mapping: Record<number, unknown>): unknown;
  destroy(): void;
}

class NodeRedisRunner implements Runner {
  readonly #typed: { sendCommand(args: (string | Buffer)[]): Promise<unknown> };
  constructor(readonly kind: ClientKind, readonly client: NodeRedis) {
    // Bulk strings as Buffers: binary values survive, and stay apart from simple strings.
    this.#typed = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as { sendCommand(args: (string | Buffer)[]): Promise<unknown> };
  }
  async run(cmds: readonly Cmd[], shape: Shape): Promise<string[]> {
    const out: string[] = [];
    for (const cmd of cmds) {
      const reply: unknown = await this.#typed.sendCommand([...cmd]).catch((e: unknown) => e);
      out.push(shaped(libValue(reply), shape));
    }
    return out;
  }
  async close(): Promise<void> {
    this.client.destroy();
  }
}

class CliRunner implements Runner {
  constructor(readonly kind: ClientKind, readonly port: number) {}
  async run(cmds: readonly Cmd[], shape: Shape): Promise<string[]> {
    const input = cmds.map((c) => c.map(cliQuote).join(' ')).join('\n');
    const args = this.kind === 'redis-cli3' ? ['-3', '--no-raw'] : ['--no-raw'];
    const { stdout, stderr, code } = await redisCli(this.port, args, `${input}\n`);
    // redis-cli adds a latency line such as "(0.62s)" after a reply that took over half a second
    // (a loaded machine): timing, not a reply, so it is not compared.
    const replies = stdout.replace(/^\(\d+\.\d+s\)\n/gm, '');
    let text = `${replies}${stderr === '' ? '' : `\nstderr: ${stderr}`}${code === 0 ? '' : `\nexit ${code}`}`;
    if (shape.sort === true) {
      text = text.split('\n').map((l) => l.replace(/^\s*\d+\) /, '')).sort().join('\n');
    }
    return [masked(text, shape)];
  }
  async close(): Promise<void> {}
}

/**
 * Connects a client of `kind` to 127.0.0.1:`port`.
 *
 * @example
 * ```ts
 * const runner = await connectRunner('ioredis', port);
 * const [reply] = await runner.run([['GET', 'k']], {});
 * ```
 */
export async function connectRunner(kind: ClientKind, port: number): Promise<Runner> {
  switch (kind) {
    case 'raw':
      return new RawRunner(kind, await RespWire.connect(port));
    case 'raw3': {
      const wire = await RespWire.connect(port);
      await wire.command(['HELLO', '3']);
      return new RawRunner(kind, wire);
    }
    case 'ioredis':
    case 'ioredis3': {
      const client = new IORedis({
        host: '127.0.0.1', port, protocol: kind === 'ioredis3' ? 3 : 2, lazyConnect: true,
        maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
      });
      client.on('error', () => {});
      await client.connect();
      return new IoRunner(kind, client);
    }
    case 'node-redis':
    case 'node-redis3': {
      const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP: kind === 'node-redis3' ? 3 : 2 });
      client.on('error', () => {});
      await client.connect();
      return new NodeRedisRunner(kind, client as unknown as NodeRedis);
    }
    case 'redis-cli':
    case 'redis-cli3':
      return new CliRunner(kind, port);
  }
}
