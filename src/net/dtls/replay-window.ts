/**
 * RFC 6347 §4.1.2.6 anti-replay: a record whose sequence number was already accepted, or that
 * is older than the window, is dropped. Only authenticated records are marked as seen.
 */
const WINDOW = 64;
/** Doubles a window takes: the highest accepted, then seen[64]. */
export const REPLAY_WINDOW_LENGTH = 1 + WINDOW;

export class ReplayWindow {
  /**
   * [0]: the highest sequence number accepted (-1: none); [1 + seq % 64] holds seq + 1 once seq
   * was accepted (0: nothing there). Given, it may be shared with native/dtls-routes.c, which
   * reads and marks it the same way.
   */
  constructor(private readonly state: Float64Array = new Float64Array(REPLAY_WINDOW_LENGTH)) {
    state[0] = -1;
  }

  isReplay(sequence: number): boolean {
    if (sequence + WINDOW <= this.state[0]!) return true;
    return this.state[1 + (sequence % WINDOW)] === sequence + 1;
  }

  mark(sequence: number): void {
    this.state[1 + (sequence % WINDOW)] = sequence + 1;
    if (sequence > this.state[0]!) this.state[0] = sequence;
  }
}
