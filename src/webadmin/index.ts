/** The web admin page (`web-admin`): what `turnpike serve` starts when the option is set. */
import type { DatabaseChoice } from '../admin/open-store.js';
import type { LoadedConfig } from '../config/index.js';
import type { ServerOptions } from '../config/server-options.js';
import type { ServerControl } from '../control/server-control.js';
import type { ConfigReloader } from '../lifecycle/reload.js';
import type { Logger } from '../log/logger-interface.js';
import { startWebAdmin, type WebAdmin } from './web-admin-server.js';

export { startWebAdmin, type WebAdmin } from './web-admin-server.js';

/** The user database the server reads, as turnadmin opens it. */
function managedDatabase(options: ServerOptions): DatabaseChoice | undefined {
  if (options.redisUserDb) return { db: undefined, psql: undefined, redis: options.redisUserDb };
  if (options.psqlUserDb) return { db: undefined, psql: options.psqlUserDb };
  if (options.mysqlUserDb) return { db: undefined, psql: undefined, mysql: options.mysqlUserDb };
  return options.userDb === undefined ? undefined : { db: options.userDb, psql: undefined };
}

/** Started when configured; a failure is logged and the relay serves on without the page. */
export async function startWebAdminFor(loaded: LoadedConfig, reloader: Pick<ConfigReloader, 'lastWarnings'>, control: ServerControl, logger: Logger): Promise<WebAdmin | undefined> {
  const { options } = loaded;
  if (!options.webAdmin) return undefined;
  const startedAt = Date.now();
  try {
    return await startWebAdmin(
      {
        options: options.webAdmin,
        tls: options.tls,
        userDb: managedDatabase(options),
        control,
        serverInfo: () => ({
          version: options.software,
          startedAt,
          configFile: loaded.configFile,
          settings: loaded.settings ?? [],
          startWarnings: loaded.warnings,
          reloadWarnings: reloader.lastWarnings,
        }),
      },
      logger,
    );
  } catch (error) {
    logger.error(`web admin not started: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
