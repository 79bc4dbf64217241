/**
 * Relay ports of one relay IP, from `min-port`..`max-port`, handed out at random (RFC 8656
 * §7.2 asks for unpredictable ports). Pure bookkeeping: binding the socket is the caller's.
 */

/**
 * The share of the range one of `count` relay workers owns: port pair k (ports 2k, 2k+1)
 * belongs to worker k mod count, so an EVEN-PORT pair p, p+1 is never split between workers.
 */
export interface PortSlice {
  readonly index: number;
  readonly count: number;
}

/** Where relays are opened: what UDP and TCP relays (udp-relays.ts, tcp-relays.ts) share. */
export interface RelayRangeOptions {
  readonly relayIps: readonly string[];
  readonly minPort: number;
  readonly maxPort: number;
  /** Public address to advertise per relay address ('' = for any address of its family). */
  readonly externalIps: ReadonlyMap<string, string>;
  /** A relay worker's share of min-port..max-port; absent: all of it. */
  readonly slice?: PortSlice;
}

/** The whole range: the slice of the only node. */
const WHOLE_RANGE: PortSlice = { index: 0, count: 1 };

export function inSlice(port: number, slice: PortSlice = WHOLE_RANGE): boolean {
  // Integer arithmetic: a float from an odd port threw the warm-up's optimised code away.
  return (port >>> 1) % slice.count === slice.index;
}

/**
 * One code path whether the pool has a slice or the whole range: the start-up warm-up
 * (lifecycle/warm-up.ts) runs a pool of the whole range, and V8 threw the code it optimised
 * there away at a relay worker's first Allocate when a slice took another branch (issue 14).
 */
export class PortPool {
  private readonly taken = new Set<number>();
  /** The ports this pool may hand out, in order, so probes land only on them. */
  private readonly owned: Uint16Array;
  readonly size: number;

  constructor(
    readonly minPort: number,
    readonly maxPort: number,
    private readonly random: () => number = Math.random,
    private readonly slice: PortSlice = WHOLE_RANGE,
  ) {
    const owned: number[] = [];
    for (let port = minPort; port <= maxPort; port++) if (inSlice(port, slice)) owned.push(port);
    this.owned = Uint16Array.from(owned);
    this.size = this.owned.length;
  }

  /** The i-th port this pool may hand out, 0 <= i < size. */
  private portAt(i: number): number {
    return this.owned[i]!;
  }

  get inUse(): number {
    return this.taken.size;
  }

  isFree(port: number): boolean {
    return port >= this.minPort && port <= this.maxPort && inSlice(port, this.slice) && !this.taken.has(port);
  }

  /**
   * A free port (even, and with port+1 free too, when asked), marked taken; undefined when
   * none is left. Random probes first, then one scan, so a nearly full pool still answers.
   */
  take(options: { even?: boolean; withNext?: boolean } = {}): number | undefined {
    const fits = (port: number): boolean =>
      this.isFree(port) && (!options.even || port % 2 === 0) && (!options.withNext || this.isFree(port + 1));
    const span = this.size;
    for (let i = 0; i < 32; i++) {
      const port = this.portAt(Math.floor(this.random() * span));
      if (fits(port)) return this.mark(port, options.withNext);
    }
    const start = Math.floor(this.random() * span);
    for (let i = 0; i < span; i++) {
      const port = this.portAt((start + i) % span);
      if (fits(port)) return this.mark(port, options.withNext);
    }
    return undefined;
  }

  /** Marks a specific port taken (a reserved port+1, or one another process holds). */
  hold(port: number): void {
    this.taken.add(port);
  }

  release(port: number): void {
    this.taken.delete(port);
  }

  private mark(port: number, withNext: boolean | undefined): number {
    this.taken.add(port);
    if (withNext) this.taken.add(port + 1);
    return port;
  }
}
