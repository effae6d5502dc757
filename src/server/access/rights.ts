import type { KeyFilter } from '../../store/list.js';
import { ACCESS_CLASSES, ALL_RIGHTS, type AccessClass, type AccessNeed, type AccessRule, type ForbiddenReason } from '../../protocol/access.js';

/**
 * What kind of credential an identity holds (issue 25), for FORBIDDEN
 * messages and STATS: a secure-mode `key` id, an HTTP/RESP `token`, a TLS
 * client `certificate`, or the server-wide credentials given on the command
 * line (`--resp-password`'s `default` user, `--http-token`), `password`.
 */
export type IdentityKind = 'key' | 'token' | 'certificate' | 'password';

/**
 * One identity's rights, compiled from its {@link AccessRule} for the checks
 * each request makes (spec §3.17): which classes, which key prefixes.
 * Immutable: a reload makes new ones, and a session keeps the one it started
 * with (spec §6.8).
 *
 * @example
 * ```ts
 * const rights = new Rights('app1', 'key', { prefixes: [Buffer.from('app1:')], allow: new Set(['read']) });
 * rights.check(ACCESS_NEEDS.SET, key, 0, key.length); // 'write'
 * rights.message('write');                            // "key 'app1' may not write (allow: read)"
 * ```
 */
export class Rights {
  /** The identity's id: the `key_id` its counters and `conduit_forbidden_total` are labelled with. */
  readonly id: string;
  readonly kind: IdentityKind;
  readonly rule: AccessRule;
  /** Every class and every key: the checks are skipped. */
  readonly unrestricted: boolean;
  /** LIST, SCAN and RESP KEYS/SCAN's store filter: only keys inside the prefixes; `undefined`: every key. */
  readonly keyFilter: KeyFilter | undefined;
  readonly #prefixes: readonly Buffer[] | undefined;
  readonly #read: boolean;
  readonly #write: boolean;
  readonly #admin: boolean;

  constructor(id: string, kind: IdentityKind, rule: AccessRule) {
    this.id = id;
    this.kind = kind;
    this.rule = rule;
    // A prefix "" covers every key: the list then limits nothing.
    this.#prefixes = rule.prefixes === undefined || rule.prefixes.some((p) => p.length === 0) ? undefined : rule.prefixes;
    this.#read = rule.allow.has('read');
    this.#write = rule.allow.has('write');
    this.#admin = rule.allow.has('admin');
    this.unrestricted = this.#prefixes === undefined && this.#read && this.#write && this.#admin;
    this.keyFilter = this.#prefixes === undefined ? undefined : (source, start, length) => this.keyAllowed(source, start, length);
  }

  /** Every right, for `id` (the `default` RESP user, `--http-token`, an entry without limits). */
  static all(id: string, kind: IdentityKind): Rights {
    return new Rights(id, kind, ALL_RIGHTS);
  }

  /** No right at all (a client certificate that no `[[certificates]]` rule names). */
  static none(id: string, kind: IdentityKind): Rights {
    return new Rights(id, kind, { prefixes: [], allow: new Set() });
  }

  /** Whether the identity holds `cls`. */
  may(cls: AccessClass): boolean {
    return cls === 'read' ? this.#read : cls === 'write' ? this.#write : this.#admin;
  }

  /** Whether every key is inside the prefixes (no `prefixes`, or one of them is ""). */
  get everyKey(): boolean {
    return this.#prefixes === undefined;
  }

  /** Whether the key of `length` bytes at `start` of `source` starts with one of the prefixes. */
  keyAllowed(source: Uint8Array, start: number, length: number): boolean {
    const prefixes = this.#prefixes;
    if (prefixes === undefined) return true;
    for (const prefix of prefixes) {
      const n = prefix.length;
      if (n > length) continue;
      let i = 0;
      while (i < n && source[start + i] === prefix[i]) i++;
      if (i === n) return true;
    }
    return false;
  }

  /**
   * Whether every key that starts with `prefix` is inside the prefixes: `prefix` itself
   * starts with one of them (a TRACKING prefix, spec §3.15, may only watch such keys).
   */
  covers(prefix: Uint8Array): boolean {
    return this.keyAllowed(prefix, 0, prefix.length);
  }

  /**
   * What refuses a request with `need` (spec §3.17): nothing when `need.orAdmin` and the
   * identity holds admin; else the first class it lacks, then
   * `prefix` when its one key (`need.keys` `'key'`, `length` bytes of `source` at `start`)
   * is outside the prefixes; `undefined` when it may run. LIST, SCAN and TRACKING check
   * their prefixes themselves ({@link keyAllowed}, {@link covers}).
   */
  check(need: AccessNeed, source?: Uint8Array, start = 0, length = 0): ForbiddenReason | undefined {
    if (this.unrestricted || (need.orAdmin && this.#admin)) return undefined;
    for (const cls of need.classes) if (!this.may(cls)) return cls;
    if (need.keys === 'key' && source !== undefined && !this.keyAllowed(source, start, length)) return 'prefix';
    return undefined;
  }

  /**
   * The FORBIDDEN message for `reason` (spec §3.17: it names the class or the prefix rule;
   * people read it, programs do not parse it).
   *
   * @example
   * ```ts
   * rights.message('prefix'); // "key 'app1' may only touch keys starting with \"app1:\""
   * ```
   */
  message(reason: ForbiddenReason): string {
    const who = `${this.kind} '${this.id}'`;
    if (reason === 'prefix') {
      const list = (this.#prefixes ?? []).map((p) => JSON.stringify(p.toString('utf8')));
      return list.length === 0 ? `${who} may touch no key` : `${who} may only touch keys starting with ${list.join(' or ')}`;
    }
    const allowed = ACCESS_CLASSES.filter((c) => this.may(c));
    return `${who} may not ${reason} (allow: ${allowed.length === 0 ? 'nothing' : allowed.join(', ')})`;
  }

  /** The rights as STATS shows them: `prefixes` as strings (`null`: every key), `allow` as class names. */
  describe(): { key_id: string; kind: IdentityKind; prefixes: string[] | null; allow: AccessClass[] } {
    return {
      key_id: this.id,
      kind: this.kind,
      prefixes: this.rule.prefixes === undefined ? null : this.rule.prefixes.map((p) => p.toString('utf8')),
      allow: ACCESS_CLASSES.filter((c) => this.may(c)),
    };
  }
}
