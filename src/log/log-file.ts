/**
 * The log file, with coturn's naming: without `simple-log`, `turn.log` is written as
 * `turn_YYYY-MM-DD.log` and a new file starts each day (what coturn 4.6.1 does). `reopen()`
 * is for logrotate: after it renames the file and sends SIGHUP, the next line opens a new
 * file of the original name.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { standardError } from './standard-streams.js';

/** `turn.log` -> `turn_2026-11-25.log`, as coturn names its files without simple-log. */
export function datedLogFileName(file: string, date: Date): string {
  const day = date.toISOString().slice(0, 10);
  const base = file.endsWith('.log') ? file.slice(0, -4) : file;
  return `${base}_${day}.log`;
}

export class LogFile {
  private fd: number | undefined;
  private openedAs = '';
  private failedAs = '';

  constructor(
    private readonly file: string,
    private readonly simple: boolean,
  ) {}

  /** Never throws: a full disk or a removed folder must not take the relay down with it. */
  write(line: string, now: Date): void {
    const name = this.simple ? this.file : datedLogFileName(this.file, now);
    try {
      if (name !== this.openedAs) {
        this.close();
        this.fd = openSync(name, 'a');
        this.openedAs = name;
        this.failedAs = '';
      }
      writeSync(this.fd!, line);
    } catch (error) {
      // Said once per file name, on stderr: the log itself is what failed.
      if (this.failedAs !== name) standardError.write(`turnpike: cannot write log file ${name}: ${(error as Error).message}\n`);
      this.failedAs = name;
    }
  }

  /**
   * Closes the file when it is no longer the one its name points at (logrotate moved it);
   * the next line then opens a new file of that name. A file still in place stays open: a
   * server that gave up root (proc-user) may not be allowed to open it again.
   */
  reopen(): void {
    if (this.fd !== undefined && this.stillInPlace(this.fd, this.openedAs)) return;
    this.close();
  }

  private stillInPlace(fd: number, name: string): boolean {
    try {
      const open = fstatSync(fd);
      const named = statSync(name);
      return open.ino === named.ino && open.dev === named.dev;
    } catch (error) {
      // Gone (renamed away): open anew. Not allowed to look (a folder closed to proc-user): keep the file we have.
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed underneath us: nothing left to release.
      }
    }
    this.fd = undefined;
    this.openedAs = '';
  }
}
