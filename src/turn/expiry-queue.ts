/**
 * Things to look at again at a given time, bucketed by second. An item may sit in several
 * buckets (it was refreshed); the callback decides from the item's own state what is due, so
 * nothing has to be found and removed when a lifetime changes.
 */
export class ExpiryQueue<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private lastSecond: number | undefined;

  schedule(item: T, atMs: number): void {
    let second = Math.ceil(atMs / 1000);
    if (this.lastSecond !== undefined && second <= this.lastSecond) second = this.lastSecond + 1;
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(item);
  }

  /** Hands every item scheduled at or before `nowMs` to `visit`, each once per call. */
  drain(nowMs: number, visit: (item: T) => void): void {
    const now = Math.floor(nowMs / 1000);
    let from = this.lastSecond === undefined ? now : this.lastSecond + 1;
    if (this.lastSecond === undefined) for (const second of this.buckets.keys()) from = Math.min(from, second);
    const due = new Set<T>();
    for (let second = from; second <= now; second++) {
      const bucket = this.buckets.get(second);
      if (!bucket) continue;
      this.buckets.delete(second);
      for (const item of bucket) due.add(item);
    }
    // Set before visiting, so that what a visit schedules lands in a future bucket.
    this.lastSecond = now;
    for (const item of due) visit(item);
  }

  get size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }
}
