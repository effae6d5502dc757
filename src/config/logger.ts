/**
 * Where the server writes its log lines; pino's logger fits, and so does `console`-like code.
 *
 * @example
 * ```ts
 * const logger: Logger = pino({ name: 'conduit-server' });
 * new ConduitServer({ logger });
 * ```
 */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * A logger that drops every line: the default.
 *
 * @example
 * ```ts
 * silentLogger.info({}, 'never seen');
 * ```
 */
export const silentLogger: Logger = Object.freeze({ info() {}, warn() {}, error() {}, debug() {} });
