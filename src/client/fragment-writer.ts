import type { FrameCipher } from '../crypto/frame-cipher.js';
import { HEADER_SIZE } from '../protocol/constants.js';
import { fragmentFrames } from '../protocol/fragments.js';
import { MAX_ENVELOPE_PLAINTEXT, type FrameSealer, type OutputBatch } from '../protocol/output-batch.js';

/**
 * How the client lays out one request too large for a frame (spec §2.4),
 * kept apart from the request queue, which decides when it goes.
 *
 * @example
 * ```ts
 * pushFragments(batch, Opcode.SET, 7n, body, MAX_BODY_SIZE, undefined, false); // plaintext fragments, by reference
 * ```
 * @module
 */

/**
 * One request whose body does not fit one frame, as fragments (spec §2.4),
 * split by the protocol's one splitter, all pushed now so nothing else is
 * written between them. Plaintext: by reference, no byte of the value
 * copied. Secure, sealed per frame: fragment i sealed with its fragment
 * number (spec §6.4's nonce rule). Envelopes (spec §6.7): a fragment too
 * large for an envelope (every one but a short last) is sealed alone with
 * its number, between envelopes; one that fits goes in the envelope, in
 * order, sealed with the envelope.
 */
export function pushFragments(batch: OutputBatch, opcode: number, id: bigint, body: readonly Buffer[], frameLimit: number, cipher: FrameCipher | undefined, envelopes: boolean): void {
  const idHi = Number(id >> 32n);
  const idLo = Number(id & 0xffff_ffffn);
  for (const fragment of fragmentFrames(opcode, body, frameLimit)) {
    if (cipher === undefined) {
      batch.pushFrame(fragment.code, idHi, idLo, fragment.body);
    } else if (envelopes && HEADER_SIZE + fragment.length <= MAX_ENVELOPE_PLAINTEXT) {
      batch.pushEnveloped(fragment.code, idHi, idLo, fragment.body, cipher);
    } else {
      batch.pushSealed(fragment.code, idHi, idLo, fragment.body, fragmentSealer(cipher, fragment.index));
    }
  }
}

/** `cipher` sealing fragment number `index` (0: the cipher itself, as for any frame). */
function fragmentSealer(cipher: FrameCipher, index: number): FrameSealer {
  if (index === 0) return cipher;
  return {
    sealBody: (bytes, at, plaintext) => cipher.sealBody(bytes, at, plaintext, index),
    sealInPlace: (bytes, at, plaintextLength) => cipher.sealInPlace(bytes, at, plaintextLength, index),
  };
}
