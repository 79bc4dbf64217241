/**
 * `max-bps` and `bps-capacity`: a token bucket per allocation and direction (bytes per
 * second, one second of burst), refilled from the injected clock, so limits are testable
 * without waiting.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    now: number,
  ) {
    this.tokens = bytesPerSecond;
    this.last = now;
  }

  /** Spends `bytes` if the bucket holds them; false means drop the packet. */
  take(bytes: number, now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}

/** BANDWIDTH (RFC 5766 drafts, sent by coturn's clients) is in kilobits per second. */
export const bandwidthAttributeToBytesPerSecond = (kbps: number): number => Math.floor((kbps * 1000) / 8);

/**
 * The server's bandwidth pool (`bps-capacity`): each allocation reserves its `max-bps`
 * while it lives; when the pool cannot cover one more, the Allocate gets 486.
 */
export class BandwidthPool {
  private reserved = 0;

  constructor(private capacity: number) {}

  /** A new `bps-capacity` (reload): what is reserved stays; new reservations see the new size. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
  }

  reserve(bytesPerSecond: number): boolean {
    if (this.capacity > 0 && this.reserved + bytesPerSecond > this.capacity) return false;
    this.reserved += bytesPerSecond;
    return true;
  }

  release(bytesPerSecond: number): void {
    this.reserved = Math.max(0, this.reserved - bytesPerSecond);
  }

  get inUse(): number {
    return this.reserved;
  }
}
