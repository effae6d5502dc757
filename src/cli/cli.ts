#!/usr/bin/env node
/**
 * `conduit-cli`: talk to a Conduit server from the shell, like `redis-cli`.
 * With a command it runs it and exits (0 ok, 1 not found / not stored,
 * 2 error); without one it opens an interactive prompt with history.
 *
 * About 550 lines, past the ~450 guide: one short action per command
 * (protocol 1.1 added gets, gat, set --version and --quiet) with its help
 * text beside it, so a command reads in one place; stdin reading lives in
 * stdin-value.ts, which server(s) the flags name in cli-target.ts.
 *
 * @example
 * ```sh
 * npx conduit-cli set greeting hello --ttl 10s
 * npx conduit-cli get greeting
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError, Option } from 'commander';
import { ConduitClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import { aeadChoice } from '../crypto/aead-choice.js';
import { generateKey, loadKeyFile, parseKeySpec } from '../crypto/keys.js';
import { MAX_TTL_MS, MAX_VALUE_SIZE_LIMIT } from '../protocol/constants.js';
import { ConduitError } from '../protocol/errors.js';
import { parseDuration } from '../config/units.js';
import { targetOf, type TargetOptions } from './cli-target.js';
import { readStdinValue, StdinTooLarge } from './stdin-value.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
const HISTORY_FILE = process.env.CONDUIT_CLI_HISTORY ?? join(homedir(), '.conduit_cli_history');
const HISTORY_SIZE = 1000;

/** Exit codes: 0 done, 1 the key was absent or a condition prevented the write, 2 an error. */
const OK = 0;
const ABSENT = 1;
const FAILED = 2;

/**
 * How results print: `single` (one command from argv: values raw, so `get k > file` keeps the
 * bytes; a newline added on a terminal), `prompt` (interactive: values escaped, one per line)
 * or `batch` (commands piped on stdin: values raw, each followed by a newline).
 */
type Mode = 'single' | 'prompt' | 'batch';

/** Where a command writes; stdout takes raw bytes so values stay binary-safe. */
interface Output {
  out(data: string | Buffer): void;
  err(line: string): void;
  readonly tty: boolean;
  readonly mode: Mode;
  /** Piped with --quiet: where set, del and renew lines leave their quiet writes (spec §2.5). */
  readonly quiet?: QuietWrites;
}

/**
 * Piped commands with --quiet (spec §2.5, protocol 1.1): set, del and renew
 * are sent as quiet writes and not waited for one by one, so a long pipe of
 * writes gets its answers only for the ones that fail; the client's HEALTH
 * fence settles the rest.
 */
interface QuietWrites {
  /** The current line's write; `absent`: what to report when it resolves false (a set NX/XX prevented), if anything. */
  add(write: Promise<boolean>, absent: string | undefined): void;
}

/**
 * `list`: up to `limit` distinct keys by SCAN (spec §3.10), bounded work per
 * server call however many keys the server holds; a 1.0 server, which
 * answers SCAN `UNKNOWN_OPCODE`, gets the one LIST of before (spec §3.5).
 */
/** The most keys `list --limit` takes: SCAN has no per-answer cap, and the keys are held once to drop SCAN's repeats. */
const MAX_LIST_LIMIT = 100_000_000;

async function listKeys(conduit: ConduitClient, prefix: string, limit: number): Promise<{ keys: Buffer[]; truncated: boolean }> {
  const seen = new Map<string, Buffer>(); // SCAN may return a key twice (spec §3.10)
  try {
    for await (const key of conduit.scan({ prefix })) {
      const id = key.toString('latin1');
      if (seen.has(id)) continue;
      if (seen.size === limit) return { keys: [...seen.values()], truncated: true };
      seen.set(id, key);
    }
  } catch (err) {
    // LIST's limit is a u16 (spec §3.5): a 1.0 server gives at most 65,535 keys in one answer.
    if (err instanceof ConduitError && err.code === 'UNKNOWN_OPCODE' && seen.size === 0) return conduit.list(prefix, Math.min(limit, 0xffff));
    throw err;
  }
  return { keys: [...seen.values()], truncated: false };
}

/** Thrown by a command to stop with an exit code and a one-line message. */
class Exit extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
  }
}

/** `set KEY -`: stdin as the value, up to the largest value a client sends (64 MiB, spec §2.4); one line past it. */
async function stdinValue(): Promise<Buffer> {
  try {
    return await readStdinValue(MAX_VALUE_SIZE_LIMIT);
  } catch (err) {
    throw err instanceof StdinTooLarge ? new Exit(FAILED, err.message) : err;
  }
}

/** A TTL argument in ms, named `label` in errors (`--ttl`, or `<ttl>` for a positional one); absent: 0. */
function ttlOf(text: string | undefined, label = '--ttl'): number {
  if (text === undefined) return 0;
  let ttl: number;
  try {
    ttl = parseDuration(text, label);
  } catch (err) {
    throw new Exit(FAILED, (err as Error).message);
  }
  // 0 means "no expiry" (spec §3.3): a non-zero TTL that rounds to 0 ms (`0.4`, `0.0001s`) must not become one.
  if (ttl === 0 && /[1-9]/.test(text)) throw new Exit(FAILED, `${label} must be 0 (no expiry) or at least 1 ms, got '${text}'`);
  if (ttl > MAX_TTL_MS) throw new Exit(FAILED, `${label} must be at most ${MAX_TTL_MS} ms, got '${text}'`);
  return ttl;
}

/** Renders STATS as an aligned two-column table; per-shard detail is summarised. */
function statsTable(stats: Record<string, unknown>): string {
  const rows: [string, string][] = [];
  for (const [name, value] of Object.entries(stats)) {
    if (Array.isArray(value)) rows.push([name, `${value.length} entries`]);
    else if (typeof value === 'object' && value !== null) {
      for (const [sub, v] of Object.entries(value)) rows.push([`${name}.${sub}`, String(v)]);
    } else rows.push([name, String(value)]);
  }
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, v]) => `${n.padEnd(width)}  ${v}`).join('\n');
}

/**
 * A value as redis-cli shows it on a terminal: printable UTF-8 text as it is, anything else
 * (control bytes, invalid UTF-8, the empty value) quoted with escapes (`"\x00\xff"`), so binary bytes never reach the terminal raw (they can
 * move the cursor, change the title or garble the screen).
 *
 * @example
 * ```ts
 * displayable(Buffer.from([0, 255])); // '"\\x00\\xff"'
 * ```
 */
function displayable(value: Buffer): string {
  const text = value.toString('utf8');
  if (text !== '' && Buffer.from(text, 'utf8').equals(value) && !/[\u0000-\u001f\u007f-\u009f]/.test(text)) return text;
  const names: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b' };
  let out = '"';
  for (const byte of value) {
    out += names[byte] ?? (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`);
  }
  return `${out}"`;
}

/**
 * The commands, as a commander program over one client. `client()` connects
 * lazily, so `--help` needs no server.
 */
function commands(client: () => ConduitClient, io: Output): Command {
  const interactive = io.mode !== 'single';
  const program = new Command(io.mode === 'prompt' ? '' : 'conduit-cli');
  const line = (text: string): void => io.out(`${text}\n`);
  const raw = (value: Buffer): void => {
    if (io.mode === 'prompt' || (io.mode === 'single' && io.tty)) line(displayable(value));
    else io.out(io.mode === 'batch' ? Buffer.concat([value, Buffer.from('\n')]) : value);
  };

  program
    .command('get <key>')
    .description('print the value (raw bytes); exit 1 when the key is absent')
    .action(async (key: string) => {
      const value = await client().get(key);
      if (value === undefined) throw new Exit(ABSENT, '(nil)');
      raw(value);
    });
  program
    .command('set <key> <value>')
    .description("store a value ('-' reads it from stdin, up to 64 MiB: set KEY - < file); exit 1 when --nx/--xx prevented it")
    .option('--ttl <duration>', 'expire after this (10s, 500ms, 5m)')
    .addOption(new Option('--nx', 'only if the key is absent').conflicts('xx'))
    .option('--xx', 'only if the key is present')
    .option('--keepttl', "keep the key's current expiry")
    .addOption(new Option('--version <n>', 'only if the key still has this version (from gets)').conflicts('nx'))
    .action(async (key: string, value: string, o: { ttl?: string; nx?: boolean; xx?: boolean; keepttl?: boolean; version?: string }) => {
      if (o.version !== undefined && !(/^[1-9]\d{0,19}$/.test(o.version) && BigInt(o.version) < 1n << 64n)) {
        throw new Exit(FAILED, `--version must be a version printed by gets, got '${o.version}'`);
      }
      const version = o.version === undefined ? undefined : BigInt(o.version);
      const bytes = value === '-' && !interactive ? await stdinValue() : value;
      const notStored = version === undefined ? '(not stored)' : '(not stored: the key has another version or is gone)';
      const options = { ttlMs: ttlOf(o.ttl), nx: o.nx, xx: o.xx, keepTtl: o.keepttl, version };
      if (io.quiet !== undefined) return io.quiet.add(client().set(key, bytes, { ...options, quiet: true }), notStored);
      const stored = await client().set(key, bytes, options);
      if (!stored) throw new Exit(ABSENT, notStored);
      line('OK');
    });
  program
    .command('gets <key>')
    .description('print the version (for set --version), then the value; exit 1 when the key is absent')
    .action(async (key: string) => {
      const read = await client().getWithVersion(key);
      if (read === undefined) throw new Exit(ABSENT, '(nil)');
      line(String(read.version));
      raw(read.value);
    });
  program
    .command('gat <key> <ttl>')
    .description('print the value and set its expiry (0 removes it); exit 1 when the key is absent')
    .action(async (key: string, ttl: string) => {
      const value = await client().getAndTouch(key, ttlOf(ttl, '<ttl>'));
      if (value === undefined) throw new Exit(ABSENT, '(nil)');
      raw(value);
    });
  program
    .command('del <key>')
    .description('delete a key; prints 1 if it existed, else 0')
    .action(async (key: string) => {
      if (io.quiet !== undefined) return io.quiet.add(client().delete(key, { quiet: true }), undefined); // 0 is no failure
      line((await client().delete(key)) ? '1' : '0');
    });
  program
    .command('ttl <key>')
    .description('remaining milliseconds; -1 no expiry, -2 absent (as redis PTTL)')
    .action(async (key: string) => line(String((await client().ttl(key)) ?? -2)));
  program
    .command('renew <key> <ttl>')
    .description('set the expiry (0 removes it); prints 1 if the key exists, else 0')
    .action(async (key: string, ttl: string) => {
      if (io.quiet !== undefined) return io.quiet.add(client().renew(key, ttlOf(ttl, '<ttl>'), { quiet: true }), undefined);
      line((await client().renew(key, ttlOf(ttl, '<ttl>'))) ? '1' : '0');
    });
  program
    .command('incr <key> [delta]')
    .description('add delta (default 1) to an integer value and print it')
    .option('--ttl <duration>', 'expiry if the key is created')
    .action(async (key: string, delta: string | undefined, o: { ttl?: string }) => {
      if (delta !== undefined && !/^-?\d+$/.test(delta)) throw new Exit(FAILED, `delta must be an integer, got '${delta}'`);
      line(String(await client().incr(key, BigInt(delta ?? '1'), { ttlMs: ttlOf(o.ttl) })));
    });
  program
    .command('list [prefix]')
    .description('keys starting with prefix, one per line')
    .option('--limit <n>', 'at most this many (SCAN walks the whole store in bounded steps)', '1000')
    .action(async (prefix: string | undefined, o: { limit: string }) => {
      const limit = /^\d{1,10}$/.test(o.limit) ? Number(o.limit) : Number.NaN;
      if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) throw new Exit(FAILED, `--limit must be from 1 to ${MAX_LIST_LIMIT}, got '${o.limit}'`);
      const print = (key: Buffer): void => {
        if (io.mode === 'single' && !io.tty) io.out(Buffer.concat([key, Buffer.from('\n')]));
        else raw(key);
      };
      const { keys, truncated } = await listKeys(client(), prefix ?? '', limit);
      for (const key of keys) print(key);
      if (truncated) io.err('(more keys match: raise --limit or narrow the prefix)');
    });
  program
    .command('stats')
    .description("the server's counters as a table")
    .action(async () => line(statsTable(await client().stats())));
  program
    .command('health')
    .description('round trip to the server')
    .action(async () => line(`OK ${(await client().health()).toFixed(2)} ms`));
  program
    .command('keygen')
    .description('print a fresh random 32-byte key in base64 (use as CONDUIT_KEY=id:KEY)')
    .action(() => line(generateKey()));
  program
    .command('flush')
    .description('delete every key')
    .action(async () => {
      await client().flush();
      line('OK');
    });
  const admin = program.command('admin').description("the server's administration (needs a key with the admin class, spec §3.17)");
  admin
    .command('reload')
    .description("re-read the server's --key-file (RELOAD, spec §3.18): new sessions get the new rights, sessions of a removed key are closed; exit 1 when refused")
    .action(async () => line(reloadLine(await reloadServer(client()))));
  // In the prompt and in piped lines a command is typed without "conduit-cli" before it.
  if (io.mode !== 'single') {
    for (const sub of everyCommand(program)) sub.configureHelp({ commandUsage: (c) => `${[...ancestry(c)].join(' ')} ${c.usage()}` });
  }
  return program;
}

/** `count` and `noun`, plural unless one: `1 token`, `0 certificates`. */
const counted = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What `admin reload` prints for the server's answer (spec §3.18). */
function reloadLine(r: { keys: number; tokens: number; certificates: number; closed: number }): string {
  return `reloaded: ${counted(r.keys, 'key')}, ${counted(r.tokens, 'token')}, ${counted(r.certificates, 'certificate')}; closed ${counted(r.closed, 'session')}`;
}

/**
 * RELOAD (spec §3.18): the server's answer, or exit 1 with its one line: FORBIDDEN (the key
 * lacks admin, or a plaintext server's refusal) or NOT_STORED (the reload was refused: a bad
 * file, no --key-file; nothing changed).
 */
async function reloadServer(conduit: ConduitClient): Promise<{ keys: number; tokens: number; certificates: number; closed: number }> {
  try {
    return await conduit.reload();
  } catch (err) {
    if (err instanceof ConduitError && err.code === 'NOT_STORED') throw new Exit(ABSENT, `reload refused: ${err.message}`);
    if (err instanceof ConduitError && err.code === 'FORBIDDEN') throw new Exit(ABSENT, `error: FORBIDDEN: ${err.message}`);
    throw err;
  }
}

/** `command` and every command under it (`admin reload` is under `admin`). */
function everyCommand(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...everyCommand(sub)]);
}

/** The names from below the top program down to `command` (`admin reload`): what a prompt line types. */
function ancestry(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command = command; c.parent !== null; c = c.parent) names.unshift(c.name());
  return names;
}

/** Splits a prompt line into words, honouring "double" and 'single' quotes. */
function words(text: string): string[] {
  const out: string[] = [];
  const pattern = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  }
  return out;
}

/** `help` alone is the general help, `help set` that command's help (`help admin reload` a subcommand's). */
function helpArgs(argv: string[]): string[] {
  return argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
}

/** Runs one command line; returns its exit code, printing errors as one line. */
async function runCommand(program: Command, argv: string[], io: Output, from: 'node' | 'user'): Promise<number> {
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s.trimEnd()) });
  for (const sub of everyCommand(program)) {
    sub.exitOverride();
    sub.configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s.trimEnd()) });
  }
  try {
    await program.parseAsync(argv, { from });
    return OK;
  } catch (err) {
    if (err instanceof Exit) {
      // Piped commands print one result line each on stdout, "(nil)" included.
      if (err.message !== '') (io.mode === 'batch' && err.code === ABSENT ? io.out(`${err.message}\n`) : io.err(err.message));
      return err.code;
    }
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? OK : FAILED;
    }
    io.err(`error: ${err instanceof ConduitError ? `${err.code}: ${err.message}` : (err as Error).message}`);
    return FAILED;
  }
}

async function repl(client: () => ConduitClient, target: string): Promise<number> {
  let history: string[] = [];
  try {
    history = (await readFile(HISTORY_FILE, 'utf8')).split('\n').filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    // no history yet
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${target}> `, history, historySize: HISTORY_SIZE });
  const io: Output = {
    out: (data) => process.stdout.write(data),
    err: (text) => process.stderr.write(`${text}\n`),
    tty: true,
    mode: 'prompt',
  };
  process.stdout.write(`conduit-cli ${version}: connected to ${target}. Type help, or quit.\n`);
  rl.prompt();
  for await (const input of rl) {
    const argv = words(input);
    if (argv[0] === 'quit' || argv[0] === 'exit') break;
    if (argv.length > 0) {
      await runCommand(commands(client, io), helpArgs(argv), io, 'user');
      appendFile(HISTORY_FILE, `${input}\n`).catch(() => {});
    }
    rl.prompt();
  }
  rl.close();
  return OK;
}

/** Quiet writes a pipe has outstanding before it waits for them (bounded memory, within the client's maxQueued). */
const QUIET_WINDOW = 4096;

/**
 * Commands piped on stdin (`printf 'set a 1\nget a\n' | conduit-cli`), as redis-cli runs them:
 * one command per line, one result line each on stdout (a failed one prints `(error)` there and
 * its message on stderr), exit 0 if all succeeded, else the highest exit code of a line.
 * `quiet` (--quiet): set, del and renew lines print nothing and are not waited for (spec §2.5);
 * one that fails is reported on stderr only, `line N: …`, and counts in the exit code.
 */
async function batch(client: () => ConduitClient, io: Output, quiet = false): Promise<number> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let worst = OK;
  let number = 0;
  const outstanding: Promise<void>[] = [];
  const writes: QuietWrites | undefined = !quiet
    ? undefined
    : {
        add: (write, absent) => {
          const at = number;
          const failed = (code: number, message: string): void => {
            io.err(`line ${at}: ${message}`);
            worst = Math.max(worst, code);
          };
          outstanding.push(
            write.then(
              (done) => (done || absent === undefined ? undefined : failed(ABSENT, absent)),
              (err: unknown) => failed(FAILED, err instanceof ConduitError ? `${err.code}: ${err.message}` : String(err)),
            ),
          );
        },
      };
  for await (const input of rl) {
    number += 1;
    if (outstanding.length >= QUIET_WINDOW) await Promise.all(outstanding.splice(0));
    const argv = words(input);
    if (argv.length === 0 || argv[0]?.startsWith('#') === true) continue;
    if (argv[0] === 'quit' || argv[0] === 'exit') break;
    let failure = '';
    const lineIo: Output = { ...io, err: (text) => (failure = failure === '' ? text : `${failure}; ${text}`), ...(writes === undefined ? {} : { quiet: writes }) };
    const code = await runCommand(commands(client, lineIo), helpArgs(argv), lineIo, 'user');
    if (code === FAILED) {
      io.out('(error)\n');
      io.err(`line ${number}: ${failure}`);
    } else if (failure !== '') {
      io.err(failure);
    }
    worst = Math.max(worst, code);
  }
  await Promise.all(outstanding);
  return worst;
}

async function main(): Promise<number> {
  const top = new Command('conduit-cli')
    .description('Command line for a Conduit server. Without a command: an interactive prompt.')
    .version(version)
    .addOption(new Option('--host <host>', 'server host').default('127.0.0.1').env('CONDUIT_HOST'))
    .addOption(new Option('--port <port>', 'server port').default('7171').env('CONDUIT_PORT'))
    .addOption(new Option('--socket <path>', 'Unix domain socket instead of host/port').env('CONDUIT_SOCKET'))
    .addOption(new Option('--servers <list>', 'a pool: host:port (or socket paths), comma-separated; each key goes to its server').env('CONDUIT_SERVERS'))
    .addOption(new Option('--no-discover', "talk to the one server given, without asking it for its group's servers (TOPOLOGY)"))
    .addOption(new Option('--timeout <duration>', 'per-request timeout').default('5s'))
    .addOption(new Option('--key <id:base64>', 'secure mode key; prefer CONDUIT_KEY').env('CONDUIT_KEY'))
    .addOption(new Option('--key-file <path>', 'secure mode key file (TOML [[keys]])').env('CONDUIT_KEY_FILE'))
    .addOption(new Option('--key-id <id>', 'which key of --key-file (default: the first)'))
    .addOption(new Option('--tls', 'connect with TLS'))
    .addOption(new Option('--tls-ca <path>', 'CA to trust for the server certificate (PEM); implies --tls'))
    .addOption(new Option('--tls-cert <path>', 'client certificate for mTLS (PEM); implies --tls'))
    .addOption(new Option('--tls-key <path>', 'client private key for mTLS (PEM)'))
    .addOption(new Option('--tls-servername <name>', 'name to check the server certificate against'))
    .addOption(new Option('--quiet', 'piped commands: set, del and renew as quiet writes (protocol 1.1): no output, no wait; failures on stderr'))
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[command...]')
    .helpOption(false)
    .addHelpText(
      'after',
      '\nCommands: get, gets, gat, set, del, ttl, renew, incr, list, stats, health, flush, keygen, admin reload (conduit-cli help COMMAND).\n' +
        'Without a command: a prompt on a terminal, else one command per line from stdin.\n' +
        'Against --workers (found by TOPOLOGY unless --no-discover) or --servers, each key goes to its server;\n' +
        'list, stats and flush go to every server.',
    );
  top.exitOverride();
  try {
    top.parse();
  } catch (err) {
    return err instanceof CommanderError && err.exitCode === 0 ? OK : FAILED;
  }
  const o = top.opts<{
    host: string;
    port: string;
    socket?: string;
    servers?: string;
    discover: boolean;
    timeout: string;
    key?: string;
    keyFile?: string;
    keyId?: string;
    tls?: boolean;
    tlsCa?: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsServername?: string;
    quiet?: boolean;
  }>();
  const rest = top.args;
  const io: Output = {
    out: (data) => process.stdout.write(data),
    err: (text) => process.stderr.write(`${text}\n`),
    tty: process.stdout.isTTY === true,
    mode: 'single',
  };
  let timeoutMs: number;
  let routing: { options: TargetOptions; target: string };
  let key: ClientOptions['key'];
  let tls: ClientOptions['tls'];
  try {
    timeoutMs = parseDuration(o.timeout, '--timeout');
    // Errors name what the user wrote: the flag, or the variable it came from.
    const source = (name: string) => top.getOptionValueSource(name) as 'cli' | 'env' | 'default' | undefined;
    routing = targetOf({
      host: o.host,
      port: o.port,
      socket: o.socket,
      servers: o.servers,
      discover: o.discover,
      sources: { host: source('host'), port: source('port'), socket: source('socket'), servers: source('servers') },
    });
    if (o.keyFile !== undefined) {
      const keys = loadKeyFile(o.keyFile);
      key = o.keyId === undefined ? keys[0] : keys.find((k) => k.id === o.keyId);
      if (key === undefined) throw new TypeError(`--key-id '${o.keyId ?? ''}' is not in ${o.keyFile}`);
    } else if (o.key !== undefined) {
      key = parseKeySpec(o.key);
    }
    if (key !== undefined) aeadChoice(); // a bad CONDUIT_AEAD is one line here, as conduit-server says it (issue 18)
    if (o.tls === true || o.tlsCa !== undefined || o.tlsCert !== undefined) {
      const pem = (path: string | undefined): Buffer | undefined => (path === undefined ? undefined : readFileSync(path));
      tls = { ca: pem(o.tlsCa), cert: pem(o.tlsCert), key: pem(o.tlsKey), servername: o.tlsServername };
    }
  } catch (err) {
    io.err(`error: ${(err as Error).message}`);
    return FAILED;
  }
  let instance: ConduitClient | undefined;
  const client = (): ConduitClient => {
    // Issue 20: one server, asked TOPOLOGY (`discover`) so a group's keys go to their owners; or a `servers` pool.
    // List, scan, stats and flush then go to every server and merge (the pool's fan-out).
    instance ??= new ConduitClient({
      ...routing.options,
      requestTimeoutMs: Math.max(1, timeoutMs),
      connectTimeoutMs: Math.max(1, timeoutMs),
      reconnect: false,
      ...(key === undefined ? {} : { key }),
      ...(tls === undefined ? {} : { tls }),
    });
    return instance;
  };
  const target = routing.target;
  try {
    if (rest.length === 0) {
      // The prompt needs a terminal (CONDUIT_CLI_INTERACTIVE=1 forces it: scripts, tests);
      // from a pipe or a file, stdin holds the commands to run.
      const interactive = process.stdin.isTTY === true || process.env.CONDUIT_CLI_INTERACTIVE === '1';
      return await (interactive ? repl(client, target) : batch(client, { ...io, mode: 'batch' }, o.quiet === true));
    }
    if ((rest[0] === 'help' && rest.length === 1) || rest[0] === '--help' || rest[0] === '-h') {
      io.out(`${top.helpInformation()}\n`);
      commands(client, io).outputHelp();
      return OK;
    }
    return await runCommand(commands(client, io), helpArgs(rest), io, 'user');
  } finally {
    if (instance !== undefined) await instance.close().catch(() => instance?.destroy());
  }
}

// A reader that goes away (`conduit-cli list | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? OK);
  throw err;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = FAILED;
  },
);
