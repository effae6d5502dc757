import { FragmentAssembler, fragmentFrames, isFatalStatus, ProtocolError, TAG_SIZE, VERSION_REQUEST, type Frame, type FrameCipher, type Request } from '../../src/index.js';
import { SEALED } from '../../src/protocol/constants.js';
import { EnvelopeReader } from '../../src/protocol/envelope-reader.js';
import { encodeHeader, headerOf, idOf } from '../../src/protocol/header.js';
import { encodeRequestBody } from '../../src/protocol/messages.js';

/** spec §2.1: the largest plaintext body of a frame, and of a sealed one. */
export const PLAIN_BODY = 65_524;
export const SEALED_BODY = 65_508;

/**
 * The frames of `request` with identifier `id` as fragments (spec §2.4), one buffer each, of at most
 * `maxBody` plaintext body bytes, each sealed with its fragment number when `cipher`
 * is given (§6.4's nonce rule). Built with the protocol layer's own splitter.
 */
export function fragmentedRequest(id: bigint, request: Request, maxBody: number, cipher?: FrameCipher): Buffer[] {
  const { opcode, body } = encodeRequestBody(request, 0xffff_ffff);
  const out: Buffer[] = [];
  for (const f of fragmentFrames(opcode, body, maxBody)) {
    const header = encodeHeader(VERSION_REQUEST, f.code, f.length + (cipher === undefined ? 0 : TAG_SIZE), id);
    const body = Buffer.concat(f.body);
    out.push(Buffer.concat([header, cipher === undefined ? body : cipher.seal(header, body, f.index)]));
  }
  return out;
}

/** A response message: its status and identifier, its whole body, and how many frames it came in. */
export interface Message {
  status: number;
  id: bigint;
  body: Buffer;
  frames: number;
}

/**
 * Reassembles response frames (spec §2.4) as a client would, incrementally: {@link take}
 * reads the frames not read yet, opening each with its fragment number when `cipher` is
 * given (envelopes included, §6.7). Throws the BAD_FRAGMENT or authentication failure it finds.
 */
export class Reassembler {
  readonly messages: Message[] = [];
  readonly #cipher: FrameCipher | undefined;
  readonly #assembler: FragmentAssembler;
  readonly #envelope = new EnvelopeReader('response');
  #read = 0;
  #count = 0;

  constructor(cipher?: FrameCipher, limit = 0xffff_ffff) {
    this.#cipher = cipher;
    this.#assembler = new FragmentAssembler(limit);
  }

  /** Reads `frames` from where the last call stopped; returns the messages whole so far. */
  take(frames: readonly Frame[]): Message[] {
    const cipher = this.#cipher;
    for (; this.#read < frames.length; this.#read += 1) {
      const frame = frames[this.#read] as Frame;
      const idHi = Number(frame.id >> 32n);
      const idLo = Number(frame.id & 0xffff_ffffn);
      let body = frame.body;
      if (cipher !== undefined && !isFatalStatus(frame.opcode & 0x7f)) { // spec §2: bit 7 is MORE, not part of the status
        const fragment = frame.opcode === SEALED ? 0 : this.#assembler.fragmentNumber(frame.opcode, idHi, idLo);
        const opened = cipher.open(headerOf(frame), frame.body, fragment);
        if (opened === undefined) throw new Error(`response ${frame.id} failed authentication`);
        body = opened;
      }
      if (cipher !== undefined && frame.opcode === SEALED) {
        // spec §6.7: the frames inside, in order, fragments of a message among them.
        this.#envelope.load(body, 0, body.length);
        for (let inner = this.#envelope.take(); inner !== undefined; inner = this.#envelope.take()) {
          if (inner instanceof ProtocolError) throw inner;
          this.#feed(inner.opcode, inner.idHi, inner.idLo, inner.body);
        }
        continue;
      }
      this.#feed(frame.opcode, idHi, idLo, body);
    }
    return this.messages;
  }

  #feed(code: number, idHi: number, idLo: number, body: Buffer): void {
    const assembler = this.#assembler;
    this.#count += 1;
    const step = assembler.feed(code, idHi, idLo, body, 0, body.length);
    if (step instanceof ProtocolError) throw step;
    const id = idOf({ idHi, idLo });
    if (step === 'frame') this.messages.push({ status: code, id, body: Buffer.from(body), frames: 1 });
    else if (step === 'message') this.messages.push({ status: assembler.code, id, body: assembler.message, frames: this.#count });
    if (step !== 'more') this.#count = 0;
  }
}

/** {@link Reassembler} over `frames` at once. */
export function reassemble(frames: readonly Frame[], cipher?: FrameCipher, limit = 0xffff_ffff): Message[] {
  return new Reassembler(cipher, limit).take(frames);
}
