import { connect, type Socket } from 'node:net';
import { FrameDecoder, ProtocolError, type Frame } from '../../src/index.js';

/**
 * A bare socket speaking Conduit frames, for driving a live server byte by
 * byte: it records every response frame and whether the server closed.
 */
export class RawClient {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  closed = false;
  ended = false;
  error: Error | undefined;
  decodeError: ProtocolError | undefined;
  readonly #decoder = new FrameDecoder({ direction: 'response' });
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let item = this.#decoder.read(); item !== undefined; item = this.#decoder.read()) {
        if (item instanceof ProtocolError) this.decodeError = item;
        else this.frames.push({ ...item, body: Buffer.from(item.body) });
      }
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects to 127.0.0.1:`port` (or a Unix socket path). */
  static connect(port: number | string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = typeof port === 'number' ? connect({ host: '127.0.0.1', port }) : connect({ path: port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `done()` holds, rejecting after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.frames.length} frames, closed=${this.closed})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `n` response frames have arrived in all. */
  waitFrames(n: number, timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.frames.length >= n, timeoutMs, `${n} frames`);
  }

  /** Waits until the server has closed the connection. */
  waitClosed(timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.closed || this.ended, timeoutMs, 'close');
  }

  write(bytes: Buffer | Buffer[]): void {
    this.socket.write(Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  }

  /** Writes `bytes` one byte per write, letting each leave before the next. */
  async writeByteByByte(bytes: Buffer): Promise<void> {
    for (let i = 0; i < bytes.length; i += 1) {
      if (!this.socket.write(bytes.subarray(i, i + 1))) await new Promise((r) => this.socket.once('drain', r));
      if (i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
