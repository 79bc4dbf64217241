/** `turnpike serve` / `turnserver`: load the configuration, start, serve until told to stop. */
import { unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { ConfigError, loadConfig, type LoadOptions, type LoadedConfig } from '../config/index.js';
import { createServerControl, startAdminInterface } from '../control/index.js';
import {
  ConfigReloader,
  Drain,
  ProcessSignals,
  beforeStopping,
  dropPrivilegesOrRefuse,
  isDaemonChild,
  notifyReady,
  reportDaemonReady,
  startDaemon,
} from '../lifecycle/index.js';
import { warmUp } from '../lifecycle/warm-up.js';
import { createLogger } from '../log/logger.js';
import { standardError, standardOutput } from '../log/standard-streams.js';
import { createTurnServer } from '../server.js';
import { startWebAdminFor } from '../webadmin/index.js';

export async function serve(argv: readonly string[]): Promise<number> {
  const signals = new ProcessSignals();
  // Read once: a reload after the host is renamed keeps the default realm clients signed with.
  const loadOptions: LoadOptions = { hostname: os.hostname() };
  const loaded = loadOrExplain(argv, loadOptions);
  if (typeof loaded === 'number') return loaded;
  const { options } = loaded;
  if (options.daemon && !isDaemonChild()) return startDaemon();
  const logger = createLogger({
    level: options.logLevel,
    file: options.logFile,
    noStdout: options.noStdoutLog,
    simpleLog: options.simpleLog,
    syslog: options.syslog,
    syslogFacility: options.syslogFacility,
    format: options.logFormat,
    timestampFormat: options.logTimestampFormat,
  });
  logger.info(`${options.software} starting; configuration: ${loaded.configFile ?? 'none (-n or not found)'}`);
  for (const warning of loaded.warnings) logger.warn(warning);

  let server;
  try {
    // Relay worker threads warm their own request path; with none, this thread serves.
    if ((options.relayThreads ?? 1) <= 1) await warmUp(options);
    server = await createTurnServer(options, logger);
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    logger.close();
    return 1;
  }
  if (options.pidFile) writeFileSync(options.pidFile, `${process.pid}\n`);
  if (!dropPrivilegesOrRefuse(options, logger)) {
    // Listeners closed first: the exit then waits for the log line without serving as root meanwhile.
    await server.close();
    logger.close();
    return 1;
  }

  const reloader = new ConfigReloader(argv, options, server, logger, loadOptions);
  const drain = new Drain(server.relayControl, () => reloader.options.redirect.drainTimeoutSeconds, logger);
  const control = createServerControl(server, logger, { reload: () => reloader.reload(), drain: () => drain.start() });
  const adminInterface = await startAdminInterface(options.admin, control, logger).catch((error: unknown) => {
    // The relay serves on without it; the line says why `turnpike admin` cannot reach it.
    logger.error(`admin interface not started: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  const webAdmin = await startWebAdminFor(loaded, reloader, control, logger);
  server.servicePorts.add([adminInterface?.port, webAdmin?.port]);

  const stopSignals = new Promise<string>((resolve) => {
    signals.on('SIGINT', () => resolve('SIGINT'));
    signals.on('SIGTERM', () => resolve('SIGTERM'));
  });
  // logrotate renames the file and sends SIGHUP (as does `systemctl reload`): a new file, then the configuration.
  signals.on('SIGHUP', () => {
    logger.reopen();
    logger.info('SIGHUP: log file reopened; reloading the configuration');
    void reloader.reload();
  });
  // coturn reloads certificates on SIGUSR2.
  signals.on('SIGUSR2', () => void server.reloadCertificates());
  signals.on('SIGUSR1', () => void drain.start());
  await notifyReady(options, logger);
  reportDaemonReady();

  const why = await Promise.race([stopSignals, drain.done]);
  signals.ignoreAll();
  logger.info(`${why}: stopping`);
  drain.cancel();
  await reloader.settled(RELOAD_WAIT_AT_STOP_MS);
  await beforeStopping(logger);
  await adminInterface?.close();
  await webAdmin?.close();
  await server.close();
  if (options.pidFile) removeQuietly(options.pidFile);
  logger.info('stopped');
  logger.close();
  return 0;
}

/** How long a stop waits for a reload under way to end (applied or refused). */
const RELOAD_WAIT_AT_STOP_MS = 5000;

/** The configuration, or the exit status once errors or `--help` output are printed. */
function loadOrExplain(argv: readonly string[], loadOptions: LoadOptions): LoadedConfig | number {
  let loaded;
  try {
    loaded = loadConfig(argv, loadOptions);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    standardError.write(`turnpike: ${error.message}\n`);
    return 1;
  }
  if (loaded.printAndExit === undefined) return loaded;
  standardOutput.write(loaded.printAndExit.endsWith('\n') ? loaded.printAndExit : `${loaded.printAndExit}\n`);
  return 0;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or not ours to remove after dropping privileges: nothing to clean up.
  }
}
