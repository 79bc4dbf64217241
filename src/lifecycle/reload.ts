/**
 * SIGHUP (`systemctl reload`, `turnpike admin reload`): read the configuration again, as at
 * start, and put in force what can change while running. A configuration that no longer
 * loads is refused whole and the running one kept; options that need a restart are named
 * and keep their old values.
 */
import { ConfigError, loadConfig, type LoadOptions } from '../config/index.js';
import { optionChanges, reloadedOptions } from '../config/option-changes.js';
import type { ServerOptions } from '../config/server-options.js';
import type { ReloadReport } from '../control/server-control.js';
import type { ClosableLogger } from '../log/logger.js';
import type { TurnServer } from '../server.js';

export class ConfigReloader {
  /** What the last reload warned about (the web admin shows them). */
  lastWarnings: readonly string[] = [];
  /** Reloads run one after another: each compares the file with what the one before put in force. */
  private previous: Promise<unknown> = Promise.resolve();

  constructor(
    /** The command line the server started with: the same file is found the same way. */
    private readonly argv: readonly string[],
    private current: ServerOptions,
    private readonly server: Pick<TurnServer, 'reconfigure' | 'reloadCertificates'>,
    private readonly logger: Pick<ClosableLogger, 'info' | 'warn' | 'error' | 'setLevel'>,
    /** Those of the start (the host's name above all, which names a default realm). */
    private readonly loadOptions: LoadOptions = {},
  ) {}

  /** The options in force: those of the start, with what reloads changed. */
  get options(): ServerOptions {
    return this.current;
  }

  /**
   * Resolves once the reloads asked for so far are over (applied or refused): a stop waits for
   * it, so a reload is never put in force on a closing server and its line comes before "stopped".
   * A reload still running after `withinMs` (a worker that does not answer) does not hold the stop.
   */
  settled(withinMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const over = this.previous.then(
      () => undefined,
      () => undefined,
    );
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, withinMs);
    });
    return Promise.race([over, late]).finally(() => clearTimeout(timer));
  }

  /** Resolves once what changed is in force on every relay worker; only then is it said to be. */
  reload(): Promise<ReloadReport> {
    const report = this.previous.then(() => this.reloadNow());
    this.previous = report;
    return report;
  }

  private async reloadNow(): Promise<ReloadReport> {
    let loaded;
    try {
      loaded = loadConfig(this.argv, this.loadOptions);
    } catch (error) {
      return this.refuse(error instanceof ConfigError ? error.message : String(error));
    }
    for (const warning of loaded.warnings) this.logger.warn(warning);
    this.lastWarnings = loaded.warnings;
    const changes = optionChanges(this.current, loaded.options);
    const next = reloadedOptions(this.current, loaded.options);
    try {
      // A SIGHUP must never end the server: whatever putting the options in force throws is
      // refused and logged, as a file that does not load is.
      await this.server.reconfigure(next);
    } catch (error) {
      return this.refuse(error instanceof Error ? error.message : String(error));
    }
    this.logger.setLevel(next.logLevel);
    this.current = next;
    const applied = changes.live.length > 0 ? changes.live.join(', ') : 'nothing changed';
    this.logger.info(`configuration reloaded: ${applied}`);
    if (changes.needsRestart.length > 0) {
      this.logger.warn(`changed but kept until a restart: ${changes.needsRestart.join(', ')}`);
    }
    return { ok: true, applied: changes.live, needsRestart: changes.needsRestart };
  }

  private refuse(message: string): ReloadReport {
    this.logger.error(`reload refused, the running configuration stays: ${message}`);
    // A renewed certificate at the same path is still wanted (certbot's deploy hook sends SIGHUP).
    this.server.reloadCertificates();
    return { ok: false, error: message, applied: [], needsRestart: [] };
  }
}
