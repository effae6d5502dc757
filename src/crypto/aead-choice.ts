import { LibsodiumFrameAead, loadSodium } from './aead-libsodium.js';
import { NobleFrameAead } from './aead-noble.js';
import { AEAD_NAMES, type AeadName, type FrameAead } from './frame-aead.js';

/**
 * Which frame AEAD this process uses, chosen once when the module loads
 * (start-up): libsodium when `sodium-native` loads, `@noble/ciphers`
 * otherwise. `CONDUIT_AEAD` overrides it: `noble` forces the fallback (how
 * the tests run the secure suite against both, and a way out should the
 * native binding misbehave), `libsodium` insists on the native one.
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
 * `CONDUIT_AEAD=noble` a process that never asks for libsodium never loads
 * the native addon at all.
 */
let loaded: ReturnType<typeof loadSodium> | undefined;
const sodium = (): ReturnType<typeof loadSodium> => (loaded ??= loadSodium());
/** The first line of why `sodium-native` did not load. */
const whyNot = (err: Error): string => err.message.split('\n', 1)[0] ?? '';

/**
 * Chooses the implementation for `env` (`process.env` at start-up): unset
 * or empty → libsodium if it loaded, else noble; `noble` → noble;
 * `libsodium` → libsodium, or a `TypeError` when it cannot load. Any other
 * value is a `TypeError` naming the variable and the accepted values.
 *
 * @example
 * ```ts
 * chooseAead({ CONDUIT_AEAD: 'noble' }); // { implementation: 'noble', fallbackReason: 'CONDUIT_AEAD=noble' }
 * chooseAead({ CONDUIT_AEAD: 'fast' });  // throws TypeError: CONDUIT_AEAD must be libsodium or noble (or unset), got 'fast'
 * ```
 */
export function chooseAead(env: Readonly<Record<string, string | undefined>>): AeadChoice {
  const wanted = env[AEAD_ENV];
  if (wanted === undefined || wanted === '') {
    const binding = sodium();
    return binding instanceof Error
      ? { implementation: 'noble', fallbackReason: `sodium-native did not load: ${whyNot(binding)}` }
      : { implementation: 'libsodium', fallbackReason: undefined };
  }
  if (!(AEAD_NAMES as readonly string[]).includes(wanted)) {
    throw new TypeError(`${AEAD_ENV} must be ${AEAD_NAMES.join(' or ')} (or unset), got '${wanted}'`);
  }
  if (wanted === 'noble') return { implementation: 'noble', fallbackReason: `${AEAD_ENV}=noble` };
  const binding = sodium();
  if (binding instanceof Error) throw new TypeError(`${AEAD_ENV}=libsodium but sodium-native did not load: ${whyNot(binding)}`);
  return { implementation: 'libsodium', fallbackReason: undefined };
}

/**
 * The implementation every {@link FrameCipher} of this process uses, and why
 * it is not libsodium when it is not; fixed at start-up from `CONDUIT_AEAD`
 * (see {@link chooseAead}). `conduit-server` logs it at start.
 *
 * @example
 * ```ts
 * import { aeadChoice } from 'conduit-cache';
 * console.log(aeadChoice.implementation); // 'libsodium'
 * ```
 */
export const aeadChoice: AeadChoice = chooseAead(process.env);

/**
 * `'libsodium'` or `'noble'`: the implementation in use (`aeadChoice.implementation`).
 *
 * @example
 * ```ts
 * import { aeadImplementation } from 'conduit-cache';
 * if (aeadImplementation === 'noble') log.warn('secure mode runs on the pure-JS fallback');
 * ```
 */
export const aeadImplementation: AeadName = aeadChoice.implementation;

/**
 * A frame AEAD for one session direction (key and 16-byte nonce prefix,
 * spec §6.3), from `implementation` (default: the one in use). Asking for
 * libsodium where it did not load is a `TypeError`.
 *
 * @example
 * ```ts
 * const send = createFrameAead(keys.c2s, keys.prefixC2s);
 * const oracle = createFrameAead(keys.c2s, keys.prefixC2s, 'noble');
 * ```
 */
export function createFrameAead(key: Uint8Array, prefix: Uint8Array, implementation: AeadName = aeadImplementation): FrameAead {
  if (implementation === 'noble') return new NobleFrameAead(key, prefix);
  const binding = sodium();
  if (binding instanceof Error) throw new TypeError(`libsodium is not available: ${whyNot(binding)}`);
  return new LibsodiumFrameAead(binding, key, prefix);
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
