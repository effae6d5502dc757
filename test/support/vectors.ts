import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrameDecoder, ProtocolError, type Frame, type Request } from '../../src/index.js';
import type { RawFrame } from '../../src/protocol/header.js';

/** Paths of the normative spec files the tests read. */
export const specPath = fileURLToPath(new URL('../../spec/conduit-v1.md', import.meta.url));
export const vectorsPath = fileURLToPath(new URL('../../spec/vectors-v1.json', import.meta.url));

interface HeaderVector {
  version: number;
  opcode: number;
  length: number;
  id: string;
}

export interface RequestVector {
  name: string;
  direction: 'request';
  hex: string;
  header: HeaderVector;
  request: Record<string, string | number | boolean>;
}

export interface ResponseVector {
  name: string;
  direction: 'response';
  hex: string;
  header: HeaderVector;
  status: string;
  body: string;
  meaning?: {
    list?: { truncated: boolean; keys: string[] };
    scan?: { cursor: string; keys: string[] };
    i64?: string;
    caps?: { minor: number; features: number; maxValueSize: number };
    /** spec §3.14 (1.2): a TOPOLOGY body; its table is checked against `assignSlots(nodes)`. */
    topology?: { self: number; epoch: number; nodes: string[] };
    moved?: { slot: number; node: number; epoch: number; name: string };
    /** spec §3.15 (1.3): an INVALIDATE push's keys in hex, or `'all'`. */
    invalidate?: string[] | 'all';
    /** spec §3.16 (1.3): a LEASE answer. */
    lease?: { state: number; token: string; value: string };
  };
}

export interface MalformedVector {
  name: string;
  direction: 'request' | 'response';
  hex: string;
  stage: 'decode' | 'parse' | 'end';
  framesBefore: number;
  error: { code: string; status: number | null; fatal: boolean };
}

/** spec §3.14, §9.5 (1.2): slots of keys, and owners of slots by rendezvous over a set of names. */
export interface SlotVectors {
  keys: { text?: string; key: string; slot: number }[];
  rendezvous: {
    names: string[];
    seeds?: string[];
    weights?: { slot: number; weights: string[] }[];
    owners: Record<string, string>;
    counts: Record<string, number>;
  }[];
}

export interface Vectors {
  protocol: string;
  requests: RequestVector[];
  responses: ResponseVector[];
  malformed: MalformedVector[];
  slots: SlotVectors;
}

export const vectors: Vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as Vectors;

const hex = (value: string | number | boolean | undefined): Buffer => Buffer.from(String(value ?? ''), 'hex');

/** spec §2.5: a quiet write's vector says `quiet: true`; the request then carries it, else not at all. */
const quiet = (r: Record<string, string | number | boolean>): { quiet?: true } => (r.quiet === true ? { quiet: true } : {});

/** The {@link Request} a vector's JSON describes. */
export function requestOf(vector: RequestVector): Request {
  const r = vector.request;
  switch (r.op) {
    case 'GET':
    case 'GETS':
    case 'TTL':
      return { op: r.op, key: hex(r.key) };
    case 'DELETE':
      return { op: 'DELETE', key: hex(r.key), ...quiet(r) };
    case 'SET':
      return {
        ...(r.version === undefined ? {} : { version: BigInt(String(r.version)) }),
        ...(r.leaseToken === undefined ? {} : { leaseToken: BigInt(String(r.leaseToken)) }),
        ...quiet(r),
        op: 'SET',
        key: hex(r.key),
        value: hex(r.value),
        ttlMs: Number(r.ttlMs),
        nx: r.nx === true,
        xx: r.xx === true,
        keepTtl: r.keepTtl === true,
      };
    case 'LIST':
      return { op: 'LIST', limit: Number(r.limit), prefix: hex(r.prefix) };
    case 'SCAN':
      return { op: 'SCAN', cursor: BigInt(String(r.cursor)), count: Number(r.count), prefix: hex(r.prefix) };
    case 'RENEW':
      return { op: 'RENEW', ttlMs: Number(r.ttlMs), key: hex(r.key), ...quiet(r) };
    case 'GAT':
      return { op: 'GAT', ttlMs: Number(r.ttlMs), key: hex(r.key) };
    case 'INCR':
      return { op: 'INCR', delta: BigInt(String(r.delta)), ttlMs: Number(r.ttlMs), key: hex(r.key) };
    case 'CAPS':
      return { op: 'CAPS', features: Number(r.features) };
    case 'TRACKING':
      // spec §3.15: prefixes in hex, comma-separated (an empty one is the empty prefix).
      return r.prefixes === undefined
        ? { op: 'TRACKING', mode: Number(r.mode) as 0 | 1 }
        : { op: 'TRACKING', mode: 2, prefixes: String(r.prefixes).split(',').map((p) => Buffer.from(p, 'hex')) };
    case 'LEASE':
      return { op: 'LEASE', key: hex(r.key), leaseMs: Number(r.leaseMs), staleOk: r.staleOk === true };
    case 'HEALTH':
    case 'SHUTDOWN':
    case 'STATS':
    case 'FLUSH':
    case 'TOPOLOGY':
    case 'RELOAD':
      return { op: r.op };
    default:
      throw new Error(`vector ${vector.name}: unknown op ${String(r.op)}`);
  }
}

/** The one whole frame `bytes` hold, decoded for `direction`; throws when they hold none. */
export function decodeOne(bytes: Buffer, direction: 'request' | 'response'): Frame {
  const decoder = new FrameDecoder({ direction });
  decoder.push(bytes);
  const frame = decoder.read();
  if (frame === undefined || frame instanceof ProtocolError) throw new Error('not a frame');
  return frame;
}

/**
 * The one whole frame `bytes` hold, as the decoder's refilled {@link RawFrame}
 * (the server's path: its body by position, opened in place in secure mode).
 */
export function takeOne(bytes: Buffer, direction: 'request' | 'response'): RawFrame {
  const decoder = new FrameDecoder({ direction });
  decoder.push(bytes);
  const frame = decoder.take();
  if (frame === undefined || frame instanceof ProtocolError) throw new Error('not a frame');
  return frame;
}
