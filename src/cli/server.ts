#!/usr/bin/env -S node --max-semi-space-size=1 --expose-gc
/**
 * `conduit-server`: starts a Conduit cache server. Every option can also be
 * set by an environment variable `CONDUIT_<NAME>` or in a TOML file given
 * with `--config`; flags beat the environment, which beats the file.
 *
 * The first line starts Node with `--max-semi-space-size=1`: V8's young
 * generation otherwise grows to 3 × 16 MiB under a write load, about 20 MiB
 * of RSS beyond `--max-memory` that the store never uses (the items live off
 * the heap), at no measured CPU cost; and with `--expose-gc`, so dead socket
 * read buffers are collected every MiB read (src/server/read-buffers.ts;
 * docs/STORAGE.md, "Process RSS").
 *
 * @example
 * ```sh
 * npx conduit-server --port 7171 --max-memory 512mb
 * CONDUIT_MAX_MEMORY=1gb npx conduit-server
 * ```
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { formatSizeLimit, parseBytes, parseDuration } from '../config/units.js';
import type { Logger } from '../config/logger.js';
import { aeadChoice, requestedAead, type AeadChoice } from '../crypto/aead-choice.js';
import type { PreSharedKey } from '../crypto/handshake.js';
import { parseKeySpec } from '../crypto/keys.js';
import { ACCESS_CLASSES } from '../protocol/access.js';
import { isLoopback, resolveServerOptions, serverDefaults, type ServerOptions } from '../server/options.js';
import type { AccessControl } from '../server/access/access-control.js';
import { accessField, accessSettings, guardedReload, type AccessSettings } from './access-settings.js';
import { ComposedServer, type ComposedAddress } from './compose.js';
import { watchLauncher } from './launcher.js';
import { ConduitClient } from '../client/client.js';
import { ForwardingBackend, gatewayAccess } from '../http/forwarding.js';
import { HttpGateway } from '../http/gateway.js';
import { ForwardingMetrics } from '../http/gateway-metrics.js';
import { runPrimary, type PrimaryService } from './primary.js';
import { SettingSources } from './setting-sources.js';
import { snapshotField, snapshotOption, unusedSnapshotFiles } from './snapshot-settings.js';
import { SnapshotError } from '../server/snapshot/snapshot-error.js';
import { freePorts } from './supervisor.js';
import { onPrimaryGone, onPrimaryReload, tellPrimary, WORKER_ENV, workerStart, type StartMessage } from './worker-ipc.js';
import { groupProblem, MAX_WORKERS, memoryShare, planWorkers, workerCount } from './worker-plan.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** A stop signal repeated within this long is the same request delivered twice (see stop()). */
const REPEAT_IGNORED_MS = 1_000;

/** Forked by a `--workers` primary (worker-ipc.ts): its errors go to the primary, which prints them once. */
const isWorker = process.env[WORKER_ENV] !== undefined && process.send !== undefined;

const program = new Command('conduit-server');
const sources = new SettingSources(program);
const option = sources.option.bind(sources);
program
  .description('In-memory key-value cache server speaking the Conduit protocol (spec/conduit-v1.md) and, with --resp-port, Redis RESP (docs/RESP.md).')
  .version(version)
  .addOption(option('--host <host>', 'TCP address to bind', 'host', serverDefaults.host))
  .addOption(option('--port <port>', 'TCP port (0 picks a free one)', 'port', String(serverDefaults.port)))
  .addOption(option('--socket <path>', 'also listen on this Unix domain socket', 'socket'))
  .addOption(option('--no-tcp', 'with --socket: listen on the socket only, not on TCP', 'tcp'))
  .addOption(option('--max-memory <size>', 'memory budget (b, kb, mb, gb)', 'max-memory', '64mb'))
  .addOption(option('--shards <n>', 'store shards, a power of two', 'shards', String(serverDefaults.shards)))
  .addOption(option('--workers <n|auto>', `worker processes, each with its own store of --max-memory / n on --port + i (and --socket.i); auto = one per core; 1 to ${MAX_WORKERS}`, 'workers', '1'))
  .addOption(option('--eviction <policy>', 'when full: lru evicts, none refuses writes', 'eviction', 'lru').choices(['lru', 'none']))
  .addOption(option('--max-connections <n>', 'connections at once; more get BUSY', 'max-connections', String(serverDefaults.maxConnections)))
  .addOption(option('--max-inflight <n>', 'unsent responses per connection before it stops being read', 'max-inflight', String(serverDefaults.maxInflight)))
  .addOption(option('--max-output-buffer <size>', 'unwritten output per connection before disconnect', 'max-output-buffer', '16mb'))
  .addOption(option('--max-value-size <size>', 'largest value a SET may store; larger requests travel as fragments (spec §2.4), up to 64mb', 'max-value-size', '1mb'))
  .addOption(option('--max-output-memory <size>', 'unwritten output of all connections together before the largest holders are disconnected (default: a quarter of --max-memory, at least twice --max-output-buffer)', 'max-output-memory'))
  .addOption(option('--idle-timeout <duration>', 'close silent connections after this (0 = never)', 'idle-timeout', '0'))
  .addOption(option('--frame-timeout <duration>', 'a started frame must complete within this', 'frame-timeout', '10s'))
  .addOption(option('--handshake-timeout <duration>', 'secure mode: close a connection whose HELLO is not answered within this', 'handshake-timeout', '5s'))
  .addOption(option('--max-handshakes-per-second <n>', 'secure mode: HELLOs per second (and in a burst) from one address; more are answered BUSY before any key work (0 = no limit)', 'max-handshakes-per-second', String(serverDefaults.maxHandshakesPerSecond)))
  .addOption(option('--tracking-max-keys <n>', 'client tracking (spec §3.15): the most tracked (key, connection) pairs remembered for INVALIDATE pushes; past it the oldest keys are invalidated and forgotten', 'tracking-max-keys', String(serverDefaults.trackingMaxKeys)))
  .addOption(option('--snapshot <file>', 'load the store from this file at start and save it there at shutdown, after the drain (docs/SNAPSHOT.md); with --workers N each worker uses FILE.<i>', 'snapshot'))
  .addOption(option('--snapshot-interval <duration>', 'with --snapshot: also save every this long, beside the traffic (0 = only at shutdown; else at least 1s)', 'snapshot-interval', '0'))
  .addOption(option('--snapshot-strict', 'with --snapshot: a bad snapshot file stops the start (exit 1, file left in place) instead of being moved to FILE.corrupt-<time>', 'snapshot-strict'))
  .addOption(option('--snapshot-key <base64>', 'with --snapshot: seal the file with this 32-byte key (openssl rand -base64 32); prefer CONDUIT_SNAPSHOT_KEY, as command lines are visible to others', 'snapshot-key'))
  .addOption(option('--allow-shutdown', 'permit the SHUTDOWN opcode', 'allow-shutdown'))
  .addOption(option('--shutdown-timeout <duration>', 'longest graceful drain on SIGTERM/SIGINT', 'shutdown-timeout', '10s'))
  .addOption(option('--log-level <level>', 'JSON log lines on stderr at this level', 'log-level', 'info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .addOption(option('--allow-insecure-public', 'listen on a non-loopback address without a key (and RESP without --resp-password)', 'allow-insecure-public'))
  .addOption(option('--key-file <path>', 'TOML file of [[keys]] (id, base64 key: secure mode), [[tokens]] (HTTP bearers, RESP users) and [[certificates]] (client certificate CNs), each with optional prefixes and allow (README: Sharing one cache between apps); SIGHUP re-reads it', 'key-file'))
  .addOption(new Option('--key <id:base64>', 'one pre-shared key; prefer CONDUIT_KEY, as command lines are visible to others').env('CONDUIT_KEY'))
  .addOption(option('--tls-cert <path>', 'serve TLS with this certificate chain (PEM)', 'tls-cert'))
  .addOption(option('--tls-key <path>', 'private key of --tls-cert (PEM)', 'tls-key'))
  .addOption(option('--tls-ca <path>', 'CA that signs client certificates (PEM)', 'tls-ca'))
  .addOption(option('--tls-client-auth', 'require a client certificate signed by --tls-ca (mTLS)', 'tls-client-auth'))
  .addOption(option('--http-port <port>', 'also serve HTTP (/v1/keys, /metrics, /healthz, /readyz) on this port', 'http-port'))
  .addOption(option('--http-host <host>', 'address of the HTTP listener', 'http-host', '127.0.0.1'))
  .addOption(option('--http-allowed-hosts <hosts>', 'comma-separated names/addresses the HTTP gateway answers for besides loopback and localhost', 'http-allowed-hosts'))
  .addOption(new Option('--http-token <token>', 'bearer token the HTTP data routes require; prefer CONDUIT_HTTP_TOKEN').env('CONDUIT_HTTP_TOKEN'))
  .addOption(option('--resp-port <port>', 'also speak Redis RESP (docs/RESP.md) on this port, to the same store (0 picks a free one)', 'resp-port'))
  .addOption(option('--resp-host <host>', 'address of the RESP listener (default: --host)', 'resp-host'))
  .addOption(option('--resp-socket <path>', 'also speak RESP on this Unix domain socket', 'resp-socket'))
  .addOption(option('--resp-password <password>', 'password RESP clients give with AUTH; prefer CONDUIT_RESP_PASSWORD, as command lines are visible to others', 'resp-password'))
  .addOption(new Option('--config <file>', 'TOML file with any of the settings above').env('CONDUIT_CONFIG'))
  .addHelpText(
    'after',
    '\nSizes take b/kb/mb/gb; durations take ms/s/m/h/d (a bare number is ms).\n' +
      'Every option is also read from CONDUIT_<NAME> (e.g. CONDUIT_MAX_MEMORY=512mb) and from the --config file;\n' +
      'flags beat the environment, which beats the file, and every source is checked. A switch there is\n' +
      'true/1/yes/on or false/0/no/off (CONDUIT_TCP=false is --no-tcp).\n' +
      'SIGTERM, SIGINT (Ctrl-C) and SIGHUP (terminal closed) drain the connections and exit 0;\n' +
      'a second one more than a second later exits at once with 1. With --key-file, SIGHUP re-reads the file\n' +
      'instead, as conduit-cli admin reload does: new sessions get the new rights, sessions of a removed or\n' +
      'changed key are closed, and a bad file is refused with one log line (the old keys stay). With --snapshot FILE the store is saved to FILE\n' +
      'after the drain (a failed save exits 1; a second signal stops the save and leaves FILE as it was).\n' +
      'With --workers, the primary passes them (and a SIGHUP reload) on\n' +
      'to every worker and exits 0 once all have drained; a worker that dies is restarted on its address.\n' +
      'Give the process 1.1 × --max-memory + 112 MiB of RAM (README: How much memory).',
  );

/** The files of --config, --key-file and --tls-*, with the setting naming each: --snapshot must be none of them. */
function otherFilesOf(o: Record<string, string | boolean | undefined>, from: SettingSources): { origin: string; path: string }[] {
  const files: { origin: string; path: string }[] = [];
  for (const attribute of ['config', 'keyFile', 'tlsCert', 'tlsKey', 'tlsCa']) {
    const path = o[attribute];
    if (typeof path === 'string' && path !== '') files.push({ origin: from.originOf(attribute), path });
  }
  return files;
}

function fail(message: string): never {
  if (isWorker) {
    // The primary prints it, once, prefixed with the worker's index (supervisor.ts).
    tellPrimary({ type: 'failed', message });
    process.exit(1);
  }
  process.stderr.write(`conduit-server: ${message}\n`);
  process.exit(1);
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A value already checked by {@link SettingSources.parse}, as a number (`what` is kept for callers that name it). */
function integerOf(text: string, _what?: string): number {
  return Number(text.trim());
}

/** Which listener failed, from the error's own address fields; one line naming it. */
function listenError(e: NodeJS.ErrnoException & { address?: string; port?: number }, options: Partial<ServerOptions>): string {
  const socket = options.socket !== undefined && (e.address === options.socket || (e as { path?: string }).path === options.socket);
  // ConduitServer's own check of the socket path (not a socket, or a live server there) names the path already.
  if (socket && e.code === 'ENOTSOCK') return `cannot listen: ${e.message}`;
  if (options.respSocket !== undefined && (e as { path?: string }).path === options.respSocket && e.code === 'ENOTSOCK') return `cannot listen: ${e.message}`;
  const http = !socket && options.httpPort !== undefined && e.port === options.httpPort && e.port !== options.port;
  const respSocket = options.respSocket !== undefined && (e.address === options.respSocket || (e as { path?: string }).path === options.respSocket);
  const resp = !socket && !respSocket && options.respPort !== undefined && e.port === options.respPort && e.port !== options.port;
  const where = socket
    ? `socket ${options.socket} (${sources.originOf('socket')})`
    : respSocket
      ? `RESP socket ${options.respSocket} (${sources.originOf('respSocket')})`
      : http
        ? `HTTP ${e.address ?? options.httpHost}:${e.port ?? ''} (${sources.originOf('httpPort')})`
        : resp
          ? `RESP ${e.address ?? options.respHost ?? options.host}:${e.port ?? ''} (${sources.originOf('respPort')})`
          : `${e.address ?? options.host}:${e.port ?? options.port}`;
  if (e.code === 'EADDRINUSE') return `cannot listen on ${where}: it is already in use`;
  if (socket && (e.code === 'ENOENT' || e.code === 'EACCES') && !existsSync(dirname(options.socket ?? ''))) {
    return `cannot listen on ${where}: directory ${dirname(options.socket ?? '')} does not exist`;
  }
  if (e.code === 'EACCES') return `cannot listen on ${where}: permission denied`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such address on this machine`;
  return `cannot listen on ${where}: ${e.message}`;
}

/**
 * Output bounds that let clients that do not read hold more than the memory budget allows for:
 * legal (a large value may need a large buffer), so a warning at start rather than a refusal.
 */
function warnOutputBounds(o: ServerOptions, logger: Pick<ServerOptions['logger'], 'warn'>, text: (name: string) => string): void {
  // What the user wrote, or the computed value in the largest unit it fills.
  const shown = (name: 'maxMemory' | 'maxOutputBuffer' | 'maxOutputMemory', bytes: number): string =>
    program.getOptionValue(name) === undefined ? formatSizeLimit(bytes)
      : program.getOptionValueSource(name) === 'default' ? `${formatSizeLimit(bytes)} by default` : `'${text(name)}'`;
  const memory = `${sources.originOf('maxMemory')} ${shown('maxMemory', o.maxMemory)}`;
  const fields = { maxMemory: o.maxMemory, maxOutputBuffer: o.maxOutputBuffer, maxOutputMemory: o.maxOutputMemory };
  if (o.maxOutputBuffer > o.maxMemory / 4) {
    logger.warn(
      fields,
      `${sources.originOf('maxOutputBuffer')} ${shown('maxOutputBuffer', o.maxOutputBuffer)} is more than a quarter of ${memory}: ` +
        'each client that does not read its answers may hold that much output on top of the store',
    );
  }
  if (o.maxOutputMemory > o.maxMemory) {
    const given = program.getOptionValue('maxOutputMemory') !== undefined;
    logger.warn(
      fields,
      `${given ? sources.originOf('maxOutputMemory') : '--max-output-memory (twice --max-output-buffer by default)'} ` +
        `${shown('maxOutputMemory', o.maxOutputMemory)} is more than ${memory}: ` +
        'clients that do not read their answers may together hold that much output on top of the store',
    );
  }
}

/**
 * Issue 23: whether the RESP listener may start. Protected mode (as Redis's): a non-loopback
 * --resp-host needs --resp-password or client certificates unless --allow-insecure-public. In
 * secure mode (keys) RESP, which has no keys, needs --resp-password or client certificates on
 * any address, whatever --allow-insecure-public says. Returns the one-line refusal, if any.
 */
function respListenerProblem(options: Partial<ServerOptions>, allowInsecurePublic: boolean): string | undefined {
  if (options.respPort === undefined && options.respSocket === undefined) {
    if (options.respHost !== undefined) return `${sources.originOf('respHost')} needs --resp-port`;
    if (options.respPassword !== undefined) return `${sources.originOf('respPassword')} needs --resp-port or --resp-socket`;
    return undefined;
  }
  const which = sources.originOf(options.respPort !== undefined ? 'respPort' : 'respSocket');
  // A key file's [[tokens]] are RESP users (AUTH user password): with any, the port requires AUTH.
  const password = options.respPassword !== undefined || (options.tokens ?? []).length > 0;
  const clientCerts = options.tls?.clientAuth === true;
  if ((options.keys ?? []).length > 0 && !password && !clientCerts) {
    return (
      `refusing ${which}: secure mode (a key is configured) and RESP clients cannot use keys, so the RESP listener ` +
      'needs --resp-password (CONDUIT_RESP_PASSWORD), [[tokens]] in --key-file or client certificates (--tls-client-auth)'
    );
  }
  const host = options.respHost ?? options.host ?? serverDefaults.host;
  if (options.respPort !== undefined && !isLoopback(host) && !password && !clientCerts && !allowInsecurePublic) {
    return (
      `refusing to serve RESP on ${host} (${which}): it is not a loopback address and no --resp-password is set, so anyone ` +
      'who can reach it could read and change the cache (protected mode). Set CONDUIT_RESP_PASSWORD, require client ' +
      'certificates (--tls-client-auth), bind --resp-host 127.0.0.1, or pass --allow-insecure-public if the network is trusted.'
    );
  }
  return undefined;
}

/** The start-up line's `secure` field: key ids and the frame AEAD, never a key. */
function secureField(keys: readonly PreSharedKey[], aead: AeadChoice | undefined): unknown {
  return keys.length > 0 ? { keyIds: keys.map((k) => k.id), aead: aead?.implementation, aeadFallback: aead?.fallbackReason } : false;
}

/**
 * The key the primary's forwarding gateway gives the workers (issue 25): one with every right,
 * as the gateway enforces its clients' rights itself. CONDUIT_KEY's (no rule: it is added last)
 * first, as every reload keeps it; else the key file's first key without prefixes or allow.
 */
function gatewayKey(keys: readonly PreSharedKey[]): PreSharedKey | undefined {
  const everything = (k: PreSharedKey): boolean => k.rule === undefined || (k.rule.prefixes === undefined && k.rule.allow.size === ACCESS_CLASSES.length);
  return keys.find((k) => k.rule === undefined) ?? keys.find(everything);
}

/**
 * `--workers N` (N > 1): the checks only a group needs, then the primary (primary.ts). Every
 * other setting was checked by main() as for one server, and the first worker's options are
 * resolved here, so a bad value fails now, once, not in N workers.
 */
async function startPrimary(
  count: number,
  options: Partial<ServerOptions>,
  logger: Logger & { flush(): void },
  aead: AeadChoice | undefined,
  access: AccessSettings,
): Promise<void> {
  const tcp = options.tcp !== false;
  const port = options.port ?? serverDefaults.port;
  const host = options.host ?? serverDefaults.host;
  const share = memoryShare(options.maxMemory ?? serverDefaults.maxMemory, count);
  const problem = groupProblem(
    { ...options, count, tcp, port, shards: options.shards ?? serverDefaults.shards, tls: options.tls !== undefined },
    (name) => sources.originOf(name),
  );
  if (problem !== undefined) fail(problem);
  let ports: number[] | undefined;
  if (tcp && port === 0) {
    try {
      ports = await freePorts(host, count);
    } catch (err) {
      fail(listenError(err as NodeJS.ErrnoException, options));
    }
  }
  const workers = planWorkers({ count, host, port, socket: options.socket, tcp, freePorts: ports });
  let resolved: ServerOptions;
  try {
    const first = { ...options, port: workers[0]?.port ?? port, socket: workers[0]?.socket, maxMemory: share, logger };
    resolved = resolveServerOptions(first, (name) => sources.originOf(name.endsWith('Ms') ? name.slice(0, -2) : name));
  } catch (err) {
    fail((err as Error).message);
  }
  const { logger: _logger, keys, tokens: _tokens, certificates: _certificates, reloadAccess: _reload, tls, ...settingsLogged } = resolved;
  // Issue 25: the forwarding gateway checks its clients' tokens itself, against a table of its own
  // that a SIGHUP reloads with the workers'; it reaches the workers with a key that has every right.
  const primaryAccess =
    resolved.httpPort === undefined
      ? undefined
      : gatewayAccess(access, { httpToken: resolved.httpToken, logger, load: access.load });
  let upstreamKey: PreSharedKey | undefined;
  if (primaryAccess !== undefined && keys.length > 0) {
    upstreamKey = gatewayKey(keys);
    if (upstreamKey === undefined) {
      fail(
        `${sources.originOf('httpPort')} with ${sources.originOf('workers')} ${count}: the primary's HTTP gateway reaches the workers with a key ` +
          `of ${String(program.opts<{ keyFile?: string }>().keyFile)}, and every [[keys]] entry there has prefixes or allow; add a key without them (or set CONDUIT_KEY) for the gateway`,
      );
    }
  }
  await runPrimary({
    entry: fileURLToPath(import.meta.url),
    args: process.argv.slice(2),
    workers,
    maxMemory: share,
    // spec §3.14: one epoch per primary: the same through worker restarts, new when the group is started
    // again. Random rather than the start second, so two groups started in one second never share one.
    epoch: randomBytes(4).readUInt32BE(0),
    shutdownTimeoutMs: resolved.shutdownTimeoutMs,
    logger,
    onWorkersReady: primaryAccess === undefined ? undefined : (names) => startGateway(names, resolved, primaryAccess, upstreamKey),
    onReload: access.load === undefined ? undefined : () => void primaryAccess?.reload(),
    startFields: {
      version,
      secure: secureField(keys, aead),
      access: accessField(access),
      tls: tls === undefined ? false : { clientAuth: tls.clientAuth === true },
      http: false,
      // What each worker runs: maxMemory is its share.
      settings: {
        ...settingsLogged,
        port,
        socket: options.socket,
        workers: count,
        httpToken: settingsLogged.httpToken === undefined ? undefined : '(set)',
        snapshot: snapshotField(options.snapshot, count),
      },
    },
    fail,
  });
}

/**
 * The primary's HTTP gateway (issue 20): the same routes as a single server's, forwarded over the
 * protocol to the worker that owns each key by a pooled ConduitClient (http/forwarding.ts), with
 * the workers' first key in secure mode. /readyz is 503 while a worker cannot be reached.
 */
async function startGateway(names: readonly string[], o: ServerOptions, access: AccessControl, key: PreSharedKey | undefined): Promise<PrimaryService> {
  const client = new ConduitClient({ servers: names, ...(key === undefined ? {} : { key: { id: key.id, secret: key.secret } }) });
  client.on('error', () => {}); // a worker being restarted is what /readyz reports, not a crash of the primary
  let draining = false;
  const gateway = new HttpGateway(new ForwardingBackend(client, { draining: () => draining }), new ForwardingMetrics({ access }), {
    host: o.httpHost,
    port: o.httpPort ?? 0,
    // Issue 25: the primary's own table (--http-token and [[tokens]]), reloaded with the workers' on SIGHUP.
    token: undefined,
    access,
    secure: o.keys.length > 0,
    bodyTimeoutMs: o.frameTimeoutMs,
    allowedHosts: o.httpAllowedHosts,
    maxValueSize: o.maxValueSize,
  });
  let address;
  try {
    address = await gateway.listen();
  } catch (err) {
    await client.close();
    throw err;
  }
  return {
    http: `${o.httpHost}:${address.port}`,
    close: async () => {
      draining = true;
      await gateway.close();
      await client.close();
    },
  };
}

async function main(): Promise<void> {
  const start: StartMessage | undefined = await workerStart();
  try {
    sources.parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const text = (name: string): string => String(o[name]);
  const flag = (name: string): boolean => o[name] === true;

  let options: Partial<ServerOptions>;
  try {
    options = {
      host: text('host'),
      port: integerOf(text('port')),
      socket: typeof o.socket === 'string' ? o.socket : undefined,
      tcp: o.tcp !== false,
      maxMemory: parseBytes(text('maxMemory'), sources.originOf('maxMemory')),
      shards: integerOf(text('shards')),
      eviction: text('eviction') as ServerOptions['eviction'],
      maxConnections: integerOf(text('maxConnections')),
      maxInflight: integerOf(text('maxInflight')),
      maxOutputBuffer: parseBytes(text('maxOutputBuffer'), sources.originOf('maxOutputBuffer')),
      // Given or not: the default (1 MiB) is not held to --max-memory, whose store refuses what it cannot hold as before.
      ...(program.getOptionValueSource('maxValueSize') === 'default' ? {} : { maxValueSize: parseBytes(text('maxValueSize'), sources.originOf('maxValueSize')) }),
      ...(typeof o.maxOutputMemory === 'string' ? { maxOutputMemory: parseBytes(o.maxOutputMemory, sources.originOf('maxOutputMemory')) } : {}),
      idleTimeoutMs: parseDuration(text('idleTimeout'), sources.originOf('idleTimeout')),
      frameTimeoutMs: parseDuration(text('frameTimeout'), sources.originOf('frameTimeout')),
      handshakeTimeoutMs: parseDuration(text('handshakeTimeout'), sources.originOf('handshakeTimeout')),
      maxHandshakesPerSecond: integerOf(text('maxHandshakesPerSecond')),
      trackingMaxKeys: integerOf(text('trackingMaxKeys')),
      allowShutdown: flag('allowShutdown'),
      shutdownTimeoutMs: parseDuration(text('shutdownTimeout'), sources.originOf('shutdownTimeout')),
      httpPort: typeof o.httpPort === 'string' ? integerOf(o.httpPort) : undefined,
      httpHost: text('httpHost'),
      httpToken: typeof o.httpToken === 'string' ? o.httpToken : undefined,
      httpAllowedHosts: typeof o.httpAllowedHosts === 'string' ? o.httpAllowedHosts.split(',').map((h) => h.trim()).filter((h) => h !== '') : [],
      respPort: typeof o.respPort === 'string' ? integerOf(o.respPort) : undefined,
      respHost: typeof o.respHost === 'string' ? o.respHost : undefined,
      respSocket: typeof o.respSocket === 'string' ? o.respSocket : undefined,
      respPassword: typeof o.respPassword === 'string' ? o.respPassword : undefined,
      // Issue 22: a worker's file is FILE.<i> (a primary checks FILE's directory and shows FILE.<i>).
      snapshot: snapshotOption(
        { snapshot: o.snapshot, snapshotInterval: o.snapshotInterval, snapshotStrict: o.snapshotStrict, snapshotKey: o.snapshotKey, given: (a) => program.getOptionValueSource(a) !== undefined && program.getOptionValueSource(a) !== 'default', originOf: (a) => sources.originOf(a), otherFiles: otherFilesOf(o, sources) },
        start?.worker,
      ),
    };
  } catch (err) {
    fail((err as Error).message);
  }
  if (options.tcp === false && options.socket === undefined) fail(`${sources.originOf('tcp')} needs --socket: otherwise nothing would listen`);
  const shards = options.shards ?? serverDefaults.shards;
  if ((options.maxMemory ?? 0) < shards * 1024) {
    fail(`${sources.originOf('maxMemory')} must be at least ${formatSizeLimit(shards * 1024)}, 1 KiB for each of ${sources.originOf('shards')} ${shards}, got '${text('maxMemory')}'`);
  }
  if (options.maxValueSize !== undefined && options.maxValueSize > (options.maxMemory ?? 0)) {
    fail(`${sources.originOf('maxValueSize')} must not exceed ${sources.originOf('maxMemory')} (${text('maxMemory').trim()}): no value that large could be stored, got '${text('maxValueSize')}'`);
  }
  if (options.tcp !== false && options.port !== 0 && options.httpPort === options.port) {
    // Both listeners would bind it, and the second would fail as "already in use" with nothing else there.
    fail(`${sources.originOf('httpPort')} and ${sources.originOf('port')} are both ${text('port').trim()}: give the HTTP gateway a port of its own`);
  }
  // Issue 25: the key file's keys, tokens and certificate rules, and CONDUIT_KEY's key beside them
  // (every right); a reload (SIGHUP, RELOAD, ACL LOAD) reads the same file and adds the same key again.
  let access: AccessSettings;
  try {
    const key = typeof o.key === 'string' ? parseKeySpec(o.key, sources.originOf('key')) : undefined;
    access = accessSettings(typeof o.keyFile === 'string' ? o.keyFile : undefined, key, sources.originOf('key'));
  } catch (err) {
    fail((err as Error).message);
  }
  const keys = access.keys;
  options.keys = keys;
  options.tokens = access.tokens;
  options.certificates = access.certificates;
  options.reloadAccess = access.load;
  // CONDUIT_AEAD is checked like every CONDUIT_* setting, secure or not; with keys the frame AEAD
  // is chosen now (loading sodium-native), so the start-up line can say which one serves (issue 18).
  let aead: AeadChoice | undefined;
  try {
    if (keys.length > 0) aead = aeadChoice();
    else requestedAead(process.env);
  } catch (err) {
    fail((err as Error).message);
  }
  if (typeof o.tlsCert === 'string' || typeof o.tlsKey === 'string') {
    if (typeof o.tlsCert !== 'string' || typeof o.tlsKey !== 'string') fail('--tls-cert and --tls-key go together');
    options.tls = {
      cert: readPem(o.tlsCert, sources.originOf('tlsCert')),
      key: readPem(o.tlsKey, sources.originOf('tlsKey')),
      ...(typeof o.tlsCa === 'string' ? { ca: readPem(o.tlsCa, sources.originOf('tlsCa')) } : {}),
      clientAuth: flag('tlsClientAuth'),
    };
    if (options.tls.clientAuth === true && options.tls.ca === undefined) fail('--tls-client-auth needs --tls-ca');
  } else if (flag('tlsClientAuth') || typeof o.tlsCa === 'string') {
    fail('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
  }
  if (access.certificates.length > 0 && options.tls?.clientAuth !== true) {
    // spec §3.17: a [[certificates]] rule matches a verified client certificate's CN; without
    // --tls-client-auth no client presents one, and the rules would silently never apply.
    fail(`${text('keyFile')}: [[certificates]] need --tls-client-auth (with --tls-cert, --tls-key and --tls-ca): client certificates are what they match`);
  }
  // Protected mode (like Redis's): a public address needs a key or client certificates.
  const authenticated = keys.length > 0 || options.tls?.clientAuth === true;
  if (options.tcp !== false && !isLoopback(options.host ?? '') && !authenticated && !flag('allowInsecurePublic')) {
    fail(
      `refusing to listen on ${options.host ?? ''}: it is not a loopback address and no key is configured, so anyone ` +
        'who can reach it could read and change the cache (protected mode). Configure a key (--key-file or ' +
        'CONDUIT_KEY), require client certificates (--tls-client-auth), bind 127.0.0.1, or pass ' +
        '--allow-insecure-public if the network is trusted.',
    );
  }
  // A key file's [[tokens]] are bearer tokens too: with any, the HTTP data routes need one (spec §3.17).
  const httpTokens = options.httpToken !== undefined || access.tokens.length > 0;
  if (options.httpPort !== undefined && !isLoopback(options.httpHost ?? '') && !httpTokens && !flag('allowInsecurePublic')) {
    fail(
      `refusing to serve HTTP on ${options.httpHost ?? ''}: it is not a loopback address and no --http-token (or [[tokens]] in --key-file) is set ` +
        '(protected mode). Set CONDUIT_HTTP_TOKEN, bind 127.0.0.1, or pass --allow-insecure-public.',
    );
  }
  const respProblem = respListenerProblem(options, flag('allowInsecurePublic'));
  if (respProblem !== undefined) fail(respProblem);
  if (access.load !== undefined) {
    // A reload installs only what a restart would accept (an outside review reloaded [[certificates]]
    // without --tls-client-auth): the same file checks, and the tokens that guard HTTP or RESP stay.
    options.reloadAccess = guardedReload(access.load, options, text('keyFile'));
    access = { ...access, load: options.reloadAccess };
  }

  const primaryLogger = pino({ name: 'conduit-server', level: text('logLevel') }, pino.destination({ dest: 2, sync: true }));
  if (start === undefined && keys.length > 0 && options.snapshot !== undefined && options.snapshot.key === undefined) {
    primaryLogger.warn(
      { snapshot: options.snapshot.file },
      `secure mode, but the snapshot file ${options.snapshot.file} will hold the cached values in the clear: ` +
        'seal it with CONDUIT_SNAPSHOT_KEY (32 random bytes, base64) or keep it where only this server can read it',
    );
  }
  const count = workerCount(text('workers'));
  if (start === undefined && options.snapshot !== undefined) {
    // Files of a run with another worker count are not loaded: say so once (docs/SNAPSHOT.md §Loading).
    const unused = unusedSnapshotFiles(options.snapshot.file, count);
    if (unused.length > 0) {
      primaryLogger.warn(
        { snapshot: options.snapshot.file, unused },
        `snapshot files of a run with another worker count are not loaded with --workers ${count}: ${unused.join(', ')}`,
      );
    }
  }
  if (start === undefined && count > 1 && (options.respPort !== undefined || options.respSocket !== undefined)) {
    // Each worker owns only its slots (spec §3.14), and a Redis client cannot follow MOVED for a cache subset.
    fail(
      `${sources.originOf(options.respPort !== undefined ? 'respPort' : 'respSocket')} cannot be used with ${sources.originOf('workers')} ${count}: ` +
        'each worker owns only its share of the keys; run one process (--workers 1) to serve RESP',
    );
  }
  if (start === undefined && count > 1) {
    await startPrimary(count, options, primaryLogger, aead, access);
    return;
  }
  // A worker: the primary's plan (supervisor.ts) decides where it listens, its budget and its group.
  const logger = start === undefined ? primaryLogger : primaryLogger.child({ worker: start.worker });
  if (start !== undefined) {
    options.port = start.port ?? options.port;
    options.socket = start.socket;
    options.maxMemory = start.maxMemory;
    options.httpPort = undefined;
  }
  let composed: ComposedServer;
  try {
    // Messages name the flag, variable or file setting the user wrote: ServerOptions' idleTimeoutMs is --idle-timeout.
    // A worker knows its group before its server exists, so it never serves a key outside it (spec §3.14).
    const group = start === undefined ? {} : { group: start.group };
    const resolved = resolveServerOptions({ ...options, ...group, logger }, (name) => sources.originOf(name.endsWith('Ms') ? name.slice(0, -2) : name));
    composed = new ComposedServer(resolved);
  } catch (err) {
    fail((err as Error).message);
  }
  const server = composed.server;
  // Signal handlers go in before the first log line, so a SIGTERM sent as soon
  // as the server says it listens already drains instead of killing it.
  let stoppingSince = 0;
  const stop = (reason: string): void => {
    if (stoppingSince !== 0) {
      // `npx conduit-server` and a terminal's Ctrl-C deliver one signal twice within
      // milliseconds (to the process group, and forwarded by npm): that is not a second request.
      if (performance.now() - stoppingSince < REPEAT_IGNORED_MS) {
        logger.debug({ reason }, 'stop request repeated at once: ignored');
        return;
      }
      logger.warn({ reason }, 'second stop request: exiting at once');
      process.exit(1);
    }
    stoppingSince = performance.now();
    logger.info({ reason }, 'shutting down: draining connections');
    composed.close().then(
      () => {
        logger.info({}, 'shutdown complete');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        // One line: with --snapshot, a save that failed (FILE is still the previous snapshot).
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ reason: message }, `shutdown failed: ${message}`);
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (start === undefined) {
    process.on('SIGINT', () => stop('SIGINT'));
    // spec §6.8: with --key-file, SIGHUP re-reads it (AccessControl logs one line, ok or refused,
    // and the server serves on). Without one it is a closed terminal and stops the server like
    // SIGTERM: logged, and every request already received is answered, rather than Node's
    // default of dying silently mid-request.
    process.on('SIGHUP', () => (server.access.reloadable ? void server.access.reload() : stop('SIGHUP')));
    server.on('shutdown', () => stop('SHUTDOWN request'));
    watchLauncher(stop);
  } else {
    // Ctrl-C and a closed terminal reach the whole process group: the primary turns them into a
    // SIGTERM to every worker, so a worker's stop always comes from one place.
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
    // With --key-file the primary relays its SIGHUP as a reload message (primary.ts).
    if (server.access.reloadable) onPrimaryReload(() => void server.access.reload());
    // A group is one server to its clients: one worker's SHUTDOWN drains them all (primary.ts).
    server.on('shutdown', () => tellPrimary({ type: 'shutdown' }));
    onPrimaryGone(() => stop('primary exited'));
  }
  let address: ComposedAddress;
  try {
    address = await composed.listen();
  } catch (err) {
    fail(err instanceof SnapshotError ? err.message : listenError(err as NodeJS.ErrnoException, options));
  }
  if (start !== undefined) {
    // The primary prints the one start-up line once every worker is here.
    const tcpAddress = server.options.tcp ? `${address.host}:${address.port}` : undefined;
    logger.info({ address: tcpAddress, socket: address.socket, node: start.group.nodes[start.worker] }, 'worker listening');
    tellPrimary({ type: 'listening', host: address.host, port: server.options.tcp ? address.port : undefined, socket: address.socket });
    return;
  }
  // Never log secrets: keys, tokens and certificate rules by id only, the HTTP token as "(set)".
  const { logger: _logger, keys: configuredKeys, tokens: _tokens, certificates: _certificates, reloadAccess: _reload, tls, respPassword, ...settingsLogged } = server.options;
  logger.info(
    {
      version,
      address: server.options.tcp ? `${address.host}:${address.port}` : undefined,
      socket: address.socket,
      secure: secureField(configuredKeys, aead),
      access: accessField(access),
      tls: tls === undefined ? false : { clientAuth: tls.clientAuth === true },
      http: address.httpPort === undefined ? false : `${server.options.httpHost}:${address.httpPort}`,
      resp: address.respPort === undefined ? false : `${server.resp?.respAddress.host ?? ''}:${address.respPort}`,
      respSocket: server.options.respSocket,
      settings: {
        ...settingsLogged,
        httpToken: settingsLogged.httpToken === undefined ? undefined : '(set)',
        respPassword: respPassword === undefined ? undefined : '(set)',
        snapshot: snapshotField(settingsLogged.snapshot),
      },
    },
    'conduit-server listening',
  );
  warnOutputBounds(server.options, logger, text);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
