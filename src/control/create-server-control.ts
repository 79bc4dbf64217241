/**
 * The ServerControl of a running TurnServer: sessions, disconnect, stats and the log level
 * are read from and done to its relaying (server.relayControl: one engine, or every relay
 * worker) and the logger here; reload and drain belong to whoever
 * runs the process (`turnpike serve`), which hands them in as its lifecycle.
 */
import type { LogLevel } from '../config/server-options.js';
import { LOG_LEVELS, type ClosableLogger } from '../log/logger.js';
import type { TurnServer } from '../server.js';
import type { DrainReport, ReloadReport, ServerControl } from './server-control.js';

/** What the process does on `reload` and `drain` (as it does on SIGHUP and SIGUSR1). */
export interface ServerLifecycle {
  reload(): ReloadReport | Promise<ReloadReport>;
  drain(): DrainReport | Promise<DrainReport>;
}

/** The part of the process logger an operator can turn up or down. */
export type AdjustableLogger = Pick<ClosableLogger, 'info' | 'level' | 'setLevel'>;

export function createServerControl(
  server: Pick<TurnServer, 'relayControl'>,
  logger: AdjustableLogger,
  lifecycle: ServerLifecycle,
): ServerControl {
  const relays = server.relayControl;
  return {
    sessions: (filter) => relays.sessions(filter?.user),
    disconnect: (target) => relays.disconnect(target),
    reload: async () => lifecycle.reload(),
    drain: async () => lifecycle.drain(),
    stats: () => relays.stats(),
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
