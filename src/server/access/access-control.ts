import type { Logger } from '../../config/logger.js';
import { AccessCounters } from './access-counters.js';
import { AccessTable, type AccessConfig, type AccessExtras } from './access-table.js';
import type { Rights } from './rights.js';

/** What a reload asks of a served connection (connection-host.ts's ServedConnection is one). */
export interface ReloadableSession {
  readonly rights?: Rights | undefined;
  readonly credential?: string | undefined;
  disconnect(cause: 'key_removed', reason: string): void;
}

/**
 * What a reload did (issue 25): `ok` with the new table's sizes and the
 * sessions it closed (their credential was removed), or refused with the one
 * line that says why (the old table stays).
 */
export type ReloadOutcome =
  | { readonly ok: true; readonly keys: number; readonly tokens: number; readonly certificates: number; readonly closed: number }
  | { readonly ok: false; readonly error: string };

/** STATS `access.last_reload`: when, and how it ended (spec §5.2). */
interface LastReload {
  readonly time: number;
  readonly result: 'ok' | 'refused';
  readonly error?: string;
  readonly closed?: number;
}

/**
 * A server's access control (issue 25, spec §3.17, §6.8): the current
 * {@link AccessTable}, the counters per identity, and the reload that swaps
 * the table (SIGHUP, RELOAD). A reload never switches between plaintext and
 * secure mode; a session whose credential it removed is closed
 * (`key_removed`), the others keep the rights they started with.
 *
 * @example
 * ```ts
 * const access = new AccessControl({ keys, tokens: [], certificates: [] }, {}, { logger, load, sessions: () => connections });
 * access.reload(); // { ok: true, keys: 2, tokens: 0, certificates: 0, closed: 0 }
 * ```
 */
export class AccessControl {
  #table: AccessTable;
  readonly counters = new AccessCounters();
  readonly #extras: AccessExtras;
  readonly #logger: Logger;
  readonly #load: (() => AccessConfig) | undefined;
  readonly #sessions: () => Iterable<ReloadableSession>;
  #reloads = 0;
  #failures = 0;
  #last: LastReload | undefined;

  constructor(
    config: AccessConfig,
    extras: AccessExtras,
    how: { readonly logger: Logger; readonly load: (() => AccessConfig) | undefined; readonly sessions: () => Iterable<ReloadableSession> },
  ) {
    this.#table = new AccessTable(config, extras);
    this.#extras = extras;
    this.#logger = how.logger;
    this.#load = how.load;
    this.#sessions = how.sessions;
  }

  /** The current table: new sessions look their rights up here. */
  get table(): AccessTable {
    return this.#table;
  }

  /** Whether the server has something to reload (a key file). */
  get reloadable(): boolean {
    return this.#load !== undefined;
  }

  /**
   * Re-reads the credentials (`config`, or the server's loader: the key file) and swaps
   * the table; closes every session whose credential is gone. A bad file, or one that
   * would switch between plaintext and secure mode, is refused with one log line and
   * the old table kept.
   */
  reload(config?: AccessConfig): ReloadOutcome {
    let next: AccessConfig;
    try {
      if (config !== undefined) next = config;
      else if (this.#load !== undefined) next = this.#load();
      else return this.#refused('nothing to reload: the server was started without --key-file');
    } catch (err) {
      return this.#refused((err as Error).message);
    }
    const secure = next.keys.length > 0;
    if (secure !== this.#table.secure) {
      return this.#refused(
        secure ? 'the file now has [[keys]]: a reload cannot turn a plaintext server into secure mode; restart it' : 'the file has no [[keys]] left: a reload cannot turn secure mode off; restart it',
      );
    }
    let table: AccessTable;
    try {
      table = new AccessTable(next, this.#extras);
    } catch (err) {
      return this.#refused((err as Error).message);
    }
    this.#table = table;
    let closed = 0;
    for (const session of [...this.#sessions()]) {
      const { rights, credential } = session;
      if (rights === undefined || table.holds(rights, credential)) continue;
      session.disconnect('key_removed', `a reload removed its ${rights.kind} '${rights.id}'`);
      closed += 1;
    }
    this.#reloads += 1;
    this.#last = { time: Date.now(), result: 'ok', closed };
    const outcome = { ok: true, keys: next.keys.length, tokens: next.tokens.length, certificates: next.certificates.length, closed } as const;
    this.#logger.info({ keys: outcome.keys, tokens: outcome.tokens, certificates: outcome.certificates, closed }, 'access reloaded');
    return outcome;
  }

  #refused(error: string): ReloadOutcome {
    this.#failures += 1;
    this.#last = { time: Date.now(), result: 'refused', error };
    this.#logger.error({ error }, 'reload refused: the previous keys and rights stay');
    return { ok: false, error };
  }

  /** STATS `access` (spec §5.2): the mode's credentials, the reloads, and every identity's counters. */
  toJSON(): Record<string, unknown> {
    const { config } = this.#table;
    return {
      keys: config.keys.length,
      tokens: config.tokens.length,
      certificates: config.certificates.length,
      reloads: this.#reloads,
      reload_failures: this.#failures,
      last_reload: this.#last ?? null,
      forbidden_total: this.counters.forbiddenTotal,
      identities: this.counters.toJSON(),
    };
  }
}
