// `conduit-server`'s credentials (issue 25, spec §3.17, §6.8): the key file's [[keys]], [[tokens]]
// and [[certificates]] (readKeyFile) and CONDUIT_KEY's key, read at start and again by every reload
// (SIGHUP, RELOAD, ACL LOAD) through the same loader, so a reload sees exactly what a restart would.
import type { PreSharedKey } from '../crypto/handshake.js';
import { readKeyFile, RESERVED_IDS, type AccessToken, type CertificateRule } from '../crypto/keys.js';
import type { AccessConfig } from '../server/access/access-table.js';
import type { ServerOptions } from '../server/options.js';

/**
 * What the server starts with: the credentials, and the loader a reload calls
 * (`undefined` without `--key-file`: nothing to re-read).
 *
 * @example
 * ```ts
 * const access: AccessSettings = { keys, tokens: [], certificates: [], load: () => readAccess('keys.toml', undefined, 'CONDUIT_KEY') };
 * ```
 */
export interface AccessSettings extends AccessConfig {
  readonly keys: readonly PreSharedKey[];
  readonly tokens: readonly AccessToken[];
  readonly certificates: readonly CertificateRule[];
  readonly load: (() => AccessConfig) | undefined;
}

/** Which table of the key file holds `id`, if any. */
function tableOf(config: AccessConfig, id: string): string | undefined {
  if (config.keys.some((k) => k.id === id)) return '[[keys]]';
  if (config.tokens.some((t) => t.id === id)) return '[[tokens]]';
  if (config.certificates.some((c) => c.id === id)) return '[[certificates]]';
  return undefined;
}

/**
 * Reads the key file at `path` and adds `extra` (CONDUIT_KEY's key, every right) to its keys.
 * An id of the file that `extra` also uses is refused naming both (`extraOrigin` and the file's
 * table): which of the two keys a HELLO meant would otherwise depend on the order they were read.
 * Throws a `TypeError` whose message names the file and the entry.
 *
 * @example
 * ```ts
 * const config = readAccess('keys.toml', parseKeySpec(process.env.CONDUIT_KEY!), 'CONDUIT_KEY');
 * ```
 */
export function readAccess(path: string, extra: PreSharedKey | undefined, extraOrigin: string): AccessConfig {
  const file = readKeyFile(path);
  if (extra === undefined) return file;
  const clash = tableOf(file, extra.id);
  if (clash !== undefined) {
    throw new TypeError(`${extraOrigin} and ${path} both name key id '${extra.id}' (${clash} there): give one of them another id`);
  }
  const same = file.keys.find((k) => k.secret.equals(extra.secret));
  if (same !== undefined) {
    // CONDUIT_KEY has every right: the same secret under a limited id would open both.
    throw new TypeError(`${extraOrigin}'s key is also key '${same.id}' of ${path}: each id needs its own key`);
  }
  return { keys: [...file.keys, extra], tokens: file.tokens, certificates: file.certificates };
}

/**
 * The credentials `--key-file` (`keyFile`) and `--key`/CONDUIT_KEY (`key`) give, with the
 * loader of reloads: the same file read again and the same `key` added again (spec §6.8).
 * Throws a `TypeError` naming the file and entry (or the clash) when they are bad.
 *
 * @example
 * ```ts
 * const access = accessSettings('keys.toml', undefined, 'CONDUIT_KEY');
 * access.load?.(); // what SIGHUP would install
 * ```
 */
export function accessSettings(keyFile: string | undefined, key: PreSharedKey | undefined, keyOrigin: string): AccessSettings {
  if (key !== undefined && RESERVED_IDS.has(key.id)) throw new TypeError(`${keyOrigin}: key id '${key.id}' is reserved`);
  if (keyFile === undefined) return { keys: key === undefined ? [] : [key], tokens: [], certificates: [], load: undefined };
  const config = readAccess(keyFile, key, keyOrigin);
  return { ...config, load: () => readAccess(keyFile, key, keyOrigin) };
}

/**
 * The start-up line's `access` field: how many keys, tokens and certificate rules serve, and
 * their ids, never a secret; `false` when there are none (plaintext, every right).
 *
 * @example
 * ```ts
 * accessField({ keys: [app1], tokens: [], certificates: [], load }); // { keys: 1, tokens: 0, certificates: 0, keyIds: ['app1'], …, reloadable: true }
 * ```
 */
export function accessField(access: AccessSettings): unknown {
  const { keys, tokens, certificates } = access;
  if (keys.length + tokens.length + certificates.length === 0) return false;
  return {
    keys: keys.length,
    tokens: tokens.length,
    certificates: certificates.length,
    keyIds: keys.map((k) => k.id),
    tokenIds: tokens.map((t) => t.id),
    certificateIds: certificates.map((c) => c.id),
    reloadable: access.load !== undefined,
  };
}

/**
 * `load` (the key file's loader) checked as the start checked the file (issue 25): a reload
 * that brings `[[certificates]]` without --tls-client-auth, or that removes the last
 * `[[tokens]]` entry while tokens are the only credential of the HTTP gateway or the RESP
 * port (no --http-token / --resp-password), is refused: the previous table stays, and the
 * port never opens to anyone by a reload.
 *
 * @example
 * ```ts
 * options.reloadAccess = guardedReload(access.load, options, 'keys.toml');
 * ```
 */
export function guardedReload(load: () => AccessConfig, options: Partial<ServerOptions>, file: string): () => AccessConfig {
  const tokensGuard: string[] = [];
  if ((options.tokens ?? []).length > 0) {
    if (options.httpPort !== undefined && options.httpToken === undefined) tokensGuard.push('the HTTP gateway');
    if ((options.respPort !== undefined || options.respSocket !== undefined) && options.respPassword === undefined) tokensGuard.push('the RESP port');
  }
  return () => {
    const next = load();
    if (next.certificates.length > 0 && options.tls?.clientAuth !== true) {
      throw new TypeError(`${file}: [[certificates]] need --tls-client-auth (with --tls-cert, --tls-key and --tls-ca); restart with it to use them`);
    }
    if (next.tokens.length === 0 && tokensGuard.length > 0) {
      throw new TypeError(`${file}: no [[tokens]] left, but they are the only credential of ${tokensGuard.join(' and ')}: a reload would open it to anyone; restart to run without tokens`);
    }
    return next;
  };
}
