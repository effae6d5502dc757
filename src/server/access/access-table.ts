import { createHash } from 'node:crypto';
import type { PreSharedKey } from '../../crypto/handshake.js';
import type { AccessToken, CertificateRule } from '../../crypto/keys.js';
import { Rights } from './rights.js';

/**
 * The credentials a server checks and the rights each one grants (issue 25):
 * what its key file holds (`--key-file`: `[[keys]]`, `[[tokens]]`,
 * `[[certificates]]`) and the keys of `CONDUIT_KEY` (every right).
 *
 * @example
 * ```ts
 * const config: AccessConfig = { keys: [{ id: 'app1', secret }], tokens: [], certificates: [] };
 * ```
 */
export interface AccessConfig {
  readonly keys: readonly PreSharedKey[];
  readonly tokens: readonly AccessToken[];
  readonly certificates: readonly CertificateRule[];
}

/** Credentials given on the command line, each with every right: RESP's `default` user and the HTTP bearer. */
export interface AccessExtras {
  /** `--resp-password`: `AUTH <password>` and `AUTH default <password>`. */
  readonly respPassword?: string | undefined;
  /** `--http-token`: a bearer token with every right, counted as `http-token`. */
  readonly httpToken?: string | undefined;
}

/** The id STATS and metrics count a client certificate that no `[[certificates]]` rule names under. */
export const UNMATCHED_CERTIFICATE_ID = 'unmatched-certificate';

const digestHex = (kind: string, secret: string | Uint8Array): string => createHash('sha256').update(kind).update('\0').update(secret).digest('hex');

/**
 * One generation of the server's credentials and rights (issue 25), looked up
 * by the connection kinds: a secure-mode HELLO's key id ({@link forKey}), an
 * HTTP bearer token ({@link forToken}), a RESP `AUTH` ({@link forUser}), a
 * TLS client certificate ({@link forCertificate}). Immutable: a reload builds
 * a new table, and a session that started under an older one keeps its
 * rights while {@link holds} says its credential is still there (spec §6.8).
 * Secrets are compared as SHA-256 digests, so a lookup takes the same time
 * whichever bytes match.
 *
 * @example
 * ```ts
 * const table = new AccessTable(readKeyFile('keys.toml'), { respPassword: undefined });
 * const rights = table.forKey('app1'); // after HELLO named app1
 * ```
 */
export class AccessTable {
  /** Pre-shared keys by id for HELLO (spec §6.1); `undefined`: plaintext mode. */
  readonly keys: ReadonlyMap<string, Buffer> | undefined;
  readonly #byKey: ReadonlyMap<string, Rights>;
  /** Tokens by the digest of the token: HTTP bearers. */
  readonly #byToken: ReadonlyMap<string, Rights>;
  /** Tokens by id: RESP users, with the digest of their token. */
  readonly #byUser: ReadonlyMap<string, { readonly digest: string; readonly rights: Rights }>;
  readonly #bySubject: ReadonlyMap<string, Rights>;
  readonly #respPassword: string | undefined;
  /** Each file id's credential digest, for {@link holds}. */
  readonly #credentials: ReadonlyMap<string, string>;
  /**
   * The credential digest of each Rights this table made from a file entry, for
   * {@link credentialOf}: by the object, not its id, so rights made on the fly (an unruled
   * certificate named by its CN, `unmatched-certificate`, `default`, `http-token`) never take
   * the credential of a file entry whose id happens to be the same string.
   */
  readonly #issued: ReadonlyMap<Rights, string>;
  readonly config: AccessConfig;

  constructor(config: AccessConfig, extras: AccessExtras = {}) {
    this.config = config;
    const credentials = new Map<string, string>();
    const issued = new Map<Rights, string>();
    const credit = (rights: Rights, digest: string): void => {
      credentials.set(rights.id, digest);
      issued.set(rights, digest);
    };
    const byKey = new Map<string, Rights>();
    for (const key of config.keys) {
      const rights = key.rule === undefined ? Rights.all(key.id, 'key') : new Rights(key.id, 'key', key.rule);
      byKey.set(key.id, rights);
      credit(rights, digestHex('key', key.secret));
    }
    const byToken = new Map<string, Rights>();
    const byUser = new Map<string, { digest: string; rights: Rights }>();
    if (extras.httpToken !== undefined) byToken.set(digestHex('token', extras.httpToken), Rights.all('http-token', 'password'));
    for (const token of config.tokens) {
      const rights = new Rights(token.id, 'token', token.rule);
      const digest = digestHex('token', token.token);
      // Two ids with one token: the first keeps it (a file should not do that; neither gets more).
      if (!byToken.has(digest)) byToken.set(digest, rights);
      byUser.set(token.id, { digest, rights });
      credit(rights, digest);
    }
    const bySubject = new Map<string, Rights>();
    for (const cert of config.certificates) {
      const rights = new Rights(cert.id, 'certificate', cert.rule);
      bySubject.set(cert.subject, rights);
      credit(rights, digestHex('certificate', cert.subject));
    }
    this.keys = config.keys.length === 0 ? undefined : new Map(config.keys.map((k) => [k.id, k.secret]));
    this.#byKey = byKey;
    this.#byToken = byToken;
    this.#byUser = byUser;
    this.#bySubject = bySubject;
    this.#respPassword = extras.respPassword === undefined ? undefined : digestHex('token', extras.respPassword);
    this.#credentials = credentials;
    this.#issued = issued;
  }

  /** Secure mode (spec §6): keys are configured. */
  get secure(): boolean {
    return this.keys !== undefined;
  }

  /** Whether the HTTP data routes need a bearer token: `--http-token` or any `[[tokens]]`. */
  get httpAuthRequired(): boolean {
    return this.#byToken.size > 0;
  }

  /** Whether the RESP port needs `AUTH`: `--resp-password` or any `[[tokens]]`. */
  get respAuthRequired(): boolean {
    return this.#respPassword !== undefined || this.#byUser.size > 0;
  }

  /** Whether any `[[certificates]]` rule exists (then a certificate none names has no right). */
  get certificateRules(): boolean {
    return this.#bySubject.size > 0;
  }

  /** The rights of a session whose HELLO named key `id` (spec §6.2); `undefined` for an unknown id. */
  forKey(id: string): Rights | undefined {
    return this.#byKey.get(id);
  }

  /** The rights of an HTTP bearer `token` (`--http-token` or a `[[tokens]]` token), or `undefined`. */
  forToken(token: string): Rights | undefined {
    return this.#byToken.get(digestHex('token', token));
  }

  /**
   * RESP `AUTH [user] password` (Redis 6): `user` absent or `default` checks
   * `--resp-password` (every right); another user is a `[[tokens]]` id and its token.
   * `undefined`: Redis's WRONGPASS.
   */
  forUser(user: string | undefined, password: Uint8Array): Rights | undefined {
    const digest = digestHex('token', password);
    if (user === undefined || user === 'default') {
      return this.#respPassword !== undefined && this.#respPassword === digest ? Rights.all('default', 'password') : undefined;
    }
    const entry = this.#byUser.get(user);
    return entry !== undefined && entry.digest === digest ? entry.rights : undefined;
  }

  /**
   * The rights of a connection whose TLS client certificate (verified by
   * `--tls-ca`) has common name `subject`: every right when the key file has no
   * `[[certificates]]` (as before issue 25); else the rule naming that subject,
   * or none at all.
   */
  forCertificate(subject: string | undefined): Rights {
    if (this.#bySubject.size === 0) return Rights.all(subject ?? 'certificate', 'certificate');
    return (subject === undefined ? undefined : this.#bySubject.get(subject)) ?? Rights.none(UNMATCHED_CERTIFICATE_ID, 'certificate');
  }

  /**
   * Whether a session that started with `rights` (under this table or an older one)
   * may go on under this table (spec §6.8): its credential is still configured
   * under its id (same key, token or certificate subject). Credentials from the
   * command line and the all-rights of an unruled certificate always hold.
   */
  holds(rights: Rights, credential: string | undefined): boolean {
    if (rights.kind === 'password' || credential === undefined) return true;
    return this.#credentials.get(rights.id) === credential;
  }

  /**
   * The credential digest a session keeps to ask {@link holds} after a reload: that of the
   * file entry `rights` came from; `undefined` for rights no entry gave (they always hold).
   */
  credentialOf(rights: Rights): string | undefined {
    return this.#issued.get(rights);
  }
}
