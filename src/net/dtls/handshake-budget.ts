/**
 * How many DTLS handshakes may be unfinished at once: server-wide, and per source, so one
 * host cannot hold every slot and lock everyone else out. A source is an IPv4 address or an
 * IPv6 /64 (one host, or one site, usually has a whole /64 to send from).
 */
import { sourceNetwork } from '../../policy/source-network.js';
import type { TransportAddress } from '../../stun/ip.js';

export interface HandshakeCaps {
  readonly maxHandshakes: number;
  readonly maxHandshakesPerSource: number;
}

export type Admission = 'admitted' | 'server-full' | 'source-full';

export class HandshakeBudget {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(private readonly caps: HandshakeCaps) {}

  /** Unfinished handshakes, server-wide. */
  get pending(): number {
    return this.total;
  }

  /** Takes a slot for a handshake from `remote` if both caps allow. */
  admit(remote: TransportAddress): Admission {
    if (this.total >= this.caps.maxHandshakes) return 'server-full';
    const source = sourceNetwork(remote.address);
    const held = this.bySource.get(source) ?? 0;
    if (held >= this.caps.maxHandshakesPerSource) return 'source-full';
    this.bySource.set(source, held + 1);
    this.total++;
    return 'admitted';
  }

  /** Gives the slot back: the handshake finished, failed or timed out. */
  release(remote: TransportAddress): void {
    const source = sourceNetwork(remote.address);
    const held = this.bySource.get(source) ?? 0;
    if (held <= 1) this.bySource.delete(source);
    else this.bySource.set(source, held - 1);
    this.total--;
  }
}
