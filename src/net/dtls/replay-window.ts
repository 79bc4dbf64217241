/**
 * RFC 6347 §4.1.2.6 anti-replay: a record whose sequence number was already accepted, or that
 * is older than the window, is dropped. Only authenticated records are marked as seen.
 */
const WINDOW = 64;

export class ReplayWindow {
  /** seen[seq % 64] holds seq + 1 once seq was accepted (0: nothing there). */
  private readonly seen = new Float64Array(WINDOW);
  private highest = -1;

  isReplay(sequence: number): boolean {
    if (sequence + WINDOW <= this.highest) return true;
    return this.seen[sequence % WINDOW] === sequence + 1;
  }

  mark(sequence: number): void {
    this.seen[sequence % WINDOW] = sequence + 1;
    if (sequence > this.highest) this.highest = sequence;
  }
}
