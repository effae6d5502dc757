// Where a `conduit-server` setting comes from: a flag, a CONDUIT_<NAME> variable or the
// --config file (flags beat the environment, which beats the file), and which of them won,
// so that every message names the spelling the user wrote.
import { Option, type Command } from 'commander';
import { readTomlFile } from '../config/toml.js';
import { checkSetting } from './setting-check.js';

/** An option declared with {@link SettingSources.option}: every source of it is checked the same way. */
interface Declared {
  option: Option;
  /** Its name in the config file; `CONDUIT_<NAME>` is {@link env}. */
  setting: string;
  env: string;
}

/** A --config entry: the key as written (dashes or underscores) and its TOML value. */
type FileEntry = { key: string; value: unknown };

/**
 * The options of one command that are also read from `CONDUIT_<NAME>` and from a TOML
 * file, and where each settled value came from.
 *
 * @example
 * ```ts
 * const sources = new SettingSources(program);
 * program.addOption(sources.option('--frame-timeout <duration>', 'a started frame must complete within this', 'frame-timeout', '10s'));
 * sources.parse();                       // throws a TypeError naming the source
 * sources.originOf('frameTimeout');      // '--frame-timeout', 'CONDUIT_FRAME_TIMEOUT' or 'frame-timeout in conduit.toml'
 * ```
 */
export class SettingSources {
  readonly #program: Command;
  readonly #declared: Declared[] = [];
  /**
   * Where each option's value came from, as the user wrote it ("--frame-timeout",
   * "CONDUIT_FRAME_TIMEOUT", "frame-timeout in conduit.toml"), by attribute name.
   */
  readonly #origins = new Map<string, string>();

  constructor(program: Command) {
    this.#program = program;
  }

  /**
   * Declares an option that is also read from `CONDUIT_<NAME>` and from the config file as
   * `name`. A flag without a value is a boolean: the variable and the file take true/1/yes/on or
   * false/0/no/off/"" (for `--no-x`, `CONDUIT_X=false` is `--no-x`); see {@link checkSetting}.
   *
   * @example
   * ```ts
   * program.addOption(sources.option('--no-tcp', 'listen on the socket only', 'tcp'));
   * ```
   */
  option(flags: string, description: string, name: string, fallback?: string): Option {
    const env = `CONDUIT_${name.toUpperCase().replaceAll('-', '_')}`;
    const o = new Option(flags, description).env(env);
    this.#declared.push({ option: o, setting: name, env });
    return fallback === undefined ? o : o.default(fallback);
  }

  /**
   * Parses the command line, then settles every declared option: flag > `CONDUIT_<NAME>` >
   * the file named by `--config` > default. Every source that is present is checked, also one
   * a higher source overrides (as Redis checks its file), so a typo never waits for the day
   * the flag is dropped. The winner goes back into commander as a checked string or a real
   * boolean. Throws a `TypeError` naming the first bad source.
   *
   * @example
   * ```ts
   * sources.parse(); // then program.opts() holds the settled values
   * ```
   */
  parse(): void {
    // Commander's own choice check would name the flag for a bad CONDUIT_X; #settle() checks every source itself.
    for (const d of this.#declared) d.option.parseArg = undefined;
    this.#program.parse();
    this.#settle(this.#program.opts<{ config?: string }>().config);
  }

  #settle(file: string | undefined): void {
    const program = this.#program;
    const config = file === undefined ? new Map<string, FileEntry>() : this.#readConfig(file);
    for (const d of this.#declared) {
      const attribute = d.option.attributeName();
      const candidates: { value: string | boolean; label: string; source: 'cli' | 'env' | 'config' }[] = [];
      if (program.getOptionValueSource(attribute) === 'cli') {
        const label = d.option.long ?? d.option.flags;
        candidates.push({ value: checkSetting(d.option, d.setting, program.getOptionValue(attribute), label), label, source: 'cli' });
      }
      const fromEnv = process.env[d.env];
      if (fromEnv !== undefined) candidates.push({ value: checkSetting(d.option, d.setting, fromEnv, d.env), label: d.env, source: 'env' });
      const fromFile = config.get(d.setting);
      if (fromFile !== undefined && file !== undefined) {
        const label = `${fromFile.key} in ${file}`;
        candidates.push({ value: checkSetting(d.option, d.setting, fromFile.value, label), label, source: 'config' });
      }
      const [winner] = candidates;
      if (winner === undefined) continue;
      this.#origins.set(attribute, winner.label);
      program.setOptionValueWithSource(attribute, winner.value, winner.source);
    }
  }

  /**
   * The label of `attribute`'s value for messages: as settled, else (options not declared with
   * {@link option}, like --key) its variable when commander took it from there, else its flag.
   *
   * @example
   * ```ts
   * sources.originOf('maxMemory'); // e.g. 'CONDUIT_MAX_MEMORY'
   * ```
   */
  originOf(attribute: string): string {
    const settled = this.#origins.get(attribute);
    if (settled !== undefined) return settled;
    const program = this.#program;
    const declaredAs = program.options.find((o) => o.attributeName() === attribute);
    if (declaredAs?.envVar !== undefined && program.getOptionValueSource(attribute) === 'env') return declaredAs.envVar;
    return declaredAs?.long ?? `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  }

  /** The TOML table of the config file, its keys checked against the declared settings. */
  #readConfig(file: string): Map<string, FileEntry> {
    const table = readTomlFile(file, 'config');
    const settings = new Set(this.#declared.map((d) => d.setting));
    const entries = new Map<string, FileEntry>();
    for (const [rawKey, value] of Object.entries(table)) {
      const key = rawKey.replaceAll('_', '-');
      if (!settings.has(key)) throw new TypeError(`unknown setting '${rawKey}' in ${file}`);
      entries.set(key, { key: rawKey, value });
    }
    return entries;
  }
}
