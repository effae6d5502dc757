// A protocol 1.0 client that shares no code with src/ (issue 19: "a 1.0 client, the old codec
// against the new server"): it frames the requests spec/conduit-v1.md defined in 1.0 (opcodes
// 0x00–0x0A, SET flags NX, XX, KEEPTTL), knows only the 1.0 statuses, and refuses any answer a
// 1.0 codec could not read: another version byte, a status outside 1.0's table (§4: EXISTS is
// 1.1), a top bit in the status byte (1.0 leaves 0x80–0xFF unassigned), a body over §2.1's
// 65,524 bytes, an identifier other than its oldest outstanding request's (§2.3).
import { connect, type Socket } from 'node:net';

/** The 1.0 opcodes (spec §3 as of the first 1.0 change-log entry). */
export const OP10 = { GET: 0x00, SET: 0x01, DELETE: 0x02, LIST: 0x03, RENEW: 0x04, HEALTH: 0x05, SHUTDOWN: 0x06, STATS: 0x07, INCR: 0x08, TTL: 0x09, FLUSH: 0x0a } as const;

/** The 1.0 statuses (spec §4 without the 1.1 rows). */
export const STATUS10: Record<number, string> = {
  0x00: 'OK', 0x01: 'NOT_FOUND', 0x02: 'NOT_STORED',
  0x40: 'BAD_REQUEST', 0x41: 'UNKNOWN_OPCODE', 0x42: 'NOT_INTEGER', 0x43: 'TOO_LARGE', 0x44: 'FORBIDDEN', 0x45: 'BUSY', 0x46: 'OUT_OF_MEMORY',
  0x60: 'FRAME_TOO_LARGE', 0x61: 'BAD_VERSION', 0x62: 'AUTH_REQUIRED', 0x63: 'AUTH_FAILED', 0x64: 'REPLAY', 0x7f: 'INTERNAL',
};

/** The 1.0 SET flag bits (spec §3.3); any other bit is not 1.0. */
export const SET_FLAGS_10 = 0x01 | 0x02 | 0x04;

/** One answer as a 1.0 codec reads it. */
export interface Answer10 {
  readonly status: string;
  readonly id: bigint;
  readonly body: Buffer;
  /** The frame's bytes as received. */
  readonly hex: string;
}

/** A 1.0 request frame: VERSION 0x01, OPCODE, LENGTH u16, ID u64, body (spec §2). */
export function frame10(opcode: number, id: bigint, body: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!Object.values(OP10).includes(opcode as never)) throw new Error(`opcode 0x${opcode.toString(16)} is not in protocol 1.0`);
  if (opcode === OP10.SET && ((body[0] ?? 0) & ~SET_FLAGS_10) !== 0) throw new Error(`SET flags 0x${(body[0] ?? 0).toString(16)} are not in protocol 1.0`);
  const header = Buffer.alloc(12);
  header[0] = 0x01;
  header[1] = opcode;
  header.writeUInt16BE(body.length, 2);
  header.writeBigUInt64BE(id, 4);
  return Buffer.concat([header, body]);
}

/** A 1.0 SET body: flags, ttl_ms u32, key_len u8, key, value. */
export function setBody10(key: string, value: string | Buffer, flags = 0, ttlMs = 0): Buffer {
  const k = Buffer.from(key);
  const head = Buffer.alloc(6);
  head[0] = flags;
  head.writeUInt32BE(ttlMs, 1);
  head[5] = k.length;
  return Buffer.concat([head, k, typeof value === 'string' ? Buffer.from(value) : value]);
}

/**
 * A socket speaking 1.0: `send` frames (their identifiers queued in order), `answers(n)` the
 * next n answers, each checked against its oldest outstanding request. Any answer a 1.0 codec
 * could not read fails the wait with the reason.
 */
export class Client10 {
  readonly #socket: Socket;
  #buffer = Buffer.alloc(0);
  readonly #pending: bigint[] = [];
  readonly #answers: Answer10[] = [];
  #failure: Error | undefined;
  #wake: () => void = () => {};

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#read();
      this.#wake();
    });
    socket.on('close', () => {
      this.#failure ??= new Error('the server closed the connection');
      this.#wake();
    });
    socket.on('error', (err) => {
      this.#failure ??= err;
      this.#wake();
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number): Promise<Client10> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new Client10(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes the frames in one write (pipelined); each one's identifier is read from its header. */
  send(frames: Buffer[]): void {
    for (const f of frames) this.#pending.push(f.readBigUInt64BE(4));
    this.#socket.write(Buffer.concat(frames));
  }

  /** The next `n` answers, in order. */
  async answers(n: number): Promise<Answer10[]> {
    while (this.#answers.length < n) {
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return this.#answers.splice(0, n);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(): void {
    while (this.#failure === undefined && this.#buffer.length >= 12) {
      const length = this.#buffer.readUInt16BE(2);
      if (this.#buffer.length < 12 + length) return;
      const bytes = this.#buffer.subarray(0, 12 + length);
      this.#buffer = this.#buffer.subarray(12 + length);
      const status = bytes[1]!;
      const id = bytes.readBigUInt64BE(4);
      const expected = this.#pending.shift();
      if (bytes[0] !== 0x81) this.#failure = new Error(`version byte 0x${bytes[0]!.toString(16)}, not 0x81 (version 1, response)`);
      else if (STATUS10[status] === undefined) this.#failure = new Error(`status 0x${status.toString(16)} is not a 1.0 status`);
      else if (length > 65_524) this.#failure = new Error(`a body of ${length} bytes is over a 1.0 frame`);
      else if (id !== expected) this.#failure = new Error(`answer id ${id}, but the oldest outstanding request is ${expected}`);
      else this.#answers.push({ status: STATUS10[status]!, id, body: Buffer.from(bytes.subarray(12)), hex: bytes.toString('hex') });
    }
  }
}
