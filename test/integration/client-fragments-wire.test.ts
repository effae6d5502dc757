// ConduitClient's fragments on the wire (spec §2.4), checked by a fake
// protocol 1.1 server built from the protocol layer's own FragmentAssembler
// and fragmentFrames: every fragment of a request contiguous (the server's
// assembler finds no BAD_FRAGMENT), small requests pipelined around a large
// one keep their order, fragmented answers reassembled, an answer over the
// client's maxValueSize refused alone, broken fragments from the server
// close the connection.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConduitClient,
  encodeCapsBody,
  FragmentAssembler,
  fragmentCount,
  fragmentFrames,
  MAX_BODY_SIZE,
  MORE,
  Opcode,
  ProtocolError,
  Status,
  type Frame,
} from '../../src/index.js';
import { encodeHeader } from '../../src/protocol/header.js';
import { fakeServer, reply } from '../support/fake-server.js';

const MiB = 2 ** 20;
const clients: ConduitClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function patterned(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) out.writeUInt32BE(((i >>> 2) * 2654435761 + seed) >>> 0, i);
  return out;
}

/** Writes `body` as the answer to `id`: one frame, or fragments when it does not fit (spec §2.4). */
function answer(socket: Socket, id: bigint, status: number, body: Buffer, tamper?: (index: number, code: number) => number): void {
  if (body.length <= MAX_BODY_SIZE) return void socket.write(Buffer.concat([encodeHeader(0x81, status, body.length, id), body]));
  for (const f of fragmentFrames(status, [body], MAX_BODY_SIZE)) {
    socket.write(encodeHeader(0x81, tamper?.(f.index, f.code) ?? f.code, f.length, id));
    for (const part of f.body) socket.write(part);
  }
}

interface Fake {
  port: number;
  /** Fragments received per message identifier, and every BAD_FRAGMENT the server's assembler found. */
  fragments: Map<bigint, number>;
  broken: string[];
  /** The operations in the order the server ran them (key and value size). */
  ran: string[];
}

/** A protocol 1.1 server in plaintext: CAPS says fragments and `maxValueSize`; SET and GET over a Map. */
async function server11(maxValueSize = 8 * MiB, tamper?: (index: number, code: number) => number): Promise<Fake> {
  const fake: Fake = { port: 0, fragments: new Map(), broken: [], ran: [] };
  const store = new Map<string, Buffer>();
  const assemblers = new Map<Socket, FragmentAssembler>();
  const run = (socket: Socket, opcode: number, id: bigint, body: Buffer): void => {
    if (opcode === Opcode.CAPS) return answer(socket, id, Status.OK, encodeCapsBody({ minor: 1, features: 0x0f, maxValueSize }));
    if (opcode === Opcode.SET) {
      const keyLength = body[5] ?? 0;
      const key = body.subarray(6, 6 + keyLength).toString('latin1');
      store.set(key, Buffer.from(body.subarray(6 + keyLength)));
      fake.ran.push(`SET ${key} ${body.length - 6 - keyLength}`);
      return reply(socket, id);
    }
    const key = body.toString('latin1');
    fake.ran.push(`GET ${key}`);
    const value = store.get(key);
    return value === undefined ? reply(socket, id, '', Status.NOT_FOUND) : answer(socket, id, Status.OK, value, tamper);
  };
  fake.port = await fakeServer(
    (frame: Frame, socket) => {
      let assembler = assemblers.get(socket);
      if (assembler === undefined) assemblers.set(socket, (assembler = new FragmentAssembler(maxValueSize + 272)));
      const step = assembler.feed(frame.opcode, Number(frame.id >> 32n), Number(frame.id & 0xffff_ffffn), frame.body, 0, frame.length);
      if (frame.opcode & MORE || assembler.midMessage || step === 'message') fake.fragments.set(frame.id, (fake.fragments.get(frame.id) ?? 0) + 1);
      if (step instanceof ProtocolError) return void fake.broken.push(step.message);
      if (step === 'frame') return run(socket, frame.opcode, frame.id, frame.body);
      if (step === 'message') return run(socket, assembler.code, frame.id, assembler.message);
      if (step === 'refused') return reply(socket, frame.id, 'too large', Status.TOO_LARGE);
    },
    { caps: 'passthrough' },
  );
  return fake;
}

function client(port: number, options: ConstructorParameters<typeof ConduitClient>[0] = {}): ConduitClient {
  const c = new ConduitClient({ port, requestTimeoutMs: 30_000, ...options });
  clients.push(c);
  return c;
}

describe('ConduitClient fragments on the wire (spec §2.4)', () => {
  it('a 3 MiB SET goes as contiguous fragments between pipelined small requests, in order; the answer comes back whole', async () => {
    const fake = await server11();
    const c = client(fake.port);
    const big = patterned(3 * MiB);
    const results = await Promise.all([c.set('a', '1'), c.set('big', big), c.set('b', '2'), c.get('big'), c.getString('a')]);
    expect(results.slice(0, 3)).toEqual([true, true, true]);
    expect((results[3] as Buffer).equals(big)).toBe(true);
    expect(results[4]).toBe('1');
    expect(fake.broken).toEqual([]);
    expect(fake.ran).toEqual(['SET a 1', `SET big ${3 * MiB}`, 'SET b 1', 'GET big', 'GET a']);
    // CAPS is identifier 0, then a, then big: 3 MiB plus SET's fields and key in frames of 65,524.
    expect(fake.fragments.get(2n)).toBe(fragmentCount(3 * MiB + 6 + 3, MAX_BODY_SIZE));
  });

  it('an answer over the client\'s maxValueSize fails that GET alone with TOO_LARGE, unbuffered; the next request on the connection works', async () => {
    const fake = await server11();
    const writer = client(fake.port);
    expect(await writer.set('big', patterned(2 * MiB))).toBe(true);
    const c = client(fake.port, { maxValueSize: MiB });
    let connects = 0;
    c.on('connect', () => (connects += 1));
    const [big, small] = await Promise.allSettled([c.get('big'), c.set('small', 'x')]);
    expect(big).toMatchObject({ status: 'rejected', reason: { code: 'TOO_LARGE', message: `a response of ${2 * MiB} bytes exceeds the maxValueSize option (${MiB} bytes)` } });
    expect(small).toEqual({ status: 'fulfilled', value: true });
    expect(await c.getString('small')).toBe('x');
    expect(connects).toBe(1);
  });

  it('fragments from the server that break the rules (MORE on the last) close the connection with PROTOCOL_ERROR; the client reconnects', async () => {
    const fake = await server11(8 * MiB, (index, code) => (index === 2 ? code | MORE : code)); // a 3-fragment answer with MORE on the last
    const c = client(fake.port);
    expect(await c.set('big', patterned(2 * 65_524))).toBe(true);
    const err = await c.get('big').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROTOCOL_ERROR' });
    expect(await c.set('after', 'y')).toBe(true); // a new connection
  });

  it('CAPS is pipelined: a small request is written before its answer; a large one only after it, and what follows stays behind', async () => {
    const events: string[] = [];
    let capsId: bigint | undefined;
    const port = await fakeServer(
      (frame, socket) => {
        const label = frame.opcode === Opcode.CAPS ? 'CAPS' : `${(frame.opcode & ~MORE).toString(16)}${frame.opcode & MORE ? '+' : ''}`;
        events.push(`got ${label}`);
        if (frame.opcode === Opcode.CAPS) return void (capsId = frame.id); // held until the first SET is in
        if (capsId !== undefined) {
          events.push('answered CAPS');
          answer(socket, capsId, Status.OK, encodeCapsBody({ minor: 1, features: 0x0f, maxValueSize: MiB }));
          capsId = undefined;
        }
        if (!(frame.opcode & MORE)) reply(socket, frame.id);
      },
      { caps: 'passthrough' },
    );
    const c = client(port);
    expect(await Promise.all([c.set('a', '1'), c.set('big', patterned(70_000)), c.set('b', '2')])).toEqual([true, true, true]);
    const set = Opcode.SET.toString(16);
    expect(events).toEqual(['got CAPS', `got ${set}`, 'answered CAPS', `got ${set}+`, `got ${set}`, `got ${set}`]);
  });
});

