#!/usr/bin/env node
/**
 * `conduit-server`: starts a Conduit cache server. Every option can also be
 * set by an environment variable `CONDUIT_<NAME>` or in a TOML file given
 * with `--config`; flags beat the environment, which beats the file.
 *
 * @example
 * ```sh
 * npx conduit-server --port 7171 --max-memory 512mb
 * CONDUIT_MAX_MEMORY=1gb npx conduit-server
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { parse as parseToml } from 'smol-toml';
import { loadKeyFile, parseKeySpec } from '../crypto/keys.js';
import type { PreSharedKey } from '../crypto/handshake.js';
import { ConduitServer } from '../server/server.js';
import { isLoopback, parseBytes, parseDuration, serverDefaults, type ServerOptions } from '../server/options.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** A stop signal repeated within this long is the same request delivered twice (see stop()). */
const REPEAT_IGNORED_MS = 1_000;

/** Settings a config file may hold: the long option names, with dashes or underscores. */
const settings = [
  'host',
  'port',
  'socket',
  'tcp',
  'max-memory',
  'shards',
  'eviction',
  'max-connections',
  'max-inflight',
  'max-output-buffer',
  'idle-timeout',
  'frame-timeout',
  'allow-shutdown',
  'shutdown-timeout',
  'log-level',
  'allow-insecure-public',
  'key-file',
  'tls-cert',
  'tls-key',
  'tls-ca',
  'tls-client-auth',
  'http-port',
  'http-host',
] as const;

function option(flags: string, description: string, name: string, fallback?: string): Option {
  const o = new Option(flags, description).env(`CONDUIT_${name.toUpperCase().replaceAll('-', '_')}`);
  return fallback === undefined ? o : o.default(fallback);
}

const program = new Command('conduit-server')
  .description('In-memory key-value cache server speaking the Conduit protocol (spec/conduit-v1.md).')
  .version(version)
  .addOption(option('--host <host>', 'TCP address to bind', 'host', serverDefaults.host))
  .addOption(option('--port <port>', 'TCP port (0 picks a free one)', 'port', String(serverDefaults.port)))
  .addOption(option('--socket <path>', 'also listen on this Unix domain socket', 'socket'))
  .addOption(option('--no-tcp', 'with --socket: listen on the socket only, not on TCP', 'tcp'))
  .addOption(option('--max-memory <size>', 'memory budget (b, kb, mb, gb)', 'max-memory', '64mb'))
  .addOption(option('--shards <n>', 'store shards, a power of two', 'shards', String(serverDefaults.shards)))
  .addOption(option('--eviction <policy>', 'when full: lru evicts, none refuses writes', 'eviction', 'lru').choices(['lru', 'none']))
  .addOption(option('--max-connections <n>', 'connections at once; more get BUSY', 'max-connections', String(serverDefaults.maxConnections)))
  .addOption(option('--max-inflight <n>', 'unsent responses per connection before it stops being read', 'max-inflight', String(serverDefaults.maxInflight)))
  .addOption(option('--max-output-buffer <size>', 'unwritten output per connection before disconnect', 'max-output-buffer', '16mb'))
  .addOption(option('--idle-timeout <duration>', 'close silent connections after this (0 = never)', 'idle-timeout', '0'))
  .addOption(option('--frame-timeout <duration>', 'a started frame must complete within this', 'frame-timeout', '10s'))
  .addOption(option('--allow-shutdown', 'permit the SHUTDOWN opcode', 'allow-shutdown'))
  .addOption(option('--shutdown-timeout <duration>', 'longest graceful drain on SIGTERM/SIGINT', 'shutdown-timeout', '10s'))
  .addOption(option('--log-level <level>', 'JSON log lines on stderr at this level', 'log-level', 'info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .addOption(option('--allow-insecure-public', 'listen on a non-loopback address without a key', 'allow-insecure-public'))
  .addOption(option('--key-file <path>', 'pre-shared keys (TOML [[keys]] with id and base64 key): secure mode', 'key-file'))
  .addOption(new Option('--key <id:base64>', 'one pre-shared key; prefer CONDUIT_KEY, as command lines are visible to others').env('CONDUIT_KEY'))
  .addOption(option('--tls-cert <path>', 'serve TLS with this certificate chain (PEM)', 'tls-cert'))
  .addOption(option('--tls-key <path>', 'private key of --tls-cert (PEM)', 'tls-key'))
  .addOption(option('--tls-ca <path>', 'CA that signs client certificates (PEM)', 'tls-ca'))
  .addOption(option('--tls-client-auth', 'require a client certificate signed by --tls-ca (mTLS)', 'tls-client-auth'))
  .addOption(option('--http-port <port>', 'also serve HTTP (/v1/keys, /metrics, /healthz, /readyz) on this port', 'http-port'))
  .addOption(option('--http-host <host>', 'address of the HTTP listener', 'http-host', '127.0.0.1'))
  .addOption(new Option('--http-token <token>', 'bearer token the HTTP data routes require; prefer CONDUIT_HTTP_TOKEN').env('CONDUIT_HTTP_TOKEN'))
  .addOption(new Option('--config <file>', 'TOML file with any of the settings above').env('CONDUIT_CONFIG'))
  .addHelpText('after', '\nSizes take b/kb/mb/gb; durations take ms/s/m/h (a bare number is ms).\nEvery option is also read from CONDUIT_<NAME> (e.g. CONDUIT_MAX_MEMORY=512mb).\nGive the process 2 × --max-memory + 128 MiB of RAM (README: How much memory).');

function fail(message: string): never {
  process.stderr.write(`conduit-server: ${message}\n`);
  process.exit(1);
}

/** Fills every option still at its default from the TOML file (flags > env > file > default). */
function applyConfig(file: string): void {
  let table: Record<string, unknown>;
  try {
    table = parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    fail(`cannot read config ${file}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  for (const [rawKey, value] of Object.entries(table)) {
    const key = rawKey.replaceAll('_', '-');
    if (!(settings as readonly string[]).includes(key)) fail(`unknown setting '${rawKey}' in ${file}`);
    const attribute = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const source = program.getOptionValueSource(attribute);
    if (source === 'cli' || source === 'env') continue;
    program.setOptionValueWithSource(attribute, typeof value === 'boolean' ? value : String(value), 'config');
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function integerOf(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) fail(`${what} must be a whole number, got '${text}'`);
  return Number(text);
}

async function main(): Promise<void> {
  program.parse();
  const first = program.opts<{ config?: string }>();
  if (first.config !== undefined) applyConfig(first.config);
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const text = (name: string): string => String(o[name]);

  let options: Partial<ServerOptions>;
  try {
    options = {
      host: text('host'),
      port: integerOf(text('port'), '--port'),
      socket: typeof o.socket === 'string' ? o.socket : undefined,
      tcp: o.tcp !== false && o.tcp !== 'false',
      maxMemory: parseBytes(text('maxMemory'), '--max-memory'),
      shards: integerOf(text('shards'), '--shards'),
      eviction: text('eviction') as ServerOptions['eviction'],
      maxConnections: integerOf(text('maxConnections'), '--max-connections'),
      maxInflight: integerOf(text('maxInflight'), '--max-inflight'),
      maxOutputBuffer: parseBytes(text('maxOutputBuffer'), '--max-output-buffer'),
      idleTimeoutMs: parseDuration(text('idleTimeout'), '--idle-timeout'),
      frameTimeoutMs: parseDuration(text('frameTimeout'), '--frame-timeout'),
      allowShutdown: o.allowShutdown === true || o.allowShutdown === 'true',
      shutdownTimeoutMs: parseDuration(text('shutdownTimeout'), '--shutdown-timeout'),
      httpPort: typeof o.httpPort === 'string' ? integerOf(o.httpPort, '--http-port') : undefined,
      httpHost: text('httpHost'),
      httpToken: typeof o.httpToken === 'string' ? o.httpToken : undefined,
    };
  } catch (err) {
    fail((err as Error).message);
  }
  const flag = (name: string): boolean => o[name] === true || o[name] === 'true';
  let keys: PreSharedKey[] = [];
  try {
    if (typeof o.keyFile === 'string') keys = loadKeyFile(o.keyFile);
    if (typeof o.key === 'string') keys = [...keys.filter((k) => k.id !== parseKeySpec(o.key as string).id), parseKeySpec(o.key)];
  } catch (err) {
    fail((err as Error).message);
  }
  options.keys = keys;
  if (typeof o.tlsCert === 'string' || typeof o.tlsKey === 'string') {
    if (typeof o.tlsCert !== 'string' || typeof o.tlsKey !== 'string') fail('--tls-cert and --tls-key go together');
    options.tls = {
      cert: readPem(o.tlsCert, '--tls-cert'),
      key: readPem(o.tlsKey, '--tls-key'),
      ...(typeof o.tlsCa === 'string' ? { ca: readPem(o.tlsCa, '--tls-ca') } : {}),
      clientAuth: flag('tlsClientAuth'),
    };
    if (options.tls.clientAuth === true && options.tls.ca === undefined) fail('--tls-client-auth needs --tls-ca');
  } else if (flag('tlsClientAuth') || typeof o.tlsCa === 'string') {
    fail('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
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
  if (options.httpPort !== undefined && !isLoopback(options.httpHost ?? '') && options.httpToken === undefined && !flag('allowInsecurePublic')) {
    fail(
      `refusing to serve HTTP on ${options.httpHost ?? ''}: it is not a loopback address and no --http-token is set ` +
        '(protected mode). Set CONDUIT_HTTP_TOKEN, bind 127.0.0.1, or pass --allow-insecure-public.',
    );
  }

  const logger = pino({ name: 'conduit-server', level: text('logLevel') }, pino.destination({ dest: 2, sync: true }));
  let server: ConduitServer;
  try {
    server = new ConduitServer({ ...options, logger });
  } catch (err) {
    fail((err as Error).message.replace(/(\w+) option/, (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
  }
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
    server.close().then(
      () => {
        logger.info({}, 'shutdown complete');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  server.on('shutdown', () => stop('SHUTDOWN request'));
  let address: Awaited<ReturnType<ConduitServer['listen']>>;
  try {
    address = await server.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') fail(`cannot listen: ${options.socket ?? `${options.host}:${options.port}`} is already in use`);
    if (e.code === 'EACCES') fail(`cannot listen on ${options.host}:${options.port}: permission denied`);
    fail(`cannot listen: ${e.message}`);
  }
  // Never log secrets: keys by id only, the HTTP token as "(set)".
  const { logger: _logger, keys: configuredKeys, tls, ...settingsLogged } = server.options;
  logger.info(
    {
      version,
      address: server.options.tcp ? `${address.host}:${address.port}` : undefined,
      socket: address.socket,
      secure: configuredKeys.length > 0 ? { keyIds: configuredKeys.map((k) => k.id) } : false,
      tls: tls === undefined ? false : { clientAuth: tls.clientAuth === true },
      http: address.httpPort === undefined ? false : `${server.options.httpHost}:${address.httpPort}`,
      settings: { ...settingsLogged, httpToken: settingsLogged.httpToken === undefined ? undefined : '(set)' },
    },
    'conduit-server listening',
  );

}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
