/**
 * One server, one line each way for a database outage. Each relay worker has its own
 * connections to a remote database (user database, statistics database) and notices an outage
 * by itself, on its own schedule: a worker started during the outage, or one whose idle
 * connection broke, would say it again. The operator is told once that the database is
 * unreachable (by the first worker that finds it so) and once that it is back (by the last).
 */
import type { LogFields, Logger } from '../log/logger-interface.js';

export class OutageLines {
  /** Per database (as its lines name it): the workers that find it unreachable. */
  private readonly downOn = new Map<string, Set<number>>();

  constructor(private readonly logger: Logger) {}

  /** Where worker `index`'s lines go: its reachability lines through here, the others as they are. */
  loggerFor(index: number): Logger {
    const { logger } = this;
    return {
      error: (message, fields) => logger.error(message, fields),
      warn: (message, fields) => this.line(index, 'warn', message, fields),
      info: (message, fields) => this.line(index, 'info', message, fields),
      verbose: (message, fields) => logger.verbose(message, fields),
      debug: (message, fields) => logger.debug(message, fields),
    };
  }

  /** A dead worker finds nothing any more; its replacement says what it finds. */
  workerGone(index: number): void {
    for (const workers of this.downOn.values()) workers.delete(index);
  }

  private line(index: number, level: 'warn' | 'info', message: string, fields: LogFields | undefined): void {
    const database = fields?.database;
    const reachable = fields?.reachable;
    if (typeof database !== 'string' || typeof reachable !== 'boolean') return this.logger[level](message, fields);
    const workers = this.downOn.get(database) ?? new Set<number>();
    this.downOn.set(database, workers);
    const serverWasDown = workers.size > 0;
    if (reachable) workers.delete(index);
    else workers.add(index);
    if (serverWasDown !== workers.size > 0) this.logger[level](message, fields);
  }
}
