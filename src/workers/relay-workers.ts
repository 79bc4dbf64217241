/**
 * The main thread's side of relayThreads > 1: it starts the workers (each a RelayNode in
 * its own thread), writes their log lines, broadcasts reloads, and stops them. Seen from the
 * library it is one TurnServer.
 */
import { createSecureContext } from 'node:tls';
import { Worker } from 'node:worker_threads';
import type { ServerOptions } from '../config/server-options.js';
import { authModeOf } from '../engine-settings.js';
import type { Logger } from '../log/logger-interface.js';
import { hasCertificate, secureOptions } from '../net/tls-context.js';
import { ServicePorts, configuredServicePorts } from '../policy/service-ports.js';
import { newRelaySecrets, type RelaySecrets } from '../relay-node.js';
import type { TurnServer } from '../server.js';
import type { FromWorker, ToWorker, WorkerStart } from './messages.js';
import { refuseWhatWorkersCannotServe } from './unsupported.js';

/** A worker that does not finish closing in this long is terminated. */
const CLOSE_GRACE_MS = 5000;

/**
 * Workers always run compiled JS: the sibling file in dist/, or dist's copy when this module
 * runs from src/ (vitest, tsx), since Node cannot load src's .ts files with their .js imports.
 * `npm test` builds dist first (pretest).
 */
function workerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/src\/workers\/relay-workers\.ts$/, '/dist/workers/relay-worker.js'));
  return new URL('./relay-worker.js', here);
}

class RelayWorker {
  readonly thread: Worker;
  readonly exited: Promise<void>;
  private closing = false;
  private readonly waiting = new Map<number, (count: number) => void>();
  private nextId = 0;
  /** Settles once the worker listens (with what it bound) or has failed to. */
  readonly started: Promise<Extract<FromWorker, { type: 'listening' }>>;

  constructor(
    readonly index: number,
    start: WorkerStart,
    private readonly logger: Logger,
  ) {
    this.thread = new Worker(workerScript(), { workerData: start, name: `relay-worker-${index}` });
    let listening!: (m: Extract<FromWorker, { type: 'listening' }>) => void;
    let failed!: (error: Error) => void;
    this.started = new Promise((resolve, reject) => ((listening = resolve), (failed = reject)));
    this.thread.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'log':
          return this.logger[message.level](`relay worker ${index}: ${message.message}`, message.fields);
        case 'listening':
          return listening(message);
        case 'start-failed':
          failed(new Error(`relay worker ${index}: ${message.message}`));
          return void this.thread.terminate();
        case 'allocations':
          this.waiting.get(message.id)?.(message.count);
          return this.waiting.delete(message.id);
        case 'closed':
          return void this.thread.terminate();
      }
    });
    this.thread.on('error', (error) => {
      this.logger.error(`relay worker ${index} failed: ${error.stack ?? error.message}`);
      failed(error);
    });
    this.exited = new Promise((resolve) =>
      this.thread.once('exit', (code) => {
        if (!this.closing) this.logger.error(`relay worker ${index} exited (code ${code}); its clients are not served until restart`);
        failed(new Error(`relay worker ${index} exited (code ${code}) before listening`));
        // A dead worker holds no allocation.
        for (const answer of this.waiting.values()) answer(0);
        this.waiting.clear();
        resolve();
      }),
    );
  }

  send(message: ToWorker): void {
    this.thread.postMessage(message);
  }

  countAllocations(): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ type: 'count-allocations', id });
    });
  }

  close(): Promise<void> {
    this.closing = true;
    this.send({ type: 'close' });
    const grace = setTimeout(() => void this.thread.terminate(), CLOSE_GRACE_MS);
    return this.exited.finally(() => clearTimeout(grace));
  }
}

export async function startRelayWorkers(options: ServerOptions, logger: Logger): Promise<TurnServer> {
  const count = options.relayThreads ?? 1;
  // At most 256: a RESERVATION-TOKEN names its worker in one byte (net/udp-relays.ts).
  if (!Number.isInteger(count) || count < 2 || count > 256) throw new RangeError(`relayThreads must be an integer from 1 to 256, got ${count}`);
  refuseWhatWorkersCannotServe(options);
  // Each worker owns every count-th port pair (net/port-pool.ts).
  if (options.maxPort - options.minPort + 1 < 2 * count) {
    throw new RangeError(`min-port..max-port (${options.minPort}-${options.maxPort}) has fewer than 2 ports for each of ${count} relay workers`);
  }
  const secrets: RelaySecrets = newRelaySecrets();
  const workers: RelayWorker[] = [];
  const startOne = (index: number, ports: readonly number[] | undefined): RelayWorker => {
    const worker = new RelayWorker(index, { index, count, options, secrets, ports }, logger);
    workers.push(worker);
    return worker;
  };
  let first;
  try {
    // The first worker resolves ports asked as 0; the others join the groups on those ports.
    first = await startOne(0, undefined).started;
    const { ports } = first;
    const others = Array.from({ length: count - 1 }, (_, i) => startOne(i + 1, ports));
    await Promise.all(others.map((w) => w.started));
  } catch (error) {
    await Promise.all(workers.map((w) => w.close()));
    throw error;
  }
  logger.info(`relaying with ${count} worker threads`);

  let current = options;
  const broadcast = (message: ToWorker): void => workers.forEach((w) => w.send(message));
  let closed: Promise<void> | undefined;
  return {
    get engine(): never {
      throw new Error('server.engine is per worker with relayThreads > 1');
    },
    get listeners(): never {
      throw new Error('server.listeners are per worker with relayThreads > 1');
    },
    udpAddresses: first.udpAddresses,
    streamAddresses: first.streamAddresses,
    selfTest: undefined,
    metrics: undefined,
    servicePorts: new ServicePorts([...configuredServicePorts(options), ...first.ports]),
    get authMode() {
      return authModeOf(current);
    },
    reconfigure(next: ServerOptions): void {
      refuseWhatWorkersCannotServe(next);
      current = next;
      broadcast({ type: 'reconfigure', options: next });
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
    workerAllocationCounts: () => Promise.all(workers.map((w) => w.countAllocations())),
    close: () => (closed ??= Promise.all(workers.map((w) => w.close())).then(() => undefined)),
  };
}
