/**
 * TOPOLOGY's answer body and MOVED's body (spec §3.14, protocol 1.2): which
 * server of a group owns which of the 16,384 slots, and the redirect a
 * server sends for a key it does not own. Beside `messages.ts`, as CAPS's
 * and SCAN's bodies are.
 *
 * TOPOLOGY OK body: `scheme u8` (1), `self u8` (the answering server's index
 * in the list, 0xFF when it is not in a group), `epoch u32`, `node_count u8`,
 * then per server `name_len u8` and its name (UTF-8, `host:port` or a Unix
 * socket path), then, when `node_count` > 0, the table: 16,384 bytes, entry
 * `s` the index of slot `s`'s owner. MOVED body: `slot u16`, `node u8`,
 * `epoch u32`, then the owner's name (UTF-8, the rest).
 *
 * @example
 * ```ts
 * const topology = decodeTopologyBody(frame.body);
 * if (!(topology instanceof ProtocolError) && topology.self !== STANDALONE) route(topology);
 * ```
 * @module
 */
import { ConduitError, type ProtocolError } from './errors.js';
import { badRequest } from './request-reader.js';
import { MAX_NODES, SLOT_COUNT } from './slots.js';

/** spec §3.14: the slot scheme of protocol 1.2, CRC16 mod 16,384 with rendezvous-assigned owners. */
export const SLOT_SCHEME = 1;

/** spec §3.14: `self` of a server that is not in a group: it owns every key and never answers MOVED. */
export const STANDALONE = 0xff;

/** spec §3.14: the longest server name. */
export const MAX_NODE_NAME = 255;

/** A group's map (spec §3.14), or a standalone server's (no nodes, no table). */
export interface Topology {
  /** {@link SLOT_SCHEME}. */
  readonly scheme: number;
  /** The answering server's index in `nodes`, or {@link STANDALONE}. */
  readonly self: number;
  /** Changes whenever the list of servers changes; a MOVED from another epoch means the map is stale. */
  readonly epoch: number;
  /** The servers' names: `host:port` (IPv6 in brackets) or a Unix socket path. Empty when standalone. */
  readonly nodes: readonly string[];
  /** {@link SLOT_COUNT} entries, each an index into `nodes`; empty when standalone. */
  readonly table: Uint8Array;
}

/** A MOVED answer's body (spec §3.14): the key's slot and its owner. */
export interface Moved {
  readonly slot: number;
  /** The owner's index in the group's list. */
  readonly node: number;
  readonly epoch: number;
  /** The owner's name. */
  readonly name: string;
}

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/**
 * Encodes TOPOLOGY's OK body (spec §3.14).
 *
 * @throws ConduitError `BAD_REQUEST` for a map that breaks §3.14.
 * @example
 * ```ts
 * const nodes = ['127.0.0.1:7171', '127.0.0.1:7172'];
 * encodeTopologyBody({ scheme: SLOT_SCHEME, self: 0, epoch: 1, nodes, table: assignSlots(nodes) });
 * ```
 */
export function encodeTopologyBody(topology: Topology): Buffer {
  const { self, epoch, nodes, table } = topology;
  const fail = (why: string): never => {
    throw new ConduitError('BAD_REQUEST', `a topology ${why}`);
  };
  if (topology.scheme !== SLOT_SCHEME) fail(`scheme must be ${SLOT_SCHEME}, got ${topology.scheme}`);
  if (!isU32(epoch)) fail(`epoch must be a u32, got ${epoch}`);
  if (nodes.length > MAX_NODES) fail(`names at most ${MAX_NODES} servers, got ${nodes.length}`);
  if (nodes.length === 0 ? self !== STANDALONE || table.length !== 0 : !(self < nodes.length)) {
    fail(`self ${self} does not fit ${nodes.length} servers`);
  }
  if (nodes.length > 0 && table.length !== SLOT_COUNT) fail(`table has ${SLOT_COUNT} entries, got ${table.length}`);
  if (table.some((owner) => owner >= nodes.length)) fail('table names a server that is not in the list');
  const names = nodes.map((name) => Buffer.from(name, 'utf8'));
  if (names.some((name) => name.length === 0 || name.length > MAX_NODE_NAME)) fail(`name is 1–${MAX_NODE_NAME} bytes`);
  const out = Buffer.alloc(7 + names.reduce((sum, name) => sum + 1 + name.length, 0) + table.length);
  out[0] = SLOT_SCHEME;
  out[1] = self;
  out.writeUInt32BE(epoch, 2);
  out[6] = nodes.length;
  let at = 7;
  for (const name of names) {
    out[at] = name.length;
    name.copy(out, at + 1);
    at += 1 + name.length;
  }
  out.set(table, at);
  return out;
}

/**
 * Decodes TOPOLOGY's OK body, or returns a `BAD_REQUEST` error when it
 * breaks §3.14 (a client then treats the answer as a protocol violation).
 *
 * @example
 * ```ts
 * const topology = decodeTopologyBody(frame.body);
 * ```
 */
export function decodeTopologyBody(body: Buffer): Topology | ProtocolError {
  if (body.length < 7) return badRequest(`a TOPOLOGY body is at least 7 bytes, got ${body.length}`);
  const scheme = body[0] as number;
  if (scheme !== SLOT_SCHEME) return badRequest(`unknown slot scheme ${scheme}`);
  const self = body[1] as number;
  const epoch = body.readUInt32BE(2);
  const count = body[6] as number;
  if (count > MAX_NODES) return badRequest(`a topology names at most ${MAX_NODES} servers, got ${count}`);
  if (count === 0) {
    if (self !== STANDALONE || body.length !== 7) return badRequest('a topology with no servers is a standalone server’s 7 bytes');
    return { scheme, self, epoch, nodes: [], table: new Uint8Array(0) };
  }
  // spec §3.14: self is 0xFF exactly when the list is empty (a standalone server).
  if (self === STANDALONE || self >= count) return badRequest(`self ${self} is not one of ${count} servers`);
  const nodes: string[] = [];
  let at = 7;
  for (let i = 0; i < count; i++) {
    const length = body[at];
    if (length === undefined || length === 0 || at + 1 + length > body.length) return badRequest(`server name ${i} is cut or empty`);
    nodes.push(body.toString('utf8', at + 1, at + 1 + length));
    at += 1 + length;
  }
  if (body.length - at !== SLOT_COUNT) return badRequest(`a topology table is ${SLOT_COUNT} bytes, got ${body.length - at}`);
  const table = new Uint8Array(body.subarray(at));
  for (const owner of table) if (owner >= count) return badRequest(`the table names server ${owner} of ${count}`);
  return { scheme, self, epoch, nodes, table };
}

/**
 * Encodes MOVED's body (spec §3.14).
 *
 * @example
 * ```ts
 * encodeMovedBody({ slot: 12182, node: 1, epoch: 1, name: '127.0.0.1:7172' });
 * ```
 */
export function encodeMovedBody(moved: Moved): Buffer {
  const name = Buffer.from(moved.name, 'utf8');
  const out = Buffer.alloc(7 + name.length);
  out.writeUInt16BE(moved.slot, 0);
  out[2] = moved.node;
  out.writeUInt32BE(moved.epoch, 3);
  name.copy(out, 7);
  return out;
}

/**
 * Decodes MOVED's body, or returns a `BAD_REQUEST` error when it is shorter
 * than 8 bytes or names a slot past 16,383. MOVED is the one error status whose
 * body programs read (spec §3.14, §4).
 *
 * @example
 * ```ts
 * const moved = decodeMovedBody(frame.body);
 * ```
 */
export function decodeMovedBody(body: Buffer): Moved | ProtocolError {
  if (body.length < 8) return badRequest(`a MOVED body is at least 8 bytes, got ${body.length}`);
  const slot = body.readUInt16BE(0);
  if (slot >= SLOT_COUNT) return badRequest(`slot ${slot} is past ${SLOT_COUNT - 1}`);
  return { slot, node: body[2] as number, epoch: body.readUInt32BE(3), name: body.toString('utf8', 7) };
}
