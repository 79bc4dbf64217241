/** The self-test page as the server's options describe it (`self-test-page`, …). */
import { defaultHost } from '../admin/credentials.js';
import type { UserDb } from '../auth/userdb.js';
import type { ServerOptions } from '../config/server-options.js';
import type { TransportAddress } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import { restCredentialsMinter } from './rest-minter.js';
import { startSelfTestPage, type SelfTestPage } from './self-test-page.js';

export function startSelfTest(
  options: ServerOptions,
  page: NonNullable<ServerOptions['selfTest']>,
  /** Where the server listens: its Listeners, or what relay workers bound. */
  listeners: { readonly [K in 'udpAddresses' | 'tcpAddresses' | 'tlsAddresses']: readonly TransportAddress[] },
  userDb: UserDb | undefined,
  logger: Logger,
): Promise<SelfTestPage> {
  return startSelfTestPage(
    {
      address: page.address,
      port: page.port,
      turnHost: page.turnHost ?? defaultHost(options),
      udpPort: listeners.udpAddresses[0]?.port,
      tcpPort: options.noTcp ? undefined : listeners.tcpAddresses[0]?.port,
      tlsPort: listeners.tlsAddresses[0]?.port,
      // With REST secrets the page mints its own credentials; otherwise the operator types them.
      mintCredentials: options.useAuthSecret
        ? restCredentialsMinter({
            secret: () => options.staticAuthSecrets[0] ?? userDb?.secretsFor(options.realm)[0],
            separator: options.restApiSeparator,
          })
        : undefined,
    },
    logger,
  );
}
