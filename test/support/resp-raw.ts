import { connect, type Socket } from 'node:net';
import { afterEach } from 'vitest';

const open: RespRaw[] = [];

// Every socket a test opens is destroyed after it, pass or fail.
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});

/**
 * A raw RESP socket for tests: writes bytes as given, gathers every byte the server
 * sends, and can wait for a text, a byte count, the server's end or the close.
 *
 * @example
 * ```ts
 * const c = await RespRaw.connect(respPort);
 * c.write('PING\r\n');
 * await c.until('+PONG\r\n');
 * ```
 */
export class RespRaw {
  readonly socket: Socket;
  /** What was received, in chunks (joined when read: a test receiving 100 MB must not copy it per chunk). */
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** Connects to a TCP port on 127.0.0.1 or a Unix socket path; destroyed after the test. */
  static connect(where: number | string): Promise<RespRaw> {
    return new Promise((resolve, reject) => {
      const socket = typeof where === 'number' ? connect({ host: '127.0.0.1', port: where }) : connect({ path: where });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const client = new RespRaw(socket);
        open.push(client);
        resolve(client);
      });
    });
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return (this.#chunks[0] ?? Buffer.alloc(0)).toString('latin1');
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#length;
  }

  /** The server ended its side (FIN) or the socket closed. */
  get ended(): boolean {
    return this.#ended || this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves once what was received ends with `expected` (a string) or `done()` holds; rejects after `timeoutMs`. */
  async until(expected: string | (() => boolean), timeoutMs = 5_000): Promise<void> {
    const done = typeof expected === 'string' ? () => this.text.endsWith(expected) : expected;
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const what = typeof expected === 'string' ? JSON.stringify(expected) : 'condition';
        throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.text.slice(-200))}, ended ${this.#ended}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once the server ended its side or the socket closed. */
  waitEnded(timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.ended, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
