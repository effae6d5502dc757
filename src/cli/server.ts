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
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { loadKeyFile, parseKeySpec } from '../crypto/keys.js';
import type { PreSharedKey } from '../crypto/handshake.js';
import { ConduitServer } from '../server/server.js';
import { readTomlFile } from '../config/toml.js';
import { formatDurationLimit, formatSizeLimit, parseBytes, parseDuration } from '../config/units.js';
import { isLoopback, serverDefaults, type ServerOptions } from '../server/options.js';

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
  'max-output-memory',
  'idle-timeout',
  'frame-timeout',
  'handshake-timeout',
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
  'http-allowed-hosts',
] as const;


/** How an option's value reads, from the placeholder it was declared with (`<size>`, `<duration>`, `<n>`, …). */
type Kind = 'boolean' | 'size' | 'duration' | 'integer' | 'choice' | 'list' | 'text';

/** An option declared with {@link option}: every source of it (flag, variable, file) is checked the same way. */
interface Declared {
  option: Option;
  /** Its name in the config file and in `CONDUIT_<NAME>`. */
  setting: string;
  env: string;
}
const declared: Declared[] = [];

/** Longest timer Node keeps (2^31 - 1 ms): a longer one fires at once (setTimeout's overflow rule). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Ranges the command line checks itself, so that the message names the flag, variable or
 * file setting the user wrote, in their unit (`resolveServerOptions` checks them again).
 * Every `<duration>` is at most {@link MAX_TIMER_MS}.
 */
const limits: Record<string, { min: number; max: number; powerOfTwo?: true; why?: string }> = {
  port: { min: 0, max: 65_535 },
  'http-port': { min: 0, max: 65_535 },
  shards: { min: 1, max: 1024, powerOfTwo: true },
  // The store needs 1 KiB per shard; main() checks the winning value against --shards as well.
  'max-memory': { min: 1024, max: Number.MAX_SAFE_INTEGER, why: '1 KiB per shard' },
  'max-connections': { min: 1, max: 1_000_000 },
  'max-inflight': { min: 1, max: 1_000_000 },
  'max-output-buffer': { min: 65_536, max: Number.MAX_SAFE_INTEGER },
  'max-output-memory': { min: 65_536, max: Number.MAX_SAFE_INTEGER },
  'frame-timeout': { min: 1, max: MAX_TIMER_MS },
  'handshake-timeout': { min: 1, max: MAX_TIMER_MS },
};

/** The spellings of a boolean in `CONDUIT_*` variables and in the config file (case-insensitive, trimmed). */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off', ''];

/**
 * Declares an option that is also read from `CONDUIT_<NAME>` and from the `--config` file as
 * `name`. A flag without a value is a boolean: the variable and the file take true/1/yes/on or
 * false/0/no/off/"" (for `--no-x`, `CONDUIT_X=false` is `--no-x`). The placeholder says how every
 * source is checked: `<size>`, `<duration>`, `<n>` or `<port>` (whole numbers), `.choices()`,
 * anything else a non-empty text.
 */
function option(flags: string, description: string, name: string, fallback?: string): Option {
  const env = `CONDUIT_${name.toUpperCase().replaceAll('-', '_')}`;
  const o = new Option(flags, description).env(env);
  declared.push({ option: o, setting: name, env });
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
  .addOption(option('--max-output-memory <size>', 'unwritten output of all connections together before the largest holders are disconnected (default: a quarter of --max-memory, at least twice --max-output-buffer)', 'max-output-memory'))
  .addOption(option('--idle-timeout <duration>', 'close silent connections after this (0 = never)', 'idle-timeout', '0'))
  .addOption(option('--frame-timeout <duration>', 'a started frame must complete within this', 'frame-timeout', '10s'))
  .addOption(option('--handshake-timeout <duration>', 'secure mode: close a connection whose HELLO is not answered within this', 'handshake-timeout', '5s'))
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
  .addOption(option('--http-allowed-hosts <hosts>', 'comma-separated names/addresses the HTTP gateway answers for besides loopback and localhost', 'http-allowed-hosts'))
  .addOption(new Option('--http-token <token>', 'bearer token the HTTP data routes require; prefer CONDUIT_HTTP_TOKEN').env('CONDUIT_HTTP_TOKEN'))
  .addOption(new Option('--config <file>', 'TOML file with any of the settings above').env('CONDUIT_CONFIG'))
  .addHelpText(
    'after',
    '\nSizes take b/kb/mb/gb; durations take ms/s/m/h/d (a bare number is ms).\n' +
      'Every option is also read from CONDUIT_<NAME> (e.g. CONDUIT_MAX_MEMORY=512mb) and from the --config file;\n' +
      'flags beat the environment, which beats the file, and every source is checked. A switch there is\n' +
      'true/1/yes/on or false/0/no/off (CONDUIT_TCP=false is --no-tcp).\n' +
      'SIGTERM, SIGINT (Ctrl-C) and SIGHUP (terminal closed) drain the connections and exit 0;\n' +
      'a second one more than a second later exits at once with 1.\n' +
      'Give the process 2 × --max-memory + 128 MiB of RAM (README: How much memory).',
  );


function fail(message: string): never {
  process.stderr.write(`conduit-server: ${message}\n`);
  process.exit(1);
}

function kindOf(o: Option): Kind {
  if (!o.required && !o.optional) return 'boolean';
  if (o.argChoices !== undefined) return 'choice';
  const placeholder = /<([\w-]+)>/.exec(o.flags)?.[1];
  if (placeholder === 'size') return 'size';
  if (placeholder === 'duration') return 'duration';
  if (placeholder === 'n' || placeholder === 'port') return 'integer';
  if (placeholder === 'hosts') return 'list';
  return 'text';
}

/**
 * Reads one value of a declared option from one source; throws a `TypeError` whose message
 * names `label` (the flag, `CONDUIT_X`, or "setting in file") and its range in the user's unit.
 */
function check(d: Declared, raw: unknown, label: string): string | boolean {
  const kind = kindOf(d.option);
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const word = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : undefined;
    if (word !== undefined && TRUE_WORDS.includes(word)) return true;
    if (word !== undefined && FALSE_WORDS.includes(word)) return false;
    throw new TypeError(`${label} must be true/1/yes/on or false/0/no/off, got ${JSON.stringify(raw)}`);
  }
  // A list setting is comma-separated text on the command line and in CONDUIT_X, or a TOML array of strings.
  if (kind === 'list' && Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw.join(',');
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new TypeError(`${label} must be a value, got ${JSON.stringify(raw)}`);
  const text = String(raw);
  const limit = limits[d.setting];
  if (kind === 'choice') {
    const choices = d.option.argChoices ?? [];
    if (!choices.includes(text)) throw new TypeError(`${label} must be one of ${choices.join(', ')}, got '${text}'`);
  } else if (kind === 'size') {
    const bytes = parseBytes(text, label);
    const why = limit?.why === undefined ? '' : `, ${limit.why}`;
    if (limit !== undefined && bytes < limit.min) throw new TypeError(`${label} must be at least ${formatSizeLimit(limit.min)}${why}, got '${text}'`);
  } else if (kind === 'duration') {
    const ms = parseDuration(text, label);
    const { min, max } = limit ?? { min: 0, max: MAX_TIMER_MS };
    if (ms > max) throw new TypeError(`${label} must be at most ${formatDurationLimit(max, text, 'max')}, got '${text}'`);
    if (ms < min) throw new TypeError(`${label} must be at least ${formatDurationLimit(min, text, 'min')}, got '${text}'`);
  } else if (kind === 'integer') {
    if (!/^\s*\d+\s*$/.test(text)) throw new TypeError(`${label} must be a whole number, got '${text}'`);
    const n = Number(text);
    if (limit !== undefined && (n < limit.min || n > limit.max)) {
      throw new TypeError(`${label} must be an integer from ${limit.min} to ${limit.max}, got '${text.trim()}'`);
    }
    if (limit?.powerOfTwo === true && (n & (n - 1)) !== 0) {
      throw new TypeError(`${label} must be a power of two from ${limit.min} to ${limit.max}, got '${text.trim()}'`);
    }
  } else if (text.trim() === '') {
    throw new TypeError(`${label} must not be empty`);
  }
  return text;
}

/** The TOML table of `--config`, its keys checked against {@link settings}. */
function readConfig(file: string): Map<string, { key: string; value: unknown }> {
  let table: Record<string, unknown>;
  try {
    table = readTomlFile(file, 'config');
  } catch (err) {
    fail((err as Error).message);
  }
  const entries = new Map<string, { key: string; value: unknown }>();
  for (const [rawKey, value] of Object.entries(table)) {
    const key = rawKey.replaceAll('_', '-');
    if (!(settings as readonly string[]).includes(key)) fail(`unknown setting '${rawKey}' in ${file}`);
    entries.set(key, { key: rawKey, value });
  }
  return entries;
}

/**
 * Where each option's value came from, as the user wrote it ("--frame-timeout",
 * "CONDUIT_FRAME_TIMEOUT", "frame-timeout in conduit.toml"), by attribute name.
 */
const origins = new Map<string, string>();

/**
 * The label of `attribute`'s value for messages: as settled, else (options not declared with
 * option(), like --key) its variable when commander took it from there, else its flag.
 */
function originOf(attribute: string): string {
  const settled = origins.get(attribute);
  if (settled !== undefined) return settled;
  const declaredAs = program.options.find((o) => o.attributeName() === attribute);
  if (declaredAs?.envVar !== undefined && program.getOptionValueSource(attribute) === 'env') return declaredAs.envVar;
  return declaredAs?.long ?? `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Settles every declared option: flag > `CONDUIT_<NAME>` > file > default. Every source that
 * is present is checked, also one a higher source overrides (as Redis checks its file), so a
 * typo never waits for the day the flag is dropped. The winner goes back into commander as a
 * checked string or a real boolean.
 */
function settle(file: string | undefined): void {
  const config = file === undefined ? new Map<string, { key: string; value: unknown }>() : readConfig(file);
  for (const d of declared) {
    const attribute = d.option.attributeName();
    const candidates: { value: string | boolean; label: string; source: 'cli' | 'env' | 'config' }[] = [];
    try {
      if (program.getOptionValueSource(attribute) === 'cli') {
        const given = program.getOptionValue(attribute) as string | boolean;
        candidates.push({ value: check(d, given, d.option.long ?? d.option.flags), label: d.option.long ?? d.option.flags, source: 'cli' });
      }
      const fromEnv = process.env[d.env];
      if (fromEnv !== undefined) candidates.push({ value: check(d, fromEnv, d.env), label: d.env, source: 'env' });
      const fromFile = config.get(d.setting);
      if (fromFile !== undefined && file !== undefined) {
        const label = `${fromFile.key} in ${file}`;
        candidates.push({ value: check(d, fromFile.value, label), label, source: 'config' });
      }
    } catch (err) {
      fail((err as Error).message);
    }
    const [winner] = candidates;
    if (winner === undefined) continue;
    origins.set(attribute, winner.label);
    program.setOptionValueWithSource(attribute, winner.value, winner.source);
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    fail(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A value already checked by {@link settle}, as a number (`what` is kept for callers that name it). */
function integerOf(text: string, _what?: string): number {
  return Number(text.trim());
}

/** Which listener failed, from the error's own address fields; one line naming it. */
function listenError(e: NodeJS.ErrnoException & { address?: string; port?: number }, options: Partial<ServerOptions>): string {
  const socket = options.socket !== undefined && (e.address === options.socket || (e as { path?: string }).path === options.socket);
  // ConduitServer's own check of the socket path (not a socket, or a live server there) names the path already.
  if (socket && e.code === 'ENOTSOCK') return `cannot listen: ${e.message}`;
  const http = !socket && options.httpPort !== undefined && e.port === options.httpPort && e.port !== options.port;
  const where = socket
    ? `socket ${options.socket} (${originOf('socket')})`
    : http
      ? `HTTP ${e.address ?? options.httpHost}:${e.port ?? ''} (${originOf('httpPort')})`
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
  const memory = `${originOf('maxMemory')} ${shown('maxMemory', o.maxMemory)}`;
  const fields = { maxMemory: o.maxMemory, maxOutputBuffer: o.maxOutputBuffer, maxOutputMemory: o.maxOutputMemory };
  if (o.maxOutputBuffer > o.maxMemory / 4) {
    logger.warn(
      fields,
      `${originOf('maxOutputBuffer')} ${shown('maxOutputBuffer', o.maxOutputBuffer)} is more than a quarter of ${memory}: ` +
        'each client that does not read its answers may hold that much output on top of the store',
    );
  }
  if (o.maxOutputMemory > o.maxMemory) {
    const given = program.getOptionValue('maxOutputMemory') !== undefined;
    logger.warn(
      fields,
      `${given ? originOf('maxOutputMemory') : '--max-output-memory (twice --max-output-buffer by default)'} ` +
        `${shown('maxOutputMemory', o.maxOutputMemory)} is more than ${memory}: ` +
        'clients that do not read their answers may together hold that much output on top of the store',
    );
  }
}

/** How often a server started by npm checks that the process that started it is still there. */
const LAUNCHER_POLL_MS = 500;

/** The parent pid of `pid` from `/proc/<pid>/stat` (Linux), or undefined where there is no /proc. */
function parentOf(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isSafeInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a Node process (its `/proc/<pid>/exe` is this node or npm's); false where unknown. */
function runsNode(pid: number): boolean {
  const nodes = [process.execPath, process.env.npm_node_execpath].filter((p): p is string => p !== undefined);
  try {
    const exe = realpathSync(`/proc/${pid}/exe`);
    return nodes.some((node) => {
      try {
        return realpathSync(node) === exe;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Whether process `pid` is gone (signal 0 checks without sending; EPERM means it exists). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Under `npx conduit-server` npm runs the server through `sh -c`, and that shell does not pass
 * SIGTERM on: a supervisor's SIGTERM to npx's pid ends npm and the shell and would leave the
 * server running as an orphan holding the port. Started by npm (npm sets npm_lifecycle_event),
 * the server treats the loss of its launcher as a stop request. The launcher is the parent, and,
 * when the parent is that shell rather than npm itself, the shell's parent too: a SIGHUP or
 * SIGKILL to npx's pid ends npm but leaves the shell (and so the server's parent) alive, and
 * only the loss of npm tells. Not otherwise: a server
 * started in the background of a shell that exits (`conduit-server &`, nohup) keeps serving,
 * and `npm start` (which execs the server, so npm is the parent) does not watch npm's own parent.
 */
function watchLauncher(stop: (reason: string) => void): void {
  if (process.env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  // Read once at start: after npm is gone the shell's parent would read as init or a subreaper.
  const npm = runsNode(parent) ? undefined : parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && !gone(parent) && (npm === undefined || !gone(npm))) return;
    clearInterval(timer);
    stop(process.ppid === parent && npm !== undefined && gone(npm) ? 'npm process exited' : 'parent process exited');
  }, LAUNCHER_POLL_MS);
  timer.unref();
}

async function main(): Promise<void> {
  // Commander's own choice check would name the flag for a bad CONDUIT_X; settle() checks every source itself.
  for (const d of declared) d.option.parseArg = undefined;
  program.parse();
  settle(program.opts<{ config?: string }>().config);
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
      maxMemory: parseBytes(text('maxMemory'), originOf('maxMemory')),
      shards: integerOf(text('shards')),
      eviction: text('eviction') as ServerOptions['eviction'],
      maxConnections: integerOf(text('maxConnections')),
      maxInflight: integerOf(text('maxInflight')),
      maxOutputBuffer: parseBytes(text('maxOutputBuffer'), originOf('maxOutputBuffer')),
      ...(typeof o.maxOutputMemory === 'string' ? { maxOutputMemory: parseBytes(o.maxOutputMemory, originOf('maxOutputMemory')) } : {}),
      idleTimeoutMs: parseDuration(text('idleTimeout'), originOf('idleTimeout')),
      frameTimeoutMs: parseDuration(text('frameTimeout'), originOf('frameTimeout')),
      handshakeTimeoutMs: parseDuration(text('handshakeTimeout'), originOf('handshakeTimeout')),
      allowShutdown: flag('allowShutdown'),
      shutdownTimeoutMs: parseDuration(text('shutdownTimeout'), originOf('shutdownTimeout')),
      httpPort: typeof o.httpPort === 'string' ? integerOf(o.httpPort) : undefined,
      httpHost: text('httpHost'),
      httpToken: typeof o.httpToken === 'string' ? o.httpToken : undefined,
      httpAllowedHosts: typeof o.httpAllowedHosts === 'string' ? o.httpAllowedHosts.split(',').map((h) => h.trim()).filter((h) => h !== '') : [],
    };
  } catch (err) {
    fail((err as Error).message);
  }
  if (options.tcp === false && options.socket === undefined) fail(`${originOf('tcp')} needs --socket: otherwise nothing would listen`);
  const shards = options.shards ?? serverDefaults.shards;
  if ((options.maxMemory ?? 0) < shards * 1024) {
    fail(`${originOf('maxMemory')} must be at least ${formatSizeLimit(shards * 1024)}, 1 KiB for each of ${originOf('shards')} ${shards}, got '${text('maxMemory')}'`);
  }
  if (options.tcp !== false && options.port !== 0 && options.httpPort === options.port) {
    // Both listeners would bind it, and the second would fail as "already in use" with nothing else there.
    fail(`${originOf('httpPort')} and ${originOf('port')} are both ${text('port').trim()}: give the HTTP gateway a port of its own`);
  }
  let keys: PreSharedKey[] = [];
  try {
    if (typeof o.keyFile === 'string') keys = loadKeyFile(o.keyFile);
    if (typeof o.key === 'string') {
      const key = parseKeySpec(o.key, originOf('key'));
      keys = [...keys.filter((k) => k.id !== key.id), key];
    }
  } catch (err) {
    fail((err as Error).message);
  }
  options.keys = keys;
  if (typeof o.tlsCert === 'string' || typeof o.tlsKey === 'string') {
    if (typeof o.tlsCert !== 'string' || typeof o.tlsKey !== 'string') fail('--tls-cert and --tls-key go together');
    options.tls = {
      cert: readPem(o.tlsCert, originOf('tlsCert')),
      key: readPem(o.tlsKey, originOf('tlsKey')),
      ...(typeof o.tlsCa === 'string' ? { ca: readPem(o.tlsCa, originOf('tlsCa')) } : {}),
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
    // ServerOptions names its fields (frameTimeoutMs option ...): say which flag, variable or file setting that was.
    fail((err as Error).message.replace(/^(\w+) option/, (_, name: string) => originOf(name.replace(/Ms$/, ''))));
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
  // A closed terminal (SIGHUP) stops the server like SIGTERM: logged, and every request already
  // received is answered, rather than Node's default of dying silently mid-request.
  process.on('SIGHUP', () => stop('SIGHUP'));
  server.on('shutdown', () => stop('SHUTDOWN request'));
  watchLauncher(stop);
  let address: Awaited<ReturnType<ConduitServer['listen']>>;
  try {
    address = await server.listen();
  } catch (err) {
    fail(listenError(err as NodeJS.ErrnoException, options));
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
  warnOutputBounds(server.options, logger, text);

}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
