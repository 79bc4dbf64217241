/**
 * The main thread's handle on one relay worker thread: starts it, writes its log lines,
 * answers its replies, notices when it dies, and stops it.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { LastKnownChange } from '../auth/last-known.js';
import type { Logger } from '../log/logger-interface.js';
import type { ServerOptions } from '../config/server-options.js';
import type { FromWorker, Question, ToWorker, WorkerStart } from './messages.js';
import { forEachMessage } from './message-batch.js';
import type { MetricsReport } from './metrics-report.js';

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
  /** Set when the worker is told to stop: its exit is then not a death to make up for. */
  private closing = false;
  readonly startedAt = Date.now();
  private alive = true;
  /** Set once the worker listens: until then what it is sent waits for its start. */
  private listening = false;
  /** Requests sent and not yet answered: how to answer each, and its answer if the worker dies. */
  private readonly waiting = new Map<number, { readonly answer: (value: unknown) => void; readonly ifDead: unknown }>();
  private nextId = 0;
  /** Where the worker's metrics reports go (pushed every second, or asked for). */
  onMetrics: (report: MetricsReport) => void = () => {};
  /** Where what the worker's user database learns or forgets goes (to the other workers). */
  onLastKnown: (change: LastKnownChange) => void = () => {};

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
    const onMessage = (message: FromWorker): void => {
      switch (message.type) {
        case 'log':
          return this.logger[message.level](`relay worker ${index}: ${message.message}`, message.fields);
        case 'listening':
          this.listening = true;
          return listening(message);
        case 'start-failed':
          this.ending = true;
          // Said as the one-thread server says it; who started the worker names it if it helps.
          failed(new Error(message.message));
          return void this.thread.terminate();
        case 'allocations':
          return this.answered(message.id, message.count);
        case 'answer':
          return this.answered(message.id, message.value);
        case 'metrics':
          return this.onMetrics(message.report);
        case 'last-known':
          return this.onLastKnown(message.change);
        case 'closed':
          return void this.thread.terminate();
      }
    };
    // What may wait comes in batches (message-batch.ts).
    this.thread.on('message', (posted: unknown) => forEachMessage(posted, (one) => onMessage(one as FromWorker)));
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
        for (const { answer, ifDead } of this.waiting.values()) answer(ifDead);
        this.waiting.clear();
        resolve();
      }),
    );
  }

  /** True once close() was called: the worker ends because it was told to. */
  get askedToClose(): boolean {
    return this.closing;
  }

  send(message: ToWorker, transfer: readonly MessagePort[] = []): void {
    if (this.alive) this.thread.postMessage(message, transfer);
  }

  countAllocations(): Promise<number> {
    return this.request((id) => ({ type: 'count-allocations', id }), 0);
  }

  /**
   * Resolves once the worker has put `options` in force (undefined), or with why it could not.
   * A worker still starting applies them when it has started, which may take as long as its
   * user database does to answer: that is not waited for.
   */
  reconfigure(options: ServerOptions): Promise<string | undefined> {
    if (!this.listening) {
      this.send({ type: 'reconfigure', id: -1, options });
      return Promise.resolve(undefined);
    }
    return this.request((id) => ({ type: 'reconfigure', id, options }), undefined);
  }

  /** The worker's answer to `question`; `ifDead` when it is dead or dies first. */
  ask<T>(question: Question, ifDead: T): Promise<T> {
    return this.request((id) => ({ type: 'ask', id, question }), ifDead);
  }

  /** A fresh metrics report, handed to onMetrics before this resolves. */
  async refreshMetrics(): Promise<void> {
    const report = await this.ask<MetricsReport | undefined>({ what: 'metrics' }, undefined);
    if (report) this.onMetrics(report);
  }

  private request<T>(message: (id: number) => ToWorker, ifDead: T): Promise<T> {
    if (!this.alive) return Promise.resolve(ifDead);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { answer: resolve as (value: unknown) => void, ifDead });
      this.send(message(id));
    });
  }

  private answered(id: number, value: unknown): void {
    this.waiting.get(id)?.answer(value);
    this.waiting.delete(id);
  }

  /** Resolves once the thread has exited. */
  close(): Promise<void> {
    this.ending = this.closing = true;
    this.send({ type: 'close' });
    const grace = setTimeout(() => void this.thread.terminate(), CLOSE_GRACE_MS);
    return this.exited.finally(() => clearTimeout(grace));
  }
}
