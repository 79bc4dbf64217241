/** Log lines to stdout and/or a file, with coturn's verbosity levels. */
import { appendFileSync, openSync, closeSync } from 'node:fs';
import type { LogLevel } from '../config/server-options.js';
import type { Logger } from '../turn/logger.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, verbose: 3, debug: 4 };

export interface LogOptions {
  readonly level: LogLevel;
  /** A file to append to; 'stdout' means standard output. */
  readonly file?: string;
  readonly noStdout?: boolean;
}

export function createLogger(options: LogOptions): Logger & { close(): void } {
  const toStdout = !options.noStdout || options.file === 'stdout';
  const file = options.file && options.file !== 'stdout' ? options.file : undefined;
  let fd = file ? openSync(file, 'a') : undefined;
  const write = (level: LogLevel, message: string): void => {
    if (RANK[level] > RANK[options.level]) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()}: ${message}\n`;
    if (toStdout) process.stdout.write(line);
    if (fd !== undefined) appendFileSync(fd, line);
  };
  return {
    error: (m) => write('error', m),
    warn: (m) => write('warn', m),
    info: (m) => write('info', m),
    verbose: (m) => write('verbose', m),
    debug: (m) => write('debug', m),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
