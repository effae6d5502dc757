/**
 * Secure mode (spec §6): per-frame XChaCha20-Poly1305 and the handshake.
 *
 * @example
 * ```ts
 * import { FrameCipher } from 'conduit-cache';
 * ```
 * @module
 */
export { FrameCipher, TAG_SIZE } from './frame-cipher.js';
export {
  acceptHello,
  deriveSessionKeys,
  encodeHello,
  ephemeralFromPrivate,
  finishHello,
  generateEphemeral,
  helloReplyHeader,
  HELLO_REPLY_SIZE,
  HELLO_VERSION,
  MAX_KEY_ID_SIZE,
  PSK_SIZE,
  PUBLIC_KEY_SIZE,
  type Ephemeral,
  type PreSharedKey,
  type SecureSession,
  type SessionKeys,
} from './handshake.js';
export { generateKey, loadKeyFile, parseKeySpec } from './keys.js';
