import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeCapsBody,
  decodeI64,
  decodeListBody,
  decodeScanBody,
  encodeRequest,
  encodeResponse,
  Opcode,
  parseRequest,
  ProtocolError,
  Status,
  type Frame,
} from '../../src/index.js';
import { assignSlots, nodeSeed, SLOT_COUNT, slotOf, slotWeight } from '../../src/protocol/slots.js';
import { decodeMovedBody, decodeTopologyBody, SLOT_SCHEME } from '../../src/protocol/topology-body.js';
import { decodeInvalidateBody } from '../../src/protocol/tracking-body.js';
import { decodeLeaseAnswer } from '../../src/protocol/lease-body.js';
import { chunkings, decode } from '../support/chunking.js';
import { requestOf, specPath, vectors } from '../support/vectors.js';

const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

describe('spec/vectors-v1.json', () => {
  it('is protocol 1.0 and every vector appears in spec/conduit-v1.md', () => {
    expect(vectors.protocol).toBe('1.0');
    const spec = readFileSync(specPath, 'utf8');
    for (const v of [...vectors.requests, ...vectors.responses, ...vectors.malformed]) {
      expect(spec, v.name).toContain(`\`${v.hex}\``);
    }
  });

  it('covers every opcode and every status', () => {
    const ops = new Set(vectors.requests.map((v) => v.header.opcode));
    for (const [name, value] of Object.entries(Opcode)) {
      if (name !== 'HELLO') expect(ops.has(value), name).toBe(true);
    }
    const statuses = new Set(vectors.responses.map((v) => v.status));
    for (const name of Object.keys(Status)) expect(statuses.has(name), name).toBe(true);
  });
});

describe('request vectors', () => {
  for (const v of vectors.requests) {
    describe(v.name, () => {
      it('encodes to the exact bytes', () => {
        expect(Buffer.concat(encodeRequest(BigInt(v.header.id), requestOf(v))).toString('hex')).toBe(v.hex);
      });
      it('decodes to its header and request, fed whole, byte by byte and at every split', () => {
        for (const { name, chunks } of chunkings(bytes(v.hex))) {
          const { frames, error, endError } = decode(chunks, 'request');
          expect(error, name).toBeUndefined();
          expect(endError, name).toBeUndefined();
          expect(frames, name).toHaveLength(1);
          const frame = frames[0] as Frame;
          expect({ ...frame, id: String(frame.id), body: undefined }, name).toEqual({ ...v.header, body: undefined });
          expect(parseRequest(frame), name).toEqual(requestOf(v));
        }
      });
    });
  }
});

describe('response vectors', () => {
  for (const v of vectors.responses) {
    describe(v.name, () => {
      it('encodes to the exact bytes', () => {
        const status = Status[v.status as keyof typeof Status];
        expect(Buffer.concat(encodeResponse(BigInt(v.header.id), status, bytes(v.body))).toString('hex')).toBe(v.hex);
      });
      it('decodes fed whole, byte by byte and at every split', () => {
        for (const { name, chunks } of chunkings(bytes(v.hex))) {
          const { frames, error } = decode(chunks, 'response');
          expect(error, name).toBeUndefined();
          expect(frames.map((f) => [f.opcode, String(f.id), f.body.toString('hex')]), name).toEqual([
            [v.header.opcode, v.header.id, v.body],
          ]);
        }
      });
      if (v.meaning?.list) {
        it('has the LIST body it describes', () => {
          const list = decodeListBody(bytes(v.body));
          expect(list).not.toBeInstanceOf(ProtocolError);
          if (list instanceof ProtocolError) return;
          expect({ truncated: list.truncated, keys: list.keys.map((k) => k.toString('hex')) }).toEqual(v.meaning?.list);
        });
      }
      if (v.meaning?.scan) {
        it('has the SCAN body it describes', () => {
          const page = decodeScanBody(bytes(v.body));
          expect(page).not.toBeInstanceOf(ProtocolError);
          if (page instanceof ProtocolError) return;
          expect({ cursor: String(page.cursor), keys: page.keys.map((k) => k.toString('hex')) }).toEqual(v.meaning?.scan);
        });
      }
      if (v.meaning?.caps) {
        it('has the CAPS body it describes', () => {
          expect(decodeCapsBody(bytes(v.body))).toEqual(v.meaning?.caps);
        });
      }
      if (v.meaning?.topology) {
        it('has the TOPOLOGY body it describes, its table assignSlots(nodes) (spec §3.14)', () => {
          const { self, epoch, nodes } = v.meaning?.topology ?? { self: 0, epoch: 0, nodes: [] };
          const table = nodes.length === 0 ? new Uint8Array(0) : assignSlots(nodes);
          expect(decodeTopologyBody(bytes(v.body))).toEqual({ scheme: SLOT_SCHEME, self, epoch, nodes, table });
        });
      }
      if (v.meaning?.moved) {
        it('has the MOVED body it describes (spec §3.14)', () => {
          expect(decodeMovedBody(bytes(v.body))).toEqual(v.meaning?.moved);
        });
      }
      if (v.meaning?.invalidate !== undefined) {
        it('has the INVALIDATE body it describes (spec §3.15)', () => {
          const keys = decodeInvalidateBody(bytes(v.body));
          expect(keys === 'all' || keys instanceof ProtocolError ? keys : keys.map((k) => k.toString('hex'))).toEqual(v.meaning?.invalidate);
          expect(BigInt(v.header.id) >= 1n << 63n, 'a push carries a server-originated identifier').toBe(true);
        });
      }
      if (v.meaning?.lease !== undefined) {
        it('has the LEASE answer it describes (spec §3.16)', () => {
          const answer = decodeLeaseAnswer(bytes(v.body));
          expect(answer).not.toBeInstanceOf(ProtocolError);
          if (answer instanceof ProtocolError) return;
          expect({ state: answer.state, token: String(answer.token), value: answer.value.toString('hex') }).toEqual(v.meaning?.lease);
        });
      }
      if (v.meaning?.i64 !== undefined) {
        it('has the i64 body it describes', () => {
          expect(decodeI64(bytes(v.body))).toBe(BigInt(v.meaning?.i64 ?? 'x'));
        });
      }
    });
  }
});

describe('malformed vectors', () => {
  for (const v of vectors.malformed) {
    it(`${v.name}: ${v.error.code} (${v.stage}), fed whole, byte by byte and at every split`, () => {
      for (const { name, chunks } of chunkings(bytes(v.hex))) {
        const { frames, error, endError } = decode(chunks, v.direction);
        if (v.stage === 'decode') {
          expect(frames, name).toHaveLength(v.framesBefore);
          expect(error?.code, name).toBe(v.error.code);
          expect(error?.status, name).toBe(v.error.status);
          expect(error?.fatal, name).toBe(true);
          expect(endError, name).toBeUndefined();
        } else if (v.stage === 'end') {
          expect(frames, name).toHaveLength(v.framesBefore);
          expect(error, name).toBeUndefined();
          expect(endError?.code, name).toBe(v.error.code);
          expect(endError?.status, name).toBeUndefined();
        } else {
          expect(error, name).toBeUndefined();
          expect(frames, name).toHaveLength(1);
          const parsed = parseRequest(frames[0] as Frame);
          expect(parsed, name).toBeInstanceOf(ProtocolError);
          if (!(parsed instanceof ProtocolError)) return;
          expect([parsed.code, parsed.status, parsed.fatal], name).toEqual([v.error.code, v.error.status, v.error.fatal]);
        }
      }
    });
  }
});

describe('slot vectors (spec §3.14, §9.5, protocol 1.2)', () => {
  const { keys, rendezvous } = vectors.slots;

  it('every key hashes to its slot, as Redis CLUSTER KEYSLOT', () => {
    expect(keys.length).toBeGreaterThan(5);
    for (const k of keys) {
      expect(slotOf(bytes(k.key)), k.text ?? k.key).toBe(k.slot);
      if (k.text !== undefined) expect(Buffer.from(k.text, 'utf8').toString('hex')).toBe(k.key);
    }
    expect(keys.find((k) => k.text === 'foo')?.slot).toBe(12182);
  });

  it('every set of names gives its seeds, weights, owners and counts, in any order', () => {
    for (const r of rendezvous) {
      const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
      r.seeds?.forEach((seed, i) => expect(hex8(nodeSeed(r.names[i] as string))).toBe(seed));
      for (const w of r.weights ?? []) {
        expect(w.weights).toEqual(r.names.map((name) => hex8(slotWeight(nodeSeed(name), w.slot))));
      }
      for (const names of [r.names, [...r.names].reverse()]) {
        const table = assignSlots(names);
        for (const [slot, owner] of Object.entries(r.owners)) expect(names[table[Number(slot)] as number]).toBe(owner);
        const counts = Object.fromEntries(names.map((name, i) => [name, table.filter((o) => o === i).length]));
        expect(counts).toEqual(r.counts);
      }
      expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(SLOT_COUNT);
    }
  });
});
