/**
 * SIGUSR1 (`turnpike admin drain`): take no new allocations (the engine answers 300 with an
 * alternate server, or 403), serve the existing ones to their end, and say when the last
 * has gone, or when `drain-timeout` has passed, so the process can exit.
 */
import type { RelayControl } from '../control/relay-control.js';
import type { DrainReport } from '../control/server-control.js';
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
    /** One engine, or every relay worker: the drain ends when the last allocation on any ends. */
    private readonly relays: Pick<RelayControl, 'drain' | 'draining' | 'inUse'>,
    /** Read when the drain starts: a reload may have changed `drain-timeout`. */
    private readonly timeoutSeconds: () => number,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Starts draining (again: only reports). */
  async start(): Promise<DrainReport> {
    if (!this.relays.draining) {
      this.relays.drain();
      const timeout = this.timeoutSeconds();
      this.deadline = this.clock() + timeout * 1000;
      const { allocations } = await this.relays.inUse();
      this.logger.info(`draining: no new allocations; ${allocations} still served; exit when the last ends or in ${timeout} s`);
      this.timer = setInterval(() => void this.check(), CHECK_INTERVAL_MS);
      await this.check();
    }
    return { draining: true, allocations: (await this.relays.inUse()).allocations, deadline: this.deadline };
  }

  /** Stops watching (the process is stopping for another reason). */
  cancel(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    const { allocations: left, inFlight } = await this.relays.inUse();
    if (left === 0 && inFlight === 0) return this.end('drained');
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
