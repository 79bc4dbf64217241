/**
 * How long to wait before replacing a relay worker that died: 1 s after a worker that had
 * run a while, doubling while replacements keep dying soon after start, up to a cap, so a
 * worker that crashes in a loop is not restarted in a tight loop.
 */
export const FIRST_RESTART_MS = 1000;
export const MAX_RESTART_MS = 60_000;
/** A worker that ran this long before dying was not crashing in a loop: back to the first delay. */
export const STABLE_RUN_MS = 60_000;

export class RestartBackoff {
  private next = FIRST_RESTART_MS;

  /** The delay before the next replacement, for a worker that lived `livedMs`. */
  delayAfter(livedMs: number): number {
    if (livedMs >= STABLE_RUN_MS) this.next = FIRST_RESTART_MS;
    const delay = this.next;
    this.next = Math.min(MAX_RESTART_MS, delay * 2);
    return delay;
  }
}
