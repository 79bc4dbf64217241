/**
 * The entry point of a relay worker thread: one RelayNode, bound into the SO_REUSEPORT
 * groups of the server's listening ports, serving its slice of the relay ports. It logs
 * through the main thread and does what the main thread asks (workers/relay-workers.ts).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LastKnownAnswers } from '../auth/last-known.js';
import type { LogLevel, ServerOptions } from '../config/server-options.js';
import type { LogFields, Logger } from '../log/logger-interface.js';
import { RelayNode } from '../relay-node.js';
import { LedgerClient, type LedgerPort } from '../turn/ledger-port.js';
import { disconnectOnEngine, engineSessions } from '../control/engine-sessions.js';
import { warmUp } from '../lifecycle/warm-up.js';
import { numberAllocationsFor } from '../turn/allocation.js';
import { MessageBatcher } from './message-batch.js';
import { MetricsReporter } from './metrics-report.js';
import { allocateForwarder, moveForwarder } from './allocate-forwarding.js';
import { reviveOptions, reviveSecrets, transferOf, type BetweenWorkers, type ForwardedAllocate, type FromWorker, type Question, type ToWorker, type WorkerStart } from './messages.js';
import { RemoteBinds } from './remote-binds.js';
import { ReservationExchange, isReservationMessage } from './reservation-exchange.js';

const port = parentPort!;
const start = workerData as WorkerStart;
/** What may wait (info lines, the ledger's grants and releases) goes to main in batches. */
const toMain = new MessageBatcher(port);

function post(message: FromWorker): void {
  toMain.postMessage(message);
}

/** Main's port as the ledger client uses it: its grants and releases wait for the batch. */
const ledgerPort: LedgerPort = {
  postMessage: (message) => toMain.postMessage(message),
  postLater: (message) => toMain.postLater(message),
  on: (event, listener) => port.on(event, listener),
  off: (event, listener) => port.off(event, listener),
};

/** The channel to each other worker (main made them); a replacement's arrives in a 'peer' message. */
const peers = [...start.peers];

function toWorker(to: number, message: BetweenWorkers): void {
  peers[to]?.postMessage(message, transferOf(message));
}


/**
 * Info lines, the routine record of each allocation, with the batch; errors and warnings (a
 * crash right after loses none) and verbose and debug diagnostics at once.
 */
const line =
  (level: LogLevel) =>
  (message: string, fields?: LogFields): void => {
    const log: FromWorker = { type: 'log', level, message, fields };
    if (level === 'info') toMain.postLater(log);
    else toMain.postMessage(log);
  };
const logger: Logger = { error: line('error'), warn: line('warn'), info: line('info'), verbose: line('verbose'), debug: line('debug') };

/** How often the worker sends main what its counters grew by: a dead worker loses at most this. */
const METRICS_REPORT_MS = 1000;

function answer(node: RelayNode, reporter: MetricsReporter, question: Question): unknown {
  switch (question.what) {
    case 'metrics':
      return reporter.report();
    case 'sessions':
      return engineSessions(node.engine, question.user, Date.now());
    case 'disconnect':
      return disconnectOnEngine(node.engine, question.target);
    case 'drain':
      return node.engine.drain();
    case 'in-use':
      return { allocations: node.engine.allocationCount, inFlight: node.engine.allocationsInFlight };
  }
}
const binds = new RemoteBinds(start.index, start.count, toWorker, logger);
// What the user database learns is sent to main for the other workers: during an outage every worker knows the same users.
const lastKnown = new LastKnownAnswers((change) => post({ type: 'last-known', change }));
start.lastKnown.forEach((change) => lastKnown.receive(change));
const reservations = new ReservationExchange(toWorker);

/**
 * Main's messages are listened to from the start: the ledger's listener starts the port while
 * the node is being created, and what came before the node ran (a reload, what another worker
 * learned) went to it alone and was lost. Learned answers count at once; the rest waits, in
 * order, for the node.
 */
const waitingForNode: ToWorker[] = [];
/** With portsLater: the first worker's ports, or undefined when main says close before them (the first worker failed). */
let portsArrived: (ports: readonly number[] | undefined) => void = () => {};
const firstWorkerPorts = new Promise<readonly number[] | undefined>((resolve) => (portsArrived = resolve));
let hasPorts = !start.portsLater;
let handleMessage = (message: ToWorker): void => {
  if (message.type === 'last-known') lastKnown.receive(message.change);
  else if (message.type === 'ports') {
    hasPorts = true;
    portsArrived(message.ports);
  } else if (message.type === 'close' && !hasPorts) portsArrived(undefined);
  else waitingForNode.push(message);
};
port.on('message', (message: ToWorker) => handleMessage(message));

async function run(): Promise<void> {
  let node: RelayNode | undefined;
  let reporter: MetricsReporter | undefined;
  const options = reviveOptions(start.options);
  // Before numbering: the warm-up puts the numbering back as it found it.
  await warmUp(options);
  const ports = start.portsLater ? await firstWorkerPorts : start.ports;
  // Told to close before the first worker listened: nothing is open here yet.
  if (start.portsLater && ports === undefined) return post({ type: 'closed' });
  // An allocation id names its worker, so that main sends `disconnect` to its owner.
  numberAllocationsFor(start.index, start.count);
  try {
    node = await RelayNode.create({
      options,
      secrets: reviveSecrets(start.secrets),
      // Quotas and bps-capacity are decided once for the server, by the main thread (unlimited Allocates wait for none).
      ledger: new LedgerClient(ledgerPort, { memory: start.ledgerMemory, slot: start.index }),
      logger,
      otherWorkers: {
        index: start.index,
        forwardAllocate: allocateForwarder(start.index, start.count, toWorker),
        forwardMove: moveForwarder(start.index, start.count, toWorker),
        bindElsewhere: binds.bindElsewhere,
      },
      place: { slice: { index: start.index, count: start.count }, group: { ports }, foreignReservations: reservations },
      advanceMemory: start.advanceMemory,
      alternateTurns: start.alternateTurns,
      onAllocationEnded: (allocation) => reporter?.allocationEnded(allocation),
      lastKnown,
    });
    const created = node;
    reporter = new MetricsReporter(created.engine, () => created.relays.portUsage(), start.options.metrics?.usernameLabels ?? false);
    const listeners = await node.listen();
    // Once for the server: by the first worker, not by a replacement of it.
    if (ports === undefined) node.logStartup();
    const { udpAddresses, streamAddresses, tcpAddresses, tlsAddresses } = listeners;
    post({ type: 'listening', ports: listeners.boundPorts, udpAddresses, streamAddresses, tcpAddresses, tlsAddresses });
  } catch (error) {
    await node?.close();
    post({ type: 'start-failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const running = node;
  const metrics = reporter!;
  const pushMetrics = setInterval(() => post({ type: 'metrics', report: metrics.report() }), METRICS_REPORT_MS);
  pushMetrics.unref();
  const listenTo = (peer: MessagePort | undefined, from: number): void =>
    void peer?.on('message', (message: BetweenWorkers) => {
      if (message.kind === 'serve-allocate') serveForwardedAllocate(running, message.allocate);
      else if (isReservationMessage(message)) reservations.receive(from, message, running.relays);
      else binds.receive(from, message, running.engine);
    });
  peers.forEach(listenTo);
  handleMessage = (message: ToWorker) => {
    switch (message.type) {
      case 'reconfigure':
        return post({ type: 'answer', id: message.id, value: reconfigured(running, message.options) });
      case 'reload-certificates':
        return void running.listeners.reloadCertificates();
      case 'peer':
        peers[message.from]?.close();
        peers[message.from] = message.port;
        return listenTo(message.port, message.from);
      case 'last-known':
        return lastKnown.receive(message.change);
      case 'count-allocations':
        return post({ type: 'allocations', id: message.id, count: running.engine.allocationCount });
      case 'ask':
        return post({ type: 'answer', id: message.id, value: answer(running, metrics, message.question) });
      case 'close':
        clearInterval(pushMetrics);
        binds.close();
        return void running.close().then(() => post({ type: 'closed' }));
    }
  };
  waitingForNode.splice(0).forEach(handleMessage);
}

/** Puts the options in force; undefined, or why they could not be (main refuses the reload). */
function reconfigured(node: RelayNode, options: ServerOptions): string | undefined {
  try {
    node.reconfigure(reviveOptions(options));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function serveForwardedAllocate(node: RelayNode, { local, client, packet }: ForwardedAllocate): void {
  if (node.listeners.serveForwardedAllocate(local, client, Buffer.from(packet))) return;
  logger.warn(`a forwarded Allocate names ${local.address}:${local.port}, where this worker does not listen on UDP`);
}

void run();
