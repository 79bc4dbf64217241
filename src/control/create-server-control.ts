/**
 * The ServerControl of a running TurnServer: sessions, disconnect, stats and the log level
 * are read from and done to the engine and logger here; reload and drain belong to whoever
 * runs the process (`turnpike serve`), which hands them in as its lifecycle.
 */
import type { LogLevel } from '../config/server-options.js';
import { LOG_LEVELS, type ClosableLogger } from '../log/logger.js';
import type { TurnServer } from '../server.js';
import type { DrainReport, ReloadReport, ServerControl } from './server-control.js';
import { serverStats } from './server-stats.js';
import { sessionReport } from './session-report.js';

/** What the process does on `reload` and `drain` (as it does on SIGHUP and SIGUSR1). */
export interface ServerLifecycle {
  reload(): ReloadReport;
  drain(): DrainReport;
}

/** The part of the process logger an operator can turn up or down. */
export type AdjustableLogger = Pick<ClosableLogger, 'info' | 'level' | 'setLevel'>;

export const DISCONNECT_REASON = 'disconnected by admin';

export function createServerControl(
  server: Pick<TurnServer, 'engine'>,
  logger: AdjustableLogger,
  lifecycle: ServerLifecycle,
  clock: () => number = Date.now,
): ServerControl {
  const { engine } = server;
  const matching = (filter: { readonly id: number } | { readonly user: string } | undefined) =>
    [...engine.allocations].filter((a) => filter === undefined || ('id' in filter ? a.id === filter.id : a.username === filter.user));
  return {
    sessions: (filter) => {
      const now = clock();
      return matching(filter?.user === undefined ? undefined : { user: filter.user })
        .sort((a, b) => a.id - b.id)
        .map((a) => sessionReport(a, now));
    },
    disconnect: (target) => {
      const ending = matching(target);
      // Stream and DTLS sessions close their connection when their allocation ends.
      for (const allocation of ending) engine.release(allocation, DISCONNECT_REASON);
      return ending.length;
    },
    reload: () => lifecycle.reload(),
    drain: () => lifecycle.drain(),
    stats: () => serverStats(engine),
    logLevel: () => logger.level,
    setLogLevel: (level) => setLevel(logger, level),
  };
}

/** The change is logged at info on whichever side of it info lines still show. */
function setLevel(logger: AdjustableLogger, level: LogLevel): void {
  const previous = logger.level;
  if (previous === level) return;
  const line = `log level changed from ${previous} to ${level} (turnpike admin)`;
  const quieter = LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(previous);
  if (quieter) logger.info(line);
  logger.setLevel(level);
  if (!quieter) logger.info(line);
}
