import {
  encodeRequest,
  isFatalStatus,
  MAX_BODY_SIZE,
  type PreSharedKey,
  type Request,
} from '../../src/index.js';
import { RawClient } from './raw-client.js';
import { openFrame } from '../../src/crypto/secure-channel.js';
import { secureRaw, type SecureRaw } from './secure-client.js';

/** One answer as the application sees it: status and plaintext body, with the LENGTH it had on the wire. */
export interface CheckedReply {
  status: number;
  body: Buffer;
  wireLength: number;
}

/**
 * A raw connection, plaintext or secure, that checks every answer's frame
 * against spec §2.1 (LENGTH ≤ 65,524) and, in secure mode, opens it (§6.4).
 * For guard tests that must see each frame's size rather than trust a client.
 */
export class CheckedClient {
  readonly raw: RawClient;
  readonly #secure: SecureRaw | undefined;
  #nextId = 1n;
  /** Largest LENGTH seen, and frames over the limit (the decoder refuses those: counted once, then the stream is lost). */
  largest = 0;
  overLimit = 0;
  answers = 0;

  private constructor(raw: RawClient, secure: SecureRaw | undefined) {
    this.raw = raw;
    this.#secure = secure;
  }

  /** Connects to 127.0.0.1:`port`; with `key`, does the handshake first. */
  static async connect(port: number, key?: PreSharedKey): Promise<CheckedClient> {
    if (key === undefined) return new CheckedClient(await RawClient.connect(port), undefined);
    const secure = await secureRaw(port, key);
    return new CheckedClient(secure.raw, secure);
  }

  /** Sends `requests` in one write and returns their answers in order; throws on a frame over §2.1 or one that does not open. */
  async ask(requests: Request[], timeoutMs = 10_000): Promise<CheckedReply[]> {
    const before = this.raw.frames.length;
    const out = requests.map((r) => {
      const id = this.#nextId++;
      return this.#secure === undefined ? Buffer.concat(encodeRequest(id, r)) : this.#secure.seal(id, r);
    });
    this.raw.write(Buffer.concat(out));
    await this.raw.until(
      () => this.raw.frames.length >= before + requests.length || this.raw.decodeError !== undefined || this.raw.closed,
      timeoutMs,
      `${requests.length} answers`,
    );
    if (this.raw.decodeError !== undefined) {
      this.overLimit += 1;
      throw new Error(`answer frame refused: ${this.raw.decodeError.message}`);
    }
    const frames = this.raw.frames.splice(before, requests.length);
    if (frames.length < requests.length) throw new Error(`connection closed after ${frames.length} of ${requests.length} answers`);
    return frames.map((f) => {
      this.answers += 1;
      this.largest = Math.max(this.largest, f.length);
      if (f.length > MAX_BODY_SIZE) this.overLimit += 1;
      if (this.#secure === undefined || isFatalStatus(f.opcode)) return { status: f.opcode, body: f.body, wireLength: f.length };
      const opened = openFrame(this.#secure.session.receive, f);
      if (opened === undefined) throw new Error(`answer ${f.id} failed authentication`);
      return { status: f.opcode, body: opened.body, wireLength: f.length };
    });
  }

  destroy(): void {
    this.raw.destroy();
  }
}
