/**
 * Replacing relay workers that die: the same index (so the same port slice and allocation
 * numbering), after a back-off (restart-backoff.ts), and never while the server stops or
 * drains to exit. The caller has already given back what the dead worker held.
 */
import type { Logger } from '../log/logger-interface.js';
import { RestartBackoff } from './restart-backoff.js';
import type { WorkerHandle } from './worker-handle.js';

export class Replacements {
  private readonly backoffs = new Map<number, RestartBackoff>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    /** Starts worker `index` anew, in the listening ports' groups. */
    private readonly startWorker: (index: number) => WorkerHandle,
    /** Why no worker may be started now (the server drains), or undefined. */
    private readonly whyNot: () => string | undefined,
    private readonly logger: Logger,
  ) {}

  /** `worker` died without being asked to: a replacement is started after its back-off. */
  died(worker: WorkerHandle): void {
    const { index } = worker;
    if (this.refused(index)) return;
    let backoff = this.backoffs.get(index);
    if (!backoff) this.backoffs.set(index, (backoff = new RestartBackoff()));
    const delay = backoff.delayAfter(Date.now() - worker.startedAt);
    this.logger.warn(`relay worker ${index} is replaced in ${delay / 1000} s`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.refused(index)) return;
      // A replacement that fails to start exits, and comes back here with a longer back-off.
      this.startWorker(index).started.then(
        () => this.logger.info(`relay worker ${index} replaced`),
        (error: Error) => this.logger.error(`relay worker ${index} not replaced: ${error.message}`),
      );
    }, delay);
    this.timers.add(timer);
  }

  /** The server stops: no replacement from now on, and none still waiting starts. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private refused(index: number): boolean {
    if (this.stopped) return true;
    const why = this.whyNot();
    if (why !== undefined) this.logger.warn(`relay worker ${index} is not replaced: ${why}`);
    return why !== undefined;
  }
}
