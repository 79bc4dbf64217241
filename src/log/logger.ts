/**
 * Log lines to stdout, a file and/or syslog, with coturn's verbosity levels, log file naming
 * and timestamp options, as text or as JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LogLevel } from '../config/server-options.js';
import type { Logger } from './logger-interface.js';
import { LogFile } from './log-file.js';
import { USER_FACILITY, syslogPriority } from './syslog-priority.js';
import { renderLine, type LogFields, type LogFormat } from './line-format.js';
import { standardError, standardOutput } from './standard-streams.js';

export { datedLogFileName } from './log-file.js';
export type { LogFields, LogFormat } from './line-format.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, verbose: 3, debug: 4 };
/** Least to most verbose: a level shows its own lines and those of the levels before it. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(Object.keys(RANK) as LogLevel[]);

export interface LogOptions {
  readonly level: LogLevel;
  /** A file to append to; 'stdout' or '-' mean standard output, 'syslog' means syslog. */
  readonly file?: string;
  readonly noStdout?: boolean;
  /** Use `file` as named: no date in the name, no daily rollover. */
  readonly simpleLog?: boolean;
  readonly syslog?: boolean;
  /** The syslog facility code (`syslog-facility`); default user. */
  readonly syslogFacility?: number;
  /** `log-format`: coturn-like text lines (default) or one JSON object per line. */
  readonly format?: LogFormat;
  /** `new-log-timestamp-format` (strftime) for text lines; default ISO-8601 UTC with ms. */
  readonly timestampFormat?: string;
}

type LogMethod = (message: string, fields?: LogFields) => void;

/** The engine's Logger, plus structured fields where the caller has them. */
export interface StructuredLogger extends Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  verbose: LogMethod;
  debug: LogMethod;
}

export interface ClosableLogger extends StructuredLogger {
  /** The level lines are filtered by now. */
  readonly level: LogLevel;
  /** Changes it while running (`turnpike admin loglevel`). */
  setLevel(level: LogLevel): void;
  /** Reopens the log file by name (SIGHUP, after logrotate renamed it). */
  reopen(): void;
  close(): void;
}

/** util-linux `logger` reads lines with a `<priority>` prefix: Node has no syslog socket API. */
function openSyslog(): ChildProcess | undefined {
  try {
    const child = spawn('logger', ['--prio-prefix', '-t', 'turnpike', `--id=${process.pid}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => standardError.write('turnpike: syslog unavailable (no `logger` command)\n'));
    child.stdin?.on('error', () => {});
    child.unref();
    return child;
  } catch {
    return undefined;
  }
}

export function createLogger(options: LogOptions): ClosableLogger {
  const special = options.file === 'stdout' || options.file === '-' || options.file === 'syslog';
  const toStdout = !options.noStdout || options.file === 'stdout' || options.file === '-';
  const file = options.file && !special ? new LogFile(options.file, options.simpleLog ?? false) : undefined;
  const syslog = options.syslog || options.file === 'syslog' ? openSyslog() : undefined;
  const lineOptions = { format: options.format ?? 'text', timestampFormat: options.timestampFormat };
  let current = options.level;
  const emit = (level: LogLevel, message: string, fields: LogFields | undefined): string => {
    const now = new Date();
    const line = renderLine(level, message, fields, now, lineOptions);
    if (toStdout) standardOutput.write(line);
    file?.write(line, now);
    // syslog stamps its own time; JSON stays whole so a shipper can still parse it.
    const body = lineOptions.format === 'json' ? line : `${message}\n`;
    syslog?.stdin?.write(`<${syslogPriority(options.syslogFacility ?? USER_FACILITY, level)}>${body}`);
    return line;
  };
  const write = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
    if (RANK[level] <= RANK[current]) emit(level, message, fields);
  };
  // Whatever the level: the operator must learn why stdout has fallen silent.
  const stopWatchingStdout = toStdout
    ? standardOutput.onGone((error) => {
        const kept = [file && `the log file ${options.file}`, syslog && 'syslog'].filter(Boolean).join(' and ');
        const line = emit('warn', `stdout is gone (${error.message}): log lines ${kept ? `go on to ${kept} only` : 'are written nowhere now'}`, undefined);
        standardError.write(line);
      })
    : undefined;
  return {
    error: (m, f) => write('error', m, f),
    warn: (m, f) => write('warn', m, f),
    info: (m, f) => write('info', m, f),
    verbose: (m, f) => write('verbose', m, f),
    debug: (m, f) => write('debug', m, f),
    get level() {
      return current;
    },
    setLevel: (level) => {
      current = level;
    },
    reopen: () => file?.reopen(),
    close: () => {
      stopWatchingStdout?.();
      file?.close();
      syslog?.stdin?.end();
    },
  };
}
