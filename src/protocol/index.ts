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
// Named, not `export *`: what the package root offers is chosen here, so a helper
// added to a module for the server or client (encodeHeader, encodeRequestBody, …)
// does not become public API by accident.
export { readHeader, writeHeader, type Frame, type FrameHeader } from './header.js';
export * from './decoder.js';
export {
  decodeI64,
  decodeListBody,
  encodeError,
  encodeI64,
  encodeListBody,
  encodeRequest,
  encodeResponse,
  parseRequest,
  SET_FIXED_SIZE,
  type ListResult,
  type Request,
  type RequestOp,
} from './messages.js';
export { decodeScanBody, encodeScanBody, type ScanPage } from './scan-body.js';
export {
  decodeInvalidateBody,
  encodeInvalidateBodies,
  INVALIDATE_ALL,
  INVALIDATE_ALL_BODY,
  INVALIDATE_KEYS,
  type Invalidation,
} from './tracking-body.js';
export { decodeLeaseAnswer, encodeLeaseHead, LEASE_HEAD_SIZE, type LeaseAnswer } from './lease-body.js';
export { CAPS_BODY_SIZE, decodeCapsBody, encodeCapsBody, type Capabilities } from './caps-body.js';
export { assignSlots, MAX_NODES, nodeSeed, SLOT_COUNT, slotOf, slotWeight } from './slots.js';
export {
  decodeMovedBody,
  decodeTopologyBody,
  encodeMovedBody,
  encodeTopologyBody,
  MAX_NODE_NAME,
  SLOT_SCHEME,
  STANDALONE,
  type Moved,
  type Topology,
} from './topology-body.js';
export { FragmentAssembler, fragmentCount, fragmentFrames, needsFragments, type AssemblerState, type FragmentFrame, type FragmentStep } from './fragments.js';
