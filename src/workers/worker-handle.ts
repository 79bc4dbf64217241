/**
 * The main thread's handle on one relay worker thread: starts it, writes its log lines,
 * answers its replies, notices when it dies, and stops it.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger-interface.js';
import type { FromWorker, ToWorker, WorkerStart } from './messages.js';

/** A worker that does not finish closing in this long is terminated. */
const CLOSE_GRACE_MS = 5000;

type Listening = Extract<FromWorker, { type: 'listening' }>;

/**
 * Workers always run compiled JS: the sibling file in dist/, or dist's copy when this module
 * runs from src/ (vitest, tsx), since Node cannot load src's .ts files with their .js imports.
 * `npm test` builds dist first (pretest).
 */
export function relayWorkerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(here.replace(/\/src\/workers\/worker-handle\.ts$/, '/dist/workers/relay-worker.js'));
  return new URL('./relay-worker.js', here);
}

export class WorkerHandle {
  readonly thread: Worker;
  /** Settles once the worker listens (with the ports it bound), or rejects when it cannot. */
  readonly started: Promise<Listening>;
  readonly exited: Promise<void>;
  /** Set when the worker is told to stop, or has failed to start: its exit is then no news. */
  private ending = false;
  private alive = true;
  private readonly waiting = new Map<number, (count: number) => void>();
  private nextId = 0;

  constructor(
    readonly index: number,
    start: WorkerStart,
    private readonly logger: Logger,
    script: URL = relayWorkerScript(),
  ) {
    // The channels to the other workers move into this one.
    const transferList = (start.peers ?? []).filter((port) => port !== undefined);
    this.thread = new Worker(script, { workerData: start, transferList, name: `relay-worker-${index}` });
    let listening!: (message: Listening) => void;
    let failed!: (error: Error) => void;
    this.started = new Promise((resolve, reject) => ((listening = resolve), (failed = reject)));
    this.thread.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'log':
          return this.logger[message.level](`relay worker ${index}: ${message.message}`, message.fields);
        case 'listening':
          return listening(message);
        case 'start-failed':
          this.ending = true;
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
        this.alive = false;
        if (!this.ending) this.logger.error(`relay worker ${index} exited (code ${code}); the clients it served lost their allocations`);
        failed(new Error(`relay worker ${index} exited (code ${code}) before listening`));
        // A dead worker holds no allocation.
        for (const answer of this.waiting.values()) answer(0);
        this.waiting.clear();
        resolve();
      }),
    );
  }

  send(message: ToWorker): void {
    if (this.alive) this.thread.postMessage(message);
  }

  countAllocations(): Promise<number> {
    if (!this.alive) return Promise.resolve(0);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send({ type: 'count-allocations', id });
    });
  }

  /** Resolves once the thread has exited. */
  close(): Promise<void> {
    this.ending = true;
    this.send({ type: 'close' });
    const grace = setTimeout(() => void this.thread.terminate(), CLOSE_GRACE_MS);
    return this.exited.finally(() => clearTimeout(grace));
  }
}
