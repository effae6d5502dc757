import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';

/**
 * The top-level table of the TOML file at `path` (the `--config` file, a key file).
 * Throws a `TypeError` "cannot read `what` `path`: …" with the first line of the
 * reader's or the parser's message, so one bad file is one line on stderr.
 *
 * @example
 * ```ts
 * readTomlFile('conduit.toml', 'config'); // { port: 7171, 'max-memory': '512mb' }
 * ```
 */
export function readTomlFile(path: string, what: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new TypeError(`cannot read ${what} ${path}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
}
