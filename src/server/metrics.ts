import { createRequire } from 'node:module';
import type { AeadName } from '../crypto/frame-aead.js';
import type { Counter as CounterType, Histogram as HistogramType, Registry as RegistryType } from 'prom-client';
import type { ForbiddenReason } from '../protocol/access.js';
import { opcodeName, statusName } from '../protocol/constants.js';
import type { Store } from '../store/store.js';
import type { LeaseTable } from './leases.js';
import type { TrackingStats } from './tracking.js';
import type { SnapshotStats } from './snapshot/snapshots.js';

/**
 * Why the server closed a connection on its own; counted and logged. `internal`: an
 * unexpected exception in the connection's handlers (a bug), contained to that connection.
 */
export type DisconnectCause =
  | 'output_buffer'
  | 'output_memory'
  | 'frame_timeout'
  | 'handshake_timeout'
  | 'idle'
  | 'protocol_error'
  | 'auth'
  /** Issue 25: a reload removed the key, token or certificate rule the session authenticated with (spec §6.8). */
  | 'key_removed'
  | 'internal';

/** What the metrics read at scrape time from the server. */
export interface MetricsSource {
  readonly store: Store;
  /** spec §3.16: the lease table, read at scrape time; absent: no lease metrics. */
  readonly leases?: LeaseTable;
  /** The frame AEAD of secure sessions, exported as `conduit_aead_info`; `undefined` when secure mode is off. */
  readonly aead: AeadName | undefined;
  readonly counters: {
    readonly connected_clients: number;
    readonly total_connections_received: number;
    readonly rejected_connections: number;
    readonly rejected_handshakes: number;
    /** Connections the server closed, by {@link DisconnectCause}; each is exported as a `cause` label. */
    readonly disconnects: Readonly<Record<DisconnectCause, number>>;
    readonly auth_failures: number;
    readonly accept_errors: number;
    readonly quiet_suppressed: number;
    /** MOVED answers (spec §3.14). */
    readonly moved: number;
  };
  /** spec §3.15: the tracking table, whose STATS `tracking` the `conduit_tracking_*` metrics copy. */
  readonly tracking?: { stats(): TrackingStats };
  /** Issue 22: the snapshot policy, whose STATS `snapshot` the `conduit_snapshot_*` metrics copy; absent: none. */
  readonly snapshots?: { stats(): SnapshotStats };
}

/**
 * prom-client, loaded when the first Metrics is built: only a server with an HTTP gateway
 * keeps metrics, and loading it costs about 9 MiB of RSS that a plain cache sidecar would
 * carry for nothing (docs/STORAGE.md, "What RSS to give the process").
 */
export function promClient(): typeof import('prom-client') {
  return createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
}

/** prom-client default metrics that break the `_total` naming rule; see the constructor. */
export const GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Request latency buckets in seconds: 10 µs to 1 s, for an in-memory cache. */
export const LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1];

/**
 * Issue 22: STATS `snapshot` as metrics (docs/SNAPSHOT.md); a value not known yet (no save or
 * load so far) reads 0, and `conduit_snapshot_last_load_result` has one series, the last result's.
 */
function snapshotMetrics(
  stats: () => SnapshotStats,
  counter: (name: string, help: string, read: () => number) => void,
  gauge: (name: string, help: string, read: () => number) => void,
  registers: RegistryType[],
): void {
  counter('conduit_snapshot_saves_total', 'Snapshot saves that completed (periodic and at shutdown).', () => stats().saves);
  counter('conduit_snapshot_save_failures_total', 'Snapshot saves that failed (the file was left as it was).', () => stats().save_failures);
  gauge('conduit_snapshot_last_save_timestamp_seconds', 'When the last completed snapshot save began (Unix seconds; 0: none yet).', () => (stats().last_save?.time ?? 0) / 1000);
  gauge('conduit_snapshot_last_save_duration_seconds', 'How long the last completed snapshot save took.', () => (stats().last_save?.duration_ms ?? 0) / 1000);
  gauge('conduit_snapshot_last_save_bytes', 'Size of the file the last completed snapshot save wrote.', () => stats().last_save?.bytes ?? 0);
  gauge('conduit_snapshot_last_save_items', 'Items the last completed snapshot save wrote.', () => stats().last_save?.items ?? 0);
  gauge('conduit_snapshot_last_load_items', 'Items loaded from the snapshot at start.', () => stats().last_load?.loaded ?? 0);
  gauge('conduit_snapshot_last_load_duration_seconds', 'How long loading the snapshot at start took.', () => (stats().last_load?.duration_ms ?? 0) / 1000);
  const { Gauge } = promClient();
  new Gauge({
    name: 'conduit_snapshot_last_load_result',
    help: 'The result of loading the snapshot at start, as a label (loaded, missing, corrupt, unreadable, wrong_key, unsealed, sealed, newer_version): 1.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      const result = stats().last_load?.result;
      if (result !== undefined) this.set({ result }, 1);
    },
  });
}

/**
 * Prometheus metrics of one server, in a registry of its own (prom-client).
 * Requests are counted on the hot path through label children cached per
 * opcode and status, so recording one is two array reads and two adds;
 * everything the store and server already count is read at scrape time.
 *
 * @example
 * ```ts
 * const metrics = new Metrics(server);
 * metrics.request('GET', 'OK', seconds);
 * response.end(await metrics.registry.metrics());
 * ```
 */
export class Metrics {
  readonly registry: RegistryType;
  readonly #requests: CounterType<'opcode' | 'status'>;
  readonly #latency: HistogramType<'opcode'>;
  /** Issue 25: FORBIDDEN answers by identity and reason (every protocol: binary, HTTP, RESP). */
  readonly #forbidden: CounterType<'key_id' | 'reason'>;
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #latencyChildren = new Map<string, { observe(value: number): void }>();
  /** By opcode byte × 256 + status byte: the label children of binary-protocol requests. */
  readonly #byCode = new Map<number, { count: { inc(): void }; latency: { observe(value: number): void } }>();

  constructor(source: MetricsSource) {
    const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'conduit_' });
    // prom-client exports three gauges named `…_total`, which Prometheus reserves for counters
    // (`promtool check metrics`: "non-counter metrics should not have _total suffix"). Each is the
    // sum of its labelled sibling (`sum(conduit_nodejs_active_handles)`), so nothing is lost.
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(`conduit_${name}`);
    this.#requests = new Counter({
      name: 'conduit_requests_total',
      help: 'Requests answered, by opcode and status (binary protocol and HTTP).',
      labelNames: ['opcode', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'conduit_request_duration_seconds',
      help: 'Time to execute a request and frame its answer, by opcode.',
      labelNames: ['opcode'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#forbidden = new Counter({
      name: 'conduit_forbidden_total',
      help: 'Requests refused FORBIDDEN for the rights of their identity (issue 25), by key id (key, token, user or certificate rule) and reason: read, write, admin (a class it lacks) or prefix.',
      labelNames: ['key_id', 'reason'],
      registers,
    });
    const stats = (): ReturnType<Store['stats']> => source.store.stats();
    // Counters owned by the store or server: copied in when Prometheus scrapes.
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    counter('conduit_keyspace_hits_total', 'Reads that found a live key.', () => stats().keyspace_hits);
    counter('conduit_keyspace_misses_total', 'Reads that found nothing.', () => stats().keyspace_misses);
    gauge('conduit_items', 'Live entries in the store.', () => stats().curr_items);
    gauge('conduit_memory_used_bytes', 'Bytes charged to the memory budget.', () => stats().bytes);
    gauge('conduit_memory_budget_bytes', 'The memory budget.', () => stats().limit_maxbytes);
    counter('conduit_evictions_total', 'Entries evicted to make room.', () => stats().evictions);
    new Counter({
      name: 'conduit_expirations_total',
      help: 'Expired entries reclaimed, by the active sweep or on access.',
      labelNames: ['how'],
      registers,
      collect() {
        const s = stats();
        this.reset();
        this.inc({ how: 'swept' }, s.expired_swept);
        this.inc({ how: 'lazy' }, s.expired_lazy);
      },
    });
    gauge('conduit_connections_open', 'Connections open now.', () => source.counters.connected_clients);
    counter('conduit_connections_total', 'Connections accepted.', () => source.counters.total_connections_received);
    counter('conduit_connections_rejected_total', 'Connections refused over --max-connections.', () => source.counters.rejected_connections);
    counter(
      'conduit_handshakes_rejected_total',
      'Secure-mode HELLOs answered BUSY over --max-handshakes-per-second (see STATS rejected_handshakes).',
      () => source.counters.rejected_handshakes,
    );
    counter('conduit_auth_failures_total', 'Secure-mode authentication failures (see STATS auth_failures).', () => source.counters.auth_failures);
    counter('conduit_accept_errors_total', 'Accepts that failed for lack of file descriptors (EMFILE/ENFILE).', () => source.counters.accept_errors);
    counter('conduit_quiet_suppressed_total', 'Quiet writes (protocol 1.1) whose OK was not sent.', () => source.counters.quiet_suppressed);
    counter('conduit_moved_total', 'Requests answered MOVED: their key belongs to another server of the group (protocol 1.2).', () => source.counters.moved);
    const tracking = source.tracking;
    if (tracking !== undefined) {
      // spec §3.15 (protocol 1.3), as STATS `tracking`.
      gauge('conduit_tracking_keys', 'Keys in the tracking table (their (key, connection) pairs are at most --tracking-max-keys).', () => tracking.stats().keys);
      gauge('conduit_tracking_pairs', 'Tracked (key, connection) pairs (at most --tracking-max-keys).', () => tracking.stats().pairs);
      gauge('conduit_tracking_clients', 'Connections tracking the keys they read (TRACKING KEYS).', () => tracking.stats().clients);
      gauge('conduit_tracking_prefix_clients', 'Connections tracking prefixes (TRACKING PREFIXES).', () => tracking.stats().prefix_clients);
      counter('conduit_invalidations_total', 'Keys pushed in INVALIDATE frames, one per key and connection.', () => tracking.stats().invalidations);
      counter('conduit_invalidate_pushes_total', 'INVALIDATE frames sent.', () => tracking.stats().pushes);
      counter('conduit_tracking_overflow_total', 'Tracked keys invalidated because the table was full (--tracking-max-keys).', () => tracking.stats().overflow);
    }
    if (source.aead !== undefined) {
      // An info metric (Prometheus convention: `_info`, value 1, the facts as labels), as STATS `aead`.
      new Gauge({
        name: 'conduit_aead_info',
        help: 'The frame AEAD sealing secure sessions: libsodium, node (node:crypto) or noble.',
        labelNames: ['implementation'],
        registers,
      }).set({ implementation: source.aead }, 1);
    }
    const leases = source.leases;
    if (leases !== undefined) {
      // spec §3.16: STATS `leases`.
      gauge('conduit_leases_outstanding', 'Leases granted and not yet set, lapsed or revoked (protocol 1.3).', () => leases.stats().outstanding);
      new Counter({
        name: 'conduit_leases_total',
        help: 'LEASE and lease-set outcomes (protocol 1.3): granted, wait, stale, fulfilled, refused (stale sets), expired, revoked, busy.',
        labelNames: ['outcome'],
        registers,
        collect() {
          const s = leases.stats();
          this.reset();
          const outcomes = { granted: s.granted, wait: s.waits, stale: s.stale_served, fulfilled: s.fulfilled, refused: s.refused, expired: s.expired, revoked: s.revoked, busy: s.busy };
          for (const [outcome, n] of Object.entries(outcomes)) this.inc({ outcome }, n);
        },
      });
      gauge('conduit_leases_stale_bytes', 'Bytes of previous values kept to answer LEASE STALE (outside --max-memory, at most 1/16 of it).', () => leases.stats().stale_bytes);
    }
    const snapshots = source.snapshots;
    if (snapshots !== undefined) snapshotMetrics(() => snapshots.stats(), counter, gauge, registers);
    new Counter({
      name: 'conduit_disconnects_total',
      help: 'Connections the server closed, by cause.',
      labelNames: ['cause'],
      registers,
      collect() {
        this.reset();
        for (const [cause, n] of Object.entries(source.counters.disconnects)) this.inc({ cause }, n);
      },
    });
  }

  /**
   * Issue 23: the RESP listener's connections and commands, read at scrape time (its commands
   * count in `total_commands_processed` with the others; these say how many came over RESP).
   *
   * @example
   * ```ts
   * metrics.addResp({ respClients: 0, commandsProcessed: 0 });
   * ```
   */
  addResp(source: { readonly respClients: number; readonly commandsProcessed: number }): void {
    const { Counter, Gauge } = promClient();
    const registers = [this.registry];
    new Gauge({
      name: 'conduit_resp_connections_open',
      help: 'RESP connections open now (counted in conduit_connections_open too).',
      registers,
      collect() {
        this.set(source.respClients);
      },
    });
    new Counter({
      name: 'conduit_resp_commands_total',
      help: 'Commands executed over RESP.',
      registers,
      collect() {
        this.reset();
        this.inc(source.commandsProcessed);
      },
    });
  }

  /**
   * Counts one FORBIDDEN answer to identity `keyId` for `reason` (issue 25): the server sets
   * this as its AccessCounters' `onForbidden`, so every protocol's refusals land here.
   *
   * @example
   * ```ts
   * metrics.forbidden('app1', 'prefix');
   * ```
   */
  forbidden(keyId: string, reason: ForbiddenReason): void {
    this.#forbidden.inc({ key_id: keyId, reason });
  }

  /** Records one answered binary-protocol request by its opcode and status bytes (hot path: no strings). */
  frame(opcode: number, status: number, seconds: number): void {
    const code = opcode * 256 + status;
    let children = this.#byCode.get(code);
    if (children === undefined) {
      const op = opcodeName(opcode) ?? `0x${opcode.toString(16).padStart(2, '0')}`;
      const st = statusName(status) ?? `0x${status.toString(16).padStart(2, '0')}`;
      children = { count: this.#requests.labels(op, st), latency: this.#latency.labels(op) };
      this.#byCode.set(code, children);
    }
    children.count.inc();
    children.latency.observe(seconds);
  }

  /** Records one answered request by names (the HTTP gateway). */
  request(opcode: string, status: string, seconds: number): void {
    const key = `${opcode}\u0000${status}`;
    let count = this.#requestChildren.get(key);
    if (count === undefined) {
      count = this.#requests.labels(opcode, status);
      this.#requestChildren.set(key, count);
    }
    count.inc();
    let latency = this.#latencyChildren.get(opcode);
    if (latency === undefined) {
      latency = this.#latency.labels(opcode);
      this.#latencyChildren.set(opcode, latency);
    }
    latency.observe(seconds);
  }
}
