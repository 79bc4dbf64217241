/**
 * Who has had a reply-budget advance lately (see reply-budget.ts): a table of its own, keyed by
 * network, that never lets go of an entry younger than the window. A flood can fill a bucket,
 * and then a newcomer there gets no advance; it can never make the ledger forget one.
 */
import { isIPv6 } from 'node:net';
import { bytesToIpv4, ipv6ToBytes } from '../stun/ip.js';
import { WAYS, bucketMask, keyedHash } from './hashed-buckets.js';

export class AdvanceLedger {
  private readonly tags: Uint32Array;
  private readonly grantedAt: Float64Array;
  private readonly bucketMask: number;
  private readonly hash = keyedHash();

  constructor(
    slots: number,
    private readonly everyMs: number,
  ) {
    this.bucketMask = bucketMask(slots);
    this.tags = new Uint32Array(slots);
    this.grantedAt = new Float64Array(slots);
  }

  /** True, and noted, when the network of `address` has had no advance in the last `everyMs`. */
  grant(address: string, now: number): boolean {
    const tag = this.hash(networkOf(address));
    const bucket = tag & this.bucketMask;
    let place = -1;
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      const expired = now - this.grantedAt[slot]! >= this.everyMs;
      if (this.tags[slot] === tag) {
        if (!expired) return false;
        place = slot;
        break;
      }
      if (place < 0 && (this.tags[slot] === 0 || expired)) place = slot;
    }
    if (place < 0) return false;
    this.tags[place] = tag;
    this.grantedAt[place] = now;
    return true;
  }
}

/**
 * What one advance is for: an IPv4 address, or an IPv6 /64 (one subscriber's network, whose
 * 2^64 addresses a spoofer could otherwise walk through, one advance each).
 */
export function networkOf(address: string): string {
  if (!isIPv6(address)) return address;
  const b = ipv6ToBytes(address);
  // ::ffff:a.b.c.d, a client of a dual-stack socket, is that IPv4 address.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return bytesToIpv4(b, 12);
  return `${Buffer.from(b.subarray(0, 8)).toString('hex')}/64`;
}
