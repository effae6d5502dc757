import { LibsodiumFrameAead, loadSodium, type Sodium } from './aead-libsodium.js';
import { NodeFrameAead } from './aead-node.js';
import { NobleFrameAead } from './aead-noble.js';
import { AEAD_NAMES, type AeadName, type FrameAead } from './frame-aead.js';

/**
 * Which frame AEAD this process uses, chosen once, the first time a secure
 * session needs one (or `conduit-server` asks at start-up): libsodium when
 * `sodium-native` loads, `node:crypto` otherwise (measured faster than the
 * pure-JS noble at every size, README "Secure mode"). `CONDUIT_AEAD`
 * overrides it: `node` or `noble` forces that one (how the tests run the
 * secure suite against each, and a way out should the native binding
 * misbehave), `libsodium` insists on the native one.
 *
 * Nothing is chosen when the module loads, so a bad `CONDUIT_AEAD` never
 * stops a program that imports the package without using secure mode, and
 * `conduit-server` can refuse it with its usual one-line error.
 *
 * @module
 */

/** The environment variable that picks the implementation. */
export const AEAD_ENV = 'CONDUIT_AEAD';

/**
 * What {@link chooseAead} settled on: the implementation and, when it is not
 * libsodium, why (forced, or the binding's load error).
 */
export interface AeadChoice {
  readonly implementation: AeadName;
  /** Why libsodium is not in use; `undefined` when it is. */
  readonly fallbackReason: string | undefined;
}

/**
 * `sodium-native`, loaded the first time something needs it: with
 * `CONDUIT_AEAD=node` or `noble` a process that never asks for libsodium
 * never loads the native addon at all.
 */
let loaded: ReturnType<typeof loadSodium> | undefined;
const sodium = (): ReturnType<typeof loadSodium> => (loaded ??= loadSodium());
/** The first line of why `sodium-native` did not load. */
const whyNot = (err: Error): string => err.message.split('\n', 1)[0] ?? '';

/**
 * The implementation `env` asks for (`undefined`: unset or empty, the
 * default), without loading anything; a `TypeError` naming the variable and
 * the accepted values for anything else. `conduit-server` checks the
 * variable with it even when secure mode is off.
 *
 * @example
 * ```ts
 * requestedAead({ CONDUIT_AEAD: 'node' }); // 'node'
 * requestedAead({ CONDUIT_AEAD: 'fast' }); // throws TypeError: CONDUIT_AEAD must be libsodium, node or noble (or unset), got 'fast'
 * ```
 */
export function requestedAead(env: Readonly<Record<string, string | undefined>>): AeadName | undefined {
  const wanted = env[AEAD_ENV];
  if (wanted === undefined || wanted === '') return undefined;
  if (!(AEAD_NAMES as readonly string[]).includes(wanted)) {
    throw new TypeError(`${AEAD_ENV} must be libsodium, node or noble (or unset), got '${wanted}'`);
  }
  return wanted as AeadName;
}

/**
 * Chooses the implementation for `env`: unset or empty → libsodium if it
 * loads, else node:crypto; `node` or `noble` → that one; `libsodium` →
 * libsodium, or a `TypeError` when it cannot load. Any other value is a
 * `TypeError` naming the variable and the accepted values.
 *
 * @example
 * ```ts
 * chooseAead({ CONDUIT_AEAD: 'noble' }); // { implementation: 'noble', fallbackReason: 'CONDUIT_AEAD=noble' }
 * chooseAead({});                        // { implementation: 'libsodium', fallbackReason: undefined } where sodium-native loads
 * ```
 */
export function chooseAead(env: Readonly<Record<string, string | undefined>>): AeadChoice {
  const wanted = requestedAead(env);
  if (wanted === 'node' || wanted === 'noble') return { implementation: wanted, fallbackReason: `${AEAD_ENV}=${wanted}` };
  const binding = sodium();
  if (!(binding instanceof Error)) return { implementation: 'libsodium', fallbackReason: undefined };
  if (wanted === 'libsodium') throw new TypeError(`${AEAD_ENV}=libsodium but sodium-native did not load: ${whyNot(binding)}`);
  return { implementation: 'node', fallbackReason: `sodium-native did not load: ${whyNot(binding)}` };
}

let chosen: AeadChoice | undefined;

/**
 * The implementation every {@link FrameCipher} of this process uses by
 * default, and why it is not libsodium when it is not: chosen from
 * `process.env.CONDUIT_AEAD` on the first call (see {@link chooseAead}),
 * then fixed for the life of the process. Throws the `TypeError` of a bad
 * `CONDUIT_AEAD` (on every call: nothing is fixed until a choice is made).
 * `conduit-server` calls it at start-up and logs the answer.
 *
 * @example
 * ```ts
 * import { aeadChoice } from 'conduit-cache';
 * const { implementation, fallbackReason } = aeadChoice(); // 'libsodium', undefined
 * ```
 */
export function aeadChoice(): AeadChoice {
  return (chosen ??= chooseAead(process.env));
}

/**
 * A frame AEAD for one session direction (key and 16-byte nonce prefix,
 * spec §6.3), from `implementation` (default: the process's
 * {@link aeadChoice}). Asking for libsodium where it did not load is a
 * `TypeError`.
 *
 * @example
 * ```ts
 * const send = createFrameAead(keys.c2s, keys.prefixC2s);
 * const oracle = createFrameAead(keys.c2s, keys.prefixC2s, 'noble');
 * ```
 */
export function createFrameAead(key: Uint8Array, prefix: Uint8Array, implementation: AeadName = aeadChoice().implementation): FrameAead {
  if (implementation === 'noble') return new NobleFrameAead(key, prefix);
  if (implementation === 'node') return new NodeFrameAead(key, prefix);
  const binding = sodium();
  if (binding instanceof Error) throw new TypeError(`libsodium is not available: ${whyNot(binding)}`);
  return new LibsodiumFrameAead(binding, key, prefix);
}

/**
 * The `sodium-native` binding, loaded on first call (never at import), or
 * why it did not load: the handshake's X25519 (./x25519.ts) shares the one
 * load with the frame AEAD.
 *
 * @example
 * ```ts
 * const sodium = sodiumBinding();
 * if (!(sodium instanceof Error)) sodium.randombytes_buf(buffer);
 * ```
 */
export function sodiumBinding(): Sodium | Error {
  return sodium();
}

/**
 * True when `sodium-native` loaded in this process (whatever `CONDUIT_AEAD`
 * chose): the tests compare both implementations only where both exist.
 *
 * @example
 * ```ts
 * if (libsodiumAvailable()) expect(sealWith('libsodium')).toEqual(sealWith('noble'));
 * ```
 */
export function libsodiumAvailable(): boolean {
  return !(sodium() instanceof Error);
}
