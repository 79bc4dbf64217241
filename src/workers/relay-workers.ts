/**
 * The main thread's side of relayThreads > 1: it starts the workers (each a RelayNode in
 * its own thread), writes their log lines, broadcasts reloads, sums their metrics, fans admin
 * requests out to them, and stops them. Seen from the library it is one TurnServer.
 */
import { createSecureContext } from 'node:tls';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ServerOptions } from '../config/server-options.js';
import { reloadedOptions } from '../config/option-changes.js';
import { authModeOf, describePeerRules } from '../engine-settings.js';
import type { Logger } from '../log/logger-interface.js';
import { OutageLines } from './outage-lines.js';
import { hasCertificate, secureOptions } from '../net/tls-context.js';
import { ServicePorts, configuredServicePorts } from '../policy/service-ports.js';
import { newRelaySecrets, openUserDbOf, type RelaySecrets } from '../relay-node.js';
import { startSelfTest } from '../selftest/from-options.js';
import type { SelfTestPage } from '../selftest/self-test-page.js';
import type { UserDb } from '../auth/userdb.js';
import { LastKnownAnswers } from '../auth/last-known.js';
import type { TurnServer } from '../server.js';
import type { ToWorker } from './messages.js';
import { LedgerServer } from '../turn/ledger-port.js';
import { AdvanceLedger } from '../turn/advance-ledger.js';
import { REPLY_BUDGET_DEFAULTS } from '../turn/reply-budget.js';
import { startMetrics, type Metrics } from '../metrics/index.js';
import { SummedMetrics } from './summed-metrics.js';
import { workersRelayControl } from './workers-control.js';
import { WorkerHandle } from './worker-handle.js';
import { Replacements } from './replacements.js';

export async function startRelayWorkers(options: ServerOptions, logger: Logger): Promise<TurnServer> {
  const count = options.relayThreads ?? 1;
  // At most 256: a RESERVATION-TOKEN names its worker in one byte (net/udp-relays.ts).
  if (!Number.isInteger(count) || count < 2 || count > 256) throw new RangeError(`relayThreads must be an integer from 1 to 256, got ${count}`);
  // Each worker owns every count-th port pair (net/port-pool.ts).
  if (options.maxPort - options.minPort + 1 < 2 * count) {
    throw new RangeError(`min-port..max-port (${options.minPort}-${options.maxPort}) has fewer than 2 ports for each of ${count} relay workers`);
  }
  const secrets: RelaySecrets = newRelaySecrets();
  // One ledger of reply-budget advances for the server: a spoofer reaching N workers gets one advance, not N.
  const advanceMemory = AdvanceLedger.memoryFor(REPLY_BUDGET_DEFAULTS.advanceSlots, SharedArrayBuffer);
  // One turn round the alternate-server list for the server, not one per worker.
  const alternateTurns = new SharedArrayBuffer(Uint32Array.BYTES_PER_ELEMENT);
  const workers: WorkerHandle[] = [];
  // One ledger for the server: quotas and bps-capacity hold whichever worker allocates.
  const ledger = new LedgerServer();
  // The server's metrics are the sums of what the workers report.
  const sums = new SummedMetrics(() => Promise.all(workers.map((w) => w.refreshMetrics())).then(() => undefined));
  const firstChannels = workerChannels(count);
  // The workers' last-known user database answers, so that a replacement starts knowing them.
  const lastKnown = new LastKnownAnswers();
  /** A replacement's channels: a new one to each other worker, which takes its end by message. */
  const channelsFor = (index: number): MessagePort[] => {
    const ends: MessagePort[] = [];
    workers.forEach((other, j) => {
      if (j === index) return;
      const { port1, port2 } = new MessageChannel();
      other.send({ type: 'peer', from: index, port: port2 }, [port2]);
      ends[j] = port1;
    });
    return ends;
  };
  const control = workersRelayControl(workers, sums);
  // Set once every worker listens: from then on a worker that dies is replaced.
  let serving = false;
  // The kernel lets only the user that bound a port join its socket group (docs/relay-workers.md).
  const bindingUser = process.geteuid?.();
  const whyNoReplacement = (): string | undefined => {
    if (control.draining) return 'the server is draining';
    if (process.geteuid?.() !== bindingUser) return 'the listening ports were bound before proc-user took effect, and only their user may join them; restart the server to have every worker again';
    return undefined;
  };
  // A database outage is said once for the server, not once per worker.
  const outageLines = new OutageLines(logger);
  const replacements = new Replacements((index) => startOne(index, first!.ports), whyNoReplacement, logger);
  // The options in force: a replacement starts with what reloads changed, and the rest as at start.
  let current = options;
  /** `ports`: the first worker's, or 'later' (a 'ports' message) for a worker started alongside it. */
  const startOne = (index: number, ports: readonly number[] | undefined | 'later'): WorkerHandle => {
    const peers = serving ? channelsFor(index) : firstChannels[index]!;
    const later = ports === 'later';
    const start = { index, count, options: reloadedOptions(options, current), secrets, advanceMemory, ledgerMemory: ledger.memory, alternateTurns, ports: later ? undefined : ports, portsLater: later, peers, lastKnown: lastKnown.changes() };
    const worker = new WorkerHandle(index, start, outageLines.loggerFor(index));
    ledger.attach(index, worker.thread);
    // A dead worker holds no allocation: what it reserved goes back.
    void worker.exited.then(() => {
      ledger.releaseAllOf(index);
      outageLines.workerGone(index);
      sums.workerGone(index);
      if (serving && !worker.askedToClose) replacements.died(worker);
    });
    worker.onMetrics = (report) => sums.add(index, report);
    // Only the server's own threads exchange these, over their worker ports.
    worker.onLastKnown = (change) => {
      lastKnown.receive(change);
      workers.forEach((other, j) => j !== index && other.send({ type: 'last-known', change }));
    };
    workers[index] = worker;
    return worker;
  };
  let first: Awaited<WorkerHandle['started']> | undefined;
  let metrics: Metrics | undefined;
  let selfTest: SelfTestPage | undefined;
  // Main's own handle on the user database: the self-test page reads its REST secret there.
  let userDb: UserDb | undefined;
  const stopAll = async (): Promise<void> => {
    replacements.stop();
    await selfTest?.close();
    await Promise.all(workers.map((w) => w.close()));
    await metrics?.close();
    userDb?.close();
  };
  try {
    // First, as with one thread: /metrics answers once STUN does, and a taken port fails before any worker starts.
    metrics = options.metrics && (await startMetrics(sums, options.metrics, logger));
    // The first worker resolves ports asked as 0; the others join the groups on those ports.
    // All start at once, so that the others' start-up and warm-up run while the first's do.
    const starting = startOne(0, undefined);
    const others = Array.from({ length: count - 1 }, (_, i) => startOne(i + 1, 'later'));
    // Awaited below once the first listens; if the first fails, their failure (closed unstarted)
    // is part of that one and must not surface as an unhandled rejection.
    for (const other of others) other.started.catch(() => {});
    first = await starting.started;
    const { ports } = first;
    for (const other of others) other.send({ type: 'ports', ports });
    // The first worker's failure is the server's (its ports); a later one's is that worker's.
    await Promise.all(others.map((w) => w.started.catch((error: Error) => Promise.reject(new Error(`relay worker ${w.index}: ${error.message}`)))));
    if (options.selfTest) {
      userDb = openUserDbOf(options, logger);
      selfTest = await startSelfTest(options, options.selfTest, first, userDb, logger);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  logger.info(`relaying with ${count} worker threads`);
  serving = true;
  const listening = first;

  const broadcast = (message: ToWorker): void => workers.forEach((w) => w.send(message));
  let closed: Promise<void> | undefined;
  return {
    get engine(): never {
      throw new Error('server.engine is per worker with relayThreads > 1');
    },
    get listeners(): never {
      throw new Error('server.listeners are per worker with relayThreads > 1');
    },
    udpAddresses: listening.udpAddresses,
    streamAddresses: listening.streamAddresses,
    selfTest,
    metrics,
    servicePorts: new ServicePorts([...configuredServicePorts(options), ...listening.ports, metrics?.endpoint?.port, selfTest?.port]),
    relayControl: control,
    get authMode() {
      return authModeOf(current);
    },
    async reconfigure(next: ServerOptions): Promise<void> {
      current = next;
      logger.info(describePeerRules(next));
      // Every worker runs the same code on the same options, so one fails where all do.
      const failures = (await Promise.all(workers.map((w) => w.reconfigure(next)))).filter((why) => why !== undefined);
      if (failures.length > 0) throw new Error(failures[0]);
    },
    // Checked here, so the answer is known at once; each worker then reads the files and logs.
    reloadCertificates(): boolean {
      if (!hasCertificate(current.tls) || (current.noTls && current.noDtls)) return false;
      try {
        createSecureContext(secureOptions(current.tls));
      } catch (error) {
        logger.error(`TLS certificate not reloaded, the old one stays: ${(error as Error).message}`);
        return false;
      }
      broadcast({ type: 'reload-certificates' });
      return true;
    },
    get workerThreads() {
      return workers.map((w) => w.thread);
    },
    workerAllocationCounts: () => Promise.all(workers.map((w) => w.countAllocations())),
    close: () => (closed ??= stopAll()),
  };
}

/**
 * A MessageChannel between each two workers, as each worker's list of ports by the other's
 * number: what workers tell each other (an RFC 6062 data connection's bytes) skips main.
 */
function workerChannels(count: number): MessagePort[][] {
  const ports: MessagePort[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i]![j] = port1;
      ports[j]![i] = port2;
    }
  }
  return ports;
}
