/**
 * The metrics a gateway serves at `/metrics` and counts its requests in.
 * In process that is the server's own `Metrics` (src/server/metrics.ts);
 * a forwarding gateway has no store or connections of its own, so it keeps
 * a {@link ForwardingMetrics}: the process's default metrics, the requests
 * it forwarded, and what its upstream failed to answer.
 *
 * @module
 */
import type { Counter as CounterType, Histogram as HistogramType, Registry as RegistryType } from 'prom-client';
import type { ForbiddenReason } from '../protocol/access.js';
import type { AccessControl } from '../server/access/access-control.js';
import { GAUGES_NAMED_TOTAL, LATENCY_BUCKETS, promClient } from '../server/metrics.js';

/**
 * What the gateway needs of its metrics; the server's `Metrics` is one.
 *
 * @example
 * ```ts
 * const metrics: GatewayMetrics = server.metrics ?? new ForwardingMetrics();
 * ```
 */
export interface GatewayMetrics {
  readonly registry: { metrics(): Promise<string>; readonly contentType: string };
  /** Records one answered request by names. */
  request(opcode: string, status: string, seconds: number): void;
  /** Records a request the upstream could not answer, by the client's code (forwarding only). */
  upstreamError?(code: string): void;
}

/**
 * The registry of a process that runs a forwarding gateway (the `--workers`
 * primary): `conduit_`-prefixed process metrics, `conduit_requests_total`
 * and `conduit_request_duration_seconds` for the requests it forwarded
 * (the round trip included), and
 * `conduit_gateway_upstream_errors_total{code}`; with `access` (the
 * gateway's own {@link AccessControl}, issue 25), also
 * `conduit_forbidden_total{key_id, reason}`, the requests it refused. The
 * servers behind it keep their own registries.
 *
 * @example
 * ```ts
 * const metrics = new ForwardingMetrics({ access });
 * metrics.upstreamError('CONNECT_FAILED');
 * await metrics.registry.metrics(); // … conduit_gateway_upstream_errors_total{code="CONNECT_FAILED"} 1
 * ```
 */
export class ForwardingMetrics implements GatewayMetrics {
  readonly registry: RegistryType;
  readonly #requests: CounterType<'opcode' | 'status'>;
  readonly #latency: HistogramType<'opcode'>;
  readonly #upstream: CounterType<'code'>;

  constructor(options: { readonly access?: AccessControl | undefined } = {}) {
    const { collectDefaultMetrics, Counter, Histogram, Registry } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'conduit_' });
    for (const name of GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(`conduit_${name}`); // as Metrics does, for promtool
    this.#requests = new Counter({
      name: 'conduit_requests_total',
      help: 'HTTP requests the gateway forwarded and answered, by opcode and status.',
      labelNames: ['opcode', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'conduit_request_duration_seconds',
      help: 'Time to forward a request and have its answer, by opcode.',
      labelNames: ['opcode'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#upstream = new Counter({
      name: 'conduit_gateway_upstream_errors_total',
      help: 'Requests the gateway could not have answered by its servers, by the client error code (502, 503, 504).',
      labelNames: ['code'],
      registers,
    });
    const access = options.access;
    if (access !== undefined) {
      // Issue 25: the same series as a server's Metrics (src/server/metrics.ts), fed the same way: by the
      // hook the counters call on each refusal. This registry is the primary's alone, so it is registered once.
      const forbidden = new Counter({
        name: 'conduit_forbidden_total',
        help: 'Requests refused FORBIDDEN (spec §3.17), by the identity that sent them and the reason (a class it lacks, or prefix).',
        labelNames: ['key_id', 'reason'],
        registers,
      });
      const previous = access.counters.onForbidden;
      access.counters.onForbidden = (id: string, reason: ForbiddenReason): void => {
        previous?.(id, reason);
        forbidden.labels(id, reason).inc();
      };
    }
  }

  request(opcode: string, status: string, seconds: number): void {
    this.#requests.labels(opcode, status).inc();
    this.#latency.labels(opcode).observe(seconds);
  }

  upstreamError(code: string): void {
    this.#upstream.labels(code).inc();
  }
}
