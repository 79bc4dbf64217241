/** `turnpike serve` / `turnserver`: load the configuration, start, and stop cleanly on signals. */
import { unlinkSync, writeFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger } from '../log/logger.js';
import { createTurnServer } from '../server.js';

export async function serve(argv: readonly string[]): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`turnpike: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (loaded.printAndExit !== undefined) {
    process.stdout.write(loaded.printAndExit.endsWith('\n') ? loaded.printAndExit : `${loaded.printAndExit}\n`);
    return 0;
  }
  const { options } = loaded;
  const logger = createLogger({
    level: options.logLevel,
    file: options.logFile,
    noStdout: options.noStdoutLog,
    simpleLog: options.simpleLog,
    syslog: options.syslog,
    format: options.logFormat,
    timestampFormat: options.logTimestampFormat,
  });
  // logrotate renames the file and sends SIGHUP: the next line goes to a new file of the old name.
  const reopenLog = (): void => {
    logger.reopen();
    logger.info('SIGHUP: log file reopened');
  };
  process.on('SIGHUP', reopenLog);

  logger.info(`${options.software} starting; configuration: ${loaded.configFile ?? 'none (-n or not found)'}`);
  for (const warning of loaded.warnings) logger.warn(warning);

  let server;
  try {
    server = await createTurnServer(options, logger);
  } catch (error) {
    logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.off('SIGHUP', reopenLog);
    logger.close();
    return 1;
  }
  if (options.pidFile) writeFileSync(options.pidFile, `${process.pid}\n`);
  // coturn reloads certificates on SIGUSR2; SIGHUP (systemctl reload) does it too, after the logs.
  const reloadCertificates = (): void => void server.reloadCertificates();
  process.on('SIGUSR2', reloadCertificates);
  process.on('SIGHUP', reloadCertificates);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.off('SIGUSR2', reloadCertificates);
  process.off('SIGHUP', reloadCertificates);
  process.off('SIGHUP', reopenLog);
  await server.close();
  if (options.pidFile) {
    try {
      unlinkSync(options.pidFile);
    } catch {
      // Already gone: nothing to clean up.
    }
  }
  logger.info('stopped');
  logger.close();
  return 0;
}
