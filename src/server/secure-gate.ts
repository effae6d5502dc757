import { AUTH_FAILED_MESSAGE, acceptHello, type SecureSession } from '../crypto/handshake.js';
import type { FrameCipher } from '../crypto/frame-cipher.js';
import { ProtocolError } from '../protocol/errors.js';
import { FIRST_ENVELOPE_ID, HEADER_SIZE, MAX_CLIENT_ID, MORE, Opcode, SEALED } from '../protocol/constants.js';
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
 * of the body: pass it on; for a frame from an envelope, its body as it is);
 * `envelope`, a sealed envelope authenticated and opened in place (spec
 * §6.7: its first LENGTH − 16 body bytes are frames, each to be admitted
 * with {@link SecureGate.admitInner}); `hello`, HELLO accepted (its OK body
 * is sent in plaintext, spec §6.5, and every later answer is sealed);
 * `busy`, HELLO over the per-address rate limit (spec §6.2): a request-level
 * BUSY with `reply` as its message, in plaintext, and the connection still
 * awaits HELLO; `refused`, a fatal error to send and close on, with the
 * reason for the log (never sent: spec §6.5).
 */
export type GateAnswer =
  | { readonly kind: 'opened' }
  | { readonly kind: 'envelope' }
  | { readonly kind: 'hello'; readonly reply: Buffer }
  | { readonly kind: 'busy'; readonly reply: Buffer }
  | { readonly kind: 'refused'; readonly error: ProtocolError; readonly reason: string };

const NO_KEYS: ReadonlyMap<string, Buffer> = new Map();

/** The one `opened` answer: nothing is allocated for a frame that authenticates. */
const OPENED: GateAnswer = { kind: 'opened' };
const ENVELOPE: GateAnswer = { kind: 'envelope' };
const BUSY_HANDSHAKES: GateAnswer = { kind: 'busy', reply: Buffer.from('too many handshakes from this address; retry later') };

const refused = (error: ProtocolError, reason = error.message): GateAnswer => ({ kind: 'refused', error, reason });

/** Whether identifier `hi`:`lo` (u32 halves) is greater than `lastHi`:`lastLo`. */
const above = (hi: number, lo: number, lastHi: number, lastLo: number): boolean => hi > lastHi || (hi === lastHi && lo > lastLo);

/**
 * The server side of secure mode for one connection (spec §6): the first
 * frame must be HELLO (within the per-address rate limit, §6.2); every later
 * one must carry a larger identifier than the last, below 2^63 (§6.3), and
 * authenticate (§6.4); in a session with sealed envelopes an envelope must
 * carry the next envelope identifier and the frames inside keep the
 * identifier rules (§6.7). Keeps the session, the last identifier, the
 * envelope counter, the key id (for logs) and the {@link TrustState}. Sealing the
 * answers is the connection's (it knows which are fatal); the cipher is
 * {@link SecureGate.sending}.
 *
 * @example
 * ```ts
 * const gate = new SecureGate(() => host.keys); // the current keys, read at HELLO
 * const admitted = gate.admit(decoder.take() as RawFrame);
 * if (admitted.kind === 'opened') execute(raw.source, raw.bodyStart, raw.length - 16); // the plaintext, in place
 * else answer(admitted);                                                              // HELLO's OK, or a fatal refusal
 * ```
 */
export class SecureGate {
  /** The pre-shared keys HELLO is checked against, read at HELLO: a reload (issue 25) between accept and HELLO counts. */
  readonly #keys: () => ReadonlyMap<string, Buffer> | undefined;
  /** Whether a HELLO may do key work now (the server's per-address rate limit); asked once per HELLO. */
  readonly #helloAllowed: () => boolean;
  #trust: TrustState;
  /** The session once HELLO succeeded. */
  #session: SecureSession | undefined;
  /** The last request identifier admitted (HELLO's included), as u32 halves (-1: none yet). */
  #lastHi = -1;
  #lastLo = -1;
  /** The identifier the next envelope must carry (spec §6.7: 2^63 first, then one more each), as halves. */
  #envelopeHi = Number(FIRST_ENVELOPE_ID >> 32n);
  #envelopeLo = 0;
  /** Where a frame's header is laid out to authenticate its body: the decoder may have read it from another chunk. */
  readonly #header = Buffer.allocUnsafe(HEADER_SIZE);
  /** The key id HELLO named, for logs. */
  #keyId: string | undefined;

  /**
   * `keys`: pre-shared keys by id, or a getter of the current ones (the server's: a reload may
   * change them, issue 25; read when HELLO arrives); `undefined` means plaintext mode and the
   * gate is never asked. `helloAllowed`: asked for each HELLO before any key work (spec §6.2);
   * false answers BUSY.
   */
  constructor(keys: ReadonlyMap<string, Buffer> | (() => ReadonlyMap<string, Buffer> | undefined) | undefined, helloAllowed: () => boolean = () => true) {
    this.#keys = typeof keys === 'function' ? keys : () => keys;
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

  /** Whether the session agreed to sealed envelopes (spec §6.7): answers then travel in them. */
  get envelopes(): boolean {
    return this.#session?.envelopes === true;
  }

  /**
   * Admits one received frame: opens its body in place (`opened`) or says
   * what to answer instead (see {@link GateAnswer}). Per authenticated frame
   * nothing is allocated: the identifier is compared as u32 halves and the
   * body opened where the decoder left it (issue 18). `fragment`: the frame's fragment
   * number (spec §2.4, the connection's assembler says it): fragment i > 0 continues a
   * message whose first fragment passed the identifier check, carries its identifier,
   * and opens under §6.4's nonce rule for fragment i.
   */
  admit(raw: RawFrame, fragment = 0): GateAnswer {
    const { idHi, idLo } = raw;
    const session = this.#session;
    if (session === undefined) {
      if (raw.opcode !== Opcode.HELLO) return refused(ProtocolError.of('AUTH_REQUIRED', 'secure mode: the first frame must be HELLO'));
      const id = idOf(raw);
      if (id > MAX_CLIENT_ID) {
        return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'handshake failed: HELLO with a reserved identifier');
      }
      // spec §6.2: the rate limit comes before any X25519 or HKDF work (after the identifier
      // check: a BUSY answers the HELLO with its own identifier, which must be a client's).
      if (!this.#helloAllowed()) return BUSY_HANDSHAKES;
      const accepted = acceptHello(raw.body, id, this.#keys() ?? NO_KEYS);
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
    if (session.envelopes && raw.opcode === SEALED) return this.#openEnvelope(raw, session);
    const replay = fragment === 0 ? this.#checkId(raw) : undefined;
    if (replay !== undefined) return replay;
    if (!this.#open(raw, session, fragment)) return this.#forged(`frame ${idOf(raw)}`);
    this.#lastHi = idHi;
    this.#lastLo = idLo;
    if ((raw.opcode & ~MORE) === Opcode.HELLO) return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'HELLO after the handshake');
    return OPENED;
  }

  /**
   * Admits one frame read out of an envelope {@link admit} opened (spec
   * §6.7): its body is plaintext already, and the rules of frames hold
   * inside: identifiers strictly increase (§6.3), no HELLO; a later fragment of a message
   * (`fragment` > 0, spec §2.4) carries its message's identifier.
   */
  admitInner(raw: RawFrame, fragment = 0): GateAnswer {
    const replay = fragment === 0 ? this.#checkId(raw) : undefined;
    if (replay !== undefined) return replay;
    this.#lastHi = raw.idHi;
    this.#lastLo = raw.idLo;
    if ((raw.opcode & ~MORE) === Opcode.HELLO) return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), 'HELLO inside an envelope');
    return OPENED;
  }

  /** spec §6.7: the envelope must carry the next envelope identifier, then authenticate. */
  #openEnvelope(raw: RawFrame, session: SecureSession): GateAnswer {
    if (raw.idHi !== this.#envelopeHi || raw.idLo !== this.#envelopeLo) {
      const expected = idOf({ idHi: this.#envelopeHi, idLo: this.#envelopeLo });
      return refused(ProtocolError.of('REPLAY', `envelope ${idOf(raw)} is not the next one, ${expected}`));
    }
    if (!this.#open(raw, session)) return this.#forged(`envelope ${idOf(raw)}`);
    if (this.#envelopeLo === 0xffff_ffff) {
      this.#envelopeLo = 0;
      this.#envelopeHi += 1;
    } else {
      this.#envelopeLo += 1;
    }
    return ENVELOPE;
  }

  /** spec §6.3: a request identifier must be below 2^63 and greater than the last one admitted (HELLO's included). */
  #checkId(raw: RawFrame): GateAnswer | undefined {
    if (raw.idHi >= 0x8000_0000) {
      // spec §2.2, §6.5: in a secure session a request identifier with the top bit set is fatal, not
      // BAD_REQUEST: it would become the highest seen and refuse every later request (the attack
      // review of issue 18), and 2^63 on is the envelopes' nonce range (§6.7).
      return refused(ProtocolError.of('REPLAY', `identifier ${idOf(raw)} has the top bit set: a secure session numbers requests below 2^63`));
    }
    if (above(raw.idHi, raw.idLo, this.#lastHi, this.#lastLo)) return undefined;
    const last = idOf({ idHi: this.#lastHi, idLo: this.#lastLo });
    return refused(ProtocolError.of('REPLAY', `identifier ${idOf(raw)} is not greater than ${last}`));
  }

  /** Opens `raw`'s body in place with its header as associated data (spec §6.4); the session is then authenticated. */
  #open(raw: RawFrame, session: SecureSession, fragment = 0): boolean {
    const header = this.#header;
    writeRawHeader(header, 0, raw.version, raw.opcode, raw.length, raw.idHi, raw.idLo);
    if (!session.receive.openBody(header, raw.source, raw.bodyStart, raw.length, fragment)) return false;
    this.#trust = 'authenticated';
    return true;
  }

  #forged(what: string): GateAnswer {
    return refused(ProtocolError.of('AUTH_FAILED', AUTH_FAILED_MESSAGE), `${what} failed authentication (key id ${this.#keyId ?? '?'})`);
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
