// Waiting for something a socket handler will deliver: the handler calls notify(), the test
// awaits until(condition) with a deadline. One place for the wake-up-or-time-out dance.
export class Arrival {
  private wake: (() => void) | undefined;

  notify(): void {
    this.wake?.();
  }

  /** Resolves once `ready()` holds; rejects with `what` when `timeoutMs` pass first. */
  async until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(what);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
