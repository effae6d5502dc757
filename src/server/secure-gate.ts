import { AUTH_FAILED_MESSAGE, acceptHello, type SecureSession } from '../crypto/handshake.js';
import type { FrameCipher } from '../crypto/frame-cipher.js';
import { openFrame } from '../crypto/secure-channel.js';
import { ProtocolError } from '../protocol/errors.js';
import { MAX_CLIENT_ID, Opcode } from '../protocol/constants.js';
import type { Frame } from '../protocol/header.js';

/**
 * Where a connection stands with its peer's identity (spec §6): `plaintext`
 * (no keys configured), `awaiting_hello` (secure mode, no HELLO answered OK
 * yet: the handshake deadline runs), `handshaken` (HELLO answered, no frame
 * authenticated yet), `authenticated`, or `abandoned` (closed by the peer
 * while handshaken: the client likely failed key confirmation).
 */
export type TrustState = 'plaintext' | 'awaiting_hello' | 'handshaken' | 'authenticated' | 'abandoned';

/**
 * A received frame the gate answered itself rather than passing it on:
 * `hello`, HELLO accepted (its OK body is sent in plaintext, spec §6.5, and
 * every later answer is sealed); `busy`, HELLO over the per-address rate
 * limit (spec §6.2): a request-level BUSY with `reply` as its message, in
 * plaintext, and the connection still awaits HELLO; `refused`, a fatal error
 * to send and close on, with the reason for the log (never sent: spec §6.5).
 */
export type GateAnswer =
  | { readonly kind: 'hello'; readonly reply: Buffer }
  | { readonly kind: 'busy'; readonly reply: Buffer }
  | { readonly kind: 'refused'; readonly error: ProtocolError; readonly reason: string };

const BUSY_HANDSHAKES: GateAnswer = { kind: 'busy', reply: Buffer.from('too many handshakes from this address; retry later') };

const refused = (error: ProtocolError, reason = error.message): GateAnswer => ({ kind: 'refused', error, reason });

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
 * const admitted = gate.admit(frame);
 * if ('kind' in admitted) answer(admitted); // HELLO's OK, or a fatal refusal
 * else execute(admitted);                   // the frame with its plaintext body
 * ```
 */
export class SecureGate {
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** Whether a HELLO may do key work now (the server's per-address rate limit); asked once per HELLO. */
  readonly #helloAllowed: () => boolean;
  #trust: TrustState;
  /** The session once HELLO succeeded. */
  #session: SecureSession | undefined;
  /** The last request identifier admitted (HELLO's included). */
  #lastId = -1n;
  /** The key id HELLO named, for logs. */
  #keyId: string | undefined;

  /**
   * `keys`: pre-shared keys by id; `undefined` means plaintext mode and the gate is never asked.
   * `helloAllowed`: asked for each HELLO before any key work (spec §6.2); false answers BUSY.
   */
  constructor(keys: ReadonlyMap<string, Buffer> | undefined, helloAllowed: () => boolean = () => true) {
    this.#keys = keys ?? new Map<string, Buffer>();
    this.#helloAllowed = helloAllowed;
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
   * Admits one received frame: returns it with its plaintext body, or what
   * to answer instead (see {@link GateAnswer}).
   */
  admit(frame: Frame): Frame | GateAnswer {
    const session = this.#session;
    if (session === undefined) {
      if (frame.opcode !== Opcode.HELLO) return refused(ProtocolError.of('AUTH_REQUIRED', 'secure mode: the first frame must be HELLO'));
      if (frame.id > MAX_CLIENT_ID) {
        return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'handshake failed: HELLO with a reserved identifier');
      }
      // spec §6.2: the rate limit comes before any X25519 or HKDF work (after the identifier
      // check: a BUSY answers the HELLO with its own identifier, which must be a client's).
      if (!this.#helloAllowed()) return BUSY_HANDSHAKES;
      const accepted = acceptHello(frame.body, frame.id, this.#keys);
      if (accepted instanceof ProtocolError) {
        // spec §6.5: one message on the wire whatever the reason; the reason goes to the log.
        const named = accepted.keyId === undefined ? '' : ` (key id ${accepted.keyId})`;
        return refused(accepted, `handshake failed: ${accepted.reason.replaceAll('_', ' ')}${named}`);
      }
      this.#lastId = frame.id;
      this.#keyId = accepted.keyId;
      this.#trust = 'handshaken';
      this.#session = accepted.session;
      return { kind: 'hello', reply: accepted.reply };
    }
    if (frame.id <= this.#lastId) {
      return refused(ProtocolError.of('REPLAY', `identifier ${frame.id} is not greater than ${this.#lastId}`));
    }
    const opened = openFrame(session.receive, frame);
    if (opened === undefined) {
      return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), `frame ${frame.id} failed authentication (key id ${this.#keyId ?? '?'})`);
    }
    this.#lastId = frame.id;
    this.#trust = 'authenticated';
    if (frame.opcode === Opcode.HELLO) return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'HELLO after the handshake');
    return opened;
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
