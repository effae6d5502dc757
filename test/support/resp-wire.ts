import { connect, type Socket } from 'node:net';

/**
 * A bare RESP client for comparing servers byte for byte (issue 23): it sends
 * commands as RESP arrays of bulk strings and hands back each reply's exact
 * bytes, RESP2 or RESP3, framed by {@link replyEnd}. No client library sits in
 * between, so a reply-type difference (a `+OK` where Redis sends `$2 OK`, an
 * integer sent as a bulk) shows as unequal bytes.
 */

/** One RESP reply as a tree: its type byte and value (`null` for `$-1`, `*-1`, `_`). */
export type RespValue =
  | { readonly type: '+' | '-' | ',' | '(' | '#'; readonly value: string }
  | { readonly type: ':'; readonly value: bigint }
  | { readonly type: '$' | '!' | '='; readonly value: Buffer | null }
  | { readonly type: '*' | '~' | '>' | '%' | '|'; readonly value: RespValue[] | null }
  | { readonly type: '_'; readonly value: null };

const CRLF = Buffer.from('\r\n');

/**
 * The offset just past the reply starting at `at`, or -1 when `buf` does not hold all of it yet.
 *
 * @example
 * ```ts
 * replyEnd(Buffer.from('$3\r\nabc\r\n+OK'), 0); // 9
 * ```
 */
export function replyEnd(buf: Buffer, at: number): number {
  if (at >= buf.length) return -1;
  const eol = buf.indexOf(CRLF, at);
  if (eol === -1) return -1;
  const type = String.fromCharCode(buf[at] ?? 0);
  const n = Number(buf.toString('latin1', at + 1, eol));
  const next = eol + 2;
  switch (type) {
    case '$':
    case '!':
    case '=':
      if (n < 0) return next;
      return buf.length >= next + n + 2 ? next + n + 2 : -1;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (n < 0) return next;
      const items = type === '%' || type === '|' ? 2 * n : n;
      let end = next;
      for (let i = 0; i < items; i += 1) {
        end = replyEnd(buf, end);
        if (end === -1) return -1;
      }
      // An attribute precedes the reply it describes.
      return type === '|' ? replyEnd(buf, end) : end;
    }
    default:
      return next;
  }
}

/**
 * Decodes one whole reply (as framed by {@link replyEnd}) into a tree.
 *
 * @example
 * ```ts
 * decodeReply(Buffer.from(':42\r\n')); // { type: ':', value: 42n }
 * ```
 */
export function decodeReply(buf: Buffer): RespValue {
  const [value] = decodeAt(buf, 0);
  return value;
}

function decodeAt(buf: Buffer, at: number): [RespValue, number] {
  const eol = buf.indexOf(CRLF, at);
  const type = String.fromCharCode(buf[at] ?? 0);
  const line = buf.toString('latin1', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '$':
    case '!':
    case '=': {
      const n = Number(line);
      if (n < 0) return [{ type, value: null }, next];
      return [{ type, value: Buffer.from(buf.subarray(next, next + n)) }, next + n + 2];
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const n = Number(line);
      if (n < 0) return [{ type, value: null }, next];
      const items: RespValue[] = [];
      let end = next;
      for (let i = 0; i < (type === '%' || type === '|' ? 2 * n : n); i += 1) {
        const [item, after] = decodeAt(buf, end);
        items.push(item);
        end = after;
      }
      return [{ type, value: items }, end];
    }
    case ':':
      return [{ type, value: BigInt(line) }, next];
    case '_':
      return [{ type, value: null }, next];
    case '+':
    case '-':
    case ',':
    case '(':
    case '#':
      return [{ type, value: line }, next];
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('latin1', at, Math.min(buf.length, at + 40)))}`);
  }
}

/**
 * A RESP request: `*N` then each argument as a bulk string.
 *
 * @example
 * ```ts
 * encodeCommand(['GET', 'k']); // <Buffer *2\r\n$3\r\nGET\r\n$1\r\nk\r\n>
 * ```
 */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * One raw RESP connection: `send(bytes, replies)` resolves with that many
 * replies' exact bytes; `closed` tells whether the server hung up.
 *
 * @example
 * ```ts
 * const wire = await RespWire.connect(port);
 * const [reply] = await wire.command(['PING']); // <Buffer +PONG\r\n>
 * wire.destroy();
 * ```
 */
export class RespWire {
  readonly #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number): Promise<RespWire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RespWire(socket));
      });
      socket.once('error', reject);
    });
  }

  /** True once the server closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one command and resolves with its reply's bytes. */
  async command(args: readonly (string | Buffer)[], timeoutMs = 10_000): Promise<Buffer> {
    const [reply] = await this.send(encodeCommand(args), 1, timeoutMs);
    if (reply === undefined) throw new Error(`no reply to ${args.map(String).join(' ')}: connection closed`);
    return reply;
  }

  /**
   * Writes `bytes` and resolves with the next `replies` replies; fewer when the
   * server closes first (then the rest of what it sent is in `leftover()`).
   */
  async send(bytes: Buffer, replies: number, timeoutMs = 10_000): Promise<Buffer[]> {
    if (bytes.length > 0) this.#socket.write(bytes);
    const out: Buffer[] = [];
    const deadline = Date.now() + timeoutMs;
    let at = 0;
    while (out.length < replies) {
      const end = replyEnd(this.#buf, at);
      if (end !== -1) {
        out.push(this.#buf.subarray(at, end));
        at = end;
        continue;
      }
      if (this.#closed) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for reply ${out.length + 1} of ${replies}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    this.#buf = Buffer.from(this.#buf.subarray(at));
    return out;
  }

  /** Bytes received and not yet handed out as replies. */
  leftover(): Buffer {
    return this.#buf;
  }

  /** Resolves once the server closed the connection, or after `timeoutMs` (false). */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#closed;
  }

  /** Closes our side at once. */
  destroy(): void {
    this.#socket.destroy();
  }
}
