import { AUTH_FAILED_MESSAGE, acceptHello, type SecureSession } from '../crypto/handshake.js';
import type { FrameCipher } from '../crypto/frame-cipher.js';
import { ProtocolError } from '../protocol/errors.js';
import { HEADER_SIZE, MAX_CLIENT_ID, Opcode } from '../protocol/constants.js';
import { idOf, writeRawHeader, type RawFrame } from '../protocol/header.js';

/**
 * Where a connection stands with its peer's identity (spec §6): `plaintext`
 * (no keys configured), `awaiting_hello` (secure mode, no HELLO answered OK
 * yet: the handshake deadline runs), `handshaken` (HELLO answered, no frame
 * authenticated yet), `authenticated`, or `abandoned` (closed by the peer
 * while handshaken: the client likely failed key confirmation).
 */
export type TrustState = 'plaintext' | 'awaiting_hello' | 'handshaken' | 'authenticated' | 'abandoned';

/**
 * What the gate made of a received frame: `opened`, it authenticated and its
 * body now holds the plaintext, opened in place (the first LENGTH − 16 bytes
 * of the body: pass it on); `hello`, HELLO accepted (its OK body is sent in
 * plaintext, spec §6.5, and every later answer is sealed); `refused`, a fatal
 * error to send and close on, with the reason for the log (never sent: spec
 * §6.5).
 */
export type GateAnswer =
  | { readonly kind: 'opened' }
  | { readonly kind: 'hello'; readonly reply: Buffer }
  | { readonly kind: 'refused'; readonly error: ProtocolError; readonly reason: string };

/** The one `opened` answer: nothing is allocated for a frame that authenticates. */
const OPENED: GateAnswer = { kind: 'opened' };

const refused = (error: ProtocolError, reason = error.message): GateAnswer => ({ kind: 'refused', error, reason });

/** Whether identifier `hi`:`lo` (u32 halves) is greater than `lastHi`:`lastLo`. */
const above = (hi: number, lo: number, lastHi: number, lastLo: number): boolean => hi > lastHi || (hi === lastHi && lo > lastLo);

/**
 * The server side of secure mode for one connection (spec §6): the first
 * frame must be HELLO; every later one must carry a larger identifier than
 * the last (§6.3) and authenticate (§6.4). Keeps the session, the last
 * identifier, the key id (for logs) and the {@link TrustState}. Sealing the
 * answers is the connection's (it knows which are fatal); the cipher is
 * {@link SecureGate.sending}.
 *
 * @example
 * ```ts
 * const gate = new SecureGate(keys);
 * const admitted = gate.admit(decoder.take() as RawFrame);
 * if (admitted.kind === 'opened') execute(raw.source, raw.bodyStart, raw.length - 16); // the plaintext, in place
 * else answer(admitted);                                                              // HELLO's OK, or a fatal refusal
 * ```
 */
export class SecureGate {
  readonly #keys: ReadonlyMap<string, Buffer>;
  #trust: TrustState;
  /** The session once HELLO succeeded. */
  #session: SecureSession | undefined;
  /** The last request identifier admitted (HELLO's included), as u32 halves (-1: none yet). */
  #lastHi = -1;
  #lastLo = -1;
  /** Where a frame's header is laid out to authenticate its body: the decoder may have read it from another chunk. */
  readonly #header = Buffer.allocUnsafe(HEADER_SIZE);
  /** The key id HELLO named, for logs. */
  #keyId: string | undefined;

  /** `keys`: pre-shared keys by id; `undefined` means plaintext mode and the gate is never asked. */
  constructor(keys: ReadonlyMap<string, Buffer> | undefined) {
    this.#keys = keys ?? new Map<string, Buffer>();
    this.#trust = keys === undefined ? 'plaintext' : 'awaiting_hello';
  }

  /** The handshake state. */
  get trust(): TrustState {
    return this.#trust;
  }

  /** The key id HELLO named, once it named a known one. */
  get keyId(): string | undefined {
    return this.#keyId;
  }

  /** The cipher that seals this side's answers, once HELLO succeeded. */
  get sending(): FrameCipher | undefined {
    return this.#session?.send;
  }

  /**
   * Admits one received frame: opens its body in place (`opened`) or says
   * what to answer instead (see {@link GateAnswer}). Per authenticated frame
   * nothing is allocated: the identifier is compared as u32 halves and the
   * body opened where the decoder left it (issue 18).
   */
  admit(raw: RawFrame): GateAnswer {
    const { idHi, idLo } = raw;
    const session = this.#session;
    if (session === undefined) {
      if (raw.opcode !== Opcode.HELLO) return refused(ProtocolError.of('AUTH_REQUIRED', 'secure mode: the first frame must be HELLO'));
      const id = idOf(raw);
      if (id > MAX_CLIENT_ID) {
        return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'handshake failed: HELLO with a reserved identifier');
      }
      const accepted = acceptHello(raw.body, id, this.#keys);
      if (accepted instanceof ProtocolError) {
        // spec §6.5: one message on the wire whatever the reason; the reason goes to the log.
        const named = accepted.keyId === undefined ? '' : ` (key id ${accepted.keyId})`;
        return refused(accepted, `handshake failed: ${accepted.reason.replaceAll('_', ' ')}${named}`);
      }
      this.#lastHi = idHi;
      this.#lastLo = idLo;
      this.#keyId = accepted.keyId;
      this.#trust = 'handshaken';
      this.#session = accepted.session;
      return { kind: 'hello', reply: accepted.reply };
    }
    if (!above(idHi, idLo, this.#lastHi, this.#lastLo)) {
      const last = idOf({ idHi: this.#lastHi, idLo: this.#lastLo });
      return refused(ProtocolError.of('REPLAY', `identifier ${idOf(raw)} is not greater than ${last}`));
    }
    const header = this.#header;
    writeRawHeader(header, 0, raw.version, raw.opcode, raw.length, idHi, idLo);
    if (!session.receive.openBody(header, raw.source, raw.bodyStart, raw.length)) {
      return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), `frame ${idOf(raw)} failed authentication (key id ${this.#keyId ?? '?'})`);
    }
    this.#lastHi = idHi;
    this.#lastLo = idLo;
    this.#trust = 'authenticated';
    if (raw.opcode === Opcode.HELLO) return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'HELLO after the handshake');
    return OPENED;
  }

  /**
   * The peer closed: if that was after HELLO was answered and before any
   * frame authenticated, the client likely failed key confirmation (spec
   * §6.2, it closes without a word), and the gate becomes `abandoned`.
   * Returns whether it did, so the connection counts it once.
   */
  abandon(): boolean {
    if (this.#trust !== 'handshaken') return false;
    this.#trust = 'abandoned';
    return true;
  }
}
