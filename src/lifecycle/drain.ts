/**
 * SIGUSR1 (`turnpike admin drain`): take no new allocations (the engine answers 300 with an
 * alternate server, or 403), serve the existing ones to their end, and say when the last
 * has gone, or when `drain-timeout` has passed, so the process can exit.
 */
import type { DrainReport } from '../control/server-control.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';

/** How often the drain looks at what is left; an allocation ends at most this much before the exit. */
const CHECK_INTERVAL_MS = 500;

export class Drain {
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private finish: ((why: string) => void) | undefined;
  /** Resolves with why the drain is over: `drained`, or `drain timeout`. */
  readonly done: Promise<string>;

  constructor(
    private readonly engine: Pick<TurnEngine, 'drain' | 'draining' | 'allocations' | 'allocationsInFlight'>,
    /** Read when the drain starts: a reload may have changed `drain-timeout`. */
    private readonly timeoutSeconds: () => number,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Starts draining (again: only reports). */
  start(): DrainReport {
    if (!this.engine.draining) {
      this.engine.drain();
      const timeout = this.timeoutSeconds();
      this.deadline = this.clock() + timeout * 1000;
      this.logger.info(`draining: no new allocations; ${this.engine.allocations.size} still served; exit when the last ends or in ${timeout} s`);
      this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
      this.check();
    }
    return { draining: true, allocations: this.engine.allocations.size, deadline: this.deadline };
  }

  /** Stops watching (the process is stopping for another reason). */
  cancel(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const left = this.engine.allocations.size;
    if (left === 0 && this.engine.allocationsInFlight === 0) return this.end('drained');
    if (this.clock() >= this.deadline) {
      this.logger.warn(`drain timeout: ${left} allocations still open are closed now`);
      this.end('drain timeout');
    }
  }

  private end(why: string): void {
    clearInterval(this.timer);
    this.finish?.(why);
    this.finish = undefined;
  }
}
