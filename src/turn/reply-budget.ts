/**
 * Anti-reflection budget for unsigned answers over plain UDP (401, 438, 400, 420, 300, …).
 *
 * A UDP source address proves nothing, so an attacker can spoof a victim's address and let
 * the server answer small requests with larger challenges. Each source IP earns the bytes
 * of the requests it sends and spends them on the unsigned answers it gets: over any run, a
 * source is sent at most what it sent. Binding answers are the exception that STUN is: always
 * sent, they take what credit there is, so Bindings never pay for a challenge. A
 * client whose first request is smaller than the challenge gets it on a retransmission
 * (RFC 8489 §6.2.1: 0, 0.5, 1.5 s).
 *
 * The table is fixed-size, so a flood from spoofed addresses cannot grow it: buckets of four
 * slots, and a newcomer takes the least recently used slot of its bucket. A client between
 * two retransmissions keeps its credit unless four newer sources land in its bucket in
 * between, which takes a random-source flood of some 40,000 requests a second with 65,536
 * slots. The hash is keyed with a random seed, so nobody can aim at a chosen address's bucket.
 */
import { randomBytes } from 'node:crypto';

const DEFAULT_SLOTS = 1 << 16;
const WAYS = 4;
/** Credit is capped, so bytes banked long ago cannot come back as one burst. */
const DEFAULT_CAP_BYTES = 16 * 1024;

export class ReplyBudget {
  private readonly tags: Uint32Array;
  private readonly credits: Uint32Array;
  /** When each slot was last touched, by a counter: the smallest in a bucket goes first. */
  private readonly touched: Float64Array;
  private readonly bucketMask: number;
  private readonly seed = randomBytes(4).readUInt32BE(0);
  private tick = 0;

  constructor(
    slots = DEFAULT_SLOTS,
    private readonly capBytes = DEFAULT_CAP_BYTES,
  ) {
    if (!Number.isInteger(Math.log2(slots)) || slots < WAYS) throw new RangeError(`slots must be a power of two, at least ${WAYS}`);
    this.tags = new Uint32Array(slots);
    this.credits = new Uint32Array(slots);
    this.touched = new Float64Array(slots);
    this.bucketMask = (slots - 1) & ~(WAYS - 1);
  }

  /** A request of `bytes` arrived from `address`. */
  earn(address: string, bytes: number): void {
    const slot = this.slotOf(address);
    this.credits[slot] = Math.min(this.capBytes, this.credits[slot]! + bytes);
  }

  /** True, and the credit taken, when `address` may be sent an unsigned answer of `bytes`. */
  spend(address: string, bytes: number): boolean {
    const slot = this.slotOf(address);
    const credit = this.credits[slot]!;
    if (credit < bytes) return false;
    this.credits[slot] = credit - bytes;
    return true;
  }

  /** Takes what credit there is, up to `bytes`, for an answer sent whatever the budget (a Binding's). */
  charge(address: string, bytes: number): void {
    const slot = this.slotOf(address);
    this.credits[slot] = Math.max(0, this.credits[slot]! - bytes);
  }

  /** The slot of `address`: its own, or the least recently used of its bucket, emptied. */
  private slotOf(address: string): number {
    const tag = this.hash(address) || 1;
    const bucket = tag & this.bucketMask;
    let victim = bucket;
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      if (this.tags[slot] === tag) {
        this.touched[slot] = ++this.tick;
        return slot;
      }
      if (this.touched[slot]! < this.touched[victim]!) victim = slot;
    }
    this.tags[victim] = tag;
    this.credits[victim] = 0;
    this.touched[victim] = ++this.tick;
    return victim;
  }

  /** FNV-1a over the address text from a random basis, then a full avalanche (murmur3's finaliser). */
  private hash(address: string): number {
    let h = (0x811c9dc5 ^ this.seed) >>> 0;
    for (let i = 0; i < address.length; i++) {
      h ^= address.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }
}
