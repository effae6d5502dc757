/**
 * The store's change hook (issue 21): what {@link StoreOptions.onChange}
 * is called with, and the one place that builds it. Server-side tracking
 * (INVALIDATE pushes, spec §3.15) and leases (spec §3.16) both need to know
 * every key that changes, whatever changed it — a request, the HTTP gateway,
 * the expiry sweep or an eviction — so the hook sits in the store, below
 * them all.
 *
 * @example
 * ```ts
 * const store = new Store({ onChange: (change) => console.log(change.cause, change.key?.toString('latin1')) });
 * ```
 * @module
 */
import { NONE } from './slab/layout.js';
import type { SlabEngine } from './slab/slab-engine.js';

/**
 * What changed a key: a stored SET of any kind (`'set'`), a DELETE that
 * removed it (`'delete'`), INCR (`'incr'`), RENEW (`'renew'`), GAT's expiry
 * change (`'gat'`), expiry found on access or by the sweep (`'expired'`),
 * eviction (`'evicted'`), or FLUSH (`'flush'`, once, for every key).
 */
export type ChangeCause = 'set' | 'delete' | 'incr' | 'renew' | 'gat' | 'expired' | 'evicted' | 'flush';

/**
 * One change, passed to the hook synchronously **before** the item is
 * removed or overwritten. `key` is a view valid only during the call (copy
 * it to keep it), `undefined` for FLUSH; `previousValue()` returns a copy of
 * the value the key held before the change, or `undefined` when it held
 * none (a SET or INCR creating it, FLUSH); call it during the call too.
 *
 * @example
 * ```ts
 * const onChange = (change: StoreChange): void => {
 *   if (change.cause !== 'flush') seen.add(change.key.toString('latin1'));
 * };
 * ```
 */
export type StoreChange =
  | { readonly cause: Exclude<ChangeCause, 'flush'>; readonly key: Buffer; previousValue(): Buffer | undefined }
  | { readonly cause: 'flush'; readonly key: undefined; previousValue(): undefined };

/** The hook's signature (see {@link StoreChange}). It must not call the store back. */
export type ChangeHook = (change: StoreChange) => void;

/** Keys are at most 250 bytes (spec §3.1): one scratch buffer holds any key read back from a chunk. */
const KEY_SCRATCH = 256;

/**
 * Builds and delivers {@link StoreChange}s for a store with a hook. The
 * store holds none when no hook is set, so a store without one pays one
 * `undefined` check per change path and allocates nothing.
 *
 * @example
 * ```ts
 * const notify = new ChangeNotifier(engine, hook);
 * notify.ofKey('delete', body, 0, body.length, handle); // before engine.remove(handle)
 * ```
 */
export class ChangeNotifier {
  readonly #engine: SlabEngine;
  readonly #hook: ChangeHook;
  readonly #scratch = Buffer.alloc(KEY_SCRATCH);

  constructor(engine: SlabEngine, hook: ChangeHook) {
    this.#engine = engine;
    this.#hook = hook;
  }

  /**
   * A change of the key that is `length` bytes of `source` from `start`,
   * whose live item is `handle` (or {@link NONE} when absent).
   */
  ofKey(cause: Exclude<ChangeCause, 'flush'>, source: Uint8Array, start: number, length: number, handle: number): void {
    const key = Buffer.from(source.buffer, source.byteOffset + start, length);
    this.#hook({ cause, key, previousValue: () => this.#copy(handle) });
  }

  /** A change of the live item `handle`, its key read back from its chunk (the sweep and eviction know only the handle). */
  ofHandle(cause: 'expired' | 'evicted', handle: number): void {
    const length = this.#engine.copyKey(handle, this.#scratch, 0);
    const key = this.#scratch.subarray(0, length);
    this.#hook({ cause, key, previousValue: () => this.#copy(handle) });
  }

  /** FLUSH: every key, once. */
  flush(): void {
    this.#hook({ cause: 'flush', key: undefined, previousValue: () => undefined });
  }

  /** A copy of the value of `handle`, or `undefined` for {@link NONE}. */
  #copy(handle: number): Buffer | undefined {
    if (handle === NONE || !this.#engine.isLive(handle)) return undefined;
    const value = Buffer.allocUnsafe(this.#engine.valueLength(handle));
    this.#engine.copyValue(handle, value, 0);
    return value;
  }
}
