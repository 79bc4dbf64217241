/**
 * Failed web admin logins per client address: past a few in a minute that address is refused
 * until the minute is over, so that admin passwords (which may be weaker than the token)
 * cannot be guessed at the speed of the network.
 */
const WINDOW_MS = 60_000;
const MAX_FAILURES = 5;
/** Addresses remembered at most; the oldest are forgotten first. */
const MAX_ADDRESSES = 4096;

export class LoginThrottle {
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when this address may try to log in now. */
  allows(address: string): boolean {
    const entry = this.failures.get(address);
    if (!entry) return true;
    if (this.now() - entry.since >= WINDOW_MS) {
      this.failures.delete(address);
      return true;
    }
    return entry.count < MAX_FAILURES;
  }

  failed(address: string): void {
    const entry = this.failures.get(address);
    if (entry && this.now() - entry.since < WINDOW_MS) {
      entry.count++;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value ?? '');
    this.failures.set(address, { since: this.now(), count: 1 });
  }
}
