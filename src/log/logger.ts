/**
 * Log lines to stdout, a file and/or syslog, with coturn's verbosity levels and coturn's
 * log file naming: without `simple-log`, `turn.log` is written as `turn_YYYY-MM-DD.log`
 * and a new file starts each day (what coturn 4.6.1 does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import type { LogLevel } from '../config/server-options.js';
import type { Logger } from '../turn/logger.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, verbose: 3, debug: 4 };
/** syslog severities, facility "user" (1): priority = 8 + severity. */
const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 11, warn: 12, info: 14, verbose: 15, debug: 15 };

export interface LogOptions {
  readonly level: LogLevel;
  /** A file to append to; 'stdout' or '-' mean standard output, 'syslog' means syslog. */
  readonly file?: string;
  readonly noStdout?: boolean;
  /** Use `file` as named: no date in the name, no daily rollover. */
  readonly simpleLog?: boolean;
  readonly syslog?: boolean;
}

export type ClosableLogger = Logger & { close(): void };

/** `turn.log` -> `turn_2026-11-25.log`, as coturn names its files without simple-log. */
export function datedLogFileName(file: string, date: Date): string {
  const day = date.toISOString().slice(0, 10);
  const base = file.endsWith('.log') ? file.slice(0, -4) : file;
  return `${base}_${day}.log`;
}

class LogFile {
  private fd: number | undefined;
  private openedAs = '';

  constructor(
    private readonly file: string,
    private readonly simple: boolean,
  ) {}

  write(line: string, now: Date): void {
    const name = this.simple ? this.file : datedLogFileName(this.file, now);
    if (name !== this.openedAs) {
      this.close();
      this.fd = openSync(name, 'a');
      this.openedAs = name;
    }
    appendFileSync(this.fd!, line);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.openedAs = '';
  }
}

/** util-linux `logger` reads lines with a `<priority>` prefix: Node has no syslog socket API. */
function openSyslog(): ChildProcess | undefined {
  try {
    const child = spawn('logger', ['--prio-prefix', '-t', 'turnpike', `--id=${process.pid}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => process.stderr.write('turnpike: syslog unavailable (no `logger` command)\n'));
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
  const write = (level: LogLevel, message: string): void => {
    if (RANK[level] > RANK[options.level]) return;
    const now = new Date();
    const line = `${now.toISOString()} ${level.toUpperCase()}: ${message}\n`;
    if (toStdout) process.stdout.write(line);
    file?.write(line, now);
    syslog?.stdin?.write(`<${SYSLOG_PRIORITY[level]}>${message}\n`);
  };
  return {
    error: (m) => write('error', m),
    warn: (m) => write('warn', m),
    info: (m) => write('info', m),
    verbose: (m) => write('verbose', m),
    debug: (m) => write('debug', m),
    close: () => {
      file?.close();
      syslog?.stdin?.end();
    },
  };
}
