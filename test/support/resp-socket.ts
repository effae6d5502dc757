import { connect, type Socket } from 'node:net';
import { afterEach } from 'vitest';

const open = new Set<RespSocket>();

// Every socket a test opens is destroyed after it, pass or fail.
afterEach(() => {
  for (const s of open) s.destroy();
  open.clear();
});

/**
 * A bare socket to a RESP port, for attacks byte by byte: it keeps every
 * byte the server sent (as latin1 text) and whether the server closed. It
 * allows half-open connections, as an attacker's socket does, so `closed`
 * means the server really closed (not just sent a FIN).
 */
export class RespSocket {
  readonly socket: Socket;
  /** Everything received, as latin1 text. */
  text = '';
  received = 0;
  /** The server sent its FIN. */
  ended = false;
  /** The socket is fully closed. */
  closed = false;
  error: Error | undefined;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      // Big answers are counted, not kept: a test reading megabytes of values looks at counts.
      if (this.text.length < 1 << 20) this.text += chunk.toString('latin1');
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err; // EPIPE / ECONNRESET once the server is gone: 'close' follows
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects to 127.0.0.1:`port` (or a Unix socket path); destroyed after the test. */
  static connect(port: number | string): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const socket = typeof port === 'number' ? connect({ host: '127.0.0.1', port, allowHalfOpen: true }) : connect({ path: port, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        const s = new RespSocket(socket);
        open.add(s);
        resolve(s);
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `done()` holds, rejecting after `timeoutMs` naming `what`. */
  async until(done: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (received ${JSON.stringify(this.text.slice(-200))}, ended=${this.ended}, closed=${this.closed})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the text received ends with `suffix`. */
  waitFor(suffix: string, timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.text.endsWith(suffix), timeoutMs, JSON.stringify(suffix));
  }

  /** Waits until the server has ended the connection (sent its FIN or closed). */
  waitEnded(timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.ended || this.closed, timeoutMs, 'the server to end the connection');
  }

  /** Writes `bytes`; a write after the server closed is dropped (the attacker does not care). */
  write(bytes: Buffer | string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Writes `bytes` and resolves once they are handed to the kernel (or the socket is gone). */
  writeAll(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve();
      this.socket.write(bytes, () => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  destroy(): void {
    this.socket.destroy();
    open.delete(this);
  }
}

/**
 * A RESP2/RESP3 reply reader just big enough for tests: how many whole
 * top-level replies `text` holds, or -1 when it is not RESP.
 */
export function countReplies(text: string): number {
  let at = 0;
  let count = 0;
  const one = (): boolean => {
    if (at >= text.length) return false;
    const type = text[at];
    const eol = text.indexOf('\r\n', at);
    if (eol === -1) return false;
    const head = text.slice(at + 1, eol);
    at = eol + 2;
    switch (type) {
      case '+':
      case '-':
      case ':':
      case ',':
      case '#':
      case '_':
        return true;
      case '$':
      case '=':
      case '!': {
        const n = Number(head);
        if (n < 0) return true;
        if (text.length < at + n + 2) return false;
        at += n + 2;
        return true;
      }
      case '*':
      case '~':
      case '%': {
        const n = Number(head) * (type === '%' ? 2 : 1);
        for (let i = 0; i < n; i += 1) if (!one()) return false;
        return true;
      }
      default:
        throw new Error(`not RESP at ${at}: ${JSON.stringify(text.slice(at - head.length - 3, at + 20))}`);
    }
  };
  for (;;) {
    const start = at;
    let whole: boolean;
    try {
      whole = one();
    } catch {
      return -1;
    }
    if (!whole) {
      at = start;
      return count;
    }
    count += 1;
  }
}
