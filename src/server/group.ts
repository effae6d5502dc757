import { Status } from '../protocol/constants.js';
import type { RequestOp, RequestView } from '../protocol/request-reader.js';
import { slotOf } from '../protocol/slots.js';
import { encodeMovedBody, encodeTopologyBody, SLOT_SCHEME } from '../protocol/topology-body.js';
import type { KeyOwnership, Reply } from './execute.js';
import type { ServerGroup } from './options.js';

/**
 * A server's place in a group (spec §3.14, protocol 1.2): which slots it
 * owns, its TOPOLOGY answer, and the MOVED it sends for a key another server
 * owns. A standalone server has none of this: its ExecutionContext has no
 * `group`, and the hot path pays one `undefined` test.
 *
 * @module
 */

/**
 * spec §3.14: the operations that name one key, the ones a server of a group answers
 * MOVED for when another server owns the key's slot. LIST and SCAN take a prefix, not a
 * key: they are per server, like STATS, FLUSH, HEALTH, CAPS, TOPOLOGY, SHUTDOWN and HELLO.
 */
const KEY_BEARING: Readonly<Record<RequestOp, boolean>> = {
  GET: true,
  SET: true,
  DELETE: true,
  RENEW: true,
  INCR: true,
  TTL: true,
  GETS: true,
  GAT: true,
  LEASE: true,
  LIST: false,
  SCAN: false,
  HEALTH: false,
  SHUTDOWN: false,
  STATS: false,
  FLUSH: false,
  CAPS: false,
  TOPOLOGY: false,
  TRACKING: false,
  HELLO: false,
  RELOAD: false,
};

/**
 * The slot table of one server of a group, and its answers.
 *
 * @example
 * ```ts
 * const nodes = ['127.0.0.1:7171', '127.0.0.1:7172'];
 * const ownership = new SlotOwnership({ self: 0, epoch: 1, nodes, table: assignSlots(nodes) }, () => (moved += 1));
 * const reply = ownership.moved(request); // undefined: this server owns the key; else MOVED naming the owner
 * ```
 */
export class SlotOwnership implements KeyOwnership {
  /** TOPOLOGY's OK answer, encoded once (the map does not change while the server runs). */
  readonly topology: Reply;
  readonly #self: number;
  readonly #epoch: number;
  readonly #nodes: readonly string[];
  readonly #table: Uint8Array;
  readonly #count: () => void;

  /** `group`: validated (resolveServerOptions); `count`: called once per MOVED answer (STATS `moved`). */
  constructor(group: ServerGroup, count: () => void) {
    this.#self = group.self;
    this.#epoch = group.epoch;
    this.#nodes = [...group.nodes];
    this.#table = new Uint8Array(group.table); // a copy: a caller that reuses its table cannot change ownership under us
    this.#count = count;
    const body = encodeTopologyBody({ scheme: SLOT_SCHEME, self: group.self, epoch: group.epoch, nodes: this.#nodes, table: this.#table });
    this.topology = { status: Status.OK, body };
  }

  /**
   * MOVED for a key-bearing request whose key's slot another server owns
   * (spec §3.14), or `undefined` when this server runs it. Reads the key
   * where it came in (a view, no copy).
   */
  moved(request: RequestView): Reply | undefined {
    if (!KEY_BEARING[request.op]) return undefined;
    const { keySource, keyStart, keyLength } = request;
    const slot = slotOf(keySource.subarray(keyStart, keyStart + keyLength));
    const node = this.#table[slot] as number;
    if (node === this.#self) return undefined;
    this.#count();
    return { status: Status.MOVED, body: encodeMovedBody({ slot, node, epoch: this.#epoch, name: this.#nodes[node] as string }) };
  }

  /** STATS `group` (spec §5.2): this server's index, the epoch and the names. */
  get summary(): { self: number; epoch: number; nodes: readonly string[] } {
    return { self: this.#self, epoch: this.#epoch, nodes: this.#nodes };
  }
}
