/** The logging the engine needs; the net layer decides where lines go. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  verbose(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, verbose() {}, debug() {} };
