import { HEADER_SIZE } from '../protocol/constants.js';
import { createFrameAead } from './aead-choice.js';
import { TAG_SIZE, view, type AeadName, type FrameAead } from './frame-aead.js';
import { auditing, reportSeal } from './nonce-audit.js';

export { TAG_SIZE } from './frame-aead.js';

/**
 * True when `[a, a + aLength)` and `[b, b + bLength)` of the same memory are
 * either the same start (in place) or apart. Anything else would make the
 * cipher overwrite input it has not read yet.
 */
function inPlaceOrApart(input: Uint8Array, inputLength: number, target: Uint8Array, offset: number, outputLength: number): boolean {
  if (input.buffer !== target.buffer) return true;
  const a = input.byteOffset;
  const b = target.byteOffset + offset;
  return a === b || a + inputLength <= b || b + outputLength <= a;
}

/**
 * spec §6.4's nonce rule for fragments (§2.4): fragment `i` of a message is
 * sealed with the nonce prefix `prefix` whose last 4 bytes are XORed with
 * `u32be(i)`; fragment 0 (and every unfragmented frame) keeps `prefix`, so
 * 1.0 frames stay byte for byte the same. Returns a new 16-byte array.
 *
 * @example
 * ```ts
 * fragmentPrefix(keys.prefixC2s, 2); // p_c2s with byte 15 XOR 0x02
 * ```
 */
export function fragmentPrefix(prefix: Uint8Array, fragment: number): Uint8Array {
  if (!Number.isInteger(fragment) || fragment < 0 || fragment > 0xffff_ffff) {
    throw new RangeError(`fragment number must be an integer from 0 to 2^32-1, got ${fragment}`);
  }
  const out = Uint8Array.from(prefix);
  out[12] = (out[12] as number) ^ ((fragment >>> 24) & 0xff);
  out[13] = (out[13] as number) ^ ((fragment >>> 16) & 0xff);
  out[14] = (out[14] as number) ^ ((fragment >>> 8) & 0xff);
  out[15] = (out[15] as number) ^ (fragment & 0xff);
  return out;
}

/** LENGTH of the 12-byte header at `bytes[at]` (spec §2: bytes 2–3, big-endian). */
const lengthAt = (bytes: Uint8Array, at: number): number => ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);

/**
 * XChaCha20-Poly1305 for one direction of a secure session (spec §6.4):
 * nonce = `prefix` (16 bytes, fixed per session and direction) ‖ the frame's
 * IDENTIFIER (8 bytes), associated data = the 12-byte header as sent.
 *
 * It runs on the process's frame AEAD (./aead-choice.ts: libsodium, or
 * `node:crypto` where the native binding cannot load), which seals with
 * the HChaCha20 subkey computed once per session direction and one scratch
 * nonce. It checks the arguments once for every implementation, and shows
 * every seal to the nonce audit (./nonce-audit.ts) when a test observes.
 *
 * Fragments (spec §2.4): every entry point takes an optional fragment number
 * `i` (default 0: today's frames, byte for byte); fragment `i` > 0 is sealed
 * under the prefix {@link fragmentPrefix} gives, so under its own HChaCha20
 * subkey: the cipher keeps the subkey of the last fragment number it used,
 * since a message's fragments come one after the other (one more subkey per
 * fragment, ~1,025 for a 64 MiB message).
 *
 * Two kinds of entry points:
 * - `seal`, `sealDetached` and `open` return new buffers (one allocation
 *   for the output, none for nonce or tag beyond it);
 * - `sealInto`/`openInto` and `sealInPlace`/`openInPlace` write into the
 *   caller's buffer: no per-frame buffer at all.
 *
 * @example
 * ```ts
 * const send = new FrameCipher(keys.c2s, keys.prefixC2s);
 * const sealed = send.seal(header, plaintext); // ciphertext ‖ tag
 * const plain = receive.open(header, sealed);  // undefined when forged
 * ```
 */
export class FrameCipher {
  readonly #key: Buffer;
  readonly #prefix: Buffer;
  readonly #aead: FrameAead;
  readonly #implementation: AeadName | undefined;
  /** The frame AEAD of fragment number `#fragment` (> 0), made on first use. */
  #fragmentAead: FrameAead | undefined;
  #fragment = 0;

  /**
   * @param key the direction's 32-byte key (`k_c2s` or `k_s2c`, spec §6.3)
   * @param prefix the direction's 16-byte nonce prefix (`p_c2s` or `p_s2c`)
   * @param implementation the frame AEAD to run on; the process's choice by default (tests pass one to compare)
   */
  constructor(key: Uint8Array, prefix: Uint8Array, implementation?: AeadName) {
    if (key.length !== 32) throw new RangeError(`key must be 32 bytes, got ${key.length}`);
    if (prefix.length !== 16) throw new RangeError(`nonce prefix must be 16 bytes, got ${prefix.length}`);
    this.#key = Buffer.from(key);
    this.#prefix = Buffer.from(prefix);
    this.#aead = createFrameAead(key, prefix, implementation);
    this.#implementation = implementation;
  }

  /** The AEAD that seals fragment number `fragment` (spec §6.4's nonce rule). */
  #aeadFor(fragment: number): FrameAead {
    if (fragment === 0) return this.#aead;
    if (this.#fragmentAead === undefined || this.#fragment !== fragment) {
      this.#fragmentAead = createFrameAead(this.#key, fragmentPrefix(this.#prefix, fragment), this.#implementation ?? this.#aead.implementation);
      this.#fragment = fragment;
    }
    return this.#fragmentAead;
  }

  /**
   * `'libsodium'`, `'node'` or `'noble'`: which implementation seals and opens this session's frames.
   *
   * @example
   * ```ts
   * new FrameCipher(key, prefix).implementation; // 'libsodium'
   * ```
   */
  get implementation(): AeadName {
    return this.#aead.implementation;
  }

  /**
   * Encrypts `plaintext` for the frame whose header (LENGTH = plaintext + 16)
   * is `header`; returns ciphertext ‖ tag in one new buffer.
   *
   * @example
   * ```ts
   * socket.write(header); socket.write(send.seal(header, plaintext));
   * ```
   */
  seal(header: Uint8Array, plaintext: Uint8Array, fragment = 0): Buffer {
    const out = Buffer.allocUnsafe(plaintext.length + TAG_SIZE);
    this.sealInto(header, plaintext, out, 0, fragment);
    return out;
  }

  /**
   * Like {@link seal}, but returns the ciphertext and the tag as two views
   * of the one output buffer, for callers that write them one after the
   * other (the server's and client's batches today).
   *
   * @example
   * ```ts
   * const [ciphertext, tag] = send.sealDetached(header, plaintext);
   * socket.write(header); socket.write(ciphertext); socket.write(tag);
   * ```
   */
  sealDetached(header: Uint8Array, plaintext: Uint8Array, fragment = 0): [ciphertext: Buffer, tag: Buffer] {
    const out = this.seal(header, plaintext, fragment);
    return [out.subarray(0, plaintext.length), out.subarray(plaintext.length)];
  }

  /**
   * Checks the tag, then decrypts (spec §6.4: nothing of a forged frame is
   * used); returns the plaintext in a new buffer, or `undefined` when the
   * frame does not authenticate.
   *
   * @example
   * ```ts
   * const plain = receive.open(header, body);
   * if (plain === undefined) closeWith('AUTH_FAILED');
   * ```
   */
  open(header: Uint8Array, sealed: Uint8Array, fragment = 0): Buffer | undefined {
    if (sealed.length < TAG_SIZE) return undefined;
    const out = Buffer.allocUnsafe(sealed.length - TAG_SIZE);
    return this.openInto(header, sealed, out, 0, fragment) ? out : undefined;
  }

  /**
   * Seals into the caller's buffer: the ciphertext of `plaintext` (n bytes)
   * to `target[offset, offset + n)` and the 16-byte tag right after it.
   * `plaintext` may be that very range (sealing in place) or lie elsewhere,
   * not overlapping it.
   *
   * @example
   * ```ts
   * // header already at out[at], value to go after it, sealed as it is copied:
   * send.sealInto(out.subarray(at, at + 12), value, out, at + 12);
   * ```
   */
  sealInto(header: Uint8Array, plaintext: Uint8Array, target: Uint8Array, offset: number, fragment = 0): void {
    const n = plaintext.length;
    this.#checkHeader(header);
    this.#checkRange(target, offset, n + TAG_SIZE);
    if (!inPlaceOrApart(plaintext, n, target, offset, n + TAG_SIZE)) {
      throw new RangeError('plaintext must be the output range itself or not overlap it');
    }
    const aead = this.#aeadFor(fragment);
    if (auditing()) reportSeal(this.#key, fragment === 0 ? this.#prefix : Buffer.from(fragmentPrefix(this.#prefix, fragment)), header); // tests only: see nonce-audit.ts
    aead.sealInto(header, plaintext, target, offset);
  }

  /**
   * Opens into the caller's buffer: checks the tag at the end of `sealed`
   * (ciphertext ‖ tag), then writes the n = `sealed.length − 16` plaintext
   * bytes to `target[offset, offset + n)`. `target`'s range may be where the
   * ciphertext is (opening in place) or lie elsewhere, not overlapping
   * `sealed`. Returns false, with the range zeroed, when the frame does not
   * authenticate.
   *
   * @example
   * ```ts
   * if (!receive.openInto(header, body, body, 0)) closeWith('AUTH_FAILED'); // in place
   * ```
   */
  openInto(header: Uint8Array, sealed: Uint8Array, target: Uint8Array, offset: number, fragment = 0): boolean {
    if (sealed.length < TAG_SIZE) return false;
    const n = sealed.length - TAG_SIZE;
    this.#checkHeader(header);
    this.#checkRange(target, offset, n);
    if (!inPlaceOrApart(sealed, sealed.length, target, offset, n)) {
      throw new RangeError('the output range must be where the ciphertext is or not overlap it');
    }
    return this.#aeadFor(fragment).openInto(header, sealed, target, offset);
  }

  /**
   * Seals a frame laid out in `bytes` at `at`: its 12-byte header, whose
   * LENGTH must be `plaintextLength + 16`, then the plaintext, encrypted
   * where it is; the tag is written right after it. What an output buffer
   * does once a frame's plaintext is in it.
   *
   * @example
   * ```ts
   * out.set(encodeHeader(VERSION_RESPONSE, Status.OK, value.length + 16, id), at);
   * out.set(value, at + 12);
   * send.sealInPlace(out, at, value.length); // out[at … at + 12 + value.length + 16) is the sealed frame
   * ```
   */
  sealInPlace(bytes: Uint8Array, at: number, plaintextLength: number, fragment = 0): void {
    this.#checkRange(bytes, at, HEADER_SIZE + plaintextLength + TAG_SIZE);
    if (lengthAt(bytes, at) !== plaintextLength + TAG_SIZE) {
      throw new RangeError(`header LENGTH is ${lengthAt(bytes, at)}, the plaintext needs ${plaintextLength + TAG_SIZE}`);
    }
    const body = at + HEADER_SIZE;
    this.sealInto(view(bytes, at, HEADER_SIZE), view(bytes, body, plaintextLength), bytes, body, fragment);
  }

  /**
   * Opens a received frame where it lies in `bytes` at `at` (header, then
   * LENGTH bytes of ciphertext ‖ tag): the plaintext, LENGTH − 16 bytes,
   * replaces the ciphertext after the header. Returns false, with those
   * bytes zeroed, when it does not authenticate. What a decoder's input
   * bytes can be opened with, without a copy.
   *
   * @example
   * ```ts
   * if (!receive.openInPlace(chunk, frameStart)) closeWith('AUTH_FAILED');
   * const plaintext = chunk.subarray(frameStart + 12, frameStart + 12 + length - 16);
   * ```
   */
  openInPlace(bytes: Uint8Array, at: number, fragment = 0): boolean {
    this.#checkRange(bytes, at, HEADER_SIZE);
    const sealedLength = lengthAt(bytes, at);
    if (sealedLength < TAG_SIZE) return false;
    this.#checkRange(bytes, at, HEADER_SIZE + sealedLength);
    const body = at + HEADER_SIZE;
    return this.#aeadFor(fragment).openInto(view(bytes, at, HEADER_SIZE), view(bytes, body, sealedLength), bytes, body);
  }

  /**
   * Seals `plaintext` into the frame whose 12-byte header is already at
   * `bytes[at]` (its LENGTH must be `plaintext.length + 16`): ciphertext
   * right after the header, then the tag. The plaintext is read where it
   * lies (a value in the store, a caller's buffer) and encrypted as it is
   * copied: what an output block does with a one-part body (spec §6.4).
   *
   * @example
   * ```ts
   * writeRawHeader(block, at, VERSION_RESPONSE, Status.OK, value.length + 16, idHi, idLo);
   * send.sealBody(block, at, value); // block[at … at + 12 + value.length + 16) is the sealed frame
   * ```
   */
  sealBody(bytes: Uint8Array, at: number, plaintext: Uint8Array, fragment = 0): void {
    const n = plaintext.length;
    this.#checkRange(bytes, at, HEADER_SIZE + n + TAG_SIZE);
    if (lengthAt(bytes, at) !== n + TAG_SIZE) {
      throw new RangeError(`header LENGTH is ${lengthAt(bytes, at)}, the plaintext needs ${n + TAG_SIZE}`);
    }
    this.sealInto(view(bytes, at, HEADER_SIZE), plaintext, bytes, at + HEADER_SIZE, fragment);
  }

  /**
   * Opens a received body where it lies: `sealedLength` bytes of ciphertext ‖
   * tag at `bytes[at]`, authenticated with `header` (the 12 bytes it came
   * with, which need not sit before it: a decoder may have read them from
   * another chunk). The plaintext, `sealedLength − 16` bytes, replaces the
   * ciphertext at `bytes[at]`. Returns false, with those bytes zeroed, when
   * it does not authenticate (spec §6.4). What the server's gate and the
   * client open the decoder's input bytes with: no buffer per frame.
   *
   * @example
   * ```ts
   * if (!receive.openBody(header, raw.source, raw.bodyStart, raw.length)) closeWith('AUTH_FAILED');
   * // the plaintext: raw.source[raw.bodyStart … raw.bodyStart + raw.length - 16)
   * ```
   */
  openBody(header: Uint8Array, bytes: Uint8Array, at: number, sealedLength: number, fragment = 0): boolean {
    if (sealedLength < TAG_SIZE) return false;
    this.#checkHeader(header);
    this.#checkRange(bytes, at, sealedLength);
    return this.#aeadFor(fragment).openInto(header, view(bytes, at, sealedLength), bytes, at);
  }

  #checkHeader(header: Uint8Array): void {
    if (header.length !== HEADER_SIZE) throw new RangeError(`header must be ${HEADER_SIZE} bytes, got ${header.length}`);
  }

  #checkRange(target: Uint8Array, offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > target.length) {
      throw new RangeError(`${length} bytes at offset ${offset} do not fit a buffer of ${target.length}`);
    }
  }
}
