/**
 * Runs RESP commands against a real Store with a fake RespServerView and a
 * RespWriter, returning the exact reply bytes as a Latin-1 string (one byte,
 * one character) so tests compare wire bytes.
 */
import type { AccessToken, CertificateRule } from '../../src/crypto/keys.js';
import { RespWriter } from '../../src/protocol/resp-writer.js';
import { AccessControl } from '../../src/server/access/access-control.js';
import type { AccessConfig } from '../../src/server/access/access-table.js';
import type { Rights } from '../../src/server/access/rights.js';
import { runCommand } from '../../src/server/resp/commands.js';
import { NO_IDENTITY, type RespAfter, type RespContext, type RespServerView, type RespSession } from '../../src/server/resp/resp-context.js';
import { respLogin } from '../../src/server/resp/resp-front.js';
import { resolveServerOptions, type ServerOptions } from '../../src/server/options.js';
import type { ServerCounters } from '../../src/server/server.js';
import { Store, type StoreOptions } from '../../src/store/store.js';
import { FakeClock } from './fake-clock.js';

export interface Harness {
  readonly store: Store;
  readonly clock: FakeClock;
  readonly session: RespSession;
  readonly server: RespServerView & { counters: ServerCounters; logged: unknown[] };
  readonly out: RespWriter;
  /** The access control AUTH, NOPERM counting and ACL LOAD use (issue 25). */
  readonly access: AccessControl;
  /** Gives the session `rights` (as AUTH would; `undefined`: none, every right unchecked); returns the session. */
  identify(rights: Rights | undefined): RespSession;
  /** Runs one command; returns its reply bytes (Latin-1) — `after` holds what runCommand returned. */
  run(...args: (string | Buffer)[]): string;
  after: RespAfter;
  close(): void;
}

/** What {@link makeHarness} builds: `password` is --resp-password; `tokens`, `certificates` and `reload` the key file's. */
export interface HarnessOptions {
  password?: string;
  tokens?: readonly AccessToken[];
  certificates?: readonly CertificateRule[];
  /** ACL LOAD's loader (the key file re-read); absent: nothing to reload. */
  reload?: () => AccessConfig;
  store?: StoreOptions;
  server?: Partial<ServerOptions>;
  protocol?: 2 | 3;
}

export function makeHarness(options: HarnessOptions = {}): Harness {
  const clock = new FakeClock();
  const store = new Store({ maxMemory: 1024 * 1024, shards: 1, activeExpiry: false, clock: clock.read, ...options.store });
  const logged: unknown[] = [];
  const serverOptions = resolveServerOptions({
    port: 0,
    maxMemory: 1024 * 1024,
    logger: {
      info() {},
      warn() {},
      debug() {},
      error(fields: object, message: string) {
        logged.push({ fields, message });
      },
    },
    ...options.server,
  });
  const access = new AccessControl(
    { keys: [], tokens: options.tokens ?? [], certificates: options.certificates ?? [] },
    { respPassword: options.password },
    { logger: serverOptions.logger, load: options.reload, sessions: () => [] },
  );
  const counters: ServerCounters = {
    connected_clients: 1,
    total_connections_received: 3,
    rejected_connections: 0,
    rejected_handshakes: 0,
    total_commands_processed: 42,
    quiet_suppressed: 0,
    disconnects: { output_buffer: 0, output_memory: 0, frame_timeout: 0, handshake_timeout: 0, idle: 0, protocol_error: 0, auth: 0, key_removed: 0, internal: 0 },
    auth_failures: 0,
    accept_errors: 0,
    moved: 0,
  };
  const server = {
    options: serverOptions,
    counters,
    logged,
    startedAt: Date.now() - 5_000,
    respAddress: { port: 6380, host: '127.0.0.1', socket: undefined },
    respClients: 1,
    draining: false,
    outputMemory: { now: 0, peak: 100 },
    get authRequired() {
      return access.table.respAuthRequired;
    },
    login: (user: Uint8Array | undefined, password: Uint8Array) => respLogin(access.table, access.counters, user, password),
    accessCounters: access.counters,
    reloadAccess: () => access.reload(),
  };
  const session: RespSession = {
    protocol: options.protocol ?? 2,
    id: 7,
    name: undefined,
    libName: undefined,
    libVersion: undefined,
    authenticated: !access.table.respAuthRequired,
    remote: '127.0.0.1:50000',
    ...NO_IDENTITY,
  };
  const out = new RespWriter();
  out.protocol = session.protocol;
  const ctx: RespContext = { store, session, server };
  const h: Harness = {
    store,
    clock,
    session,
    server,
    out,
    access,
    identify(rights) {
      session.rights = rights;
      session.credential = rights === undefined ? undefined : access.table.credentialOf(rights);
      session.counters = rights === undefined ? undefined : access.counters.of(rights.id);
      return session;
    },
    after: undefined,
    run(...args) {
      h.after = runCommand(args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'latin1') : a)), ctx, out);
      return out.take().toString('latin1');
    },
    close: () => store.close(),
  };
  return h;
}
