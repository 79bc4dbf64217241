/**
 * Signals for `turnpike serve`, caught from the first moment. A signal that arrives while the
 * server is still starting must not take its default action (SIGHUP and SIGUSR2 would kill
 * the process; SIGUSR1 would open Node's inspector to anyone local, as root before the
 * privilege drop): it is kept and handled once its handler is set. Handlers are never
 * removed; a stopping server sets ones that ignore what no longer applies.
 */
export type ServeSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGUSR1' | 'SIGUSR2';

const ALL: readonly ServeSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

export class ProcessSignals {
  private readonly handlers = new Map<ServeSignal, () => void>();
  private readonly pending = new Set<ServeSignal>();

  constructor() {
    for (const signal of ALL) process.on(signal, () => this.deliver(signal));
  }

  /** From now on `signal` runs `handler`; one that came earlier runs it at once. */
  on(signal: ServeSignal, handler: () => void): void {
    this.handlers.set(signal, handler);
    if (this.pending.delete(signal)) handler();
  }

  /** A stopping process: any further signal is ignored (a second SIGTERM included). */
  ignoreAll(): void {
    for (const signal of ALL) this.on(signal, () => {});
  }

  private deliver(signal: ServeSignal): void {
    const handler = this.handlers.get(signal);
    if (handler) handler();
    else this.pending.add(signal);
  }
}
