/**
 * Secure mode (spec §6): per-frame XChaCha20-Poly1305 (libsodium, or
 * `node:crypto` as the fallback) and the handshake.
 *
 * @example
 * ```ts
 * import { FrameCipher, aeadChoice } from 'conduit-cache';
 * ```
 * @module
 */
export { FrameCipher, TAG_SIZE } from './frame-cipher.js';
export { AEAD_ENV, aeadChoice, requestedAead, type AeadChoice } from './aead-choice.js';
export type { AeadName } from './frame-aead.js';
export {
  acceptHello,
  AUTH_FAILED_MESSAGE,
  deriveSessionKeys,
  encodeHello,
  ephemeralFromPrivate,
  finishHello,
  generateEphemeral,
  helloReplyHeader,
  HelloRefusal,
  HELLO_REPLY_SIZE,
  HELLO_VERSION,
  MAX_KEY_ID_SIZE,
  PSK_SIZE,
  PUBLIC_KEY_SIZE,
  type Ephemeral,
  type HelloRefusalReason,
  type PreSharedKey,
  type SecureSession,
  type SessionKeys,
  type X25519Name,
  x25519Choice,
} from './handshake.js';
export { checkKeyStrength, generateKey, loadKeyFile, parseKeySpec } from './keys.js';
