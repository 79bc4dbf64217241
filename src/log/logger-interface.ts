/** The logging every module needs (engine, net, config, admin); src/log/logger.ts decides where lines go. */

/** Structured fields beside a message, for `log-format json`; never secrets. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  verbose(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, verbose() {}, debug() {} };
