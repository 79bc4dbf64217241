/**
 * The composition root: options in, a running server out. `createTurnServer` is also the
 * library API. The relaying itself is a RelayNode (relay-node.ts): one on this thread, or,
 * with relayThreads > 1, one per worker thread (workers/relay-workers.ts).
 */
import type { Worker } from 'node:worker_threads';
import type { ServerOptions } from './config/server-options.js';
import { engineRelayControl, type RelayControl } from './control/relay-control.js';
import { EngineScrapeSource, startMetrics, type Metrics } from './metrics/index.js';
import type { Listeners } from './net/listeners.js';
import { startSelfTest } from './selftest/from-options.js';
import type { SelfTestPage } from './selftest/self-test-page.js';
import type { ServicePorts } from './policy/service-ports.js';
import type { TransportAddress } from './stun/ip.js';
import type { AuthMode } from './turn/engine-context.js';
import type { TurnEngine } from './turn/engine.js';
import { silentLogger, type Logger } from './log/logger-interface.js';
import { describePeerRules } from './engine-settings.js';
import { RelayNode, newRelaySecrets } from './relay-node.js';
import { startRelayWorkers } from './workers/relay-workers.js';
import { LocalLedger } from './turn/ledger.js';

export { authModeOf, engineConfigOf } from './engine-settings.js';

export interface TurnServer {
  /** The engine; with relayThreads > 1 each worker has its own and reading this throws. */
  readonly engine: TurnEngine;
  /** Where clients can reach the server over UDP (ports resolved when 0 was asked). */
  readonly udpAddresses: readonly TransportAddress[];
  /** Where clients can reach the server over TCP and TLS. */
  readonly streamAddresses: readonly TransportAddress[];
  /** The sockets; with relayThreads > 1 each worker has its own and reading this throws. */
  readonly listeners: Listeners;
  /** The self-test page, when `self-test-page` is on. */
  readonly selfTest: SelfTestPage | undefined;
  /** Reads the TLS certificate again (SIGUSR2, SIGHUP); false when it was refused. */
  reloadCertificates(): boolean;
  /**
   * Puts reloaded options in force (see config/option-changes.ts for which): credentials,
   * peer rules, quotas, lifetimes, redirects and certificates, with no allocation dropped.
   * Resolves once they are in force on every relay worker.
   */
  reconfigure(options: ServerOptions): Promise<void>;
  readonly authMode: AuthMode;
  /** The Prometheus registry and endpoint, with `prometheus`. */
  readonly metrics: Metrics | undefined;
  /** Ports the server serves on, never peers; an interface started beside it (admin) adds its own. */
  readonly servicePorts: ServicePorts;
  /** Sessions, disconnect, stats and drain over the whole server, for the admin interface and signals. */
  readonly relayControl: RelayControl;
  /**
   * The relay worker threads as they are now, by index (none with relayThreads 1); for
   * diagnostics and tests: terminating one is how a test makes a worker die.
   */
  readonly workerThreads: readonly Worker[];
  /** Allocations held by each relay worker (one entry with relayThreads 1). */
  workerAllocationCounts(): Promise<number[]>;
  close(): Promise<void>;
}

export async function createTurnServer(options: ServerOptions, logger: Logger = silentLogger): Promise<TurnServer> {
  if ((options.relayThreads ?? 1) !== 1) return startRelayWorkers(options, logger);
  let scrapeSource: EngineScrapeSource | undefined;
  const node = await RelayNode.create({ options, secrets: newRelaySecrets(), ledger: new LocalLedger(), logger, onAllocationEnded: (a) => scrapeSource?.allocationEnded(a) });
  const { engine } = node;
  let metrics: Metrics | undefined;
  let selfTest: SelfTestPage | undefined;
  let running: Listeners;
  try {
    if (options.metrics) {
      scrapeSource = new EngineScrapeSource(engine, () => node.relays.portUsage(), options.metrics.usernameLabels);
      metrics = await startMetrics(scrapeSource, options.metrics, logger);
    }
    running = await node.listen();
    selfTest = options.selfTest && (await startSelfTest(options, options.selfTest, running, node.userDb, logger));
    node.servicePorts.add([metrics?.endpoint?.port, selfTest?.port]);
  } catch (error) {
    await selfTest?.close();
    await node.close();
    await metrics?.close();
    throw error;
  }
  node.logStartup();

  let closed: Promise<void> | undefined;
  return {
    engine,
    udpAddresses: running.udpAddresses,
    streamAddresses: running.streamAddresses,
    listeners: running,
    selfTest,
    reloadCertificates: () => running.reloadCertificates(),
    reconfigure: async (next) => {
      node.reconfigure(next);
      logger.info(describePeerRules(next));
    },
    get authMode() {
      return engine.config.authMode;
    },
    metrics,
    servicePorts: node.servicePorts,
    relayControl: engineRelayControl(engine),
    workerThreads: [],
    workerAllocationCounts: () => Promise.resolve([engine.allocationCount]),
    close: () =>
      (closed ??= (async () => {
        await selfTest?.close();
        await node.close();
        await metrics?.close();
      })()),
  };
}
