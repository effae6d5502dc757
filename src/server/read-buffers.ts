/**
 * Keeps the socket read buffers the process has finished with from piling up
 * (issue 17, "Process RSS" in docs/STORAGE.md). Node hands every socket read
 * out in a buffer of its own, outside the V8 heap, and frees it only when a
 * garbage collection finds its `Buffer` dead. The store keeps nothing on the
 * heap and a request allocates almost nothing there, so the young generation
 * fills slowly and V8 collects only when dead external memory reaches its own
 * soft limit (64 MiB): under a write load that is most of `--max-memory` again
 * in RSS. A minor collection after every {@link READ_GC_BYTES} read costs
 * about one scavenge of a 1 MiB young generation per thousands of requests and
 * keeps the dead read buffers to about that much.
 *
 * It runs only where the process exposes `gc` (`conduit-server`'s first line
 * passes `--expose-gc`); started another way, nothing is collected early.
 *
 * @module
 */

/** Bytes read by all connections between two minor collections. */
export const READ_GC_BYTES = 512 * 1024;

/** A minor (young-generation) collection, or `undefined` where `gc` is not exposed. */
export type MinorCollector = (() => void) | undefined;

const exposed = (globalThis as { gc?: (options: { type: 'minor' | 'major' }) => void }).gc;
/** The process's own collector: `gc({ type: 'minor' })` when `--expose-gc` was given. */
export const processCollector: MinorCollector = exposed === undefined ? undefined : () => exposed({ type: 'minor' });

/**
 * Counts bytes read and collects the young generation after every `every`.
 *
 * @example
 * ```ts
 * const reads = new ReadBuffers();
 * socket.on('data', (chunk) => reads.note(chunk.length));
 * ```
 */
export class ReadBuffers {
  readonly #collect: MinorCollector;
  readonly #every: number;
  #since = 0;

  constructor(collect: MinorCollector = processCollector, every = READ_GC_BYTES) {
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`every option must be a positive integer, got ${every}`);
    this.#collect = collect;
    this.#every = every;
  }

  /** Whether collections run at all (false: `gc` is not exposed). */
  get active(): boolean {
    return this.#collect !== undefined;
  }

  /** Counts `bytes` just read; collects once every `every` bytes. */
  note(bytes: number): void {
    if (this.#collect === undefined) return;
    this.#since += bytes;
    if (this.#since < this.#every) return;
    this.#since = 0;
    this.#collect();
  }
}

/** The one counter of this process: collections are process-wide, so are the bytes counted. */
export const readBuffers = new ReadBuffers();
