/**
 * The Conduit protocol 1.0 codec: constants, errors, headers, the streaming decoder
 * and the per-opcode bodies (spec/conduit-v1.md).
 *
 * @example
 * ```ts
 * import { FrameDecoder, encodeRequest } from 'conduit-cache';
 * ```
 * @module
 */
export * from './constants.js';
export * from './errors.js';
export * from './header.js';
export * from './decoder.js';
export * from './messages.js';
