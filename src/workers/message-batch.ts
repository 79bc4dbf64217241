/**
 * What a relay worker tells the main thread that may wait a little (its info lines, the
 * ledger's grants and releases that decide nothing) leaves in batches: one message every
 * BATCH_MS at most, rather than one or two per Allocate and per Refresh. Each message woke the
 * main thread, at about 90 µs of its CPU (deserialising, the worker 'message' event, the
 * context switch): more than coturn's whole Refresh. Anything posted at once (an error line, a
 * limited reservation, an answer) sends what waits before it first, so main sees every message
 * in the order the worker made it.
 */

/** How long a batch waits for more: at most this many ms of lag for a log line or a lease count. */
export const BATCH_MS = 20;

/** The port a worker posts to (parentPort, or a MessagePort in tests). */
export interface PostingPort {
  postMessage(message: unknown): void;
}

/** Several messages in one: main hands each on in order (forEachMessage). */
interface Batch {
  readonly batch: readonly unknown[];
}

const isBatch = (message: unknown): message is Batch =>
  typeof message === 'object' && message !== null && Array.isArray((message as { batch?: unknown }).batch);

/** `message` as the worker posted it: each message of a batch in order, or the one message. */
export function forEachMessage(message: unknown, each: (message: unknown) => void): void {
  if (isBatch(message)) for (const one of message.batch) each(one);
  else each(message);
}

export class MessageBatcher {
  private waiting: unknown[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: PostingPort,
    private readonly delayMs = BATCH_MS,
  ) {}

  /** Posts now, behind what was waiting. */
  postMessage(message: unknown): void {
    this.flush();
    this.port.postMessage(message);
  }

  /** Posted with the next batch, within delayMs. */
  postLater(message: unknown): void {
    if (this.waiting.push(message) > 1) return;
    // Unref'd: a worker that has nothing else to do is not kept alive by a batch; it flushes as it closes.
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** Posts what waits, as one message. */
  flush(): void {
    if (this.waiting.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    this.port.postMessage(waiting.length === 1 ? waiting[0] : ({ batch: waiting } satisfies Batch));
  }
}
