import type { Socket } from 'node:net';
import { encodeInvalidateBodies, encodeResponse, INVALIDATE_ALL_BODY, parseRequest, SERVER_ID_BASE, Status, type Frame, type Request } from '../../src/index.js';
import { fakeServer } from './fake-server.js';

/**
 * A fake protocol 1.3 server on a raw socket for the near cache's ordering tests (issue 21): it
 * acknowledges TRACKING (or answers it UNKNOWN_OPCODE, as a 1.2 server does), keeps SET values
 * in a map and answers GET from it, and lets the test decide when each answer and each INVALIDATE
 * push (spec §3.15) is written. `hold` keeps the answers to the requests it matches until the test
 * calls `release`, so a push can be put between, before or after them in one chunk.
 */
export interface TrackingFake {
  readonly port: number;
  /** The sockets connected, newest last. */
  readonly sockets: Socket[];
  /** Every request received (CAPS included), in order. */
  readonly requests: Request[];
  readonly values: Map<string, Buffer>;
  /** The encoded answers held back (see `hold`), in order. */
  readonly held: Buffer[][];
  /** Answers to requests this matches are held, not written. */
  hold: (request: Request) => boolean;
  /** The bytes of an INVALIDATE push of `keys` (or ALL) with the next server-originated identifier. */
  push(keys: readonly string[] | 'all'): Buffer;
  /** Writes the held answers, with `between` (e.g. pushes) inserted at `at`, in one write. */
  release(between?: Buffer[], at?: number): void;
}

export async function trackingFake(options: { tracking?: boolean } = {}): Promise<TrackingFake> {
  let nextPush = SERVER_ID_BASE;
  const fake: TrackingFake = {
    port: 0,
    sockets: [],
    requests: [],
    values: new Map(),
    held: [],
    hold: () => false,
    push(keys) {
      const id = nextPush;
      nextPush += 1n;
      const body = keys === 'all' ? INVALIDATE_ALL_BODY : (encodeInvalidateBodies(keys.map((k) => Buffer.from(k)))[0] as Buffer);
      return Buffer.concat(encodeResponse(id, Status.INVALIDATE, body));
    },
    release(between = [], at = fake.held.length) {
      const parts: Buffer[] = fake.held.splice(0).map((answer) => Buffer.concat(answer));
      parts.splice(at, 0, ...between);
      fake.sockets.at(-1)?.write(Buffer.concat(parts));
    },
  };
  const answer = (frame: Frame, request: Request): Buffer[] => {
    switch (request.op) {
      case 'CAPS':
        return encodeResponse(frame.id, Status.UNKNOWN_OPCODE, Buffer.from('unknown opcode')); // as fake-server.ts's 1.0 server
      case 'TRACKING':
        return options.tracking === false ? encodeResponse(frame.id, Status.UNKNOWN_OPCODE, Buffer.from('unknown opcode')) : encodeResponse(frame.id, Status.OK);
      case 'GET': {
        const value = fake.values.get(request.key.toString('latin1'));
        return value === undefined ? encodeResponse(frame.id, Status.NOT_FOUND) : encodeResponse(frame.id, Status.OK, value);
      }
      case 'SET':
        fake.values.set(request.key.toString('latin1'), Buffer.from(request.value));
        return encodeResponse(frame.id, Status.OK);
      case 'DELETE':
        return encodeResponse(frame.id, fake.values.delete(request.key.toString('latin1')) ? Status.OK : Status.NOT_FOUND);
      default:
        return encodeResponse(frame.id, Status.OK);
    }
  };
  const port = await fakeServer((frame, socket) => {
    if (!fake.sockets.includes(socket)) fake.sockets.push(socket);
    const request = parseRequest(frame);
    if (!('op' in request)) return void socket.destroy();
    fake.requests.push(request);
    const bytes = answer(frame, request);
    if (fake.hold(request)) fake.held.push(bytes);
    else socket.write(Buffer.concat(bytes));
  }, { caps: 'passthrough' });
  (fake as { port: number }).port = port;
  return fake;
}

