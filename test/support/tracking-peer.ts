import type { PreSharedKey, Request } from '../../src/index.js';
import type { SecureSession } from '../../src/crypto/handshake.js';
import { SEALED, SERVER_ID_BASE } from '../../src/protocol/constants.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import { headerOf, idOf, type Frame } from '../../src/protocol/header.js';
import type { RawClient } from './raw-client.js';
import { secureRaw } from './secure-client.js';
import { rawClient } from './server.js';

/** How a peer's frames travel: plaintext, sealed one by one (spec §6.4), or in sealed envelopes (§6.7). */
export type PeerMode = 'plaintext' | 'per-frame' | 'envelopes';

/** One answer or push as the peer read it (opened, out of its envelope). */
export interface PeerFrame {
  readonly status: number;
  readonly id: bigint;
  readonly body: Buffer;
  /** Whether it came inside a sealed envelope. */
  readonly enveloped: boolean;
  /** Whether it came sealed alone (a per-frame session). */
  readonly sealed: boolean;
}

/**
 * A raw connection for tracking tests (spec §3.15): sends requests with
 * increasing identifiers in its mode and records every frame the server
 * sent, opened, in order.
 */
export interface Peer {
  readonly raw: RawClient;
  readonly frames: PeerFrame[];
  /** Sends `requests` in one write (one envelope in an envelope session). */
  send(...requests: Request[]): void;
  /** The bytes {@link send} would write for `requests` (the identifiers are used up). */
  bytesOf(...requests: Request[]): Buffer;
  /** Waits until `n` frames have been read in all. */
  until(n: number, timeoutMs?: number): Promise<void>;
  /** Sends `requests` and waits for their answers (and whatever comes before them); returns the frames read meanwhile. */
  ask(...requests: Request[]): Promise<PeerFrame[]>;
}

/** Opens the frames of one wire frame. */
function opened(session: SecureSession | undefined, frame: Frame): PeerFrame[] {
  if (session === undefined || frame.opcode >= 0x60) return [{ status: frame.opcode, id: frame.id, body: frame.body, enveloped: false, sealed: false }];
  const plaintext = session.receive.open(headerOf(frame), frame.body);
  if (plaintext === undefined) throw new Error(`frame ${frame.id} does not authenticate`);
  if (frame.opcode !== SEALED) return [{ status: frame.opcode, id: frame.id, body: Buffer.from(plaintext), enveloped: false, sealed: true }];
  const reader = new EnvelopeReader('response');
  reader.load(Buffer.from(plaintext), 0, plaintext.length);
  const out: PeerFrame[] = [];
  for (let inner = reader.take(); inner !== undefined; inner = reader.take()) {
    if (inner instanceof ProtocolError) throw inner;
    out.push({ status: inner.opcode, id: idOf(inner), body: Buffer.from(inner.body), enveloped: true, sealed: false });
  }
  return out;
}

/** A {@link Peer} on `port` in `mode` (`key` for the secure ones). */
export async function peer(port: number, mode: PeerMode, key?: PreSharedKey): Promise<Peer> {
  let nextId = 1n;
  if (mode === 'plaintext') {
    const raw = await rawClient(port);
    return make(raw, undefined, (requests) => Buffer.concat(requests.flatMap((r) => encodeRequest(nextId++, r))));
  }
  if (key === undefined) throw new Error('a secure peer needs a key');
  const s = await secureRaw(port, key, { envelopes: mode === 'envelopes' });
  if (s.session.envelopes !== (mode === 'envelopes')) throw new Error('the session did not agree to the mode');
  return make(s.raw, s.session, (requests) =>
    mode === 'envelopes' ? s.envelope(requests.map((r) => s.plain(nextId++, r))) : Buffer.concat(requests.map((r) => s.seal(nextId++, r))),
  );
}

function make(raw: RawClient, session: SecureSession | undefined, encode: (requests: Request[]) => Buffer): Peer {
  const frames: PeerFrame[] = [];
  let read = 0;
  const sync = (): void => {
    for (; read < raw.frames.length; read += 1) frames.push(...opened(session, raw.frames[read] as Frame));
  };
  const p: Peer = {
    raw,
    frames,
    bytesOf: (...requests) => encode(requests),
    send(...requests) {
      raw.write(encode(requests));
    },
    async until(n, timeoutMs = 5_000) {
      await raw.until(() => {
        sync();
        return frames.length >= n;
      }, timeoutMs, `${n} frames`);
    },
    async ask(...requests) {
      sync();
      const from = frames.length;
      raw.write(encode(requests));
      // The answers to these requests: frames with identifiers below 2^63, one per request.
      await raw.until(() => {
        sync();
        return frames.slice(from).filter((f) => f.id < SERVER_ID_BASE).length >= requests.length;
      }, 5_000, `${requests.length} answers`);
      return frames.slice(from);
    },
  };
  return p;
}
