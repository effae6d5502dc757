/**
 * The nonce audit (spec §6.4: no (key, nonce) pair may ever repeat): a
 * test-only seam through which a test sees the nonce of every frame any
 * {@link FrameCipher} seals. It lives in its own module, which neither the
 * package root nor its `exports` map exposes, so code outside the package
 * cannot install an observer; and the observer never sees a session key,
 * only a SHA-256 fingerprint of it, which is enough to tell sessions apart.
 *
 * @example
 * ```ts
 * // test/integration/secure.test.ts
 * import { observeNonces } from '../../src/crypto/nonce-audit.js';
 * const stop = observeNonces((keyFingerprint, nonce) => audit(keyFingerprint, nonce));
 * // … seal frames …
 * stop();
 * ```
 * @module
 */
import { createHash } from 'node:crypto';

/** Called with the session key's SHA-256 (hex) and the 24-byte XChaCha20 nonce of one sealed frame. */
export type NonceObserver = (keyFingerprint: string, nonce: Buffer) => void;

let observer: NonceObserver | undefined;

/**
 * Installs `fn` until the returned function is called; one observer at a time.
 *
 * @example
 * ```ts
 * const stop = observeNonces((fp, nonce) => seen.add(fp + nonce.toString('hex')));
 * stop();
 * ```
 */
export function observeNonces(fn: NonceObserver): () => void {
  if (observer !== undefined) throw new Error('a nonce observer is already installed');
  observer = fn;
  return () => {
    if (observer === fn) observer = undefined;
  };
}

/** True while a test observes nonces; the cipher skips building the report otherwise. */
export function auditing(): boolean {
  return observer !== undefined;
}

/**
 * Reports one sealed frame to the observer, if any: the nonce is `prefix` ‖
 * the IDENTIFIER in bytes 4–12 of the frame's 12-byte `header` (spec §6.4);
 * for fragment `i` > 0 of a message (§2.4) the caller passes the prefix
 * with its last 4 bytes XORed with `u32be(i)`, the one it seals under.
 */
export function reportSeal(key: Buffer, prefix: Buffer, header: Uint8Array): void {
  observer?.(createHash('sha256').update(key).digest('hex'), Buffer.concat([prefix, header.subarray(4, 12)]));
}
